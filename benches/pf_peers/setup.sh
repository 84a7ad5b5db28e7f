#!/usr/bin/env bash
# Creates benches/pf_peers/.venv with `particles` (N. Chopin's SMC library) and numpy, from
# PyPI. Idempotent: does nothing when the venv already imports both.
# Usage: bash benches/pf_peers/setup.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
py="$venv/bin/python"
if [ -x "$py" ] && "$py" -c "import particles, numpy" 2>/dev/null; then
    exit 0
fi
if [ ! -x "$py" ]; then
    python3 -m venv "$venv" || { echo "python3 -m venv failed (Debian: python3-venv)" >&2; exit 1; }
fi
"$py" -m pip install --quiet --upgrade pip
"$py" -m pip install --quiet particles numpy
"$py" -c 'import particles, numpy, scipy; print("pf venv ready: particles", particles.__version__, "numpy", numpy.__version__, "scipy", scipy.__version__)'
