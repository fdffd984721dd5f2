"""Small generated data sets for the case studies (no downloads): two moons, spirals,
concentric circles, XOR, Gaussian blobs. Every generator is seeded.

>>> from symml.ml.datasets import make_moons
>>> X, y = make_moons(100, noise=0.1, seed=0)
>>> X.shape, sorted(set(y.tolist()))
((100, 2), [0, 1])
"""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentError

__all__ = ["make_moons", "make_spirals", "make_circles", "make_xor", "make_blobs"]


def _n(n):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ArgumentError(f"the number of rows must be a whole number >= 2, got {n!r}")
    return int(n)


def make_moons(n: int = 200, noise: float = 0.1, seed: int | None = 0):
    """Two interleaved half circles (classes 0 and 1), with Gaussian noise."""
    n = _n(n)
    rng = np.random.default_rng(seed)
    n0 = n // 2
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n - n0)
    X = np.r_[np.c_[np.cos(t0), np.sin(t0)], np.c_[1 - np.cos(t1), 0.5 - np.sin(t1)]]
    y = np.r_[np.zeros(n0, dtype=int), np.ones(n - n0, dtype=int)]
    return X + rng.normal(0, noise, X.shape), y


def make_spirals(n: int = 200, noise: float = 0.05, turns: float = 1.5, seed: int | None = 0):
    """Two interleaved spirals."""
    n = _n(n)
    rng = np.random.default_rng(seed)
    n0 = n // 2
    out = []
    for k, m in enumerate((n0, n - n0)):
        t = np.linspace(0.25, 1, m) * turns * 2 * np.pi
        out.append(np.c_[t * np.cos(t + k * np.pi), t * np.sin(t + k * np.pi)] / (turns * 2 * np.pi))
    y = np.r_[np.zeros(n0, dtype=int), np.ones(n - n0, dtype=int)]
    X = np.r_[out[0], out[1]]
    return X + rng.normal(0, noise, X.shape), y


def make_circles(n: int = 200, radii=(1.0, 2.5), noise: float = 0.1, seed: int | None = 0):
    """Points on two concentric circles (class 0 inside)."""
    n = _n(n)
    rng = np.random.default_rng(seed)
    n0 = n // 2
    t = rng.uniform(0, 2 * np.pi, n)
    r = np.r_[np.full(n0, radii[0]), np.full(n - n0, radii[1])] + rng.normal(0, noise, n)
    return np.c_[r * np.cos(t), r * np.sin(t)], np.r_[np.zeros(n0, dtype=int), np.ones(n - n0, dtype=int)]


def make_xor():
    """The four XOR points and labels."""
    return np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), np.array([0, 1, 1, 0])


def make_blobs(n: int = 200, centers=((-2.0, 0.0), (2.0, 0.0)), sd: float = 1.0, seed: int | None = 0):
    """Gaussian clusters around ``centers``; labels are the cluster indices."""
    n = _n(n)
    rng = np.random.default_rng(seed)
    C = np.asarray(centers, dtype=float)
    labels = np.arange(n) % len(C)
    return C[labels] + rng.normal(0, sd, (n, C.shape[1])), labels
