"""Exact MPS / LP export (formulations/model_files.py): the files read back bit for bit.

Each model is written with `mps_text` / `lp_text`, read back by HiGHS (`Highs.readModel`) and
compared with the MilpModel bit for bit: costs, column bounds, row bounds, the matrix as sorted
(row, column, value) triples, integrality, sense, offset, column and row names. Floats are
compared as values and as int64 bit patterns after adding +0.0 (which maps -0.0 to +0.0):
signed zeros carry nothing in a model and the writer does not promise them.

What differs on purpose is accounted for explicitly, each from its own rule:
- free rows: MPS writes them as N rows, which HiGHS drops; LP does not write them;
- ranged rows: LP splits every one into `<name>_lo` / `<name>_hi`; MPS splits only those that no
  RANGES value reproduces, which `ranges_value_exists` checks here by brute force;
- HiGHS drops matrix entries with |a| <= small_matrix_value (1e-9, and zeros): those are
  checked with OR-Tools' MPS reader, which keeps them, and in the LP text.
HiGHS options `large_matrix_value`, `infinite_bound` and `infinite_cost` are set to inf so that
HiGHS keeps 1e300 entries and bounds >= 1e20 as they are.
"""

from __future__ import annotations

import ast
import math
import warnings
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pytest

from exactprune.formulations.linear import MilpModel, to_highs, to_pulp
from exactprune.formulations.model_files import LP_LINE_WIDTH, lp_text, mps_range, mps_text
from exactprune.formulations.pruning.bigm import bigm_milp
from exactprune.formulations.pruning.selection import build_selection, selection_milp
from exactprune.formulations.subset_sum.milp import subset_sum_model
from exactprune.instances import (
    InputError,
    SubsetSumInstance,
    generate_neuron_pruning,
    generate_subset_sum,
    generate_weight_pruning,
)
from exactprune.solvers.result import Goal

INF = math.inf
MODULE = Path(__file__).resolve().parents[1] / "formulations" / "model_files.py"
WRITERS = {"mps": mps_text, "lp": lp_text}


# --------------------------------------------------------------------------------------------
# Models


def hand_model() -> MilpModel:
    """Maximisation with an offset, ranged rows (one RANGES can carry, one it cannot), an
    equality, a free row, an empty row, an explicit zero, a free variable, general integers
    in [-3, 7] and [0, inf) (MPS readers may make the latter [0, 1]), a binary, an infinite
    upper bound, a fixed variable, a bound-less column, and awkward floats (0.1, 1/3, 2**-60,
    1e300, the subnormal -5e-324, a bound of 1e25)."""
    return MilpModel.from_rows(
        var_names=["x", "k", "f", "b", "w", "fx", "lonely", "neg", "g"],
        lower=[0.0, -3.0, -INF, 0.0, -2.5, 1.5, 0.0, -INF, 0.0],
        upper=[INF, 7.0, INF, 1.0, 1e25, 1.5, INF, -2.0, INF],
        integer=[False, True, False, True, False, False, False, False, True],
        objective=[0.1, 1 / 3, -5e-324, 2.0**-60, 0.0, 0.0, 0.0, -1.0, 0.0],
        rows=[
            ([0, 1], [0.1, 1e300], 1.0, 2.5, "rng"),
            ([1, 2], [1 / 3, 2.0], -0.34631253456669536, 1.653687465433305, "rng2"),
            ([0, 2, 3], [1 / 3, -5e-324, 2.0**-60], 1 / 3, 1 / 3, "eq"),
            ([4, 5], [1.0, -1.0], -INF, 1e300, "le"),
            ([7], [1.0], -0.1, INF, "ge"),
            ([0], [3.0], -INF, INF, "freerow"),
            ([], [], -INF, 4.0, "spare"),
            ([0, 1, 8], [0.0, 2.0, 0.5], -1.0, INF, "zr"),
        ],
        mask_variables=[3],
        sense="max",
        objective_offset=-7 / 3,
        name="hand",
    )


