"""Pruning heuristics for `neuron_pruning` and `weight_pruning` (never certified).

Every backend returns a keep-mask with status FEASIBLE and no bound; the dispatcher recomputes
its error with the instance's own `evaluate`. All are seeded by `opts.seed`, check
`opts.time_limit` inside their loops, and respect `goal.max_kept` (at most that many kept
units for neuron pruning, kept first-layer weights for weight pruning; counted as the number of
True entries of the mask, as the dispatcher counts them).

Backends (registry names):
  magnitude         rank units by |v_i|·||w_i||_2 (neuron) or weights by |v_i·W_ij| (weight),
                    then keep the best prefix of that ranking (every prefix length 0..M, or
                    0..max_kept, is evaluated; the shortest best prefix wins). Extra option
                    `k`: keep exactly the top k instead (the plain magnitude baseline).
  greedy_forward    start empty (or from the warm start), add the unit / weight that most
                    reduces the error while one does and the budget allows (linf: also one
                    that keeps the error and lowers the smooth surrogate mean(|r|^8)^(1/8),
                    `residual_model.better`, to cross the max's plateaus; such a mask may
                    keep items that leave the error as it was).
  greedy_backward   start full (or from the warm start) and remove the unit / weight whose
                    removal most reduces the error (linf: or lowers the surrogate at the same
                    error) while one does; while the mask keeps more
                    than max_kept, the least harmful removal is made even if it worsens the
                    error (classic backward elimination: the budget decides the last steps,
                    not a magnitude ranking).
  prune_local_search
                    iterated local search, then large-neighbourhood search
                    (`local_search.py`).
  random_search     the best of `samples` seeded random masks (default 2000): each sample
                    draws a keep probability p ~ Uniform(0, 1) then keeps each entry with
                    probability p (with max_kept: a uniform number kept in 0..max_kept, then a
                    uniform subset of that size). The warm start is one more candidate.
  ticket            the constructive lottery ticket of Pensia et al. (weight pruning only,
                    single-neuron target): solvers/pruning/constructive_ticket.py.

The vectorised evaluation they share is `residual_model.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.params import is_integer
from exactprune.solvers.clock import Clock
from exactprune.solvers.pruning.residual_model import (
    BOTH_KINDS,
    CHUNK_ENTRIES,
    NEURON,
    ResidualModel,
    State,
    greedy_add,
    greedy_remove,
    magnitude_ranking,
)
from exactprune.solvers.result import Goal, RawSolution, SolveOptions, Status

# ------------------------------------------------------------------------------------------
# What every pruning heuristic shares: options, budgets, starts, results


def int_option(opts: SolveOptions, name: str, default: int | None, low: int) -> int | None:
    """The extra option `name` as an int >= low (InputError otherwise)."""
    raw = opts.extra.get(name, default)
    if raw is None:
        return None
    if not is_integer(raw):
        raise InputError(f"option {name} must be an integer, got {raw!r}")
    if raw < low:
        raise InputError(f"option {name} must be >= {low}, got {raw}")
    return int(raw)


def check_kind(instance: Any, name: str) -> None:
    if getattr(instance, "kind", None) not in BOTH_KINDS:
        raise InputError(f"{name} solves neuron_pruning and weight_pruning instances, "
                         f"not {getattr(instance, 'kind', type(instance).__name__)!r}")


def mask_budget(instance: Any, goal: Goal) -> int:
    """Most entries a mask may keep (mask size without max_kept)."""
    size = int(instance.mask_size)
    return size if goal.max_kept is None else min(int(goal.max_kept), size)


def random_flat(rng: np.random.Generator, size: int, budget: int) -> np.ndarray:
    """A random mask: keep probability p ~ U(0, 1), or (under a budget smaller than the
    mask) a uniform number kept in 0..budget and a uniform subset of that size."""
    if budget >= size:
        return rng.random(size) < rng.random()
    flat = np.zeros(size, dtype=bool)
    k = int(rng.integers(0, budget + 1))
    flat[rng.choice(size, size=k, replace=False)] = True
    return flat


def warm_flat(model: ResidualModel, opts: SolveOptions) -> np.ndarray | None:
    if opts.warm_start is None:
        return None
    ws = np.asarray(opts.warm_start, dtype=bool)
    if ws.shape != model.shape:
        raise InputError(f"warm start must have shape {model.shape}, got {ws.shape}")
    return ws.reshape(-1)


def heuristic_result(model: ResidualModel, st: State, what: str,
                     notes: list[str] | None = None, stats: dict[str, Any] | None = None,
                     stopped: bool = False) -> RawSolution:
    """The heuristic's mask; status time_limit when the time limit cut it short (`stopped`),
    as every kind's heuristics report it."""
    return RawSolution(Status.TIME_LIMIT if stopped else Status.FEASIBLE,
                       mask=model.to_mask(st.flat),
                       solver_objective=None,
                       notes=[f"heuristic: {what}", *(notes or [])], stats=dict(stats or {}))


