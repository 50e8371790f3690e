"""CP-SAT for the pruning selection problem, on explicitly scaled integers.

CP-SAT needs integer data. The columns C and the target f are scaled by one power of two
2^p (exact in float64) and rounded: every entry moves by at most half a unit. For a choice y
with at most G chosen columns (G = number of units: one column per unit), the scaled error at
each point differs from 2^p times the real error by at most (G + 1)/2 units, and so does the max
over points (linf) and the mean (l1). Hence a proven integer bound B gives the real lower bound
(B − (G + 1)/2)·2^-p, and the scaling's effect on the certificate is stated in the notes.
The relu output is CP-SAT's exact max(h, 0) constraint: no big-M. Presolve is off unless the
`presolve` option asks for it (and then without its inclusion reductions, which certify wrong
optima, or-tools#5293): on audit case 32722 (neuron d = 2, n = 9, K = 32, relu output) OR-Tools
9.15's presolve called the model INFEASIBLE though the hinted start lies inside its cap (true
optimum 0.0824, start 0.2292), whatever the hint, seed or single presolve parameter; a wrong
INFEASIBLE in the exclusion re-check would certify the incumbent. The price:
docs/benchmarks/pruning-cpsat-presolve.md.
p is chosen so that the largest |h| stays below 2^40, keeping CP-SAT's LP relaxation well
conditioned.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from exactprune.formulations.linear import PartialMask
from exactprune.formulations.pruning.selection import Selection
from exactprune.instances.scaling import float_floor, ldexp_down, ldexp_up
from exactprune.solvers.clock import NOT_STARTED, Clock, engine_limit
from exactprune.solvers.cpsat_engine import INFEASIBLE_REFUTED, configured_solver, solve_cpsat
from exactprune.solvers.pruning.exact import PointSetOutcome
from exactprune.solvers.result import SolveOptions

RANGE_BITS = 40


class CpSatPointSetSolver:
    """Solves of a Selection on a point set with OR-Tools CP-SAT (see the module docstring)."""

    def __init__(self, sel: Selection, opts: SolveOptions) -> None:
        self.sel, self.opts = sel, opts
        scale_ref = float(np.max(np.abs(sel.columns).sum(axis=1) + np.abs(sel.target)))
        scale_ref = max(scale_ref, 1e-300)
        self.exponent = RANGE_BITS - math.frexp(scale_ref)[1]
        self.cols = np.rint(np.ldexp(sel.columns, self.exponent)).astype(np.int64)
        self.f = np.rint(np.ldexp(sel.target, self.exponent)).astype(np.int64)
        self.groups_n = int(len(np.unique(sel.group))) if sel.n_columns else 0
        self.units_slack = (self.groups_n + 1) / 2.0
        self.max_error_units = int(np.max(np.abs(self.cols).sum(axis=1) + np.abs(self.f),
                                          initial=0))

    def to_real(self, units: float) -> float:
        return math.ldexp(units, -self.exponent)

    def lower_real(self, units: Fraction) -> float:
        """A lower bound of `units` scaled integers as a float at most it in real units: the
        division by the points and the slack's subtraction rounded to nearest could sit an ulp
        above the rational bound (covered only by accident; hunt 127 L2)."""
        return ldexp_down(float_floor(units), -self.exponent)

    def _model(self, points: list[int], cap_units: int) -> tuple[Any, list[Any], Any, int]:
        """The CP-SAT model on `points` with the scaled error capped at `cap_units` (linf: the
        max; l1: the sum over the points is capped at cap_units·|points|): (model, the column
        variables, the objective expression, the number of points the objective sums)."""
        from ortools.sat.python import cp_model

        sel = self.sel
        model = cp_model.CpModel()
        y = [model.NewBoolVar(f"y_{c}") for c in range(sel.n_columns)]
        for g in np.unique(sel.group):
            members = np.flatnonzero(sel.group == g)
            if len(members) > 1:
                model.AddAtMostOne([y[c] for c in members])
        relu = sel.output_activation == "relu"
        errs = []
        for k in points:
            row = self.cols[k]
            nz = np.flatnonzero(row)
            lo = int(row[row < 0].sum())
            hi = int(row[row > 0].sum())
            h = model.NewIntVar(lo, hi, f"h_{k}")
            model.Add(h == sum(int(row[c]) * y[c] for c in nz))
            if relu:
                g_var = model.NewIntVar(0, max(hi, 0), f"g_{k}")
                model.AddMaxEquality(g_var, [h, 0])
            else:
                g_var = h
            fk = int(self.f[k])
            if sel.norm == "linf":
                errs.append((g_var, fk))
            else:
                e = model.NewIntVar(0, max(abs(hi - fk), abs(lo - fk), abs(fk)), f"e_{k}")
                model.AddAbsEquality(e, g_var - fk)
                errs.append((e, fk))
        if sel.norm == "linf":
            t = model.NewIntVar(0, cap_units, "t")
            for g_var, fk in errs:
                model.Add(g_var - fk <= t)
                model.Add(fk - g_var <= t)
            return model, y, t, 1
        total = sum(e for e, _ in errs)
        model.Add(total <= cap_units * len(points))
        return model, y, total, len(points)

    def scaled_error(self, points: list[int], y: np.ndarray) -> int:
        """The model's integer objective for choice `y` (linf: max, l1: sum over `points`)."""
        h = self.cols[np.asarray(points)][:, np.asarray(y, dtype=bool)].sum(axis=1)
        if self.sel.output_activation == "relu":
            h = np.maximum(h, 0)
        e = np.abs(h - self.f[np.asarray(points)])
        return int(e.max()) if self.sel.norm == "linf" else int(e.sum())

    def solve(self, points: list[int], cap: float, start_y: np.ndarray | None,
              time_limit: float | None,
              exclude: Sequence[Any] = ()) -> PointSetOutcome:
        """Minimise the scaled error on `points` below `cap` (real units), from `start_y` (or
        no start), every column choice in `exclude` cut off by a no-good."""
        from ortools.sat.python import cp_model

        clock = Clock(time_limit)  # building the model counts against the limit
        sel = self.sel
        # a cap above every possible error cuts nothing: clamped there, it fits in int64 even
        # when the data are tiny or zero (the scaling exponent is then huge)
        cap_units = min(int(math.ceil(math.ldexp(cap, self.exponent) + self.units_slack)) + 1,
                        self.max_error_units + 1)
        model, y, objective, n_pts = self._model(points, cap_units)
        model.Minimize(objective)
        for choice in exclude:
            _exclude(model, y, choice)
        start = start_reason = None
        if start_y is not None:
            y_start = np.asarray(start_y, dtype=bool)
            start_units = self.scaled_error(points, y_start)
            start_cap = cap_units * n_pts
            # The mask variables are hinted and CP-SAT completes the rest (measured: a complete
            # hint of h, g, e, t, and the log its verdict needs, made solves 10-90 % slower),
            # so the verdict is exactprune's: the start is feasible iff it is within the cap.
            for c in range(sel.n_columns):
                model.AddHint(y[c], bool(y_start[c]))
            start = "accepted" if start_units <= start_cap else "rejected"
            start_reason = ("the mask variables are hinted; feasible by exactprune's check"
                            if start == "accepted" else
                            f"the start's scaled error {start_units} exceeds the cap {start_cap}")
        if clock.expired():  # building took the whole limit: no engine run to wait for
            return PointSetOutcome("time_limit", None, None, self.to_real(self.units_slack),
                                   [NOT_STARTED], started=False)
        # off unless asked: 9.15's presolve proved a feasible model infeasible (module docstring)
        solver = configured_solver(self.opts, engine_limit(clock),
                                   presolve=bool(self.opts.extra.get("presolve", False)))
        code = solve_cpsat(solver, model)
        slack_real = self.to_real(self.units_slack)
        notes = [f"CP-SAT on integers scaled by 2^{self.exponent}; scaling moves the error by "
                 f"at most {slack_real:.3g}"]
        if code == cp_model.MODEL_INVALID:
            return PointSetOutcome("error", None, None, slack_real,
                                   notes + [f"model invalid: {model.Validate()}"])
        if code == cp_model.INFEASIBLE:
            if start == "accepted" and not any(PartialMask.cuts_off(choice, y_start)
                                               for choice in exclude):
                # the start is a point of the model in hand (exact integers): the claim is
                # refuted, as the MILP engines' distrust_infeasible_with_feasible_start does;
                # below a cap of ~0.03 of the data's scale bound_refuted could not see it, and
                # the incumbent was certified (hunt 231 F1, an injected wrong INFEASIBLE)
                return PointSetOutcome("error", None, None, slack_real,
                                       notes + [INFEASIBLE_REFUTED], start, start_reason)
            below = float_floor(Fraction(cap) - Fraction(ldexp_up(self.units_slack,
                                                                  -self.exponent)))
            return PointSetOutcome("infeasible", None, below, slack_real, notes,
                                   start, start_reason)
        y_val = None
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            y_val = np.array([solver.BooleanValue(v) for v in y], dtype=bool)
        best_bound = solver.BestObjectiveBound()
        lower = (self.lower_real(Fraction(best_bound) / n_pts - Fraction(self.units_slack))
                 if math.isfinite(best_bound) else None)
        status = "optimal" if code == cp_model.OPTIMAL else "time_limit"
        return PointSetOutcome(status, y_val, lower, slack_real, notes, start, start_reason)



def _exclude(model: Any, y: list[Any], choice: Any) -> None:
    """A no-good: the model's column choice must differ from `choice` (a 0/1 vector, or a
    `PartialMask`: from every choice that agrees with it where it is fixed) somewhere."""
    positions, bits = PartialMask.fixed_terms(choice, len(y))
    model.AddBoolOr([y[c].Not() if b else y[c] for c, b in zip(positions, bits, strict=True)])
