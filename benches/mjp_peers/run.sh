#!/usr/bin/env bash
# ito's exact SSA side by side with rebop, one thread: builds the harness and ito in
# release, regenerates the ring models, then for every model times rebop's define_system!,
# its run-time Gillespie API (dense and sparse), `ito run --method ssa --threads 1` and
# `--method nrm`, each 5 runs of M trajectories (M chosen so that a run lasts >= 1 s),
# and prints the medians side by side. Extra arguments go to the harness (e.g.
# --models vilar,sir_10k --impls macro,ssa --runs 3 --min-secs 0.5).
# Output: the table on stdout, also saved to $CARGO_TARGET_DIR/mjp-peers.md, and every
# run's figures as JSON lines in $CARGO_TARGET_DIR/mjp-peers.jsonl.
# With MJP_PEERS_PY=1, also rebop's Python package and GillesPy2 (SSACSolver) on Vilar
# (setup_py.sh makes target/mjp-venv from PyPI; py_peers.py), after the table.
# Usage: bash benches/mjp_peers/run.sh [harness options]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
bin="$CARGO_TARGET_DIR/release"

(cd "$root" && cargo build --release --quiet)
# The first build of the harness takes about 4 minutes: rebop's macro expands the
# 1,000-reaction ring in time quadratic in its size.
(cd "$here" && cargo build --release --quiet)
"$bin/mjp_peers" gen-models "$here/models"

echo "== $(date -u +%Y-%m-%dT%H:%MZ), ito $(git -C "$root" rev-parse --short HEAD), rebop 0.10.0, $(nproc) cores"
"$bin/mjp_peers" bench --ito "$bin/ito" --root "$root" --json "$CARGO_TARGET_DIR/mjp-peers.jsonl" "$@" \
    | tee "$CARGO_TARGET_DIR/mjp-peers.md"

if [ "${MJP_PEERS_PY:-0}" = 1 ]; then
    bash "$here/setup_py.sh"
    # GillesPy2 builds its C++ solver with `python -m SCons`, found through PATH.
    PATH="$root/target/mjp-venv/bin:$PATH" "$root/target/mjp-venv/bin/python" "$here/py_peers.py" \
        | tee "$CARGO_TARGET_DIR/mjp-peers-py.txt"
fi
