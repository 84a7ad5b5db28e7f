//! Warm-up adaptation shared by the hand-written samplers (HMC, MALA): Nesterov dual
//! averaging of the step size towards a target acceptance rate (Hoffman & Gelman 2014, as
//! Stan does it), and a diagonal metric estimated from the draws of Stan's windows (75 draws
//! of fast adaptation, a slow window of variance estimation, 50 final draws of step size
//! only).

/// Dual averaging of log ε.
#[derive(Clone, Debug)]
pub struct DualAveraging {
    target: f64,
    mu: f64,
    log_eps_bar: f64,
    h_bar: f64,
    count: f64,
    pub log_eps: f64,
}

impl DualAveraging {
    const GAMMA: f64 = 0.05;
    const T0: f64 = 10.0;
    const KAPPA: f64 = 0.75;

    pub fn new(step: f64, target: f64) -> DualAveraging {
        DualAveraging {
            target,
            mu: (10.0 * step).ln(),
            log_eps_bar: 0.0,
            h_bar: 0.0,
            count: 0.0,
            log_eps: step.ln(),
        }
    }

    /// Restart around `step` (after the metric changed).
    pub fn restart(&mut self, step: f64) {
        *self = DualAveraging::new(step, self.target);
    }

    /// Learn from one transition's acceptance statistic; returns the next step size.
    pub fn update(&mut self, accept: f64) -> f64 {
        let accept = if accept.is_finite() {
            accept.min(1.0)
        } else {
            0.0
        };
        self.count += 1.0;
        let w = 1.0 / (self.count + Self::T0);
        self.h_bar = (1.0 - w) * self.h_bar + w * (self.target - accept);
        self.log_eps = self.mu - self.count.sqrt() / Self::GAMMA * self.h_bar;
        let eta = self.count.powf(-Self::KAPPA);
        self.log_eps_bar = eta * self.log_eps + (1.0 - eta) * self.log_eps_bar;
        self.log_eps.exp()
    }

    /// The averaged step size to sample with once warm-up ends.
    pub fn final_step(&self) -> f64 {
        self.log_eps_bar.exp()
    }
}

/// Running mean and variance (Welford).
#[derive(Clone, Debug)]
pub struct Welford {
    n: f64,
    mean: Vec<f64>,
    m2: Vec<f64>,
}

impl Welford {
    pub fn new(dim: usize) -> Welford {
        Welford {
            n: 0.0,
            mean: vec![0.0; dim],
            m2: vec![0.0; dim],
        }
    }

    pub fn add(&mut self, x: &[f64]) {
        self.n += 1.0;
        for ((m, s), &v) in self.mean.iter_mut().zip(&mut self.m2).zip(x) {
            let d = v - *m;
            *m += d / self.n;
            *s += d * (v - *m);
        }
    }

    /// Stan's regularised variance estimate: shrunk towards 1e-3 for few draws.
    pub fn regularized_variance(&self) -> Vec<f64> {
        let n = self.n;
        self.m2
            .iter()
            .map(|&s| {
                let var = if n > 1.0 { s / (n - 1.0) } else { 1.0 };
                (n / (n + 5.0)) * var + 1e-3 * (5.0 / (n + 5.0))
            })
            .collect()
    }
}

/// Where a warm-up iteration falls in Stan's schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Step size only (the first 15 % and the last 10 %).
    Fast,
    /// Step size, and the draw joins the current variance window.
    Slow {
        window_end: bool,
    },
    Sampling,
}

/// Stan's warm-up windows for `warmup` iterations: 75 fast, then slow windows of 25, 50,
/// 100 … (the last stretched to the slow phase's end), then 50 fast. Short warm-ups are
/// scaled as Stan scales them (15 % / 75 % / 10 %).
#[derive(Clone, Debug)]
pub struct Schedule {
    warmup: usize,
    init_buffer: usize,
    term_buffer: usize,
    window_ends: Vec<usize>,
}

impl Schedule {
    pub fn new(warmup: usize) -> Schedule {
        let (mut init_buffer, mut term_buffer, mut base) = (75, 50, 25);
        if warmup < 20 {
            return Schedule {
                warmup,
                init_buffer: warmup,
                term_buffer: 0,
                window_ends: Vec::new(),
            };
        }
        if init_buffer + base + term_buffer > warmup {
            init_buffer = (0.15 * warmup as f64) as usize;
            term_buffer = (0.1 * warmup as f64) as usize;
            base = warmup - init_buffer - term_buffer;
        }
        let slow_end = warmup - term_buffer;
        let mut ends = Vec::new();
        let mut start = init_buffer;
        let mut size = base;
        while start < slow_end {
            let mut end = start + size;
            // A window that would leave less than the next one's size is stretched.
            if end + 2 * size > slow_end {
                end = slow_end;
            }
            ends.push(end);
            start = end;
            size *= 2;
        }
        Schedule {
            warmup,
            init_buffer,
            term_buffer,
            window_ends: ends,
        }
    }

    /// The phase of iteration `i` (0-based, warm-up first).
    pub fn phase(&self, i: usize) -> Phase {
        if i >= self.warmup {
            return Phase::Sampling;
        }
        if i < self.init_buffer || i >= self.warmup - self.term_buffer {
            return Phase::Fast;
        }
        Phase::Slow {
            window_end: self.window_ends.contains(&(i + 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stan_windows_for_1000_warmup() {
        let s = Schedule::new(1000);
        // Stan: 75 fast, windows ending at 100, 150, 250, 450, 950, then 50 fast.
        assert_eq!(s.window_ends, [100, 150, 250, 450, 950]);
        assert_eq!(s.phase(74), Phase::Fast);
        assert_eq!(s.phase(99), Phase::Slow { window_end: true });
        assert_eq!(s.phase(100), Phase::Slow { window_end: false });
        assert_eq!(s.phase(950), Phase::Fast);
        assert_eq!(s.phase(1000), Phase::Sampling);
    }

    #[test]
    fn dual_averaging_finds_the_step_for_a_known_acceptance_curve() {
        // Acceptance exp(−ε) reaches 0.8 at ε = −ln 0.8.
        let mut da = DualAveraging::new(1.0, 0.8);
        let mut eps: f64 = 1.0;
        for _ in 0..200_000 {
            eps = da.update((-eps).exp());
        }
        // The averaged iterate's bias decays slowly (about 1.3 % after 2 000 updates, 0.4 %
        // after 20 000, 0.1 % after 200 000, computed independently).
        let want = -(0.8f64).ln();
        assert!(
            (da.final_step() - want).abs() < 0.002 * want,
            "{}",
            da.final_step()
        );
    }

    #[test]
    fn welford_variance() {
        let mut w = Welford::new(1);
        for v in [1.0, 2.0, 4.0, 7.0] {
            w.add(&[v]);
        }
        // Sample variance 7, shrunk: (4/9)·7 + 1e-3·(5/9).
        let want = 4.0 / 9.0 * 7.0 + 1e-3 * 5.0 / 9.0;
        assert!((w.regularized_variance()[0] - want).abs() < 1e-12);
    }
}
