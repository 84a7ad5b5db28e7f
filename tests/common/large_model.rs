//! A generated reaction network of the size the performance goal names: 2,000 reactions
//! among 1,000 species, about 5,000 lines. Shared by the benchmark and a test.

/// The model's source text. Deterministic: the same text on every call.
pub fn large_network() -> String {
    const SPECIES: usize = 1000;
    const REACTIONS: usize = 2000;
    let mut out = String::from(
        "// Generated: a random reaction network with 1,000 species and 2,000 reactions.\n\
         model LargeNetwork {\n",
    );
    // A small deterministic generator (xorshift), so no dependency is needed.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    for chunk in (1..=SPECIES).collect::<Vec<_>>().chunks(10) {
        let items: Vec<String> = chunk
            .iter()
            .map(|i| format!("S{i} = {}", 10 + i % 90))
            .collect();
        out += &format!("  species {}\n", items.join(", "));
    }
    for r in 1..=REACTIONS {
        out += &format!("  /// Rate constant of reaction {r}.\n");
        out += &format!("  param k{r}: real<lower=0> = {}e-3\n", 1 + r % 97);
    }
    out += "  reactions {\n";
    for r in 1..=REACTIONS {
        // The first reactant cycles through all species, so that every species takes part.
        let a = (r - 1) % SPECIES + 1;
        let (mut b, c) = (next(SPECIES) + 1, next(SPECIES) + 1);
        if b == a {
            b = a % SPECIES + 1; // `A => A` would change nothing
        }
        let line = match r % 4 {
            0 => format!("    r{r}: S{a} + S{b} -> S{c} @ k{r}"),
            1 => format!("    r{r}: 2 S{a} -> S{b} + S{c} @ k{r}"),
            2 => format!("    r{r}: S{a} => S{b} @ k{r} * S{a} / (1 + S{c})"),
            _ => format!("    r{r}: S{a} -> 0 @ k{r}"),
        };
        out += &line;
        out.push('\n');
    }
    out += "  }\n";
    for i in 1..=(SPECIES / 10) {
        let terms: Vec<String> = (0..10)
            .map(|k| format!("S{}", (i - 1) * 10 + k + 1))
            .collect();
        out += &format!("  output let total{i} = {}\n", terms.join(" + "));
    }
    out += "}\n";
    out
}

/// `n` independent Ornstein–Uhlenbeck equations, each with its own noise: a wide SDE whose
/// diffusion is diagonal (the lowering once grew quadratically with the number of noises).
pub fn wide_sde(n: usize) -> String {
    let mut out = format!("// Generated: {n} independent OU processes.\nmodel WideSde {{\n");
    out += "  /// Mean reversion rate.\n  param theta: real<lower=0> = 1.0\n";
    for i in 1..=n {
        out += &format!("  noise W{i}\n  state x{i} = {}.0\n", i % 7);
        out += &format!("  dx{i} = -theta * x{i} dt + 0.1 dW{i}\n");
    }
    out + "}\n"
}

/// A hierarchical model with `n` scalar parameters, each with its own prior and likelihood:
/// a long log density with a long reverse-mode gradient.
pub fn many_priors(n: usize) -> String {
    let mut out = format!("// Generated: {n} groups, one parameter each.\nmodel ManyPriors {{\n");
    out += "  /// Shared scale.\n  param tau: real<lower=0> ~ HalfNormal(1)\n";
    for i in 1..=n {
        out += &format!("  /// Group {i}'s effect.\n  param eta{i} ~ Normal(0, tau)\n");
        out += &format!("  /// Group {i}'s measurement.\n  data y{i}: real\n");
        out += &format!("  y{i} ~ Normal(eta{i}, 1)\n");
    }
    out + "}\n"
}
