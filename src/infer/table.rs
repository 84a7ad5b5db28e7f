//! The plain-text summary table, in the manner of cmdstan's `stansummary`: one row per
//! quantity, the name left-aligned and the numbers right-aligned.

use super::diagnostics::ParamSummary;

const HEADER: [&str; 10] = [
    "name", "mean", "mcse", "sd", "5%", "50%", "95%", "ess_bulk", "ess_tail", "r_hat",
];

/// Renders the rows as a table, one line per row after the header, each line ending in
/// a newline. Values have 4 significant digits, ESS is a whole number and R-hat has 3
/// decimals; undefined values show as `nan`.
pub fn render(rows: &[(String, ParamSummary)]) -> String {
    let body: Vec<[String; 10]> = rows.iter().map(|(name, s)| cells(name, s)).collect();
    let header = HEADER.map(String::from);
    let lines: Vec<&[String; 10]> = std::iter::once(&header).chain(&body).collect();
    let widths: Vec<usize> = (0..HEADER.len())
        .map(|col| {
            lines
                .iter()
                .map(|l| l[col].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in lines {
        let padded: Vec<String> = line
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(col, (cell, &w))| match col {
                0 => format!("{cell:<w$}"),
                _ => format!("{cell:>w$}"),
            })
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn cells(name: &str, s: &ParamSummary) -> [String; 10] {
    [
        name.to_string(),
        sig4(s.mean),
        sig4(s.mcse_mean),
        sig4(s.sd),
        sig4(s.q5),
        sig4(s.q50),
        sig4(s.q95),
        whole(s.ess_bulk),
        whole(s.ess_tail),
        fixed3(s.rhat),
    ]
}

/// Like C's `%.4g`: 4 significant digits, fixed notation for exponents −4 to 3 and
/// scientific otherwise, trailing zeros dropped.
fn sig4(x: f64) -> String {
    if !x.is_finite() {
        return non_finite(x);
    }
    // Rounding to 4 digits first decides the exponent (9.9996 is 10.00, not 9.9996).
    let sci = format!("{x:.3e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..4).contains(&exp) {
        let decimals = (3 - exp) as usize;
        trim_zeros(format!("{x:.decimals$}"))
    } else {
        format!("{}e{exp}", trim_zeros(mantissa.to_string()))
    }
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn whole(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.0}")
    } else {
        non_finite(x)
    }
}

fn fixed3(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        non_finite(x)
    }
}

fn non_finite(x: f64) -> String {
    match x {
        _ if x.is_nan() => "nan".into(),
        _ if x > 0.0 => "inf".into(),
        _ => "-inf".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_significant_digits() {
        assert_eq!(sig4(0.0), "0");
        assert_eq!(sig4(-0.098690352), "-0.09869");
        assert_eq!(sig4(1.31434567), "1.314");
        assert_eq!(sig4(2.0), "2");
        assert_eq!(sig4(9.9996), "10");
        assert_eq!(sig4(1234.5), "1234");
        assert_eq!(sig4(12345.0), "1.234e4");
        assert_eq!(sig4(0.000123456), "0.0001235");
        assert_eq!(sig4(0.0000123456), "1.235e-5");
        assert_eq!(sig4(f64::NAN), "nan");
        assert_eq!(sig4(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn renders_aligned_rows() {
        let s = ParamSummary {
            mean: -0.09869035284966611,
            sd: 1.3143456701992047,
            mcse_mean: 0.1315973639894548,
            mcse_sd: 0.08707643343738358,
            q5: -2.1248255817149784,
            q50: -0.12347110962120551,
            q95: 2.1073995292337147,
            ess_bulk: 101.20829051891351,
            ess_tail: 196.0837063216903,
            rhat: 1.0286569947515558,
        };
        let constant = ParamSummary {
            mean: 3.0,
            sd: 0.0,
            mcse_mean: f64::NAN,
            mcse_sd: f64::NAN,
            q5: 3.0,
            q50: 3.0,
            q95: 3.0,
            ess_bulk: f64::NAN,
            ess_tail: f64::NAN,
            rhat: f64::NAN,
        };
        let table = render(&[("theta".into(), s), ("sigma[1]".into(), constant)]);
        let expected = "\
name          mean    mcse     sd      5%      50%    95%  ess_bulk  ess_tail  r_hat
theta     -0.09869  0.1316  1.314  -2.125  -0.1235  2.107       101       196  1.029
sigma[1]         3     nan      0       3        3      3       nan       nan    nan
";
        assert_eq!(table, expected);
    }

    #[test]
    fn empty_table_is_the_header() {
        assert_eq!(
            render(&[]),
            "name  mean  mcse  sd  5%  50%  95%  ess_bulk  ess_tail  r_hat\n"
        );
    }
}
