#!/usr/bin/env python3
"""Prints the markdown table from the JSON lines of stan_run.py and ito_run.py.
Usage: python3 table.py RESULTS.jsonl"""
import json
import sys

MODELS = ["eight_schools", "std_normal_100", "logistic_regression"]


def fmt(v, digits=3):
    if v is None:
        return "–"
    return f"{v:.{digits}g}" if abs(v) < 1000 else f"{v:,.0f}"


def main(path):
    recs = {}
    for line in open(path):
        rec = json.loads(line)
        recs[(rec["side"], rec["model"])] = rec
    print("| model | Stan build s | Stan sampling s | (with httpstan output) | Stan min bulk ESS "
          "| Stan min bulk-ESS/s | ito total s | ito sampling s | ito min bulk ESS | ito min bulk-ESS/s "
          "| ito / Stan ESS/s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for m in MODELS:
        s, i = recs.get(("stan", m), {}), recs.get(("ito", m), {})
        if not s and not i:
            continue
        ratio = None
        if s.get("min_ess_per_s") and i.get("min_ess_per_s"):
            ratio = i["min_ess_per_s"] / s["min_ess_per_s"]
        print(f"| {m} | {fmt(s.get('build_s'))} | {fmt(s.get('sampling_s'))} | {fmt(s.get('sampling_io_s'))} "
              f"| {fmt(s.get('min_ess'))} "
              f"| {fmt(s.get('min_ess_per_s'))} | {fmt(i.get('total_s'))} | {fmt(i.get('sampling_s'))} "
              f"| {fmt(i.get('min_ess'))} | {fmt(i.get('min_ess_per_s'))} "
              f"| {fmt(ratio) + '×' if ratio else '–'} |")
    print()
    print("| model | Stan leapfrog steps / draw | Stan gradients/s | ito leapfrog steps / draw | ito gradients/s |")
    print("|---|---:|---:|---:|---:|")
    for m in MODELS:
        s, i = recs.get(("stan", m), {}), recs.get(("ito", m), {})
        if s or i:
            print(f"| {m} | {fmt(s.get('leapfrog_per_draw'))} | {fmt(s.get('gradients_per_s'))} "
                  f"| {fmt(i.get('leapfrog_per_draw'))} | {fmt(i.get('gradients_per_s'))} |")


if __name__ == "__main__":
    main(sys.argv[1])
