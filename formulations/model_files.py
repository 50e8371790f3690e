"""Exact MPS and LP files of a `MilpModel`: a reader gets back the same float64 bits.

Formats
  MPS  free-format MPS (fields separated by blanks, so names and numbers may be long): NAME,
       OBJSENSE (MAX only; minimisation is the default and is not written), ROWS, COLUMNS
       (integer columns between MARKER 'INTORG' / 'INTEND' lines), RHS, RANGES, BOUNDS, ENDATA.
  LP   CPLEX LP format: Minimize / Maximize, Subject To, Bounds, General, Binary, End. Lines are
       wrapped below 200 characters (one term per line at least).

Exactness: every number is `repr(float)`, the shortest decimal that a correctly rounded reader
(strtod / atof, as in HiGHS) turns back into the same float64. Two numbers are derived, and both
exactly: the MPS objective RHS (−offset) and the MPS RANGES value R, chosen so that the reader's
own float64 arithmetic (RHS + |R| or RHS − |R|) gives back the other bound bit for bit.

Conventions
  offset       MPS: RHS entry on the objective row holding −offset (the RHS of the objective
               row is minus the constant: HiGHS and OR-Tools read it so). LP: a constant term
               at the end of the objective.
  ranged rows  (both bounds finite and different) MPS: one G row (RHS = lower) or L row
               (RHS = upper) with a RANGES entry. Not every pair of floats is reachable that way
               (e.g. [-0.34631253456669536, 1.653687465433305]: every R lands one ulp off), and
               only then the row is split into `<name>_lo` (G, lower) and `<name>_hi` (L, upper).
               LP: always split into `<name>_lo` (>= lower) and `<name>_hi` (<= upper), because
               LP readers such as HiGHS do not accept double inequalities in constraints.
  free rows    (both bounds infinite) MPS: written as extra N rows after the objective row
               (HiGHS drops them on reading; OR-Tools keeps them). LP: not written.
  zeros        explicit zero coefficients in rows are not written (readers drop them anyway).
  columns      written in model order. MPS: every column has at least one COLUMNS entry (a 0.0
               objective entry if it has no other). LP: every column appears in the objective
               (with 0.0 if need be), so readers create the columns in model order.
  bounds       integer columns always carry explicit bounds (BV for [0, 1]; else LO/MI and
               UP/PL, or FX / FR), because MPS readers may give a bound-less integer column
               [0, 1]. LP: integer [0, 1] columns go to Binary, other integers to General with an
               explicit bound line.
  signed zero  −0.0 is written as "-0.0" where it is written at all, but a zero that equals
               a default (a lower bound of 0, an omitted RHS) or is merged (BV, an equality row)
               may read back as +0.0. Signed zeros change nothing in the model.

Names are never changed: a name a format cannot carry raises `InputError` naming it, as do
duplicate row names (also after a split). Both formats: 1 to 255 characters. MPS: printable
ASCII without blanks, not starting with '$', not a number; columns not NAME, OBJSENSE,
QCMATRIX, QSECTION, CSECTION; rows not 'MARKER'. LP: CPLEX's characters, not starting with a
digit or '.', not exponent-like (e, E2, ee...), not starting with inf / nan, no keyword. The
reasons are in `_mps_name_problem` and `_lp_name_problem`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from exactprune.formulations.linear import MilpModel
from exactprune.instances.errors import InputError

INF = math.inf
MAX_NAME_LENGTH = 255
LP_LINE_WIDTH = 200

# Column names HiGHS's free MPS reader takes for a section header even when more text follows.
_MPS_HEADER_NAMES = frozenset({"NAME", "OBJSENSE", "QCMATRIX", "QSECTION", "CSECTION"})
_NUMBER = re.compile(
    r"[+-]?(\d+\.?\d*|\.\d+)([eEdD][+-]?\d+)?|[+-]?(inf|infinity|nan)", re.IGNORECASE
)
_LP_CHARS = re.compile(r"[A-Za-z0-9!\"#$%&(),.;?@_'`{}~]+")
_LP_KEYWORDS = frozenset({
    "minimize", "minimise", "minimum", "min", "maximize", "maximise", "maximum", "max",
    "subject", "such", "st", "s.t.", "bounds", "bound", "binary", "binaries", "bin",
    "general", "generals", "gen", "integer", "integers", "semi", "semis", "sos", "end",
    "free", "inf", "infinity",
})


@dataclass(frozen=True)
class _Row:
    """A row as written: name, MPS type (N, E, L, G), RHS and RANGES value (None: none)."""

    name: str
    source: int
    kind: str
    rhs: float | None = None
    range: float | None = None


def _num(x: float) -> str:
    return repr(float(x))


def _is_plus_zero(x: float) -> bool:
    return x == 0.0 and math.copysign(1.0, x) > 0


def _fresh(base: str, taken: Iterable[str]) -> str:
    """`base`, or `base_<k>` with the smallest k that is not in `taken`."""
    used = set(taken)
    if base not in used:
        return base
    k = 0
    while f"{base}_{k}" in used:
        k += 1
    return f"{base}_{k}"


# --------------------------------------------------------------------------------------------
# Names


def _common_name_problem(name: str) -> str | None:
    if not name:
        return "is empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"is longer than {MAX_NAME_LENGTH} characters"
    return None


def _mps_name_problem(name: str, is_column: bool) -> str | None:
    """Why `name` cannot be an MPS row / column name, or None.

    Fields are separated by blanks (no whitespace, printable ASCII only); a field starting
    with '$' is a comment to some readers (fixed MPS, QSopt); a name that reads as a number is
    ambiguous in free MPS (Xpress); HiGHS reads a column named NAME, OBJSENSE, QCMATRIX,
    QSECTION or CSECTION as a section header and a row named 'MARKER' as an integer marker
    (and SCIP's reader a column so named).
    """
    problem = _common_name_problem(name)
    if problem:
        return problem
    if any(not ("!" <= ch <= "~") for ch in name):
        return "contains whitespace or a character outside printable ASCII"
    if name.startswith("$"):
        return "starts with '$' (a comment in MPS)"
    if _NUMBER.fullmatch(name):
        return "reads as a number"
    if is_column and name.upper() in _MPS_HEADER_NAMES:
        return "is read as a section header by MPS readers (HiGHS)"
    if name == "'MARKER'":  # as a column SCIP's reader lost its bounds (hunt 35)
        return "is the integer-marker keyword of MPS"
    return None


def _lp_name_problem(name: str) -> str | None:
    """Why `name` cannot be a CPLEX LP name, or None.

    CPLEX rules: at most 255 characters from letters, digits and !"#$%&(),.;?@_'`{}~; not
    starting with a digit or '.'; 'e' / 'E' alone or followed by a digit or another e/E reads
    as an exponent (e9, E2, ee; CPLEX skips blanks, so "2 e9" can become 2e9). strtod reads
    a leading inf / nan (any case) as a number, so lexers that try a number first at each
    token split such names. Section keywords, free and inf(inity) are reserved (HiGHS 1.16
    fails on st, end, min, max, bounds, sos as names).
    """
    problem = _common_name_problem(name)
    if problem:
        return problem
    if len(name) > MAX_NAME_LENGTH - 1:  # a row's "name:" is one token of at most 255 (Gurobi)
        return f"is longer than {MAX_NAME_LENGTH - 1} characters (LP names end in ':')"
    if not _LP_CHARS.fullmatch(name):
        bad = next(ch for ch in name if not _LP_CHARS.fullmatch(ch))
        return f"contains {bad!r} (LP names allow letters, digits and !\"#$%&(),.;?@_'`{{}}~)"
    if name[0].isdigit() or name[0] == ".":
        return "starts with a digit or '.'"
    if name[0] in "eE" and (len(name) == 1 or name[1] in "0123456789eE"):
        return "could be read as an exponent (e, e<digits>, ee... are reserved in LP format)"
    lower = name.lower()
    if lower.startswith(("inf", "nan")):
        return "starts with inf or nan, which number parsers read as a value"
    if lower in _LP_KEYWORDS:
        return "is an LP keyword"
    return None


def _check(names: Iterable[str], what: str, fmt: str,
           problem_of: Callable[[str], str | None]) -> None:
    seen: set[str] = set()
    for name in names:
        problem = problem_of(name)
        if problem:
            raise InputError(f"{fmt} export: {what} name {name!r} {problem}")
        if name in seen:
            raise InputError(f"{fmt} export: {what} name {name!r} is used twice")
        seen.add(name)


def _check_model_name(model: MilpModel, fmt: str) -> None:
    name = model.name
    bad = any(ch.isspace() for ch in name) if fmt == "MPS" else any(
        not ch.isprintable() for ch in name)
    if bad:
        kind = "whitespace" if fmt == "MPS" else "a line break or control character"
        raise InputError(f"{fmt} export: model name {name!r} contains {kind}")


def _check_bounds(model: MilpModel, fmt: str) -> None:
    for j, name in enumerate(model.var_names):
        if model.lower[j] == INF or model.upper[j] == -INF:
            raise InputError(f"{fmt} export: variable {name!r} has an infinite bound on the "
                             "wrong side (lower = +inf or upper = -inf)")
    for r, name in enumerate(model.row_names):
        if model.row_lower[r] == INF or model.row_upper[r] == -INF:
            raise InputError(f"{fmt} export: row {name!r} has an infinite bound on the "
                             "wrong side (lower = +inf or upper = -inf)")


# --------------------------------------------------------------------------------------------
# MPS


def _near(x: float, steps: int = 2) -> list[float]:
    out = [x]
    up = down = x
    for _ in range(steps):
        up, down = math.nextafter(up, INF), math.nextafter(down, -INF)
        out += [up, down]
    return out


def mps_range(lower: float, upper: float) -> tuple[str, float, float] | None:
    """(row type, RHS, R) for an MPS row whose reading gives exactly [lower, upper], or None.

    MPS RANGES rules: a G row reads as [RHS, RHS + |R|], an L row as [RHS − |R|, RHS] (an E
    row as one of the two by the sign of R, so it adds nothing). R is searched next to
    upper − lower; None when no float R works, which happens when the range needs a finer
    grid than the two bounds offer (e.g. lower < 0 < upper, or bounds in different binades).
    """
    width = upper - lower
    if not (math.isfinite(width) and width > 0):
        return None
    candidates = [r for r in _near(width) if 0 < r < INF]
    for r in candidates:
        if lower + r == upper:
            return "G", lower, r
    for r in candidates:
        if upper - r == lower:
            return "L", upper, r
    return None


def _mps_rows(model: MilpModel) -> list[_Row]:
    rows: list[_Row] = []
    for r, name in enumerate(model.row_names):
        lo, hi = float(model.row_lower[r]), float(model.row_upper[r])
        if lo == -INF and hi == INF:
            rows.append(_Row(name, r, "N"))
        elif lo == hi:
            rows.append(_Row(name, r, "E", lo))
        elif lo == -INF:
            rows.append(_Row(name, r, "L", hi))
        elif hi == INF:
            rows.append(_Row(name, r, "G", lo))
        elif (ranged := mps_range(lo, hi)) is not None:
            kind, rhs, width = ranged
            rows.append(_Row(name, r, kind, rhs, width))
        else:
            rows.append(_Row(f"{name}_lo", r, "G", lo))
            rows.append(_Row(f"{name}_hi", r, "L", hi))
    return rows


def _column_entries(model: MilpModel, rows: list[_Row]) -> list[list[tuple[str, float]]]:
    """Per column, its (row name, coefficient) entries in row order, zeros left out."""
    written: dict[int, list[str]] = {}
    for row in rows:
        written.setdefault(row.source, []).append(row.name)
    entries: list[list[tuple[str, float]]] = [[] for _ in range(model.n_vars)]
    for r in range(model.n_rows):
        idx, coef = model.row(r)
        for j, a in zip(idx.tolist(), coef.tolist(), strict=True):
            if a != 0.0:
                entries[j].extend((name, a) for name in written[r])
    return entries


def _mps_bounds(model: MilpModel, bnd: str) -> list[str]:
    lines: list[str] = []
    for j, name in enumerate(model.var_names):
        lo, hi, integer = float(model.lower[j]), float(model.upper[j]), bool(model.integer[j])
        if integer and lo == 0.0 and hi == 1.0:
            lines.append(f" BV {bnd}  {name}")
        elif lo == -INF and hi == INF:
            lines.append(f" FR {bnd}  {name}")
        elif lo == hi:
            lines.append(f" FX {bnd}  {name}  {_num(lo)}")
        else:
            if lo == -INF:
                lines.append(f" MI {bnd}  {name}")
            elif integer or not _is_plus_zero(lo):
                lines.append(f" LO {bnd}  {name}  {_num(lo)}")
            if hi != INF:
                lines.append(f" UP {bnd}  {name}  {_num(hi)}")
            elif integer:
                lines.append(f" PL {bnd}  {name}")
    return lines


def mps_text(model: MilpModel) -> str:
    """The model as a free-format MPS file (see the module docstring for the conventions).

    Raises InputError for a name MPS cannot carry, duplicate row names (also after splitting
    an unrepresentable ranged row into `<name>_lo` / `<name>_hi`), or an infinite bound on the
    wrong side.
    """
    _check_model_name(model, "MPS")
    _check_bounds(model, "MPS")
    _check(model.var_names, "variable", "MPS", lambda n: _mps_name_problem(n, True))
    rows = _mps_rows(model)
    _check((row.name for row in rows), "row", "MPS", lambda n: _mps_name_problem(n, False))
    row_names = [row.name for row in rows]
    obj = _fresh("obj", row_names)
    rhs_set = _fresh("RHS", [*row_names, obj])
    rng_set = _fresh("RNG", [*row_names, obj])
    bnd_set = _fresh("BND", model.var_names)

    lines = [f"NAME {model.name}".rstrip()]
    if model.sense == "max":
        lines += ["OBJSENSE", "    MAX"]
    lines += ["ROWS", f" N  {obj}"]
    lines += [f" {row.kind}  {row.name}" for row in rows]
    lines.append("COLUMNS")
    entries = _column_entries(model, rows)
    in_integer_block = False
    for j, name in enumerate(model.var_names):
        if bool(model.integer[j]) != in_integer_block:
            marker = "'INTEND'" if in_integer_block else "'INTORG'"
            lines.append(f"    MARKER  'MARKER'  {marker}")
            in_integer_block = not in_integer_block
        cost = float(model.objective[j])
        if not _is_plus_zero(cost) or not entries[j]:
            lines.append(f"    {name}  {obj}  {_num(cost)}")
        lines += [f"    {name}  {row}  {_num(a)}" for row, a in entries[j]]
    if in_integer_block:
        lines.append("    MARKER  'MARKER'  'INTEND'")
    rhs = [f"    {rhs_set}  {row.name}  {_num(row.rhs)}"
           for row in rows if row.rhs is not None and not _is_plus_zero(row.rhs)]
    if model.objective_offset != 0.0:
        rhs.append(f"    {rhs_set}  {obj}  {_num(-model.objective_offset)}")
    lines += ["RHS", *rhs]  # even empty: SCIP's and CBC's readers need the section after COLUMNS
    ranges = [f"    {rng_set}  {row.name}  {_num(row.range)}"
              for row in rows if row.range is not None]
    if ranges:
        lines += ["RANGES", *ranges]
    bounds = _mps_bounds(model, bnd_set)
    if bounds:
        lines += ["BOUNDS", *bounds]
    lines.append("ENDATA")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# LP


def _lp_term(coef: float, name: str) -> str:
    sign = "-" if math.copysign(1.0, coef) < 0 else "+"
    return f"{sign} {_num(abs(coef))} {name}"


def _wrap(head: str, parts: list[str], indent: str = "   ") -> list[str]:
    """`head` and then `parts`, blank-separated, in lines of at most LP_LINE_WIDTH characters
    where possible (a line always holds at least one part or the head)."""
    lines: list[str] = []
    line = head
    for part in parts:
        if line.strip() and len(line) + 1 + len(part) > LP_LINE_WIDTH:
            lines.append(line)
            line = indent + part
        else:
            line = f"{line} {part}"
    lines.append(line)
    return lines


def _lp_rows(model: MilpModel) -> list[tuple[str, int, str, float]]:
    """(name, model row, comparison, right-hand side) for every LP constraint."""
    out: list[tuple[str, int, str, float]] = []
    for r, name in enumerate(model.row_names):
        lo, hi = float(model.row_lower[r]), float(model.row_upper[r])
        if lo == -INF and hi == INF:
            continue
        if lo == hi:
            out.append((name, r, "=", lo))
        elif lo == -INF:
            out.append((name, r, "<=", hi))
        elif hi == INF:
            out.append((name, r, ">=", lo))
        else:
            out += [(f"{name}_lo", r, ">=", lo), (f"{name}_hi", r, "<=", hi)]
    return out


def _lp_objective(model: MilpModel) -> list[str]:
    parts = [_lp_term(float(c), name) for c, name in zip(
        model.objective.tolist(), model.var_names, strict=True)]
    offset = model.objective_offset
    if offset != 0.0:
        parts.append(f"{'-' if offset < 0 else '+'} {_num(abs(offset))}")
    if not parts:
        parts = ["+ 0.0"]
    return ["Maximize" if model.sense == "max" else "Minimize", *_wrap("", parts)]


def _lp_constraints(model: MilpModel, rows: list[tuple[str, int, str, float]]) -> list[str]:
    lines = ["Subject To"]
    for name, r, comparison, rhs in rows:
        idx, coef = model.row(r)
        terms = [_lp_term(a, model.var_names[j])
                 for j, a in zip(idx.tolist(), coef.tolist(), strict=True) if a != 0.0]
        if not terms:
            if not model.n_vars:
                raise InputError(f"LP export: row {name!r} is empty and the model has no "
                                 "variable to write it with")
            terms = [_lp_term(0.0, model.var_names[0])]
        lines += _wrap(f" {name}:", [*terms, f"{comparison} {_num(rhs)}"])
    return lines


def _lp_bounds(model: MilpModel) -> tuple[list[str], list[str], list[str]]:
    """(Bounds lines, General names, Binary names)."""
    bounds: list[str] = []
    general: list[str] = []
    binary: list[str] = []
    for j, name in enumerate(model.var_names):
        lo, hi, integer = float(model.lower[j]), float(model.upper[j]), bool(model.integer[j])
        if integer and lo == 0.0 and hi == 1.0:
            binary.append(name)
            continue
        if integer:
            general.append(name)
        if lo == -INF and hi == INF:
            bounds.append(f" {name} free")
        elif lo == hi:
            bounds.append(f" {name} = {_num(lo)}")
        elif lo == -INF:
            bounds.append(f" -inf <= {name} <= {_num(hi)}")
        elif hi == INF:
            if integer or lo != 0.0:
                bounds.append(f" {name} >= {_num(lo)}")
        else:
            bounds.append(f" {_num(lo)} <= {name} <= {_num(hi)}")
    return bounds, general, binary


def lp_text(model: MilpModel) -> str:
    """The model as a CPLEX LP file (see the module docstring for the conventions).

    Raises InputError for a name LP format cannot carry, duplicate row names (also after
    splitting ranged rows into `<name>_lo` / `<name>_hi`), or an infinite bound on the wrong
    side.
    """
    _check_model_name(model, "LP")
    _check_bounds(model, "LP")
    _check(model.var_names, "variable", "LP", _lp_name_problem)
    rows = _lp_rows(model)
    _check((name for name, *_ in rows), "row", "LP", _lp_name_problem)
    lines = [f"\\ Problem: {model.name}", *_lp_objective(model)]
    lines += _lp_constraints(model, rows)
    bounds, general, binary = _lp_bounds(model)
    if bounds:
        lines += ["Bounds", *bounds]
    if general:
        lines += ["General", *_wrap("", general)]
    if binary:
        lines += ["Binary", *_wrap("", binary)]
    lines.append("End")
    return "\n".join(lines) + "\n"
