#!/usr/bin/env bash
# `ito filter` beside `particles` (N. Chopin's SMC library) on an OU and a SIR state-space
# model: builds ito (release), sets up the venv if needed, times both sides (R runs each,
# default 5, medians), checks that the log-likelihood estimates agree (N filters each,
# default 20), and prints the markdown tables. JSON lines: $OUT/pf-peers.jsonl, tables:
# $OUT/pf-peers.md, progress: $OUT/pf-peers.log (OUT defaults to $CARGO_TARGET_DIR or
# target/ at the repository root).
# Usage: bash benches/pf_peers/run.sh [--runs R] [--agree N] [--cases ou_em10,ou_exact,sir] [--ito PATH]
#        QUIET_LOAD=1.5 bash benches/pf_peers/run.sh   # wait for a load average < 1.5 before each run
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
out="${OUT:-$target}"
runs=5 agree=20 cases="ou_em10,ou_exact,sir" ito=""
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --agree) agree="$2"; shift 2 ;;
        --cases) cases="$2"; shift 2 ;;
        --ito) ito="$2"; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
if [ -z "$ito" ]; then
    (cd "$root" && cargo build --release --quiet)
    ito="$target/release/ito"
fi
"$ito" filter --help >/dev/null 2>&1 || { echo "$ito has no \`filter\` command" >&2; exit 1; }
quiet=()
[ -n "${QUIET_LOAD:-}" ] && quiet=(--quiet-load "$QUIET_LOAD")
mkdir -p "$out"
bash "$here/setup.sh"
py="$here/.venv/bin/python"
{
    echo "== $(date -u +%Y-%m-%dT%H:%MZ), ito $("$ito" --version | cut -d' ' -f2) ($(git -C "$root" rev-parse --short HEAD)), $("$py" -c 'import importlib.metadata as md, sys; print("Python", sys.version.split()[0], "particles", md.version("particles"), "numpy", md.version("numpy"), "scipy", md.version("scipy"), "numba", md.version("numba"))'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
    "$py" "$here/bench.py" --ito "$ito" --runs "$runs" --agree "$agree" --cases "$cases" \
        --jsonl "$out/pf-peers.jsonl" "${quiet[@]}" 2>"$out/pf-peers.log"
} | tee "$out/pf-peers.md"
