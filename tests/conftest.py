"""Shared fixtures: seeded subset-sum instances and the exhaustive oracle."""

from __future__ import annotations

import os
import shutil
import tempfile
from fractions import Fraction
from itertools import product

import numpy as np
import pytest

from exactprune.instances import SubsetSumInstance

_bytecode_prefix: dict[str, str] = {}  # the folder this process made, the setting it replaced


def pytest_configure(config: pytest.Config) -> None:
    """Let the suite's child processes (CLI runs, sweep and Dask workers) share compiled bytecode.

    Where PYTHONDONTWRITEBYTECODE is set, every child recompiled the package's modules: 0.25 s of
    a 0.7 s CLI start, in hundreds of CLI tests. The children write and read it in a temporary
    prefix (PYTHONPYCACHEPREFIX) instead, so the source tree stays as clean as the setting asks;
    the folder is removed and the setting restored at the end. xdist's workers inherit the
    setting from the controller.
    """
    if not os.environ.get("PYTHONDONTWRITEBYTECODE") or os.environ.get("PYTHONPYCACHEPREFIX"):
        return
    _bytecode_prefix["folder"] = tempfile.mkdtemp(prefix="exactprune-test-pycache-")
    _bytecode_prefix["setting"] = os.environ.pop("PYTHONDONTWRITEBYTECODE")
    os.environ["PYTHONPYCACHEPREFIX"] = _bytecode_prefix["folder"]


def pytest_unconfigure(config: pytest.Config) -> None:
    if _bytecode_prefix:  # only the process that made it (xdist's workers inherit it)
        os.environ.pop("PYTHONPYCACHEPREFIX", None)
        os.environ["PYTHONDONTWRITEBYTECODE"] = _bytecode_prefix["setting"]
        shutil.rmtree(_bytecode_prefix.pop("folder"), ignore_errors=True)
        _bytecode_prefix.clear()


def fraction_oracle(inst: SubsetSumInstance, max_kept: int | None = None) -> dict[int, Fraction]:
    """Exact best error per number kept, by enumerating every mask in rational arithmetic.

    Independent of every backend (no floats at all): the reference for the oracles themselves.
    """
    xs = [Fraction(float(v)) for v in inst.values]
    z = Fraction(inst.target)
    best: dict[int, Fraction] = {}
    for bits in product((0, 1), repeat=inst.n):
        k = sum(bits)
        if max_kept is not None and k > max_kept:
            continue
        err = abs(sum((x for x, b in zip(xs, bits, strict=True) if b), Fraction(0)) - z)
        if k not in best or err < best[k]:
            best[k] = err
    return best


def planted_grid(n: int, bits: int, seed: int
                 ) -> tuple[SubsetSumInstance, Fraction, np.ndarray]:
    """Values k / 2^bits (|k| <= 2^bits), the target a planted subset's sum + 2^-(bits+1): every
    sum lies on the 2^-bits grid, so the optimum is 2^-(bits+1), attained by the planted mask
    (returned with the instance and that optimum)."""
    rng = np.random.default_rng(seed)
    ints = rng.integers(-2**bits, 2**bits + 1, n)
    planted = rng.random(n) < 0.3
    optimum = Fraction(1, 2**(bits + 1))
    target = Fraction(int(ints[planted].sum()), 2**bits) + optimum
    return (SubsetSumInstance(values=(ints / 2.0**bits).tolist(), target=float(target)),
            optimum, planted)


def random_instance(seed: int, n: int, low: float = -1.0, high: float = 1.0) -> SubsetSumInstance:
    from exactprune.instances import generate_subset_sum

    return generate_subset_sum(n, seed=seed, low=low, high=high)


