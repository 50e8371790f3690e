"""Typed, documented parameters: generator arguments and backend options, parsed one way.

A `Param` says what a value may be (int, float, bool, str or a list of floats; optional or not;
choices; a range) and parses it from text (a CLI flag, ``--option KEY=VALUE``, ``--param
NAME=V1,V2``) or from a Python, JSON or TOML value, raising `InputError` with one line that names
the parameter and what it accepts. The same `Param` objects describe

- a problem kind's generator parameters: a frozen dataclass whose fields carry a `Param` in their
  metadata (`param(...)`); `params_of(cls)` lists them and `build_params(cls, mapping)` builds the
  dataclass, refusing unknown names and missing required ones (the CLI's ``generate`` flags, sweep
  grids and TOML keys are all derived from it);
- a backend's options (`solvers.registry.Backend.options`).

The argparse value types at the end (`positive_float`, ...) serve the commands' fixed flags.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError

TYPES = ("int", "float", "bool", "str", "floats")
"""Value types: integer, finite float, boolean, string, list of finite floats."""

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
_NONE = ("none", "null")


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""Default of a parameter that must be given."""


@dataclass(frozen=True)
class Param:
    """One parameter: its name, type, default and what values it accepts.

    type: one of TYPES; default: REQUIRED when it must be given; optional: None is a valid value
    (text "none"/"null" reads as None); choices: the only valid values; minimum/maximum:
    inclusive bounds for numbers (`above` makes the minimum exclusive); help: one line for
    ``--help`` and ``exactprune solvers``.
    """

    name: str
    type: str
    default: Any = REQUIRED
    help: str = ""
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    above: bool = False
    optional: bool = False
    amount: bool = False  # a quantity (seconds, gigabytes) that may round: 10**30 is 1e30
    file: bool = False  # names an input file (a trained network): hashed into store keys

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"parameter type must be one of {TYPES}, got {self.type!r}")

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def describe(self) -> str:
        """The help text with the accepted values and the default."""
        parts = [self.help.rstrip(".")] if self.help else []
        accepts = self.type if self.choices is None else " | ".join(map(str, self.choices))
        if self.minimum is not None or self.maximum is not None:
            op = ">" if self.above else ">="
            lo = "" if self.minimum is None else f"{op} {_fmt(self.minimum)}"
            hi = "" if self.maximum is None else f"<= {_fmt(self.maximum)}"
            accepts += " " + ", ".join(x for x in (lo, hi) if x)
        if self.required:
            default = "required"
        elif self.default is None:
            default = "default unset"  # the help text says what unset means
        else:
            default = f"default {self.default}"
        parts.append(f"{accepts}; {default}")
        return "; ".join(parts)

    def declaration(self) -> dict[str, Any]:
        """The parameter as data, for scripts (``exactprune solvers --json``'s
        `option_declarations`): type, required, default (absent when required; null when
        unset), optional (null accepted), choices, minimum, maximum (null when unbounded),
        minimum_exclusive, help. `describe` says the same in words."""
        out: dict[str, Any] = {"type": self.type, "required": self.required}
        if not self.required:
            out["default"] = list(self.default) if isinstance(self.default, tuple) \
                else self.default
        out.update({"optional": self.optional,
                    "choices": None if self.choices is None else list(self.choices),
                    "minimum": self.minimum, "maximum": self.maximum,
                    "minimum_exclusive": self.above, "help": self.help})
        return out

    def parse(self, raw: Any) -> Any:
        """The typed value of `raw` (text or a plain value), or InputError naming the parameter."""
        if raw is None or (isinstance(raw, str) and raw.strip().lower() in _NONE):
            if self.optional:
                return None
            raise InputError(f"{self.name} needs a value ({self.describe()})")
        value = self._convert(raw)
        if self.choices is not None and value not in self.choices:
            known = ", ".join(map(str, self.choices))
            raise InputError(f"{self.name} must be one of {known}, got {raw!r}")
        for v in value if self.type == "floats" else [value]:
            if self.type in ("int", "float", "floats"):
                self._check_range(v)
        return value

    def _convert(self, raw: Any) -> Any:
        if self.type == "bool":
            if isinstance(raw, bool) or (hasattr(raw, "dtype") and raw.dtype.kind == "b"
                                         and getattr(raw, "ndim", 1) == 0):
                return bool(raw)  # numpy's bool too, as numpy's numbers are numbers
            if isinstance(raw, str) and raw.strip().lower() in _TRUE + _FALSE:
                return raw.strip().lower() in _TRUE
            raise InputError(f"{self.name} must be true or false, got {raw!r}")
        if self.type == "int":
            return _to_int(raw, self.name)
        if self.type == "float":
            return _to_float(raw, self.name, exact=not self.amount)
        if self.type == "floats":
            # "" and "[]" are no list of numbers, not "must be a number, got ''" (hunt 88 L3),
            # nor is "1," (hunt 95 L3)
            items = (raw.split(",") if raw.strip() not in ("", "[]") else []
                     ) if isinstance(raw, str) else raw
            if isinstance(items, list) and len(items) > 1 and any(
                    isinstance(x, str) and not x.strip() for x in items):
                items = []
            if isinstance(items, str) or not isinstance(items, Sequence) or not items:
                raise InputError(f"{self.name} must be a list of numbers (comma-separated; "
                                 f"one value of a sweep's --param in brackets, "
                                 f"{self.name}=[0.6,0.8], of a TOML grid in double "
                                 f"brackets, {self.name} = [[0.6, 0.8]]), got {raw!r}")
            return tuple(_to_float(x, self.name) for x in items)
        if not isinstance(raw, str):
            raise InputError(f"{self.name} must be a string, got {raw!r}")
        return raw

    def _check_range(self, v: float) -> None:
        if self.minimum is not None and (v <= self.minimum if self.above else v < self.minimum):
            op = ">" if self.above else ">="
            raise InputError(f"{self.name} must be {op} {_fmt(self.minimum)}, got {v!r}")
        if self.maximum is not None and v > self.maximum:
            raise InputError(f"{self.name} must be <= {_fmt(self.maximum)}, got {v!r}")


