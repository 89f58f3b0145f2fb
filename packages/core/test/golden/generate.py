#!/usr/bin/python3
"""Golden values for the statistics engine, computed by scipy (Debian's python3-scipy).

Run with Debian's Python, which has scipy and numpy: /usr/bin/python3 generate.py
It writes stats.json beside this file; the core's tests load it. Samples are described by a
spec (seed, size, shape) and generated here and in the tests by the same 32-bit LCG with
exact arithmetic, so the JSON stays small and both sides see bit-identical data.
"""
import json
import math
import os
from fractions import Fraction

import mpmath as mp
import numpy as np
import scipy
from scipy import stats

from samples import make_sample, psi_reference, spec


def f(x):
    return float(x)


golden = {"scipy": scipy.__version__, "numpy": np.__version__}

# ---------------------------------------------------------------- distributions
# Each row holds scipy's values and the same quantities at 50 digits with mpmath ("truth").
# Where scipy itself is off (t.ppf comes from cdflib with a 1e-10 stopping tolerance; a few
# boost beta tails), the tests accept a value within 1e-12 of the truth and report it.
mp.mp.dps = 50


def mp_solve(tail, target, increasing, start=None, lo=None, hi=None):
    """x with tail(x) = target for a positive monotone tail probability, on the log scale (so
    1e-300 targets are as easy as 0.5): bracket by stepping out from `start`, then bisect."""
    log_target = mp.log(mp.mpf(target))
    sign = 1 if increasing else -1

    def g(x):
        value = tail(x)
        if value <= 0:
            return -sign * mp.inf if increasing else sign * mp.inf
        return sign * (mp.log(value) - log_target)
    x0 = mp.mpf(start) if start is not None and np.isfinite(start) else (mp.mpf(lo) + 1 if lo is not None else mp.mpf(0))
    if lo is not None and x0 <= lo:
        x0 = mp.mpf(lo) + mp.mpf("1e-3")
    a = b = x0
    step = max(abs(x0), mp.mpf(1))
    if g(x0) < 0:
        while g(b) < 0:
            a, b = b, (b + step if hi is None else min(b + step, (b + hi) / 2))
            step *= 2
    else:
        while g(a) >= 0:
            b = a
            a = a - step if lo is None else (a - step if a - step > lo else lo + (a - lo) / 1e10)
            step *= 2
    for _ in range(400):  # bisection (geometric on the positive axis) to 30+ significant digits
        m = mp.sqrt(a * b) if a > 0 and b > 4 * a else (a + b) / 2
        if g(m) < 0:
            a = m
        else:
            b = m
        if abs(b - a) <= mp.mpf(10) ** -32 * max(abs(a), abs(b)):
            break
    return (a + b) / 2


def t_cdf(df):
    df = mp.mpf(df)

    def cdf(x):
        x = mp.mpf(x)
        lower = mp.betainc(df / 2, mp.mpf(1) / 2, 0, df / (df + x * x), regularized=True) / 2
        return lower if x < 0 else 1 - lower
    return cdf


def t_pdf(df, x):
    df, x = mp.mpf(df), mp.mpf(x)
    return mp.gamma((df + 1) / 2) / (mp.sqrt(df * mp.pi) * mp.gamma(df / 2)) * (1 + x * x / df) ** (-(df + 1) / 2)


def chi2_lower(k, x):
    return mp.gammainc(mp.mpf(k) / 2, 0, mp.mpf(x) / 2, regularized=True)


def chi2_upper(k, x):
    return mp.gammainc(mp.mpf(k) / 2, mp.mpf(x) / 2, mp.inf, regularized=True)


def chi2_pdf(k, x):
    k, x = mp.mpf(k), mp.mpf(x)
    return mp.exp((k / 2 - 1) * mp.log(x / 2) - x / 2 - mp.loggamma(k / 2)) / 2


