//! Every path of a run, streamed to CSV (long or wide) or JSON, one path in memory at a time.
//!
//! ## CSV, long (tidy)
//!
//! ```text
//! # model: Ornstein
//! # …metadata block (see the parent module)…
//! path,time,variable,value
//! 0,0,x,1
//! 0,0,y,0.5
//! 0,0.25,x,1.0312
//! …
//! # dropped: 3, 17
//! ```
//!
//! One row per (path, time, variable), ordered by path, then time, then variable.
//!
//! ## CSV, wide
//!
//! ```text
//! path,time,x,y
//! 0,0,1,0.5
//! ```
//!
//! One row per (path, time), a column per variable.
//!
//! The writer learns of dropped paths only as it streams, so in both CSV forms the
//! `# dropped:` line, when there is one, comes after the last row (rewriting the header would
//! mean writing the file twice; CSV readers that skip `#` comments skip it wherever it is).
//!
//! ## JSON
//!
//! One object:
//!
//! ```text
//! {"meta": {"ito": "0.1.0", "model": …, "dt": 0.01 | null, …, "params": {"theta": 0.7}},
//!  "variables": ["x", "y"],
//!  "times": [0, 0.25, …],
//!  "paths": [{"path": 0, "values": {"x": [1, 1.0312, …], "y": [0.5, …]}}, …],
//!  "dropped": [3, 17]}
//! ```
//!
//! Each path's `values` maps a variable to its values at `times`. Non-finite values are
//! `null`.

use super::{
    AtomicFile, Indices, Num, RunInfo, csv_field, write_dropped_csv, write_dropped_json,
    write_json_nums, write_json_strs, write_meta_csv, write_meta_json,
};
use std::fmt;
use std::io::{self, Write};
use std::path::Path;
use std::str::FromStr;

/// The layout of a paths file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathFormat {
    /// `path,time,variable,value`: one row per value.
    CsvLong,
    /// `path,time,<var1>,<var2>,…`: one row per time.
    CsvWide,
    /// One JSON object (see the module docs).
    Json,
}

impl PathFormat {
    /// The format a file name's extension suggests: `.json` → JSON, `.csv` → long CSV.
    pub fn from_extension(path: impl AsRef<Path>) -> Option<PathFormat> {
        let ext = path.as_ref().extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "json" => Some(PathFormat::Json),
            "csv" => Some(PathFormat::CsvLong),
            _ => None,
        }
    }
}

impl FromStr for PathFormat {
    type Err = String;

    /// `long`, `wide` or `json`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "long" => Ok(PathFormat::CsvLong),
            "wide" => Ok(PathFormat::CsvWide),
            "json" => Ok(PathFormat::Json),
            _ => Err(format!(
                "unknown path format `{s}` (expected long, wide or json)"
            )),
        }
    }
}

impl fmt::Display for PathFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathFormat::CsvLong => "long",
            PathFormat::CsvWide => "wide",
            PathFormat::Json => "json",
        })
    }
}

/// Streams paths, in increasing index order, into `W` in one [`PathFormat`].
pub struct PathWriter<W: Write> {
    out: W,
    format: PathFormat,
    paths: usize,
    times: Vec<f64>,
    /// Variable names, quoted for CSV or as JSON string literals.
    names: Vec<String>,
    indices: Indices,
    first: bool,
}

impl PathWriter<AtomicFile> {
    /// Starts writing `path` atomically: nothing appears there unless the output from
    /// [`PathWriter::finish`] is committed.
    pub fn create(
        path: impl AsRef<Path>,
        format: PathFormat,
        info: &RunInfo,
    ) -> io::Result<PathWriter<AtomicFile>> {
        PathWriter::new(AtomicFile::create(path)?, format, info)
    }
}

