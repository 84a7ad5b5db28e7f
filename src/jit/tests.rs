//! The semantics that are easy to get wrong natively, each checked against the evaluator
//! (bit for bit) and against the expected numbers.

use super::*;
use crate::ir::build::Builder;
use crate::ir::eval::{self, Args};
use crate::ir::{Cmp, FBin, FUn, IBin, Kernel, MathFn, Op, RedOp, SampleDist, Ty, Val};

/// Equal bits, or both NaN.
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

struct Run {
    x: Vec<f64>,
    p: Vec<f64>,
    out: Vec<f64>,
}

/// Run `k` with the evaluator and the JIT on copies of the same buffers; assert that they
/// agree bit for bit and return the result.
fn both(k: &Kernel, x: &[f64], p: &[f64], d: &[f64], out: &[f64]) -> Run {
    let jit = Jit::compile(std::slice::from_ref(k)).expect("compiles");
    let mut runs = Vec::new();
    for native in [false, true] {
        let (mut x, mut p, mut out) = (x.to_vec(), p.to_vec(), out.to_vec());
        let mut rng = crate::rt::rng_from_seed(7);
        let mut args = Args {
            t: 0.5,
            x: &mut x,
            p: &mut p,
            d,
            aux: &[],
            rng: Some(&mut rng),
            out: &mut out,
        };
        if native {
            jit.call(&k.name, &mut args).expect("runs");
        } else {
            eval::run(k, &mut args);
        }
        runs.push(Run { x, p, out });
    }
    let (e, j) = (&runs[0], &runs[1]);
    for (what, a, b) in [
        ("x", &e.x, &j.x),
        ("p", &e.p, &j.p),
        ("out", &e.out, &j.out),
    ] {
        for (i, (a, b)) in a.iter().zip(b.iter()).enumerate() {
            assert!(same(*a, *b), "{what}[{i}]: eval {a:?}, jit {b:?}");
        }
    }
    runs.pop().expect("two runs")
}

fn clif_text(k: &Kernel) -> Result<String, JitError> {
    ClifPrinter::host()?.print(k)
}

/// Store `vals` to `out[0..]` (unchecked, as f64).
fn store_all(b: &mut Builder, vals: &[Val]) {
    let n = b.i(vals.len() as i64);
    for (i, &v) in vals.iter().enumerate() {
        let at = b.i(i as i64);
        let v = b.to_f64(v);
        b.store(Buf::Out, at, n, v, false);
    }
}

/// `d[i]` for each `i` (unchecked loads from a buffer of length `n`).
fn loads(b: &mut Builder, n: usize) -> Vec<Val> {
    let len = b.i(n as i64);
    (0..n)
        .map(|i| {
            let at = b.i(i as i64);
            b.load(Buf::D, at, len, false)
        })
        .collect()
}

#[test]
fn integer_division_and_remainder_never_trap() {
    let pairs = [
        (7, 2),
        (-7, 2),
        (7, -2),
        (-7, -2),
        (6, 3),
        (-6, 3),
        (5, 0),
        (-5, 0),
        (0, 0),
        (9, -1),
        (i64::MIN, -1),
        (i64::MIN, 1),
        (i64::MIN, 2),
        (i64::MIN, 3),
        (i64::MIN, i64::MIN),
        (i64::MAX, i64::MIN),
        (i64::MIN, i64::MAX),
        (-1, i64::MIN),
        (3, i64::MIN),
    ];
    let mut b = Builder::new("divrem");
    let mut results = Vec::new();
    for &(x, y) in &pairs {
        let (xv, yv) = (b.i(x), b.i(y));
        for (op, expected) in [(IBin::Div, eval::idiv(x, y)), (IBin::Rem, eval::irem(x, y))] {
            let r = b.ibin(op, xv, yv);
            let want = b.i(expected);
            results.push(b.icmp(Cmp::Eq, r, want));
            results.push(r);
        }
    }
    store_all(&mut b, &results);
    let k = b.finish();
    let r = both(&k, &[], &[], &[], &vec![0.0; results.len()]);
    for (i, pair) in r.out.chunks(4).enumerate() {
        assert_eq!((pair[0], pair[2]), (1.0, 1.0), "{:?}", pairs[i]);
    }
    assert_eq!(eval::idiv(i64::MIN, -1), i64::MIN);
    assert_eq!(eval::irem(i64::MIN, -1), 0);
}

