//! What an ensemble run writes: every path ([`paths`]), per-time statistics across paths
//! ([`summary`]), an SVG plot ([`plot`]); every file written atomically ([`atomic`]).
//!
//! A run records, for each path index `0..paths` in increasing order (indices of dropped
//! paths skipped), `times.len() × variables.len()` values, row-major by time: variable `v` at
//! time `k` is `values[k * nvars + v]`. [`RunInfo`] describes the run; it is what every file's
//! metadata says. Everything streams: the path writer holds one path at a time, the summary
//! `O(times × variables)` numbers, so an ensemble never has to fit in memory.
//!
//! ```no_run
//! # fn demo(info: ito::sim::output::RunInfo, results: Vec<(usize, Vec<f64>)>) -> std::io::Result<()> {
//! use ito::sim::output::{PathFormat, PathWriter, Recorder, Summary, plot};
//! let paths = PathWriter::create("paths.csv", PathFormat::CsvLong, &info)?;
//! let summary = Summary::new(info.times.len(), info.variables.len());
//! let mut rec = Recorder::new(info, summary, Some(paths), plot::MAX_SAMPLES);
//! for (index, values) in &results {
//!     rec.record(*index, values)?;
//! }
//! let done = rec.finish()?; // writes the paths file; `done.info.dropped` lists skipped indices
//! done.summary.write_csv("summary.csv", &done.info)?;
//! plot::write_svg("plot.svg", &done.info, &done.summary, &done.samples)?;
//! println!("{}", done.summary.table(&done.info, 5));
//! # Ok(()) }
//! ```
//!
//! ## Number formatting
//!
//! Numbers are printed in Rust's shortest round-trip form (`{}` on `f64`, switching to
//! exponent form `{:e}` below 1e-5 and from 1e16 up so that no number prints hundreds of
//! zeros), so parsing a value back gives the same bits. CSV prints non-finite values as `NaN`,
//! `inf`, `-inf`; JSON, which has no such numbers, as `null`.
//!
//! ## Metadata
//!
//! CSV files begin with comment lines `# key: value` (readers skip them with, e.g., pandas'
//! `comment="#"`): `ito`, `model`, `file`, `method`, `dt` (`none` when the method picks its
//! steps), `seed`, `paths` (paths asked for), `t_end`, one `param: name = value` per
//! parameter, and `dropped: i, j, …` when paths were dropped. JSON files hold the same in a
//! `"meta"` object, with `"dropped"` a top-level array (see [`paths`] and [`summary`]).

pub mod atomic;
pub mod paths;
pub mod plot;
pub mod summary;

pub use atomic::{AtomicFile, write_atomic};
pub use paths::{PathFormat, PathWriter};
pub use summary::{CellStats, Summary};

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};

/// Describes a run: what every output file's metadata records.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunInfo {
    /// The model's name.
    pub model: String,
    /// The source file, as given.
    pub file: String,
    /// The integration method's name.
    pub method: String,
    /// The step, for fixed-step methods.
    pub dt: Option<f64>,
    pub seed: u64,
    /// How many paths were asked for.
    pub paths: usize,
    pub t_end: f64,
    /// Parameter values used, in declaration order.
    pub params: Vec<(String, f64)>,
    /// The recorded variables, in the order of a recording's columns.
    pub variables: Vec<String>,
    /// How many of the last `variables` are the model's outputs (`output let`), which the
    /// terminal table shows first.
    pub outputs: usize,
    /// The recording times.
    pub times: Vec<f64>,
    /// The ito version (`env!("CARGO_PKG_VERSION")`).
    pub ito_version: &'static str,
    /// Indices of the paths the run dropped (blow-ups), increasing. Set by the run, or by
    /// [`Recorder::finish`] from the indices it never saw.
    pub dropped: Vec<usize>,
}

impl RunInfo {
    /// Values per recording: `times.len() * variables.len()`.
    pub fn values_per_path(&self) -> usize {
        self.times.len() * self.variables.len()
    }
}

/// Tracks the indices a stream has seen: they must increase; the ones skipped are dropped.
#[derive(Clone, Debug, Default)]
pub(crate) struct Indices {
    next: usize,
    dropped: Vec<usize>,
}

