//! Drawing a synthetic observed series from a recorded path: the `observe_sample` kernel,
//! compiled, evaluated at each recording time on the state recorded there.

use super::{ObsSeries, column_names};
use crate::check::model::Model;
use crate::ir::eval::Args;
use crate::ir::lower::{LoweredModel, size_index};
use crate::jit::Jit;
use crate::rt::Rng;
use crate::sim::bind::Bound;

/// The stream observations are drawn from in a run with `seed`: derived from the seed, and
/// unrelated to every path's stream.
pub fn observation_rng(seed: u64) -> Rng {
    // "observe" in ASCII: a fixed offset of the seed, through the same mixing as paths.
    crate::sim::ensemble::path_rng(seed ^ 0x6f62_7365_7276_6500, u64::MAX)
}

/// Draw one observation row per recording time from model `m`'s observation models (lowered
/// as `lm`, inputs bound as `bound`), given one recorded path: `recorded` holds `times.len()`
/// rows of `per_time` values, each starting with the state (`x`, as the engines record it).
/// Elements that no observation model covers are NaN (missing).
pub fn draw_observations(
    lm: &LoweredModel,
    m: &Model,
    bound: &Bound,
    times: &[f64],
    recorded: &[f64],
    per_time: usize,
    rng: &mut Rng,
) -> Result<ObsSeries, String> {
    let Some(kernel) = lm.kernel("observe_sample") else {
        return Err(why_not(lm, m));
    };
    let nx = bound.sizes[size_index::X];
    let width = bound.sizes[size_index::OBS];
    if per_time < nx || recorded.len() != times.len() * per_time {
        return Err(format!(
            "internal: {} recorded values for {} times of {per_time} values, each with a state of {nx}",
            recorded.len(),
            times.len()
        ));
    }
    let jit = Jit::compile(std::slice::from_ref(kernel)).map_err(|e| e.to_string())?;
    let mut x = vec![0.0; nx];
    let mut p = bound.p.clone();
    let mut rows = vec![f64::NAN; times.len() * width];
    for (k, &t) in times.iter().enumerate() {
        x.copy_from_slice(&recorded[k * per_time..k * per_time + nx]);
        jit.call(
            "observe_sample",
            &mut Args {
                t,
                x: &mut x,
                p: &mut p,
                d: &bound.d,
                aux: &[],
                rng: Some(&mut *rng),
                out: &mut rows[k * width..(k + 1) * width],
            },
        )
        .map_err(|e| e.to_string())?;
    }
    Ok(ObsSeries {
        times: times.to_vec(),
        rows,
        width,
        names: column_names(&bound.obs_slots),
    })
}

/// Why model `m` has no `observe_sample` kernel.
fn why_not(lm: &LoweredModel, m: &Model) -> String {
    if m.obs.is_empty() {
        return format!("model `{}` has no `obs` to draw", m.name);
    }
    match lm.refusal("observe_sample") {
        Some(diags) => {
            let why: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
            format!(
                "the observations of model `{}` cannot be drawn: {}",
                m.name,
                why.join("; ")
            )
        }
        None => format!(
            "model `{}` has no observation model (`{} ~ …`) to draw its `obs` from",
            m.name, m.obs[0].name
        ),
    }
}
