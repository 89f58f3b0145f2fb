"""The scipy/numpy side of bench/drift-auto.mjs: what one automatic-choice check computes, per
feature: the choice as Evidently makes it (distinct values of reference and current together,
reference size), KS (scipy ks_2samp), PSI and the Jensen-Shannon, Kullback-Leibler and
Hellinger distances on the baseline's frozen decile bins, and, for references above 1,000
values, the chosen Wasserstein distance normed by the reference's sd. The frozen bins (edges
and baseline shares) are made before timing, as ours are made with the baseline.

Usage: python3 drift_auto_scipy.py <dir with baselines.bin, windows.bin> <features> <n>
Prints the median CPU ms of 5 timed checks after one warm-up (start-up and loading excluded).
"""
import sys
import time
import warnings

import numpy as np
from scipy import stats
from scipy.spatial import distance

warnings.simplefilter("ignore")
directory, features, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
base = np.fromfile(f"{directory}/baselines.bin").reshape(features, n)
win = np.fromfile(f"{directory}/windows.bin").reshape(features, n)


def frozen_bins(b, bins=10):
    edges = np.unique(np.quantile(b, np.arange(1, bins) / bins))
    shares = np.bincount(np.searchsorted(edges, b, side="right"), minlength=len(edges) + 1) / len(b)
    return edges, shares


frozen = [frozen_bins(base[f]) for f in range(features)]


def once():
    for f in range(features):
        ref, cur = base[f], win[f]
        distinct = len(np.unique(np.concatenate([ref, cur])))
        stats.ks_2samp(ref, cur)
        edges, bs = frozen[f]
        cs = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1) / len(cur)
        nz = np.concatenate([bs[bs > 0], cs[cs > 0]])
        fill = nz.min() / 1e6 if nz.min() <= 1e-4 else 1e-4
        b2, c2 = np.where(bs == 0, fill, bs), np.where(cs == 0, fill, cs)
        np.sum((c2 - b2) * np.log(c2 / b2))  # PSI
        distance.jensenshannon(bs, cs, base=2)
        stats.entropy(b2 / b2.sum(), c2 / c2.sum())  # KL, filled and renormalized
        np.sqrt(np.sum((np.sqrt(bs) - np.sqrt(cs)) ** 2)) / np.sqrt(2)  # Hellinger
        if len(ref) > 1000 and distinct > 5:
            stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)


once()
runs = []
for _ in range(5):
    t = time.process_time()
    once()
    runs.append((time.process_time() - t) * 1000)
print(sorted(runs)[2])
