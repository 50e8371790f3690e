"""`exactprune sweep`: a grid from flags or TOML, solved, stored and resumed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exactprune.benchmarks.store import ResultStore
from exactprune.cli import main


def test_sweep_from_toml_resumes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toml = tmp_path / "grid.toml"
    toml.write_text('seeds = 2\nsolvers = ["mitm", "bruteforce"]\n[params]\nn = [8, 12]\n')
    store = tmp_path / "s.sqlite"
    args = ["sweep", "subset-sum", "--grid", str(toml), "--store", str(store), "--jobs", "0",
            "--json", "--no-progress"]
    assert main(args) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert len(runs) == 2 * 2 * 2
    # the two exact solvers agree on every instance
    by_instance: dict[tuple, set] = {}
    for run in runs:
        key = (run["spec"]["params"]["n"], run["spec"]["trial"])
        by_instance.setdefault(key, set()).add(run["record"]["objective"])
        assert run["record"]["certified"]
    assert all(len(v) == 1 for v in by_instance.values())
    with ResultStore(store) as st:
        created = sorted(r["created"] for r in st.rows())
    assert main(args) == 0  # everything read back from the store
    assert json.loads(capsys.readouterr().out)["runs"] == runs
    with ResultStore(store) as st:
        assert sorted(r["created"] for r in st.rows()) == created


def test_sweep_flags_override_and_bad_parameters(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", "weight-pruning", "--param", "d=2", "--param", "width=3",
                 "--param", "points=12", "--param", "output_activation=relu", "--seeds", "1",
                 "--solvers", "bruteforce,greedy_forward", "--jobs", "0", "--no-progress"]) == 0
    assert "greedy_forward" in capsys.readouterr().out
    assert main(["sweep", "neuron-pruning", "--param", "width=3", "--jobs", "0"]) == 2
    assert "'d' is required" in capsys.readouterr().err
