#!/usr/bin/env python3
"""Times `ito infer` on the same models, data and protocol as stan_run.py.

R times per model: `ito infer models/M.sde --data data/M.json --chains 1 --warmup 1000
--draws 1000 --seed SEED+r --threads 1 --out TMP.csv`. The whole command's wall clock is
taken; the sampling time is read from the CSV's CmdStan-style footer
("#  Elapsed Time: a seconds (Warm-up)" / "#  b seconds (Sampling)") when present. The CSV
is read with arviz.from_cmdstan and bulk ESS computed as for Stan; ESS/s = min bulk ESS /
sampling time (the wall clock when there is no footer).
Usage: .venv/bin/python ito_run.py [--ito PATH] [--models a,b] [--runs R] [--jsonl FILE]
"""
import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import (DRAWS, az, MODELS, ROOT, SEED, WARMUP, bulk_ess, data_path, emit, log, median_summary,
                    model_path, wait_quiet)

ELAPSED = re.compile(r"([0-9.eE+-]+) seconds \((Warm-up|Sampling)\)")
KEYS = ["total_s", "warmup_s", "sampling_s", "min_ess", "mean_ess", "min_ess_per_s", "leapfrog_per_draw",
        "gradients_per_s"]


def footer_times(csv):
    found = {}
    for line in Path(csv).read_text().splitlines():
        if line.startswith("#"):
            for sec, kind in ELAPSED.findall(line):
                found[kind] = float(sec)
    return found.get("Warm-up"), found.get("Sampling")


def check_infer(ito):
    if not Path(ito).is_file():
        sys.exit(f"ito_run: no ito binary at {ito} (build it: cargo build --release, or pass --ito PATH)")
    probe = subprocess.run([ito, "infer", "--help"], capture_output=True, text=True)
    if probe.returncode != 0:
        sys.exit(f"ito_run: `{ito} infer` is not available in this build of ito "
                 f"({(probe.stderr or probe.stdout).strip().splitlines()[0]}); the ito side cannot run yet")


def run_model(ito, name, runs, tmp, quiet_load):
    params = MODELS[name]
    results = []
    for r in range(runs):
        out = Path(tmp) / f"{name}_{r}.csv"
        cmd = [ito, "infer", str(model_path(name, "sde")), "--data", str(data_path(name)),
               "--chains", "1", "--warmup", str(WARMUP), "--draws", str(DRAWS),
               "--seed", str(SEED + r), "--threads", "1", "--out", str(out)]
        load = wait_quiet(quiet_load)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        total_s = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"ito_run: {' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
        warmup_s, sampling_s = footer_times(out)
        idata = az.from_cmdstan(str(out))
        min_ess, mean_ess = bulk_ess(idata.posterior, params)
        leapfrogs = idata.sample_stats["n_steps"].values
        res = {"total_s": total_s, "warmup_s": warmup_s, "sampling_s": sampling_s,
               "min_ess": min_ess, "mean_ess": mean_ess,
               "min_ess_per_s": min_ess / (sampling_s or total_s),
               "leapfrog_per_draw": float(leapfrogs.mean()),
               "gradients_per_s": float(leapfrogs.sum()) / (sampling_s or total_s), "load1": load}
        log(f"ito {name} run {r + 1}/{runs}: {json.dumps(res)}")
        results.append(res)
    return median_summary("ito", name, results, KEYS)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ito", default=str(ROOT / "target/release/ito"))
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--jsonl", help="also append the JSON lines to this file")
    ap.add_argument("--quiet-load", type=float, help="before each run, wait until the load average is below this")
    args = ap.parse_args()
    check_infer(args.ito)
    with tempfile.TemporaryDirectory(prefix="ito-stan-peers-") as tmp:
        for name in args.models.split(","):
            emit(run_model(args.ito, name, args.runs, tmp, args.quiet_load), args.jsonl)


if __name__ == "__main__":
    main()