#[test]
fn min_max_ignore_nan_like_eval() {
    let cases = [
        (f64::NAN, 1.0),
        (1.0, f64::NAN),
        (f64::NAN, f64::NAN),
        (-0.0, 0.0),
        (0.0, -0.0),
        (2.0, 3.0),
        (f64::INFINITY, f64::NEG_INFINITY),
    ];
    let d: Vec<f64> = cases.iter().flat_map(|&(a, b)| [a, b]).collect();
    let mut b = Builder::new("minmax");
    let v = loads(&mut b, d.len());
    let mut results = Vec::new();
    for pair in v.chunks(2) {
        results.push(b.fbin(FBin::Min, pair[0], pair[1]));
        results.push(b.fbin(FBin::Max, pair[0], pair[1]));
    }
    store_all(&mut b, &results);
    let k = b.finish();
    let r = both(&k, &[], &[], &d, &vec![0.0; results.len()]);
    for (i, &(a, b)) in cases.iter().enumerate() {
        assert!(same(r.out[2 * i], eval::fmin(a, b)));
        assert!(same(r.out[2 * i + 1], eval::fmax(a, b)));
    }
    assert_eq!(r.out[0], 1.0);
    assert_eq!(r.out[2], 1.0);
    // Ties keep the second operand, zero signs included.
    assert!(r.out[6].is_sign_positive() && r.out[8].is_sign_negative());
}

#[test]
fn round_is_half_away_from_zero() {
    let d = [
        2.5,
        -2.5,
        0.5,
        -0.5,
        1.5,
        3.5,
        -0.0,
        4.499_999_999_999_999,
        f64::NAN,
    ];
    let mut b = Builder::new("round");
    let v = loads(&mut b, d.len());
    let results: Vec<Val> = v.iter().map(|&x| b.fun(FUn::Round, x)).collect();
    store_all(&mut b, &results);
    let k = b.finish();
    let r = both(&k, &[], &[], &d, &[0.0; 9]);
    assert_eq!(&r.out[..6], &[3.0, -3.0, 1.0, -1.0, 2.0, 4.0]);
    assert!(r.out[6] == 0.0 && r.out[6].is_sign_negative());
    assert_eq!(r.out[7], 4.0);
    assert!(r.out[8].is_nan());
}

#[test]
fn ftoi_floors_and_saturates() {
    let d = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e30,
        -1e30,
        -2.5,
        2.5,
        -0.0,
        9.3e18,
    ];
    let expected = [
        0,
        i64::MAX,
        i64::MIN,
        i64::MAX,
        i64::MIN,
        -3,
        2,
        0,
        i64::MAX,
    ];
    let mut b = Builder::new("ftoi");
    let v = loads(&mut b, d.len());
    let mut results = Vec::new();
    for (&x, &e) in v.iter().zip(&expected) {
        let i = b.ftoi(x);
        let want = b.i(e);
        results.push(b.icmp(Cmp::Eq, i, want));
    }
    store_all(&mut b, &results);
    let k = b.finish();
    let r = both(&k, &[], &[], &d, &[0.0; 9]);
    assert!(r.out.iter().all(|&x| x == 1.0), "{:?}", r.out);
}

#[test]
fn conversions_follow_the_evaluator() {
    // A float used as an integer truncates (NaN → 0); as a condition, NaN is true.
    let d = [f64::NAN, -2.7, 0.0, -0.0, 3.9];
    let mut b = Builder::new("conv");
    let v = loads(&mut b, d.len());
    let mut results = Vec::new();
    for &x in &v {
        let one = b.i(1);
        results.push(b.ibin(IBin::Add, x, one)); // x as i64 + 1
        results.push(b.not(x)); // !(x != 0)
        let bt = b.b(true);
        let or = b.and(x, bt);
        results.push(or);
        // A select mixing an integer and a float keeps the float.
        let seven = b.i(7);
        let s = b.select(or, seven, x);
        let s = b.fbin(FBin::Add, s, x);
        results.push(s);
    }
    store_all(&mut b, &results);
    let k = b.finish();
    let r = both(&k, &[], &[], &d, &vec![0.0; results.len()]);
    assert_eq!(&r.out[..3], &[1.0, 0.0, 1.0]);
    assert_eq!(&r.out[4..7], &[-1.0, 0.0, 1.0]);
    assert_eq!(r.out[7], 7.0 - 2.7);
    assert_eq!(&r.out[8..11], &[1.0, 1.0, 0.0]);
    assert_eq!(r.out[11], 0.0);
}

