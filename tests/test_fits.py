"""Fits: known slopes recovered from synthetic data, honest CIs, model choice, bad data."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from exactprune.benchmarks.fits import (
    compare_models,
    exponential_fit,
    linear_fit,
    power_law_fit,
    wilson_interval,
)
from exactprune.instances.io import dumps


def test_linear_fit_noiseless_line_is_exact() -> None:
    x = np.arange(10.0)
    fit = linear_fit(x, 2.5 * x - 1.0)
    assert fit.slope == pytest.approx(2.5, abs=1e-12)
    assert fit.intercept == pytest.approx(-1.0, abs=1e-12)
    assert fit.estimate == fit.slope
    assert fit.ci[0] == pytest.approx(2.5, abs=1e-9) and fit.ci[1] == pytest.approx(2.5, abs=1e-9)
    assert fit.r2 == pytest.approx(1.0)
    assert np.allclose(fit.predict([20.0, -3.0]), [49.0, -8.5])


def test_linear_fit_matches_numpy_polyfit_and_is_seeded() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 10, 40)
    y = -0.7 * x + 3 + rng.normal(0, 1, 40)
    fit = linear_fit(x, y, seed=5)
    slope, intercept = np.polyfit(x, y, 1)
    assert fit.slope == pytest.approx(slope) and fit.intercept == pytest.approx(intercept)
    assert fit.resamples == 2000 and fit.level == 0.95
    again = linear_fit(x, y, seed=5)
    other = linear_fit(x, y, seed=6)
    assert again.ci == fit.ci
    assert other.ci != fit.ci
    assert fit.ci[0] < fit.slope < fit.ci[1]


def test_bootstrap_ci_coverage_is_near_nominal() -> None:
    """Across 80 independent noisy data sets the 95% CI should cover the true slope ~95%."""
    rng = np.random.default_rng(2)
    covered = 0
    widths = []
    for k in range(80):
        x = np.linspace(0, 1, 25)
        y = 1.3 * x + rng.normal(0, 0.2, len(x))
        fit = linear_fit(x, y, seed=k, resamples=1000)
        covered += fit.ci[0] <= 1.3 <= fit.ci[1]
        widths.append(fit.ci[1] - fit.ci[0])
    assert 0.85 <= covered / 80 <= 1.0
    # the OLS standard error is 0.2 / sqrt(sum (x - mean)^2) ~ 0.137: width ~ 4 se
    assert 0.3 < float(np.median(widths)) < 0.8


def test_power_law_recovered_with_ci() -> None:
    rng = np.random.default_rng(3)
    n = np.geomspace(4, 400, 30)
    eps = 3.0 * n**-1.5 * np.exp(rng.normal(0, 0.15, len(n)))
    fit = power_law_fit(n, eps)
    assert fit.model == "power_law" and fit.parameter == "a"
    assert fit.estimate == pytest.approx(1.5, abs=0.1)
    assert fit.ci[0] <= 1.5 <= fit.ci[1]
    assert fit.coef_ci[0] <= 3.0 <= fit.coef_ci[1]
    assert fit.ci[0] < fit.estimate < fit.ci[1]
    assert np.allclose(fit.predict(n), fit.coef * n ** -fit.estimate)


def test_exponential_recovered_with_ci() -> None:
    rng = np.random.default_rng(4)
    n = np.arange(4, 34, dtype=float)
    eps = 2.0 * np.exp(-0.35 * n) * np.exp(rng.normal(0, 0.2, len(n)))
    fit = exponential_fit(n, eps)
    assert fit.model == "exponential" and fit.parameter == "b"
    assert fit.estimate == pytest.approx(0.35, abs=0.03)
    assert fit.ci[0] <= 0.35 <= fit.ci[1]
    assert fit.coef_ci[0] <= 2.0 <= fit.coef_ci[1]
    assert np.allclose(fit.predict(n), fit.coef * np.exp(-fit.estimate * n))


def test_compare_models_picks_the_true_shape() -> None:
    rng = np.random.default_rng(5)
    n = np.arange(4, 60, 2, dtype=float)
    power = 3.0 * n**-1.0 * np.exp(rng.normal(0, 0.1, len(n)))
    expo = 2.0 * np.exp(-0.3 * n) * np.exp(rng.normal(0, 0.1, len(n)))
    c1 = compare_models(n, power)
    c2 = compare_models(n, expo)
    assert c1.preferred == "power_law" and c1.loo_ratio > 2
    assert c2.preferred == "exponential" and c2.loo_ratio > 2
    assert c1.rss["power_law"] < c1.rss["exponential"]
    assert c2.aic["exponential"] < c2.aic["power_law"]
    data = json.loads(dumps(c2.to_json()))
    assert data["preferred"] == "exponential" and data["criterion"] == "loo_mse"


def test_no_model_is_preferred_without_a_decay() -> None:
    """Flat, growing or null (noise only) data have no decay to classify; the leave-one-out
    errors then differ only by the designs (ln n against n), and a bootstrap share of 16 % of
    null data sets read "fits better" (hunt 46 M1)."""
    n = np.repeat([4.0, 8, 12, 16, 20], 20)
    with_choice = 0
    for seed in range(40):
        noise = np.exp(np.random.default_rng(seed).normal(0, 0.5, n.size))
        cmp = compare_models(n, noise)
        with_choice += cmp.preferred is not None
        assert (cmp.preferred is None) == (cmp.decay is False)
    assert with_choice <= 4
    for eps in (np.full(n.size, 0.25), 0.01 * n**0.5):  # flat, growing
        cmp = compare_models(n, eps)
        assert cmp.decay is False and cmp.preferred is None
        assert any("no clear decay" in note for note in cmp.notes)
        assert json.loads(dumps(cmp.to_json()))["decay"] is False
    clear = compare_models(n, 3.0 * n**-1.5)
    assert clear.decay is True and clear.preferred == "power_law"


def test_a_decay_ci_above_zero_only_by_rounding_is_no_decay() -> None:
    """Two of four nested trials flat, their certified bounds drifting by 1e-14 per width (the
    certificate's slack grows with n): resamples of only those trials put the CI's lower end
    at 3.9e-14, which read as a decay and chose "power law" for equal medians (hunt 79 M1)."""
    widths = np.array([6.0, 8, 10])
    flat = [0.802 * (1 - 1e-14 * k) for k in range(3)]
    eps = np.concatenate([flat, flat, 0.802 * (widths / 6) ** -0.3, 0.9 * (widths / 6) ** -0.5])
    cmp = compare_models(np.tile(widths, 4), eps, groups=np.repeat([0, 1, 2, 3], 3))
    assert 0 < cmp.power_law.ci[0] < 1e-12  # the rounding the rule must not read as decay
    assert cmp.decay is False and cmp.preferred is None
    assert any("no clear decay" in note for note in cmp.notes)
    # the same trials with a real fall in the flat ones keep their verdict
    real = np.concatenate([0.802 * (widths / 6) ** -0.05] * 2 + list(eps[6:].reshape(2, 3)))
    assert compare_models(np.tile(widths, 4), real, groups=np.repeat([0, 1, 2, 3], 3)).decay


def test_non_positive_values_are_dropped_with_a_note() -> None:
    n = np.arange(1, 13, dtype=float)
    eps = 0.5**n
    eps[[2, 5]] = 0.0
    eps[7] = -1e-3
    fit = exponential_fit(n, eps)
    assert fit.n_dropped == 3 and fit.n_points == 9
    assert any("dropped 3" in note for note in fit.notes)
    assert fit.estimate == pytest.approx(math.log(2), abs=1e-12)
    p = power_law_fit(np.r_[0.0, n], np.r_[1.0, 0.5**n])  # n = 0 has no log either
    assert p.n_dropped == 1 and p.ok


@pytest.mark.parametrize("fn", [linear_fit, power_law_fit, exponential_fit])
def test_too_few_points_give_nan_and_a_note(fn: object) -> None:
    fit = fn([1.0, 2.0, 3.0], [0.5, 0.0, float("nan")])  # type: ignore[operator]
    assert not fit.ok and math.isnan(fit.estimate)
    assert any("usable point" in note for note in fit.notes)
    data = json.loads(dumps(fit.to_json()))
    assert data["estimate"] is None and data["ci"] == [None, None]
    assert fn([], []).n_points == 0  # type: ignore[operator]


def test_constant_x_has_no_slope() -> None:
    fit = linear_fit([2.0, 2.0, 2.0, 2.0], [1.0, 2.0, 3.0, 4.0])
    assert not fit.ok and any("same x" in n for n in fit.notes)


def test_two_points_give_the_exact_line_without_ci() -> None:
    fit = linear_fit([6.64, 9.97], [14.0, 20.0], min_points=2)
    assert fit.estimate == pytest.approx(6.0 / 3.33)
    assert all(math.isnan(c) for c in fit.ci)
    assert any("exactly" in n for n in fit.notes)
    assert not linear_fit([6.64, 9.97], [14.0, 20.0]).ok  # the default needs 3 points


def test_to_json_has_the_documented_keys() -> None:
    fit = linear_fit([1, 2, 3, 4], [1.0, 2.1, 2.9, 4.2])
    data = fit.to_json()
    assert set(data) >= {"estimate", "ci", "r2", "n_points", "notes"}
    assert data["ci"] == list(fit.ci) and len(data["ci"]) == 2
    assert "c" in power_law_fit([1, 2, 3], [1.0, 0.5, 0.3]).to_json()


def test_wilson_interval_known_values() -> None:
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = wilson_interval(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)
    lo, hi = wilson_interval(200, 200)
    assert hi == 1.0 and lo == pytest.approx(0.9812, abs=1e-4)
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_model_evidence_counts_only_resamples_that_can_decide() -> None:
    """On exactly exponential data every informative resample prefers the exponential: the
    share was 0.90 / 0.01 because resamples with 2 distinct n (where both lines tie) were
    counted, rounding picking the winner. Constant data prefer nothing (they used to 'prefer'
    the model listed first; they show no decay)."""
    n = np.array([4.0, 5.0, 6.0, 7.0])
    c = compare_models(n, 2.0 * np.exp(-0.7 * n))
    assert c.preferred == "exponential"
    assert c.bootstrap_share == {"power_law": 0.0, "exponential": 1.0}
    flat = compare_models([4, 8, 16, 32], [0.1] * 4)
    assert flat.preferred is None and any("no clear decay" in t for t in flat.notes)
    # flat data's zero slopes print as 0, not -0 (hunt 142 L1)
    flat = compare_models([8, 16, 32, 8, 16, 32], [0.5] * 6)
    assert "exponent 0, CI [0, 0]; exponential rate 0, CI [0, 0]" in flat.notes[0]


def test_fits_do_not_overflow_on_huge_magnitudes() -> None:
    """Sums of products overflowed: x near 1e155 gave slope 0 with CI (0, 0), alternating
    ±1e308 a slope of -inf. The fit now works on data scaled by their largest magnitude."""
    fit = linear_fit([0, 1e155, 2e155, 3e155], [0, 1, 2, 3])
    assert fit.estimate == pytest.approx(1e-155, rel=1e-12)
    assert fit.ci[0] == pytest.approx(1e-155, rel=1e-9) and fit.r2 == pytest.approx(1.0)
    wild = linear_fit([1, 2, 3, 4], [1e308, -1e308, 1e308, -1e308])
    assert wild.estimate == pytest.approx(-4e307, rel=1e-12)
    small = linear_fit([1, 2, 3, 4, 5], [2e-300, 4e-300, 6e-300, 8e-300, 1e-299])
    assert small.estimate == pytest.approx(2e-300, rel=1e-12)


def _random_intercepts(trials: int = 12, widths: tuple[int, ...] = (4, 8, 12, 16, 20),
                       rate: float = 0.2, seed: int = 3) -> tuple[list, list, list]:
    """eps = e^(u_t - rate·n): one random offset u_t per trial shared by all its widths (as one
    nested network is), nothing else random."""
    rng = np.random.default_rng(seed)
    offsets = rng.normal(0.0, 1.0, size=trials)
    n = [w for t in range(trials) for w in widths]
    eps = [math.exp(offsets[t] - rate * w) for t in range(trials) for w in widths]
    groups = [t for t in range(trials) for _ in widths]
    return n, eps, groups


def test_a_group_bootstrap_resamples_whole_groups() -> None:
    """With a balanced design a trial's offset cancels from the slope, so the slope has no
    sampling variance: resampling whole trials finds an interval of width 0 around the true
    rate, resampling pairs as if independent a wide one (here: too wide)."""
    n, eps, groups = _random_intercepts()
    pairs = exponential_fit(n, eps, resamples=500)
    whole = exponential_fit(n, eps, resamples=500, groups=groups)
    assert whole.ci[0] == pytest.approx(0.2, abs=1e-9) and whole.ci[1] == pytest.approx(0.2,
                                                                                       abs=1e-9)
    assert pairs.ci[1] - pairs.ci[0] > 0.02
    assert any("bootstrap over 12 groups" in note for note in whole.notes)
    cmp = compare_models(n, eps, resamples=300, groups=groups)
    assert cmp.exponential.ci == whole.ci or cmp.exponential.ci[1] - cmp.exponential.ci[0] < 1e-9
    assert cmp.preferred == "exponential" and cmp.bootstrap_share["exponential"] == 1.0


def test_group_resamples_are_unions_of_whole_groups_equal_or_not() -> None:
    from exactprune.benchmarks.fits import _resamples

    rng = np.random.default_rng(0)
    for groups in (np.repeat([5, 1, 9], 4), np.array([0, 0, 0, 1, 2, 2, 3, 3, 3, 3])):
        members = {g: set(np.flatnonzero(groups == g)) for g in np.unique(groups)}
        rows = [row for block in _resamples(rng, len(groups), 50, groups) for row in block]
        assert len(rows) == 50
        for row in rows:
            drawn = [groups[i] for i in row]
            for g in set(drawn):  # every drawn group enters whole, as often as it was drawn
                times = drawn.count(g) // len(members[g])
                assert drawn.count(g) == times * len(members[g])
                assert sorted(i for i in row if groups[i] == g) == sorted(
                    list(members[g]) * times)
            assert sum(drawn.count(g) // len(members[g]) for g in set(drawn)) == len(members)


def test_groups_must_label_every_pair_and_one_group_has_no_interval() -> None:
    with pytest.raises(ValueError, match="one label per pair"):
        power_law_fit([1, 2, 3], [1.0, 0.5, 0.3], groups=[0, 1])
    fit = power_law_fit([1, 2, 3, 4], [1.0, 0.5, 0.3, 0.2], groups=[7, 7, 7, 7])
    assert math.isfinite(fit.estimate) and all(math.isnan(v) for v in fit.ci)
    assert any("one group" in note for note in fit.notes)
    # dropped pairs take their labels with them
    fit = exponential_fit([1, 2, 3, 4, 5], [1.0, -1.0, 0.3, 0.2, 0.1], groups=[0, 0, 1, 1, 2],
                          resamples=50)
    assert fit.n_points == 4 and any("bootstrap over 3 groups" in n for n in fit.notes)
    # 3 groups make at most 10 distinct resamples: the interval is said to be rough
    assert "only 3 groups: the bootstrap interval is rough" in fit.notes
    n, eps, groups = _random_intercepts()
    assert not any("groups: the bootstrap interval is rough" in note for note in
                   exponential_fit(n, eps, resamples=50, groups=groups).notes)  # 12 groups


def test_fits_of_errors_near_the_float_range_never_overflow() -> None:
    """An intercept above 709 (errors near 1e300) raised OverflowError from math.exp in every
    fit and in compare_models, and `verify subset-sum --low 1e308` was an internal error
    (hunt 57 M1): the coefficient is inf, the rate still the line's."""
    fit = exponential_fit([3, 4, 5], [1e300, 1e200, 1e100])
    assert fit.estimate == pytest.approx(100 * math.log(10)) and fit.coef == math.inf
    law = power_law_fit([2, 4, 8], [1e300, 1e150, 1.0])
    assert law.estimate == pytest.approx(math.log(1e300) / math.log(4)) and law.coef == math.inf
    assert compare_models([2, 4, 8, 16], [1e300, 1e200, 1e100, 1.0]).preferred in (
        "power_law", "exponential", None)


def test_median_ci_drops_missing_values_and_fits_take_numpy_counts() -> None:
    """`median_ci([1.0, None, 2.0])` raised TypeError, where None is a missing bound read from
    JSON (its docstring said NaNs are dropped); `resamples=np.int64(100)` was refused (hunt 124
    L1, L3)."""
    from exactprune.benchmarks.fits import linear_fit, median_ci

    assert median_ci([1.0, None, 2.0, float("nan"), 3.0]) == median_ci([1.0, 2.0, 3.0])
    assert all(math.isnan(v) for v in median_ci([None, float("nan")]))
    x = np.arange(6.0)
    assert linear_fit(x, 2 * x + 1, resamples=np.int64(100)) == linear_fit(x, 2 * x + 1,
                                                                         resamples=100)
    for bad in (True, 0, 2.0, np.float64(5.0)):
        with pytest.raises(ValueError, match="resamples"):
            linear_fit(x, 2 * x + 1, resamples=bad)
