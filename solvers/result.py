"""The result of a solve, the goal being solved, and the options every backend accepts.

Shaped after OR-Tools MathOpt's result: the status says what is *true* of the returned mask,
`limit` says what stopped the solve early (time, memory, nodes, a cap on certificate rounds, or
none), and the objective bounds are kept together (`bounds`: primal = the mask's objective,
recomputed from the mask by the instance itself, never the solver's number; dual = a proven
lower bound on the optimum, when one is known).

Result JSON: format "exactprune.result", version 2 (version 1 files are still read: they have
no "limit", which is then "time" for status time_limit and "none" otherwise).
"""

from __future__ import annotations

import enum
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.masks import REAL_KINDS, first_bad_entry, is_count
from exactprune.instances.network import ReadOnlyArrays, immutable_copy
from exactprune.instances.params import as_number, is_integer

MAX_THREADS = 64
"""Most solver threads (SCIP's limit; more than the cores only slows a solve down)."""


CLAIM_REFUTED = "the claim is refuted, nothing is certified from it"
"""How every note ends that sets aside an engine's answer refuted by a point in hand (an
"infeasible" beside a feasible start or a mask the cut model admits)."""


class Status(enum.StrEnum):
    """What is true of a result."""

    OPTIMAL = "optimal"
    """The mask is optimal, certified under the numerics policy (`certified` is True)."""
    FEASIBLE = "feasible"
    """A valid mask; optimality not certified (heuristic, or solver tolerance too coarse)."""
    INFEASIBLE = "infeasible"
    """Proven: no mask satisfies the constraints (e.g. no subset within eps)."""
    TIME_LIMIT = "time_limit"
    """The time limit stopped the solve; the best mask found so far (if any) is returned."""
    ERROR = "error"
    """The backend failed or refused; `notes` say why."""


class Limit(enum.StrEnum):
    """Why a solve stopped before it finished (MathOpt's Limit): independent of the status."""

    NONE = "none"
    """It finished: a proof, or a heuristic's natural end."""
    TIME = "time"
    """The time limit."""
    MEMORY = "memory"
    """Out of memory (or a memory budget)."""
    NODE = "node"
    """A node or iteration limit of the engine."""
    EXCLUSION_CAP = "exclusion_cap"
    """The cap on certificate re-solves (exclusion_rounds, max_exclusions) was reached."""
    OTHER = "other"
    """The engine stopped for another reason (interrupted, solution limit); notes say which."""


RESULT_FORMAT = "exactprune.result"
RESULT_VERSION = 2


@dataclass(frozen=True)
class ObjectiveBounds:
    """primal_bound: the objective of the returned mask (None without one); dual_bound: a proven
    lower bound on the optimum (None when unknown). primal >= optimum >= dual."""

    primal_bound: float | None
    dual_bound: float | None


class Objective(enum.StrEnum):
    """What is minimised."""

    MIN_ERROR = "min_error"
    """Minimise the approximation error of the mask (optionally with at most `max_kept` kept)."""
    SPARSEST = "sparsest"
    """Minimise the number kept subject to error <= eps."""


@dataclass(frozen=True)
class Goal:
    """The optimisation goal over keep-masks of an instance.

    objective: MIN_ERROR or SPARSEST; max_kept: at most this many kept (MIN_ERROR only);
    eps: error tolerance for SPARSEST (same units as the instance's error).
    """

    objective: Objective = Objective.MIN_ERROR
    max_kept: int | None = None
    eps: float | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "objective", Objective(self.objective))
        except ValueError:
            raise InputError(
                f"unknown objective {self.objective!r} (use min_error or sparsest)"
            ) from None
        if self.max_kept is not None:
            if not is_integer(self.max_kept):
                raise InputError(f"max_kept must be an integer, got {self.max_kept!r}")
            if self.max_kept < 0:
                raise InputError(f"max_kept must be >= 0, got {self.max_kept}")
            object.__setattr__(self, "max_kept", int(self.max_kept))
        if self.objective is Objective.SPARSEST:
            if self.eps is None:
                raise InputError("the sparsest objective needs eps (eps=E; on the command line "
                                 "--eps E)")
            if self.max_kept is not None:
                raise InputError("max_kept applies to min_error, not to sparsest")
        if self.eps is not None:
            eps = as_number(self.eps, "eps")
            if not math.isfinite(eps) or eps < 0:
                raise InputError(f"eps must be a finite number >= 0, got {self.eps!r}")
            object.__setattr__(self, "eps", eps)
            if self.objective is not Objective.SPARSEST:
                raise InputError("eps applies to the sparsest objective only")

    def to_json(self) -> dict[str, Any]:
        return {"objective": str(self.objective), "max_kept": self.max_kept, "eps": self.eps}


