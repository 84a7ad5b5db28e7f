//! Writes rebop `define_system!` definitions of the ring networks (src/ring.rs describes
//! them) to OUT_DIR, one file per size, included by src/macro_models.rs.
use std::fmt::Write as _;

#[path = "src/ring.rs"]
#[allow(dead_code)]
mod ring;

fn main() {
    println!("cargo::rerun-if-changed=src/ring.rs");
    println!("cargo::rerun-if-changed=build.rs");
    let out = std::env::var("OUT_DIR").unwrap();
    let mut sizes = vec![1000];
    if std::env::var_os("CARGO_FEATURE_MACRO5000").is_some() {
        sizes.push(5000);
    }
    for n in sizes {
        let mut s = String::new();
        writeln!(s, "rebop::define_system! {{").unwrap();
        writeln!(s, "    ;").unwrap();
        let species: Vec<String> = (1..=n).map(|i| format!("A{i}")).collect();
        writeln!(s, "    Ring{n} {{ {} }}", species.join(", ")).unwrap();
        for (k, (from, to)) in ring::reactions(n).into_iter().enumerate() {
            writeln!(s, "    r{}: A{} => A{} @ {:?}", k + 1, from + 1, to + 1, ring::RATE).unwrap();
        }
        writeln!(s, "}}").unwrap();
        // The harness's `Sim` for it: every species back to PER_SPECIES, recorded in order.
        writeln!(s, "impl crate::Sim for Ring{n} {{").unwrap();
        writeln!(s, "    fn reset(&mut self, seed: u64) {{").unwrap();
        writeln!(s, "        self.t = 0.0;").unwrap();
        writeln!(s, "        self.seed(seed);").unwrap();
        for sp in &species {
            writeln!(s, "        self.{sp} = crate::ring::PER_SPECIES as isize;").unwrap();
        }
        writeln!(s, "    }}").unwrap();
        writeln!(s, "    fn advance_until(&mut self, t: f64) {{ Ring{n}::advance_until(self, t) }}").unwrap();
        writeln!(s, "    fn record(&self, out: &mut Vec<i64>) {{").unwrap();
        for sp in &species {
            writeln!(s, "        out.push(self.{sp} as i64);").unwrap();
        }
        writeln!(s, "    }}").unwrap();
        writeln!(s, "}}").unwrap();
        std::fs::write(format!("{out}/ring_{n}.rs"), s).unwrap();
    }
}

