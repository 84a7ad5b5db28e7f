//! MCMC summary diagnostics: rank-normalised split R-hat, bulk and tail ESS, Monte Carlo
//! standard errors and quantiles, following Vehtari, Gelman, Simpson, Carpenter and
//! Bürkner (2021), "Rank-normalization, folding, and localization: an improved R-hat",
//! computed the way ArviZ 0.23 does (`az.ess`, `az.rhat(method="rank")`, `az.mcse`).
//!
//! Each function takes the draws of one scalar quantity as equal-length chains. Where a
//! value is undefined it is NaN, never a panic:
//! - fewer than 4 draws per chain, chains of unequal length, no chains, or a non-finite
//!   draw: every diagnostic is NaN;
//! - a constant quantity (all draws equal) has no ESS, R-hat or MCSE. ArviZ returns the
//!   draw count as its ESS; posterior and Stan return NA/NaN, which we follow. The same
//!   holds for a constant tail indicator (e.g. ≥ 5 % of the draws tied at the maximum).
//!
//! Two choices where the references disagree with each other:
//! - R-hat with one chain is the split R-hat of its two halves (Stan, posterior); ArviZ
//!   returns NaN for fewer than two chains.
//! - The tail R-hat folds the split draws around their own median, as `az.rhat` and Stan
//!   do; posterior and `az.summary` fold before splitting, which differs when the number
//!   of draws per chain is odd (the middle draw is dropped by the split).

/// The Stan-style summary of one quantity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamSummary {
    pub mean: f64,
    pub sd: f64,
    pub mcse_mean: f64,
    pub mcse_sd: f64,
    pub q5: f64,
    pub q50: f64,
    pub q95: f64,
    pub ess_bulk: f64,
    pub ess_tail: f64,
    pub rhat: f64,
}

/// Draws per chain below which the diagnostics are NaN (ArviZ's `min_draws`).
const MIN_DRAWS: usize = 4;

/// Summarises the draws of one quantity held as equal-length chains.
pub fn summarize(chains: &[&[f64]]) -> ParamSummary {
    let pooled = pool(chains);
    let sorted = sorted_finite(&pooled);
    let q = |p| sorted.as_deref().map_or(f64::NAN, |s| quantile(s, p));
    ParamSummary {
        mean: mean(&pooled),
        sd: sd(&pooled),
        mcse_mean: mcse_mean(chains),
        mcse_sd: mcse_sd(chains),
        q5: q(0.05),
        q50: q(0.5),
        q95: q(0.95),
        ess_bulk: ess_bulk(chains),
        ess_tail: ess_tail(chains),
        rhat: rhat(chains),
    }
}

/// Rank-normalised split R-hat: the larger of the bulk R-hat (split, rank-normalised
/// draws) and the tail R-hat (split draws folded around their median, then
/// rank-normalised). A NaN half is ignored, as ArviZ's and Stan's `max` do.
pub fn rhat<C: AsRef<[f64]>>(chains: &[C]) -> f64 {
    if !is_valid(chains) {
        return f64::NAN;
    }
    let split = split_chains(chains);
    let bulk = rhat_basic(&rank_normalize(&split));
    let med = sorted_finite(&pool(&split)).map_or(f64::NAN, |s| median(&s));
    let folded: Vec<Vec<f64>> = split
        .iter()
        .map(|c| c.iter().map(|x| (x - med).abs()).collect())
        .collect();
    let tail = rhat_basic(&rank_normalize(&folded));
    bulk.max(tail)
}

/// Bulk ESS: the ESS of the split, rank-normalised draws.
pub fn ess_bulk<C: AsRef<[f64]>>(chains: &[C]) -> f64 {
    if !is_valid(chains) {
        return f64::NAN;
    }
    ess_basic(&rank_normalize(&split_chains(chains)))
}

/// Tail ESS: the smaller split ESS of the indicators `x <= q5` and `x <= q95`, with the
/// quantiles taken over all draws. NaN if either is undefined.
pub fn ess_tail<C: AsRef<[f64]>>(chains: &[C]) -> f64 {
    if !is_valid(chains) {
        return f64::NAN;
    }
    let Some(sorted) = sorted_finite(&pool(chains)) else {
        return f64::NAN;
    };
    let ess_below = |p| {
        let q = quantile(&sorted, p);
        let indicator: Vec<Vec<f64>> = chains
            .iter()
            .map(|c| c.as_ref().iter().map(|&x| f64::from(x <= q)).collect())
            .collect();
        ess_basic(&split_chains(&indicator))
    };
    let (low, high) = (ess_below(0.05), ess_below(0.95));
    if low.is_nan() || high.is_nan() {
        f64::NAN
    } else {
        low.min(high)
    }
}

