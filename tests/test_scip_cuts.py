"""SCIP's `cuts` option. Pruning kinds: unset, off (measured faster) except for the l1 error
with a relu output; neuron selection and subset-sum: off by default; on or off on request.
Both settings certify the exhaustive oracle's optimum, and SCIP's own log shows the switch and
the default working."""

from __future__ import annotations

import re

import pytest

from exactprune.instances import InputError, generate_neuron_pruning, generate_weight_pruning
from exactprune.solvers import get_backend, solve
from exactprune.solvers.milp_engines import ENGINES
from exactprune.solvers.pruning.exact import scip_cuts_default

pytestmark = pytest.mark.skipif(not ENGINES["scip"].available(), reason="OR-Tools without SCIP")

GEN = {"neuron": generate_neuron_pruning, "weight": generate_weight_pruning}


@pytest.mark.parametrize("cuts", [True, False])
@pytest.mark.parametrize("kind", ["neuron", "weight"])
@pytest.mark.parametrize("act", ["identity", "relu"])
@pytest.mark.parametrize(("norm", "seed"), [("linf", 0), ("linf", 1), ("linf", 2), ("l1", 0),
                                             ("l1", 1)])
def test_both_settings_certify_the_oracle_optimum(cuts: bool, kind: str, act: str, norm: str,
                                                  seed: int) -> None:
    width = 10 if kind == "neuron" else 5
    inst = GEN[kind](d=2, width=width, points=48, seed=seed, output_activation=act, norm=norm)
    oracle = solve(inst, "bruteforce")
    res = solve(inst, "scip", time_limit=60, cuts=cuts)
    assert res.status == "optimal" and res.certified, res.notes
    assert res.objective == inst.evaluate(res.mask)
    slack = 2 * inst.evaluation_tolerance()
    assert abs(res.objective - oracle.objective) <= slack + res.tolerance + oracle.tolerance
    assert res.options["cuts"] is cuts and res.stats["cuts"] is cuts


def _cuts_column(log: str) -> list[int]:
    """The 'cuts' column of every row of SCIP's node table in `log`."""
    values: list[int] = []
    column = None
    for line in log.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if "cuts" in cells:
            column = cells.index("cuts")
        elif column is not None and len(cells) > column and re.fullmatch(r"\d+", cells[column]):
            values.append(int(cells[column]))
    return values


def _scip_cuts_seen(capfd: pytest.CaptureFixture[str], inst: object, **options: object
                    ) -> tuple[int, bool]:
    """The most cuts in SCIP's node table for a 2 s solve, and the setting the result states."""
    capfd.readouterr()
    res = solve(inst, "scip", time_limit=2, verbose=True, **options)
    column = _cuts_column(capfd.readouterr().err)
    assert column, "SCIP printed no node table"
    return max(column), res.stats["cuts"]


def test_the_switch_reaches_scip(capfd: pytest.CaptureFixture[str]) -> None:
    """An instance SCIP does not solve in presolve: its root separates cuts unless told not to
    (the node table's 'cuts' column); unset means off here (linf)."""
    inst = generate_neuron_pruning(d=2, width=40, points=96, seed=1, output_activation="identity")
    most, stated = _scip_cuts_seen(capfd, inst, cuts=True)
    assert most > 0 and stated is True
    assert _scip_cuts_seen(capfd, inst, cuts=False) == (0, False)
    assert _scip_cuts_seen(capfd, inst) == (0, False)


@pytest.mark.parametrize(("norm", "act", "expected"), [
    ("l1", "relu", True), ("l1", "identity", False), ("linf", "relu", False)])
def test_the_default_follows_the_model(capfd: pytest.CaptureFixture[str], norm: str, act: str,
                                       expected: bool) -> None:
    """Unset, cuts are on only for the l1 error with a relu output (its big-M rows)."""
    inst = generate_weight_pruning(d=2, width=16, points=64, seed=0, output_activation=act,
                                   norm=norm)
    assert scip_cuts_default(inst) is expected
    most, stated = _scip_cuts_seen(capfd, inst)
    assert stated is expected
    assert (most > 0) is expected


def test_defaults_and_refusals() -> None:
    assert get_backend("scip", "neuron_pruning").parse_options({})["cuts"] is None
    assert get_backend("scip", "weight_pruning").parse_options({"cuts": "true"})["cuts"] is True
    inst = generate_neuron_pruning(d=2, width=4, points=8, seed=0)
    for engine in ("highs", "cpsat"):
        with pytest.raises(InputError, match="no option 'cuts'"):
            solve(inst, engine, cuts=False)
    assert get_backend("scip", "subset_sum").parse_options({})["cuts"] is False
    with pytest.raises(InputError, match="no option 'cuts'"):
        get_backend("highs", "subset_sum").parse_options({"cuts": "false"})


# -- neuron selection (the trained nets shipped for the `trained` bench suite) ------------------


def _selection(data: str, n: int, k: int, loss: str, seed: int = 0) -> object:
    from exactprune.benchmarks.neuron_selection.suites import network_path
    from exactprune.instances.neuron_selection import generate_neuron_selection

    return generate_neuron_selection(str(network_path(data, n)), data, k, loss=loss,
                                     samples=60, seed=seed)


