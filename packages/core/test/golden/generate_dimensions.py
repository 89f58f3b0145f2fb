"""Golden dimension breakdown: Welch p-values per value and metric, adjusted across the breakdown.

Three variants (control + two treatments) sliced by `country` (four values) on two metrics; per
(value, metric, treatment) the Welch t-test against the control (scipy.stats.ttest_ind,
equal_var=False), then every p-value of the breakdown adjusted together with Benjamini-Hochberg
(statsmodels.stats.multitest.multipletests, method="fdr_bh"). Holm across the same p-values is
written too, to show what the stricter family-wise correction would give.

Run: /usr/bin/python3 packages/core/test/golden/generate_dimensions.py > packages/core/test/golden/dimensions.json
"""
import json

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

rng = np.random.default_rng(20261202)
countries = ["br", "de", "fr", "us"]
metrics = ["revenue", "latency_ms"]
# Effects per country for treatment 1 on revenue: a real lift in "de" only.
lift = {"br": 0.0, "de": 0.8, "fr": 0.0, "us": 0.1}
observations = []
for country in countries:
    for variant in range(3):
        n = 40 + 10 * variant + 5 * countries.index(country)
        for metric in metrics:
            mean = 10.0 + (lift[country] if (variant == 1 and metric == "revenue") else 0.0)
            values = np.round(rng.normal(mean, 1.0, n), 6)
            observations += [{"variant": variant, "metric": metric, "country": country, "value": float(v)} for v in values]

tests = []
for country in countries:
    for metric in metrics:
        control = [o["value"] for o in observations if o["country"] == country and o["metric"] == metric and o["variant"] == 0]
        for variant in (1, 2):
            treatment = [
                o["value"] for o in observations if o["country"] == country and o["metric"] == metric and o["variant"] == variant
            ]
            p = float(stats.ttest_ind(treatment, control, equal_var=False).pvalue)
            tests.append({"country": country, "metric": metric, "variant": variant, "pValue": p})
bh = multipletests([t["pValue"] for t in tests], method="fdr_bh")[1]
holm = multipletests([t["pValue"] for t in tests], method="holm")[1]
for t, b, h in zip(tests, bh, holm):
    t["bh"] = float(b)
    t["holm"] = float(h)
print(json.dumps({"observations": observations, "tests": tests}))
