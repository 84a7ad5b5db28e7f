//! Data files for `--data`: JSON in the shape Stan uses (names → numbers or nested arrays)
//! or CSV with one column per vector (columns `y[1]`, `y[2]`, … make an array per row).
//! Reading only checks that the file is well formed; binding checks the values against the
//! model's declarations. A missing value (`null`, an empty cell or `NA`) is read as NaN:
//! only `obs` values may be missing, which binding checks.

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

/// The values of one or more data files, by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DataSet {
    /// The (first) file they came from (`None`: no `--data` was given).
    pub path: Option<PathBuf>,
    /// Every file they came from, in the order given (empty: only `path`, or none).
    pub paths: Vec<PathBuf>,
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
            paths: vec![path.to_path_buf()],
            values,
        })
    }

    /// Read every `--data` file and merge their values: scalars may come from one file and
    /// vectors or an observed series from another. A name given by two files is an error
    /// naming both. No files: an empty set.
    pub fn read_all(paths: &[PathBuf]) -> Result<DataSet, String> {
        let mut all = DataSet::default();
        // Which file gave each name, for the message about a name given twice.
        let mut origin: BTreeMap<String, &Path> = BTreeMap::new();
        for path in paths {
            let one = DataSet::read(path)?;
            for (name, value) in one.values {
                if let Some(first) = origin.get(&name) {
                    return Err(format!(
                        "`{name}` is given twice: by the data file {} and by the data file {}",
                        first.display(),
                        path.display()
                    ));
                }
                origin.insert(name.clone(), path);
                all.values.insert(name, value);
            }
        }
        all.path = paths.first().cloned();
        all.paths = paths.to_vec();
        Ok(all)
    }

    /// The files the values came from, in order.
    pub fn files(&self) -> Vec<&Path> {
        if self.paths.is_empty() {
            self.path.iter().map(PathBuf::as_path).collect()
        } else {
            self.paths.iter().map(PathBuf::as_path).collect()
        }
    }

    pub fn get(&self, name: &str) -> Option<&DataValue> {
        self.values.get(name)
    }

    /// How to refer to where the values came from, in messages.
    pub fn source(&self) -> String {
        let files = self.files();
        match files.as_slice() {
            [] => "no data file (give one with --data)".to_string(),
            [one] => format!("the data file {}", one.display()),
            many => {
                let names: Vec<String> = many.iter().map(|p| p.display().to_string()).collect();
                format!("the data files {}", names.join(", "))
            }
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

/// One variable's value: a number, a boolean (1 or 0) or nested arrays of them. `null` is a
/// missing value (NaN): one element, or a whole sub-array where an array is expected.
pub fn json_value(name: &str, v: &Json) -> Result<DataValue, String> {
    let mut shape = Vec::new();
    // The shape is read along the first elements that are not null; every other element
    // must agree.
    let mut first = v;
    while let Json::Array(items) = first {
        shape.push(items.len());
        match items.iter().find(|x| !x.is_null()) {
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
        (Json::Null, _) => {
            let missing: usize = shape[depth.min(shape.len())..].iter().product();
            out.extend(std::iter::repeat_n(f64::NAN, missing));
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
            "{} is {}; data values are numbers (or true/false, or null for a missing value)",
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

/// A header row of names, then one row per element: each column is a vector, and columns
/// `y[1]`, `y[2]`, … (`m[1,1]`, `m[1,2]`, … for more dimensions) are the elements of an array
/// `y` per row. An empty cell or `NA` is a missing value (NaN).
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
        if n.contains('[') != n.contains(']') {
            return Err(format!(
                "column {} is named `{n}`: the name of an element column with several indices holds a comma, so it is quoted, like \"m[1,2]\"",
                k + 1
            ));
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
            if cell.is_empty() || cell == "NA" {
                column.push(f64::NAN);
                continue;
            }
            match cell.parse::<f64>() {
                Ok(x) if x.is_finite() => column.push(x),
                _ => {
                    return Err(format!(
                        "line {line}, column `{name}`: `{cell}` is not a finite number (a missing value is an empty cell or NA)"
                    ));
                }
            }
        }
    }
    group_columns(names, columns)
}

/// An element column `y[i, …]`: its indices (1-based) and its values.
type ElementColumn = (Vec<usize>, Vec<f64>);

/// Plain columns become vectors; element columns `y[i, …]` are gathered into one array `y`
/// with a first dimension over the rows, checked to be complete (every element from 1 up to
/// the largest index in each position, each once).
fn group_columns(
    names: Vec<String>,
    columns: Vec<Vec<f64>>,
) -> Result<BTreeMap<String, DataValue>, String> {
    let rows = columns.first().map_or(0, Vec::len);
    let mut out = BTreeMap::new();
    // Per array: each element column's indices (1-based) and values.
    let mut arrays: BTreeMap<String, Vec<ElementColumn>> = BTreeMap::new();
    for (name, values) in names.into_iter().zip(columns) {
        match element_column(&name)? {
            Some((base, idx)) => arrays.entry(base).or_default().push((idx, values)),
            None => {
                let shape = vec![values.len()];
                out.insert(name, DataValue { shape, values });
            }
        }
    }
    for (base, mut elements) in arrays {
        let first = &elements[0].0;
        if out.contains_key(&base) {
            return Err(format!(
                "the header has both `{base}` and `{}`; an array is given by its element columns `{base}[1]`, `{base}[2]`, … alone",
                column_name(&base, first)
            ));
        }
        let rank = first.len();
        if let Some((idx, _)) = elements.iter().find(|(idx, _)| idx.len() != rank) {
            return Err(format!(
                "columns `{}` and `{}` give `{base}` different numbers of indices",
                column_name(&base, first),
                column_name(&base, idx)
            ));
        }
        let dims: Vec<usize> = (0..rank)
            .map(|k| elements.iter().map(|(idx, _)| idx[k]).max().unwrap_or(0))
            .collect();
        elements.sort_by(|a, b| a.0.cmp(&b.0));
        let count: usize = dims.iter().product();
        // Sorted row-major, a complete set is exactly the sequence of every index.
        let mut expected = vec![1; rank];
        if let Some(w) = elements.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(format!(
                "the header names `{}` twice",
                column_name(&base, &w[0].0)
            ));
        }
        for (idx, _) in &elements {
            if *idx != expected {
                return Err(format!(
                    "the header has no column `{}`: the columns of `{base}` must cover every element from `{}` to `{}`",
                    column_name(&base, &expected),
                    column_name(&base, &vec![1; rank]),
                    column_name(&base, &dims)
                ));
            }
            next_index(&mut expected, &dims);
        }
        if elements.len() != count {
            return Err(format!(
                "the header has no column `{}`: the columns of `{base}` must cover every element from `{}` to `{}`",
                column_name(&base, &expected),
                column_name(&base, &vec![1; rank]),
                column_name(&base, &dims)
            ));
        }
        let mut values = Vec::with_capacity(rows * count);
        for r in 0..rows {
            values.extend(elements.iter().map(|(_, column)| column[r]));
        }
        let mut shape = vec![rows];
        shape.extend(dims);
        out.insert(base, DataValue { shape, values });
    }
    Ok(out)
}

/// `y[2]` → (`y`, [2]); `m[1, 3]` → (`m`, [1, 3]); a plain name → `None`.
fn element_column(name: &str) -> Result<Option<(String, Vec<usize>)>, String> {
    let Some(open) = name.find('[') else {
        return Ok(None);
    };
    let base = name[..open].trim();
    let inner = name[open + 1..].strip_suffix(']');
    let idx: Option<Vec<usize>> = inner.and_then(|inner| {
        inner
            .split(',')
            .map(|i| i.trim().parse::<usize>().ok().filter(|&i| i >= 1))
            .collect()
    });
    match idx {
        Some(idx) if !base.is_empty() && !idx.is_empty() => Ok(Some((base.to_string(), idx))),
        _ => Err(format!(
            "column `{name}`: an element column is named like `y[1]` or `m[2,3]`, with indices from 1"
        )),
    }
}

fn column_name(base: &str, idx: &[usize]) -> String {
    let idx: Vec<String> = idx.iter().map(usize::to_string).collect();
    format!("{base}[{}]", idx.join(","))
}

/// The next index in row-major order (1-based) within `dims`.
fn next_index(idx: &mut [usize], dims: &[usize]) {
    for k in (0..idx.len()).rev() {
        if idx[k] < dims[k] {
            idx[k] += 1;
            return;
        }
        idx[k] = 1;
    }
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
        // Numbers are read exactly (a value written in shortest round-trip form comes back
        // the same, as it does from CSV).
        for text in [
            "13.74253252262982",
            "0.30000000000000004",
            "2.2250738585072014e-308",
        ] {
            let d = json(&format!(r#"{{"x": {text}}}"#)).unwrap();
            assert_eq!(d["x"].values[0], text.parse::<f64>().unwrap(), "{text}");
        }
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
            (
                r#"{"y": [1, {}]}"#,
                "`y[2]` is an object; data values are numbers",
            ),
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
        std::fs::write(&bad, r#"{"y": [1, "a"]}"#).unwrap();
        let e = DataSet::read(&bad).unwrap_err();
        assert!(
            e.contains("bad.json") && e.contains("`y[2]` is the string"),
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
        assert_eq!(d.files(), [ok.as_path()]);
    }

    /// The values of `d`, with NaN (missing) shown as `None`.
    fn opt(d: &DataValue) -> Vec<Option<f64>> {
        d.values
            .iter()
            .map(|v| (!v.is_nan()).then_some(*v))
            .collect()
    }

    #[test]
    fn json_null_is_a_missing_value() {
        let d =
            json(r#"{"s": null, "y": [3, null, 5], "m": [null, [1, null]], "e": [null, null]}"#)
                .unwrap();
        assert_eq!(d["s"].shape, Vec::<usize>::new());
        assert_eq!(opt(&d["s"]), [None]);
        assert_eq!(opt(&d["y"]), [Some(3.0), None, Some(5.0)]);
        // A null where a row is expected is a whole missing row.
        assert_eq!(d["m"].shape, [2, 2]);
        assert_eq!(opt(&d["m"]), [None, None, Some(1.0), None]);
        assert_eq!(d["e"].shape, [2]);
        assert_eq!(opt(&d["e"]), [None, None]);
        let e = json(r#"{"m": [null, [1, 2], [3]]}"#).unwrap_err();
        assert!(e.contains("`m[3]` has length 1"), "{e}");
    }

    #[test]
    fn csv_empty_cells_and_na_are_missing() {
        let d = from_csv("t,y\n1,2\n2,\n3,NA\n4, 5\n").unwrap();
        assert_eq!(opt(&d["y"]), [Some(2.0), None, None, Some(5.0)]);
        assert_eq!(d["t"].values, [1.0, 2.0, 3.0, 4.0]);
        let e = from_csv("t,y\n1,na\n").unwrap_err();
        assert!(
            e.contains("line 2, column `y`: `na` is not a finite number (a missing value is an empty cell or NA)"),
            "{e}"
        );
    }

    #[test]
    fn csv_element_columns_make_arrays() {
        let d = from_csv("t,y[2],y[1],z\n1,20,10,7\n2,,11,8\n").unwrap();
        assert_eq!(d["y"].shape, [2, 2]);
        assert_eq!(opt(&d["y"]), [Some(10.0), Some(20.0), Some(11.0), None]);
        assert_eq!(d["z"].values, [7.0, 8.0]);
        assert!(!d.contains_key("y[1]"));
        let d = from_csv("\"m[1,1]\",\"m[1,2]\",\"m[2,1]\",\"m[2, 2]\"\n1,2,3,4\n").unwrap();
        assert_eq!(d["m"].shape, [1, 2, 2]);
        assert_eq!(d["m"].values, [1.0, 2.0, 3.0, 4.0]);
        let d = from_csv("y[1]\n1\n2\n").unwrap();
        assert_eq!(d["y"].shape, [2, 1]);
    }

    #[test]
    fn csv_element_column_errors() {
        let cases = [
            (
                "y[1],y[3]\n1,2\n",
                "the header has no column `y[2]`: the columns of `y` must cover every element from `y[1]` to `y[3]`",
            ),
            (
                "\"m[1,1]\",\"m[1,2]\",\"m[2,1]\"\n1,2,3\n",
                "the header has no column `m[2,2]`",
            ),
            (
                "m[1,1]\n1\n",
                "column 1 is named `m[1`: the name of an element column with several indices holds a comma, so it is quoted, like \"m[1,2]\"",
            ),
            ("y,y[1]\n1,2\n", "the header has both `y` and `y[1]`"),
            (
                "y[1],\"y[1,2]\"\n1,2\n",
                "columns `y[1]` and `y[1,2]` give `y` different numbers of indices",
            ),
            (
                "y[0]\n1\n",
                "column `y[0]`: an element column is named like `y[1]`",
            ),
            ("y[a]\n1\n", "column `y[a]`"),
            ("y[1\n1\n", "column 1 is named `y[1`"),
            ("[1]\n1\n", "column `[1]`"),
            ("y[1],y[ 1]\n1,2\n", "the header names `y[1]` twice"),
        ];
        for (text, expect) in cases {
            let e = from_csv(text).unwrap_err();
            assert!(e.contains(expect), "{text:?}: {e}");
        }
    }

    #[test]
    fn several_files_merge_and_a_name_given_twice_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let scalars = dir.path().join("scalars.json");
        let series = dir.path().join("series.csv");
        std::fs::write(&scalars, r#"{"N": 3}"#).unwrap();
        std::fs::write(&series, "t,y\n1,2\n").unwrap();
        let d = DataSet::read_all(&[scalars.clone(), series.clone()]).unwrap();
        assert_eq!(d.get("N"), Some(&DataValue::scalar(3.0)));
        assert_eq!(d.get("y").unwrap().values, [2.0]);
        assert_eq!(d.files(), [scalars.as_path(), series.as_path()]);
        assert_eq!(d.path.as_deref(), Some(scalars.as_path()));
        assert_eq!(
            d.source(),
            format!("the data files {}, {}", scalars.display(), series.display())
        );
        let twice = dir.path().join("twice.csv");
        std::fs::write(&twice, "N\n4\n").unwrap();
        let e = DataSet::read_all(&[scalars.clone(), series, twice.clone()]).unwrap_err();
        assert_eq!(
            e,
            format!(
                "`N` is given twice: by the data file {} and by the data file {}",
                scalars.display(),
                twice.display()
            )
        );
        let none = DataSet::read_all(&[]).unwrap();
        assert_eq!(none, DataSet::default());
        assert_eq!(none.source(), "no data file (give one with --data)");
    }
}