def beta_lower(a, b, x):
    return mp.betainc(mp.mpf(a), mp.mpf(b), 0, mp.mpf(x), regularized=True)


def beta_upper(a, b, x):
    return mp.betainc(mp.mpf(a), mp.mpf(b), mp.mpf(x), 1, regularized=True)


def beta_pdf(a, b, x):
    a, b, x = mp.mpf(a), mp.mpf(b), mp.mpf(x)
    return mp.exp((a - 1) * mp.log(x) + (b - 1) * mp.log(1 - x) - mp.log(mp.beta(a, b)))


xs_normal = [-37.0, -30.0, -20.0, -10.0, -8.0, -5.0, -3.0, -2.0, -1.5, -1.0, -0.5, -0.1, -1e-5, 0.0,
             1e-5, 0.1, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 10.0, 20.0, 30.0, 37.0]
probs = [1e-300, 1e-200, 1e-100, 1e-50, 1e-20, 1e-10, 1e-6, 1e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.4,
         0.5, 0.6, 0.75, 0.9, 0.95, 0.975, 0.99, 0.999, 1 - 1e-6, 1 - 1e-10]
golden["normal"] = {
    "points": [[x, f(stats.norm.cdf(x)), f(stats.norm.sf(x)), f(stats.norm.pdf(x)),
                f(mp.ncdf(x)), f(mp.ncdf(-x)), f(mp.npdf(x))] for x in xs_normal],
    "quantiles": [[p, f(stats.norm.ppf(p)), f(stats.norm.isf(p)),
                   f(mp_solve(mp.ncdf, p, True, stats.norm.ppf(p))), f(-mp_solve(mp.ncdf, p, True, stats.norm.ppf(p)))] for p in probs],
    "shifted": [[x, 3.0, 2.5, f(stats.norm.cdf(x, 3.0, 2.5)), f(stats.norm.sf(x, 3.0, 2.5))] for x in [-20.0, -1.0, 3.0, 7.5, 30.0]],
}

dfs_t = [0.5, 1.0, 2.0, 3.0, 4.5, 10.0, 30.0, 100.0, 1000.0]
xs_t = [-1e6, -1000.0, -100.0, -30.0, -10.0, -5.0, -3.0, -2.0, -1.0, -0.3, -1e-4, 0.0, 1e-4, 0.3, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 100.0, 1000.0]
t_points = []
for df in dfs_t:
    cdf = t_cdf(df)
    for x in xs_t:
        if stats.t.cdf(x, df) > 1e-300 and stats.t.sf(x, df) > 1e-300:
            t_points.append([df, x, f(stats.t.cdf(x, df)), f(stats.t.sf(x, df)), f(stats.t.pdf(x, df)),
                             f(cdf(x)), f(cdf(-x)), f(t_pdf(df, x))])
t_quantiles = []
for df in dfs_t:
    cdf = t_cdf(df)
    for p in [1e-100, 1e-20, 1e-10, 1e-6, 1e-3, 0.01, 0.025, 0.05, 0.2, 0.5, 0.8, 0.95, 0.975, 0.99, 0.999]:
        lower = p <= 0.5
        guess = stats.t.ppf(min(p, 1 - p), df)
        root = mp_solve(cdf, min(p, 1 - p), True, guess if np.isfinite(guess) and abs(guess) < 1e150 else -1.0)
        truth = root if lower else -root
        t_quantiles.append([df, p, f(stats.t.ppf(p, df)), f(stats.t.isf(p, df)), f(truth), f(-truth)])
golden["studentT"] = {"points": t_points, "quantiles": t_quantiles}

dfs_chi2 = [0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 100.0, 1000.0]
chi2_points = []
for k in dfs_chi2:
    for x in sorted(set([1e-10, 1e-4, 0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 300.0, 1000.0, 1200.0, k * 0.5, k, k * 1.5, k * 3])):
        if stats.chi2.cdf(x, k) > 1e-300 and stats.chi2.sf(x, k) > 1e-300:
            chi2_points.append([k, x, f(stats.chi2.cdf(x, k)), f(stats.chi2.sf(x, k)), f(stats.chi2.pdf(x, k)),
                                f(chi2_lower(k, x)), f(chi2_upper(k, x)), f(chi2_pdf(k, x))])
