"""Times `ito filter` and `particles` side by side, and checks that their log-likelihood
estimates agree. Run by run.sh (which builds ito and makes the venv); run it with the
venv's python:

    .venv/bin/python bench.py --ito ../../target/release/ito [--runs 5] [--agree 20]
                              [--cases ou_em10,ou_exact,sir] [--jsonl FILE] [--quiet-load L]

Timing: for run r = 0..R-1 every configuration runs once, as its own process, seed 1 + r
(configurations interleaved, so a change in the machine's load hits all of them alike);
the table gives medians over the R runs. "filter s" is each filter's own timer (ito's
"particle-steps in X s" line; particles' perf_counter around SMC.run(), after a warm-up
filter on 3 observations that compiles particles' numba resampling code), and
particle-steps/s = particles x observation times / filter s. "wall s" is the whole
command: process start, imports or model compilation, data loading, the filter.

`ito filter` records the filtering distribution (weighted mean, sd and quantiles of every
state at every observation time, for its table) as part of the timed filter; particles
records nothing of the kind by default. The rows "no summaries (derived)" take that out:
`ito filter --repeat 6` runs the recorded filter and 5 unrecorded ones, so one
unrecorded filter takes (T(repeat 6) - T(repeat 1)) / 5, with T(repeat 1) from the same
run's plain row.

Agreement (--agree N, 0 to skip): N filters per implementation with seeds 1001.. (ito:
one process per seed; particles: one process for all N), mean and standard error of the
log-likelihood estimates, the difference from particles' mean in standard errors, and
for OU the exact log-likelihood of the same discretised model (Kalman filter).
"""

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import pf_models as m  # noqa: E402

PY = sys.executable

# name -> (model, particles, ito model file, ito method args, python variants, title)
CASES = {
    "ou_em10": (
        "ou",
        10_000,
        "models/ou.sde",
        ["--method", "em", "--dt", "0.1"],
        ["em10"],
        "OU, 10 Euler-Maruyama steps per interval, 100 observations",
    ),
    "ou_exact": (
        "ou",
        10_000,
        "models/ou_exact.sde",
        ["--method", "em", "--dt", "1"],
        ["exact"],
        "OU, exact AR(1) transition (one step per interval), 100 observations",
    ),
    "sir": (
        "sir",
        2_000,
        "models/sir.sde",
        ["--method", "ssa"],
        ["loop", "vec", "numba"],
        "SIR, exact SSA, 14 observations",
    ),
}
THREADS = [1, 2]
REPEAT_K = 5
VARIANT_LABEL = {
    "em10": "particles (numpy)",
    "exact": "particles (numpy)",
    "loop": "particles, SSA in a Python loop",
    "vec": "particles, SSA vectorised (numpy lock-step)",
    "numba": "particles, SSA in numba",
}

