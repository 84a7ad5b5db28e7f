#!/usr/bin/env bash
# ito's `infer` beside Stan (PyStan 3 / httpstan) on three models: sets up the venv if
# needed, regenerates the data, runs stan_run.py then ito_run.py (R runs each, default 5),
# and prints the markdown table. JSON lines: $OUT/stan-peers.jsonl, table:
# $OUT/stan-peers.md, samplers' chatter: $OUT/stan-peers.log (OUT defaults to
# $CARGO_TARGET_DIR or target/ at the repository root).
# Usage: bash benches/stan_peers/run.sh [--runs R] [--models a,b] [--ito PATH]
#        STAN_ONLY=1 bash benches/stan_peers/run.sh      # skip the ito side
#        QUIET_LOAD=1.6 bash benches/stan_peers/run.sh   # wait for a load average < 1.6 before each run
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${OUT:-${CARGO_TARGET_DIR:-$root/target}}"
runs=5 models="eight_schools,std_normal_100,logistic_regression" ito="$root/target/release/ito"
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --models) models="$2"; shift 2 ;;
        --ito) ito="$2"; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
quiet=()
[ -n "${QUIET_LOAD:-}" ] && quiet=(--quiet-load "$QUIET_LOAD")
mkdir -p "$out"
jsonl="$out/stan-peers.jsonl" log="$out/stan-peers.log"
: > "$jsonl"; : > "$log"

bash "$here/setup.sh"
py="$here/.venv/bin/python"
python3 "$here/make_data.py" >/dev/null
cd "$here"
echo "== $(date -u +%Y-%m-%dT%H:%MZ), ito $(git -C "$root" rev-parse --short HEAD)," \
     "$("$py" -c 'import stan, httpstan, arviz; print("pystan", stan.__version__, "httpstan", httpstan.__version__, "arviz", arviz.__version__)' 2>/dev/null)," \
     "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$py" stan_run.py --models "$models" --runs "$runs" --jsonl "$jsonl" "${quiet[@]}" >/dev/null 2>>"$log"
if [ "${STAN_ONLY:-0}" != 1 ]; then
    "$py" ito_run.py --ito "$ito" --models "$models" --runs "$runs" --jsonl "$jsonl" "${quiet[@]}" >/dev/null 2>>"$log" \
        || { echo "ito side failed (see $log):" >&2; tail -3 "$log" >&2; }
fi
"$py" table.py "$jsonl" | tee "$out/stan-peers.md"