chi2_quantiles = []
for k in dfs_chi2:
    for p in [1e-100, 1e-20, 1e-10, 1e-6, 1e-3, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95, 0.99, 0.999]:
        lower = mp_solve(lambda x: chi2_lower(k, x), p, True, stats.chi2.ppf(p, k) if stats.chi2.ppf(p, k) > 0 else None, lo=0)
        upper = mp_solve(lambda x: chi2_upper(k, x), p, False, stats.chi2.isf(p, k), lo=0)
        chi2_quantiles.append([k, p, f(stats.chi2.ppf(p, k)), f(stats.chi2.isf(p, k)), f(lower), f(upper)])
golden["chiSquare"] = {"points": chi2_points, "quantiles": chi2_quantiles}

params_beta = [(0.5, 0.5), (0.5, 2.0), (1.0, 1.0), (2.0, 5.0), (5.0, 2.0), (10.0, 10.0), (20.0, 100.0), (100.0, 3.0), (0.1, 50.0)]
beta_points = []
for (a, b) in params_beta:
    for x in [1e-12, 1e-6, 1e-3, 0.01, 0.05, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 0.95, 0.99, 0.999, 1 - 1e-6]:
        if stats.beta.cdf(x, a, b) > 1e-300 and stats.beta.sf(x, a, b) > 1e-300:
            beta_points.append([a, b, x, f(stats.beta.cdf(x, a, b)), f(stats.beta.sf(x, a, b)), f(stats.beta.pdf(x, a, b)),
                                f(beta_lower(a, b, x)), f(beta_upper(a, b, x)), f(beta_pdf(a, b, x))])
beta_quantiles = []
for (a, b) in params_beta:
    for p in [1e-20, 1e-10, 1e-6, 1e-3, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95, 0.99, 0.999]:
        lower = mp_solve(lambda x: beta_lower(a, b, x), p, True, 0.5, lo=0, hi=1)
        upper = mp_solve(lambda x: beta_upper(a, b, x), p, False, 0.5, lo=0, hi=1)
        beta_quantiles.append([a, b, p, f(stats.beta.ppf(p, a, b)), f(stats.beta.isf(p, a, b)), f(lower), f(upper)])
golden["beta"] = {"points": beta_points, "quantiles": beta_quantiles}

# ---------------------------------------------------------------- Kolmogorov-Smirnov
kstwo_points = []
for n in [1, 2, 3, 5, 10, 50, 100, 140, 141, 500, 1000, 10000, 100000, 100001, 500000]:
    xs = set([0.3 / n, 0.7 / n, 0.95 / n, 1.5 / n, 0.5, 0.6, 0.9, 1 - 0.5 / n, 1 - 1.5 / n])
    for nx2 in [0.1, 0.3, 0.7, 0.76, 1.0, 1.5, 2.0, 2.3, 3.0, 4.5, 8.0, 17.0, 19.0, 40.0, 100.0, 300.0, 380.0]:
        xs.add(math.sqrt(nx2 / n))
    for x in sorted(xs):
        if 0 < x < 1:
            kstwo_points.append([n, x, f(stats.kstwo.sf(x, n)), f(stats.kstwo.cdf(x, n))])
golden["kstwo"] = kstwo_points
golden["kstwobign"] = [[y, f(stats.kstwobign.sf(y))] for y in [0.05, 0.2, 0.4, 0.6, 0.8, 0.95, 1.0, 1.05, 1.2, 1.36, 1.5, 2.0, 3.0, 5.0, 6.0]]


