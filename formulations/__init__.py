"""Models over keep-masks: each kind's MILP formulations (formulations/<kind>/), the
solver-neutral `MilpModel` and its converters (linear.py), and exact MPS / LP export."""

from exactprune.formulations.base import BuiltModel, Formulation, formulations_of, get_formulation
from exactprune.formulations.export import build_model, export_model
from exactprune.formulations.linear import MilpModel

__all__ = ["BuiltModel", "Formulation", "MilpModel", "build_model", "export_model",
           "formulations_of", "get_formulation"]