STEPS_RE = re.compile(r"([\d,_]+)\s+particle-steps in\s+([\d.eE+-]+)\s*(s|ms|µs|us)\b")
LL_RE = re.compile(r"log-likelihood estimate:\s*(-?[\d.eE+-]+|-?inf|NaN)", re.IGNORECASE)
UNIT = {"s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6}


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def wait_quiet(limit):
    if limit is None:
        return
    t0 = time.time()
    while loadavg() >= limit and time.time() - t0 < 300:
        time.sleep(5)


def run_ito(ito, case, threads, seed, repeat=1):
    model, n, path, method, _, _ = CASES[case]
    cmd = [ito, "filter", os.path.join(here, path), "--data",
           os.path.join(here, "data", f"{model}.json"), "--particles", str(n),
           "--seed", str(seed), "--threads", str(threads), "--repeat", str(repeat)] + method
    load = loadavg()
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{p.stderr}{p.stdout}")
    out = p.stdout + p.stderr
    ms, ml = STEPS_RE.search(out), LL_RE.search(out)
    if not ms or not ml:
        raise RuntimeError(f"cannot read the output of {' '.join(cmd)}:\n{out}")
    steps = int(ms.group(1).replace(",", "").replace("_", ""))
    secs = float(ms.group(2)) * UNIT[ms.group(3)]
    return {"side": "ito", "case": case, "impl": f"ito, {threads} thread" + "s" * (threads > 1),
            "threads": threads, "particles": n, "seed": seed, "loglik": float(ml.group(1)),
            "filter_s": secs, "particle_steps": steps, "steps_per_s": steps / secs,
            "wall_s": wall, "load": load, "repeat": repeat}


def run_py(case, variant, seed, runs=1):
    model, n = CASES[case][0], CASES[case][1]
    cmd = [PY, os.path.join(here, "py_filter.py"), "--model", model, "--variant", variant,
           "--particles", str(n), "--seed", str(seed), "--runs", str(runs)]
    load = loadavg()
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{p.stderr}")
    recs = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    for r in recs:
        r.update(case=case, impl=VARIANT_LABEL[variant], wall_s=wall if runs == 1 else None,
                 load=load)
    return recs


def configs(cases):
    for case in cases:
        for t in THREADS:
            yield ("ito", case, t)
        for t in THREADS:
            yield ("ito_rep", case, t)
        for v in CASES[case][4]:
            yield ("py", case, v)


def timing(ito, cases, runs, quiet, emit):
    rows = {}
    for r in range(runs):
        for cfg in configs(cases):
            wait_quiet(quiet)
            side, case, arg = cfg
            if side == "ito":
                rec = run_ito(ito, case, arg, 1 + r)
            elif side == "ito_rep":
                # --repeat 1+K runs the recorded filter then K unrecorded ones: per filter,
                # without the summaries, (T(1+K) - T(1)) / K, T(1) from this run's plain row.
                rec = run_ito(ito, case, arg, 1 + r, repeat=1 + REPEAT_K)
                t1 = rows[("ito", case, arg)][-1]["filter_s"]
                rec.update(filter_s_total=rec["filter_s"], filter_s=(rec["filter_s"] - t1) / REPEAT_K,
                           impl=rec["impl"] + ", no summaries (derived)")
            else:
                rec = run_py(case, arg, 1 + r)[0]
            rec["run"] = r
            emit(rec)
            rows.setdefault(cfg, []).append(rec)
            print(f"  run {r + 1}/{runs} {case:8} {rec['impl']:44} {rec['filter_s']:8.3f} s"
                  f"  wall {rec['wall_s']:6.2f} s  load {rec['load']:.2f}", file=sys.stderr)
    return rows


def fmt_rate(x):
    for div, suf in ((1e6, "M"), (1e3, "k")):
        if x >= div:
            return f"{x / div:.3g}{suf}"
    return f"{x:.3g}"


def timing_table(rows, cases, runs):
    out = []
    for case in cases:
        model, n, _, _, _, title = CASES[case]
        nobs = len(m.OU_T if model == "ou" else m.SIR_T)
        out.append(f"\n**{title}**, {n:,} particles ({n * nobs:,} particle-steps), median of {runs}:\n")
        out.append("| implementation | filter s | particle-steps/s | wall s | vs particles |")
        out.append("| --- | ---: | ---: | ---: | ---: |")
        med = {}
        for cfg in configs([case]):
            recs = rows[cfg]
            med[cfg] = (statistics.median(x["filter_s"] for x in recs),
                        statistics.median(x["wall_s"] for x in recs), recs[0]["impl"])
        base = med[("py", case, CASES[case][4][0])][0]
        for cfg, (fs, wall, impl) in med.items():
            rate = n * nobs / fs
            wall_s = "–" if cfg[0] == "ito_rep" else f"{wall:.2f}"
            out.append(f"| {impl} | {fs:.3g} | {fmt_rate(rate)} | {wall_s} | {base / fs:.3g}x |")
    return "\n".join(out)


def agreement(ito, cases, n_agree, emit):
    out = ["\n**Log-likelihood estimates** (" + str(n_agree) + " independent filters each, seeds "
           f"1001..{1000 + n_agree}; mean ± standard error, sd of one estimate; z = difference "
           "from the first particles row in standard errors of the difference):\n",
           "| model | implementation | mean log-lik | ± s.e. | sd | z |",
           "| --- | --- | ---: | ---: | ---: | ---: |"]
    for case in cases:
        model = CASES[case][0]
        groups = []
        for v in CASES[case][4]:
            recs = run_py(case, v, 1001, runs=n_agree)
            for r in recs:
                emit(dict(r, agree=True))
            groups.append((VARIANT_LABEL[v], [r["loglik"] for r in recs]))
            print(f"  agreement {case} {v} done", file=sys.stderr)
        recs = [run_ito(ito, case, 2, 1001 + i) for i in range(n_agree)]
        for r in recs:
            emit(dict(r, agree=True))
        groups.append(("ito", [r["loglik"] for r in recs]))
        print(f"  agreement {case} ito done", file=sys.stderr)
        ref_mean = statistics.mean(groups[0][1])
        ref_se = statistics.stdev(groups[0][1]) / math.sqrt(n_agree)
        for label, lls in groups:
            mean, sd = statistics.mean(lls), statistics.stdev(lls)
            se = sd / math.sqrt(n_agree)
            z = "" if label == groups[0][0] else f"{(mean - ref_mean) / math.hypot(se, ref_se):+.2f}"
            out.append(f"| {case} | {label} | {mean:.3f} | {se:.3f} | {sd:.3f} | {z} |")
        if model == "ou":
            with open(os.path.join(here, "data", "ou.json")) as f:
                ys = json.load(f)["y"]
            kind = "exact" if case == "ou_exact" else "em10"
            out.append(f"| {case} | exact (Kalman filter) | {m.kalman_loglik(ys, kind):.3f} | | | |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ito", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--agree", type=int, default=20)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--jsonl")
    ap.add_argument("--quiet-load", type=float)
    args = ap.parse_args()
    cases = [c for c in args.cases.split(",") if c]
    for c in cases:
        if c not in CASES:
            ap.error(f"unknown case {c}; known: {', '.join(CASES)}")
    jf = open(args.jsonl, "w") if args.jsonl else None

    def emit(rec):
        if jf:
            jf.write(json.dumps(rec) + "\n")
            jf.flush()

    loads = [loadavg()]
    if args.runs > 0:
        rows = timing(args.ito, cases, args.runs, args.quiet_load, emit)
        loads += [x["load"] for recs in rows.values() for x in recs]
        print(timing_table(rows, cases, args.runs))
    if args.agree > 0:
        print(agreement(args.ito, cases, args.agree, emit))
    loads.append(loadavg())
    print(f"\nLoad average (1 min) during the runs: median {statistics.median(loads):.2f}, "
          f"range {min(loads):.2f}-{max(loads):.2f} on {os.cpu_count()} cores.")


if __name__ == "__main__":
    main()
