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
