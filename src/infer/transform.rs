//! Constrained parameters on an unconstrained scale, as Stan does: each element with a
//! lower bound is `a + exp(u)`, with an upper bound `b − exp(u)`, with both
//! `a + (b − a)·logistic(u)`; the log-Jacobian of the map is added to the density so that the
//! sampler sees the right distribution of `u`. Transforms are element-wise, so applying one
//! and its chain rule costs a few flops per element beside the compiled density.

/// The map of one parameter element.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Transform {
    Identity,
    Lower(f64),
    Upper(f64),
    Interval(f64, f64),
}

/// The constrained value of one element, with what the chain rule needs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Constrained {
    pub value: f64,
    /// log |dθ/du|.
    pub log_jacobian: f64,
    /// dθ/du.
    pub slope: f64,
    /// d log |dθ/du| / du.
    pub log_jacobian_slope: f64,
}

impl Transform {
    /// The transform for declared bounds (infinite where a bound is absent).
    pub fn from_bounds(lower: f64, upper: f64) -> Result<Transform, String> {
        match (lower.is_finite(), upper.is_finite()) {
            (false, false) if lower == f64::NEG_INFINITY && upper == f64::INFINITY => {
                Ok(Transform::Identity)
            }
            (true, false) if upper == f64::INFINITY => Ok(Transform::Lower(lower)),
            (false, true) if lower == f64::NEG_INFINITY => Ok(Transform::Upper(upper)),
            (true, true) if lower < upper => Ok(Transform::Interval(lower, upper)),
            _ => Err(format!(
                "the bounds <lower={lower}, upper={upper}> leave no room for a value"
            )),
        }
    }

    /// θ(u) and its derivatives.
    pub fn constrain(self, u: f64) -> Constrained {
        match self {
            Transform::Identity => Constrained {
                value: u,
                log_jacobian: 0.0,
                slope: 1.0,
                log_jacobian_slope: 0.0,
            },
            Transform::Lower(a) => {
                let e = u.exp();
                Constrained {
                    value: a + e,
                    log_jacobian: u,
                    slope: e,
                    log_jacobian_slope: 1.0,
                }
            }
            Transform::Upper(b) => {
                let e = u.exp();
                Constrained {
                    value: b - e,
                    log_jacobian: u,
                    slope: -e,
                    log_jacobian_slope: 1.0,
                }
            }
            Transform::Interval(a, b) => {
                let s = logistic(u);
                let width = b - a;
                // log σ(u) + log(1 − σ(u)) = −|u| − 2 log(1 + e^{−|u|}), stable for large |u|.
                let log_s1s = -u.abs() - 2.0 * (-u.abs()).exp().ln_1p();
                Constrained {
                    // Clamp so that rounding never puts a value on or outside a bound.
                    value: (a + width * s).clamp(a, b),
                    log_jacobian: width.ln() + log_s1s,
                    slope: width * s * (1.0 - s),
                    log_jacobian_slope: 1.0 - 2.0 * s,
                }
            }
        }
    }

    /// u(θ): the inverse of [`Transform::constrain`] (for starting points given on the
    /// constrained scale). Values on or outside a bound map to ±∞.
    pub fn unconstrain(self, theta: f64) -> f64 {
        match self {
            Transform::Identity => theta,
            Transform::Lower(a) => (theta - a).ln(),
            Transform::Upper(b) => (b - theta).ln(),
            Transform::Interval(a, b) => {
                let s = (theta - a) / (b - a);
                (s / (1.0 - s)).ln()
            }
        }
    }
}

fn logistic(u: f64) -> f64 {
    if u >= 0.0 {
        1.0 / (1.0 + (-u).exp())
    } else {
        let e = u.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Transform; 4] = [
        Transform::Identity,
        Transform::Lower(2.0),
        Transform::Upper(-1.0),
        Transform::Interval(-3.0, 5.0),
    ];

    #[test]
    fn constrain_inverts_unconstrain() {
        for t in ALL {
            for u in [-4.0, -0.3, 0.0, 0.7, 3.0] {
                let back = t.unconstrain(t.constrain(u).value);
                assert!((back - u).abs() < 1e-12, "{t:?} at {u}: {back}");
            }
        }
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let h = 1e-6;
        for t in ALL {
            for u in [-4.0, -0.3, 0.0, 0.7, 3.0] {
                let c = t.constrain(u);
                let (lo, hi) = (t.constrain(u - h), t.constrain(u + h));
                let slope = (hi.value - lo.value) / (2.0 * h);
                assert!(
                    (c.slope - slope).abs() < 1e-6 * (1.0 + slope.abs()),
                    "{t:?}"
                );
                // The log-Jacobian is log |slope|.
                assert!((c.log_jacobian - c.slope.abs().ln()).abs() < 1e-12, "{t:?}");
                let lj = (hi.log_jacobian - lo.log_jacobian) / (2.0 * h);
                assert!((c.log_jacobian_slope - lj).abs() < 1e-6, "{t:?}");
            }
        }
    }

    #[test]
    fn values_stay_inside_the_bounds() {
        let t = Transform::Interval(0.0, 1.0);
        for u in [-800.0, -40.0, 40.0, 800.0] {
            let c = t.constrain(u);
            assert!(
                (0.0..=1.0).contains(&c.value) && c.log_jacobian.is_finite() || u.abs() > 700.0
            );
        }
        assert!(Transform::from_bounds(1.0, 1.0).is_err());
        assert_eq!(
            Transform::from_bounds(0.0, f64::INFINITY),
            Ok(Transform::Lower(0.0))
        );
    }
}
