#!/usr/bin/python3
"""Golden values for the numeric drift tests, computed by Debian's scipy 1.10.1 and numpy.

Run with Debian's Python: /usr/bin/python3 drift_tests.py (writes drift_tests.json beside it;
test/drift-tests-golden.test.ts and test/psi-binning.test.ts load it). Samples are LCG specs
shared with the TypeScript tests (samples.py / samples.ts), so both sides see the same data.
"""
import json
import os
import warnings

import numpy as np
import scipy
import scipy.special
from scipy import stats

from samples import make_sample, psi_reference, spec

golden = {"scipy": scipy.__version__, "numpy": np.__version__}

# ---------------------------------------------------------------- PSI binning (the miss)
zero_inflated = [0.0] * 700 + [float(v) for v in make_sample(spec(301, 300, "uniform", loc=0.5, scale=4.0))]
golden["psiBinning"] = []
for name, base, cur, bins, strategy in [
    ("constant baseline, window partly below", [7.0] * 50, [1.0] * 20 + [7.0] * 10, 10, "quantile"),
    ("constant baseline, uniform bins", [1.0] * 5000, [0.0] * 700 + [1.0] * 300, 10, "uniform"),
    ("constant baseline, window of the same value", [1.0] * 200, [1.0] * 100, 10, "quantile"),
    ("zero-inflated baseline (70% zeros), negative values appear", zero_inflated,
     [-1.0] * 50 + zero_inflated[650:900], 10, "quantile"),
    ("zero-inflated baseline, 5 bins", zero_inflated, zero_inflated[100:400], 5, "quantile"),
    ("binary flag 0/1, 30% ones", [0.0] * 70 + [1.0] * 30, [0.0] * 20 + [1.0] * 80, 10, "quantile"),
]:
    ref = psi_reference(np.array(base), np.array(cur), bins, strategy)
    golden["psiBinning"].append({"name": name, "baseline": base, "current": cur, "bins": bins,
                                 "strategy": strategy, **ref})

# ---------------------------------------------------------------- two-sample numeric tests
cases = [
    ("tiny 7 vs 6", spec(311, 7), spec(312, 6, loc=0.3)),
    ("tiny with ties 5 vs 4", spec(313, 5, "grid", levels=3), spec(314, 4, "grid", levels=3)),
    ("exact boundary 20 vs 20", spec(315, 20), spec(316, 20, loc=0.4)),
    ("exact 20 vs 3", spec(317, 20), spec(318, 3, loc=1.0)),
    ("asymptotic 21 vs 5", spec(319, 21), spec(320, 5)),
    ("same distribution 2000 vs 1500", spec(321, 2000), spec(322, 1500)),
    ("shifted 5000 vs 1000", spec(323, 5000), spec(324, 1000, loc=0.1)),
    ("scaled 3000 vs 3000", spec(325, 3000), spec(326, 3000, scale=1.3)),
    ("far shift 1000 vs 500", spec(327, 1000), spec(328, 500, loc=2.0)),
    ("heavy ties 1000 vs 800", spec(329, 1000, "grid", levels=4), spec(330, 800, "grid", levels=5)),
    ("uniform vs irwin 400 vs 300", spec(331, 400, "uniform", loc=-1.0, scale=2.0), spec(332, 300)),
    ("constant baseline 200 vs two values 100", spec(335, 200, "grid", loc=1.0, levels=1), spec(336, 100, "grid", levels=2)),
    ("large baseline 100000 vs 1000", spec(333, 100000), spec(334, 1000, loc=0.05)),
]

golden["twoSample"] = []
for name, sa, sb in cases:
    a, b = make_sample(sa), make_sample(sb)
    row = {"name": name, "baseline": sa, "current": sb}
    row["wasserstein"] = float(stats.wasserstein_distance(a, b))
    # Evidently's normed value: divided by the baseline's population sd, at least 0.001
    row["wassersteinNormed"] = float(row["wasserstein"] / max(np.std(a), 0.001))
    row["energy"] = float(stats.energy_distance(a, b))
    if len(a) >= 2 and len(b) >= 2:
        cvm = stats.cramervonmises_2samp(a, b)
        row["cvm"] = {"statistic": float(cvm.statistic), "pValue": float(cvm.pvalue),
                      "method": "exact" if max(len(a), len(b)) <= 20 else "asymptotic"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ad = stats.anderson_ksamp([a, b])
    row["anderson"] = {"statistic": float(ad.statistic), "criticalValues": [float(c) for c in ad.critical_values],
                       "pValue": float(ad.pvalue)}
    golden["twoSample"].append(row)

# Three samples: anderson_ksamp takes k samples (critical values depend on k).
golden["andersonK"] = []
for name, specs in [
    ("three samples", [spec(341, 50), spec(342, 60, loc=0.2), spec(343, 40)]),
    ("four samples with ties", [spec(344, 30, "grid", levels=6), spec(345, 30, "grid", levels=6),
                                spec(346, 25, "grid", levels=5), spec(347, 35, "grid", levels=6)]),
]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ad = stats.anderson_ksamp([make_sample(s) for s in specs])
    golden["andersonK"].append({"name": name, "samples": specs, "statistic": float(ad.statistic),
                                "criticalValues": [float(c) for c in ad.critical_values], "pValue": float(ad.pvalue)})

# Explicit CvM exact cases with ties (midranks give non-integer U) and both methods on one pair.
golden["cvmMethods"] = []
for name, x, y in [
    ("ties, exact", [1.0, 2.0, 2.0, 3.0, 5.0], [2.0, 3.0, 3.0, 4.0]),
    ("scipy docstring sizes 7 vs 6", list(make_sample(spec(351, 7))), list(make_sample(spec(352, 6, "uniform", scale=3.0)))),
    ("identical samples", [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]),
]:
    row = {"name": name, "x": [float(v) for v in x], "y": [float(v) for v in y]}
    for method in ["exact", "asymptotic"]:
        r = stats.cramervonmises_2samp(x, y, method=method)
        row[method] = {"statistic": float(r.statistic), "pValue": float(r.pvalue)}
    golden["cvmMethods"].append(row)

# K_{1/4}, which the Cramér-von Mises limiting distribution needs, across both of its methods' ranges.
golden["besselK"] = [[x, float(scipy.special.kv(0.25, x))]
                     for x in [1e-4, 0.01, 0.1, 0.5, 1.0, 1.5, 1.9, 2.0, 2.1, 3.0, 5.0, 10.0, 30.0, 100.0, 600.0]]

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "drift_tests.json")
with open(out, "w") as fh:
    json.dump(golden, fh, indent=0, separators=(",", ":"))
    fh.write("\n")
print("wrote", out)