def check_threads(threads: Any, what: str = "threads") -> int:
    """`threads` as an int from 1 to MAX_THREADS, or InputError naming `what` (a flag, say)."""
    if (not is_integer(threads)
            or not 1 <= threads <= MAX_THREADS):
        raise InputError(f"{what} must be an integer from 1 to {MAX_THREADS}, got {threads!r}")
    return int(threads)


@dataclass(frozen=True)
class SolveOptions:
    """Options common to every backend.

    time_limit: wall-clock seconds (None = no limit); seed: for randomised methods and solver
    seeds; threads: solver threads (None = backend default, 1 unless stated); verbose: pass the
    solver's log through to stderr; warm_start: a mask to start from (hint / incumbent);
    extra: backend-specific options (documented per backend).
    """

    time_limit: float | None = None
    seed: int = 0
    threads: int | None = None
    verbose: bool = False
    warm_start: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.time_limit is not None:
            tl = as_number(self.time_limit, "time limit", exact=False)
            if not math.isfinite(tl) or tl <= 0:
                raise InputError(f"time limit must be a positive number of seconds, got {tl}")
            object.__setattr__(self, "time_limit", tl)
        # a numpy seed stayed np.int64 in the options, and to_json could not be serialised
        seed = as_number(self.seed, "seed", integer=True)
        if seed < 0:
            raise InputError(f"seed must be >= 0, got {seed}")
        object.__setattr__(self, "seed", seed)
        if self.threads is not None:
            check_threads(self.threads)

    def to_json(self) -> dict[str, Any]:
        return {
            "time_limit": self.time_limit,
            "seed": self.seed,
            "threads": self.threads,
            "warm_start": self.warm_start is not None,
            **{k: v for k, v in self.extra.items() if isinstance(v, int | float | str | bool)},
        }


@dataclass
class RawSolution:
    """What a backend returns to the dispatcher, before the objective is recomputed.

    status: the backend's claim (the dispatcher checks it against the recomputed objective);
    mask: bool array of the instance's mask shape, or None; bound: a rigorous lower bound on the
    goal's optimum, or None; certified: the backend proved optimality under the numerics policy;
    tolerance: absolute tolerance of the certificate (0 = exact);
    solver_objective: the solver's own objective value, kept only as a note;
    limit: what stopped the solve early (None: derived from the status by the dispatcher).
    """

    status: Status
    mask: np.ndarray | None = None
    bound: float | None = None
    certified: bool = False
    tolerance: float | None = None
    solver_objective: float | None = None
    notes: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    limit: Limit | None = None

    def for_raw_data(self, k: int, instance: Any) -> RawSolution:
        """This certificate, made on a rescaling of `instance` whose errors are `instance`'s
        times 2^k (rows rescaled too, maybe), as one for `instance` itself: the bound
        rounded down and the tolerance up (`math.ldexp` rounds to nearest among subnormals),
        plus `instance`'s evaluation tolerance, since the reported objective is the raw
        data's float error, whose products may underflow where the scaled ones do not
        (hunts 32, 34). In place; returns self."""
        from exactprune.instances.scaling import ldexp_down, ldexp_up

        if self.bound is not None:
            self.bound = ldexp_down(self.bound, -k)
        if self.tolerance is not None:
            self.tolerance = ldexp_up(self.tolerance, -k) + instance.evaluation_tolerance()
        return self


def derived_numbers_match(data: dict[str, Any]) -> dict[str, bool]:
    """Whether a result file's derived numbers are what its own objective and bound make them,
    as solve() writes them: `gap_matches` (gap = max(0, objective − bound), null without
    either) and `bounds_match` (bounds = {primal_bound: objective, dual_bound: bound}), each
    only when the file has the field. Edited ones were read by nobody: a gap of 1e300 or a
    dual bound of 1e300 passed `certify` unremarked (hunt 170 L2); the bound field stays the
    claim that is checked."""
    objective, bound = data.get("objective"), data.get("bound")
    out: dict[str, bool] = {}
    if data.get("gap") is not None:
        expected = None if objective is None or bound is None else max(0.0, objective - bound)
        out["gap_matches"] = data["gap"] == expected
    if data.get("bounds") is not None:
        out["bounds_match"] = data["bounds"] == {"primal_bound": objective, "dual_bound": bound}
    return out


