//! "Did you mean …?" — the closest known name by edit distance.

/// Words from other languages and tools, and what ito calls them.
const SYNONYMS: &[(&str, &str)] = &[
    ("Gaussian", "Normal"),
    ("Norm", "Normal"),
    ("Lognormal", "LogNormal"),
    ("Exp", "Exponential"),
    ("Gauss", "Normal"),
    ("Student", "StudentT"),
    ("NegativeBinomial", "NegBinomial"),
    ("Multinormal", "MultiNormal"),
    ("MvNormal", "MultiNormal"),
    ("float", "real"),
    ("double", "real"),
    ("number", "real"),
    ("integer", "int"),
    ("boolean", "bool"),
    ("min", "lower"),
    ("low", "lower"),
    ("lo", "lower"),
    ("max", "upper"),
    ("high", "upper"),
    ("hi", "upper"),
    ("avg", "mean"),
    ("average", "mean"),
    ("product", "prod"),
    ("total", "sum"),
    ("reflecting", "reflect"),
    ("reflective", "reflect"),
    ("ln", "log"),
    ("sigmoid", "logistic"),
    ("inv_logit", "logistic"),
    ("power", "pow"),
];

/// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions), in chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[n][m]
}

/// The candidate closest to `name`, if it is close enough to be a likely typo: at most one
/// edit for short names, two for longer ones, never more than a third of the name. A case-only
/// difference always counts.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    // Names other tools use for the same thing.
    if let Some(&(_, meant)) = SYNONYMS
        .iter()
        .find(|(other, _)| other.eq_ignore_ascii_case(name))
        && let Some(c) = candidates.iter().find(|c| **c == meant)
    {
        return Some(c);
    }
    let len = name.chars().count();
    // One-letter names are too short for an edit to be telling (`k` → `t`).
    let limit = match len {
        1 => 0,
        2..=3 => 1,
        _ => 2.min(len.div_ceil(3)),
    };
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| {
            let dist = if c.to_lowercase() == name.to_lowercase() {
                0
            } else {
                edit_distance(name, c)
            };
            (dist, c)
        })
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, c)| (d, c))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("sigma", "sigam"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("θ", "θ"), 0);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn suggestions() {
        let names = ["sigma", "mu", "theta", "x"];
        assert_eq!(did_you_mean("sigam", names), Some("sigma"));
        assert_eq!(did_you_mean("thetta", names), Some("theta"));
        assert_eq!(did_you_mean("Sigma", names), Some("sigma"));
        assert_eq!(did_you_mean("nu", names), Some("mu"));
        assert_eq!(did_you_mean("y", names), None);
        assert_eq!(did_you_mean("X", names), Some("x"));
        assert_eq!(did_you_mean("banana", names), None);
        assert_eq!(
            did_you_mean("Gaussian", ["Normal", "Cauchy"]),
            Some("Normal")
        );
        assert_eq!(did_you_mean("min", ["lower", "upper"]), Some("lower"));
        assert_eq!(
            did_you_mean("float", ["bool"]),
            None,
            "a synonym only for a candidate"
        );
    }
}
