"""Export an instance's MILP as an MPS or LP file, for any outside solver.

The model is built per instance kind (`MODEL_BUILDERS`, one entry per kind; later kinds call
`register_model_builder`), converted with `to_pulp` and written by PuLP: MPS coefficients carry
13 significant digits (relative rounding <= 5e-13), LP files 12. Variable m_i is the keep-mask
entry i (see the kind's builder docstring, e.g. formulations/subset_sum_milp.py).

The file is written atomically: into a temporary file in the destination folder, then renamed
over `path`; on any failure the temporary file is removed and `path` is left untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from exactprune.formulations.linear import GoalLike, MilpModel, to_pulp
from exactprune.formulations.pruning.bigm import bigm_milp
from exactprune.formulations.pruning.selection import build_selection, selection_milp
from exactprune.formulations.subset_sum.milp import subset_sum_model
from exactprune.instances.errors import InputError

FORMATS = ("mps", "lp")

def _subset_sum(instance: Any, goal: Any, **options: Any) -> MilpModel:
    if options:
        raise InputError(f"subset-sum export takes no options, got {sorted(options)}")
    return subset_sum_model(instance, goal)


def _pruning(instance: Any, goal: Any, formulation: str = "dictionary") -> MilpModel:
    """Pruning on all points: the selection model (neuron pruning; weight pruning
    "dictionary") or the big-M model (weight pruning "bigm")."""
    if goal is not None and (getattr(goal, "max_kept", None) is not None
                             or str(getattr(goal, "objective", "min_error")) != "min_error"):
        raise InputError("pruning export supports the min_error objective without max_kept")
    if formulation == "bigm":
        return bigm_milp(instance)
    if formulation != "dictionary":
        raise InputError(f"unknown formulation {formulation!r} (dictionary or bigm)")
    return selection_milp(build_selection(instance))


MODEL_BUILDERS: dict[str, Callable[..., MilpModel]] = {
    "subset_sum": _subset_sum,
    "neuron_pruning": _pruning,
    "weight_pruning": _pruning,
}


def register_model_builder(kind: str, builder: Callable[..., MilpModel]) -> None:
    """`builder(instance, goal, **options) -> MilpModel` exports instances of `kind`."""
    MODEL_BUILDERS[kind] = builder


def build_model(instance: Any, goal: GoalLike | None = None, **options: Any) -> MilpModel:
    """The MILP of `instance` for `goal` (None: min_error), via the builder of its kind.

    options go to the builder (pruning: formulation="dictionary" | "bigm")."""
    kind = getattr(instance, "kind", None)
    builder = MODEL_BUILDERS.get(kind)  # type: ignore[arg-type]
    if builder is None:
        known = ", ".join(sorted(MODEL_BUILDERS))
        raise InputError(f"no MILP formulation for instance kind {kind!r} (known: {known})")
    return builder(instance, goal, **options)


def _write(model: MilpModel, fmt: str, path: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prob = to_pulp(model)
        if fmt == "mps":
            if model.sense == "max":  # MPS readers assume minimisation without OBJSENSE
                prob.writeMPS(path, with_objsense=True)
            else:
                prob.writeMPS(path)
        else:
            prob.writeLP(path)


def export_model(
    instance: Any,
    goal: GoalLike | None,
    path: str | os.PathLike[str],
    fmt: str = "mps",
    **options: Any,
) -> Path:
    """Write the MILP of `instance` for `goal` to `path` in format `fmt` ("mps" or "lp").

    Returns the path written. Raises InputError for an unknown format or kind, or a missing
    output folder; no file (partial or temporary) is left behind on any failure.
    """
    fmt = str(fmt).lower()
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r} (use mps or lp)")
    target = Path(path)
    if not target.parent.exists():
        raise InputError(f"output folder does not exist: {target.parent}")
    if target.exists() and target.is_dir():
        raise InputError(f"output path is a folder: {target}")
    model = build_model(instance, goal, **options)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".{fmt}.tmp",
                               dir=target.parent)
    os.close(fd)
    try:
        _write(model, fmt, tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target
