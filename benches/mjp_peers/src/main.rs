//! Side-by-side benchmark of ito's exact SSA against rebop (crates.io), one thread.
//!
//! Per model and implementation: trajectories/s (median of `--runs` runs of M trajectories
//! each, M chosen so that a run lasts at least `--min-secs`), events per trajectory and
//! events/s. Every trajectory starts from the model's initial state with its own seed,
//! runs from t = 0 to t_end and records the whole state at t = 0, every, 2 every, …, t_end
//! (rebop: `advance_until` to each recording time, then the species copied out).
//!
//! rebop's figures come from this process; ito's from `ito run FILE --method ssa|nrm
//! --threads 1 --paths M --seed S --t-end T --every E --out FILE.csv --summary` run as a
//! child process: its run time is the one on ito's last stderr line (simulation and
//! recording, after parsing and JIT compilation); the compile time reported beside it is
//! the process's wall time minus that run time (start-up, parsing, checking, lowering,
//! Cranelift, writing the summary).
//!
//! Usage:
//!   mjp_peers gen-models DIR        write the generated ito models (ring_*.sde) to DIR
//!   mjp_peers bench [--models a,b] [--impls macro,runtime,sparse,ssa,nrm] [--runs 5]
//!                   [--min-secs 1] [--ito PATH] [--root REPO] [--json FILE]
//!                   [--quiet-load L]  (wait before each model until the load average < L)
//!   mjp_peers list                  the models

use mjp_peers::{Sim, macro_models, ring, runtime_models};

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

struct Model {
    name: &'static str,
    /// ito model file, relative to the repository root.
    sde: &'static str,
    t_end: f64,
    every: f64,
    /// What the table says about it.
    about: &'static str,
    macro_api: Option<fn() -> Box<dyn Sim>>,
    runtime: fn(bool) -> runtime_models::Runtime,
    /// Whether rebop's dense run-time representation is worth timing (not for the rings:
    /// O(n) per reaction, O(n²) per event).
    dense: bool,
}

fn models() -> Vec<Model> {
    use macro_models as m;
    use runtime_models as r;
    vec![
        Model {
            name: "vilar",
            sde: "examples/vilar.sde",
            t_end: 200.0,
            every: 1.0,
            about: "Vilar oscillator, 9 species, 16 reactions",
            macro_api: Some(m::vilar),
            runtime: r::vilar,
            dense: true,
        },
        Model {
            name: "dimerisation",
            sde: "examples/dimerisation.sde",
            t_end: 200.0,
            every: 1.0,
            about: "2 P <-> P2, P(0) = 301",
            macro_api: Some(m::dimerisation),
            runtime: r::dimerisation,
            dense: true,
        },
        Model {
            name: "birth_death",
            sde: "benches/mjp_peers/models/birth_death.sde",
            t_end: 200.0,
            every: 1.0,
            about: "X -> 2X (1), X -> 0 (1.01), X(0) = 1000",
            macro_api: Some(m::birth_death),
            runtime: r::birth_death,
            dense: true,
        },
        Model {
            name: "sir_10k",
            sde: "benches/mjp_peers/models/sir_10k.sde",
            t_end: 200.0,
            every: 1.0,
            about: "SIR, N = 10^4, I(0) = 10",
            macro_api: Some(m::sir),
            runtime: r::sir,
            dense: true,
        },
        Model {
            name: "ring_1000",
            sde: "benches/mjp_peers/models/ring_1000.sde",
            t_end: ring::T_END,
            every: 1.0,
            about: "ring of 1,000 conversions A_i -> A_i+1",
            macro_api: Some(m::ring_1000),
            runtime: |s| r::ring(1000, s),
            dense: false,
        },
        Model {
            name: "ring_5000",
            sde: "benches/mjp_peers/models/ring_5000.sde",
            t_end: ring::T_END,
            every: 1.0,
            about: "ring of 5,000 conversions A_i -> A_i+1",
            #[cfg(feature = "macro5000")]
            macro_api: Some(m::ring_5000),
            #[cfg(not(feature = "macro5000"))]
            macro_api: None,
            runtime: |s| r::ring(5000, s),
            dense: false,
        },
    ]
}

/// The implementations compared, in table order.
const IMPLS: [(&str, &str); 5] = [
    ("macro", "rebop define_system!"),
    ("runtime", "rebop Gillespie (dense)"),
    ("sparse", "rebop Gillespie (sparse)"),
    ("ssa", "ito --method ssa"),
    ("nrm", "ito --method nrm"),
];

