"""Python peers on the Vilar oscillator (examples/vilar.sde), t = 0..200, state every 1:
rebop's Python package (its run-time Gillespie API behind PyO3; each trajectory is one
`run` call returning an xarray Dataset, as a user gets it) and GillesPy2's SSACSolver
(C++; its compilation happens when the solver is built and is excluded, like ito's).

Timing as in the Rust harness: batch size M grown until a batch lasts >= --min-secs, then
--runs batches; the median is reported as trajectories/s. Events per trajectory are not
counted here (the Rust harness counts them for the same model: about 5.5e5).

Usage: python py_peers.py [--runs 5] [--min-secs 1] [--only rebop|gillespy2]
"""

import argparse
import json
import math
import statistics
import time

P = dict(alphaA=50.0, alphaA_b=500.0, alphaR=0.01, alphaR_b=50.0, betaA=50.0, betaR=5.0,
         deltaMA=10.0, deltaMR=0.5, deltaA=1.0, deltaR=0.2, gammaA=1.0, gammaR=1.0,
         gammaC=2.0, thetaA=50.0, thetaR=100.0)
X0 = dict(DA=1, DR=1, DA_b=0, DR_b=0, MA=0, MR=0, A=0, R=0, C=0)
# (rate parameter, reactants, products): examples/vilar.sde, no reactant appears twice.
REACTIONS = [
    ("gammaA", ["DA", "A"], ["DA_b"]), ("thetaA", ["DA_b"], ["DA", "A"]),
    ("gammaR", ["DR", "A"], ["DR_b"]), ("thetaR", ["DR_b"], ["DR", "A"]),
    ("alphaA_b", ["DA_b"], ["DA_b", "MA"]), ("alphaA", ["DA"], ["DA", "MA"]),
    ("alphaR_b", ["DR_b"], ["DR_b", "MR"]), ("alphaR", ["DR"], ["DR", "MR"]),
    ("betaA", ["MA"], ["MA", "A"]), ("betaR", ["MR"], ["MR", "R"]),
    ("gammaC", ["A", "R"], ["C"]), ("deltaA", ["C"], ["R"]),
    ("deltaA", ["A"], []), ("deltaR", ["R"], []),
    ("deltaMA", ["MA"], []), ("deltaMR", ["MR"], []),
]
T_END, STEPS = 200.0, 200


def rebop_batch():
    import rebop
    g = rebop.Gillespie()
    for k, r, p in REACTIONS:
        g.add_reaction(P[k], r, p)

    def run(m, seed):
        for i in range(m):
            ds = g.run(X0, tmax=T_END, nb_steps=STEPS, rng=seed + i)
        return ds
    return run


def gillespy2_batch():
    import gillespy2
    model = gillespy2.Model(name="Vilar")
    model.add_parameter([gillespy2.Parameter(name=k, expression=v) for k, v in P.items()])
    model.add_species([gillespy2.Species(name=k, initial_value=v, mode="discrete")
                       for k, v in X0.items()])
    for i, (k, r, p) in enumerate(REACTIONS):
        def stoich(names):
            d = {}
            for n in names:
                d[n] = d.get(n, 0) + 1
            return d
        model.add_reaction(gillespy2.Reaction(name=f"r{i}", reactants=stoich(r),
                                              products=stoich(p), rate=k))
    model.timespan(gillespy2.TimeSpan.linspace(t=T_END, num_points=STEPS + 1))
    t0 = time.perf_counter()
    solver = gillespy2.SSACSolver(model=model)
    compile_s = time.perf_counter() - t0

    def run(m, seed):
        return model.run(solver=solver, number_of_trajectories=m, seed=seed)
    run.compile_s = compile_s
    return run


def bench(name, run, runs, min_secs):
    m = 1
    while True:
        t0 = time.perf_counter()
        run(m, 1)
        s = time.perf_counter() - t0
        if s >= min_secs:
            break
        if s >= 0.1 * min_secs:
            m = math.ceil(m * 1.2 * min_secs / s)
            break
        m *= max(2, min(100, math.ceil(0.2 * min_secs / max(s, 1e-9))))
    secs = []
    for r in range(runs):
        t0 = time.perf_counter()
        run(m, 1000 + r * m)
        secs.append(time.perf_counter() - t0)
    med = statistics.median(secs)
    row = dict(model="vilar", impl=name, paths_per_run=m, run_secs=secs, median_run_s=med,
               traj_per_s=m / med)
    if hasattr(run, "compile_s"):
        row["compile_s"] = run.compile_s
    print(f"vilar {name:10} {m:5} paths/run, median {med:.3f} s: {m / med:.2f} traj/s"
          + (f" (solver build {run.compile_s:.1f} s)" if "compile_s" in row else ""))
    print(json.dumps(row))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--min-secs", type=float, default=1.0)
    ap.add_argument("--only", choices=["rebop", "gillespy2"])
    a = ap.parse_args()
    if a.only in (None, "rebop"):
        import rebop
        bench(f"rebop-py {rebop.__version__}", rebop_batch(), a.runs, a.min_secs)
    if a.only in (None, "gillespy2"):
        import gillespy2
        bench(f"gillespy2 {gillespy2.__version__} SSACSolver", gillespy2_batch(), a.runs,
              a.min_secs)


if __name__ == "__main__":
    main()
