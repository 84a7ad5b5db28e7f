//! Data files for `--data`: JSON in the shape Stan uses (names → numbers or nested arrays)
//! or CSV with one column per vector. Reading only checks that the file is well formed;
//! binding checks the values against the model's declarations.

use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One named value: a scalar (`shape` empty) or a rectangular array, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct DataValue {
    pub shape: Vec<usize>,
    pub values: Vec<f64>,
}

impl DataValue {
    pub fn scalar(v: f64) -> DataValue {
        DataValue {
            shape: Vec::new(),
            values: vec![v],
        }
    }
}

/// The values of a data file, by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DataSet {
    /// The file they came from (`None`: no `--data` was given).
    pub path: Option<PathBuf>,
    pub values: BTreeMap<String, DataValue>,
}

impl DataSet {
    /// Read a `.json` or `.csv` data file.
    pub fn read(path: &Path) -> Result<DataSet, String> {
        let shown = path.display();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let parse = match ext.as_deref() {
            Some("json") => from_json,
            Some("csv") => from_csv,
            _ => {
                return Err(format!(
                    "{shown}: unknown data format; a data file is .json or .csv"
                ));
            }
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the data file {shown}: {e}"))?;
        let values = parse(&text).map_err(|e| format!("{shown}: {e}"))?;
        Ok(DataSet {
            path: Some(path.to_path_buf()),
            values,
        })
    }

    pub fn get(&self, name: &str) -> Option<&DataValue> {
        self.values.get(name)
    }

    /// How to refer to where the values came from, in messages.
    pub fn source(&self) -> String {
        match &self.path {
            Some(p) => format!("the data file {}", p.display()),
            None => "no data file (give one with --data)".to_string(),
        }
    }
}

/// A JSON object of names → values.
pub fn from_json(text: &str) -> Result<BTreeMap<String, DataValue>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let json: Json = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let Json::Object(map) = json else {
        return Err(format!(
            "a JSON data file holds an object of names and values, like {{\"N\": 3, \"y\": [1, 2, 3]}}, not {}",
            kind(&json)
        ));
    };
    map.iter()
        .map(|(name, v)| Ok((name.clone(), json_value(name, v)?)))
        .collect()
}

/// One variable's value: a number, a boolean (1 or 0) or nested arrays of them.
pub fn json_value(name: &str, v: &Json) -> Result<DataValue, String> {
    let mut shape = Vec::new();
    // The shape is read along the first elements; every other element must agree.
    let mut first = v;
    while let Json::Array(items) = first {
        shape.push(items.len());
        match items.first() {
            Some(x) => first = x,
            None => break,
        }
    }
    let mut values = Vec::with_capacity(shape.iter().product());
    let mut at = Vec::new();
    collect(name, v, &shape, &mut at, &mut values)?;
    Ok(DataValue { shape, values })
}

/// Append the numbers of `v` (at index `at`, 1-based) to `out`, checking it has `shape`.
fn collect(
    name: &str,
    v: &Json,
    shape: &[usize],
    at: &mut Vec<usize>,
    out: &mut Vec<f64>,
) -> Result<(), String> {
    let depth = at.len();
    match (v, shape.get(depth)) {
        (Json::Array(items), Some(&n)) => {
            if items.len() != n {
                return Err(ragged(name, at, items.len(), n));
            }
            for (k, item) in items.iter().enumerate() {
                at.push(k + 1);
                collect(name, item, shape, at, out)?;
                at.pop();
            }
            Ok(())
        }
        (Json::Array(_), None) => Err(format!(
            "`{name}` is ragged: {} is an array where the other elements at depth {} are numbers",
            element(name, at),
            depth + 1
        )),
        (_, Some(_)) => Err(format!(
            "`{name}` is ragged: {} is {} where the other elements at depth {} are arrays",
            element(name, at),
            kind(v),
            depth + 1
        )),
        (Json::Number(n), None) => match n.as_f64().filter(|x| x.is_finite()) {
            Some(x) => {
                out.push(x);
                Ok(())
            }
            None => Err(format!(
                "{} is {n}, which is not a finite number",
                element(name, at)
            )),
        },
        (Json::Bool(b), None) => {
            out.push(if *b { 1.0 } else { 0.0 });
            Ok(())
        }
        (_, None) => Err(format!(
            "{} is {}; data values are numbers (or true/false)",
            element(name, at),
            kind(v)
        )),
    }
}

fn ragged(name: &str, at: &[usize], len: usize, expected: usize) -> String {
    format!(
        "`{name}` is ragged: {} has length {len} at depth {} where the first has length {expected}; arrays must be rectangular",
        element(name, at),
        at.len() + 1
    )
}

/// `name` or `name[2, 3]` (1-based, like the language).
fn element(name: &str, at: &[usize]) -> String {
    if at.is_empty() {
        format!("`{name}`")
    } else {
        let idx: Vec<String> = at.iter().map(|i| i.to_string()).collect();
        format!("`{name}[{}]`", idx.join(", "))
    }
}

