#!/usr/bin/env bash
# Creates target/mjp-venv with rebop's Python package and GillesPy2 from PyPI (optional
# peers on Vilar, py_peers.py). Idempotent. GillesPy2's SSACSolver compiles C++ at run
# time: it needs g++ and make. Usage: bash benches/mjp_peers/setup_py.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/target/mjp-venv"
py="$venv/bin/python"
if [ -x "$py" ] && "$py" -c "import rebop, gillespy2" 2>/dev/null; then
    exit 0
fi
if [ ! -x "$py" ]; then
    mkdir -p "$root/target"
    python3 -m venv "$venv" || { echo "python3 -m venv failed (Debian: python3-venv)" >&2; exit 1; }
fi
"$py" -m pip install --quiet rebop gillespy2
"$py" -c 'import rebop, gillespy2; print("mjp venv ready: rebop", rebop.__version__, "gillespy2", gillespy2.__version__)'