def random_bound(rng: np.random.Generator) -> float:
    return float(rng.choice([-1.0, 1.0]) * rng.random() * 10.0 ** rng.integers(-300, 300))


def ranges_model(rows: int = 300, seed: int = 7) -> MilpModel:
    """Many ranged rows with awkward bounds: random magnitudes, opposite signs, windows
    z ± eps rounded outwards (as the sparsest model builds them), bounds a few ulps apart."""
    rng = np.random.default_rng(seed)
    spec = []
    for r in range(rows):
        kind = r % 3
        if kind == 0:
            lo, hi = sorted((random_bound(rng), random_bound(rng)))
        elif kind == 1:
            z, eps = float(rng.uniform(-1, 1)), 10.0 ** float(rng.integers(-15, 3))
            lo, hi = math.nextafter(z - eps, -INF), math.nextafter(z + eps, INF)
        else:
            lo = hi = float(rng.uniform(-4, 4))
            for _ in range(int(rng.integers(1, 4))):
                hi = math.nextafter(hi, INF)
        spec.append(([0, 1], [1.0, float(rng.uniform(-1, 1))], lo, hi, f"q_{r}"))
    return MilpModel.from_rows(
        var_names=["y", "z_0"], lower=[-INF, -5.0], upper=[INF, 5.0], integer=[False, True],
        objective=[0.0, 1.0], rows=spec, mask_variables=[], name="ranges",
    )


def renamed(model: MilpModel, names: dict[str, str]) -> MilpModel:
    return replace(model, var_names=tuple(names.get(v, v) for v in model.var_names))


@cache
def case(name: str) -> MilpModel:
    kind, _, seed = name.rpartition("_s")
    if kind.startswith("subset_sum"):
        inst = generate_subset_sum(40, seed=int(seed))
        goal = {"subset_sum_min_error": None,
                "subset_sum_max_kept": Goal(max_kept=5),
                "subset_sum_sparsest": Goal(objective="sparsest", eps=1e-3)}[kind]
        return subset_sum_model(inst, goal)
    if name == "neuron_selection":
        inst = generate_neuron_pruning(d=2, width=8, points=32, seed=1,
                                       output_activation="relu")
        return selection_milp(build_selection(inst))
    if name in ("weight_selection", "weight_bigm"):
        inst = generate_weight_pruning(d=2, width=4, points=16, seed=2,
                                       output_activation="relu", norm="l1")
        return bigm_milp(inst) if name == "weight_bigm" else selection_milp(build_selection(inst))
    return {"hand": hand_model, "ranges": ranges_model}[name]()


CASES = [
    *(f"subset_sum_min_error_s{s}" for s in range(3)),
    "subset_sum_max_kept_s0",
    *(f"subset_sum_sparsest_s{s}" for s in range(3)),
    "neuron_selection",
    "weight_selection",
    "weight_bigm",
    "hand",
    "ranges",
]


# --------------------------------------------------------------------------------------------
# Reading back and comparing


def option(h: highspy.Highs, name: str) -> Any:
    value = h.getOptionValue(name)
    return value[1] if isinstance(value, tuple) else value


