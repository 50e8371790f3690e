"""Subset-sum as a MILP (one model for min_error, max_kept and sparsest)."""
