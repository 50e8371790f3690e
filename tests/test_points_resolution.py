"""benchmarks/pruning/points_resolution.py: it solves the gap run's own neuron trials, and its
table and slopes are right on synthetic brackets with a known law."""

from __future__ import annotations

import argparse

import pytest

from exactprune.benchmarks.pruning.points_resolution import main, specs, summarise
from exactprune.benchmarks.pruning.verify_gap import specs_for


def test_specs_are_the_gap_runs_neuron_trials_for_every_grid() -> None:
    got = specs([16, 32], [128, 256], 3, "relu", 60.0)
    assert len(got) == 2 * 2 * 3
    gap = specs_for(argparse.Namespace(
        dims=[2], widths=[16, 32], trials=3, points=128, domain="sphere", norm="linf",
        output_activation="relu", target_angle=0.3, seed=0, nested=False, weight_max_n=0,
        solver="auto", weight_solver=None, time_limit=60.0, threads=1, weight_threads=None))
    assert [s for s in got if s["points"] == 128] == sorted(
        (s for s in gap if s["kind"] == "neuron"), key=lambda s: (s["n"], s["trial"]))
    # the net of (trial, n) does not depend on K: only the points differ
    for s in got:
        if s["points"] == 256:
            twin = next(t for t in got if t["points"] == 128 and t["n"] == s["n"]
                        and t["trial"] == s["trial"])
            assert {**twin, "points": 256} == s


def test_summary_slopes_recover_known_laws() -> None:
    rows = []
    for n in (16, 32, 64):
        for t in range(3):
            lower, upper = 2.0 / n, 8.0 / n ** 2 * (1 + t)  # c/n and c/n^2 (median t = 1)
            rows.append(({"n": n, "points": 128}, {"lower": lower, "upper": upper,
                                                   "certified": t != 0}))
    lines = summarise(rows, [16, 32, 64], [128])
    assert "| 16 | 128 | 3 | 2 | 0.125 | 0.0625 | 0.50 |" in lines
    assert "| 128 | 16 → 32 | 1.00 | 2.00 |" in lines
    assert "| 128 | 32 → 64 | 1.00 | 2.00 |" in lines


def test_summary_of_cells_whose_lower_ends_are_zero() -> None:
    # Uncertified solves can stop with a proven bound of 0; the table must still be written,
    # saying the ratio and the slope are undefined instead of dividing by zero.
    rows = [({"n": n, "points": 128}, {"lower": 0.0 if n == 64 else 1.0 / n, "upper": 4.0 / n,
                                       "certified": False}) for n in (32, 64)]
    lines = summarise(rows, [32, 64], [128])
    assert "| 64 | 128 | 1 | 0 | 0 | 0.0625 | — (every lower end 0) |" in lines
    assert "| 32 | 128 | 1 | 0 | 0.03125 | 0.125 | 4.00 |" in lines
    assert "| 128 | 32 → 64 | — | 1.00 |" in lines


def test_bad_arguments_are_one_line_errors(capsys: pytest.CaptureFixture) -> None:
    for argv in (["--points", "127"], ["--n", "0"], ["--trials", "0"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
    assert "even" in capsys.readouterr().err
