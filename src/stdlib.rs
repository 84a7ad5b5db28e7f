//! The standard library: `.sde` modules shipped inside the binary, imported as `std/<name>`.

const MODULES: &[(&str, &str)] = &[
    ("std/chaos", include_str!("../stdlib/chaos.sde")),
    ("std/epidemics", include_str!("../stdlib/epidemics.sde")),
    ("std/finance", include_str!("../stdlib/finance.sde")),
    ("std/kinetics", include_str!("../stdlib/kinetics.sde")),
    ("std/langevin", include_str!("../stdlib/langevin.sde")),
    ("std/math", include_str!("../stdlib/math.sde")),
    ("std/oscillators", include_str!("../stdlib/oscillators.sde")),
    ("std/spins", include_str!("../stdlib/spins.sde")),
];

/// The source of a stdlib module, by import path (`std/kinetics`).
pub fn module(path: &str) -> Option<&'static str> {
    MODULES.iter().find(|(p, _)| *p == path).map(|(_, s)| *s)
}

/// Every stdlib module: (import path, source).
pub fn modules() -> impl Iterator<Item = (&'static str, &'static str)> {
    MODULES.iter().copied()
}