impl Indices {
    /// Notes `index`, recording any indices skipped since the last one.
    pub(crate) fn see(&mut self, index: usize) -> io::Result<()> {
        if index < self.next {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "path {index} recorded after path {} (paths must come in increasing order)",
                    self.next - 1
                ),
            ));
        }
        self.dropped.extend(self.next..index);
        self.next = index + 1;
        Ok(())
    }

    /// The dropped indices, counting every index below `paths` never seen.
    pub(crate) fn finish(mut self, paths: usize) -> Vec<usize> {
        self.dropped.extend(self.next..paths);
        self.dropped
    }
}

/// Fans a run's recordings out to a path writer (optional), a [`Summary`] and the first few
/// paths kept for a plot, and works out which paths were dropped.
pub struct Recorder<W: Write = AtomicFile> {
    info: RunInfo,
    paths: Option<PathWriter<W>>,
    summary: Summary,
    samples: Vec<(usize, Vec<f64>)>,
    max_samples: usize,
    indices: Indices,
}

/// What a [`Recorder`] hands back: `info.dropped` filled in.
pub struct Recorded<W = AtomicFile> {
    pub info: RunInfo,
    pub summary: Summary,
    /// The first paths recorded (up to the recorder's `max_samples`), with their indices.
    pub samples: Vec<(usize, Vec<f64>)>,
    /// The path writer's output when it was not an [`AtomicFile`] (which is committed).
    pub paths: Option<W>,
}

impl<W: Write> Recorder<W> {
    /// A recorder keeping up to `max_samples` whole paths for plotting.
    pub fn new(
        info: RunInfo,
        summary: Summary,
        paths: Option<PathWriter<W>>,
        max_samples: usize,
    ) -> Self {
        let mut summary = summary;
        summary.reserve_paths(info.paths);
        Recorder {
            info,
            paths,
            summary,
            samples: Vec::new(),
            max_samples,
            indices: Indices::default(),
        }
    }

    /// The run's description.
    pub fn info(&self) -> &RunInfo {
        &self.info
    }

    /// Records path `index` (indices must increase; the ones skipped count as dropped).
    pub fn record(&mut self, index: usize, values: &[f64]) -> io::Result<()> {
        let want = self.info.values_per_path();
        if values.len() != want {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("path {index}: {} values, expected {want}", values.len()),
            ));
        }
        self.indices.see(index)?;
        if let Some(p) = &mut self.paths {
            p.write_path(index, values)?;
        }
        self.summary.push(values);
        if self.samples.len() < self.max_samples {
            self.samples.push((index, values.to_vec()));
        }
        Ok(())
    }

    fn finish_inner(self) -> io::Result<(Recorded<W>, Option<PathWriter<W>>)> {
        let Recorder {
            mut info,
            paths,
            summary,
            samples,
            indices,
            ..
        } = self;
        info.dropped = indices.finish(info.paths);
        Ok((
            Recorded {
                info,
                summary,
                samples,
                paths: None,
            },
            paths,
        ))
    }
}

impl Recorder<AtomicFile> {
    /// Ends the run: writes the paths file's tail and commits it, fills in `info.dropped`.
    pub fn finish(self) -> io::Result<Recorded> {
        let (rec, paths) = self.finish_inner()?;
        if let Some(p) = paths {
            p.finish()?.commit()?;
        }
        Ok(rec)
    }
}

impl<W: Write> Recorder<W> {
    /// Ends the run for a path writer into any `W`: its output is returned in `paths`.
    pub fn finish_into(self) -> io::Result<Recorded<W>> {
        let (mut rec, paths) = self.finish_inner()?;
        if let Some(p) = paths {
            rec.paths = Some(p.finish()?);
        }
        Ok(rec)
    }
}

/// A number in shortest round-trip form for CSV and text (`NaN`, `inf`, `-inf` when not
/// finite).
#[derive(Clone, Copy)]
pub(crate) struct Num(pub f64);

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = self.0;
        let a = x.abs();
        // `{}` never uses an exponent: 1e-300 would print 300 zeros. Both forms are the
        // shortest digits that round-trip.
        if !x.is_finite() || a == 0.0 || (1e-5..1e16).contains(&a) {
            write!(f, "{x}")
        } else {
            write!(f, "{x:e}")
        }
    }
}

/// A number for JSON: [`Num`] when finite, with `.0` on whole numbers so that every reader
/// takes it for a float (`1` would be an integer to Python and serde_json); else `null`.
#[derive(Clone, Copy)]
pub(crate) struct JsonNum(pub f64);