def read_highs(path: Path) -> tuple[Any, float]:
    """(HighsLp read from `path`, the small_matrix_value HiGHS read it with)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for name in ("large_matrix_value", "infinite_bound", "infinite_cost"):
        h.setOptionValue(name, INF)
    status = h.readModel(str(path))
    assert status != highspy.HighsStatus.kError, f"HiGHS could not read {path.name}"
    return h.getLp(), float(option(h, "small_matrix_value"))


def write(tmp_path: Path, model: MilpModel, fmt: str) -> Path:
    path = tmp_path / f"{model.name}.{fmt}"
    path.write_text(WRITERS[fmt](model))
    return path


def bits(values: Any) -> np.ndarray:
    return (np.asarray(values, dtype=np.float64) + 0.0).view(np.int64)


def assert_bits_equal(got: Any, expected: Any, what: str) -> None:
    got_a = np.asarray(got, dtype=np.float64).reshape(-1)
    exp_a = np.asarray(expected, dtype=np.float64).reshape(-1)
    assert got_a.shape == exp_a.shape, f"{what}: {got_a.shape} != {exp_a.shape}"
    diff = np.flatnonzero(bits(got_a) != bits(exp_a))
    assert diff.size == 0, (
        f"{what}: {diff.size} differ, first at {diff[0]}: "
        f"{got_a[diff[0]]!r} != {exp_a[diff[0]]!r}")
    assert np.array_equal(got_a, exp_a), what


def ranges_value_exists(lo: float, hi: float) -> bool:
    """Whether some float R makes an MPS G row [lo, lo + R] or L row [hi - R, hi] read back
    exactly as [lo, hi]: brute force over 64 ulps either side of hi - lo."""
    width = hi - lo
    if not math.isfinite(width):
        return False
    candidates, up, down = [width], width, width
    for _ in range(64):
        up, down = math.nextafter(up, INF), math.nextafter(down, 0.0)
        candidates += [up, down]
    return any(r > 0 and (lo + r == hi or hi - r == lo) for r in candidates)


def expected_rows(model: MilpModel, fmt: str,
                  keep_free: bool = False) -> list[tuple[int, str, float, float]]:
    """(model row, name, lower, upper) of the rows a reader should hold, in order."""
    out: list[tuple[int, str, float, float]] = []
    for r, name in enumerate(model.row_names):
        lo, hi = float(model.row_lower[r]), float(model.row_upper[r])
        if lo == -INF and hi == INF:
            if keep_free and fmt == "mps":
                out.append((r, name, lo, hi))
            continue
        if -INF < lo < hi < INF and (fmt == "lp" or not ranges_value_exists(lo, hi)):
            out += [(r, f"{name}_lo", lo, INF), (r, f"{name}_hi", -INF, hi)]
        else:
            out.append((r, name, lo, hi))
    return out


def canonical(rows: Any, cols: Any, values: Any) -> tuple[np.ndarray, ...]:
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    order = np.lexsort((cols, rows))
    return rows[order], cols[order], values[order]


def highs_entries(lp: Any) -> tuple[np.ndarray, ...]:
    a = lp.a_matrix_
    start = np.asarray(a.start_, dtype=np.int64)
    index = np.asarray(a.index_, dtype=np.int64)
    outer = np.repeat(np.arange(start.size - 1), np.diff(start)) if start.size else start
    if a.format_ == highspy.MatrixFormat.kRowwise:
        return canonical(outer, index, a.value_)
    return canonical(index, outer, a.value_)


def model_entries(model: MilpModel, rows: list[tuple[int, str, float, float]],
                  drop_below: float) -> tuple[np.ndarray, ...]:
    """The model's entries with |a| > drop_below (zeros always go), placed in every file row
    that comes from their model row."""
    out_rows: list[int] = []
    out_cols: list[int] = []
    out_values: list[float] = []
    for k, (r, *_) in enumerate(rows):
        idx, coef = model.row(r)
        for j, a in zip(idx.tolist(), coef.tolist(), strict=True):
            if abs(a) > drop_below:
                out_rows.append(k)
                out_cols.append(j)
                out_values.append(a)
    return canonical(out_rows, out_cols, out_values)


def assert_entries_equal(got: tuple[np.ndarray, ...], expected: tuple[np.ndarray, ...]) -> None:
    assert np.array_equal(got[0], expected[0]), "matrix: row indices differ"
    assert np.array_equal(got[1], expected[1]), "matrix: column indices differ"
    assert_bits_equal(got[2], expected[2], "matrix values")


def assert_highs_holds(model: MilpModel, lp: Any, fmt: str, small: float) -> None:
    rows = expected_rows(model, fmt)
    assert lp.num_col_ == model.n_vars
    assert lp.num_row_ == len(rows)
    sense = highspy.ObjSense.kMaximize if model.sense == "max" else highspy.ObjSense.kMinimize
    assert lp.sense_ == sense
    assert_bits_equal([lp.offset_], [model.objective_offset], "objective offset")
    assert_bits_equal(lp.col_cost_, model.objective, "costs")
    assert_bits_equal(lp.col_lower_, model.lower, "column lower bounds")
    assert_bits_equal(lp.col_upper_, model.upper, "column upper bounds")
    integer = np.array([t == highspy.HighsVarType.kInteger for t in lp.integrality_], dtype=bool)
    if integer.size == 0:
        integer = np.zeros(model.n_vars, dtype=bool)
    assert np.array_equal(integer, model.integer), "integrality"
    assert_bits_equal(lp.row_lower_, [lo for *_, lo, _ in rows], "row lower bounds")
    assert_bits_equal(lp.row_upper_, [hi for *_, hi in rows], "row upper bounds")
    assert list(lp.col_names_) == list(model.var_names)
    assert list(lp.row_names_) == [name for _, name, *_ in rows]
    assert_entries_equal(highs_entries(lp), model_entries(model, rows, small))


def read_ortools(path: Path) -> Any:
    from ortools.linear_solver.python import model_builder

    builder = model_builder.Model()
    assert builder.import_from_mps_file(str(path)), f"OR-Tools could not read {path.name}"
    return builder.helper


def assert_ortools_holds(model: MilpModel, helper: Any) -> None:
    """OR-Tools' MPS reader keeps free (N) rows and tiny entries: everything must be there."""
    rows = expected_rows(model, "mps", keep_free=True)
    n = helper.num_variables()
    assert n == model.n_vars and helper.num_constraints() == len(rows)
    assert helper.maximize() == (model.sense == "max")
    assert_bits_equal([helper.objective_offset()], [model.objective_offset], "offset")
    assert [helper.var_name(j) for j in range(n)] == list(model.var_names)
    assert_bits_equal([helper.var_objective_coefficient(j) for j in range(n)],
                      model.objective, "costs")
    assert_bits_equal([helper.var_lower_bound(j) for j in range(n)], model.lower, "lower")
    assert_bits_equal([helper.var_upper_bound(j) for j in range(n)], model.upper, "upper")
    assert [helper.var_is_integral(j) for j in range(n)] == model.integer.tolist()
    assert [helper.constraint_name(k) for k in range(len(rows))] == [r[1] for r in rows]
    assert_bits_equal([helper.constraint_lower_bound(k) for k in range(len(rows))],
                      [r[2] for r in rows], "row lower bounds")
    assert_bits_equal([helper.constraint_upper_bound(k) for k in range(len(rows))],
                      [r[3] for r in rows], "row upper bounds")
    got_r: list[int] = []
    got_c: list[int] = []
    got_v: list[float] = []
    for k in range(len(rows)):
        cols = list(helper.constraint_var_indices(k))
        got_r += [k] * len(cols)
        got_c += cols
        got_v += list(helper.constraint_coefficients(k))
    assert_entries_equal(canonical(got_r, got_c, got_v), model_entries(model, rows, 0.0))