#[test]
fn checked_accesses_stay_in_range() {
    let d = [10.0, 20.0, 30.0];
    let mut b = Builder::new("checked");
    let len = b.i(3);
    let mut results = Vec::new();
    for i in [-1, 0, 2, 3, 100, i64::MIN, i64::MAX] {
        let at = b.i(i);
        results.push(b.load(Buf::D, at, len, true));
    }
    // A length beyond the buffer is not trusted either (shorter `len` than the buffer).
    let short = b.i(1);
    let one = b.i(1);
    results.push(b.load(Buf::D, one, short, true));
    store_all(&mut b, &results);
    // Checked stores out of range are skipped (out has 8 + 2 slots).
    let out_len = b.i(results.len() as i64 + 2);
    let x = b.f(-1.0);
    for i in [
        -1,
        results.len() as i64 + 2,
        i64::MAX,
        results.len() as i64 + 1,
    ] {
        let at = b.i(i);
        b.store(Buf::Out, at, out_len, x, true);
    }
    // A store to `x` with a negative length never happens.
    let neg = b.i(-5);
    let zero = b.i(0);
    b.store(Buf::X, zero, neg, x, true);
    let k = b.finish();
    let r = both(&k, &[5.0], &[], &d, &[7.0; 10]);
    assert!(r.out[0].is_nan());
    assert_eq!(&r.out[1..3], &[10.0, 30.0]);
    assert!(r.out[3..7].iter().all(|x| x.is_nan()));
    assert!(r.out[7].is_nan());
    assert_eq!(&r.out[8..], &[7.0, -1.0]);
    assert_eq!(r.x, vec![5.0]);
}

#[test]
fn empty_range_reductions_give_identities() {
    let mut b = Builder::new("empty");
    let (lo, hi) = (b.i(5), b.i(3));
    let mut results = Vec::new();
    for op in [RedOp::Sum, RedOp::Prod, RedOp::Min, RedOp::Max] {
        results.push(b.reduce(op, lo, hi, |b, i| b.itof(i)));
    }
    let same_ = b.i(5);
    results.push(b.reduce(RedOp::Sum, lo, same_, |b, i| b.itof(i)));
    store_all(&mut b, &results);
    let k = b.finish();
    let r = both(&k, &[], &[], &[], &[9.0; 5]);
    assert_eq!(r.out, vec![0.0, 1.0, f64::INFINITY, f64::NEG_INFINITY, 0.0]);
}

#[test]
fn reductions_accumulate_in_order_and_ignore_nan() {
    let d = [1e16, 1.0, -1e16, 1.0, f64::NAN, -3.0, 2.0];
    let mut b = Builder::new("reduce");
    let (lo, hi, len) = (b.i(0), b.i(d.len() as i64), b.i(d.len() as i64));
    let mut results = Vec::new();
    for op in [RedOp::Sum, RedOp::Prod, RedOp::Min, RedOp::Max] {
        results.push(b.reduce(op, lo, hi, |b, i| b.load(Buf::D, i, len, true)));
    }
    let four = b.i(4);
    results.push(b.reduce(RedOp::Sum, lo, four, |b, i| b.load(Buf::D, i, len, true)));
    store_all(&mut b, &results);
    let k = b.finish();
    let r = both(&k, &[], &[], &d, &[0.0; 5]);
    assert!(r.out[0].is_nan() && r.out[1].is_nan());
    assert_eq!(&r.out[2..], &[-1e16, 1e16, 1.0]);
}

