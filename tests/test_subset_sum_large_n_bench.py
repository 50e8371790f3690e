"""The benchmark `auto`'s choice above mitm's limit rests on (benchmarks/subset_sum/large_n.py):
its grid family's optimum is what it says (checked by exhaustive enumeration over fractions),
and a tiny run writes both pages with a row per (n, goal, method) and every run in the JSON."""

from __future__ import annotations

import itertools
import json
from fractions import Fraction
from pathlib import Path

import pytest

from exactprune.benchmarks.subset_sum import large_n


@pytest.mark.parametrize(("n", "bits", "seed"), [(10, 3, 0), (12, 5, 1), (14, 8, 2)])
def test_grid_family_optimum_is_exact(n: int, bits: int, seed: int) -> None:
    inst, planted, optimum = large_n.grid_instance(n, seed, bits)
    values = [Fraction(v) for v in inst.values.tolist()]
    target = Fraction(inst.target)
    best = {}  # fewest-kept error per count, by enumeration
    for mask in itertools.product((0, 1), repeat=n):
        err = abs(sum(v for v, b in zip(values, mask, strict=True) if b) - target)
        k = sum(mask)
        best[k] = min(best.get(k, err), err)
    assert min(best.values()) == optimum
    assert min(e for k, e in best.items() if k <= planted) == optimum


def test_tiny_run_writes_both_pages(tmp_path: Path) -> None:
    for family in ("uniform", "grid"):
        assert large_n.main(["--family", family, "--sizes", "63", "--seeds", "1",
                             "--time-limit", "0.3", "--out", str(tmp_path)]) == 0
    grid_rows = json.loads((tmp_path / "subset-sum-large-n-grid.json").read_text())
    assert len(grid_rows) == len(large_n.GOALS) * len(large_n.ENGINES)
    assert {r["ran"] for r in grid_rows if r["solver"] == "auto"} == {"cpsat"}
    for row in grid_rows:  # no mask beats the known optimum; a bound never exceeds it
        if row["objective"] is not None and row["goal"] != "sparsest":
            assert row["objective"] >= 2.0 ** -(row["bits"] + 1)
            assert row["bound"] is None or row["bound"] <= 2.0 ** -(row["bits"] + 1)
    page = (tmp_path / "subset-sum-large-n-grid.md").read_text()
    assert page.count("| 63 | ") == len(grid_rows)
    uniform_rows = json.loads((tmp_path / "subset-sum-large-n.json").read_text())
    assert len(uniform_rows) == len(large_n.UNIFORM) + len(large_n.ENGINES)
    assert (tmp_path / "subset-sum-large-n.md").read_text().count("| 63 | ") == len(uniform_rows)


def test_grid_bits_the_target_cannot_hold_are_refused_in_one_line(
        capsys: pytest.CaptureFixture[str]) -> None:
    """--grid-bits 48 with n = 1000 ended in an AssertionError traceback (the planted target
    is no float exactly; hunt 192 L1); refused before any run now."""
    with pytest.raises(SystemExit) as exc:
        large_n.main(["--family", "grid", "--grid-bits", "48", "--out", "/nonexistent"])
    assert exc.value.code == 2
    assert "--grid-bits must be from 1 to 42 with n up to 1000" in capsys.readouterr().err
    with pytest.raises(ValueError, match="not a float exactly"):
        large_n.grid_instance(1000, 0, 48)
