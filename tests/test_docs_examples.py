"""Every ```python example in README.md and docs/*.md runs as written (in a scratch directory).

An example that stops working is a broken promise to the reader; the blocks are found, not
listed, so a new example is tested from the day it is written. The two that train or ticket a
whole network (tens of seconds to minutes on 2 cores) run with the slow tests.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SLOW = {"docs/tickets.md#0", "docs/training.md#0"}
"""Examples that run the built-in MNIST ticket or train a net for 2,000 iterations."""


def _examples() -> list[tuple[str, str]]:
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        blocks = re.findall(r"^[ \t]*```python\n(.*?)^[ \t]*```", path.read_text(), re.S | re.M)
        rel = path.relative_to(ROOT).as_posix()
        found += [(f"{rel}#{i}", textwrap.dedent(b)) for i, b in enumerate(blocks)]
    return found


EXAMPLES = _examples()


def test_the_examples_are_found() -> None:
    names = {name for name, _ in EXAMPLES}
    assert {"README.md#0", "docs/pruning.md#0", *SLOW} <= names


@pytest.mark.parametrize(
    "name,code",
    [pytest.param(n, c, id=n, marks=[pytest.mark.slow] if n in SLOW else []) for n, c in EXAMPLES])
def test_example_runs(name: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # examples may write files (net.npz)
    exec(compile(code, name, "exec"), {"__name__": "__example__"})
    assert capsys.readouterr().out or "print(" not in code