#[test]
fn nested_loops_and_branches() {
    // for i in 0..n { for j in 0..m { out[i*m + j] = sum k in 0..=j of d[2 + k] * i } }
    // then out[n*m] = (n > m ? 1 : 2) through an `If`.
    let d = [3.0, 4.0, 0.5, 1.5, 2.5, 3.5];
    let mut b = Builder::new("nested");
    let dl = b.i(d.len() as i64);
    let (z, o) = (b.i(0), b.i(1));
    let nf = b.load(Buf::D, z, dl, false);
    let mf = b.load(Buf::D, o, dl, false);
    let (n, m) = (b.ftoi(nf), b.ftoi(mf));
    let nm = b.imul(n, m);
    let out_len = b.iadd(nm, o);
    b.for_loop(z, n, |b, i| {
        b.for_loop(z, m, |b, j| {
            let hi = b.iadd(j, o);
            let s = b.reduce(RedOp::Sum, z, hi, |b, k| {
                let two = b.i(2);
                let at = b.iadd(two, k);
                let x = b.load(Buf::D, at, dl, true);
                let fi = b.itof(i);
                b.mul(x, fi)
            });
            let row = b.imul(i, m);
            let at = b.iadd(row, j);
            b.store(Buf::Out, at, out_len, s, true);
        });
    });
    let c = b.icmp(Cmp::Gt, n, m);
    b.if_else(
        c,
        |b| {
            let one = b.f(1.0);
            b.store(Buf::Out, nm, out_len, one, true);
        },
        |b| {
            let two = b.f(2.0);
            b.store(Buf::Out, nm, out_len, two, true);
        },
    );
    let k = b.finish();
    let r = both(&k, &[], &[], &d, &[0.0; 13]);
    let mut want = Vec::new();
    for i in 0..3 {
        for j in 0..4 {
            want.push((0..=j).map(|k| d[2 + k] * i as f64).sum::<f64>());
        }
    }
    want.push(2.0);
    assert_eq!(r.out, want);
}

#[test]
fn draws_and_math_calls_match() {
    let mut b = Builder::new("draws");
    let (zero, one, two) = (b.f(0.0), b.f(1.0), b.f(2.0));
    let mut results = vec![
        b.sample(SampleDist::Normal, vec![zero, one]),
        b.sample(SampleDist::Gamma, vec![two, one]),
        b.sample(SampleDist::Spin, vec![]),
        b.sample(SampleDist::Normal, vec![zero]), // missing scale: NaN
    ];
    results.push(b.call(crate::ir::MathFn::Pow, vec![two, results[0]]));
    results.push(b.call(crate::ir::MathFn::Lgamma, vec![results[1]]));
    results.push(b.time());
    store_all(&mut b, &results);
    let k = b.finish();
    let r = both(&k, &[], &[], &[], &[0.0; 7]);
    assert!(r.out[0].is_finite() && r.out[1] > 0.0 && r.out[2].abs() == 1.0);
    assert!(r.out[3].is_nan());
    assert_eq!(r.out[6], 0.5);
}

#[test]
fn effects_change_x_and_p() {
    let mut b = Builder::new("effect");
    let (z, o, two) = (b.i(0), b.i(1), b.i(2));
    let x0 = b.load(Buf::X, z, two, false);
    let p1 = b.load(Buf::P, o, two, false);
    let s = b.add(x0, p1);
    b.store(Buf::X, z, two, s, false);
    let x0 = b.load(Buf::X, z, two, false); // sees the new value
    b.store(Buf::P, z, two, x0, false);
    let k = b.finish();
    let r = both(&k, &[1.0, 2.0], &[3.0, 4.0], &[], &[]);
    assert_eq!((r.x, r.p), (vec![5.0, 2.0], vec![5.0, 4.0]));
}

#[test]
fn errors_are_values() {
    // A value used outside the loop that defines it.
    let mut b = Builder::new("bad");
    let (z, o) = (b.i(0), b.i(1));
    let mut inner = None;
    b.for_loop(z, o, |b, i| inner = Some(b.itof(i)));
    let n = b.i(1);
    if let Some(v) = inner {
        b.store(Buf::Out, z, n, v, false);
    }
    let k = b.finish();
    assert!(matches!(
        Jit::compile(std::slice::from_ref(&k)),
        Err(JitError::Malformed { .. })
    ));
    assert!(clif_text(&k).is_err());

    let ok = Builder::new("k").finish();
    assert!(matches!(
        Jit::compile(&[ok.clone(), ok.clone()]),
        Err(JitError::DuplicateKernel(_))
    ));
    let jit = Jit::compile(&[ok]).expect("compiles");
    let mut args = Args {
        t: 0.0,
        x: &mut [],
        p: &mut [],
        d: &[],
        aux: &[],
        rng: None,
        out: &mut [],
    };
    assert!(matches!(
        jit.call("nope", &mut args),
        Err(JitError::UnknownKernel(_))
    ));
    assert!(jit.call("k", &mut args).is_ok());

    // Buffers shorter than the kernel's lengths are refused.
    let mut b = Builder::new("long");
    let (z, n) = (b.i(0), b.i(4));
    let x = b.load(Buf::D, z, n, false);
    b.store(Buf::Out, z, n, x, true);
    let k = b.finish();
    let jit = Jit::compile(std::slice::from_ref(&k)).expect("compiles");
    let mut out = [0.0; 4];
    let mut args = Args {
        t: 0.0,
        x: &mut [],
        p: &mut [],
        d: &[1.0, 2.0],
        aux: &[],
        rng: None,
        out: &mut out,
    };
    let err = jit.call("long", &mut args).expect_err("d is too short");
    assert!(err.to_string().contains("`d`"), "{err}");
}

