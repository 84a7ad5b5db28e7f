#!/usr/bin/env bash
# Builds and runs the hand-written Rust loops (hand.rs via hand_main.rs) without touching the
# crate: a scratch Cargo project outside the repo (default /tmp/sde-peers-hand) with the same
# rand / rand_distr versions as the crate's Cargo.lock and the default release profile.
# Extra arguments go to hand_main (e.g. --threads 1,2 --runs 5).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="${SDE_PEERS_HAND_DIR:-/tmp/sde-peers-hand}"
mkdir -p "$dir"
cat > "$dir/Cargo.toml" <<TOML
[package]
name = "sde-peers-hand"
version = "0.0.0"
edition = "2024"

[dependencies]
rand = "0.10.4"
rand_distr = "0.6.0"

[[bin]]
name = "hand_main"
path = "$here/hand_main.rs"
TOML
cp "$root/Cargo.lock" "$dir/Cargo.lock"
cargo build --release --quiet --manifest-path "$dir/Cargo.toml"
"$dir/target/release/hand_main" "$@"