def _check_derived_numbers(data: dict[str, Any]) -> None:
    """ValueError unless a result file's `gap` is >= 0 (a difference, max(0, objective −
    bound)) and its `bounds` an object of two numbers or nulls: a gap of -1 and bounds "x"
    passed (hunt 170 L2)."""
    gap = data.get("gap")
    if gap is not None and not gap >= 0:
        raise ValueError(f"gap must be >= 0 (max(0, objective - bound)) or null, got {gap!r}")
    bounds = data.get("bounds")
    if bounds is None:
        return
    if not isinstance(bounds, dict) or set(bounds) != {"primal_bound", "dual_bound"} or any(
            v is not None and (isinstance(v, bool) or not isinstance(v, int | float)
                               or v != v) for v in bounds.values()):
        raise ValueError(f"bounds must be an object of primal_bound and dual_bound, numbers "
                         f"or null, got {bounds!r:.80}")


def check_certify_inputs(instance: Any, kinds: tuple[str, ...], claimed: Any) -> None:
    """One line unless `instance` is of one of `kinds` and `claimed` a result object (a dict;
    {} for a mask alone): the kinds' `certify` hooks raised AttributeError on None, a list, or
    an instance of another kind (hunt 179 M1)."""
    found = getattr(instance, "kind", None)
    if found not in kinds:
        shown = found if isinstance(found, str) else type(instance).__name__
        raise InputError(f"this certify is for {' and '.join(kinds)} instances, not {shown!r}")
    if not isinstance(claimed, dict):
        raise InputError("claimed must be a result object (a dict; {} for a mask alone), got "
                         f"{type(claimed).__name__}")
    if claimed.get("certified") is not None and \
            not isinstance(claimed["certified"], bool | np.bool_):  # numpy's: as as_flag takes
        # a bare mask's "certified": "false" was read as a claim by subset-sum and refuted
        # (hunt 179 L3); a result file with a status is refused so by from_json
        raise InputError(f"the result's certified must be true or false, got "
                         f"{claimed['certified']!r:.40}")


def add_certify_note(out: dict[str, Any], text: str) -> None:
    """Append a reason to a `certify` report's note: every reason, in order, joined by "; "
    (one overwrote the next; hunt 63 L2)."""
    out["note"] = f"{out['note']}; {text}" if "note" in out else text


def claims_certified(claimed: dict[str, Any]) -> bool:
    """Whether a result file claims a certified optimum: `certified` true, or status optimal
    without a `certified` (optimal is only said of a certified optimum). Every `certify` reads
    the claim here: a false "optimal" without the key was confirmed on every check printed,
    its optimum checked by none (hunt 195 M1)."""
    certified = claimed.get("certified")
    return claimed.get("status") == "optimal" if certified is None else bool(certified)


def claimed_goal(claimed: dict[str, Any]) -> dict[str, Any]:
    """A result file's `goal` object ({} when absent or null), or one line when it is not an
    object (a string goal was ignored by `certify`; hunt 35) or not a goal `Goal` takes: the
    one reading of every `certify`. A goal no solver takes (objective "max_error", eps beside
    min_error, sparsest with max_kept) was read as plain min_error and its claim "verified"
    (hunt 176 M1); it is refused as `from_json` refuses it."""
    goal = claimed.get("goal")
    if goal is None:
        return {}
    if not isinstance(goal, dict):
        raise InputError("the result's goal must be an object, e.g. {\"objective\": "
                         f"\"min_error\"}}, got {goal!r:.60}")
    if goal.get("objective") == "sparsest" and goal.get("eps") is None:  # no flag to name
        raise InputError("the result's goal: the sparsest objective needs eps")
    try:
        Goal(objective=goal.get("objective", "min_error"), max_kept=goal.get("max_kept"),
             eps=goal.get("eps"))
    except InputError as exc:
        raise InputError(f"the result's goal: {exc}") from None
    return goal


