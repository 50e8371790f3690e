"""The installation the default test run relies on.

Tests of an engine or an optional package skip when it is missing, which is right for the
optional ones (gurobipy, PySCIPOpt, fpylll) but would let a broken install of a base engine or
of the `test` extra (README: `pip install -e '.[test]'`) pass as a run full of skips. These
checks fail instead, each naming what is missing.
"""

from __future__ import annotations

import importlib

import pytest

from exactprune.solvers.cpsat_engine import cpsat_available
from exactprune.solvers.milp_engines import ENGINES

BASE_ENGINES = ("cbc", "highs", "scip")
TEST_EXTRA = ("hypothesis", "distributed", "matplotlib", "mlxtend", "safetensors", "sklearn")


@pytest.mark.parametrize("engine", BASE_ENGINES)
def test_base_engine_is_available(engine: str) -> None:
    assert ENGINES[engine].available(), f"{engine} is a base dependency and must be available"
    assert ENGINES[engine].version()


def test_cpsat_is_available() -> None:
    assert cpsat_available(), "OR-Tools' CP-SAT is a base dependency and must be available"


@pytest.mark.parametrize("module", TEST_EXTRA)
def test_test_extra_is_installed(module: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - the failure message is the point
        pytest.fail(f"{module} missing: install with pip install -e '.[test]' ({exc})")