struct Opts {
    models: Option<Vec<String>>,
    impls: Vec<String>,
    runs: usize,
    min_secs: f64,
    ito: Option<PathBuf>,
    root: PathBuf,
    json: Option<PathBuf>,
    seed: u64,
    quiet_load: Option<f64>,
}

fn parse_opts(args: &[String]) -> Opts {
    let mut o = Opts {
        models: None,
        impls: IMPLS.iter().map(|(k, _)| k.to_string()).collect(),
        runs: 5,
        min_secs: 1.0,
        ito: None,
        root: PathBuf::from("."),
        json: None,
        seed: 1,
        quiet_load: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| die(&format!("{a} needs a value"))).clone();
        match a.as_str() {
            "--models" => o.models = Some(val().split(',').map(String::from).collect()),
            "--impls" => o.impls = val().split(',').map(String::from).collect(),
            "--runs" => o.runs = val().parse().unwrap_or_else(|_| die("--runs: a number")),
            "--min-secs" => o.min_secs = val().parse().unwrap_or_else(|_| die("--min-secs: a number")),
            "--ito" => o.ito = Some(PathBuf::from(val())),
            "--root" => o.root = PathBuf::from(val()),
            "--json" => o.json = Some(PathBuf::from(val())),
            "--quiet-load" => o.quiet_load = Some(val().parse().unwrap_or_else(|_| die("--quiet-load: a number"))),
            "--seed" => o.seed = val().parse().unwrap_or_else(|_| die("--seed: a number")),
            _ => die(&format!("unknown option {a}")),
        }
    }
    for i in &o.impls {
        if !IMPLS.iter().any(|(k, _)| k == i) {
            die(&format!("unknown implementation {i} (macro, runtime, sparse, ssa, nrm)"));
        }
    }
    o
}

fn die(msg: &str) -> ! {
    eprintln!("mjp_peers: {msg}");
    std::process::exit(2)
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = s.len();
    if n % 2 == 1 { s[n / 2] } else { 0.5 * (s[n / 2 - 1] + s[n / 2]) }
}

/// The recording times 0, every, 2 every, …, t_end (as ito's --every does: multiples of
/// every, then t_end itself).
fn recording_times(t_end: f64, every: f64) -> Vec<f64> {
    let n = (t_end / every - 1e-9).ceil() as usize;
    let mut t: Vec<f64> = (0..n).map(|k| k as f64 * every).collect();
    t.push(t_end);
    t
}

/// Simulates trajectories seed0 .. seed0 + m; returns the seconds taken and a checksum of
/// the recorded states (so that nothing can be optimised away).
fn rebop_batch(sim: &mut dyn Sim, m: usize, seed0: u64, times: &[f64], rec: &mut Vec<i64>) -> (f64, i64) {
    let start = Instant::now();
    let mut sum = 0i64;
    for p in 0..m {
        sim.reset(seed0 + p as u64);
        rec.clear();
        sim.record(rec);
        for &t in &times[1..] {
            sim.advance_until(t);
            sim.record(rec);
        }
        sum = sum.wrapping_add(rec.iter().sum::<i64>());
    }
    (start.elapsed().as_secs_f64(), sum)
}

/// Picks the batch size: grows it until a batch takes a tenth of `min_secs`, then scales
/// it up to `min_secs` with a 20% margin, until a batch of that size has lasted
/// `min_secs` (the batch size returned is one that has).
fn calibrate(min_secs: f64, mut time_of: impl FnMut(usize) -> f64) -> usize {
    let mut m = 1usize;
    loop {
        let s = time_of(m);
        if s >= min_secs {
            return m;
        }
        m = if s >= 0.1 * min_secs {
            (((m as f64) * 1.2 * min_secs / s).ceil() as usize).max(m + 1)
        } else {
            let grow = if s > 0.0 { (0.2 * min_secs / s).ceil() } else { 100.0 };
            (m as f64 * grow.clamp(2.0, 100.0)) as usize
        };
    }
}

struct Row {
    model: String,
    imp: String,
    paths: usize,
    run_secs: Vec<f64>,
    /// ito: wall time minus run time of each run.
    compile_secs: Vec<f64>,
    events_per_traj: f64,
    /// How the event count was obtained.
    events_from: String,
}