def goal_words(goal: dict[str, Any]) -> str:
    """A result file's goal in words: "max_kept = 1", "sparsest within eps = 0.1"."""
    if goal.get("objective", "min_error") != "min_error":
        return f"{goal.get('objective')} within eps = {goal.get('eps')!r}"
    words = [f"{key} = {goal[key]!r}" for key in ("max_kept", "eps")
             if goal.get(key) is not None]
    return ", ".join(words) or "min_error"


def claimed_number(claimed: dict[str, Any], key: str, least: float) -> float | None:
    """A result file's `key` as a finite float of at least `least` (`as_number`'s checks),
    None when absent; else one line (`certify` of every kind reads bounds and tolerances so)."""
    value = claimed.get(key)
    if value is None:
        return None
    number = as_number(value, f"the result's {key}", exact=False)
    if not least <= number < float("inf"):
        what = "a non-negative number" if least == 0 else "a finite number"
        raise InputError(f"the result's {key} must be {what} or null, got {value!r:.60}")
    return number


def only_within_claimed(value: float, bound: float, tolerance: float) -> str:
    """`certify`'s note on a claimed optimum that holds only by the width the result itself
    claims: a heuristic's mask edited to "optimal" with tolerance 10 read plain "verified"
    (hunts 84, 96). The claim is true as stated; the note says by how much."""
    return (f"the optimum claim holds only within the result's own tolerance {tolerance!r}: "
            f"the mask's value {value!r} is {value - bound:.6g} above the optimum's proven "
            f"bound {bound!r}")


def counted_tolerance(claimed: float, value: float, eval_tol: float, terms: int
                      ) -> tuple[float, str | None]:
    """The part of a result's claimed tolerance that `certify` counts for its optimum claim, and
    a note when that is less than claimed: at most twice the widest tolerance any certificate of
    this toolkit states for a value `value` (same units). The widest: the certificate's room
    max(1e-5·value, 5·eval_tol) (`exclusion_recheck.certificate_room`), 2·eval_tol beside it,
    one more from a certificate made on rescaled data (`RawSolution.for_raw_data`), and the
    batch rounding 2·(terms + 2)·2^-53·(value + 2^-1021) of the exhaustive and branch-and-bound
    searches (`terms`: the sum's terms, points or samples × outputs); twice that, since a
    rescaled certificate came within 0.5 % of it (hunt 149). A file's tolerance edited as wide
    as its error made any "optimal" mask read verified (hunt 145 L1)."""
    from exactprune.solvers.exclusion_recheck import certificate_room

    widest = 2.0 * (certificate_room(value, eval_tol) + 3.0 * eval_tol
                    + 2.0 * (terms + 2) * 2.0**-53 * (value + 2.0**-1021))
    if not claimed > widest:
        return claimed, None
    return widest, (f"the result claims tolerance {claimed!r}, wider than any certificate of "
                    f"this toolkit states at this value ({widest:.6g}): the optimum claim is "
                    f"checked within {widest:.6g}")


def check_result_header(data: dict) -> int:
    """The version of a result object (1 when absent), or InputError for another format or a
    version this code does not read; shared by `SolveResult.from_json` and the CLI's
    certify and --warm-start, which took a version 9 (hunt 35)."""
    if data.get("format", RESULT_FORMAT) != RESULT_FORMAT:
        raise InputError(f"not an exactprune result file (format {data.get('format')!r:.60})")
    version = data.get("version", 1)
    if type(version) is not int or version not in (1, 2):  # true, 1.0 == 1 (hunts 37, 39)
        raise InputError(f"unsupported result version {version!r:.40} (this version reads 1 "
                         "and 2)")
    return version


