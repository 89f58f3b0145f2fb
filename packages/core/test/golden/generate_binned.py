#!/usr/bin/python3
"""Golden values for the binned and binary drift tests, computed by scipy and statsmodels
(Debian's python3-scipy and python3-statsmodels).

Run with Debian's Python: /usr/bin/python3 generate_binned.py
It writes binned.json beside this file; test/drift-binned-golden.test.ts loads it. Samples are
described by specs and drawn by generate.py's LCG (its make_sample, loaded from that file), so
the JSON stays small and both sides see bit-identical data.

- Jensen-Shannon: scipy.spatial.distance.jensenshannon(baseline, current, base=2), as Evidently.
- Kullback-Leibler: scipy.stats.entropy(baseline, current) = KL(baseline || current), as
  Evidently, after empty shares of either side are filled by PSI's rule (1e-4, or the smallest
  non-zero share of both sides / 1e6 when that is <= 1e-4).
- Hellinger: scipy.spatial.distance.euclidean(sqrt(baseline), sqrt(current)) / sqrt(2).
- Z-test: statsmodels.stats.proportion.proportions_ztest([current, baseline] positives, sizes).
- Fisher: scipy.stats.fisher_exact([[current pos, current neg], [baseline pos, baseline neg]]).
Numeric bins are given as edges (bins (-inf, e0), [e0, e1), ..., [e_last, inf)) and counted here
with numpy's searchsorted, independently of the TypeScript counting.
"""
import ast
import json
import math
import os

import mpmath as mp
import numpy as np
import scipy
import statsmodels
from scipy import stats
from scipy.spatial import distance
from statsmodels.stats.proportion import proportions_ztest

here = os.path.dirname(os.path.abspath(__file__))

# One definition of the sampler: take lcg and make_sample from generate.py without running it.
with open(os.path.join(here, "generate.py")) as fh:
    tree = ast.parse(fh.read())
sampler = ast.Module([n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in ("lcg", "make_sample")], [])
namespace = {"np": np, "math": math}
exec(compile(sampler, "generate.py", "exec"), namespace)
make_sample = namespace["make_sample"]


def spec(seed, n, kind="irwin", loc=0.0, scale=1.0, levels=0):
    return {"seed": seed, "n": n, "kind": kind, "loc": loc, "scale": scale, "levels": levels}


def f(x):
    x = float(x)
    return x if math.isfinite(x) else ("inf" if x > 0 else "-inf") if not math.isnan(x) else "nan"


def fill_empty(base, cur):
    nz = np.concatenate([base[base > 0], cur[cur > 0]])
    fill = nz.min() / 1e6 if nz.min() <= 1e-4 else 1e-4
    return np.where(base == 0, fill, base), np.where(cur == 0, fill, cur)


def distances(base, cur):
    base, cur = np.asarray(base, dtype=float), np.asarray(cur, dtype=float)
    kb, kc = fill_empty(base, cur)
    return {
        "jensenShannon": f(distance.jensenshannon(base, cur, base=2)),
        "klDivergence": f(stats.entropy(kb, kc)),
        "hellinger": f(distance.euclidean(np.sqrt(base / base.sum()), np.sqrt(cur / cur.sum())) / math.sqrt(2)),
    }


golden = {"scipy": scipy.__version__, "numpy": np.__version__, "statsmodels": statsmodels.__version__}

# ---------------------------------------------------------------- the pure functions on weight vectors
# Beside scipy's values, the same quantities at 50 digits with mpmath ("truth"): scipy sums the
# terms directly, so for nearly equal distributions its Jensen-Shannon value rounds below zero
# (NaN) and its KL keeps no correct digit; the tests accept the truth there and list the case.
mp.mp.dps = 50


def mp_truth(p, q):
    P = [mp.mpf(float(x)) for x in p]
    Q = [mp.mpf(float(x)) for x in q]
    P = [x / sum(P) for x in P]
    Q = [x / sum(Q) for x in Q]
    xlog = lambda x, y: mp.mpf(0) if x == 0 else (mp.inf if y == 0 else x * mp.log(x / y))
    js = sum(xlog(a, (a + b) / 2) + xlog(b, (a + b) / 2) for a, b in zip(P, Q)) / 2
    return {
        "jensenShannon": f(mp.sqrt(js)),
        "jensenShannonBase2": f(mp.sqrt(js / mp.log(2))),
        "klDivergence": f(sum(xlog(a, b) for a, b in zip(P, Q))),
        "hellinger": f(mp.sqrt(sum((mp.sqrt(a) - mp.sqrt(b)) ** 2 for a, b in zip(P, Q)) / 2)),
    }


