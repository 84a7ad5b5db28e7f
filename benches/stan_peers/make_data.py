#!/usr/bin/env python3
"""Writes data/*.json, shared by the Stan and ito models (standard library only).

eight_schools: copied from examples/eight_schools.data.json.
std_normal_100: no data ({}).
logistic_regression: N = 1000, K = 10, X[n, k] ~ Normal(0, 1), alpha = 0.5,
beta[k] ~ Normal(0, 1), y[n] ~ Bernoulli(logistic(alpha + X[n] . beta)); seed 20261123.
Usage: python3 benches/stan_peers/make_data.py
"""
import json
import math
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SEED = 20261123


def logistic_regression(n=1000, k=10, alpha=0.5):
    rng = random.Random(SEED)
    beta = [rng.gauss(0, 1) for _ in range(k)]
    x = [[rng.gauss(0, 1) for _ in range(k)] for _ in range(n)]
    y = []
    for row in x:
        eta = alpha + sum(a * b for a, b in zip(row, beta))
        y.append(1 if rng.random() < 1 / (1 + math.exp(-eta)) else 0)
    x = [[float(f"{v:.10g}") for v in row] for row in x]
    return {"N": n, "K": k, "X": x, "y": y}, {"alpha": alpha, "beta": beta}


def write(name, data):
    path = HERE / "data" / f"{name}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print("wrote", path.relative_to(ROOT))


def main():
    write("eight_schools", json.loads((ROOT / "examples/eight_schools.data.json").read_text()))
    write("std_normal_100", {})
    data, truth = logistic_regression()
    write("logistic_regression", data)
    print("logistic_regression truth: alpha", truth["alpha"],
          "beta", [round(b, 4) for b in truth["beta"]], "mean y", sum(data["y"]) / len(data["y"]))


if __name__ == "__main__":
    main()
