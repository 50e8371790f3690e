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


def test_the_built_package_holds_the_trained_nets(tmp_path) -> None:
    """The wheel had no `.npz`: `bench trained` then retrained its nets (scikit-learn needed,
    not bit for bit) and wrote them into site-packages (hunt 74 M1). setuptools' build_py
    (what a wheel is made of) run on a copy of the source must carry every shipped net."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from exactprune.benchmarks.neuron_selection import suites as ns

    root = Path(__file__).resolve().parent.parent
    src = tmp_path / "src"
    src.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(root / name, src / name)
    for folder in ("exactprune", "instances", "formulations", "solvers", "benchmarks"):
        shutil.copytree(root / folder, src / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "build"
    proc = subprocess.run([sys.executable, "setup.py", "-q", "build_py", "--build-lib",
                           str(out)], cwd=src, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    shipped = sorted(p.name for p in ns.NETS_DIR.glob("*.npz"))
    assert len(shipped) == len(ns.DATA) * len(ns.SIZES)
    built = out / "exactprune" / "benchmarks" / "neuron_selection" / "nets"
    assert sorted(p.name for p in built.glob("*.npz")) == shipped
    for name in shipped:
        assert (built / name).read_bytes() == (ns.NETS_DIR / name).read_bytes()


def test_missing_trained_nets_are_refused_when_the_suite_is_chosen(tmp_path, monkeypatch) -> None:
    """A missing net is found when `trained` (or `all`) is chosen, before any run or store,
    in one line; the CLI's parser, which lists the suites, trains nothing (every command of
    an install with scikit-learn trained six nets for 67 s on first use: hunt 74 M2, M3)."""
    from exactprune.benchmarks import suites
    from exactprune.benchmarks.bench import run_bench
    from exactprune.benchmarks.neuron_selection import suites as ns
    from exactprune.instances.errors import InputError

    def no_training(data: str, hidden: int) -> None:
        raise InputError("training needs scikit-learn: pip install 'exactprune[nets]'")

    monkeypatch.setattr(ns, "NETS_DIR", tmp_path / "nets")
    monkeypatch.setattr(ns, "train_network", no_training)
    assert "trained" in suites.suite_names()  # listing the suites trains nothing
    for name in ("trained", "all"):
        with pytest.raises(InputError, match=r"network digits-pair-h32.* is missing .*"
                                             r"exactprune\[nets\]"):
            suites.expand_suite(name)
    with pytest.raises(InputError, match="is missing"):
        run_bench("trained", out=tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
    # the cheaper checks first: a bad solver name is told before any training (hunt 75 M1),
    # and a refused --write-instances leaves no folder (L1)
    trained: list[str] = []
    monkeypatch.setattr(ns, "train_network", lambda data, hidden: trained.append(data))
    with pytest.raises(InputError, match="nosuch"):
        run_bench("trained", ["nosuch"], out=tmp_path / "out", progress=False)
    assert trained == []
    monkeypatch.setattr(ns, "train_network", no_training)
    with pytest.raises(InputError, match="is missing"):
        suites.write_instances("trained", tmp_path / "inst")
    assert not (tmp_path / "inst").exists()
    assert suites.expand_suite("smoke")  # the suites that need no net are not affected


def test_the_checkout_root_does_not_shadow_the_package() -> None:
    """With a non-editable install, `python -m exactprune` (or the README's snippet, or
    pytest) run from the checkout's root found the folder exactprune/ first, which alone
    lacks the subpackages: ModuleNotFoundError (hunt 74 M4). Here the site-packages are on
    the path without their .pth files (no editable finder), the checkout's root first."""
    import subprocess
    import sys
    import sysconfig
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    code = ("import sys; sys.path[:0] = [sys.argv[1]]; sys.path.append(sys.argv[2]); "
            "from exactprune import generate_subset_sum, solve; "
            "import exactprune.instances as i; assert i.__file__.startswith(sys.argv[1]); "
            "print(solve(generate_subset_sum(n=8, seed=0), 'mitm').certified)")
    proc = subprocess.run([sys.executable, "-S", "-c", code, str(root),
                           sysconfig.get_paths()["purelib"]],
                          capture_output=True, text=True, timeout=120, cwd=root)
    assert proc.returncode == 0 and proc.stdout.strip() == "True", proc.stderr[-2000:]


def test_only_the_subpackages_are_found_in_the_checkout() -> None:
    """The checkout's root was on exactprune.__path__, so `import exactprune.setup` ran
    setuptools and `exactprune.exactprune` was a second copy (hunt 75 L2)."""
    import pkgutil

    import exactprune

    assert {m.name for m in pkgutil.iter_modules(exactprune.__path__)} <= {
        "__main__", "cli", "entry", "invocation", "termination", "train_cmd"}
    for name in ("exactprune.setup", "exactprune.exactprune", "exactprune.tests"):
        with pytest.raises(ImportError):
            importlib.import_module(name)
