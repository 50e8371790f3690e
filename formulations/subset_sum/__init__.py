"""Subset-sum as a MILP: one model for min_error (with an optional budget) and sparsest."""

from functools import partial

from exactprune.formulations.base import Formulation
from exactprune.formulations.subset_sum.milp import build_subset_sum

FORMULATIONS = (
    Formulation("standard", "subset_sum",
                "min_error: minimise e >= |x.m - z| (optional budget sum m <= k); "
                "sparsest: minimise sum m within |x.m - z| <= eps",
                # as exported: the sparsest window as the problem states it (exact_window)
                partial(build_subset_sum, exact_window=True),
                objectives=frozenset({"min_error", "sparsest"}), max_kept=True),
)