ks2_cases = [
    ("one element each", spec(1, 1), spec(2, 1), "auto"),
    ("one vs three", spec(3, 1), spec(4, 3), "auto"),
    ("tiny equal", spec(5, 2), spec(6, 2), "auto"),
    ("tiny unequal", spec(7, 3), spec(8, 5), "auto"),
    ("one element vs 100", spec(9, 1, loc=0.5), spec(10, 100), "auto"),
    ("equal 10", spec(11, 10), spec(12, 10, loc=0.3), "auto"),
    ("equal 50 shifted", spec(13, 50), spec(14, 50, loc=0.4), "auto"),
    ("equal 200 same", spec(15, 200), spec(16, 200), "auto"),
    ("equal 1000 shifted", spec(17, 1000), spec(18, 1000, loc=0.05), "auto"),
    ("unequal 20 vs 30", spec(19, 20), spec(20, 30, loc=0.2), "auto"),
    ("unequal 47 vs 113", spec(21, 47), spec(22, 113, scale=1.3), "auto"),
    ("unequal 1000 vs 800", spec(23, 1000), spec(24, 800, loc=0.08), "auto"),
    ("unequal 3000 vs 2000 same", spec(25, 3000), spec(26, 2000), "auto"),
    ("heavily tied 100 vs 150", spec(27, 100, "grid", levels=5), spec(28, 150, "grid", levels=5), "auto"),
    ("heavily tied equal 300", spec(29, 300, "grid", levels=3), spec(30, 300, "grid", loc=0.0, levels=4), "auto"),
    ("all tied identical", spec(31, 40, "grid", levels=1), spec(32, 60, "grid", levels=1), "auto"),
    ("boundary 10000 vs 9000", spec(33, 10000), spec(34, 9000, loc=0.02), "auto"),
    ("boundary 10000 vs 10000", spec(35, 10000), spec(36, 10000, loc=0.02), "auto"),
    ("boundary 10001 vs 9000", spec(37, 10001), spec(38, 9000, loc=0.02), "auto"),
    ("large 50000 vs 40000", spec(39, 50000), spec(40, 40000, loc=0.01), "auto"),
    ("large 200000 vs 150000 same", spec(41, 200000), spec(42, 150000), "auto"),
    ("large 300000 vs 300000 shifted", spec(43, 300000), spec(44, 300000, loc=0.004), "auto"),
    ("forced asymp 60 vs 40", spec(45, 60), spec(46, 40, loc=0.3), "asymp"),
    ("forced asymp tiny", spec(47, 3), spec(48, 4), "asymp"),
    ("forced exact 12000 vs 12000", spec(49, 12000), spec(50, 12000, loc=0.03), "exact"),
    ("uniform 500 vs 700", spec(51, 500, "uniform"), spec(52, 700, "uniform", loc=0.05), "auto"),
    # gcd 1: the widest lattice (lcm ~1e8) of the exact path, where its inner loop dominates.
    ("unequal exact 10000 vs 9999", spec(53, 10000), spec(54, 9999, loc=0.02), "auto"),
    ("unequal exact 9999 vs 10000 wide band", spec(55, 9999), spec(56, 10000, loc=0.06), "exact"),
]
golden["ks2samp"] = []
for name, sa, sb, method in ks2_cases:
    r = stats.ks_2samp(make_sample(sa), make_sample(sb), method=method)
    golden["ks2samp"].append({"name": name, "a": sa, "b": sb, "method": method, "statistic": f(r.statistic), "pValue": f(r.pvalue)})

