"""Export an instance's MILP as an MPS or LP file, for any outside solver, exactly.

The model is the kind's formulation (formulations/base.py: the default one, or the one named),
the same model the MILP backends solve on all points. Files are written by
formulations/model_files.py: every coefficient, bound and offset is the shortest round-trip
decimal of its float64, so a reader gets back the instance's own numbers bit for bit (PuLP's
writer, used before, kept 12-13 significant digits: the exported model was not the instance).

The file is written atomically: into a temporary file in the destination folder, then renamed
over `path`; on any failure the temporary file is removed and `path` is left untouched.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from exactprune.formulations.base import get_formulation
from exactprune.formulations.linear import GoalLike, MilpModel
from exactprune.formulations.model_files import lp_text, mps_text
from exactprune.instances.errors import InputError

FORMATS = ("mps", "lp")


def build_model(instance: Any, goal: GoalLike | None = None,
                formulation: str | None = None) -> MilpModel:
    """The MILP of `instance` for `goal` (None: min_error) in `formulation` (None: the kind's
    default); InputError for a kind without formulations, an unknown name, or a goal the
    formulation does not model."""
    form = get_formulation(getattr(instance, "kind", None), formulation)
    form.check_goal(goal)
    return form.build(instance, goal).model


def model_text(model: MilpModel, fmt: str) -> str:
    """The model as MPS or LP text (exact)."""
    fmt = str(fmt).lower()
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r} (use mps or lp)")
    return mps_text(model) if fmt == "mps" else lp_text(model)


def export_model(
    instance: Any,
    goal: GoalLike | None,
    path: str | os.PathLike[str],
    fmt: str = "mps",
    formulation: str | None = None,
) -> Path:
    """Write the MILP of `instance` for `goal` to `path` in format `fmt` ("mps" or "lp").

    Returns the path written. Raises InputError for an unknown format, kind or formulation, or a
    missing output folder; no file (partial or temporary) is left behind on any failure.
    """
    from exactprune.instances.io import write_text_atomic

    fmt = str(fmt).lower()
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r} (use mps or lp)")
    target = Path(path)
    if target.exists() and target.is_dir():
        raise InputError(f"output path is a folder: {target}")
    text = model_text(build_model(instance, goal, formulation), fmt)
    write_text_atomic(target, text)
    return target
