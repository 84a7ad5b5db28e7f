"""The two benchmark models on the Python side, as `particles` state-space models.

The constants here are the ones in models/ou.sde, models/ou_exact.sde and models/sir.sde;
make_data.py simulates the data files from the same dynamics (with the standard library,
so it needs no venv: see `simulate_*` below, which import nothing from numpy).

`particles` counts time from 0 at the first observation: its X_0 is the state at t = 1,
so PX0 is the initial law moved on by one interval (x(0) ~ Normal(0, 1) for OU, (S, I) =
(762, 1) for SIR) and PX moves a state on by one interval (the observations are one time
unit apart in both models).

Variants:
  OU   em10   10 Euler-Maruyama steps of 0.1 per interval (ito: models/ou.sde --method em --dt 0.1)
  OU   exact  the exact AR(1) transition of the OU process, one Gaussian draw per interval
              (ito: models/ou_exact.sde --method em --dt 1, whose single Euler step *is* that
              AR(1) transition: same work per particle, same likelihood)
  SIR  loop   Gillespie's direct method, particle by particle, in pure Python
  SIR  vec    Gillespie's direct method for all particles in lock-step with numpy arrays
  SIR  numba  the `loop` algorithm compiled by numba (a dependency of `particles`)
"""

import math
import random as pyrandom

# ---- OU ---------------------------------------------------------------------------------
THETA, MU, SIGMA, TAU = 0.5, 1.0, 0.8, 0.4
X0_MEAN, X0_SD = 0.0, 1.0
DT, STEPS = 0.1, 10  # Euler-Maruyama steps per unit interval
# Exact transition over one unit: x' = MU + (x - MU) A + SD z
EXACT_A = math.exp(-THETA)
EXACT_SD = SIGMA * math.sqrt((1.0 - math.exp(-2.0 * THETA)) / (2.0 * THETA))
OU_T = list(range(1, 101))

# ---- SIR --------------------------------------------------------------------------------
N_POP, BETA, GAMMA, RHO = 763, 1.7, 0.5, 0.9
S0, I0 = 762, 1
SIR_T = list(range(1, 15))


# ---- standard-library simulators (for make_data.py) -------------------------------------
def simulate_ou(seed):
    """One OU path by the 10-step Euler-Maruyama chain, observed at OU_T."""
    rng = pyrandom.Random(seed)
    x = rng.gauss(X0_MEAN, X0_SD)
    ys = []
    for _ in OU_T:
        for _ in range(STEPS):
            x += THETA * (MU - x) * DT + SIGMA * math.sqrt(DT) * rng.gauss(0.0, 1.0)
        ys.append(rng.gauss(x, TAU))
    return ys


def ssa_interval(s, i, span, rnd, log=math.log):
    """Gillespie's direct method for S + I -> 2 I @ BETA/N, I -> R @ GAMMA over `span`."""
    c, g = BETA / N_POP, GAMMA
    t = 0.0
    while True:
        a1 = c * s * i
        a0 = a1 + g * i
        if a0 <= 0.0:
            return s, i
        t -= log(1.0 - rnd()) / a0
        if t > span:
            return s, i
        if rnd() * a0 < a1:
            s -= 1
            i += 1
        else:
            i -= 1


def poisson_draw(lam, rnd):
    """Poisson(lam) by inversion (sequential search from 0): exact for lam < 700."""
    k, p = 0, math.exp(-lam)
    u, cdf = rnd(), p
    while u > cdf and p > 0.0:
        k += 1
        p *= lam / k
        cdf += p
    return k


def simulate_sir(seed):
    """One exact SIR path, observed as Poisson(RHO I) at SIR_T; also returns I(t)."""
    rng = pyrandom.Random(seed)
    s, i, t_prev = S0, I0, 0.0
    cases, infected = [], []
    for t in SIR_T:
        s, i = ssa_interval(s, i, t - t_prev, rng.random)
        t_prev = t
        infected.append(i)
        cases.append(poisson_draw(RHO * i, rng.random))
    return cases, infected


# ---- exact log-likelihood of the OU models (Kalman filter) ------------------------------
def ou_transition(kind):
    """(a, b, v): x' = a x + b + Normal(0, v) over one unit interval."""
    if kind == "exact":
        return EXACT_A, MU * (1.0 - EXACT_A), EXACT_SD**2
    a_h = 1.0 - THETA * DT
    a = a_h**STEPS
    b = THETA * DT * MU * sum(a_h**j for j in range(STEPS))
    v = SIGMA**2 * DT * sum(a_h ** (2 * j) for j in range(STEPS))
    return a, b, v


def kalman_loglik(ys, kind):
    a, b, v = ou_transition(kind)
    m, p = X0_MEAN, X0_SD**2
    ll = 0.0
    for y in ys:
        m, p = a * m + b, a * a * p + v
        if y is None:
            continue
        s = p + TAU**2
        ll += -0.5 * (math.log(2.0 * math.pi * s) + (y - m) ** 2 / s)
        k = p / s
        m, p = m + k * (y - m), (1.0 - k) * p
    return ll


