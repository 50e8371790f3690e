"""Which data the MILP engines refuse: hidden units whose output scales span too many orders.

When some units contribute columns ~1e-7 .. 1e-14 times the others' (a unit with a tiny output
weight beside ordinary ones), the MILP engines' branch-and-bound, at the tight tolerances the
certificates need, certified wrong optima: SCIP, HiGHS and CBC on pruning and neuron-selection
models (the `--edge` audits: output weights of half the units scaled by 10^-7 .. 10^-16; wrong
answers from 1e-7.2 down; at spreads 1e-2 .. 1e-6 one, CBC's with a MIP start, fixed in the
engine; docs/numerics.md). CP-SAT
works on integers scaled with a proven rounding slack and took every one of them right, as did
`bnb` and `bruteforce`; so the MILP backends refuse such data with one line naming those that
take it (`bnb` for neuron selection only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

MIN_UNIT_SCALE_RATIO = 1e-6
"""Smallest ratio (smallest / largest nonzero unit scale) the MILP engines take."""


def unit_scales(instance: Any) -> np.ndarray:
    """The scale of each hidden unit's column: the largest absolute value it can add to an
    output. Pruning (neuron or weight): |v_i| · Σ_j |W_ij| · max_k |x_kj| (bounds every
    sub-mask's activation at every point). Neuron selection: max_i |H_ij| · max_c |V_jc|."""
    if hasattr(instance, "network"):
        net = instance.network
        W = np.abs(np.asarray(net.hidden_weights, dtype=np.float64))
        xmax = np.max(np.abs(np.asarray(instance.points, dtype=np.float64)), axis=0)
        return np.abs(np.asarray(net.output_weights, dtype=np.float64)) * (W @ xmax)
    H = np.abs(np.asarray(instance.hidden, dtype=np.float64))
    V = np.abs(np.asarray(instance.output_weights, dtype=np.float64))
    return H.max(axis=0) * V.max(axis=1)


def unit_scale_ratio(instance: Any) -> float:
    """The smallest over the largest of the units' nonzero output scales (1 for fewer than
    two): the MILP engines refuse a ratio below MIN_UNIT_SCALE_RATIO."""
    scales = unit_scales(instance)
    scales = scales[scales > 0]
    return 1.0 if scales.size < 2 else float(scales.min() / scales.max())


def unit_scale_refusal(instance: Any) -> str | None:
    """One line when the units' nonzero scales span more than 1 / MIN_UNIT_SCALE_RATIO."""
    ratio = unit_scale_ratio(instance)
    if ratio >= MIN_UNIT_SCALE_RATIO:
        return None
    return (f"the units' output scales span {ratio:.1e} (smallest / largest), beyond "
            f"{MIN_UNIT_SCALE_RATIO:g}: the MILP engines certified wrong optima on such data; "
            f"{_who_takes_it(instance)}")


def _who_takes_it(instance: Any) -> str:
    """The backends that take such data, as the refusal names them: CP-SAT takes weight
    pruning only up to the dictionary's d (it named cpsat there, and cpsat refused; hunt 50)."""
    from exactprune.formulations.pruning.selection import MAX_DICTIONARY_D, past_dictionary
    from exactprune.solvers.pruning.bruteforce import MAX_BITS

    if not hasattr(instance, "network"):  # neuron selection (l1/linf: cpsat takes them)
        from exactprune.solvers.registry import backends_taking
        from exactprune.solvers.result import Goal

        # not bnb with repeats, not bruteforce beyond its size: the refusal named bnb for
        # repeats and bnb's named the MILP engines back (hunt 133 L1)
        takers = backends_taking(instance, Goal(), ("cpsat", "bnb", "bruteforce"))
        return f"use {' or '.join(takers)}" if len(takers) < 3 else "use cpsat, bnb or bruteforce"
    # bruteforce only where its 2^MAX_BITS masks reach: past d = 10 two units already have
    # 22 weights, and the refusal sent users to a bruteforce that refused too (hunt 121 L1)
    brute = instance.mask_size <= MAX_BITS
    none = (f"no exact backend takes it: bruteforce enumerates at most 2^{MAX_BITS} masks "
            f"(this one has 2^{instance.mask_size}); a heuristic such as prune_local_search "
            "gives a mask, uncertified")
    if getattr(instance, "norm", None) == "l2":  # no MILP or CP-SAT model takes l2 (hunt 52)
        return "only bruteforce takes the l2 error" if brute else none
    if past_dictionary(instance):
        if not brute:
            return f"{none} (cpsat's dictionary stops at d = {MAX_DICTIONARY_D})"
        return (f"only bruteforce takes it at d = {instance.d} (cpsat's dictionary stops at "
                f"d = {MAX_DICTIONARY_D})")
    if not brute:
        return "use cpsat (auto chooses it)"
    # auto enumerates masks of at most 12 entries (choose_auto); it was said to choose cpsat
    # there too (hunt 194 L1)
    return f"use cpsat or bruteforce (auto chooses {auto_choice(instance)})"


def auto_choice(instance: Any) -> str:
    """What `--solver auto` runs on a pruning instance the MILP engines refuse, where both
    cpsat and bruteforce take it (min_error; `choose_auto`, which asks this module)."""
    from exactprune.solvers.pruning import AUTO_ENUMERATES_UP_TO

    return "bruteforce" if instance.mask_size <= AUTO_ENUMERATES_UP_TO else "cpsat"


def with_unit_scale_refusal(refuse: Callable[[Any, Any], str | None]
                            ) -> Callable[[Any, Any], str | None]:
    """A kind's `refuse(instance, goal)` for its MILP backends: `refuse`, then
    `unit_scale_refusal`."""

    def milp_refuse(instance: Any, goal: Any) -> str | None:
        return refuse(instance, goal) or unit_scale_refusal(instance)

    return milp_refuse