ks1_cases = [
    ("normal 10", spec(61, 10), {"distribution": "normal"}, "auto"),
    ("normal 500 shifted", spec(62, 500, loc=0.1), {"distribution": "normal", "mean": 0.0, "sd": 0.6}, "auto"),
    ("normal 5000 asymp", spec(63, 5000), {"distribution": "normal", "mean": 0.0, "sd": 0.58}, "asymp"),
    ("uniform 50", spec(64, 50, "uniform"), {"distribution": "uniform"}, "auto"),
    ("uniform 2000 scaled", spec(65, 2000, "uniform", loc=2.0, scale=3.0), {"distribution": "uniform", "low": 2.0, "high": 5.2}, "auto"),
]
golden["ks1samp"] = []
for name, s, ref, method in ks1_cases:
    x = make_sample(s)
    if ref["distribution"] == "normal":
        r = stats.ks_1samp(x, stats.norm(ref.get("mean", 0.0), ref.get("sd", 1.0)).cdf, method=method)
    else:
        low, high = ref.get("low", 0.0), ref.get("high", 1.0)
        r = stats.ks_1samp(x, stats.uniform(low, high - low).cdf, method=method)
    golden["ks1samp"].append({"name": name, "sample": s, "reference": ref, "method": method, "statistic": f(r.statistic), "pValue": f(r.pvalue)})

# ---------------------------------------------------------------- PSI, histogram, quantiles (numpy)
golden["psi"] = []
for name, sb, sc, bins, strategy in [
    ("quantile 10 shifted", spec(71, 5000), spec(72, 3000, loc=0.2), 10, "quantile"),
    ("quantile 10 same", spec(73, 5000), spec(74, 4000), 10, "quantile"),
    ("uniform 20 scaled", spec(75, 2000), spec(76, 2500, scale=1.5), 20, "uniform"),
    ("quantile 5 heavy ties", spec(77, 1000, "grid", levels=3), spec(78, 800, "grid", levels=4), 5, "quantile"),
    ("quantile 10 far shift (empty bins)", spec(79, 3000), spec(80, 3000, loc=3.0), 10, "quantile"),
]:
    ref = psi_reference(make_sample(sb), make_sample(sc), bins, strategy)
    golden["psi"].append({"name": name, "baseline": sb, "current": sc, "bins": bins, "strategy": strategy, **ref})

qs = [0.0, 0.01, 0.1, 0.25, 0.333, 0.5, 0.75, 0.9, 0.99, 1.0]
golden["quantiles"] = [{"sample": sp, "probabilities": qs, "values": [float(v) for v in np.quantile(make_sample(sp), qs)]}
                       for sp in [spec(81, 1), spec(82, 2), spec(83, 7), spec(84, 1000), spec(85, 101, "grid", levels=4)]]
hist_edges = [-0.5, -0.1, 0.0, 0.1, 0.5]
golden["histogram"] = {"sample": spec(86, 500), "edges": hist_edges,
                       "counts": np.bincount(np.searchsorted(hist_edges, make_sample(spec(86, 500)), side="right"), minlength=6).tolist()}

# ---------------------------------------------------------------- tests for A/B results
def mp_t_quantile_upper(df, q):
    cdf = t_cdf(df)
    return -mp_solve(cdf, q, True, stats.t.ppf(q, df))