# ---- particles models (numpy, particles; imported lazily) -------------------------------
def particles_model(model, variant):
    """The `particles` StateSpaceModel for `model` ("ou" / "sir") and `variant`."""
    import numpy as np
    from numpy import random
    from particles import distributions as dists
    from particles import state_space_models as ssms

    if model == "ou" and variant == "em10":

        class EMSteps(dists.ProbDist):
            """x moved on by STEPS Euler-Maruyama steps of DT (x None: drawn from x(0))."""

            dim = 1

            def __init__(self, x=None):
                self.x = x

            def rvs(self, size=None):
                if self.x is None:
                    x = random.normal(X0_MEAN, X0_SD, size=size)
                else:
                    x = np.array(self.x, dtype=float)
                drift, vol = THETA * DT, SIGMA * math.sqrt(DT)
                for _ in range(STEPS):
                    x += drift * (MU - x) + vol * random.standard_normal(size)
                return x

        class OUEM(ssms.StateSpaceModel):
            def PX0(self):
                return EMSteps()

            def PX(self, t, xp):
                return EMSteps(xp)

            def PY(self, t, xp, x):
                return dists.Normal(loc=x, scale=TAU)

        return OUEM()

    if model == "ou" and variant == "exact":
        m1 = MU + (X0_MEAN - MU) * EXACT_A
        s1 = math.sqrt(EXACT_A**2 * X0_SD**2 + EXACT_SD**2)

        class OUExact(ssms.StateSpaceModel):
            def PX0(self):
                return dists.Normal(loc=m1, scale=s1)

            def PX(self, t, xp):
                return dists.Normal(loc=MU + (xp - MU) * EXACT_A, scale=EXACT_SD)

            def PY(self, t, xp, x):
                return dists.Normal(loc=x, scale=TAU)

        return OUExact()

    if model == "sir":
        advance = {"loop": _sir_loop, "vec": _sir_vec, "numba": _sir_numba()}[variant]

        class Gillespie(dists.ProbDist):
            """(S, I) rows moved on by one day of the exact SSA (xp None: from (S0, I0))."""

            dim = 2

            def __init__(self, xp=None):
                self.xp = xp

            def rvs(self, size=None):
                if self.xp is None:
                    x = np.empty((size, 2), dtype=np.int64)
                    x[:, 0], x[:, 1] = S0, I0
                else:
                    x = np.array(self.xp, dtype=np.int64)
                return advance(x, 1.0)

        class Cases(dists.ProbDist):
            def __init__(self, x):
                self.rate = RHO * x[:, 1]

            def logpdf(self, y):
                return dists.Poisson(rate=self.rate).logpdf(y)

        class SIR(ssms.StateSpaceModel):
            def PX0(self):
                return Gillespie()

            def PX(self, t, xp):
                return Gillespie(xp)

            def PY(self, t, xp, x):
                return Cases(x)

        return SIR()

    raise ValueError(f"no variant {variant!r} of {model!r}")


def _sir_loop(x, span):
    """Pure Python: one Gillespie path per particle (standard-library random, which numpy
    seeds in run(); per-event numpy scalar draws would be several times slower)."""
    rnd = pyrandom.random
    out = x.copy()
    for j in range(out.shape[0]):
        s, i = ssa_interval(int(out[j, 0]), int(out[j, 1]), span, rnd)
        out[j, 0], out[j, 1] = s, i
    return out


def _sir_vec(x, span):
    """numpy: every particle's Gillespie path in lock-step, one event each per sweep, the
    sweep over the particles still inside the interval."""
    import numpy as np
    from numpy import random

    c, g = BETA / N_POP, GAMMA
    s = x[:, 0].astype(np.float64)
    i = x[:, 1].astype(np.float64)
    t = np.zeros(len(s))
    live = np.flatnonzero(i > 0)
    while live.size:
        sl, il = s[live], i[live]
        a1 = c * sl * il
        a0 = a1 + g * il
        tl = t[live] + random.standard_exponential(live.size) / a0
        go = tl <= span
        live, a1, a0, tl = live[go], a1[go], a0[go], tl[go]
        t[live] = tl
        inf = random.random_sample(live.size) * a0 < a1
        s[live[inf]] -= 1.0
        i[live] += np.where(inf, 1.0, -1.0)
        live = live[i[live] > 0]
    out = np.empty_like(x)
    out[:, 0], out[:, 1] = s, i
    return out


_NUMBA = None


def _sir_numba():
    global _NUMBA
    if _NUMBA is None:
        import numba
        import numpy as np

        c, g = BETA / N_POP, GAMMA

        @numba.njit(cache=False)
        def advance(x, span):
            out = x.copy()
            for j in range(out.shape[0]):
                s, i, t = out[j, 0], out[j, 1], 0.0
                while True:
                    a1 = c * s * i
                    a0 = a1 + g * i
                    if a0 <= 0.0:
                        break
                    t -= np.log(1.0 - np.random.random()) / a0
                    if t > span:
                        break
                    if np.random.random() * a0 < a1:
                        s -= 1
                        i += 1
                    else:
                        i -= 1
                out[j, 0], out[j, 1] = s, i
            return out

        @numba.njit
        def seed(s):
            np.random.seed(s)

        advance.seed = seed
        _NUMBA = advance
    return _NUMBA


def seed_all(seed):
    """Seed every generator the Python side uses: numpy's legacy global one (particles'
    resampling and distributions), the standard library's (the pure-Python SSA) and
    numba's (the compiled SSA, if loaded). Each gets its own seed derived from `seed`:
    numba's generator is the same MT19937 as numpy's, and the same seed would make the
    SSA's draws repeat the resampling's."""
    import numpy as np

    np_seed, py_seed, nb_seed = np.random.SeedSequence(seed).generate_state(3)
    np.random.seed(int(np_seed))
    pyrandom.seed(int(py_seed))
    if _NUMBA is not None:
        _NUMBA.seed(int(nb_seed))