/// `d[0]` read with length 4 and `out[0]` written (checked) with length 4.
fn constant_lengths() -> Kernel {
    let mut b = Builder::new("long");
    let (z, n) = (b.i(0), b.i(4));
    let x = b.load(Buf::D, z, n, false);
    b.store(Buf::Out, z, n, x, true);
    b.finish()
}

#[test]
fn constant_lengths_are_checked_without_the_evaluator() {
    let k = constant_lengths();
    let jit = Jit::compile(std::slice::from_ref(&k)).expect("compiles");
    let check = jit.lengths("long").and_then(|l| l.as_ref().ok());
    let check = check.expect("checkable");
    assert_eq!(check.fixed(), [0, 0, 4, 0, 4]);
    assert_eq!(check.computed_values(), None);
    let run = |d: &[f64], out: &mut [f64]| {
        jit.call(
            "long",
            &mut Args {
                t: 0.0,
                x: &mut [],
                p: &mut [],
                d,
                aux: &[],
                rng: None,
                out,
            },
        )
    };
    let mut out = [0.0; 4];
    assert!(run(&[1.5, 0.0, 0.0, 0.0], &mut out).is_ok());
    assert_eq!(out[0], 1.5);
    assert!(matches!(
        run(&[1.0; 3], &mut out),
        Err(JitError::BufferTooShort {
            buf: Buf::D,
            needed: 4,
            len: 3,
            ..
        })
    ));
    assert!(matches!(
        run(&[1.0; 4], &mut out[..3]),
        Err(JitError::BufferTooShort {
            buf: Buf::Out,
            needed: 4,
            len: 3,
            ..
        })
    ));
}

#[test]
fn handles_call_without_a_lookup_and_only_their_own_jit() {
    let k = constant_lengths();
    let jit = Jit::compile(std::slice::from_ref(&k)).expect("compiles");
    let other = Jit::compile(std::slice::from_ref(&k)).expect("compiles");
    assert_eq!(jit.kernel("nope"), None);
    let h = jit.kernel("long").expect("a handle");
    let (d, mut out) = ([2.5, 0.0, 0.0, 0.0], [0.0; 4]);
    let mut args = Args {
        t: 0.0,
        x: &mut [],
        p: &mut [],
        d: &d,
        aux: &[],
        rng: None,
        out: &mut out,
    };
    assert!(jit.call_handle(h, &mut args).is_ok());
    assert_eq!(
        other.call_handle(h, &mut args),
        Err(JitError::ForeignHandle)
    );
    args.d = &d[..1];
    assert!(matches!(
        jit.call_handle(h, &mut args),
        Err(JitError::BufferTooShort { buf: Buf::D, .. })
    ));
    assert_eq!(out[0], 2.5);
}

#[test]
fn lengths_read_from_a_buffer_the_kernel_changes_are_refused() {
    // x[0] = 1 for a length n = x[1] read before the store.
    let mut b = Builder::new("self");
    let (z, o, two) = (b.i(0), b.i(1), b.i(2));
    let nf = b.load(Buf::X, o, two, false);
    let n = b.ftoi(nf);
    let one = b.f(1.0);
    b.store(Buf::X, z, n, one, true);
    let k = b.finish();
    let jit = Jit::compile(std::slice::from_ref(&k)).expect("compiles");
    let mut x = [0.0, 1.0];
    let err = jit.call(
        "self",
        &mut Args {
            t: 0.0,
            x: &mut x,
            p: &mut [],
            d: &[],
            aux: &[],
            rng: None,
            out: &mut [],
        },
    );
    assert!(matches!(err, Err(JitError::Unverifiable { .. })), "{err:?}");
    assert_eq!(x, [0.0, 1.0]);
}