impl fmt::Display for JsonNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = self.0;
        if !x.is_finite() {
            f.write_str("null")
        } else if x.fract() == 0.0 && x.abs() < 1e16 {
            // Whole and printed without an exponent by `Num`: "3" → "3.0".
            write!(f, "{}.0", Num(x))
        } else {
            Num(x).fmt(f)
        }
    }
}

/// A CSV field, quoted (RFC 4180) when it holds a comma, quote or line break — variable
/// names like `x[1, 2]` do.
pub(crate) fn csv_field(s: &str) -> Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(s)
    }
}

/// A value for a `# key: value` comment line: line breaks would end the comment.
fn comment_value(s: &str) -> Cow<'_, str> {
    if s.contains(['\n', '\r']) {
        Cow::Owned(s.replace('\n', "\\n").replace('\r', "\\r"))
    } else {
        Cow::Borrowed(s)
    }
}

/// Writes the `# key: value` metadata block; `dropped` is listed when given and non-empty.
pub(crate) fn write_meta_csv(
    w: &mut impl Write,
    info: &RunInfo,
    dropped: Option<&[usize]>,
) -> io::Result<()> {
    writeln!(w, "# ito: {}", comment_value(info.ito_version))?;
    writeln!(w, "# model: {}", comment_value(&info.model))?;
    writeln!(w, "# file: {}", comment_value(&info.file))?;
    writeln!(w, "# method: {}", comment_value(&info.method))?;
    match info.dt {
        Some(dt) => writeln!(w, "# dt: {}", Num(dt))?,
        None => writeln!(w, "# dt: none")?,
    }
    writeln!(w, "# seed: {}", info.seed)?;
    writeln!(w, "# paths: {}", info.paths)?;
    writeln!(w, "# t_end: {}", Num(info.t_end))?;
    for (name, value) in &info.params {
        writeln!(w, "# param: {} = {}", comment_value(name), Num(*value))?;
    }
    if let Some(d) = dropped.filter(|d| !d.is_empty()) {
        write_dropped_csv(w, d)?;
    }
    Ok(())
}

/// `# dropped: i, j, …`.
pub(crate) fn write_dropped_csv(w: &mut impl Write, dropped: &[usize]) -> io::Result<()> {
    write!(w, "# dropped:")?;
    for (i, d) in dropped.iter().enumerate() {
        write!(w, "{}{d}", if i == 0 { " " } else { ", " })?;
    }
    writeln!(w)
}

/// A JSON string literal.
pub(crate) fn write_json_str(w: &mut impl Write, s: &str) -> io::Result<()> {
    serde_json::to_writer(&mut *w, s).map_err(io::Error::from)
}

/// A JSON array of numbers.
pub(crate) fn write_json_nums(
    w: &mut impl Write,
    xs: impl IntoIterator<Item = f64>,
) -> io::Result<()> {
    w.write_all(b"[")?;
    for (i, x) in xs.into_iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        write!(w, "{}", JsonNum(x))?;
    }
    w.write_all(b"]")
}

/// A JSON array of integers (counts).
pub(crate) fn write_json_ints(
    w: &mut impl Write,
    xs: impl IntoIterator<Item = u64>,
) -> io::Result<()> {
    w.write_all(b"[")?;
    for (i, x) in xs.into_iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        write!(w, "{x}")?;
    }
    w.write_all(b"]")
}

/// A JSON array of strings.
pub(crate) fn write_json_strs<'a>(
    w: &mut impl Write,
    xs: impl IntoIterator<Item = &'a String>,
) -> io::Result<()> {
    w.write_all(b"[")?;
    for (i, x) in xs.into_iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        write_json_str(w, x)?;
    }
    w.write_all(b"]")
}

/// The `"meta"` object: `{"ito", "model", "file", "method", "dt" (null when none), "seed",
/// "paths", "t_end", "params": {name: value, …}}`.
pub(crate) fn write_meta_json(w: &mut impl Write, info: &RunInfo) -> io::Result<()> {
    w.write_all(b"{\"ito\":")?;
    write_json_str(w, info.ito_version)?;
    w.write_all(b",\"model\":")?;
    write_json_str(w, &info.model)?;
    w.write_all(b",\"file\":")?;
    write_json_str(w, &info.file)?;
    w.write_all(b",\"method\":")?;
    write_json_str(w, &info.method)?;
    write!(
        w,
        ",\"dt\":{},\"seed\":{},\"paths\":{},\"t_end\":{},\"params\":{{",
        JsonNum(info.dt.unwrap_or(f64::NAN)),
        info.seed,
        info.paths,
        JsonNum(info.t_end)
    )?;
    for (i, (name, value)) in info.params.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        write_json_str(w, name)?;
        write!(w, ":{}", JsonNum(*value))?;
    }
    w.write_all(b"}}")
}

