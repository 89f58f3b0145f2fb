#!/usr/bin/python3
"""Reference values for CBPE (packages/core/src/drift/performance/Cbpe.ts), computed independently
with numpy and scipy. Run with /usr/bin/python3 generate_cbpe.py; writes cbpe.json beside it.

- Expected confusion matrix: E[TP] = sum p over predicted positives (p >= threshold), E[FP] = sum
  (1 - p) over them, E[FN] = sum p over predicted negatives, E[TN] = sum (1 - p) over them.
- Expected ROC AUC, pairwise (not by a curve): sum over pairs p_i (1 - p_j) (1[s_i > s_j] + 1/2 1[s_i = s_j])
  / (sum p * sum (1 - p)), pairs (i, j) over all rows, a row with itself included as a tie.
- Realized ROC AUC: the Mann-Whitney U of scipy over positives vs negatives / (n1 n0).
- Standard errors: sqrt(m (1 - m)) / sqrt(n * share) per metric, Hanley & McNeil for ROC AUC.
"""
import json
import os

import numpy as np
from scipy import stats


def expected_auc(p):
    s = p
    greater = (s[:, None] > s[None, :]).astype(float)
    ties = (s[:, None] == s[None, :]).astype(float)
    num = np.sum(p[:, None] * (1 - p[None, :]) * (greater + 0.5 * ties))
    return float(num / (p.sum() * (1 - p).sum()))


def realized_auc(p, y):
    pos, neg = p[y == 1], p[y == 0]
    if len(pos) == 0 or len(neg) == 0:
        return None
    u = stats.mannwhitneyu(pos, neg, alternative="two-sided").statistic
    return float(u / (len(pos) * len(neg)))


def metrics(tp, fp, fn, tn, auc):
    n = tp + fp + fn + tn
    return {
        "accuracy": float((tp + tn) / n),
        "precision": float(tp / (tp + fp)) if tp + fp > 0 else None,
        "recall": float(tp / (tp + fn)) if tp + fn > 0 else None,
        "rocAuc": auc,
    }


def hanley_mcneil(a, n_pos, n_neg):
    q1 = a / (2 - a)
    q2 = 2 * a * a / (1 + a)
    return float(np.sqrt((a * (1 - a) + (n_pos - 1) * (q1 - a * a) + (n_neg - 1) * (q2 - a * a)) / (n_pos * n_neg)))


def case(name, p, y, threshold, window_rows):
    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=int)
    pred = p >= threshold
    e = {"tp": p[pred].sum(), "fp": (1 - p[pred]).sum(), "fn": p[~pred].sum(), "tn": (1 - p[~pred]).sum()}
    r = {
        "tp": float(np.sum(pred & (y == 1))),
        "fp": float(np.sum(pred & (y == 0))),
        "fn": float(np.sum(~pred & (y == 1))),
        "tn": float(np.sum(~pred & (y == 0))),
    }
    estimated = metrics(e["tp"], e["fp"], e["fn"], e["tn"], expected_auc(p))
    realized = metrics(r["tp"], r["fp"], r["fn"], r["tn"], realized_auc(p, y))
    n = len(p)
    pos_share = p.mean()
    pred_share = pred.mean()

    def bern(m):
        return np.sqrt(m * (1 - m))

    errors = {
        "accuracy": float(bern(estimated["accuracy"]) / np.sqrt(window_rows)),
        "precision": None if estimated["precision"] is None or pred_share == 0
        else float(bern(estimated["precision"]) / np.sqrt(window_rows * pred_share)),
        "recall": None if estimated["recall"] is None else float(bern(estimated["recall"]) / np.sqrt(window_rows * pos_share)),
        "rocAuc": hanley_mcneil(estimated["rocAuc"], window_rows * pos_share, window_rows * (1 - pos_share)),
    }
    return {
        "name": name,
        "probabilities": p.tolist(),
        "labels": y.tolist(),
        "threshold": threshold,
        "expectedConfusion": {k: float(v) for k, v in e.items()},
        "realizedConfusion": r,
        "estimated": estimated,
        "realized": realized,
        "windowRows": window_rows,
        "standardErrors": errors,
    }


rng = np.random.default_rng(20261202)
cases = []
for name, n, decimals, threshold in [("small with ties", 12, 1, 0.5), ("50 rows", 50, 3, 0.5),
                                     ("300 rows, ties", 300, 2, 0.5), ("threshold 0.3", 200, 4, 0.3)]:
    z = rng.normal(0.3, 1.5, n)
    p = np.round(1 / (1 + np.exp(-z)), decimals)
    y = (rng.random(n) < p).astype(int)
    cases.append(case(name, p, y, threshold, 500))

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "cbpe.json"), "w") as f:
    json.dump({"generator": "generate_cbpe.py", "cases": cases}, f, indent=None, separators=(",", ":"))
    f.write("\n")
