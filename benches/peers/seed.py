"""The `seed` problem written out in numpy, independently of the crate, and the W1 score.

Two datapoints, l1 = -exp(-(W-2)^2), l2 = l1 - exp(-k (W-1)^2) with k = 100, so
G = 2(W-2) e^{-(W-2)^2} + k(W-1) e^{-k(W-1)^2} and S^2 = [k(W-1) e^{-k(W-1)^2}]^2
(population variance of the two gradients). T = 0.02, B = 1, domain [0, 3], zero-flux
walls; D = T^2 S^2 / (2B) (Ito form J = -T G P - d(D P)/dW); initial density a normal
(mean 0.5, sd 0.175) truncated to the domain, as exact cell averages.
"""

import csv
import json
import os

import numpy as np
from scipy.special import ndtr

K = 100.0
LR = 0.02
BATCH = 1.0
A, B = 0.0, 3.0
MEAN0, SD0 = 0.5, 0.175


def wide_grad(w):
    """Gradient of the shared part -exp(-(W-2)^2)."""
    x = w - 2.0
    return 2.0 * x * np.exp(-x * x)


def pit_grad(w):
    """Gradient of the pit part -exp(-k (W-1)^2) (datapoint 2 only)."""
    x = w - 1.0
    return 2.0 * K * x * np.exp(-K * x * x)


def coefficients(w):
    """G, D and D' at the points w (D = T^2 S^2 / (2B), S = k x e^{-k x^2}, x = W - 1)."""
    g = wide_grad(w) + 0.5 * pit_grad(w)
    x = w - 1.0
    e = np.exp(-K * x * x)
    s = K * x * e
    s_prime = K * (1.0 - 2.0 * K * x * x) * e
    c = LR * LR / (2.0 * BATCH)
    return g, c * s * s, c * 2.0 * s * s_prime


def initial_density(edges):
    """Cell averages of the truncated normal on cells with these edges, mass one."""
    cdf = ndtr((edges - MEAN0) / SD0)
    h = np.diff(edges)
    p = np.diff(cdf) / h
    return p / np.sum(p * h)


def w1(edges_a, p_a, edges_b, p_b):
    """Exact W1 between two piecewise-constant densities: the integral of |F_a - F_b|.

    Both CDFs are linear between the merged edges, so each piece of |F_a - F_b| is the
    modulus of a linear function, integrated in closed form (split at a sign change).
    """
    x = np.union1d(edges_a, edges_b)

    def cdf(edges, p, at):
        f = np.concatenate(([0.0], np.cumsum(p * np.diff(edges))))
        return np.interp(at, edges, f)

    d = cdf(edges_a, p_a, x) - cdf(edges_b, p_b, x)
    lo, hi, length = d[:-1], d[1:], np.diff(x)
    same = lo * hi >= 0.0
    denom = np.abs(lo) + np.abs(hi)
    with np.errstate(invalid="ignore", divide="ignore"):
        crossing = length * (lo * lo + hi * hi) / (2.0 * denom)
    piece = np.where(same, 0.5 * length * (np.abs(lo) + np.abs(hi)), crossing)
    return float(np.sum(np.where(denom > 0.0, piece, 0.0)))


def read_density(out_dir, t):
    """Edges and density at time t from a probcurrent output folder.

    density.csv has columns t, w, p and, where the binary writes it, h (cell width);
    without h the cells are uniform on run.json's grid (a, b, n).
    """
    rows_w, rows_p, rows_h = [], [], []
    best_t = None
    with open(os.path.join(out_dir, "density.csv"), newline="") as f:
        reader = csv.DictReader(f)
        has_h = "h" in (reader.fieldnames or [])
        for row in reader:
            rt = float(row["t"])
            if abs(rt - t) > 1e-9 * max(1.0, t):
                continue
            best_t = rt
            rows_w.append(float(row["w"]))
            rows_p.append(float(row["p"]))
            if has_h:
                rows_h.append(float(row["h"]))
    if best_t is None:
        raise RuntimeError(f"{out_dir}/density.csv has no snapshot at t = {t}")
    p = np.array(rows_p)
    if has_h:
        h = np.array(rows_h)
        with open(os.path.join(out_dir, "run.json")) as f:
            grid = json.load(f).get("grid", {})
        a = grid.get("a", rows_w[0] - 0.5 * h[0])
        edges = a + np.concatenate(([0.0], np.cumsum(h)))
    else:
        with open(os.path.join(out_dir, "run.json")) as f:
            grid = json.load(f)["grid"]
        edges = np.linspace(grid["a"], grid["b"], grid["n"] + 1)
        if len(edges) != len(p) + 1:
            raise RuntimeError(f"{out_dir}: {len(p)} densities for {grid['n']} cells")
    return edges, p