golden["divergences"] = []
for name, p, q in [
    ("general", [0.1, 0.4, 0.3, 0.2], [0.25, 0.25, 0.25, 0.25]),
    ("unnormalized counts", [3, 9, 0, 12], [5, 5, 7, 1]),
    ("empty bin in p", [0.0, 0.5, 0.5], [0.2, 0.3, 0.5]),
    ("empty bin in q", [0.2, 0.3, 0.5], [0.0, 0.5, 0.5]),
    ("identical", [0.2, 0.3, 0.5], [0.2, 0.3, 0.5]),
    ("disjoint", [1.0, 0.0], [0.0, 1.0]),
    ("tiny difference", [0.5, 0.5], [0.5 + 1e-9, 0.5 - 1e-9]),
    ("many bins", list(make_sample(spec(201, 40, "uniform"))), list(make_sample(spec(202, 40, "uniform")))),
]:
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    golden["divergences"].append({
        "name": name, "p": p.tolist(), "q": q.tolist(),
        "jensenShannon": f(distance.jensenshannon(p, q)),
        "jensenShannonBase2": f(distance.jensenshannon(p, q, base=2)),
        "klDivergence": f(stats.entropy(p, q)),
        "hellinger": f(distance.euclidean(np.sqrt(p / p.sum()), np.sqrt(q / q.sum())) / math.sqrt(2)),
        "truth": mp_truth(p, q),
    })

# ---------------------------------------------------------------- numeric features on frozen bins
golden["numeric"] = []
for name, sb, sc, levels in [
    ("shifted", spec(211, 5000), spec(212, 1000, loc=0.2), [k / 10 for k in range(1, 10)]),
    ("same distribution", spec(213, 5000), spec(214, 2000), [k / 10 for k in range(1, 10)]),
    ("scaled", spec(215, 3000), spec(216, 800, scale=1.6), [k / 5 for k in range(1, 5)]),
    ("far shift, empty bins", spec(217, 4000), spec(218, 500, loc=3.0), [k / 10 for k in range(1, 10)]),
    ("heavy ties", spec(219, 1000, "grid", levels=3), spec(220, 300, "grid", levels=4), [1 / 3, 2 / 3]),
]:
    base, cur = make_sample(sb), make_sample(sc)
    edges = sorted(set(float(e) for e in np.quantile(base, levels)))
    bs = np.bincount(np.searchsorted(edges, base, side="right"), minlength=len(edges) + 1) / len(base)
    cs = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1) / len(cur)
    golden["numeric"].append({"name": name, "baseline": sb, "current": sc, "edges": edges,
                              "baselineShares": bs.tolist(), "currentShares": cs.tolist(), **distances(bs, cs)})

# ---------------------------------------------------------------- categorical features on category shares
golden["categorical"] = []
for name, bc, cc in [
    ("shifted shares", {"de": 500, "fr": 300, "it": 200}, {"de": 80, "fr": 90, "it": 30}),
    ("unseen category", {"de": 500, "fr": 500}, {"de": 120, "fr": 60, "br": 20}),
    ("vanished category", {"a": 700, "b": 299, "c": 1}, {"a": 150, "b": 50}),
    ("same shares", {"x": 40, "y": 60}, {"x": 400, "y": 600}),
]:
    cats = sorted(set(bc) | set(cc))
    bs = np.array([bc.get(c, 0) for c in cats], dtype=float) / sum(bc.values())
    cs = np.array([cc.get(c, 0) for c in cats], dtype=float) / sum(cc.values())
    golden["categorical"].append({"name": name, "baseline": bc, "current": cc, "categories": cats,
                                  **distances(bs, cs)})

