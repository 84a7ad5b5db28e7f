#!/usr/bin/env bash
# Creates target/bench-venv with numpy and jax (CPU) from PyPI. Idempotent: does nothing
# when the venv already imports both. Usage: bash benches/sde_peers/setup.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/target/bench-venv"
py="$venv/bin/python"

if [ -x "$py" ] && "$py" -c "import numpy, jax" 2>/dev/null; then
    echo "bench venv ready: $venv ($("$py" -c 'import numpy, jax; print("numpy", numpy.__version__, "jax", jax.__version__)'))"
    exit 0
fi

if [ ! -x "$py" ]; then
    mkdir -p "$root/target"
    if ! python3 -m venv "$venv"; then
        echo "python3 -m venv failed (on Debian/Ubuntu the venv module needs the python3-venv package)" >&2
        exit 1
    fi
fi
"$py" -m pip install --quiet --upgrade pip
"$py" -m pip install --quiet numpy jax
"$py" -c 'import numpy, jax; print("bench venv ready: numpy", numpy.__version__, "jax", jax.__version__, jax.devices())'