@pytest.mark.parametrize("cuts", [True, False])
@pytest.mark.parametrize("loss", ["l1", "linf"])
@pytest.mark.parametrize("data", ["digits-pair", "teacher"])
def test_selection_both_settings_certify_the_oracle_optimum(cuts: bool, loss: str,
                                                            data: str) -> None:
    inst = _selection(data, 32, 3, loss)
    oracle = solve(inst, "bruteforce")
    res = solve(inst, "scip", time_limit=60, cuts=cuts)
    assert res.status == "optimal" and res.certified, res.notes
    assert res.objective == inst.evaluate(res.mask)
    assert abs(res.objective - oracle.objective) <= res.tolerance + oracle.tolerance + 1e-12
    assert res.options["cuts"] is cuts and res.stats["cuts"] is cuts


def test_selection_switch_and_default_reach_scip(capfd: pytest.CaptureFixture[str]) -> None:
    inst = _selection("digits-pair", 64, 8, "l1")
    most, stated = _scip_cuts_seen(capfd, inst, cuts=True)
    assert most > 0 and stated is True
    assert _scip_cuts_seen(capfd, inst, cuts=False) == (0, False)
    assert _scip_cuts_seen(capfd, inst) == (0, False)
    assert get_backend("scip", "neuron_selection").parse_options({})["cuts"] is False
    with pytest.raises(InputError, match="no option 'cuts'"):
        solve(inst, "highs", cuts=False)


@pytest.mark.parametrize(("norm", "act", "engine"), [
    ("l1", "relu", "cpsat"), ("l1", "identity", "scip"), ("linf", "relu", "scip"),
    ("linf", "identity", "scip")])
def test_auto_engine_follows_the_model(norm: str, act: str, engine: str) -> None:
    """`auto`: CP-SAT for the l1 error with a relu output (no big-M rows), else SCIP; and what
    it picks certifies the oracle's optimum."""
    inst = generate_neuron_pruning(d=2, width=14, points=32, seed=0, output_activation=act,
                                   norm=norm)
    res = solve(inst, "auto", time_limit=60)
    assert res.solver == engine
    oracle = solve(inst, "bruteforce")
    assert res.certified, res.notes
    assert abs(res.objective - oracle.objective) <= res.tolerance + oracle.tolerance + 1e-12


def test_selection_cuts_benchmark_row() -> None:
    """benchmarks/neuron_selection/scip_cuts.py: one row passes the setting through to SCIP and
    reports the result's own certificate and gap."""
    from exactprune.benchmarks.neuron_selection.scip_cuts import run_one

    row = run_one({"data": "teacher", "loss": "linf", "n": 64, "k": 8, "seed": 0,
                   "setting": "no cuts", "cuts": False, "time_limit": 20})
    assert row["certified"] and row["status"] == "optimal"
    assert 0.0 <= row["gap"] <= 1e-5
    assert row["bound"] <= row["objective"]


# -- subset-sum: off by default (docs/benchmarks/subset-sum-scip-cuts.md) ---------------------
@pytest.mark.parametrize("cuts", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_subset_sum_both_settings_certify_the_oracle_optimum(cuts: bool, seed: int) -> None:
    from exactprune.instances import generate_subset_sum

    inst = generate_subset_sum(12 + seed, seed=seed)
    oracle = solve(inst, "bruteforce")
    res = solve(inst, "scip", time_limit=60, cuts=cuts)
    assert res.status == "optimal" and res.certified, res.notes
    assert abs(res.objective - oracle.objective) <= res.tolerance + oracle.tolerance + 1e-15
    assert res.options["cuts"] is cuts and res.stats["cuts"] is cuts


def test_subset_sum_switch_reaches_scip(capfd: pytest.CaptureFixture[str]) -> None:
    """SCIP separates cuts at the root of a subset-sum model unless told not to; unset is off."""
    from exactprune.instances import generate_subset_sum

    inst = generate_subset_sum(18, seed=0)
    most, stated = _scip_cuts_seen(capfd, inst, cuts=True)
    assert most > 0 and stated is True
    assert _scip_cuts_seen(capfd, inst, cuts=False) == (0, False)
    assert _scip_cuts_seen(capfd, inst) == (0, False)


def test_subset_sum_cuts_benchmark_page(tmp_path) -> None:
    import json

    from exactprune.benchmarks.subset_sum.scip_cuts import main

    assert main(["--out", str(tmp_path), "--sizes", "8,10", "--seeds", "2",
                 "--time-limit", "20"]) == 0
    rows = json.loads((tmp_path / "subset-sum-scip-cuts.json").read_text())
    assert len(rows) == 8 and all(r["certified"] for r in rows)
    for n in (8, 10):
        for seed in range(2):
            pair = [r["objective"] for r in rows if (r["n"], r["seed"]) == (n, seed)]
            assert pair[0] == pair[1]
    page = (tmp_path / "subset-sum-scip-cuts.md").read_text()
    assert "| 10 | no cuts | 2/2 |" in page and "--sizes 8,10" in page
    with pytest.raises(SystemExit):
        main(["--sizes", "8,x"])