# ---------------------------------------------------------------- binary features: z-test and Fisher
def fisher_truth(table):
    """Fisher's two-sided p-value at 50 digits: the hypergeometric terms by their exact ratio
    recurrence from the lowest count, summed over the tables no more likely than the observed
    one (ties within 1e-20). For large tables scipy's Boost-based sums are off by ~1e-11."""
    (a, b), (c, d) = table
    r1, r2, c1 = a + b, c + d, a + c
    if min(r1, r2, c1, b + d) == 0:
        return 1.0
    lo, hi = max(0, c1 - r2), min(r1, c1)
    log_first = (mp.loggamma(r1 + 1) - mp.loggamma(lo + 1) - mp.loggamma(r1 - lo + 1) + mp.loggamma(r2 + 1)
                 - mp.loggamma(c1 - lo + 1) - mp.loggamma(r2 - c1 + lo + 1) - mp.loggamma(r1 + r2 + 1)
                 + mp.loggamma(c1 + 1) + mp.loggamma(r1 + r2 - c1 + 1))
    terms = [mp.exp(log_first)]
    for x in range(lo, hi):
        terms.append(terms[-1] * mp.mpf((r1 - x) * (c1 - x)) / ((x + 1) * (r2 - c1 + x + 1)))
    bound = terms[a - lo] * (1 + mp.mpf("1e-20"))
    return f(min(mp.mpf(1), sum(t for t in terms if t <= bound)))


def binary(cur_pos, cur_n, base_pos, base_n):
    z, p = proportions_ztest([cur_pos, base_pos], [cur_n, base_n])
    table = [[cur_pos, cur_n - cur_pos], [base_pos, base_n - base_pos]]
    odds, fisher_p = stats.fisher_exact(table)
    return {"z": f(z), "zPValue": f(p), "oddsRatio": f(odds), "fisherPValue": f(fisher_p),
            "fisherTruth": fisher_truth(table)}


golden["binary"] = []
for name, cur_pos, cur_n, base_pos, base_n in [
    ("small window, no change", 4, 20, 150, 1000),
    ("small window, more positives", 11, 20, 150, 1000),
    ("rare positives", 2, 150, 3, 5000),
    ("large, slight shift", 5300, 10000, 50000, 100000),
    ("large, strong shift", 300, 1000, 10000, 100000),
    ("window without negatives", 12, 12, 40, 100),
    ("baseline without positives", 3, 50, 0, 400),
    ("equal margins tie", 2, 10, 8, 10),
    ("the issue's constant baseline", 300, 1000, 5000, 5000),
]:
    golden["binary"].append({"name": name, "current": [cur_pos, cur_n], "baseline": [base_pos, base_n],
                             **binary(cur_pos, cur_n, base_pos, base_n)})

# numeric 0/1 features drawn by the LCG (grid with two levels), through the drift tests
golden["numericBinary"] = []
for name, sb, sc in [
    ("0/1 no shift", spec(231, 2000, "grid", levels=2), spec(232, 200, "grid", levels=2)),
    ("0/1 window of 30", spec(233, 3000, "grid", levels=2), spec(234, 30, "grid", levels=2)),
]:
    base, cur = make_sample(sb), make_sample(sc)
    golden["numericBinary"].append({"name": name, "baseline": sb, "current": sc,
                                    **binary(int(cur.sum()), len(cur), int(base.sum()), len(base))})

# Fisher's exact test on tables beyond the binary drift cases (scipy's own conventions)
golden["fisher"] = []
for table in [
    [[8, 2], [1, 5]], [[3, 1], [1, 3]], [[2, 8], [8, 2]], [[10, 10], [10, 10]], [[0, 5], [5, 0]],
    [[0, 0], [3, 4]], [[1, 0], [0, 0]], [[1, 9], [11, 3]], [[7, 12], [0, 5]], [[60, 40], [30, 70]],
    [[200, 800], [21000, 79000]], [[900, 100], [40000, 60000]], [[0, 500], [500, 0]],
    [[1000, 0], [0, 1000]], [[5, 95], [100, 900]], [[30000, 70000], [30500, 69500]],
]:
    odds, p = stats.fisher_exact(table)
    golden["fisher"].append({"table": table, "oddsRatio": f(odds), "pValue": f(p), "truth": fisher_truth(table)})

out = os.path.join(here, "binned.json")
with open(out, "w") as fh:
    json.dump(golden, fh, indent=0, separators=(",", ":"))
    fh.write("\n")
print("wrote", out)
