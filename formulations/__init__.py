"""Models over keep-masks: integer scaling, MILP (PuLP) and CP-SAT builders, LP/MPS export."""

from exactprune.formulations.scaling import IntegerScaling, integer_scaling

__all__ = ["IntegerScaling", "integer_scaling"]
