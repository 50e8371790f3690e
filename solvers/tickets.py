"""Lottery tickets by subset sum (Pensia et al. 2020): every weight of a target MLP approximated
by a subset of random coefficients, each subset chosen exactly by the bulk solver.

Two constructions:

- ``pensia`` — their experiment (code: acnagle/optimal-lottery-tickets, subset-sum/main.py):
  N coefficients per target weight, drawn Uniform[low, high] with low = min(0, smallest weight
  of the whole network) and high = max(0, largest weight), from numpy's legacy RandomState(seed)
  in layer order, row by row. ``share="per-row"`` reproduces their code (one draw of N per row,
  shared by all weights of the row, against the code's own comment); ``"per-weight"`` draws N
  per weight (row by row, weights in order). Biases, when present, are approximated like
  weights (their code approximates every parameter). The ticket is the target's architecture
  with each weight replaced by its subset sum; it is evaluated by a forward pass of that net.

- ``theory`` — the random network of their theorem, twice as deep. For each layer of the target
  (out × in) and each input coordinate j, N random hidden units relu(a_ji·x_j) (a ~
  Uniform[-1, 1]), followed by a layer of random weights b (out × in·N, b ~ Uniform[-1, 1]).
  Since w·x_j = w·relu(x_j) − w·relu(−x_j) and relu(a·x_j) is a·relu(x_j) for a > 0 and
  |a|·relu(−x_j) for a < 0, each target weight w_kj is matched twice: by a subset of the units
  with a_ji > 0 (values b_ki·a_ji, target w_kj) and of those with a_ji < 0 (values b_ki·|a_ji|,
  target −w_kj). The ticket is the mask over b (the a-layer is kept; units with no kept b are
  dead and removed by `to_graph`), evaluated *as that network*. Biases are not part of the
  theorem's construction: a target with biases is refused.

Objectives (per weight, exact): ``closest`` — the subset sum nearest to the weight (a weight
whose best error exceeds eps is reported as infeasible, never dropped); ``sparsest`` — the fewest
coefficients within eps (when none is, the weight is reported infeasible and gets its closest
subset). Pensia et al. asked Gurobi for the nearest within
eps with a 1 % MIP gap; ``closest`` is that problem solved exactly.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.mlp import MLP
from exactprune.instances.params import as_flag, as_number, is_integer
from exactprune.instances.scaling import rounded_sum
from exactprune.solvers.clock import Clock

CONSTRUCTIONS = ("pensia", "theory")
SHARES = ("per-weight", "per-row")
OBJECTIVES = ("closest", "sparsest")
MAX_N = 40
"""Most coefficients per weight (pensia) or units per input (theory: about half on each side,
but a side may hold all of them): the exact bulk solver's limit. Theory allowed 64, and failed
whenever more than 40 units of one input drew the same sign."""


def pensia_coefficients(eps: float, c: float = 3.0) -> int:
    """N = int(c·round(log2(1/eps))), their rule (c = 3, eps = 0.01 gives 21), for eps in
    (0, 1) and c > 0 (eps = 2 gave -3 and 0 a ZeroDivisionError; hunt 31)."""
    eps, c = as_number(eps, "eps"), as_number(c, "c")
    if not 0 < eps < 1:
        raise InputError(f"eps must be in (0, 1), got {eps!r}")
    if not (math.isfinite(c) and c > 0):
        raise InputError(f"c must be a positive number, got {c!r}")
    return int(c * np.round(np.log2(1.0 / eps)))


@dataclass
class LayerTicket:
    """One target layer's approximation.

    approx: the approximated weights (out, in) (pensia: the subset sums; theory: the effective
    weight of each input's two halves, the one acting on each sign of x_j); errors: |approx − w|
    per weight, exact to one rounding (theory: the larger of the two halves' errors); kept:
    coefficients kept per weight; infeasible: bool (out, in), error above eps; greedy: bool
    (out, in), the weight's subset (theory: one of its halves) is a greedy one, the time limit
    having run out before the exact solver answered it (None: every subset is exact); bias_*:
    the same for the bias (pensia only), or None; kept_abs and wide: theory only (below).
    """

    name: str
    approx: np.ndarray
    errors: np.ndarray
    kept: np.ndarray
    infeasible: np.ndarray
    coefficients: int
    greedy: np.ndarray | None = None
    bias_approx: np.ndarray | None = None
    bias_errors: np.ndarray | None = None
    bias_kept: np.ndarray | None = None
    bias_infeasible: np.ndarray | None = None
    bias_greedy: np.ndarray | None = None
    theory: dict[str, np.ndarray] = field(default_factory=dict)
    kept_abs: np.ndarray | None = None
    """theory: Σ |fl(b·|a|)| over each weight's kept units, the larger of its two halves
    (out, in); what the float pass of the random network rounds, and 2^-53 of it bounds how far
    the network's exact products lie from the rounded ones the subsets were chosen over."""
    wide: int = 0
    """theory: the terms of one output of the random network's second layer (in·N)."""

    def summary(self) -> dict[str, Any]:
        errs = [self.errors.ravel()]
        kept = int(self.kept.sum())
        infeasible = int(self.infeasible.sum())
        not_exact = 0 if self.greedy is None else int(self.greedy.sum())
        weights = self.errors.size
        if self.bias_errors is not None:
            errs.append(self.bias_errors)
            kept += int(self.bias_kept.sum())
            infeasible += int(self.bias_infeasible.sum())
            not_exact += 0 if self.bias_greedy is None else int(self.bias_greedy.sum())
            weights += self.bias_errors.size
        e = np.concatenate(errs)
        return {"name": self.name, "target_weights": weights,
                "total_coefficients": self.coefficients, "kept": kept,
                "max_weight_error": float(e.max()), "mean_weight_error": _mean(e),
                "infeasible": infeasible, "not_exact": not_exact}


def _mean(e: np.ndarray, weights: np.ndarray | None = None) -> float:
    """The (weighted) mean of finite errors; when the plain sum overflows float64 (errors near
    1e308), the sum of e_i·(w_i / Σw), which does not."""
    w = np.ones(e.size) if weights is None else np.asarray(weights, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        mean = float(np.sum(e * w) / np.sum(w))
    if not math.isfinite(mean) and np.isfinite(e).all():
        mean = float(np.sum(e * (w / np.sum(w))))
    return mean


@dataclass
class Ticket:
    """A lottery ticket of a target MLP (see the module docstring)."""

    construction: str
    objective: str
    share: str
    eps: float
    n: int
    seed: int
    target: MLP
    layers: list[LayerTicket]
    network: MLP
    wall_time_s: float
    stats: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Totals over the layers plus each layer's (see `LayerTicket.summary`)."""
        per = [layer.summary() for layer in self.layers]
        weights = sum(p["target_weights"] for p in per)
        mean = _mean(np.array([p["mean_weight_error"] for p in per]),
                     np.array([p["target_weights"] for p in per]))
        return {"construction": self.construction, "objective": self.objective,
                "share": self.share if self.construction == "pensia" else None,
                "eps": self.eps, "coefficients_per_weight": self.n, "seed": self.seed,
                "target_weights": weights,
                "total_coefficients": sum(p["total_coefficients"] for p in per),
                "kept": sum(p["kept"] for p in per),
                "max_weight_error": max(p["max_weight_error"] for p in per),
                "mean_weight_error": mean,
                "infeasible": sum(p["infeasible"] for p in per),
                "not_exact": sum(p["not_exact"] for p in per),
                "wall_time_s": self.wall_time_s, "layers": per, **self.stats}


@dataclass
class _Budget:
    """What every bulk solve of one ticket shares: the clock of its time limit, whether to
    show progress bars, and the memory budget."""

    limit: float | None
    clock: Clock
    progress: bool
    memory_limit_gb: float


def _solve_or_greedy(values: np.ndarray, targets: np.ndarray, groups: np.ndarray | None,
                     objective: str, eps: float | None, budget: _Budget
                     ) -> tuple[Any, np.ndarray]:
    """solve_many with the time left, and which instances got a greedy subset instead (the
    limit ran out before the exact solver answered them; status "greedy", their errors exact
    to one rounding, as every answer's)."""
    from exactprune.solvers.subset_sum.bulk import BulkResult, solve_many
    from exactprune.solvers.subset_sum.heuristics import greedy_masks

    left = budget.clock.remaining()
    b = targets.shape[0]
    if left is not None and left <= 0:  # nothing to hand the exact solver
        res = BulkResult(np.zeros((b, values.shape[-1]), dtype=bool), np.full(b, np.nan),
                         np.zeros(b, dtype=np.int64), np.full(b, "time_limit", dtype=object),
                         {})
    else:
        res = solve_many(values, targets, groups=groups, objective=objective, eps=eps,
                         memory_limit_gb=budget.memory_limit_gb, progress=budget.progress,
                         time_limit=left)
    late = np.asarray(res.status) == "time_limit"
    if late.any():
        rows = _rows(values, groups, b)[late]
        masks = greedy_masks(rows, targets[late])
        res.masks[late] = masks
        res.errors[late] = _exact_errors(rows, masks, targets[late])
        res.kept[late] = masks.sum(axis=1)
        status = np.asarray(res.status).astype(object)
        status[late] = "greedy"
        res = dataclasses.replace(res, status=status)
    return res, late


def _rows(values: np.ndarray, groups: np.ndarray | None, b: int) -> np.ndarray:
    """Each of the b instances' row of values: (b, N)."""
    if groups is not None:
        return values[groups]
    return values if values.ndim == 2 else np.broadcast_to(values, (b, values.size))


def _bulk(values: np.ndarray, targets: np.ndarray, groups: np.ndarray | None, objective: str,
          eps: float, budget: _Budget) -> tuple[Any, np.ndarray]:
    """solve_many on the weights, and which ones got a greedy subset because the time limit
    ran out (`_solve_or_greedy`). Under `sparsest` a weight with no subset within eps gets its
    closest subset instead (status "closest"; its error, above eps, marks it infeasible in the
    ticket): the best the coefficients can do, rather than dropping the weight to 0."""
    res, late = _solve_or_greedy(values, targets, groups, objective,
                                 eps if objective == "sparsest" else None, budget)
    bad = np.flatnonzero(np.asarray(res.status) == "infeasible")
    if objective == "sparsest" and bad.size:
        sub_groups = None if groups is None else groups[bad]
        sub_values = values[bad] if groups is None else values
        near, near_late = _solve_or_greedy(sub_values, targets[bad], sub_groups, "closest",
                                           None, budget)
        res.masks[bad] = near.masks
        res.errors[bad] = near.errors
        res.kept[bad] = near.kept
        late[bad] = near_late
        status = np.asarray(res.status).astype(object)
        status[bad] = "closest"
        res = dataclasses.replace(res, status=status)
    return res, late


def _exact_errors(rows: np.ndarray, masks: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """|Σ rows[i][masks[i]] − targets[i]| per row, correctly rounded (the exact value rounded
    once; the subset sum rounded first and then the difference could be ulps off; hunt 19)."""
    return np.array([abs(rounded_sum([*r[m].tolist(), -float(t)]))
                     for r, m, t in zip(rows, masks, targets, strict=True)], dtype=float)


def _beyond_eps(errors: np.ndarray, eps: float, rows: np.ndarray, masks: np.ndarray,
                targets: np.ndarray) -> np.ndarray:
    """Whether each exact error exceeds eps, from `errors`, the correctly rounded exact errors:
    rounding to nearest is monotone, so only an error that rounds to eps itself is ambiguous,
    and it is decided in rationals (a weight whose exact error was above eps but rounded to
    it was counted feasible; hunt 19)."""
    from exactprune.solvers.subset_sum.bulk_exact import exact_error

    out = np.asarray(errors > eps)
    for i in np.flatnonzero(errors == eps):
        out[i] = exact_error(rows[i], targets[i], masks[i]) > Fraction(eps)
    return out


def _approx(values: np.ndarray, groups: np.ndarray | None, masks: np.ndarray) -> np.ndarray:
    """The subset sums of the chosen masks, exactly rounded (math.fsum per weight)."""
    rows = values if groups is None else values[groups]
    return np.array([rounded_sum(r[m].tolist()) for r, m in zip(rows, masks, strict=True)])


def _pensia_layer(name: str, w: np.ndarray, draw: Any, n: int, share: str, objective: str,
                  eps: float, budget: _Budget) -> tuple[np.ndarray, ...]:
    """(approx, errors, kept, infeasible, greedy) for one weight matrix (or bias vector,
    1-D); greedy: the weights whose subset is a greedy one (the time limit)."""
    flat = w.reshape(-1)
    rows = w.shape[0]
    per_row = w.shape[1] if w.ndim == 2 else 1  # a bias entry is its own row
    if share == "per-row":
        values = np.stack([draw(n) for _ in range(rows)])
        groups = np.repeat(np.arange(rows), per_row)
    else:
        values = np.stack([draw(n) for _ in range(flat.size)])
        groups = None
    res, late = _bulk(values, flat, groups, objective, eps, budget)
    feasible = np.asarray(res.status) != "infeasible"
    masks = np.where(feasible[:, None], res.masks, False)
    approx = _approx(values, groups, masks)
    with np.errstate(over="ignore"):  # beyond float64: an honest inf error
        errors = np.abs(approx - flat)  # exact to one rounding: approx is correctly rounded
    errors = np.where(feasible, np.asarray(res.errors, dtype=float), errors)
    rows_of = values if groups is None else values[groups]
    # "closest": sparsest found no subset within eps (the exact solver's verdict)
    infeasible = (np.asarray(res.status) == "closest") | _beyond_eps(errors, eps, rows_of,
                                                                      masks, flat)
    return (approx.reshape(w.shape), errors.reshape(w.shape),
            np.asarray(res.kept).reshape(w.shape) * feasible.reshape(w.shape),
            infeasible.reshape(w.shape), late.reshape(w.shape))


def pensia_ticket(target: MLP, n: int, eps: float, *, objective: str = "closest",
                  share: str = "per-row", seed: int = 1, memory_limit_gb: float = 2.0,
                  draw_width: int | None = None, time_limit: float | None = None,
                  progress: bool = False) -> Ticket:
    """Their experiment on `target` (module docstring): N = `n` coefficients per weight.

    time_limit (seconds, None = none) bounds the exact solves: weights the exact solver has
    not answered when it runs out get the greedy subset (counted in `not_exact`); progress
    shows the bulk solver's bars.

    draw_width: draw this many coefficients per row (or weight) and use the first `n`, so that
    tickets of every n <= draw_width share their coefficients (nested: more coefficients can
    only lower a weight's best error); default `n`, their exact random stream."""
    _check(objective, share, n, eps, target)
    eps = float(eps)  # a numpy scalar is taken as its value
    if not is_integer(seed) or not (
            0 <= seed < 2**32):
        raise InputError("the pensia construction draws from numpy's legacy RandomState, "
                         f"whose seed is an integer from 0 to 2^32 - 1, got {seed!r}")
    n, seed = int(n), int(seed)  # numpy ints: the report's JSON could not hold them (hunt 158)
    if draw_width is not None and not is_integer(draw_width):
        raise InputError(f"draw_width must be an integer, got {draw_width!r}")
    width = n if draw_width is None else int(draw_width)
    if not n <= width <= MAX_N:
        raise InputError(f"draw_width must be from the {n} coefficients used to {MAX_N}, got "
                         f"{width}")
    budget = _budget(time_limit, progress, memory_limit_gb)
    t0 = time.perf_counter()
    params = [*target.weights, *[b for b in target.biases if b is not None]]
    low = min(0.0, min(float(p.min()) for p in params))
    high = max(0.0, max(float(p.max()) for p in params))
    if not high > low:
        raise InputError("the target's weights are all zero: there is nothing to approximate")
    rng = np.random.RandomState(seed)
    # their stream: U[low, high); when high − low overflows float64, U[low/2, high/2) doubled
    # (exact), the same distribution
    halve = not math.isfinite(high - low)

    def draw(k: int) -> np.ndarray:
        if halve:
            return 2.0 * rng.uniform(low=low / 2, high=high / 2, size=width)[:k]
        return rng.uniform(low=low, high=high, size=width)[:k]

    layers: list[LayerTicket] = []
    for name, w, b in zip(target.names, target.weights, target.biases, strict=True):
        approx, errors, kept, infeasible, late = _pensia_layer(name, w, draw, n, share,
                                                               objective, eps, budget)
        layer = LayerTicket(name, approx, errors, kept, infeasible, coefficients=w.size * n,
                            greedy=late)
        if b is not None:
            (layer.bias_approx, layer.bias_errors, layer.bias_kept,
             layer.bias_infeasible, layer.bias_greedy) = _pensia_layer(
                name, b, draw, n, share, objective, eps, budget)
            layer.coefficients += b.size * n
        layers.append(layer)
    for la in layers:  # a subset sum beyond float64 cannot be a network weight
        for what, approx in (("weight", la.approx), ("bias", la.bias_approx)):
            if approx is not None and not np.all(np.isfinite(approx)):
                raise InputError(f"{la.name}: the chosen subset sum of some {what} is beyond "
                                 "the float64 range (weights within a factor 2 of 1.8e308); "
                                 "scale the network down")
    network = MLP(weights=tuple(la.approx for la in layers),
                  biases=tuple(la.bias_approx for la in layers), names=target.names)
    return Ticket("pensia", objective, share, eps, n, seed, target, layers, network,
                  time.perf_counter() - t0, {"coefficient_range": [low, high],
                                             "time_limit_s": budget.limit})


def theory_ticket(target: MLP, n: int, eps: float, *, objective: str = "closest",
                  seed: int = 1, memory_limit_gb: float = 2.0, time_limit: float | None = None,
                  progress: bool = False) -> Ticket:
    """The construction of their theorem on `target` (module docstring): `n` random hidden units
    per input coordinate of each layer. time_limit and progress as for `pensia_ticket`."""
    _check(objective, "per-weight", n, eps, target)
    eps = float(eps)  # a numpy scalar is taken as its value
    if not is_integer(seed) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    n, seed = int(n), int(seed)  # numpy ints: the report's JSON could not hold them (hunt 158)
    if target.has_bias:
        raise InputError("the theory construction is for bias-free targets (its random "
                         "network has no biases)")
    budget = _budget(time_limit, progress, memory_limit_gb)
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    layers: list[LayerTicket] = []
    weights: list[np.ndarray] = []
    names: list[str] = []
    for name, w in zip(target.names, target.weights, strict=True):
        out, inp = w.shape
        a = rng.uniform(-1.0, 1.0, size=(inp, n))  # unit (j, i) computes relu(a_ji x_j)
        b = rng.uniform(-1.0, 1.0, size=(out, inp * n))  # b[k, j*n + i]
        layer, mask_b = _theory_layer(name, w, a, b, n, objective, eps, budget)
        layers.append(layer)
        first = np.zeros((inp * n, inp))
        first[np.arange(inp * n), np.repeat(np.arange(inp), n)] = a.reshape(-1)
        weights += [first, np.where(mask_b, b, 0.0)]
        # names whose natural order is the layer order (".ticket" sorted before ".units", and
        # a .safetensors ticket of a target of equal widths could not be written; hunt 19)
        names += [f"{name}.units", f"{name}.units_out"]
    network = MLP(weights=tuple(weights), biases=(None,) * len(weights), names=tuple(names))
    return Ticket("theory", objective, "per-weight", eps, n, seed, target, layers, network,
                  time.perf_counter() - t0,
                  {"random_network_weights": int(sum(x.size for x in weights)),
                   "time_limit_s": budget.limit})


def _theory_layer(name: str, w: np.ndarray, a: np.ndarray, b: np.ndarray, n: int,
                  objective: str, eps: float, budget: _Budget
                  ) -> tuple[LayerTicket, np.ndarray]:
    """The two subset sums of every weight of one layer, and the kept mask over b."""
    out, inp = w.shape
    mask = np.zeros((out, inp * n), dtype=bool)
    halves: dict[str, np.ndarray] = {}
    err = np.zeros((out, inp))
    kept = np.zeros((out, inp), dtype=np.int64)
    infeasible = np.zeros((out, inp), dtype=bool)
    greedy = np.zeros((out, inp), dtype=bool)
    kept_abs = np.zeros((out, inp))
    bk = b.reshape(out, inp, n)
    for sign, label in ((1.0, "positive"), (-1.0, "negative")):
        side = (a * sign) > 0  # (inp, n): the units of input j acting on this sign of x_j
        counts = side.sum(axis=1)
        sums = np.zeros((out, inp))
        errors = np.abs(sign * w)  # inputs without units on this side: the empty sum
        beyond = errors > eps
        feasible = np.ones((out, inp), dtype=bool)
        side_abs = np.zeros((out, inp))
        # inputs with the same number of units on this side are solved together, unpadded
        # (zero padding would tie every mask with its padded variants)
        for width in np.unique(counts):
            js = np.flatnonzero(counts == width)
            if width == 0:
                continue
            cols = np.stack([np.flatnonzero(side[j]) for j in js])  # (len(js), width)
            values = bk[:, js[:, None], cols] * np.abs(a[js[:, None], cols])[None]
            res, late = _bulk(values.reshape(-1, width), (sign * w[:, js]).reshape(-1), None,
                              objective, eps, budget)
            greedy[:, js] |= late.reshape(out, js.size)
            status = np.asarray(res.status)
            ok = (status != "infeasible").reshape(out, js.size)
            m = np.asarray(res.masks).reshape(out, js.size, width) & ok[..., None]
            rows, flat_m = values.reshape(-1, width), m.reshape(-1, width)
            targets = (sign * w[:, js]).reshape(-1)
            sums[:, js] = _approx(rows, None, flat_m).reshape(out, js.size)
            block = _exact_errors(rows, flat_m, targets)
            errors[:, js] = block.reshape(out, js.size)
            beyond[:, js] = ((status == "closest")
                             | _beyond_eps(block, eps, rows, flat_m, targets)).reshape(out, js.size)
            feasible[:, js] = ok
            side_abs[:, js] = np.where(m, np.abs(values), 0.0).sum(axis=2)
            kept[:, js] += m.sum(axis=2)
            kk, jj, tt = np.nonzero(m)
            mask[kk, js[jj] * n + cols[jj, tt]] = True
        infeasible |= ~feasible | beyond
        err = np.maximum(err, errors)
        kept_abs = np.maximum(kept_abs, side_abs)
        halves[label] = sign * sums
    layer = LayerTicket(name, halves["positive"], err, kept, infeasible,
                        coefficients=int(b.size), greedy=greedy, theory=halves,
                        kept_abs=kept_abs, wide=inp * n)
    return layer, mask


def _budget(time_limit: Any, progress: Any, memory_limit_gb: float) -> _Budget:
    """The ticket's shared budget; its clock starts now (before the coefficients are drawn)."""
    from exactprune.solvers.subset_sum.bulk import check_time_limit

    limit = check_time_limit(time_limit)
    return _Budget(limit, Clock(limit), as_flag(progress, "progress"), memory_limit_gb)


def _check(objective: str, share: str, n: int, eps: float, target: Any) -> None:
    if not isinstance(target, MLP):
        raise InputError(f"the target must be an MLP (load_mlp), got {type(target).__name__}")
    if not isinstance(objective, str) or objective not in OBJECTIVES:
        raise InputError(f"unknown objective {objective!r} (closest or sparsest)")
    if not isinstance(share, str) or share not in SHARES:
        raise InputError(f"unknown sharing {share!r} (per-weight or per-row)")
    if not is_integer(n) or not 1 <= n <= MAX_N:
        raise InputError(f"coefficients must be an integer from 1 to {MAX_N} (the exact bulk "
                         f"solver's limit), got {n!r}")
    eps = as_number(eps, "eps")
    if not (math.isfinite(eps) and eps > 0):
        raise InputError(f"eps must be a positive number, got {eps!r}")


def make_ticket(target: MLP, n: int, eps: float, *, construction: str = "pensia",
                objective: str = "closest", share: str | None = None, seed: int = 1,
                memory_limit_gb: float = 2.0, time_limit: float | None = None,
                progress: bool = False) -> Ticket:
    """The ticket of `target` by `construction` (pensia or theory); time_limit (seconds) and
    progress as for `pensia_ticket`. `share` (pensia only, default per-row) is refused for
    theory, whose units per input coordinate are drawn once: it was silently ignored."""
    if not isinstance(construction, str):
        raise InputError(f"construction must be pensia or theory, got {construction!r}")
    if construction == "pensia":
        share = "per-row" if share is None else share
        return pensia_ticket(target, n, eps, objective=objective, share=share, seed=seed,
                             memory_limit_gb=memory_limit_gb, time_limit=time_limit,
                             progress=progress)
    if construction == "theory":
        if share is not None:
            raise InputError(f"share={share!r} applies only to the pensia construction (theory "
                             "draws its units once per input coordinate)")
        return theory_ticket(target, n, eps, objective=objective, seed=seed,
                             memory_limit_gb=memory_limit_gb, time_limit=time_limit,
                             progress=progress)
    raise InputError(f"unknown construction {construction!r} (pensia or theory)")


def output_deviation_bound(ticket: Ticket, X: np.ndarray) -> np.ndarray:
    """A bound on |ticket(x) − target(x)| per input row of X (max over outputs) as both
    networks compute it in float64: the weight errors (layer by layer, |Δz| <= |W| |Δh| +
    E (|h| + |Δh|) + bias errors, E the per-weight error matrix; theory: the larger of each
    weight's two halves; relu is 1-Lipschitz) plus the rounding of both forward passes (a
    layer of m inputs errs by <= γ_{m+1}·(|W| |h| + |b|) + (m + 1)·2^-1075, Higham with
    underflow). Without the rounding terms the bound failed where the weight errors are an ulp
    (hunt 9: 5.7e-14 against 2.6e-14), without the underflow term on subnormals (hunt 100).

    `a` bounds the float ticket's distance from the exact target, `c` the float target's;
    `H` = |h| + 2c bounds every pre-rounding magnitude the passes see (h is this function's
    own float target pass).

    Theory tickets are a wider network: per input x_j, relu(a·x_j) (one rounding), times the
    kept b (one more), summed over in·N terms; the pass errs by <= γ_{in·N+2}·Σ|b·a||x| with
    Σ|b·a| the kept units' (`kept_abs`), not the target's |W|, which cancellation can make far
    smaller; and the subsets were chosen over the rounded products fl(b·|a|), whose exact values
    the network realises, so each weight's error gains 2^-53 of that sum (hunt 134 L1)."""
    from exactprune.instances.network import float_array, gamma

    h = float_array(X, "X", 2)  # a NaN gave a bound of NaN, a bad shape numpy's errors
    if h.shape[1] != ticket.target.widths[0]:
        raise InputError(f"X must have shape (K, {ticket.target.widths[0]}), got {h.shape}")
    a = np.zeros_like(h)
    c = np.zeros_like(h)
    depth = len(ticket.layers)
    for l_idx, (layer, w, b) in enumerate(zip(ticket.layers, ticket.target.weights,
                                               ticket.target.biases, strict=True)):
        E = layer.errors
        aw = np.abs(w)
        g = gamma(w.shape[1] + 1)
        # the ticket's own pass: the target's shape (pensia), or the wider random network
        # (theory), its |terms| the kept Σ|b·a| up to their own rounding (a sum of N terms)
        ticket_abs, g_ticket, terms = aw + E, g, w.shape[1]
        if layer.kept_abs is not None:
            ticket_abs = layer.kept_abs * (1 + gamma(layer.wide + 2))
            # a subnormal product errs by up to 2^-1075 absolute, not 2^-53 relative (hunt
            # 136 L1: draws out of numpy's uniform grid, a ~1e-310): 2^-1074 per kept unit
            E = E + 2.0**-53 * ticket_abs + layer.kept * 2.0**-1074
            g_ticket, terms = gamma(layer.wide + 2), 2 * layer.wide
        babs = 0.0 if b is None else np.abs(b)
        berr = 0.0 if layer.bias_errors is None else layer.bias_errors
        H = np.abs(h) + 2 * c
        z = h @ w.T + (0.0 if b is None else b)
        # underflow: each of the m products (and the bias add) may err by 2^-1075 absolute
        # however small, which no relative term covers, nor this bound's own arithmetic,
        # which also rounds to subnormals (5e-324 against a bound of 0, hunt 100 L1): twice
        # that per layer, carried forward like every other term
        eta = (2 * w.shape[1] + 4) * 2.0**-1074
        c_next = c @ aw.T + g * (H @ aw.T + babs) + eta
        eta_ticket = (2 * terms + 4) * 2.0**-1074
        a_next = (a @ aw.T + (H + a) @ E.T + berr
                  + g_ticket * ((H + a) @ ticket_abs.T + babs + berr) + eta_ticket)
        h = np.maximum(z, 0.0) if l_idx < depth - 1 else z
        a, c = a_next, c_next
    return (a + c).max(axis=1) * (1 + 1e-9)


def load_target(spec: str, data: str | None = None) -> tuple[MLP, Any]:
    """(target MLP, held-out (X, y) or None) for a TARGET (a file, or mnist-mlp) and --data
    (None, or "mnist": the 1,000 held-out images of the built-in split)."""
    from exactprune.instances.mlp import load_mlp

    if data not in (None, "mnist"):  # any other value was taken as mnist (hunt 31)
        raise InputError(f"unknown held-out data {data!r} (None or 'mnist')")
    if spec == "mnist-mlp":
        from exactprune.instances.mnist import mnist_mlp

        target, _, test = mnist_mlp()
        return target, test
    target = load_mlp(spec)
    if data is None:
        return target, None
    from exactprune.instances.mnist import load_mnist_5k, split_mnist

    _, (X, y) = split_mnist(*load_mnist_5k())
    if target.widths[0] != X.shape[1] or target.widths[-1] != 10:
        raise InputError(f"--data mnist needs a 784-input, 10-output network, got "
                         f"{target.widths[0]} inputs and {target.widths[-1]} outputs")
    _finite_outputs(target, X, "the target's")
    return target, (X, y)


def _finite_outputs(net: Any, X: np.ndarray, whose: str) -> np.ndarray:
    """net.forward(X), or InputError when it overflows float64: accuracies and deviations of
    inf/NaN outputs mean nothing (weights near 1e307 printed 'deviation nan' and exit 0 with
    numpy's overflow warnings; hunt 26)."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = net.forward(X)
    if not np.all(np.isfinite(out)):
        raise InputError(f"{whose} outputs on the held-out images overflow float64 (weights "
                         f"too large for a forward pass): leave out --data")
    return out


def ticket_masks(ticket: Ticket) -> tuple[np.ndarray, ...]:
    """The kept weights of the ticket's network (pensia: weights whose subset is not empty;
    theory: every unit weight, and the kept b)."""
    if ticket.construction == "pensia":
        return tuple(la.kept > 0 for la in ticket.layers)
    return tuple(w != 0.0 for w in ticket.network.weights)


def report(ticket: Ticket, data: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, Any]:
    """The ticket's summary; with held-out data (X, y): the target's and the ticket's accuracy
    (the ticket evaluated as its own network, by a forward pass), the largest deviation of the
    ticket's outputs from the target's, and the bound on it derived from the weight errors;
    the size of the ticket as a graph with dead units removed (`to_graph`'s nodes and edges:
    every input and output unit, the hidden units that survive)."""
    from exactprune.instances.mlp import canonical_masks

    out = ticket.summary()
    keep = canonical_masks(ticket.network, ticket_masks(ticket))
    # the counts of `instances.mlp.to_graph(ticket.network, ticket_masks(ticket))` without
    # building millions of networkx edges: units with a kept weight, plus inputs and outputs
    hidden = sum(int(k.any(axis=0).sum()) for k in keep[1:])
    out["graph"] = {"nodes": ticket.network.widths[0] + hidden + ticket.network.widths[-1],
                    "edges": int(sum(int(k.sum()) for k in keep))}
    if data is not None:
        if not isinstance(data, tuple | list) or len(data) != 2:  # unpacked below (hunt 158)
            raise InputError("data must be a pair (X, y) of held-out inputs and labels, got "
                             f"{type(data).__name__}")
        X, y = data
        target_out = _finite_outputs(ticket.target, X, "the target's")
        ticket_out = _finite_outputs(ticket.network, X, "the ticket's")
        labels = ticket.target.check_labels(y, target_out.shape[0])
        out["target_accuracy"] = float(np.mean(target_out.argmax(axis=1) == labels))
        out["ticket_accuracy"] = float(np.mean(ticket_out.argmax(axis=1) == labels))
        out["max_output_deviation"] = float(np.max(np.abs(ticket_out - target_out)))
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is an inf bound
            bound = float(output_deviation_bound(ticket, X).max())
        out["output_deviation_bound"] = math.inf if math.isnan(bound) else bound
        out["evaluated_on"] = int(X.shape[0])
    return out
