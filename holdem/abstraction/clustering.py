"""Clustering of equity features into buckets: weighted k-means (Lloyd 1982, k-means++ seeding by
Arthur & Vassilvitskii 2007) and equal-mass quantiles for one-dimensional hand strength.

Millions of (board, hole) points collapse first onto a fine grid of their features (weights added),
so k-means runs over at most grid^2 weighted points: the result is the same up to the grid's width
and the build takes seconds. Everything is seeded and sequential in its choices: same input, same buckets.
"""

from __future__ import annotations

import numpy as np
from numba import njit

GRID = 256


@njit(cache=True)
def _grid_histogram(x, y, weight_rows, grid, hist):
    """Add each finite point (x[b, h], y[b, h]) with weight weight_rows[b] into hist[grid, grid]."""
    n_b, n_h = x.shape
    for b in range(n_b):
        w = weight_rows[b]
        for h in range(n_h):
            xv = x[b, h]
            if xv != xv:  # NaN: a combo that clashes with the board
                continue
            i = min(int(xv * grid), grid - 1)
            j = min(int(y[b, h] * grid), grid - 1)
            hist[i, j] += w


@njit(cache=True)
def _lloyd(points, weights, centers, iterations):
    n, k = points.shape[0], centers.shape[0]
    assign = np.zeros(n, dtype=np.int64)
    for _ in range(iterations):
        for i in range(n):
            best, best_d = 0, np.inf
            for c in range(k):
                d = 0.0
                for f in range(points.shape[1]):
                    t = points[i, f] - centers[c, f]
                    d += t * t
                if d < best_d:
                    best, best_d = c, d
            assign[i] = best
        sums = np.zeros_like(centers)
        mass = np.zeros(k)
        for i in range(n):
            mass[assign[i]] += weights[i]
            for f in range(points.shape[1]):
                sums[assign[i], f] += weights[i] * points[i, f]
        for c in range(k):
            if mass[c] > 0:
                for f in range(points.shape[1]):
                    centers[c, f] = sums[c, f] / mass[c]
    return assign


def weighted_kmeans(points: np.ndarray, weights: np.ndarray, k: int, seed: int, iterations: int = 30) -> np.ndarray:
    """Centers (sorted by their first feature, so bucket 0 is the weakest) of a weighted k-means."""
    rng = np.random.default_rng(seed)
    k = min(k, points.shape[0])
    p = weights / weights.sum()
    centers = [points[rng.choice(points.shape[0], p=p)]]
    d2 = ((points - centers[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        prob = weights * d2
        if prob.sum() <= 0:
            break
        nxt = points[rng.choice(points.shape[0], p=prob / prob.sum())]
        centers.append(nxt)
        d2 = np.minimum(d2, ((points - nxt) ** 2).sum(axis=1))
    c = np.array(centers, dtype=np.float64)
    _lloyd(points.astype(np.float64), weights.astype(np.float64), c, iterations)
    return c[np.argsort(c[:, 0], kind="stable")]


@njit(cache=True)
def _nearest_grid_cell_labels(centers, grid):
    labels = np.empty((grid, grid), dtype=np.uint16)
    for i in range(grid):
        for j in range(grid):
            x = (i + 0.5) / grid
            y = (j + 0.5) / grid
            best, best_d = 0, np.inf
            for c in range(centers.shape[0]):
                d = (x - centers[c, 0]) ** 2 + (y - centers[c, 1]) ** 2
                if d < best_d:
                    best, best_d = c, d
            labels[i, j] = best
    return labels


@njit(cache=True)
def _label_by_grid(x, y, labels, grid, out):
    n_b, n_h = x.shape
    for b in range(n_b):
        for h in range(n_h):
            xv = x[b, h]
            if xv != xv:
                out[b, h] = 0
                continue
            i = min(int(xv * grid), grid - 1)
            j = min(int(y[b, h] * grid), grid - 1)
            out[b, h] = labels[i, j]


def cluster_2d(mean: np.ndarray, sq: np.ndarray, board_weight: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Bucket every (board, hole) by k-means on (E[HS], E[HS^2]); returns uint16 [boards, 1326]."""
    hist = np.zeros((GRID, GRID))
    _grid_histogram(mean, sq, board_weight.astype(np.float64), GRID, hist)
    cells = np.argwhere(hist > 0)
    points = (cells + 0.5) / GRID
    centers = weighted_kmeans(points, hist[hist > 0], k, seed)
    labels = _nearest_grid_cell_labels(centers, GRID)
    out = np.empty(mean.shape, dtype=np.uint16)
    _label_by_grid(mean, sq, labels, GRID, out)
    return out


@njit(cache=True)
def _strength_histogram(strength, board_weight, cells, hist):
    n_b, n_h = strength.shape
    for b in range(n_b):
        for h in range(n_h):
            v = strength[b, h]
            if v == v:
                hist[min(int(v * cells), cells - 1)] += board_weight[b]


@njit(cache=True)
def _label_strength(strength, cell_bucket, cells, out):
    n_b, n_h = strength.shape
    for b in range(n_b):
        for h in range(n_h):
            v = strength[b, h]
            out[b, h] = cell_bucket[min(int(v * cells), cells - 1)] if v == v else 0


def quantile_buckets(strength: np.ndarray, board_weight: np.ndarray, k: int, cells: int = 8192) -> np.ndarray:
    """Equal-mass buckets of hand strength (bucket k-1 the strongest); uint16, shaped like strength."""
    hist = np.zeros(cells)
    _strength_histogram(strength, board_weight.astype(np.float64), cells, hist)
    mid_mass = (np.cumsum(hist) - hist / 2) / hist.sum()  # the mass below each cell's middle
    cell_bucket = np.minimum((mid_mass * k).astype(np.int64), k - 1).astype(np.uint16)
    out = np.empty(strength.shape, dtype=np.uint16)
    _label_strength(strength, cell_bucket, cells, out)
    return out