fn kind(v: &Json) -> String {
    match v {
        Json::Null => "null".to_string(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => format!("the number {n}"),
        Json::String(s) if s.chars().count() <= 20 => format!("the string {s:?}"),
        Json::String(_) => "a string".to_string(),
        Json::Array(_) => "an array".to_string(),
        Json::Object(_) => "an object".to_string(),
    }
}

/// A header row of names, then one row per element: each column is a vector.
pub fn from_csv(text: &str) -> Result<BTreeMap<String, DataValue>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let names: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(&e))?
        .iter()
        .map(str::to_string)
        .collect();
    if names.is_empty() || names.iter().all(String::is_empty) {
        return Err("the CSV file has no header row of names".to_string());
    }
    for (k, n) in names.iter().enumerate() {
        if n.is_empty() {
            return Err(format!("column {} has no name in the header row", k + 1));
        }
        if names[..k].contains(n) {
            return Err(format!("the header names `{n}` twice"));
        }
    }
    let mut columns: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(&e))?;
        let line = record.position().map_or(0, |p| p.line());
        for ((cell, name), column) in record.iter().zip(&names).zip(&mut columns) {
            if cell.is_empty() {
                return Err(format!("line {line}, column `{name}`: the cell is empty"));
            }
            match cell.parse::<f64>() {
                Ok(x) if x.is_finite() => column.push(x),
                _ => {
                    return Err(format!(
                        "line {line}, column `{name}`: `{cell}` is not a finite number"
                    ));
                }
            }
        }
    }
    Ok(names
        .into_iter()
        .zip(columns)
        .map(|(name, values)| {
            let shape = vec![values.len()];
            (name, DataValue { shape, values })
        })
        .collect())
}

fn csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => {
            let line = pos.as_ref().map_or(0, |p| p.line());
            format!(
                "line {line} has {len} cells but the header has {expected_len} names; every column must have the same length"
            )
        }
        csv::ErrorKind::Utf8 { pos, .. } => {
            let line = pos.as_ref().map_or(0, |p| p.line());
            format!("line {line} is not valid UTF-8")
        }
        _ => format!("not a valid CSV file: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Result<BTreeMap<String, DataValue>, String> {
        from_json(text)
    }

    #[test]
    fn json_scalars_vectors_and_nested_arrays() {
        let d =
            json(r#"{"N": 3, "y": [1, 2.5, -3], "m": [[1, 2, 3], [4, 5, 6]], "b": true, "e": []}"#)
                .unwrap();
        assert_eq!(d["N"], DataValue::scalar(3.0));
        assert_eq!(d["y"].shape, [3]);
        assert_eq!(d["y"].values, [1.0, 2.5, -3.0]);
        assert_eq!(d["m"].shape, [2, 3]);
        assert_eq!(d["m"].values, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(d["b"], DataValue::scalar(1.0));
        assert_eq!(d["e"].shape, [0]);
        let empty_rows = json(r#"{"z": [[], []]}"#).unwrap();
        assert_eq!(empty_rows["z"].shape, [2, 0]);
    }

    #[test]
    fn json_errors_name_the_variable() {
        let cases = [
            (
                r#"{"m": [[1, 2], [3]]}"#,
                "`m` is ragged: `m[2]` has length 1 at depth 2 where the first has length 2",
            ),
            (
                r#"{"m": [[1, 2], 3]}"#,
                "`m` is ragged: `m[2]` is the number 3 where the other elements at depth 2 are arrays",
            ),
            (
                r#"{"m": [1, [2]]}"#,
                "`m` is ragged: `m[2]` is an array where the other elements at depth 2 are numbers",
            ),
            (
                r#"{"y": [1, "two"]}"#,
                "`y[2]` is the string \"two\"; data values are numbers",
            ),
            (r#"{"y": null}"#, "`y` is null; data values are numbers"),
            (r#"{"y": {"a": 1}}"#, "`y` is an object"),
            (r#"{"y": "NaN"}"#, "`y` is the string \"NaN\""),
            (r#"[1, 2]"#, "a JSON data file holds an object"),
            (r#"{"y": NaN}"#, "not valid JSON"),
        ];
        for (text, expect) in cases {
            let e = json(text).unwrap_err();
            assert!(e.contains(expect), "{text}: {e}");
        }
    }

    #[test]
    fn csv_columns_are_vectors() {
        let d = from_csv("x, y\n1, 2\n3.5, -4\n\n").unwrap();
        assert_eq!(d["x"].shape, [2]);
        assert_eq!(d["x"].values, [1.0, 3.5]);
        assert_eq!(d["y"].values, [2.0, -4.0]);
        let bom = from_csv("\u{feff}a\n1\n").unwrap();
        assert_eq!(bom["a"].values, [1.0]);
    }

    #[test]
    fn csv_errors_give_line_and_column() {
        let cases = [
            ("x,y\n1,2\n3,\n", "line 3, column `y`: the cell is empty"),
            (
                "x,y\n1,2\n3,abc\n",
                "line 3, column `y`: `abc` is not a finite number",
            ),
            ("x,y\n1,2\n3,inf\n", "`inf` is not a finite number"),
            (
                "x,y\n1,2\n3\n",
                "line 3 has 1 cells but the header has 2 names",
            ),
            ("x,x\n1,2\n", "the header names `x` twice"),
            ("x,,y\n1,2,3\n", "column 2 has no name"),
            ("", "no header row"),
        ];
        for (text, expect) in cases {
            let e = from_csv(text).unwrap_err();
            assert!(e.contains(expect), "{text:?}: {e}");
        }
    }

    #[test]
    fn read_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, r#"{"y": [1, null]}"#).unwrap();
        let e = DataSet::read(&bad).unwrap_err();
        assert!(
            e.contains("bad.json") && e.contains("`y[2]` is null"),
            "{e}"
        );
        let e = DataSet::read(&dir.path().join("missing.csv")).unwrap_err();
        assert!(
            e.contains("cannot read the data file") && e.contains("missing.csv"),
            "{e}"
        );
        let e = DataSet::read(&dir.path().join("data.txt")).unwrap_err();
        assert!(e.contains("unknown data format"), "{e}");
        let ok = dir.path().join("ok.CSV");
        std::fs::write(&ok, "y\n1\n2\n").unwrap();
        let d = DataSet::read(&ok).unwrap();
        assert_eq!(d.get("y").unwrap().values, [1.0, 2.0]);
        assert_eq!(d.path.as_deref(), Some(ok.as_path()));
    }
}