/// ESS for the mean: the split ESS of the raw draws.
pub fn ess_mean<C: AsRef<[f64]>>(chains: &[C]) -> f64 {
    if !is_valid(chains) {
        return f64::NAN;
    }
    ess_basic(&split_chains(chains))
}

/// Monte Carlo standard error of the mean: sd / sqrt(ESS for the mean).
pub fn mcse_mean<C: AsRef<[f64]>>(chains: &[C]) -> f64 {
    if !is_valid(chains) {
        return f64::NAN;
    }
    sd(&pool(chains)) / ess_mean(chains).sqrt()
}

/// Monte Carlo standard error of the sd, as ArviZ's `_mcse_sd` and posterior's
/// `mcse_sd`: the variance of the variance estimate (Kenney and Keeping) with the ESS
/// of the squared centred draws, taken to the sd by the first-order delta method.
pub fn mcse_sd<C: AsRef<[f64]>>(chains: &[C]) -> f64 {
    if !is_valid(chains) {
        return f64::NAN;
    }
    let m = mean(&pool(chains));
    let squares: Vec<Vec<f64>> = chains
        .iter()
        .map(|c| c.as_ref().iter().map(|x| (x - m) * (x - m)).collect())
        .collect();
    let sq = pool(&squares);
    let ess = ess_mean(&squares);
    let evar = mean(&sq);
    let fourth = sq.iter().map(|s| s * s).sum::<f64>() / sq.len() as f64;
    let varvar = (fourth - evar * evar) / ess;
    (varvar / evar / 4.0).sqrt()
}

/// Splits each chain into its first and last halves (the middle draw of an odd-length
/// chain is dropped): all first halves, then all second halves, as ArviZ stacks them.
pub fn split_chains<C: AsRef<[f64]>>(chains: &[C]) -> Vec<Vec<f64>> {
    let firsts = chains.iter().map(|c| {
        let c = c.as_ref();
        c[..c.len() / 2].to_vec()
    });
    let seconds = chains.iter().map(|c| {
        let c = c.as_ref();
        c[c.len() - c.len() / 2..].to_vec()
    });
    firsts.chain(seconds).collect()
}

/// Rank normalisation over all chains jointly: average ranks r of ties, then
/// z = Φ⁻¹((r − 3/8) / (S + 1/4)) with S the total number of draws (Blom's offset).
/// Expects finite draws; a NaN is ranked above every number.
pub fn rank_normalize<C: AsRef<[f64]>>(chains: &[C]) -> Vec<Vec<f64>> {
    let pooled = pool(chains);
    let ranks = average_ranks(&pooled);
    let denom = pooled.len() as f64 + 0.25;
    let mut z = ranks
        .into_iter()
        .map(|r| inv_normal_cdf((r - 0.375) / denom));
    chains
        .iter()
        .map(|c| z.by_ref().take(c.as_ref().len()).collect())
        .collect()
}

