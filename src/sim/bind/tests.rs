use super::*;
use crate::frontend::{Compilation, Options, compile_source};
use crate::sim::data::{from_csv, from_json};
use std::path::PathBuf;

fn compile(src: &str) -> Compilation {
    let c = compile_source("test.sde", src, &Options::default());
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    c
}

fn settings(sets: &[&str]) -> Vec<Setting> {
    sets.iter().map(|s| Setting::parse(s).unwrap()).collect()
}

fn json_data(text: &str) -> DataSet {
    DataSet {
        path: Some(PathBuf::from("d.json")),
        values: from_json(text).unwrap(),
        ..Default::default()
    }
}

/// Bind the only model of `c`; `partial` leaves parameters without values unset.
fn bind_in(c: &Compilation, sets: &[&str], data: &DataSet, partial: bool) -> Result<Bound, String> {
    let m = &c.program.models[0];
    let lm = c.lowered.iter().find(|l| l.name == m.name).unwrap();
    let f = if partial { bind_partial } else { bind };
    f(lm, m, &settings(sets), data)
}

fn span(name: &str, offset: usize, dims: &[usize]) -> SlotSpan {
    SlotSpan {
        name: name.to_string(),
        offset,
        dims: dims.to_vec(),
    }
}

fn example(name: &str) -> String {
    let path = format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn eight_schools_binds_from_its_data_file() {
    let c = compile(&example("eight_schools.sde"));
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/eight_schools.data.json");
    let data = DataSet::read(&path).unwrap();
    let b = bind_in(&c, &[], &data, true).unwrap();
    assert_eq!(
        b.d_slots,
        [
            span("J", 0, &[]),
            span("y", 1, &[8]),
            span("sigma", 9, &[8])
        ]
    );
    assert_eq!(
        b.p_slots,
        [
            span("mu", 0, &[]),
            span("tau", 1, &[]),
            span("eta", 2, &[8])
        ]
    );
    assert_eq!(b.d[..3], [8.0, 28.0, 8.0]);
    assert_eq!(b.d[9..], [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0]);
    assert_eq!(b.p.len(), 10);
    assert!(
        b.p.iter().all(|v| v.is_nan()),
        "no defaults: left for inference"
    );
    assert_eq!(b.sizes[size_index::P], 10);
    assert!(b.unused_data.is_empty());

    // A simulation needs every parameter; --set gives them, at the computed lengths.
    let e = bind_in(&c, &[], &data, false).unwrap_err();
    assert!(e.contains("parameter `mu` has no value"), "{e}");
    let sets = ["mu=1", "tau=2", "eta=[1,2,3,4,5,6,7,8]"];
    let b = bind_in(&c, &sets, &data, false).unwrap();
    assert_eq!(b.p, [1.0, 2.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    assert_eq!(b.param_values, [("mu".into(), 1.0), ("tau".into(), 2.0)]);
    let e = bind_in(&c, &["eta=[1,2]"], &data, true).unwrap_err();
    assert_eq!(
        e,
        "--set eta: `eta` (real[J]) has 8 elements, the value gives 2"
    );
}

#[test]
fn csv_vectors_bind_and_their_size_is_inferred() {
    let c = compile(&example("poisson_regression.sde"));
    let data = DataSet {
        path: Some(PathBuf::from("d.csv")),
        values: from_csv("x,y,note\n-1,0,7\n0,2,7\n1.5,5,7\n").unwrap(),
        ..Default::default()
    };
    let b = bind_in(&c, &[], &data, true).unwrap();
    assert_eq!(b.d, [3.0, -1.0, 0.0, 1.5, 0.0, 2.0, 5.0]);
    assert_eq!(
        b.d_slots,
        [span("N", 0, &[]), span("x", 1, &[3]), span("y", 4, &[3])]
    );
    assert_eq!(b.unused_data, ["note"]);
    // A given N is checked against the vectors, not replaced.
    let e = bind_in(&c, &["N=4"], &data, true).unwrap_err();
    assert_eq!(e, "data `x` has 3 elements, but its declared size `N` is 4");
}

const PULL: &str = "
model Pull {
  const K = 2
  data N: int<lower=1>
  data m: real[N]
  data w: real<lower=0, upper=10>[N]
  data grid: int<lower=0>[N, K]
  data on: bool
  let M = 2 * N
  param k: real<lower=0>[N] = 1.5
  param s: real<lower=0> = 0.1
  state x: real[N] = 0
  state z: real[M] = 0
  dx = -k * w * (x - m) dt + s dW
  dz = -z dt
}
";

const PULL_DATA: &str =
    r#"{"N": 2, "m": [1, 2], "w": [1, 3], "grid": [[1, 2], [3, 4]], "on": true}"#;

#[test]
fn data_dependent_states_and_parameters_get_their_lengths() {
    let c = compile(PULL);
    let b = bind_in(&c, &[], &json_data(PULL_DATA), false).unwrap();
    assert_eq!(b.x_slots, [span("x", 0, &[2]), span("z", 2, &[4])]);
    assert_eq!(b.p_slots, [span("s", 0, &[]), span("k", 1, &[2])]);
    assert_eq!(b.p, [0.1, 1.5, 1.5]);
    assert_eq!(b.sizes[size_index::X], 6);
    assert_eq!(
        b.d,
        [2.0, 1.0, 1.0, 2.0, 1.0, 3.0, 1.0, 2.0, 3.0, 4.0],
        "scalars (N, on), then m, w, grid row-major"
    );
    // --set replaces the file's value; arrays too.
    let b = bind_in(&c, &["m=[5, 6]", "k=[2, 3]"], &json_data(PULL_DATA), false).unwrap();
    assert_eq!(b.d[2..4], [5.0, 6.0]);
    assert_eq!(b.p, [0.1, 2.0, 3.0]);
}

/// Every error of one binding, with what caused it.
#[test]
fn binding_errors_name_the_variable() {
    let c = compile(PULL);
    let with = |patch: &str| {
        let mut v: serde_json::Value = serde_json::from_str(PULL_DATA).unwrap();
        let p: serde_json::Value = serde_json::from_str(patch).unwrap();
        for (k, x) in p.as_object().unwrap() {
            if x.is_null() {
                v.as_object_mut().unwrap().remove(k);
            } else {
                v[k] = x.clone();
            }
        }
        json_data(&v.to_string())
    };
    let cases: &[(&str, &[&str])] = &[
        (r#"{"m": [1, 2, 3]}"#, &[]),
        (r#"{"m": 1}"#, &[]),
        (r#"{"m": [[1, 2]]}"#, &[]),
        (r#"{"N": [2]}"#, &[]),
        (r#"{"grid": [[1, 2, 3], [4, 5, 6]]}"#, &[]),
        (r#"{"grid": [[1, 2], [3, 4.5]]}"#, &[]),
        (r#"{"grid": [[1, 2], [3, -4]]}"#, &[]),
        (r#"{"N": 1.5}"#, &[]),
        (r#"{"N": 0, "m": [], "w": [], "grid": []}"#, &[]),
        (r#"{"on": 2}"#, &[]),
        (r#"{"w": [1, 11]}"#, &[]),
        (r#"{"w": null}"#, &[]),
        (r#"{"w": null, "N": null}"#, &[]),
        ("{}", &["m=[1,2,3]"]),
        ("{}", &["m=[1,\"a\"]"]),
        ("{}", &["N=x"]),
        ("{}", &["k=[1,-2]"]),
        ("{}", &["k=[1,2,3]"]),
        ("{}", &["s=-1"]),
        ("{}", &["nope=1"]),
    ];
    let mut out = String::new();
    for (patch, sets) in cases {
        let e = bind_in(&c, sets, &with(patch), false).unwrap_err();
        out += &format!("{patch} {sets:?}\n  {e}\n");
    }
    let none = DataSet::default();
    for sets in [&[][..], &["N=2"][..]] {
        let e = bind_in(&c, sets, &none, false).unwrap_err();
        out += &format!("no data file {sets:?}\n  {e}\n");
    }
    insta::assert_snapshot!(out);
}

#[test]
fn sizes_that_cannot_be_worked_out() {
    let src = "
model Sizes {
  data N: int
  data y: real[N - 3]
  state x = 0
  dx = -x dt + 0.1 dW
}
";
    let c = compile(src);
    let e = bind_in(&c, &[], &json_data(r#"{"N": 2, "y": []}"#), false).unwrap_err();
    assert_eq!(
        e,
        "the size `N - 3` of `y` is -1; a size cannot be negative"
    );
    let e = bind_in(&c, &[], &json_data(r#"{"N": 1e17, "y": []}"#), false).unwrap_err();
    assert_eq!(e, "data `N` is 100000000000000000, but it is declared int");
    let e = bind_in(&c, &[], &json_data(r#"{"N": 1e15, "y": []}"#), false).unwrap_err();
    assert_eq!(
        e,
        "the size `N - 3` of `y` is 999999999999997, more elements than can be allocated"
    );
    let b = bind_in(&c, &[], &json_data(r#"{"N": 3, "y": []}"#), false).unwrap();
    assert_eq!(b.d_slots, [span("N", 0, &[]), span("y", 1, &[0])]);
}
