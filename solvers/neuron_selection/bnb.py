"""Exact branch and bound for neuron selection (rules average and keep, no repeats; every loss).

The loss L(y) = loss(A y − f) is convex in y (squared, mean |.|, max |.| of an affine map).
Search: depth-first over the units in order of decreasing magnitude, each unit kept or cut,
include first. At a node with kept set I (|I| = s) and free units F, the rest of the mask lies in
the relaxation D = {y_F ∈ [0, 1]^F, Σ y_F = r}, r = k − s. For any y⁰ ∈ D and subgradient g of
L at y⁰ (squared: (2/mC)·Aᵀ R; l1: (1/mC)·Aᵀ sign R; linf: ±A_p at a worst entry p), convexity
gives  min_D L >= L(y⁰) + min_{z∈D} g·(z − y⁰)  = L(y⁰) + (sum of the r smallest g_F) − g·y⁰:
a valid lower bound (the Frank–Wolfe gap). A few Frank–Wolfe steps from the centre of D
(exact line search for squared, step 2/(t+2) otherwise) improve y⁰; the best bound is kept.
Floating point: a bound is used only after subtracting δ = 2·(evaluation tolerance) +
4·γ_{mC+N+4}·Σ|g| (the rounding of L(y⁰) and of the gap) + Σ_F |Δg_i| (the rounding of g itself:
l1 2·γ_{mC+2}·(|A|ᵀ1)_i/mC; squared from the rounding of R and of Aᵀ R, bounded by
constants and ‖A_i‖₂‖R‖₂; linf none, g is a row of A), so no subtree holding a better mask is
pruned (without the last term bnb certified 1.1e-14 where 0 exists: under cancellation the
error of Aᵀ w is far above γ·Σ|g|; hunt 126); leaves are evaluated in float64 (within the
evaluation tolerance plus (mC+2)·u·L).
Certified with tolerance 3·(evaluation tolerance) + 2·(mC+2)·u·L. At the time limit the best
mask is returned with the proven bound min(incumbent, bounds of the open nodes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.network import UNIT_ROUNDOFF, gamma
from exactprune.instances.neuron_selection.instance import batch_losses
from exactprune.solvers.clock import Clock
from exactprune.solvers.result import Goal, Limit, RawSolution, SolveOptions, Status

FW_STEPS = 8


def refuse(instance: Any, goal: Goal) -> str | None:
    """bnb handles the linear rules (average, keep) without repeats; the refusal names the
    backends that take the instance (bruteforce within its size, the MILP engines for l1 and
    linf with repeats), not one that refuses it too (hunts 86, 92)."""
    if instance.linear_rule and not instance.repeats:
        return None
    from exactprune.solvers.neuron_selection import bruteforce
    from exactprune.solvers.neuron_selection.exact import model_refusal
    from exactprune.solvers.unit_scales import MIN_UNIT_SCALE_RATIO, unit_scale_ratio

    others = [] if bruteforce.refuse(instance, goal) else ["bruteforce"]
    if (instance.linear_rule and instance.loss in ("l1", "linf")
            and not model_refusal(instance)):  # not data they refuse too (hunt 115 L4)
        # repeats: the MILP models l1 and linf with counts; units of too many scales only
        # cpsat takes (the MILP engines refuse them, and named bnb back; hunt 133 L1)
        # (the ratio, not the refusal: its message asks this function who takes the instance)
        spread = unit_scale_ratio(instance) < MIN_UNIT_SCALE_RATIO
        others.append("cpsat" if spread else "a MILP engine")
    use = " or ".join(others) if others else "a heuristic: bruteforce's enumeration is too large"
    if not instance.linear_rule:
        return f"branch and bound needs rule average or keep (refit: use {use})"
    return f"branch and bound does not handle repeats (use {use})"


class _Bounder:
    """Loss, subgradient and relaxation bound of L(y) = loss(A y − f)."""

    def __init__(self, instance: Any, steps: int) -> None:
        self.A, self.f, self.loss = instance.columns(), instance.offset(), instance.loss
        self.P = self.A.shape[0]
        self.steps = steps
        self.eval_tol = instance.evaluation_tolerance()
        self.gam = gamma(self.P + instance.n + 4)
        self.abs_A = np.abs(self.A)
        self.gam_dot = gamma(self.P + 2)  # a dot product of P terms, then one scaling
        self.gam_res = gamma(instance.n + 2)  # a residual A y − f of N terms
        # l1: the computed g = Aᵀ sign(R) / P errs by at most γ_dot·(|A|ᵀ 1)_i / P per unit,
        # whatever the signs; doubled for the rounding of this bound itself
        self.l1_grad_err = 2.0 * self.gam_dot * self.abs_A.sum(axis=0) / self.P
        # squared: constants, so a Frank–Wolfe step costs no extra product with A (two per
        # step made bnb 1.2–1.9× slower per node; hunt 129 M1): R's rounding is at most
        # ρ = γ_res(|A|1 + |f|) for any y in [0, 1]^N, and (|A|ᵀ|R|)_i <= ‖A_i‖₂‖R‖₂
        rho = self.gam_res * (self.abs_A.sum(axis=1) + np.abs(self.f))
        inflate = 1.0 + 4.0 * gamma(self.P + instance.n + 4)  # these sums' own rounding
        self.sq_rho_err = (4.0 / self.P) * (1.0 + self.gam_dot) * (self.abs_A.T @ rho) * inflate
        self.col_norms = np.sqrt((self.A * self.A).sum(axis=0)) * inflate

    def value_grad(self, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray | None]:
        """L(y), the computed subgradient g, and a bound on |g − exact subgradient| per unit
        (None: g is exact, a row of A). A Frank–Wolfe bound taken with a g that errs by Δg
        moves by at most Σ_F |Δg_i| (|z_i − y_i| <= 1 over D): under cancellation the
        rounding of Aᵀw is far above γ·Σ|g|, and bnb certified 1.1e-14 where 0 exists (l1,
        m = 10,000 samples whose low-order bits the sums lost; hunt 126 H1)."""
        R = self.A @ y - self.f
        if self.loss == "squared":
            # the exact gradient (2/P)·Aᵀ R_exact: R errs by ρ, and the product by
            # γ_dot·|A|ᵀ(|R| + ρ); doubled for the rounding of this bound itself
            r_norm = float(np.sqrt(R @ R)) * (1.0 + 4.0 * self.gam_dot)
            err = self.sq_rho_err + (4.0 / self.P) * self.gam_dot * self.col_norms * r_norm
            return float(np.mean(R * R)), (2.0 / self.P) * (self.A.T @ R), err
        if self.loss == "l1":
            return (float(np.mean(np.abs(R))), (self.A.T @ np.sign(R)) / self.P,
                    self.l1_grad_err)
        p = int(np.argmax(np.abs(R)))
        return float(abs(R[p])), self.A[p] * np.sign(R[p]), None

    def leaf(self, y: np.ndarray) -> float:
        return float(batch_losses((self.A @ y - self.f)[None, :], self.loss)[0])

    def bound(self, kept: np.ndarray, free: np.ndarray, r: int) -> float:
        """A valid lower bound (δ already subtracted) of L over masks extending `kept`."""
        y = kept.astype(np.float64)
        y[free] = r / len(free)
        best = -np.inf
        for t in range(self.steps):
            val, g, g_err = self.value_grad(y)
            gf = g[free]
            order = np.argsort(gf, kind="stable")
            s = np.zeros(len(free))
            s[order[:r]] = 1.0
            gap = float(gf @ (s - y[free]))
            delta = 2 * self.eval_tol + 4 * self.gam * float(np.abs(gf).sum()) + 1e-300
            if g_err is not None:
                delta += float(g_err[free].sum()) * (1 + 4 * self.gam)
            best = max(best, val + gap - delta)
            d = np.zeros_like(y)
            d[free] = s - y[free]
            if self.loss == "squared":
                Ad = self.A @ d
                curv = 2.0 * float(Ad @ Ad) / self.P
                step = 1.0 if curv <= 0 else min(1.0, max(0.0, -gap / curv))
            else:
                step = 2.0 / (t + 2.0)
            if step == 0.0:
                break
            y = y + step * d
        return best


def run_bnb(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Certified optimum by branch and bound (see the module docstring)."""
    why = refuse(instance, goal)
    if why:
        raise InputError(why)
    from exactprune.solvers.neuron_selection.heuristics import (
        greedy_forward_within,
        magnitude_order,
    )

    clock = Clock(opts.time_limit)
    steps = int(opts.extra.get("fw_steps", FW_STEPS))
    bd = _Bounder(instance, steps)
    n, k = instance.n, instance.k
    start = (instance.check_mask(opts.warm_start) if opts.warm_start is not None
             else greedy_forward_within(instance, clock.deadline)[0])
    best_y = np.asarray(start, dtype=np.float64)
    best = bd.leaf(best_y)
    order = magnitude_order(instance)
    # stack entries: (depth, kept indicator (N,), lower bound valid for the subtree)
    stack: list[tuple[int, np.ndarray, float]] = [(0, np.zeros(n, dtype=bool), 0.0)]
    nodes = 0
    limit = Limit.NONE
    while stack:
        # the clock at every node: a bound costs up to 2·FW_STEPS products with the (m·C, N)
        # columns, and reading it every 64 nodes ran 1.4 s past a 0.5 s limit (hunt 60 M3)
        if clock.expired():
            limit = Limit.TIME
            break
        depth, kept, lb = stack.pop()
        if lb >= best:
            continue
        nodes += 1
        r = k - int(kept.sum())
        free = order[depth:]
        if r == 0 or r == len(free):
            y = kept.astype(np.float64)
            y[free] = 1.0 if r else 0.0
            val = bd.leaf(y)
            if val < best:
                best, best_y = val, y
            continue
        lb = max(lb, bd.bound(kept, free, r))
        if lb >= best:
            continue
        unit = order[depth]
        if len(free) - 1 >= r:  # cut `unit`
            stack.append((depth + 1, kept, lb))
        with_unit = kept.copy()
        with_unit[unit] = True
        stack.append((depth + 1, with_unit, lb))
    mask = instance.check_mask(np.rint(best_y).astype(np.int64))
    err = instance.evaluate(mask)
    eval_tol = bd.eval_tol
    round_leaf = (bd.P + 2) * UNIT_ROUNDOFF * (err + 2.0**-1021)  # 2^-1074 steps (hunt 37 L2)
    stats = {"nodes": nodes, "fw_steps": steps}
    if limit is Limit.TIME:
        lower = min([best] + [lb for _, _, lb in stack]) - eval_tol - round_leaf
        return RawSolution(Status.TIME_LIMIT, mask=mask, bound=max(0.0, lower), limit=limit,
                           stats=stats,
                           notes=[f"time limit after {nodes:,} nodes, {len(stack):,} open"])
    tol = 3 * eval_tol + 2 * round_leaf
    return RawSolution(Status.OPTIMAL, mask=mask, bound=max(0.0, err - tol), certified=True,
                       tolerance=tol, stats=stats,
                       notes=[f"branch and bound: {nodes:,} nodes, Frank-Wolfe bounds "
                              f"({steps} steps); certified within {tol:.2g}"])
