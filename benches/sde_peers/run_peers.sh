#!/usr/bin/env bash
# Runs peers.py (numpy and JAX) single-threaded and on 2 threads. Extra arguments go to
# peers.py (e.g. --runs 5 --only jax). Each run is pinned with taskset to that many cores, and
# the BLAS/OpenMP/XLA thread knobs are set before Python starts. Output: one line per
# (tool, workload) and a JSON line per thread count; also saved to target/sde-peers-<N>t.txt.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bash "$here/setup.sh"
py="$root/target/bench-venv/bin/python"

for n in ${SDE_PEERS_THREAD_COUNTS:-1 2}; do
    cores="$(seq -s, 0 $((n - 1)))"
    if [ "$n" = 1 ]; then
        xla="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    else
        xla="--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=$n"
    fi
    echo "== $n thread(s): taskset -c $cores, XLA_FLAGS=\"$xla\""
    env XLA_FLAGS="$xla" OMP_NUM_THREADS="$n" MKL_NUM_THREADS="$n" OPENBLAS_NUM_THREADS="$n" \
        SDE_PEERS_THREADS="$n" taskset -c "$cores" "$py" "$here/peers.py" "$@" | tee "$root/target/sde-peers-${n}t.txt"
done