# --------------------------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize("name", CASES)
def test_mps_reads_back_bit_for_bit(tmp_path: Path, name: str) -> None:
    model = case(name)
    lp, small = read_highs(write(tmp_path, model, "mps"))
    assert_highs_holds(model, lp, "mps", small)


@pytest.mark.parametrize("name", CASES)
def test_lp_reads_back_bit_for_bit(tmp_path: Path, name: str) -> None:
    model = case(name)
    lp, small = read_highs(write(tmp_path, model, "lp"))
    assert_highs_holds(model, lp, "lp", small)


@pytest.mark.parametrize("name", ["hand", "ranges", "weight_bigm", "subset_sum_sparsest_s0"])
def test_mps_reads_back_in_ortools_with_free_rows_and_tiny_entries(
    tmp_path: Path, name: str
) -> None:
    model = case(name)
    assert_ortools_holds(model, read_ortools(write(tmp_path, model, "mps")))


def test_hand_model_exercises_what_it_claims(tmp_path: Path) -> None:
    """The special cases are really in the files: HiGHS drops the tiny entries (so the
    OR-Tools check above is needed), one ranged row stays one row in MPS and one is split."""
    model = hand_model()
    lp, small = read_highs(write(tmp_path, model, "mps"))
    assert small >= 2.0**-60
    names = list(lp.row_names_)
    assert "rng" in names and "rng2" not in names and {"rng2_lo", "rng2_hi"} <= set(names)
    assert "freerow" not in names
    text = lp_text(model)
    eq_line = next(line for line in text.splitlines() if line.startswith(" eq:"))
    assert f"- {5e-324!r} f" in eq_line and f"+ {2.0**-60!r} b" in eq_line
    assert "freerow" not in text
    assert "RANGES\n    RNG  rng  1.5\n" in mps_text(model)


