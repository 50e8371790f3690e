"""Subset-sum experiments: verify the random subset-sum scaling, time the exact solvers."""
