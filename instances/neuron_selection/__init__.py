"""Neuron selection: k of the N hidden units of a trained two-layer net (instance, generators)."""

from exactprune.instances.neuron_selection.generator import (
    NeuronSelectionParams,
    generate_neuron_selection,
    synthetic_neuron_selection,
)
from exactprune.instances.neuron_selection.instance import (
    LOSSES,
    RULES,
    NeuronSelectionInstance,
)

__all__ = [
    "LOSSES",
    "RULES",
    "NeuronSelectionInstance",
    "NeuronSelectionParams",
    "generate_neuron_selection",
    "synthetic_neuron_selection",
]
