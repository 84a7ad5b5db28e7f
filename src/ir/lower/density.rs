//! Log densities of the built-in distributions, written in IR arithmetic (so that the
//! derivative passes can differentiate them). Outside the support the log density is −∞.

use super::Lower;
use crate::check::builtins::DistKind;
use crate::ir::{Cmp, FUn, MathFn, Val};

const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

impl Lower<'_> {
    fn ln(&mut self, x: Val) -> Val {
        self.b.call(MathFn::Log, vec![x])
    }
    fn lgamma(&mut self, x: Val) -> Val {
        self.b.call(MathFn::Lgamma, vec![x])
    }
    fn c(&mut self, x: f64) -> Val {
        self.b.f(x)
    }
    /// `cond ? value : -∞`
    fn within(&mut self, cond: Val, value: Val) -> Val {
        let ninf = self.c(f64::NEG_INFINITY);
        self.b.select(cond, value, ninf)
    }
    fn ge0(&mut self, y: Val) -> Val {
        let z = self.c(0.0);
        self.b.fcmp(Cmp::Ge, y, z)
    }
    fn gt0(&mut self, y: Val) -> Val {
        let z = self.c(0.0);
        self.b.fcmp(Cmp::Gt, y, z)
    }
    /// `y · ln x`, with 0 where y = 0 whatever x is (0 · ln 0 = 0). Where y = 0 the
    /// logarithm is taken of 1 instead of x: its derivative 1/x is infinite at x = 0, and the
    /// zero adjoint times that would make the gradient NaN at a finite density.
    fn xlogy(&mut self, y: Val, x: Val) -> Val {
        let zero = self.c(0.0);
        let one = self.c(1.0);
        let y0 = self.b.fcmp(Cmp::Eq, y, zero);
        let safe = self.b.select(y0, one, x);
        let l = self.ln(safe);
        self.b.mul(y, l)
    }
    /// `y · log1p(x)`, with 0 where y = 0 (and log1p taken of 0 there, as in `xlogy`).
    fn xlog1py(&mut self, y: Val, x: Val) -> Val {
        let zero = self.c(0.0);
        let y0 = self.b.fcmp(Cmp::Eq, y, zero);
        let safe = self.b.select(y0, zero, x);
        let l = self.b.call(MathFn::Log1p, vec![safe]);
        self.b.mul(y, l)
    }
    /// `y` is a whole number ≥ 0.
    fn is_count(&mut self, y: Val) -> Val {
        let fl = self.b.fun(FUn::Floor, y);
        let whole = self.b.fcmp(Cmp::Eq, fl, y);
        let nonneg = self.ge0(y);
        self.b.and(whole, nonneg)
    }
    /// −½ z² − ln σ − ½ ln 2π
    fn normal_core(&mut self, z: Val, sigma: Val) -> Val {
        let z2 = self.b.mul(z, z);
        let half = self.c(-0.5);
        let a = self.b.mul(half, z2);
        let ls = self.ln(sigma);
        let a = self.b.sub(a, ls);
        let k = self.c(HALF_LN_2PI);
        self.b.sub(a, k)
    }

    /// log p(y | args) for a univariate distribution; arguments are f64 values in the order
    /// of `DistKind::params`.
    pub fn log_density(&mut self, dist: DistKind, y: Val, a: &[Val]) -> Val {
        use DistKind::*;
        let y = self.b.to_f64(y);
        let a: Vec<Val> = a.iter().map(|&v| self.b.to_f64(v)).collect();
        match dist {
            Normal => {
                let d = self.b.sub(y, a[0]);
                let z = self.b.div(d, a[1]);
                self.normal_core(z, a[1])
            }
            LogNormal => {
                let ly = self.ln(y);
                let d = self.b.sub(ly, a[0]);
                let z = self.b.div(d, a[1]);
                let core = self.normal_core(z, a[1]);
                let v = self.b.sub(core, ly);
                let ok = self.gt0(y);
                self.within(ok, v)
            }
            HalfNormal => {
                let z = self.b.div(y, a[0]);
                let core = self.normal_core(z, a[0]);
                let l2 = self.c(std::f64::consts::LN_2);
                let v = self.b.add(core, l2);
                let ok = self.ge0(y);
                self.within(ok, v)
            }
            Cauchy | HalfCauchy => {
                let (mu, sigma) = if dist == Cauchy {
                    (a[0], a[1])
                } else {
                    (self.c(0.0), a[0])
                };
                let d = self.b.sub(y, mu);
                let z = self.b.div(d, sigma);
                let z2 = self.b.mul(z, z);
                let l = self.b.call(MathFn::Log1p, vec![z2]);
                let ls = self.ln(sigma);
                let lpi = self.c(std::f64::consts::PI.ln());
                let s = self.b.add(l, ls);
                let s = self.b.add(s, lpi);
                let v = self.b.neg(s);
                if dist == Cauchy {
                    v
                } else {
                    let l2 = self.c(std::f64::consts::LN_2);
                    let v = self.b.add(v, l2);
                    let ok = self.ge0(y);
                    self.within(ok, v)
                }
            }
            StudentT => {
                // lgamma((ν+1)/2) − lgamma(ν/2) − ½ ln(νπ) − ln σ − (ν+1)/2 · log1p(z²/ν)
                let (nu, mu, sigma) = (a[0], a[1], a[2]);
                let half = self.c(0.5);
                let one = self.c(1.0);
                let nu1 = self.b.add(nu, one);
                let h1 = self.b.mul(nu1, half);
                let h0 = self.b.mul(nu, half);
                let g1 = self.lgamma(h1);
                let g0 = self.lgamma(h0);
                let pi = self.c(std::f64::consts::PI);
                let nupi = self.b.mul(nu, pi);
                let lnupi = self.ln(nupi);
                let hl = self.b.mul(half, lnupi);
                let ls = self.ln(sigma);
                let d = self.b.sub(y, mu);
                let z = self.b.div(d, sigma);
                let z2 = self.b.mul(z, z);
                let z2n = self.b.div(z2, nu);
                let l = self.b.call(MathFn::Log1p, vec![z2n]);
                let t = self.b.mul(h1, l);
                let v = self.b.sub(g1, g0);
                let v = self.b.sub(v, hl);
                let v = self.b.sub(v, ls);
                self.b.sub(v, t)
            }
            Exponential => {
                let lr = self.ln(a[0]);
                let ry = self.b.mul(a[0], y);
                let v = self.b.sub(lr, ry);
                let ok = self.ge0(y);
                self.within(ok, v)
            }
            Gamma => {
                // α ln β − lgamma(α) + (α−1) ln y − β y
                let (al, be) = (a[0], a[1]);
                let lb = self.ln(be);
                let t1 = self.b.mul(al, lb);
                let g = self.lgamma(al);
                let one = self.c(1.0);
                let am1 = self.b.sub(al, one);
                let ly = self.ln(y);
                let t2 = self.b.mul(am1, ly);
                let by = self.b.mul(be, y);
                let v = self.b.sub(t1, g);
                let v = self.b.add(v, t2);
                let v = self.b.sub(v, by);
                let ok = self.gt0(y);
                self.within(ok, v)
            }
            InvGamma => {
                // α ln β − lgamma(α) − (α+1) ln y − β / y
                let (al, be) = (a[0], a[1]);
                let lb = self.ln(be);
                let t1 = self.b.mul(al, lb);
                let g = self.lgamma(al);
                let one = self.c(1.0);
                let ap1 = self.b.add(al, one);
                let ly = self.ln(y);
                let t2 = self.b.mul(ap1, ly);
                let boy = self.b.div(be, y);
                let v = self.b.sub(t1, g);
                let v = self.b.sub(v, t2);
                let v = self.b.sub(v, boy);
                let ok = self.gt0(y);
                self.within(ok, v)
            }
            Beta => {
                let (p, q) = (a[0], a[1]);
                let pq = self.b.add(p, q);
                let gpq = self.lgamma(pq);
                let gp = self.lgamma(p);
                let gq = self.lgamma(q);
                let one = self.c(1.0);
                let pm1 = self.b.sub(p, one);
                let qm1 = self.b.sub(q, one);
                let ly = self.ln(y);
                let ny = self.b.neg(y);
                let l1y = self.b.call(MathFn::Log1p, vec![ny]);
                let t1 = self.b.mul(pm1, ly);
                let t2 = self.b.mul(qm1, l1y);
                let v = self.b.sub(gpq, gp);
                let v = self.b.sub(v, gq);
                let v = self.b.add(v, t1);
                let v = self.b.add(v, t2);
                let lo = self.gt0(y);
                let hi = self.b.fcmp(Cmp::Lt, y, one);
                let ok = self.b.and(lo, hi);
                self.within(ok, v)
            }
            Uniform => {
                let w = self.b.sub(a[1], a[0]);
                let lw = self.ln(w);
                let v = self.b.neg(lw);
                let lo = self.b.fcmp(Cmp::Ge, y, a[0]);
                let hi = self.b.fcmp(Cmp::Le, y, a[1]);
                let ok = self.b.and(lo, hi);
                self.within(ok, v)
            }
            Poisson => {
                // y ln λ − λ − lgamma(y+1), with 0·ln 0 = 0
                let lam = a[0];
                let t = self.xlogy(y, lam);
                let one = self.c(1.0);
                let y1 = self.b.add(y, one);
                let g = self.lgamma(y1);
                let v = self.b.sub(t, lam);
                let v = self.b.sub(v, g);
                let ok = self.is_count(y);
                self.within(ok, v)
            }
            Binomial => {
                let (n, p) = (a[0], a[1]);
                let one = self.c(1.0);
                let n1 = self.b.add(n, one);
                let y1 = self.b.add(y, one);
                let nmy = self.b.sub(n, y);
                let nmy1 = self.b.add(nmy, one);
                let g1 = self.lgamma(n1);
                let g2 = self.lgamma(y1);
                let g3 = self.lgamma(nmy1);
                // y ln p + (n − y) ln(1 − p), with 0 · ln 0 = 0 at p = 0 or 1.
                let t1 = self.xlogy(y, p);
                let np = self.b.neg(p);
                let t2 = self.xlog1py(nmy, np);
                let v = self.b.sub(g1, g2);
                let v = self.b.sub(v, g3);
                let v = self.b.add(v, t1);
                let v = self.b.add(v, t2);
                let c = self.is_count(y);
                let le = self.b.fcmp(Cmp::Le, y, n);
                let ok = self.b.and(c, le);
                self.within(ok, v)
            }
            NegBinomial => {
                // lgamma(y+φ) − lgamma(y+1) − lgamma(φ) + φ ln(φ/(μ+φ)) + y ln(μ/(μ+φ)),
                // with the logarithms as −φ log1p(μ/φ) and −y log1p(φ/μ): ln of a ratio near 1
                // loses the digits that make up the value when φ ≫ μ (or μ ≫ φ).
                let (mu, phi) = (a[0], a[1]);
                let one = self.c(1.0);
                let zero = self.c(0.0);
                let yphi = self.b.add(y, phi);
                let y1 = self.b.add(y, one);
                let g1 = self.lgamma(yphi);
                let g2 = self.lgamma(y1);
                let g3 = self.lgamma(phi);
                let mop = self.b.div(mu, phi);
                let l1 = self.b.call(MathFn::Log1p, vec![mop]);
                let t1 = self.b.mul(phi, l1);
                // At y = 0 the term is 0; μ is replaced by 1 there so that μ = 0 (all mass
                // at 0) gives a finite gradient (see `xlogy`).
                let y0 = self.b.fcmp(Cmp::Eq, y, zero);
                let mu_s = self.b.select(y0, one, mu);
                let pom = self.b.div(phi, mu_s);
                let t2 = self.xlog1py(y, pom);
                let v = self.b.sub(g1, g2);
                let v = self.b.sub(v, g3);
                let v = self.b.sub(v, t1);
                let v = self.b.sub(v, t2);
                let ok = self.is_count(y);
                self.within(ok, v)
            }
            Bernoulli => {
                // ln p at 1, log1p(−p) at 0. Each logarithm gets a harmless argument where it
                // is not the one chosen, so that p = 0 or 1 gives a finite gradient where the
                // density is finite (see `xlogy`).
                let p = a[0];
                let one = self.c(1.0);
                let zero = self.c(0.0);
                let is1 = self.b.fcmp(Cmp::Eq, y, one);
                let is0 = self.b.fcmp(Cmp::Eq, y, zero);
                let p_s = self.b.select(is1, p, one);
                let lp = self.ln(p_s);
                let np = self.b.neg(p);
                let np_s = self.b.select(is1, zero, np);
                let l1p = self.b.call(MathFn::Log1p, vec![np_s]);
                let v = self.b.select(is1, lp, l1p);
                let ok = self.b.or(is1, is0);
                self.within(ok, v)
            }
            // Multivariate distributions are handled by the caller.
            Categorical | Dirichlet | MultiNormal => self.c(f64::NAN),
        }
    }

    /// log p(y | η) for `Bernoulli(logistic(η))` and `Poisson(exp(η))`, in the link's own
    /// form as Stan's `bernoulli_logit` and `poisson_log`: y·η − softplus(η) (one exp and
    /// one log1p, exact where logistic(η) rounds to 0 or 1) and y·η − exp(η) − lgamma(y + 1)
    /// (no log of the exponential).
    pub fn linked_log_density(&mut self, dist: DistKind, y: Val, eta: Val) -> Val {
        let y = self.b.to_f64(y);
        let x = self.b.to_f64(eta);
        let yx = self.b.mul(y, x);
        match dist {
            DistKind::Bernoulli => {
                let zero = self.c(0.0);
                let one = self.c(1.0);
                // softplus(η) = max(η, 0) + log1p(e^(−|η|)). At η = 0 the derivative must
                // take the same side for both kinks: |η| differentiates as +η there, so
                // max(η, 0) is written as η ≥ 0 ? η : 0 (FBin::Max would pick 0 and give
                // slope −½ instead of ½).
                let nonneg = self.b.fcmp(Cmp::Ge, x, zero);
                let pos = self.b.select(nonneg, x, zero);
                let ax = self.b.fun(FUn::Abs, x);
                let nax = self.b.neg(ax);
                let ex = self.b.call(MathFn::Exp, vec![nax]);
                let lg = self.b.call(MathFn::Log1p, vec![ex]);
                let softplus = self.b.add(pos, lg);
                let v = self.b.sub(yx, softplus);
                let is1 = self.b.fcmp(Cmp::Eq, y, one);
                let is0 = self.b.fcmp(Cmp::Eq, y, zero);
                let ok = self.b.or(is1, is0);
                self.within(ok, v)
            }
            DistKind::Poisson => {
                let rate = self.b.call(MathFn::Exp, vec![x]);
                let one = self.c(1.0);
                let y1 = self.b.add(y, one);
                let g = self.lgamma(y1);
                let v = self.b.sub(yx, rate);
                let v = self.b.sub(v, g);
                let ok = self.is_count(y);
                self.within(ok, v)
            }
            // Only the two links above are recognised (`linked_argument` in kernels.rs).
            _ => self.c(f64::NAN),
        }
    }

    /// Σ over k of f(k) for k in 0..n (n an i64 value).
    pub fn sum_over(&mut self, n: Val, f: &mut dyn FnMut(&mut Self, Val) -> Val) -> Val {
        let zero = self.b.i(0);
        self.reduce_loop(crate::ir::RedOp::Sum, zero, n, |l, k| f(l, k))
    }
}
