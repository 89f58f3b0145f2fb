#!/usr/bin/python3
"""Golden cases for the automatic drift method choice (src/drift/DriftMethod.ts), computed with
pandas-free numpy, scipy and statsmodels (Debian's python3-scipy, python3-statsmodels).

Run with Debian's Python: /usr/bin/python3 generate_auto_method.py
It writes auto_method.json beside this file; test/drift-auto-method.test.ts loads it.

The expected method follows Evidently's _get_default_stattest (evidently/legacy/calculations/
stattests/registry.py): n_values = distinct values of reference and current together; reference
size <= 1000: numeric with n_values > 5 -> ks, else (and categorical) chi-square when n_values > 2,
z-test otherwise; larger references: numeric with n_values > 5 -> wasserstein, else
jensen-shannon. Our additions: a current window of at most 1000 values also takes the small-size
rules (fixed distance thresholds alarm on noise at small windows), and a binary feature (2 values)
whose 2 x 2 table has an expected cell below 5 gets Fisher's exact test. The statistics:
- ks: scipy.stats.ks_2samp (exact method as scipy chooses it).
- chi-square: scipy.stats.chi2_contingency(2 x k counts, correction=False) (a test of independence
  of the two count vectors; Evidently's chisquare is a goodness of fit of current against the
  reference shares, see README).
- z-test: statsmodels proportions_ztest([current pos, reference pos], [n current, n reference]),
  the positive value being the later category in sorted (string) order.
- fisher-exact: scipy.stats.fisher_exact([[cur pos, cur neg], [ref pos, ref neg]]).
- wasserstein: scipy.stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001).
- jensen-shannon: scipy.spatial.distance.jensenshannon(ref shares, cur shares, base=2) over the
  values (categories) of both.
"""
import json
import os

import numpy as np
from scipy import stats
from scipy.spatial import distance
from statsmodels.stats.proportion import proportions_ztest

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.RandomState(17)


def key(v):
    # The TypeScript side names a numeric value's category String(v): integers print without ".0".
    return str(int(v)) if isinstance(v, (float, np.floating)) and float(v).is_integer() else str(v)


def expected(ref, cur, kind):
    n_values = len(set(map(key, ref)) | set(map(key, cur)))
    if min(len(ref), len(cur)) <= 1000:
        if kind == "numeric" and n_values > 5:
            return "ks"
        if n_values > 2:
            return "chi-square"
        if n_values == 2:
            cats = sorted(set(map(key, ref)) | set(map(key, cur)))
            pos = cats[1]
            n1, n2 = len(cur), len(ref)
            positives = sum(key(v) == pos for v in cur) + sum(key(v) == pos for v in ref)
            smallest = min(n1, n2) * min(positives, n1 + n2 - positives) / (n1 + n2)
            return "fisher-exact" if smallest < 5 else "z-test"
        return "chi-square"  # one value: nothing to compare (Evidently's z-test is undefined here)
    if kind == "numeric" and n_values > 5:
        return "wasserstein"
    return "jensen-shannon"


def reference_values(method, ref, cur):
    if method == "ks":
        r = stats.ks_2samp(ref, cur)
        return float(r.statistic), float(r.pvalue)
    if method == "wasserstein":
        return float(stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)), None
    cats = sorted(set(map(key, ref)) | set(map(key, cur)))
    ref_counts = np.array([sum(key(v) == c for v in ref) for c in cats], dtype=float)
    cur_counts = np.array([sum(key(v) == c for v in cur) for c in cats], dtype=float)
    if method == "chi-square":
        if len(cats) < 2:
            return 0.0, 1.0
        chi2, p, _, _ = stats.chi2_contingency(np.array([ref_counts, cur_counts]), correction=False)
        return float(chi2), float(p)
    if method == "z-test":
        z, p = proportions_ztest([cur_counts[1], ref_counts[1]], [cur_counts.sum(), ref_counts.sum()])
        return float(z), float(p)
    if method == "fisher-exact":
        odds, p = stats.fisher_exact([[cur_counts[1], cur_counts[0]], [ref_counts[1], ref_counts[0]]])
        return (float(odds) if np.isfinite(odds) else None), float(p)
    if method == "jensen-shannon":
        return float(distance.jensenshannon(ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum(), base=2)), None
    raise ValueError(method)


def choice(levels, probs, n):
    return [levels[i] for i in rng.choice(len(levels), size=n, p=probs)]


cases = []


def case(name, kind, ref, cur):
    method = expected(ref, cur, kind)
    statistic, p = reference_values(method, np.asarray(ref) if kind == "numeric" else ref,
                                    np.asarray(cur) if kind == "numeric" else cur)
    cases.append({
        "name": name, "type": kind,
        "baseline": [float(v) for v in ref] if kind == "numeric" else list(ref),
        "window": [float(v) for v in cur] if kind == "numeric" else list(cur),
        "method": method, "statistic": statistic, "pValue": p,
    })


case("small continuous numeric: KS", "numeric", np.round(rng.normal(0, 1, 500), 6), np.round(rng.normal(0.3, 1, 300), 6))
case("small numeric, 4 values: chi-square", "numeric", choice([0, 1, 2, 3], [0.4, 0.3, 0.2, 0.1], 400),
     choice([0, 1, 2, 3], [0.25, 0.25, 0.25, 0.25], 200))
case("small numeric, 2 values: z-test", "numeric", choice([3, 7], [0.6, 0.4], 600), choice([3, 7], [0.5, 0.5], 300))
case("small binary with a rare value: Fisher", "numeric", [0] * 198 + [1] * 2, [0] * 99 + [1] * 1)
case("small numeric, one value: chi-square p = 1", "numeric", [5] * 300, [5] * 200)
case("large continuous numeric: Wasserstein", "numeric", np.round(rng.normal(0, 2, 1500), 6),
     np.round(rng.normal(0.4, 2, 1200), 6))
case("large baseline, small window: KS", "numeric", np.round(rng.normal(0, 2, 1500), 6),
     np.round(rng.normal(0.4, 2, 400), 6))
case("large numeric, 3 values: Jensen-Shannon", "numeric", choice([0, 1, 2], [0.5, 0.3, 0.2], 2000),
     choice([0, 1, 2], [0.3, 0.3, 0.4], 1100))
case("small categorical, 3 categories: chi-square", "categorical", choice(["de", "fr", "it"], [0.5, 0.3, 0.2], 800),
     choice(["de", "fr", "it", "es"], [0.45, 0.3, 0.2, 0.05], 300))
case("small categorical, 2 categories: z-test", "categorical", choice(["no", "yes"], [0.7, 0.3], 1000),
     choice(["no", "yes"], [0.6, 0.4], 400))
case("large categorical: Jensen-Shannon", "categorical", choice(["a", "b", "c", "d"], [0.4, 0.3, 0.2, 0.1], 3000),
     choice(["a", "b", "c", "d", "e"], [0.3, 0.3, 0.2, 0.1, 0.1], 1500))

with open(os.path.join(here, "auto_method.json"), "w") as fh:
    json.dump({"generator": "generate_auto_method.py", "cases": cases}, fh, indent=1)
print(len(cases), "cases:", [c["method"] for c in cases])