def test_ranges_model_covers_both_mps_cases() -> None:
    model = ranges_model()
    split = [not ranges_value_exists(lo, hi)
             for lo, hi in zip(model.row_lower.tolist(), model.row_upper.tolist(), strict=True)]
    assert 0 < sum(split) < len(split)


def test_mps_range_is_exact_or_none() -> None:
    """mps_range gives an exact (type, RHS, R) exactly when brute force finds one."""
    rng = np.random.default_rng(11)
    found = missing = 0
    for _ in range(20000):
        lo, hi = sorted((random_bound(rng), random_bound(rng)))
        if rng.random() < 0.5:
            z, eps = float(rng.uniform(-1, 1)), 10.0 ** float(rng.integers(-15, 3))
            lo, hi = math.nextafter(z - eps, -INF), math.nextafter(z + eps, INF)
        if not lo < hi:
            continue
        ranged = mps_range(lo, hi)
        assert (ranged is not None) == ranges_value_exists(lo, hi), (lo, hi)
        if ranged is None:
            missing += 1
            continue
        found += 1
        kind, rhs, width = ranged
        assert width > 0
        assert (rhs, rhs + width) == (lo, hi) if kind == "G" else (rhs - width, rhs) == (lo, hi)
    assert found > 0 and missing > 0


# --------------------------------------------------------------------------------------------
# The instance itself is in the file


def over_row(lp: Any, n: int) -> tuple[np.ndarray, float]:
    """(coefficients of m_0..m_{n-1} in row "over", its upper bound) as HiGHS read them."""
    names = list(lp.row_names_)
    r = names.index("over")
    col = {name: j for j, name in enumerate(lp.col_names_)}
    rows, cols, values = highs_entries(lp)
    in_row = {int(c): float(v) for rr, c, v in zip(rows, cols, values, strict=True) if rr == r}
    return np.array([in_row[col[f"m_{i}"]] for i in range(n)]), float(lp.row_upper_[r])


