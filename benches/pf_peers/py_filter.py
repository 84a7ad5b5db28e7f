"""Bootstrap particle filter with `particles` (N. Chopin) on a benchmark model.

    .venv/bin/python py_filter.py --model ou --variant em10 --particles 10000 --seed 1 [--runs R]

Runs R filters (seeds S, S+1, ...) after a small warm-up filter (which compiles the numba
code that `particles` uses for resampling, and the numba SSA when that variant is chosen),
and prints one JSON line per run: log-likelihood estimate, the filter's own time
(`SMC.run()`, perf_counter), particle-steps (particles x observation times) per second.
The filter: particles.SMC(fk=Bootstrap(ssm, data), N=P, resampling="systematic",
ESSrmin=0.5), i.e. systematic resampling when ESS < 0.5 P, as in `ito filter`.
"""

import argparse
import json
import os
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
t_start = time.perf_counter()

import numpy as np  # noqa: E402
import particles  # noqa: E402
from particles import state_space_models as ssms  # noqa: E402

import pf_models as m  # noqa: E402

VARIANTS = {"ou": ["em10", "exact"], "sir": ["loop", "vec", "numba"]}


def load(model):
    with open(os.path.join(here, "data", f"{model}.json")) as f:
        d = json.load(f)
    key = "y" if model == "ou" else "cases"
    return np.array([np.nan if v is None else v for v in d[key]], dtype=float)


def run_filter(ssm, data, n, seed):
    m.seed_all(seed)
    pf = particles.SMC(
        fk=ssms.Bootstrap(ssm=ssm, data=data), N=n, resampling="systematic", ESSrmin=0.5
    )
    t0 = time.perf_counter()
    pf.run()
    return pf.logLt, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=sorted(VARIANTS), required=True)
    ap.add_argument("--variant", required=True)
    ap.add_argument("--particles", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    if args.variant not in VARIANTS[args.model]:
        ap.error(f"--variant for {args.model}: one of {', '.join(VARIANTS[args.model])}")
    data = load(args.model)
    ssm = m.particles_model(args.model, args.variant)
    t_warm = time.perf_counter()
    run_filter(ssm, data[:3], 64, 0)
    warm = time.perf_counter() - t_warm
    for r in range(args.runs):
        seed = args.seed + r
        ll, secs = run_filter(ssm, data, args.particles, seed)
        steps = args.particles * len(data)
        rec = {
            "side": "particles",
            "model": args.model,
            "variant": args.variant,
            "particles": args.particles,
            "seed": seed,
            "loglik": ll,
            "filter_s": secs,
            "particle_steps": steps,
            "steps_per_s": steps / secs,
            "threads": 1,
            "warmup_s": warm if r == 0 else 0.0,
            "startup_s": (t_warm - t_start) if r == 0 else 0.0,
        }
        print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
