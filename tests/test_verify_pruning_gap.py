"""`verify pruning-gap` end to end on a tiny grid (real solvers, real store)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exactprune.benchmarks.pruning.verify_gap import parse_range
from exactprune.cli import main
from exactprune.instances import InputError


def test_tiny_gap_sweep_with_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "gap.sqlite"
    args = ["verify", "pruning-gap", "--n", "2,4,6", "--trials", "2", "--points", "24",
            "--jobs", "0", "--out", str(tmp_path / "out"), "--store", str(store), "--json",
            "--time-limit", "30"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    for name in ("neuron_power_exponent", "weight_power_exponent", "neuron_exp_rate",
                 "weight_exp_rate"):
        assert set(data["fits"][name]) >= {"estimate", "ci"}
    for kind in ("neuron", "weight"):
        for row in data["table"][kind]:
            assert row["certified"] == row["trials"] == 2
            assert row["lower"] <= row["optimum"] <= row["upper"] + 1e-12
    # weight pruning can do everything neuron pruning can: never worse, per width
    for rn, rw in zip(data["table"]["neuron"], data["table"]["weight"], strict=True):
        assert rw["optimum"] <= rn["optimum"] + 1e-9
    assert (tmp_path / "out" / "report.md").exists()
    # a second run reads every result back from the store
    assert main(args) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["table"] == data["table"]


@pytest.mark.parametrize("text", ["8:4", "0:4", "a,b", "1:2:3:4", "4:8:0"])
def test_bad_ranges(text: str) -> None:
    with pytest.raises(InputError):
        parse_range(text)


def test_range_forms() -> None:
    assert parse_range("4:12:4") == [4, 8, 12]
    assert parse_range("3,1,2") == [1, 2, 3]
    assert parse_range("2:4") == [2, 3, 4]


@pytest.mark.parametrize("flags", [["--time-limit", "-1"], ["--points", "0"], ["--d", "x"],
                                   ["--jobs", "-2"], ["--n", "0:3"], ["--trials", "0"]])
def test_bad_flags_exit_2(flags: list[str], tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["verify", "pruning-gap", "--out", str(out), *flags]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not out.exists()
