#!/usr/bin/python3
"""Golden values for multivariate drift, computed by numpy and scikit-learn (Debian's python3-numpy
and python3-sklearn).

Run with Debian's Python: /usr/bin/python3 generate_multivariate.py
It writes multivariate.json beside this file; test/multivariate-golden.test.ts loads it. Inputs
are written out in full (rounded to 6 decimals, so the JSON stays small), so both sides read the
same doubles:
- eigh: symmetric matrices (random, with repeated eigenvalues, diagonal, rank-deficient) and
  numpy.linalg.eigh's eigenvalues and eigenvectors;
- pca: correlated baseline rows and window rows; StandardScaler fitted on the baseline, then
  PCA(n_components=share) fitted on the scaled baseline: kept components, explained variance
  ratios, components and every row's reconstruction distance |x - inverse_transform(transform(x))|;
- auc: scores (with ties) and labels with sklearn.metrics.roc_auc_score.
"""
import json
import os

import numpy as np
import sklearn
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

rng = np.random.default_rng(20261202)


def r6(a):
    return np.round(np.asarray(a, dtype=np.float64), 6)


def symmetric(n):
    a = r6(rng.normal(size=(n, n)))
    return r6((a + a.T) / 2)


golden = {"numpy": np.__version__, "sklearn": sklearn.__version__, "eigh": [], "pca": [], "auc": []}

q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
repeated = r6(q @ np.diag([1.0, 1.0, 1.0, 2.0, 5.0, 5.0]) @ q.T)
repeated = r6((repeated + repeated.T) / 2)
low_rank_factor = rng.normal(size=(12, 3))
low_rank = r6(low_rank_factor @ low_rank_factor.T)
low_rank = r6((low_rank + low_rank.T) / 2)
matrices = {
    "random-3": symmetric(3),
    "random-8": symmetric(8),
    "random-30": symmetric(30),
    "random-60": symmetric(60),
    "repeated-eigenvalues-6": repeated,
    "diagonal-4": np.diag([3.0, -1.0, 2.0, 0.5]),
    "rank-3-of-12": low_rank,
}
for name, m in matrices.items():
    values, vectors = np.linalg.eigh(m)
    golden["eigh"].append({
        "name": name,
        "n": int(m.shape[0]),
        "matrix": m.flatten().tolist(),
        "values": values.tolist(),
        "vectors": vectors.flatten().tolist(),
    })


def correlated(n, d, mixing, scale, shift):
    z = rng.normal(size=(n, d))
    return r6(z @ mixing * scale + shift)


for name, d, n_base, n_win, share, flip in [
    ("d2-flip", 2, 400, 150, 0.65, True),
    ("d6-share-0.65", 6, 500, 200, 0.65, False),
    ("d6-share-0.9", 6, 500, 200, 0.9, False),
    ("d12-share-0.5", 12, 600, 100, 0.5, False),
]:
    mixing = rng.normal(size=(d, d))
    scale = rng.uniform(0.5, 20, size=d)
    shift = rng.uniform(-50, 50, size=d)
    baseline = correlated(n_base, d, mixing, scale, shift)
    window_mixing = mixing.copy()
    if flip:
        window_mixing[:, 1] = -window_mixing[:, 1]
    else:
        window_mixing = mixing + rng.normal(scale=0.5, size=(d, d))
    window = correlated(n_win, d, window_mixing, scale, shift)
    scaler = StandardScaler().fit(baseline)
    pca = PCA(n_components=share, svd_solver="full").fit(scaler.transform(baseline))

    def distances(x):
        z = scaler.transform(x)
        return np.linalg.norm(z - pca.inverse_transform(pca.transform(z)), axis=1)

    golden["pca"].append({
        "name": name,
        "features": d,
        "varianceShare": share,
        "baseline": baseline.flatten().tolist(),
        "window": window.flatten().tolist(),
        "mean": scaler.mean_.tolist(),
        "scale": scaler.scale_.tolist(),
        "components": int(pca.n_components_),
        "explainedVarianceRatio": pca.explained_variance_ratio_.tolist(),
        "axes": pca.components_.flatten().tolist(),
        "baselineDistances": distances(baseline).tolist(),
        "windowDistances": distances(window).tolist(),
    })

for name, n, ties in [("continuous-50", 50, False), ("ties-200", 200, True), ("separated-30", 30, False)]:
    labels = rng.integers(0, 2, size=n)
    labels[0], labels[1] = 0, 1
    scores = rng.normal(size=n) + (3.0 if name.startswith("separated") else 0.4) * labels
    if ties:
        scores = np.round(scores * 2) / 2
    scores = r6(scores)
    golden["auc"].append({
        "name": name,
        "scores": scores.tolist(),
        "labels": labels.tolist(),
        "auc": float(roc_auc_score(labels, scores)),
    })

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "multivariate.json"), "w") as out:
    json.dump(golden, out, separators=(",", ":"))
    out.write("\n")