golden["welch"] = []
for name, st, sc in [
    ("clear lift", spec(91, 400, loc=10.3, scale=2.0), spec(92, 500, loc=10.0, scale=2.0)),
    ("no difference", spec(93, 1000, loc=5.0), spec(94, 1000, loc=5.0)),
    ("tiny samples", spec(95, 2, loc=1.0), spec(96, 3, loc=1.5)),
    ("unequal variances", spec(97, 60, loc=3.0, scale=5.0), spec(98, 2000, loc=2.5, scale=0.5)),
    ("values near 1e9", spec(99, 300, loc=1e9, scale=1e-3), spec(100, 400, loc=1e9 + 1e-4, scale=1e-3)),
]:
    # Truth from exact rational means and variances (np.mean of values near 1e9 is only good to
    # ~1e-7, too coarse for a mean difference of 1e-4), p-value and interval at 50 digits.
    t_s, c_s = make_sample(st), make_sample(sc)
    ft, fc = [Fraction(v) for v in t_s], [Fraction(v) for v in c_s]
    mt_x, mc_x = sum(ft) / len(ft), sum(fc) / len(fc)
    vt_x = sum((v - mt_x) ** 2 for v in ft) / (len(ft) - 1) / len(ft)
    vc_x = sum((v - mc_x) ** 2 for v in fc) / (len(fc) - 1) / len(fc)
    diff_x = mt_x - mc_x
    se_mp = mp.sqrt(mp.mpf(vt_x.numerator) / vt_x.denominator + mp.mpf(vc_x.numerator) / vc_x.denominator)
    t_mp = (mp.mpf(diff_x.numerator) / diff_x.denominator) / se_mp
    df_x = (vt_x + vc_x) ** 2 / (vt_x ** 2 / (len(ft) - 1) + vc_x ** 2 / (len(fc) - 1))
    df = float(df_x)
    p_mp = 2 * t_cdf(mp.mpf(df_x.numerator) / df_x.denominator)(-abs(t_mp))
    r = stats.ttest_ind(t_s, c_s, equal_var=False)
    assert abs(float(t_mp) - r.statistic) <= 1e-3 * abs(float(t_mp)), (name, float(t_mp), r.statistic)  # scipy is off by ~3e-4 at 1e9
    vt, vc = float(vt_x), float(vc_x)
    diff = float(diff_x)
    se = float(se_mp)
    crit = float(mp_t_quantile_upper(df, 0.025))
    mc, mt = float(mc_x), float(mt_x)
    lift = float(diff_x / mc_x)
    lift_se = math.sqrt(vt / mc ** 2 + mt ** 2 * vc / mc ** 4)
    z = float(stats.norm.isf(0.025))
    golden["welch"].append({"name": name, "treatment": st, "control": sc, "t": f(t_mp), "pValue": f(p_mp), "df": float(df),
                            "difference": diff, "differenceInterval": [diff - crit * se, diff + crit * se],
                            "relativeLift": lift, "relativeLiftInterval": [lift - z * lift_se, lift + z * lift_se]})

golden["proportions"] = []
for st, nt, sc, nc in [(120, 1000, 100, 1000), (5, 50, 9, 60), (4900, 100000, 5000, 100000), (0, 30, 3, 40)]:
    p1, p2 = st / nt, sc / nc
    pooled = (st + sc) / (nt + nc)
    se = math.sqrt(pooled * (1 - pooled) * (1 / nt + 1 / nc))
    z = (p1 - p2) / se
    wald = math.sqrt(p1 * (1 - p1) / nt + p2 * (1 - p2) / nc)
    crit = float(stats.norm.isf(0.025))
    golden["proportions"].append({"treatment": [st, nt], "control": [sc, nc], "z": z, "pValue": float(2 * stats.norm.sf(abs(z))),
                                  "differenceInterval": [p1 - p2 - crit * wald, p1 - p2 + crit * wald]})

golden["chisquare"] = []
for obs, exp in [([5050, 4950], [50, 50]), ([480, 520, 1000], [25, 25, 50]), ([10, 0, 30], [1, 1, 2]), ([9000, 11000], [1, 1])]:
    total = sum(obs)
    f_exp = np.array(exp, dtype=float) / sum(exp) * total
    r = stats.chisquare(obs, f_exp)
    golden["chisquare"].append({"observed": obs, "expected": exp, "statistic": f(r.statistic), "pValue": f(r.pvalue)})

golden["contingency"] = []
for table in [[[10, 20], [30, 25]], [[3, 1], [1, 3]], [[100, 150, 80], [90, 160, 95]], [[5, 0, 2], [1, 4, 6], [7, 3, 3]]]:
    for correction in [True, False]:
        chi2, p, dof, expected = stats.chi2_contingency(table, correction=correction)
        golden["contingency"].append({"table": table, "correction": correction, "statistic": f(chi2), "pValue": f(p), "df": int(dof),
                                      "expected": expected.tolist()})


