"""Peer implementations of the ensemble SDE benchmark: numpy and JAX, Euler-Maruyama.

Workloads (the same as hand.rs):
  ou      dx = theta(mu - x)dt + sigma dW, theta=1, mu=0, sigma=0.5, x0=2
  lorenz  stochastic Lorenz-63, sigma=10, rho=28, beta=8/3, eps=1 on each component, x0=y0=z0=1
Both vectorised over paths, one step at a time, float64. Summary bookkeeping: mean and sd
(ddof=1) across paths of each component at t=0, every RECORD_EVERY steps, and at the end.

Timing: one warm-up run, then --runs timed runs; the median is reported as path-steps/s
(paths * steps / seconds). JAX compile time is measured separately (lower + compile) and
excluded. Thread counts are set by the caller through the environment (run_peers.sh).

Usage: python peers.py [--paths 10000] [--steps 1000] [--dt 0.01] [--runs 5] [--seed 42]
                       [--only numpy|jax] [--workload ou|lorenz] [--threads-label N]
"""

import argparse
import json
import math
import os
import statistics
import time

import numpy as np

RECORD_EVERY = 10
OU = dict(theta=1.0, mu=0.0, sigma=0.5, x0=2.0)
LZ = dict(sigma=10.0, rho=28.0, beta=8.0 / 3.0, eps=1.0, x0=1.0)


def record_steps(steps):
    r = list(range(0, steps + 1, RECORD_EVERY))
    if r[-1] != steps:
        r.append(steps)
    return r


def ou_em_check(t, dt):
    """EM's own mean and sd at time t (not the SDE's): a = 1 - theta dt, n = t/dt."""
    a, n = 1.0 - OU["theta"] * dt, round(t / dt)
    var = OU["sigma"] ** 2 * dt * (1 - a ** (2 * n)) / (1 - a * a)
    stationary_sd = math.sqrt(OU["sigma"] ** 2 * dt / (1 - a * a))
    return OU["x0"] * a**n, math.sqrt(var), stationary_sd


# ---------------------------------------------------------------- numpy


def numpy_ou(paths, steps, dt, seed):
    th, mu, sdt = OU["theta"], OU["mu"], OU["sigma"] * math.sqrt(dt)
    rng = np.random.default_rng(seed)
    recs = set(record_steps(steps))
    x = np.full(paths, OU["x0"])
    w = np.empty(paths)
    means, sds = [x.mean()], [x.std(ddof=1)]
    for k in range(1, steps + 1):
        rng.standard_normal(out=w)
        x += th * (mu - x) * dt + sdt * w
        if k in recs:
            means.append(x.mean())
            sds.append(x.std(ddof=1))
    return np.array(means)[:, None], np.array(sds)[:, None]


def numpy_lorenz(paths, steps, dt, seed):
    s, r, b, edt = LZ["sigma"], LZ["rho"], LZ["beta"], LZ["eps"] * math.sqrt(dt)
    rng = np.random.default_rng(seed)
    recs = set(record_steps(steps))
    x, y, z = (np.full(paths, LZ["x0"]) for _ in range(3))
    w = np.empty((3, paths))

    def summary():
        return [v.mean() for v in (x, y, z)], [v.std(ddof=1) for v in (x, y, z)]

    m0, s0 = summary()
    means, sds = [m0], [s0]
    for k in range(1, steps + 1):
        rng.standard_normal(out=w)
        x, y, z = (
            x + s * (y - x) * dt + edt * w[0],
            y + (x * (r - z) - y) * dt + edt * w[1],
            z + (x * y - b * z) * dt + edt * w[2],
        )
        if k in recs:
            m, sd = summary()
            means.append(m)
            sds.append(sd)
    return np.array(means), np.array(sds)


# ---------------------------------------------------------------- JAX


def jax_setup():
    import jax

    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    return jax


