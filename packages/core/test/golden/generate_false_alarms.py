#!/usr/bin/python3
"""Reference values for the false-alarm figures (packages/core/src/drift/FalseAlarms.ts and
DistanceFalseAlarms.ts), computed independently with numpy, scipy, statsmodels and mpmath.
Run with /usr/bin/python3 generate_false_alarms.py; writes false_alarms.json beside it.

- corrections: Monte-Carlo share of checks that flag at least one of k features when nothing
  drifted, with statsmodels' multipletests deciding ("none": p < alpha), over `reps` checks of k
  p-values that are independent uniforms, or two-sided normal p-values of equicorrelated z-scores
  (rho 0.8, a positively dependent case) -- with the standard error of each share.
- exact: 1 - (1 - a)^k at 50 digits (mpmath), for the tiny levels a bound produces.
- distances: the probability that a statistic reaches a threshold under no drift for two samples
  of the window size from one distribution: for KS's D exactly (scipy's exact ks_2samp p-value at
  samples placed to give D = h / n), for the normed Wasserstein distance and the chi-square
  statistic by Monte-Carlo with scipy.
"""
import json
import os

import mpmath
import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

rng = np.random.default_rng(20261202)
reps = 40_000


def flagged_share(pvalue_rows, alpha, correction):
    if correction == "none":
        hits = (pvalue_rows < alpha).any(axis=1)
    else:
        method = "bonferroni" if correction == "bonferroni" else "fdr_bh"
        hits = np.array([multipletests(row, alpha=alpha, method=method)[0].any() for row in pvalue_rows])
    share = float(hits.mean())
    return share, float(np.sqrt(max(share * (1 - share), 1e-12) / len(pvalue_rows)))


corrections = []
for k in [1, 5, 20]:
    for alpha in [0.05, 0.01]:
        independent = rng.uniform(size=(reps, k))
        common = rng.standard_normal(size=(reps, 1))
        z = np.sqrt(0.8) * common + np.sqrt(0.2) * rng.standard_normal(size=(reps, k))
        dependent = 2 * stats.norm.sf(np.abs(z))
        for correction in ["none", "bonferroni", "benjamini-hochberg"]:
            for dependence, rows in [("independent", independent), ("equicorrelated-0.8", dependent)]:
                share, se = flagged_share(rows, alpha, correction)
                corrections.append({
                    "k": k, "alpha": alpha, "correction": correction, "dependence": dependence,
                    "share": share, "se": se, "reps": reps
                })

mpmath.mp.dps = 50
exact = []
for k in [1, 3, 100, 1000]:
    for a in [0.05, 1e-4, 3.858024691358025e-6, 1e-12]:
        value = 1 - (1 - mpmath.mpf(a)) ** k
        exact.append({"k": k, "a": a, "probability": float(value)})

distances = []
# KS's D as a distance: P(D >= h/n) for two samples of n, exact (scipy's exact two-sample distribution).
for n, h in [(100, 15), (200, 12)]:
    x = np.arange(n, dtype=float)
    y = x + h - 0.5
    result = stats.ks_2samp(x, y, method="exact")
    assert abs(result.statistic - h / n) < 1e-12
    distances.append({"method": "ks", "n": n, "threshold": h / n, "probability": float(result.pvalue), "se": 0.0})

mc = 20_000
for n, threshold in [(200, 0.15), (500, 0.1)]:
    hits = 0
    for _ in range(mc):
        a = rng.standard_normal(n)
        b = rng.standard_normal(n)
        if stats.wasserstein_distance(a, b) / max(np.std(a), 0.001) >= threshold:
            hits += 1
    p = hits / mc
    distances.append({"method": "wasserstein", "n": n, "threshold": threshold, "probability": p,
                      "se": float(np.sqrt(p * (1 - p) / mc))})

shares = [0.5, 0.3, 0.2]
for n, threshold in [(200, 4.0)]:
    hits = 0
    for _ in range(mc):
        a = rng.multinomial(n, shares)
        b = rng.multinomial(n, shares)
        table = np.array([a, b])
        table = table[:, table.sum(axis=0) > 0]
        if stats.chi2_contingency(table, correction=False)[0] >= threshold:
            hits += 1
    p = hits / mc
    distances.append({"method": "chi-square", "n": n, "threshold": threshold, "shares": shares, "probability": p,
                      "se": float(np.sqrt(p * (1 - p) / mc))})

out = {"corrections": corrections, "exact": exact, "distances": distances}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "false_alarms.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
