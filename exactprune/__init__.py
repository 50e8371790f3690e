"""exactprune: exact, certified optimal prunings of small neural networks.

    from exactprune import solve, load_instance, generate_subset_sum
    result = solve(generate_subset_sum(n=24, seed=0), solver="mitm")

The names below are imported on first use (PEP 562), so that `import exactprune` and the
command line's entry module load no numpy or solver: a Ctrl-C while the program is still
starting is then answered by the command line's own handler, not a traceback.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# In a source checkout this folder holds only the CLI and the facade; the subpackages are its
# siblings (pyproject's package-dir). Run from the checkout's root with a non-editable install
# (`python -m exactprune`, the README's snippet, pytest), this folder shadowed the installed
# package, and `exactprune.instances` was not found (hunt 74 M4). A finder maps those four
# names, and only them, to the siblings (the whole root on __path__ also made the root's
# setup.py importable as exactprune.setup: hunt 75 L2). An installed copy has no siblings.
_SUBPACKAGES = ("instances", "formulations", "solvers", "benchmarks")
_checkout = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _CheckoutSubpackages:
    """Meta path finder of exactprune.<subpackage> in a source checkout (consulted last)."""

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> Any:
        head, _, sub = name.partition(".")
        if head != __name__ or sub not in _SUBPACKAGES:
            return None
        import importlib.util

        folder = os.path.join(_checkout, sub)
        return importlib.util.spec_from_file_location(
            name, os.path.join(folder, "__init__.py"), submodule_search_locations=[folder])


if os.path.isfile(os.path.join(_checkout, "setup.py")) and \
        os.path.isfile(os.path.join(_checkout, "instances", "catalog.py")):
    import sys as _sys

    _sys.meta_path.append(_CheckoutSubpackages())

# public name -> module that defines it
_LAZY = {
    "InputError": "exactprune.instances",
    "SubsetSumInstance": "exactprune.instances",
    "generate_subset_sum": "exactprune.instances",
    "load_instance": "exactprune.instances",
    "save_instance": "exactprune.instances",
    "Goal": "exactprune.solvers",
    "Objective": "exactprune.solvers",
    "SolveResult": "exactprune.solvers",
    "Status": "exactprune.solvers",
    "list_backends": "exactprune.solvers",
    "solve": "exactprune.solvers",
}

__all__ = [
    "Goal",
    "InputError",
    "Objective",
    "SolveResult",
    "Status",
    "SubsetSumInstance",
    "__version__",
    "generate_subset_sum",
    "list_backends",
    "load_instance",
    "save_instance",
    "solve",
]

if TYPE_CHECKING:
    from exactprune.instances import (
        InputError,
        SubsetSumInstance,
        generate_subset_sum,
        load_instance,
        save_instance,
    )
    from exactprune.solvers import Goal, Objective, SolveResult, Status, list_backends, solve


# subpackages and modules reachable as attributes (`exactprune.solvers.list_backends`), as
# they were when this module imported its names eagerly
_SUBMODULES = ("benchmarks", "cli", "entry", "formulations", "instances", "invocation",
               "solvers", "train_cmd")


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"exactprune.{name}")  # the import binds the attribute
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'exactprune' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*__all__, *_SUBMODULES, *(k for k in globals() if k.startswith("__"))})
