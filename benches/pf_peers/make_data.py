"""Writes data/ou.json and data/sir.json: one path of each model (pf_models.py), simulated
with the standard library's random (no venv needed). Run once; the files are committed.

    python3 benches/pf_peers/make_data.py

OU: the 10-step Euler-Maruyama chain that both filters use, seed 20260501, observed with
Normal(x, 0.4) noise at t = 1..100. SIR: the exact SSA, observed as Poisson(0.9 I) at
t = 1..14, from the first seed at or after 20260501 whose epidemic takes off (the peak of
I above 100; about 3 in 10 die out with one initial case), so that the data are a typical
outbreak. Prints the seeds and the exact OU log-likelihoods (Kalman filter).
"""

import json
import os

import pf_models as m

here = os.path.dirname(os.path.abspath(__file__))
os.makedirs(os.path.join(here, "data"), exist_ok=True)

SEED = 20260501
ys = [round(y, 6) for y in m.simulate_ou(SEED)]
with open(os.path.join(here, "data", "ou.json"), "w") as f:
    json.dump({"t": m.OU_T, "y": ys}, f)
    f.write("\n")
print(f"OU: seed {SEED}, {len(ys)} observations")
print(f"  exact log-likelihood, 10-step EM chain: {m.kalman_loglik(ys, 'em10'):.6f}")
print(f"  exact log-likelihood, exact OU (AR(1)): {m.kalman_loglik(ys, 'exact'):.6f}")

seed = SEED
while True:
    cases, infected = m.simulate_sir(seed)
    if max(infected) > 100:
        break
    seed += 1
with open(os.path.join(here, "data", "sir.json"), "w") as f:
    json.dump({"t": m.SIR_T, "cases": cases}, f)
    f.write("\n")
print(f"SIR: seed {seed}, cases {cases}, I {infected}")
