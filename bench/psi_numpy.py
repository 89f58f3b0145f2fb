"""The numpy PSI both benchmarks compare against: decile edges of the baseline (repeated
edges collapsed; an edge at the minimum stays), empty bins filled with a small share, as our psi() does."""
import numpy as np


def psi(base, cur, bins=10):
    cand = np.quantile(base, np.arange(1, bins) / bins)
    edges = np.unique(cand)
    bs = np.bincount(np.searchsorted(edges, base, side="right"), minlength=len(edges) + 1) / len(base)
    cs = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1) / len(cur)
    nz = np.concatenate([bs[bs > 0], cs[cs > 0]])
    fill = nz.min() / 1e6 if nz.min() <= 1e-4 else 1e-4
    b2, c2 = np.where(bs == 0, fill, bs), np.where(cs == 0, fill, cs)
    return float(np.sum((c2 - b2) * np.log(c2 / b2)))