def holm_np(p):
    p = np.asarray(p, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adj_sorted = np.maximum.accumulate(np.minimum((m - np.arange(m)) * p[order], 1.0))
    out = np.empty(m)
    out[order] = adj_sorted
    return out.tolist()


def bh_np(p):
    p = np.asarray(p, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    adj_sorted = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    out = np.empty(m)
    out[order] = adj_sorted
    return out.tolist()


golden["adjustments"] = [{"pValues": p, "holm": holm_np(p), "bh": bh_np(p)} for p in [
    [0.01, 0.04, 0.03, 0.005], [0.5], [0.001, 0.2, 0.2, 0.9, 0.04, 0.0001], [1.0, 0.99, 0.98]]]

golden["sampleSize"] = {
    "means": [{"mde": mde, "sd": sd, "alpha": a, "power": pw,
               "n": int(math.ceil(2 * (stats.norm.isf(a / 2) + stats.norm.ppf(pw)) ** 2 * sd ** 2 / mde ** 2))}
              for mde, sd, a, pw in [(0.1, 1.0, 0.05, 0.8), (2.0, 15.0, 0.01, 0.9), (0.5, 3.3, 0.1, 0.95)]],
    "proportions": [{"baseline": p1, "mde": d, "alpha": a, "power": pw,
                     "n": int(math.ceil((stats.norm.isf(a / 2) * math.sqrt(2 * ((2 * p1 + d) / 2) * (1 - (2 * p1 + d) / 2)) +
                                         stats.norm.ppf(pw) * math.sqrt(p1 * (1 - p1) + (p1 + d) * (1 - p1 - d))) ** 2 / d ** 2))}
                    for p1, d, a, pw in [(0.1, 0.01, 0.05, 0.8), (0.5, -0.05, 0.05, 0.9), (0.02, 0.005, 0.01, 0.8)]],
}

# ---------------------------------------------------------------- mergeable summaries (exact truth)
def exact_summary(values):
    fr = [Fraction(v) for v in values]
    n = len(fr)
    mean = sum(fr) / n
    m2 = sum((v - mean) ** 2 for v in fr)
    return {"count": n, "mean": float(mean), "variance": float(m2 / (n - 1)), "min": float(min(values)), "max": float(max(values))}


golden["summaries"] = []
for sp, chunks in [(spec(111, 10000, loc=1e9, scale=1e-2), [1, 3, 4000, 2996, 3000]), (spec(112, 5000, loc=-3.0, scale=100.0), [2500, 2500]),
                   (spec(113, 1000, "grid", loc=7.0, scale=0.5, levels=3), [10, 990])]:
    golden["summaries"].append({"sample": sp, "chunks": chunks, **exact_summary(make_sample(sp))})

# ---------------------------------------------------------------- xoshiro128** reference stream
def xoshiro_stream(seed, count):
    mask = 0xFFFFFFFF
    sm = seed & mask

    def splitmix32():
        nonlocal sm
        sm = (sm + 0x9E3779B9) & mask
        z = sm
        z = ((z ^ (z >> 16)) * 0x85EBCA6B) & mask
        z = ((z ^ (z >> 13)) * 0xC2B2AE35) & mask
        return (z ^ (z >> 16)) & mask
    s = [splitmix32() for _ in range(4)]
    rotl = lambda x, k: ((x << k) | (x >> (32 - k))) & mask
    out = []
    for _ in range(count):
        result = (rotl((s[1] * 5) & mask, 7) * 9) & mask
        t = (s[1] << 9) & mask
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 11)
        out.append(result)
    return out


golden["xoshiro128ss"] = [{"seed": seed, "first": xoshiro_stream(seed, 16)} for seed in [0, 1, 42, 123456789, 4294967295]]

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stats.json")
with open(out, "w") as fh:
    json.dump(golden, fh, indent=0, separators=(",", ":"))
    fh.write("\n")
print("wrote", out)
