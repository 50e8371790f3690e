"""The random audit of the exact pruning backends against bruteforce
(benchmarks/pruning/audit.py) on the cases around its two finds: case 132 (CBC's preprocessing
certified a wrong optimum) and case 2006 (no active unit: an IndexError). Slow (~1 min)."""

from __future__ import annotations

import pytest

from exactprune.benchmarks.pruning.audit import AuditTally, audit_case, audit_instance

CASES = [*range(120, 140), 2006]


@pytest.mark.slow
def test_every_exact_backend_agrees_with_the_oracle_on_random_cases() -> None:
    tally = AuditTally()
    for case in CASES:
        audit_case(case, tally, time_limit=60.0)
    assert tally.findings == []
    assert tally.certified >= 0.9 * tally.runs > 0


def test_audit_cases_are_reproducible_and_varied() -> None:
    first, text = audit_instance(132)
    again, same = audit_instance(132)
    assert text == same and first.to_json() == again.to_json()
    kinds = {audit_instance(c)[0].kind for c in range(20)}
    assert kinds == {"neuron_pruning", "weight_pruning"}
