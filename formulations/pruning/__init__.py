"""Pruning models: column selection (neuron pruning: one column per unit; weight pruning: a
dictionary of input sub-masks per unit) and the big-M weight-pruning model, on all points."""

from __future__ import annotations

from typing import Any

from exactprune.formulations.base import BuiltModel, Formulation
from exactprune.formulations.pruning.antipodal import antipodal_model, antipodal_refusal
from exactprune.formulations.pruning.bigm import bigm_model
from exactprune.formulations.pruning.selection import build_selection, selection_model
from exactprune.instances.errors import InputError


def _selection(instance: Any, goal: Any = None) -> BuiltModel:
    return selection_model(build_selection(instance))


def _bigm(instance: Any, goal: Any = None) -> BuiltModel:
    return bigm_model(instance)


def _antipodal(instance: Any, goal: Any = None) -> BuiltModel:
    why = antipodal_refusal(instance)
    if why:
        raise InputError(why)
    return antipodal_model(build_selection(instance), instance)[0]


FORMULATIONS = (
    Formulation("selection", "neuron_pruning",
                "one binary per hidden unit; the error rows of formulations/pruning/error_rows",
                _selection),
    Formulation("dictionary", "weight_pruning",
                "one binary per non-empty input sub-mask of each unit (d <= 10), at most one "
                "per unit: no big-M with an identity output", _selection),
    Formulation("bigm", "weight_pruning",
                "one binary per weight, relu of each unit and point by big-M from exact bounds",
                _bigm),
    Formulation("antipodal", "neuron_pruning",
                "one binary per unit; points paired with their negatives, error |even| + |odd| "
                "with the odd part linear in d aggregates (identity output, linf)", _antipodal),
    Formulation("antipodal", "weight_pruning",
                "the dictionary on antipodal point pairs (identity output, linf)", _antipodal),
)
