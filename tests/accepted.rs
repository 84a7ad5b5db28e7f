//! Valid input the checker once rejected or mistyped: each model must check without
//! errors or warnings (and, where it matters, with the types stated).

use ito::check::model::Model;
use ito::diag::render_all;
use ito::frontend::{Options, compile_source};

/// Check `text` and return its only model, failing on any diagnostic.
fn clean_model(text: &str) -> Model {
    let c = compile_source("accepted.sde", text, &Options::default());
    assert!(
        c.diagnostics.is_empty(),
        "unexpected diagnostics:\n{}",
        render_all(&c.diagnostics, &c.sources, false)
    );
    assert_eq!(c.program.models.len(), 1);
    c.program.models.into_iter().next().unwrap()
}

#[test]
fn compound_assignments_keep_spins_and_fill_arrays() {
    let m = clean_model(
        "model M {
           state s: spin[3]
           state n: int = 0
           state x: real[2] = 0
           dx = -x dt
           jump flip[i in 1..3] @ 1.0 { s[i] *= -1; n += 2 }
           jump kick @ 1.0 { x[1] *= 2; x += [1.0, 2.0]; x /= 2; x -= 1 }
         }",
    );
    assert_eq!(m.jumps.len(), 2);
}

/// A `let` with a constant value is a fixed size, so `real[n]` and `real[3]` are one shape.
#[test]
fn constant_let_is_a_fixed_size() {
    let m = clean_model(
        "model M {
           let n = 3
           let m: int = n + 1
           state x: real[n] = 0
           state y: real[3] = 1
           state z: real[m] = 0
           dx = -y dt
           dy = -x dt
           dz = -z dt
         }",
    );
    let types: Vec<String> = m.states.iter().map(|s| s.ty.to_string()).collect();
    assert_eq!(types, ["real[3]", "real[3]", "real[4]"]);
    assert!(m.states.iter().all(|s| s.ty.fixed_len().is_some()));
}

/// Equations and priors that split an array between them, without overlap, cover it.
#[test]
fn split_equations_and_priors_cover_arrays_without_overlap() {
    let m = clean_model(
        "model M {
           data N: int
           state x: real[4] = 1
           state m: real[2, 3] = 1
           state z: real[N] = 1
           dx[1] = -x[1] dt
           dx[i] = -x[i] dt for i in 2..4
           dm[1] = -m[1] dt
           dm[2, j] = -m[2, j] dt for j in 1..3
           dz[1] = -z[1] dt
           dz[i] = -z[i] dt for i in 2..N
           param eta: real[3]
           eta[j] ~ Normal(0, 1) for j in 1..2
           eta[3] ~ Normal(0, 2)
           data y: real
           y ~ Normal(sum(eta), 1)
         }",
    );
    assert_eq!(m.equations.len(), 6);
}

/// Constants fold element-wise over arrays: operators with broadcasting, unary minus and
/// the one-argument built-ins.
#[test]
fn constant_arrays_fold_element_wise() {
    use ito::check::types::Value::{self, Array, Int, Real};
    let m = clean_model(
        "model M {
           const v = [1, 2] * 2
           const w = exp([0.0, 0.0])
           const u = -[1, 2] + div([7, 8], 2)
           const g = [[1, 2], [3, 4]] * [[1, 0], [0, 1]]
           param a = v[1] + w[1] + u[2] + g[2, 2]
           data y: real
           y ~ Normal(a, 1)
         }",
    );
    let values: Vec<Value> = m.consts.iter().map(|c| c.value.clone()).collect();
    assert_eq!(
        values,
        [
            Array(vec![Int(2), Int(4)]),
            Array(vec![Real(1.0), Real(1.0)]),
            Array(vec![Int(2), Int(2)]),
            Array(vec![
                Array(vec![Int(1), Int(0)]),
                Array(vec![Int(0), Int(4)])
            ]),
        ]
    );
}

/// `dW[1][2]` is `dW[1, 2]`, and `- 0` drops a zero term like `- 0.0`.
#[test]
fn chained_noise_index_and_integer_zero_term() {
    let m = clean_model(
        "model M {
           noise W: real[2, 2]
           state x = 0.0
           state y = 0.0
           dx = -x dt + dW[1][2]
           dy = -y dt - 0
         }",
    );
    let index = &m.equations[0].diffusion[0].index;
    let literal: Vec<i64> = index
        .iter()
        .map(|e| match e.kind {
            ito::check::model::TKind::Int(v) => v,
            _ => panic!("a literal index"),
        })
        .collect();
    assert_eq!(literal, [1, 2]);
    assert!(m.equations[1].diffusion.is_empty());
}

/// The typed printer keeps the parentheses around a reduction that is the left operand of
/// a product (its body would otherwise take in the factor), and only those.
#[test]
fn printed_reductions_keep_needed_parentheses() {
    let m = clean_model(
        "model M {
           param c = 2.0
           state x: real[3] = 1
           dx = -x dt
           output let a = (sum(i in 1..3) x[i]) * c
           output let b = sum(i in 1..3) x[i] * c
           output let d = (sum(i in 1..3) x[i]) + c
         }",
    );
    let name = |v| m.var_name(v).to_string();
    let printed: Vec<String> = m
        .lets
        .iter()
        .map(|l| ito::check::print::expr_string(&l.value, &name))
        .collect();
    assert_eq!(
        printed,
        [
            "(sum(i in 1..3) x[i]) * c",
            "sum(i in 1..3) x[i] * c",
            "sum(i in 1..3) x[i] + c",
        ]
    );
}

/// What a long chain of `let`s reaches is seen through the whole chain (the checker works it
/// out once per `let`; every use walking the chain again made such models quadratic).
#[test]
fn long_let_chains_are_seen_through() {
    let n = 3000;
    let mut text = String::from("model M {\n  param s = 0.1\n  state x = 1.0\n  let a0 = s * x\n");
    for k in 1..n {
        text.push_str(&format!("  let a{k} = a{} + 1\n", k - 1));
    }
    for k in 0..n {
        text.push_str(&format!(
            "  state y{k} = 0.0\n  dy{k} = -y{k} dt + a{} dW\n",
            n - 1
        ));
    }
    text.push_str("  dx = -x dt\n}\n");
    let m = clean_model(&text);
    let noise = m.noise.expect("noise terms");
    assert!(!noise.additive, "the coefficient reaches the state `x`");
}

/// `eta[i, i]` reaches the diagonal only, so a prior on an element off it is not a second one.
#[test]
fn a_diagonal_prior_leaves_the_other_elements_free() {
    let m = clean_model(
        "model M {
           param eta: real[3, 3]
           eta[i, i] ~ Normal(0, 1) for i in 1..3
           eta[1, 2] ~ Normal(0, 2)
           data y: real
           y ~ Normal(sum(eta), 1)
         }",
    );
    assert_eq!(m.tildes.len(), 3);
}

/// A state whose value is the end of a long chain of `let`s declared after it: resolving
/// it must not nest one call per `let` (100,000 of them once overflowed the stack).
#[test]
fn a_long_chain_declared_after_its_use_resolves() {
    let n = 100_000;
    let mut text = format!("model M {{\n  state x: real = a{}\n  let a0 = 1.0\n", n - 1);
    for k in 1..n {
        text += &format!("  let a{k} = a{} + 1\n", k - 1);
    }
    text += "  dx = -x dt\n}\n";
    let m = clean_model(&text);
    assert_eq!(m.lets.len(), n);
}
