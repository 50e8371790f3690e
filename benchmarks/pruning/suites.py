"""Benchmark suites of neuron and weight pruning (listed in benchmarks/suites.py)."""

from __future__ import annotations

from exactprune.benchmarks.suites import BenchInstance, Suite

TARGET_ANGLE = 0.3
"""Angle of the target neuron relu(cos a x1 + sin a x2) of the pruning suites."""


def _pruning(suite: str, kind: str, widths: list[int], points: int, activations: list[str],
             seeds: list[int]) -> tuple[BenchInstance, ...]:
    out = []
    for act in activations:
        for n in widths:
            for s in seeds:
                params = {"d": 2, "width": n, "points": points, "seed": s,
                          "output_activation": act, "target_angle": TARGET_ANGLE}
                out.append(BenchInstance(f"{suite}_{act}_n{n}_s{s}", kind, f"{suite}/{act}",
                                         n, params))
    return tuple(out)


_BOTH = ["identity", "relu"]

SUITES = (
    Suite("neuron-pruning",
          "neuron pruning, d = 2, K = 128 circle points, n = 16, 32, 64, identity and relu "
          "output, seeds 0-1",
          _pruning("neuron-pruning", "neuron_pruning", [16, 32, 64], 128, _BOTH, [0, 1])),
    Suite("weight-pruning",
          "weight pruning, d = 2, K = 64 circle points, n = 8, 16, 32, identity and relu "
          "output, seeds 0-1",
          _pruning("weight-pruning", "weight_pruning", [8, 16, 32], 64, _BOTH, [0, 1])),
    Suite("smoke-neuron-pruning", "smoke test: neuron pruning d = 2, K = 16, n = 6, relu output",
          _pruning("smoke-neuron-pruning", "neuron_pruning", [6], 16, ["relu"], [0])),
    Suite("smoke-weight-pruning", "smoke test: weight pruning d = 2, K = 16, n = 3, relu output",
          _pruning("smoke-weight-pruning", "weight_pruning", [3], 16, ["relu"], [0])),
)