def is_integer(x: Any) -> bool:
    """Whether `x` is a Python or numpy integer scalar, not a bool (Python's or numpy's) nor a
    numpy timedelta64 (numpy counts it as an integer: a duration in ns was taken as the plain
    number and one in ms raised TypeError deep inside; hunt 147 M1)."""
    return isinstance(x, int | np.integer) and not isinstance(x, bool | np.bool_ | np.timedelta64)


def _fmt(x: float) -> str:
    """A bound as text: integers in full (67108864), other numbers as %g."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e16 else f"{x:g}"


def _to_int(raw: Any, name: str) -> int:
    if isinstance(raw, bool):
        raise InputError(f"{name} must be an integer, got {raw!r}")
    if isinstance(raw, int) or (hasattr(raw, "dtype") and raw.dtype.kind in "iu"):
        return int(raw)
    if isinstance(raw, str):
        text = raw.strip()
        if len(text) > 30:
            raise InputError(f"{name} must be an integer of at most 30 digits, got "
                             f"{len(text)} characters")
        if INTEGER_TEXT.fullmatch(text):
            return int(text)
    raise InputError(f"{name} must be an integer, got {raw!r}")


# ASCII digits only: what int() and float() take beyond them ("1_0" as 10, full-width and
# Arabic-Indic digits as their values) is refused (hunt 37 L1)
INTEGER_TEXT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?(inf|infinity|nan)",
                      re.IGNORECASE | re.ASCII)


def decimal_float(text: str, name: str, exact: bool = True) -> float:
    """A number written as text (a flag, an option, a TOML or --param value) as float64, or an
    InputError naming `name`: what float() takes beyond plain decimals ("1_0", full-width
    digits) is refused, and so are numbers float64 cannot hold, which it rounded silently: an
    integer such as 2^53 + 1 (write it as a float if the rounding is meant) and a nonzero
    number that underflows to 0 (1e-400; hunt 35, hunt 36). `exact=False` lets an integer
    round, for amounts (a time limit of 10**30 s; hunt 37 M2)."""
    t = str(text).strip()
    if not _DECIMAL.fullmatch(t):
        raise InputError(f"{name} must be a number, got {text!r:.80}")
    x = float(t)
    problem = _inexact_decimal(t, x, exact)
    if problem:
        raise InputError(f"{name}: {problem}")
    return x


def _inexact_decimal(t: str, x: float, exact: bool = True) -> str | None:
    """Why the plain decimal `t`, read as `x`, is not a number float64 holds, or None (an
    integer that rounds is one unless not `exact`)."""
    if x == 0.0 and any(c in "123456789" for c in t.lower().split("e")[0]):
        return f"{t:.40} underflows float64 to 0"
    # Decimal, not int(): int() refuses runs over 4,300 digits (hunt 45 F4)
    if exact and t.lstrip("+-").isdigit() and math.isfinite(x) and Decimal(t) != Decimal(x):
        return (f"{_fmt_big(t)} has no exact float64 value (write it as a float if the "
                f"rounding is meant)")
    return None


def _to_float(raw: Any, name: str, exact: bool = True) -> float:
    if isinstance(raw, bool):
        raise InputError(f"{name} must be a number, got {raw!r}")
    if isinstance(raw, int | float | np.integer | np.floating):
        value = as_number(raw, name, exact=exact)
    elif hasattr(raw, "dtype") and raw.dtype.kind in "iuf":  # a 0-d array
        value = float(raw)
    elif isinstance(raw, str) and len(raw.strip()) <= 100:
        value = decimal_float(raw, name, exact)
    else:
        raise InputError(f"{name} must be a number, got {raw!r}"[:200])
    if not math.isfinite(value):
        raise InputError(f"{name} must be finite, got {raw!r}")
    return value


def as_number(value: Any, name: str, *, integer: bool = False, exact: bool = True) -> Any:
    """A Python or numpy number as a Python int (`integer`) or float, for the checks of the
    Python API: numpy scalars are taken as their value, and bools, other types and ints beyond
    float64 (an OverflowError, deep inside) are an InputError naming `name` (hunt 31). As for
    the instances' data, a number float64 cannot hold exactly (an int such as 2^53 + 1, a
    long double) is refused, not rounded silently (a generator's target was; hunt 32);
    `exact=False` rounds it, for amounts such as a time limit of 10**30 seconds (hunt 36)."""
    if isinstance(value, bool | np.bool_ | np.timedelta64 | np.datetime64):
        raise InputError(f"{name} must be {'an integer' if integer else 'a number'}, "
                         f"got {value!r}")
    if isinstance(value, int | np.integer):
        if integer:
            return int(value)
        try:
            x = float(value)
        except OverflowError:
            raise InputError(f"{name} is too large for a float64, got {_fmt_big(value)}") \
                from None
        if exact and int(x) != int(value):
            raise InputError(f"{name}: {_fmt_big(value)} has no exact float64 value (write "
                             f"it as a float if the rounding is meant)")
        return x
    if not integer and isinstance(value, float | np.floating):
        x = float(value)
        if math.isinf(x) and np.isfinite(value):  # a long double beyond float64's range
            raise InputError(f"{name} is too large for a float64, got {value!r}")
        if exact and math.isfinite(x) and x != value:  # a long double beyond float64's
            raise InputError(f"{name}: {value!r} has no exact float64 value (convert it "
                             f"with float() if the rounding is meant)")
        return x
    raise InputError(f"{name} must be {'an integer' if integer else 'a number'}, "
                     f"got {value!r:.80}")


def as_flag(value: Any, name: str) -> bool:
    """A Python or numpy bool as a bool, else an InputError naming `name`: a truthy string
    ("no") or an int (1) was taken as True (hunt 31)."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise InputError(f"{name} must be True or False, got {value!r:.80}")


def _fmt_big(value: Any) -> str:
    """An integer (or its decimal text) for a message: in full up to 30 digits. Text is not
    converted with int(), which refuses runs over 4,300 digits (hunt 45 F4)."""
    if isinstance(value, str):
        sign = "-" if value.strip().startswith("-") else ""
        text = sign + (value.strip().lstrip("+-").lstrip("0") or "0")
    else:
        text = str(int(value))
    return f"the integer {text}" if len(text) <= 30 else f"an integer of {len(text)} digits"


def clipped(text: str) -> str:
    """A number's text for a message: up to 40 characters, then how long it was."""
    return text if len(text) <= 40 else f"{text[:40]}... ({len(text)} characters)"


# -- parameter dataclasses ------------------------------------------------------------------
_META = "exactprune.param"


def param(default: Any = REQUIRED, *, help: str = "", choices: Sequence[Any] | None = None,
          minimum: float | None = None, maximum: float | None = None,
          above: bool = False, file: bool = False) -> Any:
    """A dataclass field declaring a generator parameter (type from the annotation); `file`:
    its value names an input file (sweeps hash it into the key and hand Dask workers its
    absolute path)."""
    spec = {"help": help, "choices": None if choices is None else tuple(choices),
            "minimum": minimum, "maximum": maximum, "above": above, "file": file}
    if default is REQUIRED:
        return dataclasses.field(metadata={_META: spec})
    return dataclasses.field(default=default, metadata={_META: spec})


def _type_of(annotation: Any) -> tuple[str, bool]:
    """(Param type, optional) of a field annotation: int, float, bool, str,
    tuple[float, ...], each possibly `| None`."""
    args = typing.get_args(annotation)
    optional = False
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        rest = [a for a in args if a is not type(None)]
        optional = len(rest) < len(args)
        if len(rest) != 1:
            raise TypeError(f"unsupported parameter annotation {annotation!r}")
        annotation = rest[0]
    if typing.get_origin(annotation) is tuple:
        return "floats", optional
    names = {int: "int", float: "float", bool: "bool", str: "str"}
    if annotation not in names:
        raise TypeError(f"unsupported parameter annotation {annotation!r}")
    return names[annotation], optional


def params_of(cls: type) -> list[Param]:
    """The `Param` of every field of the parameter dataclass `cls`, in field order."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        spec = dict(f.metadata.get(_META, {}))
        kind, optional = _type_of(hints[f.name])
        default = REQUIRED if f.default is dataclasses.MISSING else f.default
        out.append(Param(f.name, kind, default, optional=optional, **spec))
    return out


def build_params(cls: type, values: Mapping[str, Any], what: str = "parameter") -> Any:
    """The dataclass `cls` from `values` (text or plain values), every one parsed by its Param.

    Unknown names and missing required ones raise InputError naming the valid ones.
    """
    spec = {p.name: p for p in params_of(cls)}
    unknown = sorted(set(values) - set(spec))
    if unknown:
        raise InputError(f"unknown {what} {unknown[0]!r} (known: {', '.join(spec)})")
    missing = [n for n, p in spec.items() if p.required and n not in values]
    if missing:
        raise InputError(f"{what} {missing[0]!r} is required")
    return cls(**{name: spec[name].parse(raw) for name, raw in values.items()})


# -- argparse value types for the commands' fixed flags -------------------------------------
def positive_float(text: str, exact: bool = True) -> float:
    """A finite number > 0 (a tolerance, a learning rate)."""
    value = finite_float(text, exact)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got "
                                         f"{clipped(str(text))}")
    return value


def positive_amount(text: str) -> float:
    """A finite number > 0 of seconds or gigabytes, which may round: `--time-limit 10**30`
    written out in full is 1e30 s (hunt 37 M2), while a number given as data may not round."""
    return positive_float(text, exact=False)


def finite_float(text: str, exact: bool = True) -> float:
    """Any finite number (written as `decimal_float` reads it)."""
    t = str(text).strip()
    if not _DECIMAL.fullmatch(t):
        raise argparse.ArgumentTypeError(f"not a number: {clipped(repr(text))}")
    value = float(t)
    problem = _inexact_decimal(t, value, exact)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {clipped(str(text))}")
    return value


def _int_at_least(text: str, least: int) -> int:
    t = str(text).strip()
    if len(t) > 30:  # int() refuses 4,300 digits and more with argparse's generic message
        raise argparse.ArgumentTypeError(f"not an integer of at most 30 digits: "
                                         f"{len(t)} characters")
    if not INTEGER_TEXT.fullmatch(t):
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}")
    value = int(t)
    if value < least:
        raise argparse.ArgumentTypeError(f"must be >= {least}, got {value}")
    return value


def nonneg_int(text: str) -> int:
    """An integer >= 0 (seeds, budgets)."""
    return _int_at_least(text, 0)


def positive_int(text: str) -> int:
    """An integer >= 1 (sizes, threads); a negative one is told the same bound."""
    return _int_at_least(text, 1)


def int_from_to(low: int, high: int) -> Callable[[str], int]:
    """The argparse type of an integer from `low` to `high`: both ends said by the parser in
    one wording (`--threads 0` and `--threads 65` were refused by two layers in two; hunt 211
    L1)."""
    def parse(text: str) -> int:
        try:
            value = _int_at_least(text, low)
        except argparse.ArgumentTypeError as exc:
            if "must be >=" not in str(exc):
                raise
            value = int(str(text).strip())
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be an integer from {low} to {high}, got "
                                             f"{value}")
        return value

    return parse


def nonneg_finite_float(text: str) -> float:
    """A finite number >= 0 (an error tolerance): `--eps -1` is the parser's line, as
    `--eps nan` is (hunt 211 L1)."""
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {clipped(str(text))}")
    return value + 0.0  # -0 is 0 (it was stored as "eps": -0.0; hunt 214 L3)