impl Row {
    fn traj_per_s(&self) -> f64 {
        self.paths as f64 / median(&self.run_secs)
    }
    fn events_per_s(&self) -> f64 {
        self.traj_per_s() * self.events_per_traj
    }
    fn json(&self, load_before: f64, load_after: f64) -> String {
        let list = |v: &[f64]| v.iter().map(|x| format!("{x:.6}")).collect::<Vec<_>>().join(",");
        format!(
            "{{\"model\":\"{}\",\"impl\":\"{}\",\"paths_per_run\":{},\"run_secs\":[{}],\"compile_secs\":[{}],\"median_run_s\":{:.6},\"traj_per_s\":{:.4},\"events_per_traj\":{:.1},\"events_per_s\":{:.0},\"events_from\":\"{}\",\"loadavg_before\":{:.2},\"loadavg_after\":{:.2}}}",
            self.model,
            self.imp,
            self.paths,
            list(&self.run_secs),
            list(&self.compile_secs),
            median(&self.run_secs),
            self.traj_per_s(),
            self.events_per_traj,
            self.events_per_s(),
            self.events_from,
            load_before,
            load_after
        )
    }
}

/// Mean events per trajectory through rebop's run-time API, one reaction at a time: at
/// least 3 paths, then more until 2 s have passed (at most 200).
fn count_rebop_events(model: &Model, seed: u64) -> (f64, usize) {
    let mut sim = (model.runtime)(true);
    let start = Instant::now();
    let mut total = 0u64;
    let mut n = 0usize;
    while n < 3 || (n < 200 && start.elapsed().as_secs_f64() < 2.0) {
        total += sim.count_events(seed + 1_000_000 + n as u64, model.t_end);
        n += 1;
    }
    (total as f64 / n as f64, n)
}

/// One implementation of one model, calibrated; its runs are interleaved with the other
/// implementations' (run 1 of each, then run 2 of each, …) so that a change in the
/// machine's load during a model touches them all alike.
struct Job<'a> {
    imp: String,
    kind: Kind<'a>,
    paths: usize,
    run_secs: Vec<f64>,
    compile_secs: Vec<f64>,
    /// ito's event counts per path, one per run.
    events: Vec<f64>,
}

enum Kind<'a> {
    Rebop { sim: Box<dyn Sim>, times: Vec<f64>, rec: Vec<i64>, check: i64 },
    Ito { ito: &'a PathBuf, file: PathBuf, out: PathBuf },
}

impl<'a> Job<'a> {
    /// Builds and calibrates `imp` for `model`; `None` when it does not apply.
    fn new(model: &'a Model, imp: &str, o: &'a Opts) -> Option<Job<'a>> {
        let mut kind = match imp {
            "macro" => Kind::Rebop {
                sim: (model.macro_api?)(),
                times: recording_times(model.t_end, model.every),
                rec: Vec::new(),
                check: 0,
            },
            "runtime" | "sparse" => {
                if imp == "runtime" && !model.dense {
                    return None;
                }
                Kind::Rebop {
                    sim: Box::new((model.runtime)(imp == "sparse")),
                    times: recording_times(model.t_end, model.every),
                    rec: Vec::new(),
                    check: 0,
                }
            }
            _ => Kind::Ito {
                ito: o.ito.as_ref()?,
                file: o.root.join(model.sde),
                out: std::env::temp_dir()
                    .join(format!("mjp_peers_{}_summary.csv", std::process::id())),
            },
        };
        let mut seed = o.seed + 10_000_000;
        let paths = calibrate(o.min_secs, |m| {
            let r = once(&mut kind, model, imp, m, seed);
            seed += m as u64;
            r.1
        });
        Some(Job {
            imp: imp.into(),
            kind,
            paths,
            run_secs: Vec::new(),
            compile_secs: Vec::new(),
            events: Vec::new(),
        })
    }

    fn run(&mut self, model: &Model, r: usize, o: &Opts) {
        let seed = o.seed + (r * self.paths) as u64;
        let (wall, run, ev) = once(&mut self.kind, model, &self.imp, self.paths, seed);
        self.run_secs.push(run);
        if matches!(self.kind, Kind::Ito { .. }) {
            self.compile_secs.push(wall - run);
        }
        self.events.extend(ev);
    }

    fn row(self, model: &Model, rebop_events: f64, rebop_from: &str) -> Row {
        if let Kind::Rebop { check, .. } = &self.kind {
            std::hint::black_box(*check);
        }
        let (events_per_traj, events_from) = match self.kind {
            Kind::Rebop { .. } => (rebop_events, rebop_from.to_string()),
            Kind::Ito { out, .. } => {
                let _ = std::fs::remove_file(out);
                if self.events.is_empty() {
                    (f64::NAN, "not reported".to_string())
                } else {
                    (
                        self.events.iter().sum::<f64>() / self.events.len() as f64,
                        format!("ito's count, {} paths", self.paths * self.events.len()),
                    )
                }
            }
        };
        Row {
            model: model.name.into(),
            imp: self.imp,
            paths: self.paths,
            run_secs: self.run_secs,
            compile_secs: self.compile_secs,
            events_per_traj,
            events_from,
        }
    }
}

