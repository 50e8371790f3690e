"""Random subset-sum: keep a subset of n numbers whose sum is as close as possible to a target.

The objective of a mask m (a 0/1 vector of length n) is |x·m − z|. `evaluate` returns it
correctly rounded from the exact rational value (math.fsum), so it is exact to one float64
rounding whatever n is; `exact_error` returns the exact `Fraction` for certification.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.header import FORMAT, VERSION
from exactprune.instances.io import check_generator
from exactprune.instances.masks import binary_mask, binary_masks
from exactprune.instances.network import (
    ReadOnlyArrays,
    check_exact_floats,
    check_exact_ints,
    float_array,
)
from exactprune.instances.params import is_integer
from exactprune.instances.scaling import IntegerScaling, integer_scaling, rounded_sum


def _finite_float(raw: Any, name: str) -> float:
    if isinstance(raw, np.ndarray) and raw.ndim == 0:  # np.array(0.3), as np.float64(0.3) is
        raw = raw[()]  # taken (hunt 201 note): its element, read as that element would be
    if not (is_integer(raw) or isinstance(raw, float | np.floating)):
        raise InputError(f"{name} must be a number, got {raw!r}")
    check_exact_ints([raw], name)
    if isinstance(raw, np.floating) and raw.dtype.itemsize > 8:  # a long double (hunt 115 L1)
        check_exact_floats(np.asarray(raw), name)
    try:
        value = float(raw)
    except OverflowError:
        raise InputError(f"{name} is beyond the float64 range") from None
    if not math.isfinite(value):
        raise InputError(f"{name} must be finite, got {value}")
    return value


@dataclass(frozen=True, eq=False)
class SubsetSumInstance(ReadOnlyArrays):
    """Subset-sum instance: n values x (shape (n,), float64) and a target z.

    The decision is a keep-mask m in {0,1}^n; the error of m is |Σ_i x_i·m_i − z|.
    `generator` records how the instance was made (seed, parameters), if it was generated.
    """

    values: np.ndarray
    target: float
    generator: dict[str, Any] | None = field(default=None)
    kind: ClassVar[str] = "subset_sum"

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", float_array(self.values, "values", 1))
        object.__setattr__(self, "target", _finite_float(self.target, "target"))
        self.validate()

    @property
    def n(self) -> int:
        """Number of values (the mask length)."""
        return int(self.values.shape[0])

    @property
    def mask_size(self) -> int:
        """Number of binary decisions."""
        return self.n

    @property
    def mask_shape(self) -> tuple[int, ...]:
        """(n,)."""
        return (self.n,)

    def full_mask(self) -> np.ndarray:
        """The mask keeping every value."""
        return np.ones(self.n, dtype=bool)

    def validate(self) -> None:
        """Raise InputError unless the instance is well formed (non-empty, finite)."""
        if self.values.shape[0] == 0:
            raise InputError("values must not be empty")
        if not np.all(np.isfinite(self.values)) or not math.isfinite(self.target):
            raise InputError("values and target must be finite")
        check_generator(self.generator)

    def check_mask(self, mask: Any) -> np.ndarray:
        """Return `mask` as a bool array of shape (n,), or raise InputError."""
        return binary_mask(mask, (self.n,), self.kind)

    def exact_error(self, mask: Any) -> Fraction:
        """The exact rational error |x·m − z| of `mask` (every float64 is a rational): the
        int64 sum of the lossless integer scaling when there is one (it is exact: every
        |Σ X·m − Z| < 2^62), else a sum of Fractions (about 1 µs per kept value: 0.5 s at
        n = 300,000, which core_search paid every round; hunt 71 M1)."""
        m = self.check_mask(mask)
        sc = self.scaling
        if sc.lossless:
            units = abs(int(sc.values[m].sum(dtype=np.int64)) - sc.target)
            return (Fraction(units, 1 << sc.exponent) if sc.exponent >= 0
                    else Fraction(units << -sc.exponent))
        total = sum((Fraction(float(v)) for v in self.values[m]), Fraction(0))
        return abs(total - Fraction(self.target))

    def evaluate(self, mask: Any) -> float:
        """The error |x·m − z| of `mask`, correctly rounded to float64 (math.fsum, or exact
        rational arithmetic when a partial sum of values near 1e308 overflows; an error beyond
        the float64 range is inf)."""
        m = self.check_mask(mask)
        return abs(rounded_sum([*self.values[m].tolist(), -self.target]))

    @functools.cached_property
    def scaling(self) -> IntegerScaling:
        """The values and target as integers X = x·2^p (lossless when the data allow it)."""
        return integer_scaling(self.values, self.target)

    @functools.cached_property
    def sum_grid(self) -> Fraction:
        """g, the largest number every value is an integer multiple of (0 if every value is
        0): each float is o·2^e with o odd, and g = gcd of the o's × 2^(least e). Every
        subset sum is a multiple of g, which is what `error_floor` rests on."""
        nonzero = np.abs(self.values[self.values != 0])
        if nonzero.size == 0:
            return Fraction(0)
        mant, exp = np.frexp(nonzero)
        ints = np.ldexp(mant, 53).astype(np.int64)  # exact: x = ints·2^(exp − 53)
        twos = np.frexp((ints & -ints).astype(np.float64))[1] - 1  # trailing zero bits
        odd = ints >> twos
        least = int((exp - 53 + twos).min())
        gcd = int(np.gcd.reduce(odd))
        return Fraction(gcd, 1 << -least) if least < 0 else Fraction(gcd << least)

    @functools.cached_property
    def error_floor(self) -> Fraction:
        """The least error any mask can have by divisibility alone: the target's exact
        distance to the nearest multiple of `sum_grid` (|z| when every value is 0). A mask
        whose exact error equals it is optimal for every goal but the sparsest one (values
        k/2^20 and a target off that grid: 2^-21, which SCIP's and HiGHS' tolerances cannot
        prove and CP-SAT proves only after its search)."""
        z, g = Fraction(self.target), self.sum_grid
        if g == 0:
            return abs(z)
        rest = z - math.floor(z / g) * g  # in [0, g)
        return min(rest, g - rest)

    def error_floor_reason(self) -> str:
        """What `error_floor` is, for notes: "the target's distance to the nearest multiple of
        g, which every subset sum is" ("multiple of 0.0" read oddly where every value is 0;
        hunt 193 L1)."""
        if self.sum_grid == 0:
            return "|target|, as every value is 0 (every subset sum is 0)"
        return (f"the target's distance to the nearest multiple of {float(self.sum_grid)!r}, "
                "which every subset sum is")

    def errors(self, masks: Any) -> np.ndarray:
        """Errors of a batch of masks (B, n), shape (B,): each exactly `evaluate(mask)`.

        With a lossless integer scaling (float data within 62 bits of range, e.g. any
        Uniform[-1, 1] draw) the sums are exact int64 sums and each error is rounded once to
        float64, which is what `evaluate` returns; otherwise each mask goes through `evaluate`.
        """
        m = binary_masks(masks, (self.n,), self.kind)
        sc = self.scaling
        if not sc.lossless:
            return np.array([self.evaluate(row) for row in m])
        units = np.abs(m.astype(np.int64) @ sc.values - np.int64(sc.target))
        with np.errstate(over="ignore"):  # inf, as evaluate says, without numpy's warning
            return np.ldexp(units.astype(np.float64), -sc.exponent)

    def kept(self, mask: Any) -> int:
        """Number of kept values."""
        return int(self.check_mask(mask).sum())

    def mask_to_json(self, mask: Any) -> list[int]:
        return [int(b) for b in self.check_mask(mask)]

    def mask_from_json(self, raw: Any) -> np.ndarray:
        if not isinstance(raw, list):
            raise InputError("a subset_sum mask must be a list of 0/1")
        return self.check_mask(raw)

    def to_json(self) -> dict[str, Any]:
        """The instance as a JSON-ready dict (format exactprune.instance, version 1)."""
        data: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "kind": self.kind,
            "values": self.values.tolist(),
            "target": self.target,
        }
        if self.generator is not None:
            data["generator"] = self.generator
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SubsetSumInstance:
        """Build an instance from its JSON dict; raises InputError on anything malformed."""
        for key in ("values", "target"):
            if key not in data:
                raise InputError(f"subset_sum instance is missing the field {key!r}")
        generator = data.get("generator")
        if generator is not None and not isinstance(generator, dict):
            raise InputError("generator must be an object")
        return cls(values=data["values"], target=data["target"], generator=generator)
