"""The problem catalog: every problem kind declared once, with what each layer provides for it.

A `ProblemKind` names the instance type, the generator and its parameter dataclass, and the
modules of the upper layers that serve the kind:

- ``formulations``: a module with ``FORMULATIONS`` (name -> `formulations.base.Formulation`) and
  ``DEFAULT_FORMULATION``: the MILP models of the kind (export, MILP backends);
- ``solvers``: a module with ``BACKENDS`` (a sequence of `solvers.registry.Backend`, each for one
  (kind, solver) pair), ``choose_auto(instance, goal, threads) -> name``, optionally
  ``auto_fallback(instance, goal, result) -> name | None`` (what ``auto`` runs second when its
  choice proves nothing for a reason other than a limit), and
  ``certify(instance, mask, claimed, time_limit) -> dict`` (what ``exactprune certify``
  reports);
- ``suites``: a module with ``SUITES`` (a sequence of `benchmarks.suites.Suite`).

Upper layers are named by module path and imported on first use, so the import graph still
points one way (instances <- formulations <- solvers <- benchmarks <- exactprune/), while the CLI,
`solve()`, export, sweeps and benchmarks all derive what they offer from this one table. Adding a
kind: write its modules, add one entry to `KINDS` (docs/architecture.md lists the steps).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from exactprune.instances.errors import InputError
from exactprune.instances.limits import check_instance_numbers
from exactprune.instances.neuron_selection import (
    NeuronSelectionInstance,
    NeuronSelectionParams,
    generate_neuron_selection,
)
from exactprune.instances.neuron_selection.instance import LOSSES, RULES
from exactprune.instances.params import Param, build_params, params_of
from exactprune.instances.pruning.generator import (
    NORMS,
    PruningParams,
    generate_neuron_pruning,
    generate_weight_pruning,
    pruning_file_numbers,
)
from exactprune.instances.pruning.instance import NeuronPruningInstance, WeightPruningInstance
from exactprune.instances.subset_sum.generator import (
    SubsetSumParams,
    generate_subset_sum,
    subset_sum_file_numbers,
)
from exactprune.instances.subset_sum.instance import SubsetSumInstance


@dataclass(frozen=True)
class ProblemKind:
    """One problem kind (see the module docstring).

    name: the instance JSON ``kind`` (``subset_sum``); summary: one line; instance_type: the
    instance class (``from_json``, ``evaluate``, mask codec); params_type: the generator's
    parameter dataclass; generate: the generator, called with the dataclass's fields as keyword
    arguments; formulations, solvers, suites: module paths (None: the kind has none);
    file_numbers: how many numbers the instance's JSON file would hold, from the same keyword
    arguments (None: not known before drawing), so that `exactprune generate` refuses an
    instance no file can carry before it is drawn. variants: the instance fields whose
    values not every backend takes (pruning's norm; neuron selection's loss, rule and
    repeats), each with every value it may have: ``exactprune solvers --json`` lists per
    backend which of them it takes, under "accepts".
    """

    name: str
    summary: str
    instance_type: type
    params_type: type
    generate: Callable[..., Any]
    formulations: str | None = None
    solvers: str | None = None
    suites: str | None = None
    file_numbers: Callable[..., int | None] | None = None
    variants: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    def variant_values(self, name: str) -> tuple[Any, ...]:
        """Every value the variant field `name` may have (() for a field that is none)."""
        return dict(self.variants).get(name, ())

    @property
    def cli_name(self) -> str:
        """The name on the command line (``subset-sum``)."""
        return self.name.replace("_", "-")

    def params(self) -> list[Param]:
        """The generator parameters (name, type, default, help)."""
        return params_of(self.params_type)

    def make(self, values: Mapping[str, Any], for_file: bool = False) -> Any:
        """A generated instance from parameter values (text or plain values), all validated.
        `for_file`: it is to be written as an instance file; one of more numbers than such a
        file can carry (`limits.MAX_INSTANCE_NUMBERS`) is refused before it is drawn. In
        memory (sweeps, the Python API) only the array limits apply."""
        p = build_params(self.params_type, values, what=f"{self.cli_name} parameter")
        kwargs = dataclasses.asdict(p)
        if for_file and self.file_numbers is not None:
            count = self.file_numbers(**kwargs)
            if count is not None:
                check_instance_numbers(count, f"this {self.cli_name} instance")
        return self.generate(**kwargs)

    def module(self, layer: str) -> ModuleType | None:
        """The module of `layer` ("formulations", "solvers" or "suites"), imported on demand."""
        path = getattr(self, layer)
        return None if path is None else importlib.import_module(path)


SUBSET_SUM = ProblemKind(
    name="subset_sum",
    summary="keep a subset of n numbers whose sum is closest to a target (or the sparsest "
            "within eps)",
    instance_type=SubsetSumInstance,
    params_type=SubsetSumParams,
    generate=generate_subset_sum,
    file_numbers=subset_sum_file_numbers,
    formulations="exactprune.formulations.subset_sum",
    solvers="exactprune.solvers.subset_sum",
    suites="exactprune.benchmarks.subset_sum.suites",
)

NEURON_PRUNING = ProblemKind(
    name="neuron_pruning",
    summary="keep hidden units of a random two-layer ReLU net to fit a target neuron",
    instance_type=NeuronPruningInstance,
    params_type=PruningParams,
    generate=generate_neuron_pruning,
    file_numbers=pruning_file_numbers,
    formulations="exactprune.formulations.pruning",
    solvers="exactprune.solvers.pruning",
    suites="exactprune.benchmarks.pruning.suites",
    variants=(("norm", NORMS),),
)

WEIGHT_PRUNING = dataclasses.replace(
    NEURON_PRUNING,
    name="weight_pruning",
    summary="keep first-layer weights of a random two-layer ReLU net to fit a target neuron",
    instance_type=WeightPruningInstance,
    generate=generate_weight_pruning,
)

NEURON_SELECTION = ProblemKind(
    name="neuron_selection",
    summary="keep k hidden units of a trained two-layer net so the rescaled subnetwork best "
            "fits the targets (squared, l1 or linf loss)",
    instance_type=NeuronSelectionInstance,
    params_type=NeuronSelectionParams,
    generate=generate_neuron_selection,
    formulations="exactprune.formulations.neuron_selection",
    solvers="exactprune.solvers.neuron_selection",
    suites="exactprune.benchmarks.neuron_selection.suites",
    variants=(("loss", LOSSES), ("rule", RULES), ("repeats", (False, True))),
)

KINDS: dict[str, ProblemKind] = {k.name: k for k in (SUBSET_SUM, NEURON_PRUNING, WEIGHT_PRUNING,
                                                     NEURON_SELECTION)}
"""Every problem kind, by name."""


def get_kind(name: str) -> ProblemKind:
    """The kind called `name` (``subset_sum`` or its CLI spelling ``subset-sum``)."""
    key = str(name).replace("-", "_")
    if key not in KINDS:
        raise InputError(f"unknown problem kind {name!r} (known: {', '.join(KINDS)})")
    return KINDS[key]


def register_kind(kind: ProblemKind) -> ProblemKind:
    """Add a kind at run time (extensions and tests; the built-in kinds are listed above)."""
    KINDS[kind.name] = kind
    return kind
