"""Benchmark suites of random subset-sum (listed in benchmarks/suites.py)."""

from __future__ import annotations

from exactprune.benchmarks.suites import BenchInstance, Suite


def _subset_sum(suite: str, sizes: list[int], seeds: list[int]) -> tuple[BenchInstance, ...]:
    return tuple(BenchInstance(f"{suite}_n{n}_s{s}", "subset_sum", suite, n, {"n": n, "seed": s})
                 for n in sizes for s in seeds)


SUITES = (
    Suite("subset-sum", "random subset-sum, n = 16..40 values ~ Uniform[-1, 1], seeds 0-2",
          _subset_sum("subset-sum", [16, 20, 24, 28, 32, 40], [0, 1, 2])),
    Suite("smoke-subset-sum", "smoke test: subset-sum n = 10, seeds 0-1",
          _subset_sum("smoke-subset-sum", [10], [0, 1])),
)
