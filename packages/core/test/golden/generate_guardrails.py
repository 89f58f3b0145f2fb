"""Golden always-valid p-values of guardrails (safe rollouts), independent of the TypeScript code.

A guardrail tests H0 "the treatment is worse by at most `threshold`" with the mSPRT normal mixture
of Johari et al. (2017) applied to the shifted difference worse_by = bad_sign * (mean_t - mean_c)
- threshold (bad_sign +1 when an increase is bad, -1 when a decrease is): p = 1 / Lambda,
Lambda = sqrt(V / (V + tau2)) * exp(tau2 * worse_by^2 / (2 V (V + tau2))), V = s_t^2/n_t + s_c^2/n_c
(ddof 1), tau2 = 0.01 * pooled variance; p = 1 when worse_by <= 0 (an improvement never pauses).
numpy, float64.

Run: python3 packages/core/test/golden/generate_guardrails.py > packages/core/test/golden/guardrails.json
"""
import json

import numpy as np


def guardrail_p(treatment, control, direction, threshold):
    nt, nc = len(treatment), len(control)
    vt, vc = np.var(treatment, ddof=1), np.var(control, ddof=1)
    diff = float(np.mean(treatment) - np.mean(control))
    worse_by = (diff if direction == "increase" else -diff) - threshold
    if worse_by <= 0:
        return diff, 1.0
    v = vt / nt + vc / nc
    tau2 = 0.01 * ((nt - 1) * vt + (nc - 1) * vc) / (nt + nc - 2)
    log_lambda = 0.5 * np.log(v / (v + tau2)) + tau2 * worse_by * worse_by / (2 * v * (v + tau2))
    return diff, float(min(1.0, np.exp(-log_lambda)))


rng = np.random.default_rng(20261202)
cases = []
for direction, shift, threshold, n in [
    ("increase", 0.0, 0.0, 60),
    ("increase", 0.6, 0.0, 80),
    ("increase", 0.6, 0.3, 80),
    ("increase", -0.5, 0.0, 50),
    ("decrease", -0.7, 0.0, 120),
    ("decrease", -0.7, 0.5, 120),
    ("decrease", 0.4, 0.0, 40),
    ("increase", 2.0, 0.0, 200),
]:
    control = np.round(rng.normal(10.0, 1.5, n), 6)
    treatment = np.round(rng.normal(10.0 + shift, 1.5, n + 7), 6)
    diff, p = guardrail_p(treatment, control, direction, threshold)
    cases.append({
        "direction": direction,
        "threshold": threshold,
        "control": control.tolist(),
        "treatment": treatment.tolist(),
        "difference": diff,
        "pValue": p,
    })
print(json.dumps({"cases": cases}))
