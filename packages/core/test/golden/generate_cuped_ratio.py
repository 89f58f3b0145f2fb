"""Golden values for CUPED on ratio metrics (CupedRatio.ts), computed independently of it.

For each case this writes the raw per-user rows [y, d, x_y, x_d] (numerator, denominator and
their pre-experiment values) of both arms and what independent tools compute from them:
- theta of the numerator (denominator): statsmodels OLS of y (d) on [1, treatment, x_y (x_d)],
  the covariate's coefficient (the slope pooled within arms);
- the adjusted values y - theta_y (x_y - mean(x_y)), d - theta_d (x_d - mean(x_d)) (means over
  both arms), each arm's ratio mean(adjusted y) / mean(adjusted d) and its delta-method variance
  in the textbook form (s_yy/md^2 - 2 my s_yd/md^3 + my^2 s_dd/md^4) / n with np.cov (ddof=1) of
  the adjusted pair; the same without adjustment; the difference, its normal interval and the
  two-sided z-test from scipy.stats.norm; the variance reduction of the difference.
Expected agreement: 1e-9 relative.

Run: python3 packages/core/test/golden/generate_cuped_ratio.py > packages/core/test/golden/cuped_ratio.json
"""
import json

import numpy as np
import statsmodels.api as sm
from scipy import stats

rng = np.random.default_rng(18)
ALPHA = 0.05


def sessions_clicks(n, lift):
    # Pre-period sessions and clicks per user; this period's follow them (users keep their habits).
    activity = rng.gamma(2.0, 2.0, n)
    x_d = rng.poisson(activity) + 1.0
    x_y = rng.binomial(x_d.astype(int), 0.2).astype(float)
    d = rng.poisson(activity) + 1.0
    y = rng.binomial(d.astype(int), 0.2 * (1 + lift)).astype(float)
    return np.column_stack([y, d, x_y, x_d])


def revenue_orders(n, lift):
    spend = rng.lognormal(3.0, 0.6, n)
    x_d = rng.poisson(2.0, n) + 1.0
    x_y = x_d * spend * rng.lognormal(0, 0.2, n)
    d = rng.poisson(2.0, n) + 1.0
    y = d * spend * (1 + lift) * rng.lognormal(0, 0.2, n)
    return np.column_stack([y, d, x_y, x_d])


def theta_of(values, covariate, treatment):
    design = np.column_stack([np.ones_like(values), treatment, covariate])
    return sm.OLS(values, design).fit().params[2]


def delta(y, d):
    n = len(y)
    my, md = y.mean(), d.mean()
    (s_yy, s_yd), (_, s_dd) = np.cov(y, d, ddof=1)
    var = (s_yy / md**2 - 2 * my * s_yd / md**3 + my**2 * s_dd / md**4) / n
    return my / md, np.sqrt(var)


def case(name, make, n_c, n_t, lift):
    control, treat = make(n_c, 0.0), make(n_t, lift)
    rows = np.vstack([control, treat])
    is_t = np.r_[np.zeros(n_c), np.ones(n_t)]
    theta_y = theta_of(rows[:, 0], rows[:, 2], is_t)
    theta_d = theta_of(rows[:, 1], rows[:, 3], is_t)
    adj_y = rows[:, 0] - theta_y * (rows[:, 2] - rows[:, 2].mean())
    adj_d = rows[:, 1] - theta_d * (rows[:, 3] - rows[:, 3].mean())
    arms = {}
    for label, mask in (("control", is_t == 0), ("treatment", is_t == 1)):
        ratio, se = delta(adj_y[mask], adj_d[mask])
        plain, plain_se = delta(rows[mask, 0], rows[mask, 1])
        arms[label] = {"ratio": ratio, "standardError": se, "unadjustedRatio": plain, "unadjustedStandardError": plain_se}
    diff = arms["treatment"]["ratio"] - arms["control"]["ratio"]
    se = np.hypot(arms["treatment"]["standardError"], arms["control"]["standardError"])
    plain_se = np.hypot(arms["treatment"]["unadjustedStandardError"], arms["control"]["unadjustedStandardError"])
    z = stats.norm.ppf(1 - ALPHA / 2)
    return {
        "name": name,
        "alpha": ALPHA,
        "control": control.tolist(),
        "treatment": treat.tolist(),
        "expected": {
            "thetaNumerator": theta_y,
            "thetaDenominator": theta_d,
            "control": arms["control"],
            "treatment": arms["treatment"],
            "difference": diff,
            "lower": diff - z * se,
            "upper": diff + z * se,
            "pValue": 2 * stats.norm.sf(abs(diff) / se),
            "varianceReduction": 1 - se**2 / plain_se**2,
        },
    }


cases = [
    case("clicks per session", sessions_clicks, 1500, 1400, 0.05),
    case("revenue per order", revenue_orders, 800, 900, 0.0),
]
print(json.dumps({"source": "generate_cuped_ratio.py (numpy seed 18, statsmodels OLS, scipy)", "cases": cases}))