#[test]
fn lengths_read_from_out_are_refused() {
    // A kernel that does not write `out` but takes a length from it: the check, which runs
    // without `out`, could not know it.
    let mut b = Builder::new("from_out");
    let (z, o) = (b.i(0), b.i(1));
    let nf = b.load(Buf::Out, z, o, false);
    let n = b.ftoi(nf);
    let v = b.load(Buf::X, z, n, true);
    let one = b.f(1.0);
    let _ = b.add(v, one);
    let k = b.finish();
    let jit = Jit::compile(std::slice::from_ref(&k)).expect("compiles");
    let err = jit.call(
        "from_out",
        &mut Args {
            t: 0.0,
            x: &mut [1.0],
            p: &mut [],
            d: &[],
            aux: &[],
            rng: None,
            out: &mut [5.0],
        },
    );
    assert!(matches!(err, Err(JitError::Unverifiable { .. })), "{err:?}");
}

#[test]
fn ill_typed_ir_is_refused() {
    // Instructions the builder never makes, whose result the evaluator would compute from
    // the representation it finds at run time.
    type Make = fn(&mut Builder) -> Option<Val>;
    let cases: [(&str, Make); 4] = [
        ("btof of a float", |b| {
            let x = b.f(2.5);
            b.push(Op::BToF(x), Some(Ty::F64))
        }),
        ("select of an integer and a float", |b| {
            let (c, i, x) = (b.b(true), b.i(1 << 60), b.f(2.5));
            b.push(Op::Select(c, i, x), Some(Ty::F64))
        }),
        ("pow of one argument", |b| {
            let x = b.f(2.5);
            b.push(Op::Call(MathFn::Pow, vec![x]), Some(Ty::F64))
        }),
        ("exp of two arguments", |b| {
            let x = b.f(2.5);
            b.push(Op::Call(MathFn::Exp, vec![x, x]), Some(Ty::F64))
        }),
    ];
    for (what, make) in cases {
        let mut b = Builder::new("bad");
        let v = make(&mut b).expect("a value");
        store_all(&mut b, &[v]);
        let k = b.finish();
        let err = Jit::compile(std::slice::from_ref(&k)).err();
        assert!(
            matches!(err, Some(JitError::Malformed { .. })),
            "{what}: {err:?}"
        );
        assert!(clif_text(&k).is_err(), "{what}");
    }
}

#[test]
fn lengths_read_from_data_are_checked() {
    // out[i] = d[1 + i] for i in 0..J, J = d[0].
    let mut b = Builder::new("data");
    let (z, o, one) = (b.i(0), b.i(1), b.i(1));
    let jf = b.load(Buf::D, z, one, false);
    let j = b.ftoi(jf);
    let dl = b.iadd(o, j);
    b.for_loop(z, j, |b, i| {
        let at = b.iadd(o, i);
        let v = b.load(Buf::D, at, dl, true);
        b.store(Buf::Out, i, j, v, true);
    });
    // Work the length check does not need.
    let s = b.reduce(RedOp::Sum, z, j, |b, i| {
        let x = b.itof(i);
        let y = b.mul(x, x);
        b.call(crate::ir::MathFn::Exp, vec![y])
    });
    let s = b.fun(FUn::Sqrt, s);
    b.store(Buf::Out, z, j, s, true);
    let k = b.finish();
    let jit = Jit::compile(std::slice::from_ref(&k)).expect("compiles");
    // The check computes `d[0]` and `1 + J` from the six values they need.
    let check = jit.lengths("data").and_then(|l| l.as_ref().ok());
    assert_eq!(check.and_then(|c| c.computed_values()), Some(6));
    assert!(k.types.len() > 10);
    let run = |d: &[f64], out: &mut [f64]| {
        jit.call(
            "data",
            &mut Args {
                t: 0.0,
                x: &mut [],
                p: &mut [],
                d,
                aux: &[],
                rng: None,
                out,
            },
        )
    };
    let mut out = [0.0; 3];
    assert!(run(&[3.0, 1.0, 2.0, 3.0], &mut out).is_ok());
    let e = |i: f64| (i * i).exp();
    assert_eq!(out, [(e(0.0) + e(1.0) + e(2.0)).sqrt(), 2.0, 3.0]);
    assert!(matches!(
        run(&[3.0, 1.0, 2.0, 3.0], &mut out[..2]),
        Err(JitError::BufferTooShort {
            buf: Buf::Out,
            needed: 3,
            len: 2,
            ..
        })
    ));
    let mut short = [0.0; 2];
    assert!(run(&[2.0, 1.0, 2.0], &mut short).is_ok());
    assert!(run(&[4.0, 1.0, 2.0, 3.0], &mut out).is_err());
    assert!(run(&[1e300, 1.0], &mut out).is_err());
    // `d[0]` itself is read unchecked.
    assert!(matches!(
        run(&[], &mut out),
        Err(JitError::BufferTooShort { buf: Buf::D, .. })
    ));
}