/// Basic multi-chain ESS (ArviZ's `_ess`, Stan's `ess`): autocorrelations from the
/// within-chain autocovariances and the between-chain variance, summed in pairs up to
/// Geyer's initial positive sequence cut-off, made monotone, with τ bounded below by
/// 1/log10(S) so ESS ≤ S·log10(S). NaN for fewer than 2 draws per chain, unequal
/// lengths, non-finite or constant draws.
pub fn ess_basic<C: AsRef<[f64]>>(chains: &[C]) -> f64 {
    let Some((m, n)) = shape(chains) else {
        return f64::NAN;
    };
    if n < 2 || !all_finite(chains) || is_constant(chains) {
        return f64::NAN;
    }
    let acov = Autocov::new(chains);
    let mean_var = acov.at(0) * n as f64 / (n as f64 - 1.0);
    let mut var_plus = mean_var * (n as f64 - 1.0) / n as f64;
    if m > 1 {
        var_plus += variance(&acov.means);
    }
    let rho_at = |lag| 1.0 - (mean_var - acov.at(lag)) / var_plus;

    // Geyer's initial positive sequence: keep lag pairs while their sum is positive.
    let mut rho = vec![0.0; n];
    rho[0] = 1.0;
    let mut even = 1.0;
    let mut odd = rho_at(1);
    rho[1] = odd;
    let mut t = 1;
    while t + 3 < n && even + odd > 0.0 {
        even = rho_at(t + 1);
        odd = rho_at(t + 2);
        if even + odd >= 0.0 {
            rho[t + 1] = even;
            rho[t + 2] = odd;
        }
        t += 2;
    }
    // `last` is lag max_t + 1 in ArviZ, where max_t = t − 2 may be −1.
    let last = t - 1;
    if even > 0.0 {
        rho[last] = even;
    }
    // Geyer's initial monotone sequence over the pairs before the cut-off.
    let mut t = 1;
    while t + 3 <= last {
        let prev = rho[t - 1] + rho[t];
        if rho[t + 1] + rho[t + 2] > prev {
            rho[t + 1] = prev / 2.0;
            rho[t + 2] = prev / 2.0;
        }
        t += 2;
    }
    if rho.iter().any(|r| r.is_nan()) {
        return f64::NAN;
    }
    let size = (m * n) as f64;
    let tau = -1.0 + 2.0 * rho[..last].iter().sum::<f64>() + rho[last];
    size / tau.max(1.0 / size.log10())
}

/// Classic (non-split) R-hat of the given chains: sqrt((B/W + n − 1)/n) with B = n times
/// the variance of the chain means and W the mean within-chain variance. Infinite when
/// every chain is constant but they differ; NaN with fewer than 2 chains or draws.
pub fn rhat_basic<C: AsRef<[f64]>>(chains: &[C]) -> f64 {
    let Some((m, n)) = shape(chains) else {
        return f64::NAN;
    };
    if m < 2 || n < 2 {
        return f64::NAN;
    }
    let means: Vec<f64> = chains.iter().map(|c| mean(c.as_ref())).collect();
    let within = chains.iter().map(|c| variance(c.as_ref())).sum::<f64>() / m as f64;
    let between = n as f64 * variance(&means);
    ((between / within + n as f64 - 1.0) / n as f64).sqrt()
}

/// Sample quantile of sorted data, type 7 (linear interpolation; numpy's and R's
/// default), computed as numpy does so results agree to the last bit. NaN if empty.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    let virtual_index = n as f64 * p + (1.0 - p) - 1.0;
    if virtual_index >= (n - 1) as f64 {
        return sorted[n - 1];
    }
    let below = virtual_index.floor();
    let gamma = virtual_index - below;
    let (a, b) = (sorted[below as usize], sorted[below as usize + 1]);
    let diff = b - a;
    // numpy's `_lerp`: from the nearer end, so gamma = 1 − ε stays below b.
    if gamma >= 0.5 {
        b - diff * (1.0 - gamma)
    } else {
        a + diff * gamma
    }
}

/// Inverse of the standard normal CDF: Acklam's rational approximation (relative error
/// < 1.2e-9) with one Halley step against `erfc`, good to about machine precision.
/// −∞ at 0, +∞ at 1, NaN outside [0, 1].
pub fn inv_normal_cdf(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p > 0.5 {
        // 1 − p is exact here (Sterbenz), and the lower tail refines accurately.
        return -inv_normal_cdf_lower(1.0 - p);
    }
    inv_normal_cdf_lower(p)
}

/// Φ⁻¹(p) for p in [0, 0.5].
fn inv_normal_cdf_lower(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    let poly = |coef: &[f64], x: f64| coef.iter().fold(0.0, |acc, c| acc * x + c);
    let x = if p < 0.02425 {
        let q = (-2.0 * p.ln()).sqrt();
        poly(&C, q) / (poly(&D, q) * q + 1.0)
    } else {
        let q = p - 0.5;
        let r = q * q;
        poly(&A, r) * q / (poly(&B, r) * r + 1.0)
    };
    // Halley step on Φ(x) − p; Φ from erfc keeps relative accuracy in the lower tail.
    let e = 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    if !u.is_finite() {
        // exp overflows only for subnormal p, where the approximation is what we have.
        return x;
    }
    x - u / (1.0 + x * u / 2.0)
}

/// Mean over chains of the biased (divide-by-n) autocovariance at a lag, computed
/// directly on demand: the ESS loop stops at Geyer's cut-off, usually after few lags.
struct Autocov {
    centred: Vec<Vec<f64>>,
    means: Vec<f64>,
}