def awkward_instance(seed: int, n: int) -> SubsetSumInstance:
    """Values spanning many magnitudes and with ties: exercises lossy scaling and near-ties."""
    rng = np.random.default_rng(10_000 + seed)
    mags = 10.0 ** rng.integers(-25, 1, size=n)
    values = rng.choice([-1.0, 1.0], size=n) * mags * rng.uniform(0.5, 1.0, size=n)
    values[: n // 3] = np.round(values[: n // 3], 1)  # some duplicates / short decimals
    return SubsetSumInstance(values=values, target=float(rng.uniform(-1, 1)) / 3)


AWKWARD_FAMILIES = ("uniform", "ties", "ulps", "scales", "integers", "subnormal", "scaled_ties")


def awkward_values(rng: np.random.Generator, n: int, family: str) -> np.ndarray:
    """n float64 values of one family that stresses exact arithmetic: uniform in [-1, 1],
    ties (one decimal), ulps (one value give or take 4 ulps), scales (600 orders of
    magnitude), integers, subnormal, scaled_ties (3 decimals times 2^±200)."""
    if family == "uniform":
        return rng.uniform(-1, 1, n)
    if family == "ties":
        return np.round(rng.uniform(-1, 1, n), 1)
    if family == "ulps":
        b = rng.uniform(-1, 1)
        return b + rng.integers(-4, 5, n) * np.spacing(abs(b))
    if family == "scales":
        return rng.uniform(-1, 1, n) * 10.0 ** rng.integers(-300, 300, n)
    if family == "integers":
        return rng.integers(-1000, 1000, n).astype(float)
    if family == "subnormal":
        return rng.uniform(-1, 1, n) * 2.0 ** rng.integers(-1074, -1000, n)
    if family == "scaled_ties":
        return np.round(rng.uniform(-1, 1, n), 3) * 2.0 ** int(rng.integers(-200, 200))
    raise ValueError(family)


def exact_pruning_error(inst, mask) -> Fraction:
    """The exact rational error (linf or l1) of a pruning mask on the instance's float64 data,
    with loops and Fractions only: no float operation of the code under test."""

    def net_value(net, x, keep) -> Fraction:
        s = Fraction(0)
        for i in range(net.n):
            z = sum((Fraction(float(net.hidden_weights[i, j])) * Fraction(float(x[j]))
                     for j in range(net.d) if keep is None or keep[i, j]), Fraction(0))
            s += Fraction(float(net.output_weights[i])) * max(z, Fraction(0))
        return max(s, Fraction(0)) if net.output_activation == "relu" else s

    m = np.asarray(mask, dtype=bool)
    keep = np.repeat(m[:, None], inst.d, axis=1) if inst.kind == "neuron_pruning" else m
    r = [abs(net_value(inst.network, x, keep) - net_value(inst.target, x, None))
         for x in inst.points]
    if inst.norm == "linf":
        return max(r)
    assert inst.norm == "l1", inst.norm
    return sum(r, Fraction(0)) / len(r)


def pruning_fraction_oracle(inst) -> Fraction:
    """The exact optimum of a small linf/l1 pruning instance over every mask."""
    size = int(np.prod(inst.mask_shape))
    return min(exact_pruning_error(inst, np.array(bits, dtype=bool).reshape(inst.mask_shape))
               for bits in product((0, 1), repeat=size))


def run_script(path, text: str, *args: str):
    """Write `text` to the script `path` and run it with this Python, in its folder, as a user
    runs a script file (`__main__` being the file: worker processes re-import it)."""
    import subprocess
    import sys

    path.write_text(text)
    return subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True,
                          timeout=300, cwd=path.parent, check=False)


def hand_edited(doc: dict):
    """The instance of a generator's JSON `doc` after a test edited its arrays: read back with
    no generator record (it would no longer describe the arrays) and no domain (the points no
    longer lie on it)."""
    from exactprune.instances import instance_from_json

    doc = {**doc, "domain": None}
    doc.pop("generator", None)
    return instance_from_json(doc)


def assert_certifies_the_oracle(inst, engine: str, **options):
    """`engine` certifies `inst` (with `options`) at bruteforce's optimum: its objective within
    the tolerance it states, its bound not above the optimum. Returns the result."""
    from exactprune.solvers import solve

    oracle = solve(inst, "bruteforce")
    res = solve(inst, engine, time_limit=60, **options)
    assert res.status == "optimal" and res.certified, res.notes
    assert res.objective <= oracle.objective + res.tolerance
    assert res.bound <= oracle.objective
    return res