impl<W: Write> PathWriter<W> {
    /// Writes the header (metadata, column names or the JSON preamble) to `out`.
    pub fn new(mut out: W, format: PathFormat, info: &RunInfo) -> io::Result<PathWriter<W>> {
        let names: Vec<String> = match format {
            PathFormat::CsvLong | PathFormat::CsvWide => info
                .variables
                .iter()
                .map(|v| csv_field(v).into_owned())
                .collect(),
            PathFormat::Json => info
                .variables
                .iter()
                .map(|v| serde_json::to_string(v).map_err(io::Error::from))
                .collect::<io::Result<_>>()?,
        };
        match format {
            PathFormat::CsvLong => {
                write_meta_csv(&mut out, info, None)?;
                writeln!(out, "path,time,variable,value")?;
            }
            PathFormat::CsvWide => {
                write_meta_csv(&mut out, info, None)?;
                write!(out, "path,time")?;
                for n in &names {
                    write!(out, ",{n}")?;
                }
                writeln!(out)?;
            }
            PathFormat::Json => {
                out.write_all(b"{\"meta\":")?;
                write_meta_json(&mut out, info)?;
                out.write_all(b",\n\"variables\":")?;
                write_json_strs(&mut out, &info.variables)?;
                out.write_all(b",\n\"times\":")?;
                write_json_nums(&mut out, info.times.iter().copied())?;
                out.write_all(b",\n\"paths\":[")?;
            }
        }
        Ok(PathWriter {
            out,
            format,
            paths: info.paths,
            times: info.times.clone(),
            names,
            indices: Indices::default(),
            first: true,
        })
    }