impl Autocov {
    fn new<C: AsRef<[f64]>>(chains: &[C]) -> Self {
        let means: Vec<f64> = chains.iter().map(|c| mean(c.as_ref())).collect();
        let centred = chains
            .iter()
            .zip(&means)
            .map(|(c, m)| c.as_ref().iter().map(|x| x - m).collect())
            .collect();
        Autocov { centred, means }
    }

    fn at(&self, lag: usize) -> f64 {
        let per_chain = self.centred.iter().map(|c: &Vec<f64>| {
            let dot: f64 = c.iter().zip(&c[lag..]).map(|(a, b)| a * b).sum();
            dot / c.len() as f64
        });
        per_chain.sum::<f64>() / self.centred.len() as f64
    }
}

/// Average (1-based) ranks, ties sharing the mean of their ranks (scipy's "average").
fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| values[i].total_cmp(&values[j]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let v = values[order[start]];
        let tied = order[start + 1..].iter().take_while(|&&i| values[i] == v);
        let end = start + 1 + tied.count();
        // Positions start..end hold ranks start+1 ..= end; a NaN is its own group.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// (chains, draws per chain) if there is at least one chain and all have equal length.
fn shape<C: AsRef<[f64]>>(chains: &[C]) -> Option<(usize, usize)> {
    let n = chains.first()?.as_ref().len();
    chains
        .iter()
        .all(|c| c.as_ref().len() == n)
        .then_some((chains.len(), n))
}

/// Whether the diagnostics are defined: equal chains of at least `MIN_DRAWS` finite,
/// not all equal draws.
fn is_valid<C: AsRef<[f64]>>(chains: &[C]) -> bool {
    shape(chains).is_some_and(|(_, n)| n >= MIN_DRAWS) && all_finite(chains) && !is_constant(chains)
}

fn all_finite<C: AsRef<[f64]>>(chains: &[C]) -> bool {
    chains
        .iter()
        .all(|c| c.as_ref().iter().all(|x| x.is_finite()))
}

/// All draws exactly equal. ArviZ uses an absolute tolerance of 1e-15, which would call
/// any quantity on a tiny scale constant; rank-based diagnostics are scale-free.
fn is_constant<C: AsRef<[f64]>>(chains: &[C]) -> bool {
    let mut draws = chains.iter().flat_map(|c| c.as_ref().iter());
    match draws.next() {
        Some(first) => draws.all(|x| x == first),
        None => true,
    }
}

fn pool<C: AsRef<[f64]>>(chains: &[C]) -> Vec<f64> {
    chains
        .iter()
        .flat_map(|c| c.as_ref().iter().copied())
        .collect()
}

/// The draws sorted, or `None` if any is not finite (quantiles are then NaN).
fn sorted_finite(draws: &[f64]) -> Option<Vec<f64>> {
    if !draws.iter().all(|x| x.is_finite()) {
        return None;
    }
    let mut sorted = draws.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some(sorted)
}

/// numpy's median: the mean of the two middle values of an even count.
fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Sample variance (n − 1 denominator); NaN for fewer than two values.
fn variance(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return f64::NAN;
    }
    let m = mean(xs);
    xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() - 1) as f64
}