@pytest.mark.parametrize("fmt", ["mps", "lp"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_subset_sum_file_carries_the_instance(tmp_path: Path, fmt: str, seed: int) -> None:
    inst = generate_subset_sum(40, seed=seed)
    model = subset_sum_model(inst, None)
    lp, _ = read_highs(write(tmp_path, model, fmt))
    values, target = over_row(lp, inst.n)
    assert_bits_equal(values, inst.values, "values in row over")
    assert_bits_equal([target], [inst.target], "target")


@pytest.mark.parametrize("fmt", ["mps", "lp"])
def test_values_near_the_float64_limit_export_with_an_unbounded_error(tmp_path: Path,
                                                                       fmt: str) -> None:
    """Σ|x_i| beyond float64 (values of 1.7e308): the error variable has no upper bound
    instead of an overflow, and the values still read back bit for bit."""
    inst = SubsetSumInstance(np.array([1.7e308, 1.7e308, -1.7e308]), 1.0)
    model = subset_sum_model(inst, None)
    assert model.upper[-1] == math.inf
    lp, _ = read_highs(write(tmp_path, model, fmt))
    values, target = over_row(lp, inst.n)
    assert_bits_equal(values, inst.values, "values in row over")
    assert_bits_equal([target], [inst.target], "target")


def test_pulp_mps_writer_rounds_the_instance(tmp_path: Path) -> None:
    """Why model_files exists: PuLP's writeMPS keeps 12-13 significant digits."""
    inst = generate_subset_sum(40, seed=0)
    path = tmp_path / "pulp.mps"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        to_pulp(subset_sum_model(inst, None)).writeMPS(str(path))
    values, _ = over_row(read_highs(path)[0], inst.n)
    assert np.allclose(values, inst.values, rtol=1e-11, atol=0.0)
    assert np.any(bits(values) != bits(inst.values))


def highs_optimum(h: highspy.Highs) -> float:
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return float(h.getInfo().objective_function_value)


def test_exported_mps_solves_to_the_direct_optimum(tmp_path: Path) -> None:
    model = subset_sum_model(generate_subset_sum(16, seed=3), None)
    from_file = highspy.Highs()
    from_file.setOptionValue("output_flag", False)
    assert from_file.readModel(str(write(tmp_path, model, "mps"))) == highspy.HighsStatus.kOk
    direct = highspy.Highs()
    direct.setOptionValue("output_flag", False)
    to_highs(model, direct)
    assert abs(highs_optimum(from_file) - highs_optimum(direct)) <= 1e-6


# --------------------------------------------------------------------------------------------
# Names, layout, independence from PuLP


def tiny(var: str = "x", row: str = "r", lo: float = 0.0, hi: float = INF,
         extra: tuple = (), name: str = "tiny") -> MilpModel:
    return MilpModel.from_rows(
        var_names=[var, "y"], lower=[0.0, 0.0], upper=[1.0, 1.0], integer=[False, False],
        objective=[1.0, 0.0], rows=[([0, 1], [1.0, 2.0], lo, hi, row), *extra],
        mask_variables=[], name=name,
    )


UNSPLITTABLE = (-0.34631253456669536, 1.653687465433305)

BAD_NAMES = [
    ("mps", "var", "a b"), ("mps", "var", ""), ("mps", "var", "x\ty"), ("mps", "var", "x" * 256),
    ("mps", "var", "NAME"), ("mps", "var", "objsense"), ("mps", "var", "$x"),
    ("mps", "var", "1e5"), ("mps", "var", "inf"), ("mps", "var", "\u00e9"),
    ("mps", "row", "'MARKER'"), ("mps", "row", "r r"),
    ("mps", "var", "'MARKER'"), ("lp", "row", "r" * 255),  # misread by SCIP, Gurobi (hunt 35)
    ("lp", "var", "e"), ("lp", "var", "e1"), ("lp", "var", "E2"), ("lp", "var", "ee"),
    ("lp", "var", "1x"), ("lp", "var", ".x"), ("lp", "var", "st"), ("lp", "var", "End"),
    ("lp", "var", "free"), ("lp", "var", "inf_3"), ("lp", "var", "NaN1"), ("lp", "var", "a-b"),
    ("lp", "var", "a+b"), ("lp", "var", "a:b"), ("lp", "var", "a[1]"), ("lp", "var", "a b"),
    ("lp", "var", "a/b"), ("lp", "var", "a*b"), ("lp", "var", "a^2"), ("lp", "var", "a<b"),
    ("lp", "var", ""), ("lp", "row", "max"), ("lp", "row", "s.t."), ("lp", "row", "r-1"),
]


@pytest.mark.parametrize(("fmt", "where", "bad"), BAD_NAMES)
def test_unusable_names_raise(fmt: str, where: str, bad: str) -> None:
    model = tiny(var=bad) if where == "var" else tiny(row=bad)
    with pytest.raises(InputError) as err:
        WRITERS[fmt](model)
    message = str(err.value)
    assert repr(bad) in message and "\n" not in message


def test_a_variable_named_e_is_rejected_by_lp_only() -> None:
    model = renamed(subset_sum_model(generate_subset_sum(8, seed=0), None), {"err": "e"})
    mps_text(model)
    with pytest.raises(InputError, match="variable name 'e'"):
        lp_text(model)


def test_every_formulation_is_exportable_as_lp() -> None:
    """Our builders' names are valid LP names (the error variable is `err`, not `e`)."""
    lp_text(subset_sum_model(generate_subset_sum(8, seed=0), None))


@pytest.mark.parametrize("fmt", ["mps", "lp"])
def test_duplicate_and_colliding_row_names_raise(fmt: str) -> None:
    duplicate = tiny(extra=(([1], [1.0], 0.0, INF, "r"),))
    with pytest.raises(InputError, match="'r' is used twice"):
        WRITERS[fmt](duplicate)
    lo, hi = UNSPLITTABLE
    collision = tiny(lo=lo, hi=hi, extra=(([1], [1.0], 0.0, INF, "r_lo"),))
    with pytest.raises(InputError, match="'r_lo' is used twice"):
        WRITERS[fmt](collision)


@pytest.mark.parametrize("fmt", ["mps", "lp"])
def test_infinite_bound_on_the_wrong_side_raises(fmt: str) -> None:
    with pytest.raises(InputError, match="row 'r' has an infinite bound on the wrong side"):
        WRITERS[fmt](tiny(lo=INF, hi=INF))


def test_mps_model_name_with_whitespace_raises() -> None:
    with pytest.raises(InputError, match="model name"):
        mps_text(tiny(name="my model"))


@pytest.mark.parametrize("good", ["east", "Emax", "e_1", "x.y", "_x", "a(1,2)", "M_1_2", "t"])
def test_lp_accepts_names_that_only_look_risky(tmp_path: Path, good: str) -> None:
    model = tiny(var=good, row=f"{good}_row" if good[0] not in "eE" else "row")
    lp, _ = read_highs(write(tmp_path, model, "lp"))
    assert list(lp.col_names_) == [good, "y"]


def test_mps_sets_do_not_collide_with_model_names(tmp_path: Path) -> None:
    """HiGHS takes an RHS set named like a row, or a bound set named like a column, for that
    row / column: the writer picks set and objective names no model name uses."""
    model = MilpModel.from_rows(
        var_names=["BND", "RHS"], lower=[-1.0, 0.0], upper=[2.0, 3.0], integer=[True, False],
        objective=[1.0, 2.0],
        rows=[([0, 1], [1.0, 1.0], 1.0, 4.0, "RHS"), ([0], [3.0], -INF, 5.0, "obj"),
              ([1], [1.0], 0.5, INF, "RNG")],
        mask_variables=[], objective_offset=1.5,
    )
    lp, small = read_highs(write(tmp_path, model, "mps"))
    assert_highs_holds(model, lp, "mps", small)


@pytest.mark.parametrize("name", ["weight_bigm", "subset_sum_min_error_s0", "hand"])
def test_lp_lines_are_short(name: str) -> None:
    lines = lp_text(case(name)).splitlines()
    assert max(len(line) for line in lines) <= LP_LINE_WIDTH < 250


def test_writer_does_not_import_pulp() -> None:
    tree = ast.parse(MODULE.read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)}
    assert "pulp" not in imported


def test_the_cli_takes_the_format_from_the_file_extension(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    """`export -o m.lp` wrote MPS text into m.lp (the format came from --format only, default
    mps), which HiGHS then refused to read."""
    from exactprune.cli import main
    from exactprune.instances import save_instance

    inst = tmp_path / "ss.json"
    save_instance(generate_subset_sum(12, seed=1), inst)
    optima = []
    for name in ("m.lp", "m.mps"):
        assert main(["export", str(inst), "-o", str(tmp_path / name)]) == 0
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        assert h.readModel(str(tmp_path / name)) == highspy.HighsStatus.kOk
        optima.append(highs_optimum(h))
    assert (tmp_path / "m.lp").read_text().startswith("\\ Problem")
    assert abs(optima[0] - optima[1]) <= 1e-12
    assert main(["export", str(inst), "-o", str(tmp_path / "x.lp"), "--format", "mps"]) == 2
    assert "does not match" in capsys.readouterr().err
    assert not (tmp_path / "x.lp").exists()