#[test]
fn clif_text_names_the_runtime() {
    let mut b = Builder::new("text");
    let x = b.f(2.5);
    let r = b.fun(FUn::Round, x);
    store_all(&mut b, &[r]);
    let text = clif_text(&b.finish()).expect("prints");
    assert!(text.contains("function %text"), "{text}");
    assert!(text.contains("%ito_round"), "{text}");
}

#[test]
fn comparisons_with_nan_are_ordered_except_ne() {
    let cases = [
        (f64::NAN, 1.0),
        (1.0, f64::NAN),
        (f64::NAN, f64::NAN),
        (1.0, 1.0),
        (1.0, 2.0),
        (-0.0, 0.0),
    ];
    let cmps = [Cmp::Eq, Cmp::Ne, Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge];
    let d: Vec<f64> = cases.iter().flat_map(|&(a, b)| [a, b]).collect();
    let mut b = Builder::new("fcmp");
    let v = loads(&mut b, d.len());
    let mut results = Vec::new();
    for pair in v.chunks(2) {
        for c in cmps {
            results.push(b.fcmp(c, pair[0], pair[1]));
        }
    }
    store_all(&mut b, &results);
    let k = b.finish();
    let r = both(&k, &[], &[], &d, &vec![0.0; results.len()]);
    let mut want = Vec::new();
    for &(x, y) in &cases {
        want.extend([x == y, x != y, x < y, x <= y, x > y, x >= y].map(|t| f64::from(u8::from(t))));
    }
    assert_eq!(r.out, want);
    // NaN: only `!=` holds.
    assert_eq!(&r.out[..6], &[0.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
}

#[test]
fn checked_accesses_with_run_time_indices() {
    // The same as above with indices and lengths only known at run time (read from `d`).
    let idx = [-1.0, 0.0, 2.0, 3.0, 100.0, -1e300, 1e300, f64::NAN];
    let mut d = vec![10.0, 20.0, 30.0, 3.0];
    d.extend(idx);
    let mut b = Builder::new("checked_rt");
    let dl = b.i(d.len() as i64);
    let three = b.i(3);
    let lenf = b.load(Buf::D, three, dl, false);
    let len = b.ftoi(lenf);
    let mut results = Vec::new();
    for j in 0..idx.len() {
        let at = b.i(4 + j as i64);
        let f = b.load(Buf::D, at, dl, false);
        let i = b.ftoi(f);
        results.push(b.load(Buf::D, i, len, true));
        // Store at the same index into `out[8..10]` (len 2, offset 8): mostly skipped.
        let eight = b.i(8);
        let at = b.iadd(i, eight);
        let ten = b.i(10);
        let x = b.f(-(j as f64));
        b.store(Buf::Out, at, ten, x, true);
    }
    store_all(&mut b, &results);
    let k = b.finish();
    let r = both(&k, &[], &[], &d, &[7.0; 10]);
    let want_loads = [
        f64::NAN,
        10.0,
        30.0,
        f64::NAN,
        f64::NAN,
        f64::NAN,
        f64::NAN,
        10.0,
    ];
    for (a, w) in r.out[..8].iter().zip(want_loads) {
        assert!(same(*a, w), "{:?}", r.out);
    }
    // Index -1 stored to out[7] (then overwritten by the loads), 0 → out[8] (j = 1 and
    // j = 7, NaN → 0), 2 and beyond skipped.
    assert_eq!(&r.out[8..], &[-7.0, 7.0]);
}
