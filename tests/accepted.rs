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
