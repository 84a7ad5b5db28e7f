//! The batch kernels a run uses agree with the model's own kernels run path by path (the
//! reference evaluator), bit for bit.

use ito::frontend::{Options, compile_file};
use ito::ir::eval::{self, Args};
use ito::sim::SdeSystem;
use ito::sim::data::DataSet;
use ito::sim::prepare::prepare;
use rand::{RngExt as _, SeedableRng};
use std::path::Path;

const MODELS: [&str; 6] = [
    "examples/ou.sde",
    "examples/gbm.sde",
    "examples/lorenz63.sde",
    "examples/heston.sde",
    "examples/mean_field.sde",
    "examples/double_well.sde",
];

fn run_kernel(k: &ito::ir::Kernel, x: &[f64], p: &[f64], d: &[f64], aux: &[f64], out: &mut [f64]) {
    eval::run(
        k,
        &mut Args {
            t: 0.3,
            x: &mut x.to_vec(),
            p: &mut p.to_vec(),
            d,
            aux,
            rng: None,
            out,
        },
    );
}

#[test]
fn batch_kernels_match_the_model_kernels_path_by_path() {
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(7);
    for file in MODELS {
        let c = compile_file(Path::new(file), &Options::default());
        assert!(!c.has_errors(), "{file}");
        let native =
            prepare(&c, None, &[], &DataSet::default()).unwrap_or_else(|e| panic!("{file}: {e}"));
        let lm = &c.lowered[0];
        let sys = native.system();
        let info = sys.model();
        let (nx, ndiff, nw) = (info.nx, info.pattern.len(), info.nw);
        let (p, d) = (&info.bound.p, &info.bound.d);
        let nb = 5;
        let x: Vec<f64> = (0..nb * nx).map(|_| rng.random_range(0.5..1.5)).collect();
        let v: Vec<f64> = (0..nb * nx).map(|_| rng.random_range(-1.0..1.0)).collect();

        let mut f = vec![0.0; nb * nx];
        sys.drift(0.3, &x, &mut f);
        let mut g = vec![0.0; nb * ndiff];
        sys.diffusion(0.3, &x, &mut g);
        let mut dg = vec![0.0; nb * ndiff];
        assert!(sys.diffusion_jvp(0.3, &x, &v, &mut dg), "{file}: jvp");
        for j in 0..nb {
            let xj = &x[j * nx..(j + 1) * nx];
            let mut want = vec![0.0; nx];
            run_kernel(lm.kernel("drift").unwrap(), xj, p, d, &[], &mut want);
            assert_eq!(
                bits(&want),
                bits(&f[j * nx..(j + 1) * nx]),
                "{file}: drift, path {j}"
            );
            let mut want = vec![0.0; ndiff];
            run_kernel(lm.kernel("diffusion").unwrap(), xj, p, d, &[], &mut want);
            assert_eq!(
                bits(&want),
                bits(&g[j * ndiff..(j + 1) * ndiff]),
                "{file}: diffusion"
            );
            let mut want = vec![0.0; ndiff];
            let vj = &v[j * nx..(j + 1) * nx];
            run_kernel(lm.kernel("diffusion_jvp").unwrap(), xj, p, d, vj, &mut want);
            assert_eq!(
                bits(&want),
                bits(&dg[j * ndiff..(j + 1) * ndiff]),
                "{file}: jvp"
            );
        }

        // Outputs (`output let`s) of the whole batch.
        if let Some(k) = lm.kernel("outputs") {
            let nout = info.n_outputs;
            let mut o = vec![0.0; nb * nout];
            sys.outputs(0.3, &x, &mut o);
            for j in 0..nb {
                let mut want = vec![0.0; nout];
                run_kernel(k, &x[j * nx..(j + 1) * nx], p, d, &[], &mut want);
                assert_eq!(
                    bits(&want),
                    bits(&o[j * nout..(j + 1) * nout]),
                    "{file}: outputs"
                );
            }
        }

        // The fused Euler–Maruyama step, where the model has one, is x + f dt + G dW with
        // the same operations in the same order.
        let dt = 0.01;
        let dw: Vec<f64> = (0..nb * nw).map(|_| rng.random_range(-0.1..0.1)).collect();
        let mut fused = x.clone();
        if sys.em_step(0.3, dt, &mut fused, &dw) {
            for j in 0..nb {
                let mut inc: Vec<Option<f64>> = (0..nx).map(|i| Some(f[j * nx + i] * dt)).collect();
                for (e, &(xi, wi)) in info.pattern.iter().enumerate() {
                    let term = g[j * ndiff + e] * dw[j * nw + wi];
                    inc[xi] = Some(inc[xi].map_or(term, |a| a + term));
                }
                for i in 0..nx {
                    let want = x[j * nx + i] + inc[i].unwrap();
                    assert_eq!(
                        want.to_bits(),
                        fused[j * nx + i].to_bits(),
                        "{file}: em_step"
                    );
                }
            }
        } else {
            // Only models whose kernels loop over array states go without it.
            assert_eq!(file, "examples/mean_field.sde", "{file}: no fused step");
        }
    }
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}