/// `"dropped":[i,j,…]`.
pub(crate) fn write_dropped_json(w: &mut impl Write, dropped: &[usize]) -> io::Result<()> {
    w.write_all(b"\"dropped\":[")?;
    for (i, d) in dropped.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        write!(w, "{d}")?;
    }
    w.write_all(b"]")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small run description for tests.
    pub(crate) fn info(nvars: usize, ntimes: usize, paths: usize) -> RunInfo {
        RunInfo {
            model: "Ornstein".into(),
            file: "models/ou.sde".into(),
            method: "euler".into(),
            dt: Some(0.01),
            seed: 42,
            paths,
            t_end: 1.0,
            params: vec![("theta".into(), 0.7), ("sigma".into(), 0.1)],
            variables: (0..nvars)
                .map(|v| match v {
                    0 => "x".to_string(),
                    1 => "y[1, 2]".to_string(),
                    _ => format!("v{v}"),
                })
                .collect(),
            times: (0..ntimes).map(|k| k as f64 * 0.25).collect(),
            outputs: 0,
            ito_version: "0.1.0",
            dropped: vec![],
        }
    }

    /// Deterministic pseudo-random bits (SplitMix64) for tests.
    pub(crate) fn splitmix(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    #[test]
    fn numbers_round_trip() {
        let mut s = 7u64;
        let mut xs = vec![
            0.0,
            -0.0,
            1.0,
            0.1,
            1e-300,
            -2.5e300,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            1e16,
            9.999999999999998e15,
            1e-5,
        ];
        xs.extend((0..2000).map(|_| f64::from_bits(splitmix(&mut s))));
        for x in xs.into_iter().filter(|x| x.is_finite()) {
            let t = Num(x).to_string();
            assert!(t.len() <= 24, "{t}");
            assert_eq!(t.parse::<f64>().unwrap().to_bits(), x.to_bits(), "{t}");
        }
        assert_eq!(Num(f64::NAN).to_string(), "NaN");
        assert_eq!(Num(f64::INFINITY).to_string(), "inf");
        assert_eq!(Num(f64::NEG_INFINITY).to_string(), "-inf");
        assert_eq!(JsonNum(f64::NAN).to_string(), "null");
        assert_eq!(JsonNum(3.0).to_string(), "3.0");
        assert_eq!(JsonNum(-0.0).to_string(), "-0.0");
        assert_eq!(JsonNum(1e300).to_string(), "1e300");
        assert_eq!(JsonNum(0.5).to_string(), "0.5");
        assert_eq!(Num(1e-300).to_string(), "1e-300");
        assert_eq!(Num(0.25).to_string(), "0.25");
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("x"), "x");
        assert_eq!(csv_field("y[1, 2]"), "\"y[1, 2]\"");
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn recorder_finds_dropped_paths() {
        let info = info(2, 3, 6);
        let summary = Summary::new(3, 2);
        let paths = PathWriter::new(Vec::new(), PathFormat::CsvLong, &info).unwrap();
        let mut rec = Recorder::new(info, summary, Some(paths), 2);
        let vals = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        rec.record(0, &vals).unwrap();
        rec.record(2, &vals).unwrap();
        rec.record(3, &vals).unwrap();
        assert!(rec.record(3, &vals).is_err(), "repeated index");
        assert!(rec.record(4, &vals[..5]).is_err(), "short recording");
        let done = rec.finish_into().unwrap();
        assert_eq!(done.info.dropped, vec![1, 4, 5]);
        assert_eq!(done.summary.paths(), 3);
        assert_eq!(
            done.samples.iter().map(|s| s.0).collect::<Vec<_>>(),
            vec![0, 2]
        );
        let text = String::from_utf8(done.paths.unwrap()).unwrap();
        assert!(text.ends_with("# dropped: 1, 4, 5\n"), "{text}");
    }
}
