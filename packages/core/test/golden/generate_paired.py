"""Golden values for CUPED and ratio metrics (PairedSummary.ts, PairedTests.ts).

For each case this writes the raw per-user data (so the test folds it into paired summaries) and
what independent tools compute from it:
- CUPED: statsmodels OLS of y on [1, treatment, x - mean(x)] gives the adjusted estimate (the
  treatment coefficient) and theta (the covariate's coefficient). The interval and p-value are
  scipy's Welch test (ttest_ind, equal_var=False) on the adjusted values y - theta * x, with the
  Welch-Satterthwaite df and t quantile from scipy; the variance reduction is 1 - the adjusted
  squared standard error / the unadjusted one (numpy). Expected agreement: 1e-9 relative.
- Ratio metrics: numpy's delta method per arm (np.cov, ddof=1) written in the textbook form
  var(R) = (s_yy/mx^2 - 2 my s_xy/mx^3 + my^2 s_xx/mx^4) / n, the z-test and intervals from
  scipy.stats.norm; expected agreement 1e-9 relative. A bootstrap over users (2,000 resamples,
  seed 18) of each arm's ratio checks the delta method itself: its standard error within 10%.

Run: python3 packages/core/test/golden/generate_paired.py > packages/core/test/golden/paired.json
"""
import json

import numpy as np
import statsmodels.api as sm
from scipy import stats

rng = np.random.default_rng(18)
ALPHA = 0.05


def cuped_case(name, n_c, n_t, make, alpha=ALPHA, offset=0.0):
    raw_c = make(n_c, 0.0)
    raw_t = make(n_t, 1.0)
    # The reference works on values less the offset (exact in doubles near it, Sterbenz): OLS and
    # Welch are shift invariant, and on raw values near 1e9 they would lose digits themselves.
    x_c, y_c = raw_c[0] - offset, raw_c[1] - offset
    x_t, y_t = raw_t[0] - offset, raw_t[1] - offset
    x = np.concatenate([x_c, x_t])
    y = np.concatenate([y_c, y_t])
    d = np.concatenate([np.zeros(n_c), np.ones(n_t)])
    design = np.column_stack([np.ones_like(x), d, x - x.mean()])
    fit = sm.OLS(y, design).fit()
    estimate, theta = float(fit.params[1]), float(fit.params[2])
    adj_t, adj_c = y_t - theta * x_t, y_c - theta * x_c
    welch = stats.ttest_ind(adj_t, adj_c, equal_var=False)
    vt, vc = adj_t.var(ddof=1) / n_t, adj_c.var(ddof=1) / n_c
    se = np.sqrt(vt + vc)
    df = (vt + vc) ** 2 / (vt**2 / (n_t - 1) + vc**2 / (n_c - 1))
    half = stats.t.ppf(1 - alpha / 2, df) * se
    unadjusted = y_t.var(ddof=1) / n_t + y_c.var(ddof=1) / n_c
    return {
        "name": name,
        "alpha": alpha,
        "control": {"x": raw_c[0].tolist(), "y": raw_c[1].tolist()},
        "treatment": {"x": raw_t[0].tolist(), "y": raw_t[1].tolist()},
        "expected": {
            "estimate": estimate,
            "theta": theta,
            "t": float(welch.statistic),
            "pValue": float(welch.pvalue),
            "df": float(df),
            "lower": float(estimate - half),
            "upper": float(estimate + half),
            "varianceReduction": float(1 - se**2 / unadjusted),
            "unadjustedDifference": float(y_t.mean() - y_c.mean()),
        },
    }


def linear(slope, noise, effect, offset=0.0, x_sd=3.0):
    def make(n, treated):
        x = offset + rng.normal(10, x_sd, n)
        y = offset + 2 + slope * (x - offset) + rng.normal(0, noise * (1 + 0.5 * treated), n) + effect * treated
        return x, y

    return make


def ratio_arm(x, y):
    n = len(x)
    mx, my = x.mean(), y.mean()
    c = np.cov(np.vstack([x, y]), ddof=1)
    var = (c[1, 1] / mx**2 - 2 * my * c[0, 1] / mx**3 + my**2 * c[0, 0] / mx**4) / n
    boots = []
    for _ in range(2000):
        i = rng.integers(0, n, n)
        boots.append(y[i].mean() / x[i].mean())
    return my / mx, var, float(np.std(boots, ddof=1))


def ratio_case(name, n_c, n_t, make, alpha=ALPHA):
    x_c, y_c = make(n_c, 0.0)
    x_t, y_t = make(n_t, 1.0)
    r_c, v_c, boot_c = ratio_arm(x_c, y_c)
    r_t, v_t, boot_t = ratio_arm(x_t, y_t)
    diff = r_t - r_c
    se = np.sqrt(v_t + v_c)
    z = diff / se
    crit = stats.norm.ppf(1 - alpha / 2)
    lift = r_t / r_c - 1
    lift_se = np.sqrt(v_t / r_c**2 + r_t**2 * v_c / r_c**4)
    return {
        "name": name,
        "alpha": alpha,
        "control": {"x": x_c.tolist(), "y": y_c.tolist()},
        "treatment": {"x": x_t.tolist(), "y": y_t.tolist()},
        "expected": {
            "ratioControl": float(r_c),
            "ratioTreatment": float(r_t),
            "seControl": float(np.sqrt(v_c)),
            "seTreatment": float(np.sqrt(v_t)),
            "bootstrapSeControl": boot_c,
            "bootstrapSeTreatment": boot_t,
            "z": float(z),
            "pValue": float(2 * stats.norm.sf(abs(z))),
            "difference": float(diff),
            "lower": float(diff - crit * se),
            "upper": float(diff + crit * se),
            "relativeLift": float(lift),
            "liftLower": float(lift - crit * lift_se),
            "liftUpper": float(lift + crit * lift_se),
        },
    }


def clicks_per_session(p_control, p_treatment):
    def make(n, treated):
        sessions = rng.poisson(3, n) + 1
        clicks = rng.binomial(sessions, p_treatment if treated else p_control)
        return sessions.astype(float), clicks.astype(float)

    return make


def revenue_per_order(n_unused=None):
    def make(n, treated):
        orders = rng.poisson(1.5, n).astype(float)
        revenue = orders * rng.lognormal(3 + 0.05 * treated, 0.8, n)
        return orders, revenue

    return make


cuped = [
    cuped_case("strong covariate", 400, 450, linear(0.8, 1.0, 0.3)),
    cuped_case("weak covariate", 600, 500, linear(0.05, 2.0, 0.2)),
    cuped_case("unequal arms, alpha 0.1", 150, 900, linear(1.5, 3.0, -0.5), alpha=0.1),
    # Values near 1e9 that differ in the second decimal: the shifted means keep them.
    cuped_case("large offset", 300, 300, linear(0.9, 0.01, 0.004, offset=1e9, x_sd=0.02), offset=1e9),
]
ratios = [
    ratio_case("clicks per session", 3000, 3200, clicks_per_session(0.2, 0.21)),
    ratio_case("revenue per order", 2500, 2500, revenue_per_order(), alpha=0.1),
    ratio_case("small arms", 80, 60, clicks_per_session(0.3, 0.3)),
]
print(json.dumps({"cuped": cuped, "ratios": ratios}))