def _same(a: Any, b: Any) -> bool:
    """Equality that compares numpy arrays (also inside dicts and lists) by shape and value."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                and a.shape == b.shape and bool(np.array_equal(a, b)))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    return bool(a == b)


@dataclass
class SolveResult(ReadOnlyArrays):
    """A solve's outcome, with the objective recomputed from the mask.

    status: see `Status`; mask: keep-mask (bool array, instance's mask shape) or None, read-only
    however it is set or copied, so that an edit in place cannot make it drift from the numbers
    claimed for it (assigning another mask is the caller's own act: `certify` recomputes and
    says `objective_matches` false);
    objective: the goal's value for `mask`, recomputed by the instance (error for min_error,
    number kept for sparsest); error: the mask's approximation error (instance.evaluate);
    kept: number of kept entries; bound: proven lower bound on the optimum or None;
    gap: objective − bound (absolute) or None; certified: optimality is proven;
    tolerance: absolute tolerance of that proof (0.0 for exact methods);
    solver: backend name; solver_version; options: the options used; goal: the goal solved;
    wall_time_s: wall-clock seconds of the whole solve; notes: human-readable remarks
    (tolerances, scaling, why not certified); stats: backend statistics (nodes, candidates,
    warm_start: accepted | rejected | trimmed (a heuristic cut the start down to max_kept) |
    not_supported | not_used, the last when `auto` chose a method that takes no start);
    limit: what stopped the solve early; instance_sha256: the sha256 of the solved instance's
    fields and arrays (`instances.io.instance_sha256`), so a result cannot lend its bound to
    another instance (None in results written before it).
    """

    status: Status
    mask: np.ndarray | None
    objective: float | None
    error: float | None
    kept: int | None
    bound: float | None
    gap: float | None
    certified: bool
    tolerance: float | None
    solver: str
    solver_version: str | None
    kind: str
    goal: Goal
    options: dict[str, Any]
    wall_time_s: float
    solver_objective: float | None = None
    notes: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    limit: Limit = Limit.NONE
    instance_sha256: str | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        # every way a mask is set (solve, from_json, replace, assignment): a read-only copy
        # (`m = res.mask; m[0] = ...` left a false certified optimum; hunts 93, 95)
        if name == "mask" and isinstance(value, np.ndarray):
            value = immutable_copy(value, value.dtype)
        object.__setattr__(self, name, value)

    def __eq__(self, other: object) -> bool:
        """Field by field, masks by value: the dataclass's own == compared the numpy masks
        with ==, which raised ValueError, so a JSON round trip could not be checked with ==
        (hunt 49)."""
        if not isinstance(other, SolveResult):
            return NotImplemented
        return all(_same(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))

    __hash__ = None  # type: ignore[assignment]  # mutable, as a dataclass with eq is

    @property
    def bounds(self) -> ObjectiveBounds:
        """The primal (objective of the mask) and dual (proven lower) bounds together."""
        return ObjectiveBounds(self.objective, self.bound)

    def to_json(self, mask_to_json: Any = None) -> dict[str, Any]:
        """One JSON object (version 2), as `exactprune solve` writes it: the mask as 0/1 lists
        (counts with repeats), a weight-pruning mask as ``{"hidden_weights": n×d}``; or as
        `mask_to_json` (an instance's codec) writes it."""
        data = asdict(self)
        data["status"] = str(self.status)
        data["limit"] = str(self.limit)
        data["bounds"] = asdict(self.bounds)
        data["goal"] = self.goal.to_json()
        if self.mask is None:
            data["mask"] = None
        elif mask_to_json is not None:
            data["mask"] = mask_to_json(self.mask)
        elif self.kind == "weight_pruning":  # the instance JSON's form, as the CLI writes it
            data["mask"] = {"hidden_weights": np.asarray(self.mask, dtype=int).tolist()}
        else:
            data["mask"] = np.asarray(self.mask, dtype=int).tolist()
        data["format"] = RESULT_FORMAT
        data["version"] = RESULT_VERSION
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SolveResult:
        """Rebuild a result from `to_json` output, version 1 or 2 (mask as a plain bool array, or
        the integer counts of a mask with repeats)."""
        if not isinstance(data, dict) or "status" not in data:
            raise InputError("not an exactprune result object")
        version = check_result_header(data)
        try:
            status = Status(data["status"])
            if version == 1 or "limit" not in data:
                limit = Limit.TIME if status is Status.TIME_LIMIT else Limit.NONE
            else:
                limit = Limit(data["limit"])
            goal_raw = data.get("goal")
            goal_raw = {} if goal_raw is None else goal_raw  # "" or false: refused, as certify
            if not isinstance(goal_raw, dict):
                raise ValueError(f"goal must be an object, got {goal_raw!r}")
            certified = data.get("certified", status is Status.OPTIMAL)  # claims_certified
            if not isinstance(certified, bool):
                raise ValueError(f"certified must be true or false, got {certified!r}")
            if status is Status.OPTIMAL and "certified" in data and not certified:
                raise ValueError("status optimal with certified false (optimal is only said "
                                 "of a certified optimum)")
            if certified and status not in (Status.OPTIMAL, Status.INFEASIBLE):
                # what solve() never writes (hunt 66 M2)
                raise ValueError(f"certified true with status {status} (only an optimum or "
                                 "infeasibility is certified)")
            for name in ("objective", "error", "bound", "gap", "tolerance", "kept",
                         "solver_objective", "wall_time_s"):
                value = data.get(name)
                if value is not None and (isinstance(value, bool)
                                          or not isinstance(value, int | float)):
                    raise ValueError(f"{name} must be a number or null, got {value!r:.60}")
                if isinstance(value, int) and not isinstance(value, bool):
                    try:  # 10**400 was an internal error (isnan's OverflowError; hunt 123 M2)
                        float(value)
                    except OverflowError:
                        raise ValueError(f"{name} must be a number float64 can hold or null, "
                                         f"got an integer of {value.bit_length()} "
                                         "bits") from None
                if value is not None and math.isnan(value):  # inf is one (an error beyond
                    # float64: the API's round trip through json keeps it; hunt 67 M1)
                    raise ValueError(f"{name} must be a number or null, got nan")
            kept = data.get("kept")
            if kept is not None and (not float(kept).is_integer() or kept < 0):
                raise ValueError(f"kept must be a count (an integer >= 0) or null, got {kept!r}")
            notes = data.get("notes") or []
            if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
                raise ValueError(f"notes must be a list of strings, got {notes!r:.60}")
            for name in ("options", "stats"):
                if not isinstance(data.get(name) or {}, dict):
                    raise ValueError(f"{name} must be an object, got {data.get(name)!r:.60}")
            digest = data.get("instance_sha256")
            if digest is not None and not (isinstance(digest, str) and len(digest) == 64
                                           and all(c in "0123456789abcdef" for c in digest)):
                raise ValueError(f"instance_sha256 must be 64 hex digits or null, got "
                                 f"{digest!r:.80}")
            mask_raw = data.get("mask")
            mask = None
            if mask_raw is not None:
                if isinstance(mask_raw, dict):  # weight_pruning: {"hidden_weights": [[...]]}
                    if "hidden_weights" not in mask_raw:  # (it was refused as "got null")
                        raise ValueError("a mask object must hold hidden_weights (a weight "
                                         f"pruning mask), got keys {sorted(mask_raw)!r:.60}")
                    mask_raw = mask_raw["hidden_weights"]
                try:
                    entries = np.asarray(mask_raw)
                except ValueError:  # numpy's own words on a ragged list
                    raise ValueError("a mask must be a rectangular array of 0/1") from None
                if entries.dtype != bool and not (
                        entries.dtype.kind in REAL_KINDS and np.all(np.isfinite(entries))
                        and np.all(entries >= 0) and np.all(entries == np.round(entries))
                        and np.all(entries < 2**53)):  # 1e300 became INT64_MIN (hunt 35)
                    raise ValueError("mask entries must be 0 or 1 (integer counts >= 0 for "
                                     "neuron selection with repeats), got "
                                     f"{first_bad_entry(mask_raw, is_count)}")
                counts = entries.astype(np.int64)
                # 0/1 masks as bool; repeat counts (neuron_selection with repeats) kept
                mask = counts.astype(bool) if counts.size == 0 or counts.max() <= 1 \
                    else counts
            _check_derived_numbers(data)
            if status is Status.INFEASIBLE and mask is not None:
                # certify read it as a confirmed claim (hunt 96 M3); solve() never writes it
                raise ValueError("status infeasible with a mask (an infeasible result has no "
                                 "mask)")
            return cls(
                status=status,
                mask=mask,
                objective=data.get("objective"),
                error=data.get("error"),
                kept=None if kept is None else int(kept),
                bound=data.get("bound"),
                gap=data.get("gap"),
                certified=certified,
                tolerance=data.get("tolerance"),
                solver=str(data.get("solver", "")),
                solver_version=data.get("solver_version"),
                kind=str(data.get("kind", "")),
                goal=Goal(
                    objective=goal_raw.get("objective", "min_error"),
                    max_kept=goal_raw.get("max_kept"),
                    eps=goal_raw.get("eps"),
                ),
                options=dict(data.get("options") or {}),
                wall_time_s=float(data.get("wall_time_s") or 0.0),
                solver_objective=data.get("solver_objective"),
                notes=list(notes),
                stats=dict(data.get("stats") or {}),
                limit=limit,
                instance_sha256=digest,
            )
        except (TypeError, ValueError, KeyError) as exc:
            raise InputError(f"malformed result object: {exc}") from None
