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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from exactprune.formulations.base import get_formulation
from exactprune.formulations.linear import GoalLike, MilpModel
from exactprune.formulations.model_files import lp_text, mps_text
from exactprune.instances.errors import InputError
from exactprune.instances.io import OTHER_FORMATS, output_format

FORMATS = ("mps", "lp")


def build_model(instance: Any, goal: GoalLike | None = None,
                formulation: str | None = None) -> MilpModel:
    """The MILP of `instance` for `goal` (a Goal or a mapping of its fields; None: min_error)
    in `formulation` (None: the kind's default, and big-M for weight pruning past
    d = MAX_DICTIONARY_D, as the engines solve it); InputError for a kind without
    formulations, an unknown name, or a goal the formulation does not model."""
    if isinstance(goal, Mapping):  # read by attribute below: a dict would be min_error
        from exactprune.solvers.result import Goal

        unknown = sorted(set(goal) - {"objective", "max_kept", "eps"})
        if unknown:
            raise InputError(f"unknown goal field(s) {unknown} (objective, max_kept, eps)")
        goal = Goal(**goal)
    defaulted = ""
    if formulation is None:
        from exactprune.formulations.pruning.selection import MAX_DICTIONARY_D, past_dictionary

        if past_dictionary(instance):  # as the engines do (the default was refused; hunt 98)
            formulation = "bigm"
            defaulted = f" (the default past d = {MAX_DICTIONARY_D}, where the dictionary stops)"
    form = get_formulation(getattr(instance, "kind", None), formulation)
    try:
        form.check_goal(goal)
    except InputError as exc:  # it named a formulation the user never chose (hunt 101 L4)
        if not defaulted:
            raise
        raise InputError(f"{exc}{defaulted}") from None
    return form.build(instance, goal).model


def export_format(path: str | os.PathLike[str] | None, fmt: str | None) -> str:
    """The format to write: the output file's extension (.mps or .lp) when it has one, else
    `fmt`, else "mps". InputError when `fmt` contradicts the extension (MPS text in m.lp is
    read by no LP reader), for an unknown format, for a compressed file name, or, without
    `fmt`, for a name whose extension says another format (-o model.json held MPS text, where
    solve -o r.mps is refused; hunt 217 L1)."""
    other = tuple(suffix.lstrip(".") for suffix in OTHER_FORMATS
                  if suffix.lstrip(".") not in FORMATS)
    return output_format(path, fmt, FORMATS, unlike=(*other, "json", "jsonl"))


MAX_EXPORT_NONZEROS = 2**22
"""Most constraint coefficients `model_text` writes. The text is built in memory at about 380
bytes per coefficient (one line each, with its Python objects): a 133 KB weight-pruning
instance (d = 10, width 16, 512 points, 16.7 M coefficients in the dictionary formulation)
ended in MemoryError after 20 s, and d = 10, width 32, 1,024 points would have needed ~12 GB
(hunt 35). 2^22 coefficients are ~1.6 GB while written and ~200 MB of text."""


def model_text(model: MilpModel, fmt: str) -> str:
    """The model as MPS or LP text (exact); InputError for an unknown format or a model of more
    than MAX_EXPORT_NONZEROS coefficients."""
    fmt = str(fmt).lower()
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r} (use mps or lp)")
    nonzeros = int(model.row_index.size)
    if nonzeros > MAX_EXPORT_NONZEROS:
        raise InputError(f"the model has {nonzeros:,} constraint coefficients, more than the "
                         f"{MAX_EXPORT_NONZEROS:,} export writes (about 380 bytes of memory "
                         f"each while written): use fewer points or units, or a smaller d")
    return mps_text(model) if fmt == "mps" else lp_text(model)


def export_model(
    instance: Any,
    goal: GoalLike | None,
    path: str | os.PathLike[str],
    fmt: str | None = None,
    formulation: str | None = None,
) -> Path:
    """Write the MILP of `instance` for `goal` to `path` in format `fmt` ("mps" or "lp"; None:
    the extension's, .mps or .lp, else "mps"; see `export_format`).

    Returns the path written. Raises InputError for an unknown or contradicted format, kind or
    formulation, or a missing output folder; no file (partial or temporary) is left behind on
    any failure.
    """
    from exactprune.instances.io import as_path, write_text_atomic

    target = as_path(path, output=True)  # an int, bytes or None raised TypeError (hunt 35)
    fmt = export_format(target, fmt)
    if target.exists() and target.is_dir():
        raise InputError(f"output path is a folder: {target}")
    text = model_text(build_model(instance, goal, formulation), fmt)
    write_text_atomic(target, text)
    return target
