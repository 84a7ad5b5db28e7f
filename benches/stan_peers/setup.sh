#!/usr/bin/env bash
# Creates benches/stan_peers/.venv with PyStan 3 (which brings httpstan and a bundled
# Stan; models are compiled at run time with the system g++) and ArviZ, from PyPI.
# Idempotent. Usage: bash benches/stan_peers/setup.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
py="$venv/bin/python"
if [ -x "$py" ] && "$py" -c "import stan, arviz" 2>/dev/null; then
    exit 0
fi
command -v g++ >/dev/null || { echo "g++ is needed to compile Stan models (Debian: g++)" >&2; exit 1; }
if [ ! -x "$py" ]; then
    python3 -m venv "$venv" || { echo "python3 -m venv failed (Debian: python3-venv)" >&2; exit 1; }
fi
"$py" -m pip install --quiet --upgrade pip
"$py" -m pip install --quiet pystan arviz
"$py" -c 'import stan, httpstan, arviz; print("stan venv ready: pystan", stan.__version__, "httpstan", httpstan.__version__, "arviz", arviz.__version__)'
