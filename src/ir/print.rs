//! `ito check --emit ir`: kernels as text.

use super::*;
use std::fmt::Write;

/// Every kernel of a compiled model, with its buffer layout.
pub fn print_model(m: &super::lower::LoweredModel) -> String {
    let mut out = format!("model {}\n", m.name);
    for (buf, slots) in [
        (Buf::X, &m.layout.x),
        (Buf::P, &m.layout.p),
        (Buf::D, &m.layout.d),
        (Buf::Aux, &m.layout.obs),
    ] {
        if slots.is_empty() {
            continue;
        }
        let names: Vec<String> = slots
            .iter()
            .map(|s| format!("{}: {}", s.name, s.ty))
            .collect();
        let _ = writeln!(out, "  {} = [{}]", buf.name(), names.join(", "));
    }
    for r in &m.reactions {
        let ch: Vec<String> = r
            .changes
            .iter()
            .map(|(i, d)| format!("x[{i}] {d:+}"))
            .collect();
        let _ = writeln!(out, "  reaction {}: {}", r.name, ch.join(", "));
    }
    if !m.dependencies.is_empty() {
        let deps: Vec<String> = m
            .dependencies
            .iter()
            .enumerate()
            .map(|(i, d)| format!("{i}→{d:?}"))
            .collect();
        let _ = writeln!(out, "  dependencies: {}", deps.join(" "));
    }
    for t in &m.flip_terms {
        let how = if t.local { "local" } else { "whole" };
        let _ = writeln!(out, "  flip_delta term: {} ({how})", t.what);
    }
    out.push('\n');
    for k in &m.kernels {
        out.push_str(&print_kernel(k));
    }
    out
}

pub fn print_kernel(k: &Kernel) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "kernel {} {{", k.name);
    block(&mut out, k, &k.body, 1);
    out.push_str("}\n");
    out
}

fn block(out: &mut String, k: &Kernel, b: &Block, depth: usize) {
    for &i in &b.0 {
        inst(out, k, k.inst(i), depth);
    }
}

fn v(x: Val) -> String {
    format!("v{}", x.0)
}

fn vs(xs: &[Val]) -> String {
    xs.iter().map(|&x| v(x)).collect::<Vec<_>>().join(", ")
}

fn inst(out: &mut String, k: &Kernel, i: &Inst, depth: usize) {
    let pad = "  ".repeat(depth);
    let lhs = i
        .result
        .map(|r| {
            let ty = match k.ty(r) {
                Ty::F64 => "f64",
                Ty::I64 => "i64",
                Ty::Bool => "bool",
            };
            format!("{}: {ty} = ", v(r))
        })
        .unwrap_or_default();
    let check = |c: bool| if c { " checked" } else { "" };
    let text = match &i.op {
        Op::ConstF(x) => format!("{x:?}"),
        Op::ConstI(x) => format!("{x}"),
        Op::ConstB(x) => format!("{x}"),
        Op::Time => "t".to_string(),
        Op::Load {
            buf,
            index,
            len,
            checked,
        } => format!(
            "load {}[{}] len {}{}",
            buf.name(),
            v(*index),
            v(*len),
            check(*checked)
        ),
        Op::Store {
            buf,
            index,
            len,
            value,
            checked,
        } => format!(
            "store {}[{}] len {} = {}{}",
            buf.name(),
            v(*index),
            v(*len),
            v(*value),
            check(*checked)
        ),
        Op::FUn(op, a) => format!("{} {}", format!("{op:?}").to_lowercase(), v(*a)),
        Op::FBin(op, a, b) => format!("{} {}, {}", format!("{op:?}").to_lowercase(), v(*a), v(*b)),
        Op::Call(f, args) => format!("call {}({})", f.name(), vs(args)),
        Op::IBin(op, a, b) => format!("i{} {}, {}", format!("{op:?}").to_lowercase(), v(*a), v(*b)),
        Op::INeg(a) => format!("ineg {}", v(*a)),
        Op::FCmp(c, a, b) => format!("f{} {}, {}", format!("{c:?}").to_lowercase(), v(*a), v(*b)),
        Op::ICmp(c, a, b) => format!("i{} {}, {}", format!("{c:?}").to_lowercase(), v(*a), v(*b)),
        Op::And(a, b) => format!("and {}, {}", v(*a), v(*b)),
        Op::Or(a, b) => format!("or {}, {}", v(*a), v(*b)),
        Op::Not(a) => format!("not {}", v(*a)),
        Op::Select(c, a, b) => format!("select {}, {}, {}", v(*c), v(*a), v(*b)),
        Op::IToF(a) => format!("itof {}", v(*a)),
        Op::FToI(a) => format!("ftoi {}", v(*a)),
        Op::BToF(a) => format!("btof {}", v(*a)),
        Op::Sample(d, args) => format!("sample {d:?}({})", vs(args)),
        Op::For {
            index,
            lo,
            hi,
            body,
        } => {
            let _ = writeln!(out, "{pad}for {} in {}..{} {{", v(*index), v(*lo), v(*hi));
            block(out, k, body, depth + 1);
            let _ = writeln!(out, "{pad}}}");
            return;
        }
        Op::Reduce {
            op,
            index,
            lo,
            hi,
            body,
            value,
        } => {
            let _ = writeln!(
                out,
                "{pad}{lhs}{} {} in {}..{} {{",
                format!("{op:?}").to_lowercase(),
                v(*index),
                v(*lo),
                v(*hi)
            );
            block(out, k, body, depth + 1);
            let _ = writeln!(out, "{pad}  yield {}", v(*value));
            let _ = writeln!(out, "{pad}}}");
            return;
        }
        Op::If {
            cond,
            then,
            otherwise,
        } => {
            let _ = writeln!(out, "{pad}if {} {{", v(*cond));
            block(out, k, then, depth + 1);
            if !otherwise.0.is_empty() {
                let _ = writeln!(out, "{pad}}} else {{");
                block(out, k, otherwise, depth + 1);
            }
            let _ = writeln!(out, "{pad}}}");
            return;
        }
    };
    let _ = writeln!(out, "{pad}{lhs}{text}");
}
