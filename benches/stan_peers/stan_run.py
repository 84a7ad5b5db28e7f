#!/usr/bin/env python3
"""Times PyStan 3 (httpstan, Stan's NUTS with diagonal metric adaptation) on the models.

For each model: delete the model from httpstan's cache and time `stan.build` (stanc + g++),
then R times: ONE chain, 1000 warm-up + 1000 draws, seed SEED + r. Times are Stan's own
(its "Elapsed Time: … seconds (Warm-up|Sampling)" messages). Through httpstan, handing
every draw to Python costs more than sampling a cheap model, so each run samples twice
with the same seed, hence the same chain: once keeping only one draw in 1000 (num_thin =
1000), whose sampling time is Stan's computation alone (`sampling_s`), and once keeping
every draw, for the ESS and the sampling time with httpstan's output (`sampling_io_s`).
Bulk ESS by ArviZ over the model's parameters; ESS/s = min bulk ESS / sampling_s. Prints
one JSON line per model with the medians over the R runs (and every run's figures).
Usage: .venv/bin/python stan_run.py [--models a,b] [--runs R] [--jsonl FILE]
"""
import argparse
import json
import os
import re
import tempfile
import time

import httpstan.cache
import httpstan.models
import stan

from common import (DRAWS, az, MODELS, SEED, WARMUP, bulk_ess, data_path, emit, log, median_summary,
                    model_path, wait_quiet)

ELAPSED = re.compile(rb"([0-9.eE+-]+) seconds \((Warm-up|Sampling)\)")
KEYS = ["build_s", "warmup_s", "sampling_s", "sampling_io_s", "wall_s", "min_ess", "mean_ess",
        "min_ess_per_s", "min_ess_per_io_s", "leapfrog_per_draw", "gradients_per_s"]


def stan_times(fit):
    """Stan's own warm-up and sampling seconds, from the logger messages of the one chain."""
    found = {kind.decode(): float(sec) for sec, kind in ELAPSED.findall(fit.stan_outputs[0])}
    return found.get("Warm-up"), found.get("Sampling")


def draws_dataset(fit, params):
    return az.convert_to_dataset({p: fit[p].T[None, ...] for p in params})  # (chain, draw, ...)


def run_model(name, runs, quiet_load):
    code = model_path(name, "stan").read_text()
    data = json.loads(data_path(name).read_text())
    params = MODELS[name]
    httpstan.cache.delete_model_directory(httpstan.models.calculate_model_name(code))
    build_load = wait_quiet(quiet_load)
    t0 = time.perf_counter()
    stan.build(code, data=data, random_seed=SEED)
    build_s = time.perf_counter() - t0
    results = []
    for r in range(runs):
        # a new seed per run: httpstan caches fits by their arguments
        posterior = stan.build(code, data=data, random_seed=SEED + r)
        load = wait_quiet(quiet_load)
        lean = posterior.sample(num_chains=1, num_warmup=WARMUP, num_samples=DRAWS, num_thin=DRAWS)
        warmup_s, sampling_s = stan_times(lean)
        t0 = time.perf_counter()
        fit = posterior.sample(num_chains=1, num_warmup=WARMUP, num_samples=DRAWS)
        wall_s = time.perf_counter() - t0
        sampling_io_s = stan_times(fit)[1]
        # the thinned run kept the first draw: the same chain, or the comparison is void
        same = all((lean[p][..., 0] == fit[p][..., 0]).all() for p in params)
        if not same:
            log(f"stan {name} run {r + 1}: the thinned and the full run differ (sampling_s is not comparable)")
        min_ess, mean_ess = bulk_ess(draws_dataset(fit, params), params)
        res = {"build_s": build_s if r == 0 else None, "warmup_s": warmup_s, "sampling_s": sampling_s,
               "sampling_io_s": sampling_io_s, "wall_s": wall_s, "min_ess": min_ess, "mean_ess": mean_ess,
               "min_ess_per_s": min_ess / sampling_s if sampling_s else None,
               "min_ess_per_io_s": min_ess / sampling_io_s if sampling_io_s else None,
               "leapfrog_per_draw": float(fit["n_leapfrog__"].mean()),
               "gradients_per_s": float(fit["n_leapfrog__"].sum()) / sampling_s if sampling_s else None,
               "same_chain": same, "divergent": int(fit["divergent__"].sum()), "load1": load}
        log(f"stan {name} run {r + 1}/{runs}: {json.dumps(res)}")
        results.append(res)
    rec = median_summary("stan", name, results, KEYS)
    rec["build_s"], rec["build_load1"] = build_s, build_load
    return rec


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--jsonl", help="also append the JSON lines to this file")
    ap.add_argument("--quiet-load", type=float, help="before each run, wait until the load average is below this")
    args = ap.parse_args()
    # httpstan compiles in ./build: keep that out of the source tree
    with tempfile.TemporaryDirectory(prefix="stan-peers-build-") as tmp:
        os.chdir(tmp)
        for name in args.models.split(","):
            emit(run_model(name, args.runs, args.quiet_load), args.jsonl)


if __name__ == "__main__":
    main()
