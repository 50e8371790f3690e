"""Experiments: solver benchmarks, sweeps, fits and plots (built on `exactprune.solvers`)."""
