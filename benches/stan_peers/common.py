"""Shared by stan_run.py and ito_run.py: the models, the protocol, bulk ESS, output."""
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message=".*ArviZ is undergoing a major refactor.*")
import arviz as az  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

# name -> the parameters whose ESS is counted (derived quantities such as eight schools'
# theta are left out, so both sides are measured on the same coordinates)
MODELS = {
    "eight_schools": ["mu", "tau", "eta"],
    "std_normal_100": ["x"],
    "logistic_regression": ["alpha", "beta"],
}
WARMUP = 1000
DRAWS = 1000
SEED = 1234


def model_path(name, ext):
    return HERE / "models" / f"{name}.{ext}"


def data_path(name):
    return HERE / "data" / f"{name}.json"


def bulk_ess(dataset, params):
    """Min and mean bulk ESS over every scalar element of `params` (ArviZ, rank-normalised)."""
    ess = az.ess(dataset, var_names=params, method="bulk")
    values = [float(v) for name in params for v in ess[name].values.ravel()]
    return min(values), statistics.fmean(values)


def median_summary(side, model, runs, keys):
    """One record: per-run figures and the median of each key over the runs."""
    out = {"side": side, "model": model, "runs": len(runs)}
    for key in keys:
        vals = [r[key] for r in runs if r.get(key) is not None]
        out[key] = statistics.median(vals) if vals else None
    out["per_run"] = runs
    return out


def emit(record, jsonl):
    line = json.dumps(record)
    print(line, flush=True)
    if jsonl:
        with open(jsonl, "a") as f:
            f.write(line + "\n")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def wait_quiet(limit, most=120):
    """Waits (at most `most` s) until the 1-minute load average is below `limit` (this
    machine is shared); returns the load average then. No limit: returns at once."""
    start = time.time()
    while limit and os.getloadavg()[0] > limit and time.time() - start < most:
        time.sleep(5)
    return os.getloadavg()[0]
