"""Every command that writes a report.md says in it when its plots could not be drawn.

Without matplotlib the plots are skipped with a warning on stderr, which is gone when the
command ends; the report stays, and a reader of it must not take the missing figures for a
failed or an unfinished run. matplotlib is made unimportable here (as in
test_verify_subset_sum's plot tests), whether or not the test machine has it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from exactprune.benchmarks import plots
from exactprune.cli import main
from exactprune.instances.mlp import MLP, save_mlp

NOTE = "Plots: none drawn, matplotlib is not installed (pip install 'exactprune[plot]')."


@pytest.fixture()
def no_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    monkeypatch.setattr(plots, "_warned", False)


def _network(path: Path) -> Path:
    rng = np.random.default_rng(0)
    save_mlp(MLP((rng.normal(0, 0.3, (3, 2)), rng.normal(0, 0.3, (1, 3))), (None, None)),
             path)
    return path


COMMANDS = {
    "verify subset-sum": ["verify", "subset-sum", "--n", "4", "--trials", "2",
                          "--no-progress"],
    "verify pruning-gap": ["verify", "pruning-gap", "--n", "4", "--trials", "1", "--points",
                           "16", "--time-limit", "5"],
    "verify pretraining": ["verify", "pretraining", "--sizes", "20", "--iters", "0,5",
                           "--hidden", "5", "--k", "2", "--trials", "1"],
    "verify width-factor": ["verify", "width-factor", "{net}", "--eps", "0.1", "--n-max", "4"],
    "bench": ["bench", "smoke-subset-sum", "--store", "{tmp}/bench.sqlite"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_report_without_its_plots_says_why(
        command: str, tmp_path: Path, no_matplotlib: None,
        capsys: pytest.CaptureFixture[str]) -> None:
    net = _network(tmp_path / "net.npz")
    argv = [a.format(net=net, tmp=tmp_path) for a in COMMANDS[command]]
    out = tmp_path / "report"
    assert main([*argv, "--out", str(out)]) == 0
    assert "matplotlib is not installed" in capsys.readouterr().err
    report = (out / "report.md").read_text()
    assert report.rstrip("\n").endswith(NOTE)
    assert report.count("Plots: none drawn") == 1
    assert not list(out.glob("*.png")) and not list(out.glob("*.svg"))


def test_a_report_with_its_plots_has_no_such_line(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "report"
    assert main([*COMMANDS["verify subset-sum"], "--out", str(out)]) == 0
    assert "Plots: none drawn" not in (out / "report.md").read_text()
    assert list(out.glob("*.png"))