/// One run of m trajectories: (wall s, run s, ito's events per path).
fn once(kind: &mut Kind, model: &Model, imp: &str, m: usize, seed: u64) -> (f64, f64, Option<f64>) {
    match kind {
        Kind::Rebop { sim, times, rec, check } => {
            let (s, c) = rebop_batch(sim.as_mut(), m, seed, times, rec);
            *check = check.wrapping_add(c);
            (s, s, None)
        }
        Kind::Ito { ito, file, out } => ito_once(ito, file, model, imp, m, seed, out),
    }
}

/// The 1-minute load average (other work on the machine skews the figures).
fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// With --quiet-load L: wait (at most 10 minutes) until the 1-minute load average is below L.
fn wait_quiet(o: &Opts) {
    let Some(limit) = o.quiet_load else { return };
    let start = Instant::now();
    let mut said = false;
    while loadavg() >= limit && start.elapsed().as_secs() < 600 {
        if !said {
            eprintln!("waiting for the load average ({:.2}) to fall below {limit}", loadavg());
            said = true;
        }
        std::thread::sleep(std::time::Duration::from_secs(5));
    }
}

/// One `ito run`: (wall seconds, run seconds from the stderr line, events per path).
fn ito_once(ito: &PathBuf, file: &PathBuf, model: &Model, method: &str, paths: usize, seed: u64, out: &PathBuf) -> (f64, f64, Option<f64>) {
    let start = Instant::now();
    let res = Command::new(ito)
        .arg("run")
        .arg(file)
        .args(["--method", method, "--threads", "1"])
        .args(["--paths", &paths.to_string(), "--seed", &seed.to_string()])
        .args(["--t-end", &model.t_end.to_string(), "--every", &model.every.to_string()])
        .arg("--out")
        .arg(out)
        .arg("--summary")
        .output()
        .unwrap_or_else(|e| die(&format!("cannot start {}: {e}", ito.display())));
    let wall = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&res.stderr);
    if !res.status.success() {
        die(&format!("ito run {} --method {method} failed:\n{stderr}", file.display()));
    }
    let last = stderr.lines().rev().find(|l| l.starts_with("ran ")).unwrap_or_else(|| {
        die(&format!("no `ran …` line in ito's stderr:\n{stderr}"))
    });
    let run = parse_run_secs(last).unwrap_or_else(|| die(&format!("cannot read the time in: {last}")));
    let events = parse_events(last).map(|e| e / paths as f64);
    (wall, run, events)
}

/// `… in 1.234 s` at the end of ito's last line.
fn parse_run_secs(line: &str) -> Option<f64> {
    let rest = line.trim_end().strip_suffix(" s")?;
    rest[rest.rfind(" in ")? + 4..].trim().parse().ok()
}

/// `(123456 events, …` in ito's last line: the total over all paths.
fn parse_events(line: &str) -> Option<f64> {
    let end = line.find(" events")?;
    let start = line[..end].rfind(|c: char| !c.is_ascii_digit())? + 1;
    line[start..end].parse().ok()
}