    /// Writes path `index`'s recording (`times × variables`, row-major by time). Indices must
    /// increase and stay below the run's path count; skipped ones are dropped paths.
    pub fn write_path(&mut self, index: usize, values: &[f64]) -> io::Result<()> {
        let nvars = self.names.len();
        if values.len() != self.times.len() * nvars {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "path {index}: {} values, expected {} times × {nvars} variables",
                    values.len(),
                    self.times.len()
                ),
            ));
        }
        if index >= self.paths {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("path {index} out of range (the run has {})", self.paths),
            ));
        }
        self.indices.see(index)?;
        let out = &mut self.out;
        match self.format {
            PathFormat::CsvLong => {
                for (k, &t) in self.times.iter().enumerate() {
                    let row = &values[k * nvars..(k + 1) * nvars];
                    for (name, &x) in self.names.iter().zip(row) {
                        writeln!(out, "{index},{},{name},{}", Num(t), Num(x))?;
                    }
                }
            }
            PathFormat::CsvWide => {
                for (k, &t) in self.times.iter().enumerate() {
                    write!(out, "{index},{}", Num(t))?;
                    for &x in &values[k * nvars..(k + 1) * nvars] {
                        write!(out, ",{}", Num(x))?;
                    }
                    writeln!(out)?;
                }
            }
            PathFormat::Json => {
                if !self.first {
                    out.write_all(b",")?;
                }
                write!(out, "\n{{\"path\":{index},\"values\":{{")?;
                for (v, name) in self.names.iter().enumerate() {
                    if v > 0 {
                        out.write_all(b",")?;
                    }
                    out.write_all(name.as_bytes())?;
                    out.write_all(b":")?;
                    write_json_nums(out, values.iter().skip(v).step_by(nvars).copied())?;
                }
                out.write_all(b"}}")?;
            }
        }
        self.first = false;
        Ok(())
    }

    /// Writes the tail (the dropped paths: indices below the run's path count never written)
    /// and returns the output. For an [`AtomicFile`], commit it.
    pub fn finish(self) -> io::Result<W> {
        let PathWriter {
            mut out,
            format,
            paths,
            indices,
            ..
        } = self;
        let dropped = indices.finish(paths);
        match format {
            PathFormat::CsvLong | PathFormat::CsvWide => {
                if !dropped.is_empty() {
                    write_dropped_csv(&mut out, &dropped)?;
                }
            }
            PathFormat::Json => {
                out.write_all(b"],\n")?;
                write_dropped_json(&mut out, &dropped)?;
                out.write_all(b"}\n")?;
            }
        }
        out.flush()?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{info, splitmix};
    use super::*;
    use serde_json::Value;

    /// Values `paths × times × vars`, random bits (finite or not) for CSV, where the text is
    /// parsed back with Rust's exact parser.
    fn random_values(n: usize, s: &mut u64) -> Vec<f64> {
        (0..n)
            .map(|i| match i % 17 {
                3 => f64::NAN,
                5 => f64::INFINITY,
                7 => f64::NEG_INFINITY,
                _ => {
                    let x = f64::from_bits(splitmix(s));
                    if x.is_finite() { x } else { 0.5 }
                }
            })
            .collect()
    }

    fn same(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    fn write_all(format: PathFormat, info: &RunInfo, paths: &[(usize, Vec<f64>)]) -> String {
        let mut w = PathWriter::new(Vec::new(), format, info).unwrap();
        for (i, v) in paths {
            w.write_path(*i, v).unwrap();
        }
        String::from_utf8(w.finish().unwrap()).unwrap()
    }

    /// Paths 0, 1, 3 of 5 (2 and 4 dropped).
    fn sample(nvals: usize, s: &mut u64) -> Vec<(usize, Vec<f64>)> {
        [0, 1, 3]
            .into_iter()
            .map(|i| (i, random_values(nvals, s)))
            .collect()
    }

    /// Splits a CSV line, honouring quotes.
    fn split_csv(line: &str) -> Vec<String> {
        let mut out = vec![String::new()];
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' if quoted && chars.peek() == Some(&'"') => {
                    chars.next();
                    out.last_mut().unwrap().push('"');
                }
                '"' => quoted = !quoted,
                ',' if !quoted => out.push(String::new()),
                _ => out.last_mut().unwrap().push(c),
            }
        }
        out
    }

    fn check_meta(text: &str) {
        for line in [
            "# ito: 0.1.0",
            "# model: Ornstein",
            "# file: models/ou.sde",
            "# method: euler",
            "# dt: 0.01",
            "# seed: 42",
            "# paths: 5",
            "# t_end: 1",
            "# param: theta = 0.7",
            "# param: sigma = 0.1",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?}:\n{text}");
        }
    }

    #[test]
    fn csv_long_round_trips() {
        let info = info(2, 4, 5);
        let mut s = 1;
        let paths = sample(8, &mut s);
        let text = write_all(PathFormat::CsvLong, &info, &paths);
        check_meta(&text);
        assert!(text.ends_with("# dropped: 2, 4\n"), "{text}");
        let rows: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(rows[0], "path,time,variable,value");
        let mut it = rows[1..].iter();
        for (i, vals) in &paths {
            for (k, &t) in info.times.iter().enumerate() {
                for (v, name) in info.variables.iter().enumerate() {
                    let f = split_csv(it.next().unwrap());
                    assert_eq!(f.len(), 4, "{f:?}");
                    assert_eq!(f[0].parse::<usize>().unwrap(), *i);
                    assert!(same(f[1].parse().unwrap(), t));
                    assert_eq!(&f[2], name);
                    assert!(same(f[3].parse().unwrap(), vals[k * 2 + v]), "{f:?}");
                }
            }
        }
        assert!(it.next().is_none());
    }

    #[test]
    fn csv_wide_round_trips() {
        let info = info(3, 4, 5);
        let mut s = 2;
        let paths = sample(12, &mut s);
        let text = write_all(PathFormat::CsvWide, &info, &paths);
        check_meta(&text);
        let rows: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(rows[0], "path,time,x,\"y[1, 2]\",v2");
        assert_eq!(split_csv(rows[0])[3], "y[1, 2]");
        assert_eq!(rows.len(), 1 + 3 * 4);
        let mut it = rows[1..].iter();
        for (i, vals) in &paths {
            for (k, &t) in info.times.iter().enumerate() {
                let f = split_csv(it.next().unwrap());
                assert_eq!(f.len(), 5);
                assert_eq!(f[0].parse::<usize>().unwrap(), *i);
                assert!(same(f[1].parse().unwrap(), t));
                for v in 0..3 {
                    assert!(same(f[2 + v].parse().unwrap(), vals[k * 3 + v]));
                }
            }
        }
    }

    #[test]
    fn json_round_trips() {
        let info = info(2, 5, 5);
        // serde_json without its `float_roundtrip` feature may read 17-digit numbers one ulp
        // off, so this test uses numbers it reads exactly (the writer's exactness is tested
        // through Rust's parser above); non-finite ones must become null.
        let mut s = 3;
        let paths: Vec<(usize, Vec<f64>)> = [0, 1, 3]
            .into_iter()
            .map(|i| {
                let v = (0..10)
                    .map(|j| match j {
                        4 => f64::NAN,
                        7 => f64::NEG_INFINITY,
                        _ => (splitmix(&mut s) >> 40) as f64 / 1024.0 - 5000.0,
                    })
                    .collect();
                (i, v)
            })
            .collect();
        let text = write_all(PathFormat::Json, &info, &paths);
        let j: Value = serde_json::from_str(&text).unwrap();
        let meta = &j["meta"];
        assert_eq!(meta["model"], "Ornstein");
        assert_eq!(meta["method"], "euler");
        assert_eq!(meta["dt"], 0.01);
        assert_eq!(meta["seed"], 42);
        assert_eq!(meta["paths"], 5);
        assert_eq!(meta["params"]["theta"], 0.7);
        assert_eq!(meta["ito"], "0.1.0");
        assert_eq!(j["variables"], serde_json::json!(["x", "y[1, 2]"]));
        assert_eq!(j["times"], serde_json::json!([0.0, 0.25, 0.5, 0.75, 1.0]));
        assert_eq!(j["dropped"], serde_json::json!([2, 4]));
        let jp = j["paths"].as_array().unwrap();
        assert_eq!(jp.len(), 3);
        for ((i, vals), p) in paths.iter().zip(jp) {
            assert_eq!(p["path"], *i);
            for (v, name) in info.variables.iter().enumerate() {
                let arr = p["values"][name].as_array().unwrap();
                assert_eq!(arr.len(), 5);
                for (k, x) in arr.iter().enumerate() {
                    let want = vals[k * 2 + v];
                    match x.as_f64() {
                        Some(got) => assert_eq!(got.to_bits(), want.to_bits()),
                        None => assert!(x.is_null() && !want.is_finite()),
                    }
                }
            }
        }
    }

    #[test]
    fn json_with_no_paths_is_valid() {
        let info = info(1, 2, 0);
        let text = write_all(PathFormat::Json, &info, &[]);
        let j: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(j["paths"], serde_json::json!([]));
        assert_eq!(j["dropped"], serde_json::json!([]));
    }

    #[test]
    fn bad_input_is_an_error() {
        let info = info(2, 2, 3);
        let mut w = PathWriter::new(Vec::new(), PathFormat::CsvLong, &info).unwrap();
        assert!(w.write_path(0, &[1.0; 3]).is_err());
        w.write_path(1, &[1.0; 4]).unwrap();
        assert!(w.write_path(0, &[1.0; 4]).is_err());
        assert!(w.write_path(3, &[1.0; 4]).is_err());
    }

    #[test]
    fn atomic_file_appears_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("paths.json");
        assert_eq!(PathFormat::from_extension(&path), Some(PathFormat::Json));
        let info = info(1, 2, 1);
        let mut w = PathWriter::create(&path, PathFormat::Json, &info).unwrap();
        w.write_path(0, &[1.0, 2.0]).unwrap();
        let f = w.finish().unwrap();
        assert!(!path.exists());
        f.commit().unwrap();
        let j: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(j["paths"][0]["values"]["x"], serde_json::json!([1.0, 2.0]));
    }
}
