#!/usr/bin/python3
"""Golden values for Student t and chi-square at huge degrees of freedom (issue 18), by mpmath.

Run with Debian's Python: /usr/bin/python3 huge_df.py  (writes huge_df.json beside this file)
Student t: P(T < -t) = (1 - I_y(1/2, df/2)) / 2 with y = t^2/(df + t^2), at a working precision
raised by the tail's size so the subtraction keeps 40 digits. Chi-square: P(k/2, x/2) and
Q(k/2, x/2) by quadrature of the gamma density over unit-sd pieces (mpmath's hypergeometric
series does not converge at these sizes); scipy.special.gammainc agrees to ~1e-15.
"""
import json
import math
import os

import mpmath as mp


def t_lower(df, t):
    tail = 0.5 * math.erfc(t / math.sqrt(2))
    digits = -math.log10(tail) if tail > 0 else t * t / 2 / math.log(10)
    mp.mp.dps = int(60 + digits)
    df = mp.mpf(df)
    t = mp.mpf(t)
    y = t * t / (df + t * t)
    return (1 - mp.betainc(mp.mpf(1) / 2, df / 2, 0, y, regularized=True)) / 2


def gamma_tails(a, x):
    mp.mp.dps = 40
    a = mp.mpf(a)
    x = mp.mpf(x)
    sd = mp.sqrt(a)
    log_norm = mp.loggamma(a)
    density = lambda s: mp.exp((a - 1) * mp.log(s) - s - log_norm)

    def integrate(lo, hi):
        points = [lo]
        while points[-1] + sd < hi:
            points.append(points[-1] + sd)
        points.append(hi)
        return mp.quad(density, points)

    lo = max(mp.mpf(0), a - 60 * sd)
    hi = a + 60 * sd
    lower = integrate(lo, x) if x > lo else mp.mpf(0)
    upper = integrate(x, hi) if x < hi else mp.mpf(0)
    return lower, upper


student = []
for df in [1e4, 1e5, 1e6, 1e7, 1e8, 1e10, 1e12]:
    for t in [0.1, 1, 2, 5, 10, 20, 37]:
        student.append({"df": df, "t": t, "lower": mp.nstr(t_lower(df, t), 25)})

chi = []
for k in [2e6, 1e7, 1e9, 1e12]:
    for z in [-8, -3, -1, 0, 0.5, 1, 3, 8]:
        x = float(k + z * math.sqrt(2 * k))
        lower, upper = gamma_tails(k / 2, x / 2)
        chi.append({"k": k, "x": x, "cdf": mp.nstr(lower, 25), "sf": mp.nstr(upper, 25)})

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "huge_df.json"), "w") as f:
    json.dump({"generator": "huge_df.py (mpmath " + mp.__version__ + ")", "studentT": student, "chiSquare": chi}, f, indent=1)
    f.write("\n")