fn fmt_rate(x: f64) -> String {
    if !x.is_finite() {
        "–".into()
    } else if x >= 1e6 {
        format!("{:.1} M", x / 1e6)
    } else if x >= 1e4 {
        format!("{:.0} k", x / 1e3)
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn table(models: &[Model], rows: &[Row], impls: &[String]) -> String {
    let cols: Vec<(&str, &str)> = IMPLS.iter().copied().filter(|(k, _)| impls.iter().any(|i| i == k)).collect();
    let find = |m: &str, i: &str| rows.iter().find(|r| r.model == m && r.imp == i);
    let mut s = String::new();
    for (title, f) in [
        ("trajectories/s", Row::traj_per_s as fn(&Row) -> f64),
        ("events/s", Row::events_per_s as fn(&Row) -> f64),
    ] {
        write!(s, "\n{title} (median of runs), one thread\n\n| model | events/traj |").unwrap();
        for (_, label) in &cols {
            write!(s, " {label} |").unwrap();
        }
        if title == "trajectories/s" && cols.iter().any(|(k, _)| *k == "ssa" || *k == "nrm") {
            s.push_str(" ito compile (ssa) | ito ssa / macro |");
        }
        s.push('\n');
        s.push_str("|---|---:|");
        for _ in &cols {
            s.push_str("---:|");
        }
        if title == "trajectories/s" && cols.iter().any(|(k, _)| *k == "ssa" || *k == "nrm") {
            s.push_str("---:|---:|");
        }
        s.push('\n');
        for m in models {
            if !rows.iter().any(|r| r.model == m.name) {
                continue;
            }
            let ev = rows
                .iter()
                .find(|r| r.model == m.name && !r.imp.starts_with('s') && r.imp != "nrm" && r.events_per_traj.is_finite())
                .or_else(|| rows.iter().find(|r| r.model == m.name && r.events_per_traj.is_finite()))
                .map(|r| r.events_per_traj);
            write!(s, "| {} | {} |", m.name, ev.map_or("–".into(), fmt_rate)).unwrap();
            for (k, _) in &cols {
                let v = find(m.name, k).map_or(f64::NAN, f);
                write!(s, " {} |", fmt_rate(v)).unwrap();
            }
            if title == "trajectories/s" && cols.iter().any(|(k, _)| *k == "ssa" || *k == "nrm") {
                let comp = find(m.name, "ssa").filter(|r| !r.compile_secs.is_empty()).map(|r| median(&r.compile_secs));
                let ratio = match (find(m.name, "ssa"), find(m.name, "macro")) {
                    (Some(a), Some(b)) => format!("{:.2}×", a.traj_per_s() / b.traj_per_s()),
                    _ => "–".into(),
                };
                write!(s, " {} | {ratio} |", comp.map_or("–".into(), |c| format!("{:.0} ms", c * 1e3))).unwrap();
            }
            s.push('\n');
        }
    }
    s
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("gen-models") => {
            let dir = PathBuf::from(args.get(1).unwrap_or_else(|| die("gen-models DIR")));
            for n in [1000, 5000] {
                let p = dir.join(format!("ring_{n}.sde"));
                std::fs::write(&p, ring::sde(n)).unwrap_or_else(|e| die(&format!("{}: {e}", p.display())));
                eprintln!("wrote {}", p.display());
            }
        }
        Some("list") => {
            for m in models() {
                println!("{:14} {:40} {} (t_end {}, every {})", m.name, m.about, m.sde, m.t_end, m.every);
            }
        }
        Some("bench") => {
            let o = parse_opts(&args[1..]);
            let all = models();
            let chosen: Vec<&Model> = all
                .iter()
                .filter(|m| o.models.as_ref().is_none_or(|l| l.iter().any(|n| n == m.name)))
                .collect();
            if let Some(l) = &o.models {
                for n in l {
                    if !all.iter().any(|m| m.name == n) {
                        die(&format!("unknown model {n} (see `mjp_peers list`)"));
                    }
                }
            }
            let mut rows: Vec<Row> = Vec::new();
            let mut json = String::new();
            for model in chosen {
                let wants_rebop = o.impls.iter().any(|i| matches!(i.as_str(), "macro" | "runtime" | "sparse"));
                let (events, from) = if wants_rebop {
                    let (e, n) = count_rebop_events(model, o.seed);
                    (e, format!("rebop run-time API one reaction at a time, mean of {n} paths"))
                } else {
                    (f64::NAN, String::new())
                };
                wait_quiet(&o);
                let load_before = loadavg();
                let mut jobs: Vec<Job> = o.impls.iter().filter_map(|i| Job::new(model, i, &o)).collect();
                for r in 0..o.runs {
                    for job in &mut jobs {
                        job.run(model, r, &o);
                    }
                }
                let load_after = loadavg();
                eprintln!("{}: load average {load_before:.2} before the runs, {load_after:.2} after", model.name);
                for job in jobs {
                    let row = job.row(model, events, &from);
                    eprintln!(
                        "{:14} {:8} {:>7} paths/run, median {:.3} s (runs {}): {} traj/s, {:.0} events/traj, {} events/s{}",
                        row.model,
                        row.imp,
                        row.paths,
                        median(&row.run_secs),
                        row.run_secs.iter().map(|s| format!("{s:.3}")).collect::<Vec<_>>().join(" "),
                        fmt_rate(row.traj_per_s()),
                        row.events_per_traj,
                        fmt_rate(row.events_per_s()),
                        if row.compile_secs.is_empty() {
                            String::new()
                        } else {
                            format!(", compile {:.0} ms", median(&row.compile_secs) * 1e3)
                        }
                    );
                    json.push_str(&row.json(load_before, load_after));
                    json.push('\n');
                    rows.push(row);
                }
            }
            if let Some(p) = &o.json {
                std::fs::write(p, &json).unwrap_or_else(|e| die(&format!("{}: {e}", p.display())));
            }
            print!("{}", table(&all, &rows, &o.impls));
        }
        _ => die("usage: mjp_peers gen-models DIR | list | bench [options] (see src/main.rs)"),
    }
}