fn sd(xs: &[f64]) -> f64 {
    variance(xs).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ArviZ's results for one fixture. The fixtures and these numbers come from
    /// `tests/fixtures/diagnostics/reference.py` (ArviZ 0.23.4, numpy 2.4.6, scipy
    /// 1.17.1, no numba), with `x` the (chain, draw) array of the fixture:
    ///   mean, sd, q5/q50/q95: `x.mean()`, `x.std(ddof=1)`, `np.quantile(x.ravel(), p)`
    ///   ess_bulk / ess_tail / ess_mean: `az.ess(x, method="bulk" | "tail" | "mean")`
    ///   rhat: `az.rhat(x, method="rank")` (for the single chain, see `single_chain_rhat`
    ///         in the script: the same formula from ArviZ's own `_rhat`, `_z_scale`,
    ///         `_split_chains`, since `az.rhat` refuses one chain)
    ///   mcse_mean / mcse_sd: `az.mcse(x, method="mean" | "sd")`
    struct Reference {
        name: &'static str,
        mean: f64,
        sd: f64,
        q5: f64,
        q50: f64,
        q95: f64,
        ess_bulk: f64,
        ess_tail: f64,
        ess_mean: f64,
        rhat: f64,
        mcse_mean: f64,
        mcse_sd: f64,
    }

    const REFERENCES: [Reference; 7] = [
        // ar1: 4 chains x 100 draws, AR(1) with phi = 0.7
        Reference {
            name: "ar1",
            mean: -0.09869035284966611,
            sd: 1.3143456701992047,
            q5: -2.1248255817149784,
            q50: -0.12347110962120551,
            q95: 2.1073995292337147,
            ess_bulk: 101.20829051891351,
            ess_tail: 196.0837063216903,
            ess_mean: 99.75273627395909,
            rhat: 1.0286569947515558,
            mcse_mean: 0.1315973639894548,
            mcse_sd: 0.08707643343738358,
        },
        // shifted: 2 chains x 50 iid normal draws, the second chain's mean 2 higher
        Reference {
            name: "shifted",
            mean: 0.9252157214210172,
            sd: 1.3047360735928637,
            q5: -1.4281271495377807,
            q50: 1.079975668864857,
            q95: 2.9743849584453352,
            ess_bulk: 6.001866957020817,
            ess_tail: 45.38147644367495,
            ess_mean: 6.042286006147226,
            rhat: 1.3074712419359549,
            mcse_mean: 0.5307891427546375,
            mcse_sd: 0.07555073358523778,
        },
        // ties: 4 chains x 60 Poisson(3) draws
        Reference {
            name: "ties",
            mean: 3.1708333333333334,
            sd: 1.8065383728579056,
            q5: 1.0,
            q50: 3.0,
            q95: 6.0,
            ess_bulk: 188.17308529912538,
            ess_tail: 192.3688822974247,
            ess_mean: 202.16059748632514,
            rhat: 1.001031515405453,
            mcse_mean: 0.12705709884401997,
            mcse_sd: 0.1051547599310038,
        },
        // cauchy: 3 chains x 80 iid standard Cauchy draws
        Reference {
            name: "cauchy",
            mean: -0.24667533957365742,
            sd: 9.970536004117646,
            q5: -5.040072549142375,
            q50: 0.09314768878079846,
            q95: 7.5120413607097785,
            ess_bulk: 239.67606342255445,
            ess_tail: 188.48339609722697,
            ess_mean: 228.9461245708065,
            rhat: 1.0154747517335976,
            mcse_mean: 0.658949082822319,
            mcse_sd: 2.10423964316771,
        },
        // odd: 3 chains x 51 draws (the split drops each middle draw), AR(1) phi = 0.5
        Reference {
            name: "odd",
            mean: -0.06213665887874822,
            sd: 1.1274508436190167,
            q5: -1.7329524770890077,
            q50: -0.14633227291747108,
            q95: 1.9471260379063389,
            ess_bulk: 23.775562907953354,
            ess_tail: 72.09093628477416,
            ess_mean: 20.53383676310698,
            rhat: 1.0939061901923792,
            mcse_mean: 0.2488069819874962,
            mcse_sd: 0.06612328064374505,
        },
        // sticky: 4 chains x 200 draws, AR(1) phi = 0.95 (long Geyer sequences)
        Reference {
            name: "sticky",
            mean: -0.981610091793136,
            sd: 2.8069402342148426,
            q5: -6.042680934658195,
            q50: -0.770978436222944,
            q95: 3.259813711167449,
            ess_bulk: 32.23813222427139,
            ess_tail: 71.98462943781246,
            ess_mean: 32.873893165789745,
            rhat: 1.1035806943959336,
            mcse_mean: 0.48956188233334935,
            mcse_sd: 0.20165275853769785,
        },
        // single: 1 chain x 200 draws, AR(1) phi = 0.3
        Reference {
            name: "single",
            mean: 0.26895966905887014,
            sd: 1.0849096166332288,
            q5: -1.4826845807358031,
            q50: 0.24644301883406772,
            q95: 2.0456121599213772,
            ess_bulk: 108.51854936306432,
            ess_tail: 149.0769528625281,
            ess_mean: 105.73971588944164,
            rhat: 1.0094144057036838,
            mcse_mean: 0.10550535162153289,
            mcse_sd: 0.0608996835439499,
        },
    ];

    fn fixture(name: &str) -> Vec<Vec<f64>> {
        let text = match name {
            "ar1" => include_str!("../../tests/fixtures/diagnostics/ar1.txt"),
            "shifted" => include_str!("../../tests/fixtures/diagnostics/shifted.txt"),
            "ties" => include_str!("../../tests/fixtures/diagnostics/ties.txt"),
            "cauchy" => include_str!("../../tests/fixtures/diagnostics/cauchy.txt"),
            "odd" => include_str!("../../tests/fixtures/diagnostics/odd.txt"),
            "sticky" => include_str!("../../tests/fixtures/diagnostics/sticky.txt"),
            "single" => include_str!("../../tests/fixtures/diagnostics/single.txt"),
            _ => panic!("no fixture {name}"),
        };
        text.lines()
            .map(|l| l.split_whitespace().map(|v| v.parse().unwrap()).collect())
            .collect()
    }

    fn assert_close(what: &str, got: f64, want: f64) {
        let rel = ((got - want) / want).abs();
        assert!(
            rel <= 1e-8 || got == want,
            "{what}: got {got:?}, ArviZ {want:?} (relative error {rel:e})"
        );
    }

    #[test]
    fn agrees_with_arviz() {
        for r in &REFERENCES {
            let chains = fixture(r.name);
            let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
            let s = summarize(&refs);
            let check =
                |what: &str, got, want| assert_close(&format!("{} {what}", r.name), got, want);
            check("mean", s.mean, r.mean);
            check("sd", s.sd, r.sd);
            check("q5", s.q5, r.q5);
            check("q50", s.q50, r.q50);
            check("q95", s.q95, r.q95);
            check("ess_bulk", s.ess_bulk, r.ess_bulk);
            check("ess_tail", s.ess_tail, r.ess_tail);
            check("ess_mean", ess_mean(&chains), r.ess_mean);
            check("rhat", s.rhat, r.rhat);
            check("mcse_mean", s.mcse_mean, r.mcse_mean);
            check("mcse_sd", s.mcse_sd, r.mcse_sd);
        }
    }

    #[test]
    fn shifted_chains_have_large_rhat() {
        let chains = fixture("shifted");
        assert!(rhat(&chains) > 1.3);
    }

    #[test]
    fn constant_draws_give_nan_diagnostics() {
        let chain = [2.5; 10];
        let s = summarize(&[&chain, &chain]);
        assert_eq!(
            (s.mean, s.sd, s.q5, s.q50, s.q95),
            (2.5, 0.0, 2.5, 2.5, 2.5)
        );
        for v in [s.mcse_mean, s.mcse_sd, s.ess_bulk, s.ess_tail, s.rhat] {
            assert!(v.is_nan());
        }
    }

    #[test]
    fn one_draw_per_chain_gives_nan_without_panic() {
        let s = summarize(&[&[1.0], &[3.0]]);
        assert_eq!((s.mean, s.q50), (2.0, 2.0));
        assert_eq!(s.sd, 2f64.sqrt());
        for v in [s.mcse_mean, s.mcse_sd, s.ess_bulk, s.ess_tail, s.rhat] {
            assert!(v.is_nan());
        }
    }

    #[test]
    fn degenerate_shapes_do_not_panic() {
        let empty = summarize(&[]);
        assert!(empty.mean.is_nan() && empty.q50.is_nan() && empty.rhat.is_nan());
        let no_draws = summarize(&[&[], &[]]);
        assert!(no_draws.mean.is_nan() && no_draws.ess_bulk.is_nan());
        // Three draws per chain: below ArviZ's minimum of four.
        let short = summarize(&[&[1.0, 2.0, 3.0], &[2.0, 0.0, 1.0]]);
        assert!(short.ess_bulk.is_nan() && short.rhat.is_nan());
        let ragged = summarize(&[&[1.0, 2.0, 3.0, 4.0], &[1.0, 2.0, 3.0, 4.0, 5.0]]);
        assert_eq!(ragged.mean, 25.0 / 9.0);
        assert!(ragged.ess_bulk.is_nan() && ragged.rhat.is_nan());
        let with_nan = summarize(&[&[1.0, f64::NAN, 3.0, 4.0, 0.5]]);
        assert!(with_nan.mean.is_nan() && with_nan.q50.is_nan() && with_nan.rhat.is_nan());
        assert!(ess_basic(&[[1.0]]).is_nan());
        assert!(rhat_basic(&[[1.0, 2.0]]).is_nan());
    }

    #[test]
    fn four_draws_is_enough() {
        // The smallest valid input splits into chains of two draws.
        let s = summarize(&[&[0.3, -1.2, 0.8, 2.0], &[1.1, 0.1, -0.4, 0.9]]);
        for v in [s.mcse_mean, s.mcse_sd, s.ess_bulk, s.ess_tail, s.rhat] {
            assert!(v.is_finite(), "{s:?}");
        }
    }

    #[test]
    fn constant_tail_indicator_gives_nan_tail_ess() {
        // A 0/1 quantity with many ones: q95 is the maximum, so `x <= q95` is constant.
        let a = [0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0];
        let b = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0];
        assert!(ess_tail(&[a, b]).is_nan());
        assert!(ess_bulk(&[a, b]).is_finite());
    }

    #[test]
    fn separated_constant_chains_have_infinite_rhat() {
        let low = [0.0; 6];
        let high = [1.0; 6];
        assert_eq!(rhat(&[low, high]), f64::INFINITY);
    }

    #[test]
    fn split_drops_the_middle_draw() {
        let split = split_chains(&[[1.0, 2.0, 3.0, 4.0, 5.0], [6.0, 7.0, 8.0, 9.0, 10.0]]);
        assert_eq!(
            split,
            vec![
                vec![1.0, 2.0],
                vec![6.0, 7.0],
                vec![4.0, 5.0],
                vec![9.0, 10.0]
            ]
        );
    }

    #[test]
    fn ranks_average_ties() {
        // Values 1, 2, 2, 3: ranks 1, 2.5, 2.5, 4 of S = 4 draws.
        let z = rank_normalize(&[[2.0, 1.0], [3.0, 2.0]]);
        let phi_inv = |r: f64| inv_normal_cdf((r - 0.375) / 4.25);
        assert_eq!(
            z,
            vec![
                vec![phi_inv(2.5), phi_inv(1.0)],
                vec![phi_inv(4.0), phi_inv(2.5)]
            ]
        );
        assert_eq!(z[0][0], 0.0);
    }

    #[test]
    fn inverse_normal_cdf_matches_known_values() {
        // scipy.stats.norm.ppf at these points.
        let cases = [
            (0.5, 0.0),
            (0.975, 1.959963984540054),
            (0.025, -1.9599639845400545),
            (0.8413447460685429, 1.0),
            (1e-10, -6.361340902404056),
            (0.3, -0.5244005127080409),
            (0.02425, -1.972961051311885),
        ];
        for (p, x) in cases {
            let got = inv_normal_cdf(p);
            assert!(
                (got - x).abs() <= 1e-14 * x.abs().max(1.0),
                "p = {p}: {got:?} vs {x:?}"
            );
        }
        assert_eq!(inv_normal_cdf(0.0), f64::NEG_INFINITY);
        assert_eq!(inv_normal_cdf(1.0), f64::INFINITY);
        assert!(inv_normal_cdf(1.5).is_nan() && inv_normal_cdf(f64::NAN).is_nan());
        let tiny = inv_normal_cdf(f64::MIN_POSITIVE / 1e15);
        assert!(tiny < -37.0 && tiny.is_finite(), "{tiny}");
    }

    #[test]
    fn quantile_is_type_7() {
        let sorted = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(quantile(&sorted, 0.0), 1.0);
        assert_eq!(quantile(&sorted, 1.0), 8.0);
        assert_eq!(quantile(&sorted, 0.5), 3.0);
        // h = 3 * 0.9 = 2.7: 4 + 0.7 * (8 - 4).
        assert!((quantile(&sorted, 0.9) - 6.8).abs() < 1e-12);
        assert_eq!(quantile(&[5.0], 0.05), 5.0);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn well_mixed_draws_have_large_ess() {
        // A fixed, well-mixed sequence (Weyl sequence mod 1) has ESS of the order of S.
        let chain = |k: f64| -> Vec<f64> {
            (0..500)
                .map(|i| ((i as f64 + k) * 0.618_033_988_749_895) % 1.0)
                .collect()
        };
        let chains = [chain(0.0), chain(1000.0)];
        let s = ess_bulk(&chains);
        assert!(s > 500.0, "{s}");
        assert!((rhat(&chains) - 1.0).abs() < 0.01);
    }
}
