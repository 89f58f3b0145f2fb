"""Golden values for the Bayesian relative-lift comparison (BayesianLift.ts, gbstats' Gaussian model).

For each case (arm moments, alpha, goal, prior) this writes, computed independently of the
TypeScript code:
- "closed": the posterior N(mu, sigma^2) of the relative lift from the delta-method likelihood and
  the prior (precision weighting), then scipy: chance to beat = norm.sf(0) (norm.cdf(0) when the
  goal is minimize), risks = P(side) * truncnorm.mean(side) as gbstats' get_risk does, and the
  credible interval from norm.ppf. Expected agreement: 1e-12 relative (risks 1e-9).
- "mc": Monte-Carlo integration over 2,000,000 posterior draws of the lift (numpy, seed 18):
  the chance, both risks and the interval's quantiles with their standard errors. Stated
  tolerance: 5 standard errors plus 1/draws (a chance estimated as exactly 0 or 1 has no spread);
  quantiles: within the values whose ranks are 5 binomial standard deviations either side.
- "means" (flat prior, large samples only): Monte-Carlo over the posterior of the two means
  (mu_c ~ N(m_c, s_c^2/n_c), mu_t ~ N(m_t, s_t^2/n_t), flat priors on the means) of the exact
  ratio (mu_t - mu_c)/|mu_c|, which the delta method approximates: stated tolerance 0.01 absolute
  on the chance, 0.05 posterior standard deviations on the risks and the interval's ends.

Run: python3 packages/core/test/golden/generate_bayesian.py > packages/core/test/golden/bayesian.json
"""
import json

import numpy as np
from scipy.stats import norm, truncnorm

DRAWS = 2_000_000
rng = np.random.default_rng(18)

cases = [
    {"control": [5000, 10.0, 4.0], "treatment": [5000, 10.2, 4.1], "alpha": 0.05, "maximize": True},
    {"control": [5000, 10.0, 4.0], "treatment": [5000, 10.2, 4.1], "alpha": 0.05, "maximize": False},
    {"control": [20000, 0.1, 0.09], "treatment": [20000, 0.097, 0.087], "alpha": 0.1, "maximize": True},
    {"control": [800, 3.5, 2.25], "treatment": [900, 3.55, 2.5], "alpha": 0.05, "maximize": True},
    {"control": [50000, 42.0, 900.0], "treatment": [48000, 43.5, 950.0], "alpha": 0.01, "maximize": True},
    {"control": [30, 1.0, 0.5], "treatment": [25, 1.4, 0.6], "alpha": 0.05, "maximize": True},
    # A negative control mean: the lift is relative to its magnitude.
    {"control": [4000, -2.0, 1.0], "treatment": [4000, -1.9, 1.1], "alpha": 0.05, "maximize": True},
    # Proper priors (GrowthBook's suggested N(0, 0.3^2), and a tight, off-centre one).
    {"control": [30, 1.0, 0.5], "treatment": [25, 1.4, 0.6], "alpha": 0.05, "maximize": True,
     "prior": [0.0, 0.09]},
    {"control": [800, 3.5, 2.25], "treatment": [900, 3.55, 2.5], "alpha": 0.05, "maximize": False,
     "prior": [0.02, 0.0001]},
]


def posterior(case):
    nc, mc, vc = case["control"]
    nt, mt, vt = case["treatment"]
    lift = (mt - mc) / abs(mc)
    data_var = vt / (nt * mc**2) + vc * mt**2 / (nc * mc**4)
    if "prior" not in case:
        return lift, np.sqrt(data_var)
    pm, pv = case["prior"]
    precision = 1 / data_var + 1 / pv
    return (lift / data_var + pm / pv) / precision, np.sqrt(1 / precision)


def closed(mu, sigma, alpha, maximize):
    p_neg = norm.cdf(0, mu, sigma)
    a, b = (0 - mu) / sigma, np.inf
    mean_pos = truncnorm.mean(a, b, loc=mu, scale=sigma)
    mean_neg = truncnorm.mean(-np.inf, a, loc=mu, scale=sigma)
    positive = (1 - p_neg) * mean_pos
    negative = -p_neg * mean_neg
    return {
        "expectedLift": mu,
        "liftSd": sigma,
        "chanceToBeatControl": float(norm.sf(0, mu, sigma) if maximize else p_neg),
        "riskOfChoosingTreatment": float(negative if maximize else positive),
        "riskOfChoosingControl": float(positive if maximize else negative),
        "lower": float(norm.ppf(alpha / 2, mu, sigma)),
        "upper": float(norm.ppf(1 - alpha / 2, mu, sigma)),
    }


def monte_carlo(lift, alpha, maximize):
    n = len(lift)
    better = lift > 0 if maximize else lift < 0
    loss_t = np.maximum(-lift, 0) if maximize else np.maximum(lift, 0)
    loss_c = np.maximum(lift, 0) if maximize else np.maximum(-lift, 0)
    chance = better.mean()
    sorted_lift = np.sort(lift)
    # The q-quantile's rank is within 5 binomial standard deviations: the value range it spans.
    def quantile(q):
        spread = 5 * np.sqrt(n * q * (1 - q))
        lo = sorted_lift[max(0, int(np.floor(n * q - spread)))]
        hi = sorted_lift[min(n - 1, int(np.ceil(n * q + spread)))]
        return float(np.quantile(lift, q)), float(lo), float(hi)
    lower, lower_lo, lower_hi = quantile(alpha / 2)
    upper, upper_lo, upper_hi = quantile(1 - alpha / 2)
    return {
        "chanceToBeatControl": [float(chance), float(np.sqrt(chance * (1 - chance) / n))],
        "riskOfChoosingTreatment": [float(loss_t.mean()), float(loss_t.std() / np.sqrt(n))],
        "riskOfChoosingControl": [float(loss_c.mean()), float(loss_c.std() / np.sqrt(n))],
        "lower": [lower, lower_lo, lower_hi],
        "upper": [upper, upper_lo, upper_hi],
    }


out = []
for case in cases:
    mu, sigma = posterior(case)
    entry = dict(case)
    entry["closed"] = closed(mu, sigma, case["alpha"], case["maximize"])
    entry["mc"] = monte_carlo(rng.normal(mu, sigma, DRAWS), case["alpha"], case["maximize"])
    nc, mc, vc = case["control"]
    nt, mt, vt = case["treatment"]
    if "prior" not in case and min(nc, nt) >= 1000:
        mean_c = rng.normal(mc, np.sqrt(vc / nc), DRAWS)
        mean_t = rng.normal(mt, np.sqrt(vt / nt), DRAWS)
        entry["means"] = monte_carlo((mean_t - mean_c) / np.abs(mean_c), case["alpha"], case["maximize"])
    out.append(entry)
print(json.dumps({"source": "generate_bayesian.py (numpy seed 18, scipy)", "draws": DRAWS, "cases": out}, indent=1))
