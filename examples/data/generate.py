#!/usr/bin/env python3
"""Writes the data files of the regression examples, and prints the Hopfield patterns.

Standard library only, fixed seeds, so the files are reproducible:

    python3 examples/data/generate.py            # writes examples/*.data.json
    python3 examples/data/generate.py --hopfield # prints hopfield.sde's `const` block

linear_regression.data.json    N = 100, K = 3: X[n, k] ~ Normal(0, 1),
                               y = 1.0 + X (0.5, -1.2, 2.0) + 0.7 e,  e ~ Normal(0, 1)
logistic_regression.data.json  N = 200, K = 3: X[n, k] ~ Normal(0, 1),
                               y ~ Bernoulli(logistic(-0.3 + X (1.0, -0.8, 0.4)))
poisson_glm.data.json          N = 150, K = 2: X[n, k] ~ Normal(0, 1), exposure ~ Uniform(0.5, 2),
                               y ~ Poisson(exposure exp(0.8 + X (0.6, -0.35)))
poisson_regression.data.json   N = 100: x[n] ~ Normal(0, 1), y ~ Poisson(exp(1.2 + 0.5 x))
sir_spatial.data.json          a random geometric graph: N = 40 nodes uniform in the unit
                               square, edges between nodes closer than 0.2 (first connected
                               draw), node positions px, py, adjacency A, infected0
"""
import json
import math
import random
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1]


def design(rng, n, k):
    return [[rng.gauss(0, 1) for _ in range(k)] for _ in range(n)]


def linpred(alpha, beta, row):
    return alpha + sum(b * x for b, x in zip(beta, row))


def poisson(rng, lam):
    """Knuth's multiplication method (fine for the small rates here)."""
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def rounded(rows):
    return [[round(v, 6) for v in row] for row in rows]


def linear_regression(rng, n=100, k=3, alpha=1.0, beta=(0.5, -1.2, 2.0), sigma=0.7):
    x = rounded(design(rng, n, k))
    y = [round(linpred(alpha, beta, row) + sigma * rng.gauss(0, 1), 6) for row in x]
    return {"N": n, "K": k, "X": x, "y": y}


def logistic_regression(rng, n=200, k=3, alpha=-0.3, beta=(1.0, -0.8, 0.4)):
    x = rounded(design(rng, n, k))
    y = [int(rng.random() < 1 / (1 + math.exp(-linpred(alpha, beta, row)))) for row in x]
    return {"N": n, "K": k, "X": x, "y": y}


def poisson_glm(rng, n=150, k=2, alpha=0.8, beta=(0.6, -0.35)):
    x = rounded(design(rng, n, k))
    exposure = [round(rng.uniform(0.5, 2.0), 4) for _ in range(n)]
    y = [poisson(rng, e * math.exp(linpred(alpha, beta, row))) for e, row in zip(exposure, x)]
    return {"N": n, "K": k, "X": x, "exposure": exposure, "y": y}


def poisson_regression(rng, n=100, alpha=1.2, beta=0.5):
    x = [round(rng.gauss(0, 1), 6) for _ in range(n)]
    y = [poisson(rng, math.exp(alpha + beta * v)) for v in x]
    return {"N": n, "x": x, "y": y}


def write(name, data):
    path = EXAMPLES / f"{name}.data.json"
    def dump(value):  # a matrix one row per line
        if isinstance(value, list) and value and isinstance(value[0], list):
            return "[\n" + ",\n".join("    " + json.dumps(row) for row in value) + "\n  ]"
        return json.dumps(value)

    lines = [f'  "{key}": {dump(value)}' for key, value in data.items()]
    path.write_text("{\n" + ",\n".join(lines) + "\n}\n")
    print("wrote", path.name)


def hopfield(p=3, n=64, noise=16, seed=64):
    """P random ±1 patterns of N spins, and a cue: pattern 1 with `noise` spins flipped."""
    rng = random.Random(seed)
    xi = [[rng.choice((1, -1)) for _ in range(n)] for _ in range(p)]
    flipped = set(rng.sample(range(n), noise))
    flip = [-1 if i in flipped else 1 for i in range(n)]

    def row(values, indent):
        cells = [f"{v:2d}" for v in values]
        return ",\n".join(indent + ", ".join(cells[j:j + 16]) for j in range(0, n, 16))

    print("  const xi = [")
    print(",\n".join("    [\n" + row(r, "      ") + "\n    ]" for r in xi))
    print("  ]")
    print("  const flip = [\n" + row(flip, "    ") + "\n  ]")


def random_geometric_graph(n=40, radius=0.2, seed=2):
    """Nodes uniform in the unit square (random.Random(seed), coordinates rounded to 3
    decimals), an edge between every two nodes closer than `radius`; the first connected
    draw. Nodes are numbered by their distance from the corner (0, 0), so node 1 is the one
    nearest it, and it is the one infected at the start."""
    rng = random.Random(seed)
    while True:
        pts = [(round(rng.random(), 3), round(rng.random(), 3)) for _ in range(n)]
        pts.sort(key=lambda p: math.hypot(*p))
        adj = [[int(i != j and math.dist(pts[i], pts[j]) < radius) for j in range(n)]
               for i in range(n)]
        seen, stack = {0}, [0]
        while stack:
            i = stack.pop()
            for j in range(n):
                if adj[i][j] and j not in seen:
                    seen.add(j)
                    stack.append(j)
        if len(seen) == n:
            break
    return {
        "N": n,
        "px": [p[0] for p in pts],
        "py": [p[1] for p in pts],
        "A": adj,
        "infected0": [1] + [0] * (n - 1),
    }


def main():
    if "--hopfield" in sys.argv:
        hopfield()
        return
    write("linear_regression", linear_regression(random.Random(101)))
    write("logistic_regression", logistic_regression(random.Random(202)))
    write("poisson_glm", poisson_glm(random.Random(303)))
    write("poisson_regression", poisson_regression(random.Random(404)))
    write("sir_spatial", random_geometric_graph())


if __name__ == "__main__":
    main()
