"""Samples the golden generators share with the tests: a spec (seed, size, shape) is expanded by
the same 32-bit LCG with exact arithmetic here and in samples.ts, so the JSON stays small and
both sides see bit-identical data."""
import math

import numpy as np


def lcg(seed):
    state = seed & 0xFFFFFFFF
    while True:
        state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
        yield state / 4294967296.0


def spec(seed, n, kind="irwin", loc=0.0, scale=1.0, levels=0):
    return {"seed": seed, "n": n, "kind": kind, "loc": loc, "scale": scale, "levels": levels}


def make_sample(spec):
    """Mirror of makeSample in test/golden/samples.ts."""
    gen = lcg(spec["seed"])
    out = []
    for _ in range(spec["n"]):
        kind = spec["kind"]
        if kind == "uniform":
            v = spec["loc"] + spec["scale"] * next(gen)
        elif kind == "irwin":
            s = next(gen) + next(gen) + next(gen) + next(gen) - 2.0
            v = spec["loc"] + spec["scale"] * s
        elif kind == "grid":
            v = spec["loc"] + spec["scale"] * math.floor(next(gen) * spec["levels"])
        else:
            raise ValueError(kind)
        out.append(v)
    return np.array(out, dtype=np.float64)


def psi_reference(base, cur, bins, strategy):
    """Independent numpy version of the documented PSI rule: quantile (numpy linear) or uniform
    edges from the baseline, repeated edges collapsed (an edge equal to the minimum stays), open
    outer bins, empty shares -> 1e-4 or min non-zero share / 1e6."""
    base = np.sort(np.asarray(base, dtype=np.float64))
    if strategy == "quantile":
        cand = [np.quantile(base, k / bins) for k in range(1, bins)]
    else:
        cand = [base[0] + (base[-1] - base[0]) * k / bins for k in range(1, bins)]
    edges = []
    for e in cand:
        if not edges or e > edges[-1]:
            edges.append(float(e))
    b_counts = np.bincount(np.searchsorted(edges, base, side="right"), minlength=len(edges) + 1)
    c_counts = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1)
    bs, cs = b_counts / len(base), c_counts / len(cur)
    nz = np.concatenate([bs[bs > 0], cs[cs > 0]])
    fill = nz.min() / 1e6 if nz.min() <= 1e-4 else 1e-4
    b2, c2 = np.where(bs == 0, fill, bs), np.where(cs == 0, fill, cs)
    return {"edges": edges, "baselineShares": bs.tolist(), "currentShares": cs.tolist(),
            "value": float(np.sum((c2 - b2) * np.log(c2 / b2)))}
