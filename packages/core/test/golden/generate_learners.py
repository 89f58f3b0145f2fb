#!/usr/bin/python3
"""Reference values for the online learners (run with Debian's /usr/bin/python3 and python3-sklearn).

Writes breast_cancer.csv and diabetes.csv (datasets shipped inside scikit-learn, standardized
here so plain SGD converges) and learners.json: scikit-learn's SGDClassifier / SGDRegressor fed
the same stream one sample at a time with partial_fit (constant learning rate, no penalty, no
shuffling), with progressive-validation predictions; and FTRL-Proximal / AdaGrad runs from an
independent transcription of their published update rules.
"""
import json
import math
import os
import warnings

import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import SGDClassifier, SGDRegressor

warnings.filterwarnings("ignore")
here = os.path.dirname(os.path.abspath(__file__))


def standardized(x):
    return (x - x.mean(axis=0)) / x.std(axis=0)


def write_csv(name, x, y):
    with open(os.path.join(here, name), "w") as fh:
        fh.write(",".join([f"x{i}" for i in range(x.shape[1])] + ["y"]) + "\n")
        for row, label in zip(x, y):
            fh.write(",".join(repr(float(v)) for v in row) + "," + repr(float(label)) + "\n")


cancer = load_breast_cancer()
xc, yc = standardized(cancer.data), cancer.target.astype(float)
write_csv("breast_cancer.csv", xc, yc)
diabetes = load_diabetes()
xd = standardized(diabetes.data)
yd = (diabetes.target - diabetes.target.mean()) / diabetes.target.std()
write_csv("diabetes.csv", xd, yd)
# Read back exactly what the tests will read.
def read_csv(name):
    data = np.loadtxt(os.path.join(here, name), delimiter=",", skiprows=1)
    return data[:, :-1], data[:, -1]


xc, yc = read_csv("breast_cancer.csv")
xd, yd = read_csv("diabetes.csv")

# The same rows as JSON, which every runtime's test can import (the CSVs are the readable export).
with open(os.path.join(here, "datasets.json"), "w") as fh:
    json.dump({"breastCancer": {"x": xc.tolist(), "y": yc.tolist()}, "diabetes": {"x": xd.tolist(), "y": yd.tolist()}}, fh, separators=(",", ":"))
    fh.write("\n")

out = {"sklearn": sklearn.__version__}

clf = SGDClassifier(loss="log_loss", penalty=None, learning_rate="constant", eta0=0.01, shuffle=False, tol=None, max_iter=1, random_state=0)
probs = []
for i in range(len(yc)):
    if i > 0:
        probs.append(float(clf.predict_proba(xc[i:i + 1])[0, 1]))
    clf.partial_fit(xc[i:i + 1], yc[i:i + 1], classes=[0.0, 1.0])
p = np.clip(np.array(probs), 1e-15, 1 - 1e-15)
truth = yc[1:]
out["logistic"] = {
    "eta0": 0.01, "coef": clf.coef_[0].tolist(), "intercept": float(clf.intercept_[0]),
    "progressive": {"accuracy": float(np.mean((p >= 0.5) == (truth == 1))), "logLoss": float(-np.mean(truth * np.log(p) + (1 - truth) * np.log(1 - p)))}
}

reg = SGDRegressor(loss="squared_error", penalty=None, learning_rate="constant", eta0=0.01, shuffle=False, tol=None, max_iter=1, random_state=0)
for i in range(len(yd)):
    reg.partial_fit(xd[i:i + 1], yd[i:i + 1])
out["linear"] = {"eta0": 0.01, "coef": reg.coef_.tolist(), "intercept": float(reg.intercept_[0])}


def sigmoid(m):
    # The same overflow-safe branches as the learner's, so references differ only by the update rule.
    return 1 / (1 + math.exp(-m)) if m >= 0 else math.exp(m) / (1 + math.exp(m))


def ftrl(x, y, alpha, beta, l1, l2):
    d = x.shape[1] + 1  # last: bias
    z = [0.0] * d
    n = [0.0] * d

    def weight(i):
        if abs(z[i]) <= l1:
            return 0.0
        return -(z[i] - math.copysign(l1, z[i])) / ((beta + math.sqrt(n[i])) / alpha + l2)
    for row, label in zip(x, y):
        xs = list(row) + [1.0]
        m = sum(weight(i) * xs[i] for i in range(d) if xs[i] != 0)
        prob = sigmoid(m)
        g = prob - label
        for i in range(d):
            if xs[i] == 0:
                continue
            gi = g * xs[i]
            sigma = (math.sqrt(n[i] + gi * gi) - math.sqrt(n[i])) / alpha
            z[i] += gi - sigma * weight(i)
            n[i] += gi * gi
    return [weight(i) for i in range(d)]


def adagrad(x, y, lr, eps):
    d = x.shape[1]
    w = [0.0] * d
    b = 0.0
    g2 = [0.0] * (d + 1)
    for row, label in zip(x, y):
        m = sum(w[i] * row[i] for i in range(d)) + b
        prob = sigmoid(m)
        g = prob - label
        for i in range(d):
            if row[i] == 0:
                continue
            gi = g * row[i]
            g2[i] += gi * gi
            w[i] -= lr * gi / (math.sqrt(g2[i]) + eps)
        g2[d] += g * g
        b -= lr * g / (math.sqrt(g2[d]) + eps)
    return w + [b]


out["ftrl"] = {"alpha": 0.1, "beta": 1.0, "l1": 0.5, "l2": 1.0, "weights": ftrl(xc, yc, 0.1, 1.0, 0.5, 1.0)}
out["adagrad"] = {"learningRate": 0.1, "epsilon": 1e-8, "weights": adagrad(xc, yc, 0.1, 1e-8)}

with open(os.path.join(here, "learners.json"), "w") as fh:
    json.dump(out, fh, indent=1)
    fh.write("\n")
print("wrote learners.json", out["logistic"]["progressive"])
