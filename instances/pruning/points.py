"""Point sets on which a pruning's error is measured: sphere, cube, Gaussian.

Every function returns a float64 array of shape (K', d) (read-only), with K' = K except where
said. Seeds are non-negative integers fed to `numpy.random.default_rng`.

- `sphere_points`: the unit sphere {||x||_2 = 1}. d = 1: the sphere is {−1, +1}, so at most
  these two points are returned (repeating them adds nothing). d = 2: K evenly spaced angles
  θ_k = 2πk/K from θ_0 = 0 (deterministic; the seed is unused), computed so that the
  quarter-turn points (±1, 0), (0, ±1) are exact whenever 4k/K is an integer.
  d >= 3: K seeded uniform points (normalised standard normals).
- `cube_points`: [-1, 1]^d, seeded uniform, or a grid with m points per axis (m^d ≈ K points,
  m >= 2), which includes all 2^d corners.
- `gaussian_points`: seeded standard normal points in R^d.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.limits import check_entries
from exactprune.instances.network import immutable_copy
from exactprune.instances.params import as_flag, is_integer


def _check(d: int, k: int, seed: int | None = 0) -> None:
    for name, val, low in (("d", d, 1), ("K (number of points)", k, 1)):
        if not is_integer(val) or val < low:
            raise InputError(f"{name} must be an integer >= {low}, got {val!r}")
    if not is_integer(seed) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    check_entries(int(k) * int(d), f"K points in dimension {d}")




def circle_points(k: int) -> np.ndarray:
    """K evenly spaced points (cos θ_k, sin θ_k), θ_k = 2πk/K, shape (K, 2).

    Each angle is reduced to a quarter turn q plus a remainder φ in [0, π/2) before calling
    cos/sin, and the quarter turn is applied exactly (swap and sign changes), so the point
    set has the exact symmetries of the grid of angles that float64 allows.
    """
    _check(2, k)
    out = np.empty((k, 2))
    for i in range(k):
        q, r = divmod(4 * i, k)
        phi = (math.pi / 2) * r / k
        c, s = (1.0, 0.0) if r == 0 else (math.cos(phi), math.sin(phi))
        for _ in range(q % 4):
            c, s = -s, c
        out[i] = (c, s)
    return immutable_copy(out)


def sphere_points(d: int, k: int, seed: int = 0) -> np.ndarray:
    """Points on the unit sphere of R^d, shape (min(K, 2), 1) for d = 1, else (K, d).

    d = 1: [[1], [-1]] (or [[1]] if K = 1); d = 2: `circle_points(K)`; d >= 3: seeded uniform
    (rows of standard normals divided by their norms; norms are 1 up to a few ulps).
    """
    _check(d, k, seed)
    if d == 1:
        return immutable_copy(np.array([[1.0], [-1.0]])[: min(k, 2)])
    if d == 2:
        return circle_points(k)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((k, d))
    norms = np.linalg.norm(x, axis=1)
    while np.any(norms == 0.0):  # probability zero, but never divide by zero
        bad = norms == 0.0
        x[bad] = rng.standard_normal((int(bad.sum()), d))
        norms = np.linalg.norm(x, axis=1)
    return immutable_copy(x / norms[:, None])


def cube_points(d: int, k: int, seed: int = 0, grid: bool = False) -> np.ndarray:
    """Points in [-1, 1]^d, shape (K, d) seeded uniform, or (m^d, d) for the grid.

    grid=True: m = max(2, round(K^(1/d))) equally spaced values per axis (np.linspace(-1, 1, m),
    so ±1 exactly), all m^d combinations in lexicographic order; the corners are included.
    The seed is unused for the grid.
    """
    _check(d, k, seed)
    grid = as_flag(grid, "grid")
    if grid:
        m = max(2, round(k ** (1.0 / d)))
        check_entries(m**d * d, f"a grid of {m}^{d} points")
        axis = np.linspace(-1.0, 1.0, m)
        return immutable_copy(np.array(list(itertools.product(axis, repeat=d))))
    rng = np.random.default_rng(seed)
    return immutable_copy(rng.uniform(-1.0, 1.0, size=(k, d)))


def gaussian_points(d: int, k: int, seed: int = 0) -> np.ndarray:
    """K seeded standard normal points in R^d, shape (K, d)."""
    _check(d, k, seed)
    rng = np.random.default_rng(seed)
    return immutable_copy(rng.standard_normal((k, d)))


def domain_points(domain: str, d: int, k: int, seed: int = 0) -> np.ndarray:
    """Dispatch on the domain name: "sphere", "cube" (uniform) or "gaussian"."""
    if domain == "sphere":
        return sphere_points(d, k, seed)
    if domain == "cube":
        return cube_points(d, k, seed)
    if domain == "gaussian":
        return gaussian_points(d, k, seed)
    raise InputError(f"unknown domain {domain!r} (known: sphere, cube, gaussian)")
