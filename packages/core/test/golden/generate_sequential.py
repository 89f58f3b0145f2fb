"""Golden looks for the always-valid (mSPRT) p-value as a running minimum.

Three looks at one sequential experiment (control, treatment): each look adds a batch of values
per arm, then the mSPRT p-value 1/Lambda is computed from the cumulative data, independently of
the TypeScript code (numpy, float64), with the normal mixture of Johari et al. (2017):
Lambda = sqrt(V / (V + tau2)) * exp(tau2 * theta^2 / (2 V (V + tau2))), V = s_t^2/n_t + s_c^2/n_c
(ddof 1), tau2 = 0.01 * pooled variance. The batches are drawn so 1/Lambda falls at the second
look and rises at the third (the reported defect); the running minimum is what must be reported.

Run: python3 packages/core/test/golden/generate_sequential.py > packages/core/test/golden/sequential.json
"""
import json

import numpy as np


def msprt(treatment, control):
    nt, nc = len(treatment), len(control)
    vt, vc = np.var(treatment, ddof=1), np.var(control, ddof=1)
    theta = np.mean(treatment) - np.mean(control)
    v = vt / nt + vc / nc
    tau2 = 0.01 * ((nt - 1) * vt + (nc - 1) * vc) / (nt + nc - 2)
    log_lambda = 0.5 * np.log(v / (v + tau2)) + tau2 * theta * theta / (2 * v * (v + tau2))
    return float(min(1.0, np.exp(-log_lambda)))


rng = np.random.default_rng(20260518)
# Look 1: a small lead; look 2: a larger one (1/Lambda falls); look 3: many equal values (it rises).
batches = [
    (rng.normal(10.0, 1.0, 150), rng.normal(10.25, 1.0, 150)),
    (rng.normal(10.0, 1.0, 150), rng.normal(10.3, 1.0, 150)),
    (rng.normal(10.0, 1.0, 400), rng.normal(10.0, 1.0, 400)),
]
looks = []
control, treatment = np.array([]), np.array([])
running = 1.0
for c, t in batches:
    control = np.concatenate([control, c])
    treatment = np.concatenate([treatment, t])
    p = msprt(treatment, control)
    running = min(running, p)
    looks.append({
        "control": [float(x) for x in c],
        "treatment": [float(x) for x in t],
        "atLook": p,
        "runningMinimum": running,
    })
assert looks[1]["atLook"] < looks[0]["atLook"], "the second look must lower 1/Lambda"
assert looks[2]["atLook"] > looks[1]["atLook"], "the third look must raise 1/Lambda (the defect)"
print(json.dumps({"source": "generate_sequential.py (numpy float64)", "looks": looks}))