def jax_program(jax, drift, x0, noise_scale, paths, steps, dt):
    """EM for dx = drift(x)dt + noise_scale dW, x a tuple of (paths,) arrays, one per component
    (a stacked (dims, paths) state with row slicing ran at half the speed on XLA:CPU).
    Nested lax.scan: the inner one over RECORD_EVERY steps, the outer one emitting the
    per-record (mean, sd). The key is split once per step, one (dims, paths) normal draw."""
    jnp, lax = jax.numpy, jax.lax
    dims = len(x0)
    sdt = noise_scale * math.sqrt(dt)
    full, rest = divmod(steps, RECORD_EVERY)

    def step(carry, _):
        x, key = carry
        key, sub = jax.random.split(key)
        w = jax.random.normal(sub, (dims, paths), dtype=jnp.float64)
        f = drift(x)
        return (tuple(xi + fi * dt + sdt * wi for xi, fi, wi in zip(x, f, w)), key), None

    def summary(x):
        return jnp.stack([jnp.mean(xi) for xi in x]), jnp.stack([jnp.std(xi, ddof=1) for xi in x])

    def record(carry, _, n=RECORD_EVERY):
        carry, _ = lax.scan(step, carry, None, length=n)
        return carry, summary(carry[0])

    def run(key):
        x = tuple(jnp.full(paths, v, dtype=jnp.float64) for v in x0)
        m0, s0 = summary(x)
        carry, (ms, ss) = lax.scan(record, (x, key), None, length=full)
        ms, ss = jnp.concatenate([m0[None], ms]), jnp.concatenate([s0[None], ss])
        if rest:
            carry, (m, s) = record(carry, None, n=rest)
            ms, ss = jnp.concatenate([ms, m[None]]), jnp.concatenate([ss, s[None]])
        return ms, ss

    return jax.jit(run)


def jax_workload(jax, name, paths, steps, dt):
    if name == "ou":

        def ou_drift(u):
            (x,) = u
            return (OU["theta"] * (OU["mu"] - x),)

        return jax_program(jax, ou_drift, [OU["x0"]], OU["sigma"], paths, steps, dt)

    def lorenz_drift(u):
        x, y, z = u
        return (LZ["sigma"] * (y - x), x * (LZ["rho"] - z) - y, x * y - LZ["beta"] * z)

    return jax_program(jax, lorenz_drift, [LZ["x0"]] * 3, LZ["eps"], paths, steps, dt)


# ---------------------------------------------------------------- harness


def time_runs(fn, runs):
    fn()  # warm-up
    secs, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        secs.append(time.perf_counter() - t)
    return secs, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--paths", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=1_000)
    ap.add_argument("--dt", type=float, default=0.01)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--only", choices=["numpy", "jax"])
    ap.add_argument("--workload", choices=["ou", "lorenz"])
    ap.add_argument("--threads-label", default=os.environ.get("SDE_PEERS_THREADS", "?"),
                    help="thread count to report (run_peers.sh sets the environment that enforces it)")
    a = ap.parse_args()

    tools = [t for t in ("numpy", "jax") if a.only in (None, t)]
    workloads = [w for w in ("ou", "lorenz") if a.workload in (None, w)]
    results = []
    for tool in tools:
        jax = jax_setup() if tool == "jax" else None
        for wl in workloads:
            extra = {}
            if tool == "numpy":
                f = numpy_ou if wl == "ou" else numpy_lorenz

                def fn():
                    return f(a.paths, a.steps, a.dt, a.seed)

            else:
                prog = jax_workload(jax, wl, a.paths, a.steps, a.dt)
                key = jax.random.key(a.seed)
                t = time.perf_counter()
                compiled = prog.lower(key).compile()
                extra["compile_s"] = time.perf_counter() - t

                def fn():
                    return jax.block_until_ready(compiled(key))

            secs, (means, sds) = time_runs(fn, a.runs)
            med = statistics.median(secs)
            rate = a.paths * a.steps / med
            mean_t, sd_t = [float(v) for v in means[-1]], [float(v) for v in sds[-1]]
            fmt = lambda v: ",".join(f"{x:.6f}" for x in v)  # noqa: E731
            comp = f" compile_s={extra['compile_s']:.3f}" if extra else ""
            print(f"{tool} {wl} threads={a.threads_label} path_steps_per_s={rate:.4e} median_s={med:.4f} "
                  f"runs={a.runs}{comp} records={len(means)} mean_T={fmt(mean_t)} sd_T={fmt(sd_t)}", flush=True)
            if wl == "ou":
                m, sd, st = ou_em_check(a.steps * a.dt, a.dt)
                print(f"  check: EM at T={a.steps * a.dt:g}: mean={m:.3e} sd={sd:.6f} (EM stationary sd={st:.6f}, "
                      f"MC s.e. of mean={sd / math.sqrt(a.paths):.1e})", flush=True)
            results.append(dict(tool=tool, workload=wl, threads=a.threads_label, paths=a.paths, steps=a.steps,
                                dt=a.dt, runs=a.runs, median_s=med, path_steps_per_s=rate, all_s=secs,
                                mean_T=mean_t, sd_T=sd_t, records=len(means), **extra))
    print("JSON " + json.dumps(results))


if __name__ == "__main__":
    main()