# ------------------------------------------------------------------------------------------
# Backends


def magnitude_order(instance: Any) -> np.ndarray:
    """Mask entries (flattened, C order) by decreasing magnitude score, ties by index.

    Neuron pruning: |v_i|·||w_i||_2; weight pruning: |v_i·W_ij|.
    """
    return magnitude_ranking(instance.kind, np.asarray(instance.network.hidden_weights),
                             np.asarray(instance.network.output_weights))


def _prefix_errors(model: ResidualModel, order: np.ndarray, upto: int,
                   clock: Clock) -> np.ndarray:
    """Errors of the prefixes of length 0..upto of `order` (fewer if time runs out)."""
    errs = [model.error(model.state(np.zeros(model.M, dtype=bool)))]
    if model.kind == NEURON:
        block = max(1, CHUNK_ENTRIES // model.K)
        h = np.zeros(model.K)
        for s0 in range(0, upto, block):
            if clock.expired():
                break
            cols = model.columns[:, order[s0:min(upto, s0 + block)]]
            H = h[:, None] + np.cumsum(cols, axis=1)
            errs.extend(model.reduce(model.residuals(H)).tolist())
            h = H[:, -1].copy()
        return np.asarray(errs)
    pre = np.zeros((model.K, model.n))
    h = np.zeros(model.K)
    for t in order[:upto]:
        if clock.expired():
            break
        i, j = divmod(int(t), model.d)
        old = model.v[i] * np.maximum(pre[:, i], 0.0)
        pre[:, i] += model.XW[:, i, j]
        h = h + (model.v[i] * np.maximum(pre[:, i], 0.0) - old)
        errs.append(float(model.reduce(model.residuals(h))))
    return np.asarray(errs)


def magnitude_k_refusal(instance: Any, goal: Goal, options: Mapping[str, Any]) -> str | None:
    """Why magnitude's option k cannot be kept on this instance (more than its mask size or
    than max_kept), or None; the backend's `refuse_options`."""
    k = options.get("k")
    if k is None:
        return None
    if k > instance.mask_size:
        return f"option k = {k} exceeds the mask size {instance.mask_size}"
    if k > mask_budget(instance, goal):
        return f"option k = {k} exceeds max_kept = {mask_budget(instance, goal)}"
    return None


def run_magnitude(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Magnitude pruning; extra option `k` keeps exactly the top k (k <= max_kept)."""
    check_kind(instance, "magnitude")
    clock = Clock(opts.time_limit)  # building the model counts against the limit (hunt 71 M2)
    model = ResidualModel(instance)
    budget = mask_budget(instance, goal)
    order = magnitude_order(instance)
    k = int_option(opts, "k", None, 0)
    why = magnitude_k_refusal(instance, goal, opts.extra)
    if why:
        raise InputError(why)
    if k is not None:
        flat = np.zeros(model.M, dtype=bool)
        flat[order[:k]] = True
        return heuristic_result(model, model.state(flat), f"magnitude, top {k} kept")
    errs = _prefix_errors(model, order, budget, clock)
    best = int(np.argmin(errs))  # first (shortest) best prefix
    flat = np.zeros(model.M, dtype=bool)
    flat[order[:best]] = True
    notes = [f"best of {errs.size} magnitude prefixes (lengths 0..{errs.size - 1}): "
             f"keeps the top {best}"]
    stopped = errs.size <= budget
    if stopped:
        notes.append("time limit reached before every prefix was evaluated")
    return heuristic_result(model, model.state(flat), "magnitude pruning", notes,
                   {"prefixes": int(errs.size), "k": best}, stopped)


def _start_state(model: ResidualModel, opts: SolveOptions, default: np.ndarray, budget: int,
                 clock: Clock) -> tuple[State, list[str], dict[str, Any]]:
    """The first state (the warm start, trimmed greedily to `budget` when it keeps more, or
    `default`), its notes and stats (`warm_start`: accepted | trimmed)."""
    ws = warm_flat(model, opts)
    if ws is None:
        return model.state(default), [], {}
    st = model.state(ws)
    notes = ["started from the warm start"]
    if st.kept > budget:
        notes.append("warm start over max_kept: greedily trimmed to the budget")
        st = greedy_remove(model, st, budget, clock, force_only=True, notes=notes)
        return st, notes, {"warm_start": "trimmed"}
    return st, notes, {"warm_start": "accepted"}


def greedy_forward_state(model: ResidualModel, budget: int, clock: Clock,
                         start: State | None = None) -> State:
    """Forward selection from `start` (default: the empty mask)."""
    st = model.state(np.zeros(model.M, dtype=bool)) if start is None else start
    return greedy_add(model, st, budget, clock)


def run_greedy_forward(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Greedy forward selection (start empty or from the warm start)."""
    check_kind(instance, "greedy_forward")
    clock = Clock(opts.time_limit)  # building the model counts against the limit
    model = ResidualModel(instance)
    budget = mask_budget(instance, goal)
    st, notes, stats = _start_state(model, opts, np.zeros(model.M, dtype=bool), budget, clock)
    st = greedy_add(model, st, budget, clock)
    stopped = clock.expired()
    if stopped:
        notes.append("time limit reached: stopped early")
    return heuristic_result(model, st, "greedy forward selection", notes, stats, stopped)


def run_greedy_backward(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Greedy backward elimination from the full mask (or the warm start)."""
    check_kind(instance, "greedy_backward")
    clock = Clock(opts.time_limit)  # building the model counts against the limit
    model = ResidualModel(instance)
    budget = mask_budget(instance, goal)
    ws = warm_flat(model, opts)
    st = model.state(np.ones(model.M, dtype=bool) if ws is None else ws)
    notes = [] if ws is None else ["started from the warm start"]
    stats: dict[str, Any] = {}
    if ws is not None:
        stats["warm_start"] = "accepted" if st.kept <= budget else "trimmed"
        if st.kept > budget:
            notes.append("warm start over max_kept: eliminated down to the budget")
    st = greedy_remove(model, st, budget, clock, notes=notes)
    stopped = clock.expired()
    if stopped:
        # the budget always holds: the loop only stops early once it does
        notes.append("time limit reached: stopped early")
    return heuristic_result(model, st, "greedy backward elimination", notes, stats, stopped)


def run_random_search(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Best of `samples` (default 2000) seeded random masks (and the warm start)."""
    check_kind(instance, "random_search")
    samples = int_option(opts, "samples", 2000, 1)
    clock = Clock(opts.time_limit)  # building the model counts against the limit
    model = ResidualModel(instance)
    budget = mask_budget(instance, goal)
    rng = np.random.default_rng(opts.seed)
    ws = warm_flat(model, opts)
    best_flat = np.zeros(model.M, dtype=bool)
    best_err = model.error(model.state(best_flat))
    stats: dict[str, Any] = {}
    if ws is not None:
        stats["warm_start"] = "accepted" if int(ws.sum()) <= budget else "rejected"
    if ws is not None and int(ws.sum()) <= budget:
        e = model.error(model.state(ws))
        if e < best_err:
            best_flat, best_err = ws.copy(), e
    per_mask = model.K * model.n
    block = max(1, min(samples, CHUNK_ENTRIES // per_mask))
    done = 0
    while done < samples:
        if done and clock.expired():
            break
        b = min(block, samples - done)
        flats = np.stack([random_flat(rng, model.M, budget) for _ in range(b)])
        err = instance.errors(flats.reshape(b, *model.shape))
        k = int(np.argmin(err))
        if err[k] < best_err:
            best_flat, best_err = flats[k].copy(), float(err[k])
        done += b
    notes = [f"best of {done} random masks"]
    if done < samples:
        notes.append("time limit reached: stopped early")
    if stats.get("warm_start") == "rejected":
        notes.append("warm start rejected: it keeps more than max_kept")
    return heuristic_result(model, model.state(best_flat), "random search", notes,
                   {"samples": done, **stats}, done < samples)


__all__ = [
    "int_option",
    "magnitude_order",
    "run_greedy_backward",
    "run_greedy_forward",
    "run_magnitude",
    "run_random_search",
]
