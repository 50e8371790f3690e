"""Pruning heuristics: valid masks, honest statuses, never better than exhaustive enumeration.

The oracle enumerates every mask of tiny instances through `instance.evaluate` (the same
function the dispatcher uses to recompute a result's objective), independently of the
heuristics' vectorised evaluation.
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest

import exactprune.solvers.pruning.heuristics as ph
from exactprune.instances import InputError
from exactprune.instances.network import TwoLayerNet
from exactprune.instances.pruning import NeuronPruningInstance, WeightPruningInstance
from exactprune.instances.pruning.generator import (
    generate_neuron_pruning,
    generate_weight_pruning,
)
from exactprune.solvers import Goal, SolveOptions, backend_names, get_backend, solve
from exactprune.solvers.pruning.constructive_ticket import run_ticket
from exactprune.solvers.pruning.residual_model import ResidualModel

GENERAL = ["magnitude", "greedy_forward", "greedy_backward", "prune_local_search",
           "random_search"]
FAST = {"prune_local_search": {"restarts": 3, "kicks": 5, "lns_rounds": 10},
        "random_search": {"samples": 300}}
REL = 1e-9  # float noise allowed between the heuristics' internal error and evaluate()


def oracle(inst, max_kept=None) -> float:
    """The best error over every mask (with at most max_kept kept entries)."""
    best = math.inf
    for bits in itertools.product((False, True), repeat=inst.mask_size):
        if max_kept is not None and sum(bits) > max_kept:
            continue
        mask = np.array(bits, dtype=bool).reshape(inst.mask_shape)
        best = min(best, inst.evaluate(mask))
    return best


def tiny(kind: str, seed: int, act: str, norm: str):
    """Neuron: n = 9, d = 2; weight: n = 4, d = 3 (12 weights); 40 points on the sphere."""
    if kind == "neuron_pruning":
        return generate_neuron_pruning(2, 9, 40, seed=seed, output_activation=act, norm=norm)
    return generate_weight_pruning(3, 4, 40, seed=seed, output_activation=act, norm=norm)


def run(inst, solver, seed=0, **kw):
    return solve(inst, solver, seed=seed, **{**FAST.get(solver, {}), **kw})


def test_registered_with_their_kinds() -> None:
    for kind in ("neuron_pruning", "weight_pruning"):
        names = set(backend_names(kind))
        for name in GENERAL:
            assert name in names
            b = get_backend(name, kind)
            assert not b.exact and b.supports("max_kept") and b.kind == kind
    assert "ticket" in backend_names("weight_pruning")
    assert "ticket" not in backend_names("neuron_pruning")
    # the subset-sum heuristics keep their names, for their kind only
    assert "local_search" in backend_names("subset_sum")
    assert "local_search" not in backend_names("neuron_pruning")


@pytest.mark.parametrize("kind", ["neuron_pruning", "weight_pruning"])
@pytest.mark.parametrize("act,norm,seed", [("identity", "linf", 0), ("relu", "linf", 1),
                                           ("identity", "l1", 2), ("relu", "l1", 3),
                                           ("relu", "l2", 4)])
def test_never_better_than_the_oracle(kind: str, act: str, norm: str, seed: int) -> None:
    inst = tiny(kind, seed, act, norm)
    max_kept = None if seed % 2 == 0 else 3
    best = oracle(inst, max_kept)
    for solver in GENERAL:
        res = run(inst, solver, seed=seed, max_kept=max_kept)
        assert res.status == "feasible" and not res.certified and res.bound is None, solver
        assert res.mask.shape == inst.mask_shape and res.mask.dtype == bool
        assert res.objective == inst.evaluate(res.mask)
        assert res.objective >= best, solver
        if max_kept is not None:
            assert int(res.mask.sum()) <= max_kept, solver


@pytest.mark.parametrize("kind", ["neuron_pruning", "weight_pruning"])
def test_local_search_finds_the_optimum_of_tiny_instances(kind: str) -> None:
    """Not a guarantee, a regression check: the default run solves these 4 instances."""
    for seed in range(4):
        inst = tiny(kind, 10 + seed, "identity", "linf")
        best = oracle(inst)
        res = solve(inst, "prune_local_search", seed=seed)
        assert res.objective <= best * (1 + REL)


@pytest.mark.parametrize("kind", ["neuron_pruning", "weight_pruning"])
def test_local_search_never_worse_than_greedy_or_warm_start(kind: str) -> None:
    """By construction: the greedy mask and the warm start are starts, and only
    improvements are kept."""
    for seed in range(3):
        if kind == "neuron_pruning":
            inst = generate_neuron_pruning(2, 24, 64, seed=seed)
        else:
            inst = generate_weight_pruning(2, 12, 64, seed=seed, output_activation="relu")
        greedy = solve(inst, "greedy_forward", seed=seed)
        mag = solve(inst, "magnitude", seed=seed)
        res = solve(inst, "prune_local_search", seed=seed, restarts=1, kicks=3, lns_rounds=5,
                    warm_start=mag.mask)
        assert res.objective <= greedy.objective * (1 + REL)
        assert res.objective <= mag.objective * (1 + REL)


def test_warm_start_at_the_optimum_is_kept() -> None:
    inst = tiny("weight_pruning", 5, "relu", "linf")
    best, mask = math.inf, None
    for bits in itertools.product((False, True), repeat=inst.mask_size):
        m = np.array(bits, dtype=bool).reshape(inst.mask_shape)
        err = inst.evaluate(m)
        if err < best:
            best, mask = err, m
    for solver in ("prune_local_search", "greedy_backward", "greedy_forward"):
        res = run(inst, solver, warm_start=mask)
        assert best <= res.objective <= best * (1 + REL), solver


@pytest.mark.parametrize("solver", [*GENERAL, "ticket"])
def test_reproducible_for_a_seed(solver: str) -> None:
    inst = generate_weight_pruning(2, 10, 48, seed=3, output_activation="relu")
    a = run(inst, solver, seed=11)
    b = run(inst, solver, seed=11)
    assert np.array_equal(a.mask, b.mask)
    assert a.objective == b.objective


@pytest.mark.parametrize("kind", ["neuron_pruning", "weight_pruning"])
@pytest.mark.parametrize("max_kept", [0, 1, 5])
def test_max_kept_is_respected(kind: str, max_kept: int) -> None:
    if kind == "neuron_pruning":
        inst = generate_neuron_pruning(2, 16, 48, seed=max_kept)
    else:
        inst = generate_weight_pruning(2, 8, 48, seed=max_kept, output_activation="relu")
    solvers = GENERAL + (["ticket"] if kind == "weight_pruning" else [])
    for solver in solvers:
        res = run(inst, solver, seed=1, max_kept=max_kept)
        assert res.status == "feasible", (solver, res.notes)
        assert int(res.mask.sum()) <= max_kept, solver
        assert res.kept <= max_kept


def test_greedy_backward_trims_an_oversized_warm_start() -> None:
    inst = generate_neuron_pruning(2, 12, 48, seed=2)
    full = np.ones(12, dtype=bool)
    res = solve(inst, "greedy_backward", warm_start=full, max_kept=4)
    assert int(res.mask.sum()) <= 4
    res = solve(inst, "prune_local_search", warm_start=full, max_kept=4, restarts=0, kicks=1)
    assert int(res.mask.sum()) <= 4


@pytest.mark.parametrize("solver", ["greedy_forward", "greedy_backward", "prune_local_search"])
def test_a_trimmed_warm_start_says_trimmed(solver: str) -> None:
    """The heuristics that cut a warm start over max_kept down to the budget said `accepted`
    (greedy_backward and prune_local_search without a note; hunt 42 L1)."""
    inst = generate_neuron_pruning(2, 12, 48, seed=2)
    over = solve(inst, solver, warm_start=np.ones(12, dtype=bool), max_kept=4)
    assert over.stats["warm_start"] == "trimmed" and int(over.mask.sum()) <= 4
    assert any("warm start over max_kept" in n for n in over.notes), over.notes
    fits = np.zeros(12, dtype=bool)
    fits[:3] = True
    within = solve(inst, solver, warm_start=fits, max_kept=4)
    assert within.stats["warm_start"] == "accepted"
    assert not any("warm start over max_kept" in n for n in within.notes)


def test_prune_local_search_says_when_it_lowers_lns_size() -> None:
    """lns_size is cut so that 2^lns_size x K floats fit a block; the result kept the asked
    value in its options and said nothing (hunt 42 L2)."""
    inst = generate_neuron_pruning(2, 20, 256, seed=1)  # 2^16 x 256 > 2^23: lowered to 15
    res = solve(inst, "prune_local_search", lns_size=16, lns_rounds=1, restarts=0, kicks=0)
    assert res.stats["lns_size"] == 15
    assert any("lns_size 16 lowered to 15" in n for n in res.notes), res.notes
    kept = solve(inst, "prune_local_search", lns_size=15, lns_rounds=1, restarts=0, kicks=0)
    assert kept.stats["lns_size"] == 15 and not any("lowered" in n for n in kept.notes)
    small = generate_neuron_pruning(2, 10, 16, seed=1)  # 10 entries: a round takes 10
    assert solve(small, "prune_local_search", lns_rounds=1).stats["lns_size"] == 10


def _magnitude_ranking(inst) -> np.ndarray:
    """Independent ranking: descending score, ties by index."""
    W, v = inst.network.hidden_weights, inst.network.output_weights
    if inst.kind == "neuron_pruning":
        scores = [abs(v[i]) * math.sqrt(sum(w * w for w in W[i])) for i in range(len(v))]
    else:
        scores = [abs(v[i] * W[i, j]) for i in range(W.shape[0]) for j in range(W.shape[1])]
    return np.array(sorted(range(len(scores)), key=lambda t: (-scores[t], t)))


@pytest.mark.parametrize("shift", [-700, 700])
@pytest.mark.parametrize("kind", ["neuron_pruning", "weight_pruning"])
def test_magnitude_ranks_exactly_at_any_weight_scale(kind: str, shift: int) -> None:
    """Hidden weights times 2^shift and output weights times 2^-shift compute the same net, and
    every magnitude |v_i|·||w_i|| is unchanged; plain float scores were inf (or 0) for all of
    them, so every unit tied and `magnitude` kept the first ones (hunt 112 M1)."""
    from fractions import Fraction

    if kind == "neuron_pruning":
        inst = generate_neuron_pruning(2, 12, 32, seed=7)
    else:
        inst = generate_weight_pruning(2, 6, 32, seed=7, output_activation="relu")
    net = inst.network
    W, v = net.hidden_weights, net.output_weights
    moved = type(inst)(network=TwoLayerNet(np.ldexp(W, shift), np.ldexp(v, -shift),
                                           net.output_activation),
                       target=inst.target, points=inst.points, norm=inst.norm)
    # squared magnitudes in exact arithmetic, on the unmoved weights
    if kind == "neuron_pruning":
        sq = [Fraction(float(v[i])) ** 2 * sum(Fraction(float(w)) ** 2 for w in W[i])
              for i in range(len(v))]
    else:
        sq = [(Fraction(float(v[i])) * Fraction(float(W[i, j]))) ** 2
              for i in range(W.shape[0]) for j in range(W.shape[1])]
    exact = np.array(sorted(range(len(sq)), key=lambda t: (-sq[t], t)))
    assert np.array_equal(ph.magnitude_order(moved), exact)
    assert np.array_equal(ph.magnitude_order(inst), exact)
    top = solve(moved, "magnitude", k=1).mask.ravel()
    assert np.flatnonzero(top).tolist() == [int(exact[0])]


@pytest.mark.parametrize("kind", ["neuron_pruning", "weight_pruning"])
def test_magnitude_is_the_best_prefix_of_the_ranking(kind: str) -> None:
    if kind == "neuron_pruning":
        inst = generate_neuron_pruning(2, 12, 64, seed=4, norm="l1")
    else:
        inst = generate_weight_pruning(3, 5, 64, seed=4, output_activation="relu")
    order = _magnitude_ranking(inst)
    assert np.array_equal(ph.magnitude_order(inst), order)

    def prefix(k: int) -> np.ndarray:
        flat = np.zeros(inst.mask_size, dtype=bool)
        flat[order[:k]] = True
        return flat.reshape(inst.mask_shape)

    errs = [inst.evaluate(prefix(k)) for k in range(inst.mask_size + 1)]
    res = solve(inst, "magnitude")
    assert res.objective == pytest.approx(min(errs), rel=REL, abs=1e-15)
    assert np.array_equal(res.mask, prefix(int(res.mask.sum())))
    res = solve(inst, "magnitude", max_kept=3)
    assert res.objective == pytest.approx(min(errs[:4]), rel=REL, abs=1e-15)
    assert int(res.mask.sum()) <= 3
    for k in (0, 2, 5):
        res = solve(inst, "magnitude", k=k)
        assert np.array_equal(res.mask, prefix(k))
    with pytest.raises(InputError):
        solve(inst, "magnitude", k=4, max_kept=3)
    with pytest.raises(InputError):
        solve(inst, "magnitude", k=-1)


def test_greedy_forward_steps_are_greedy() -> None:
    """Replay: every kept unit, in some order, was the best single addition at its step."""
    inst = generate_neuron_pruning(2, 10, 48, seed=6)
    res = solve(inst, "greedy_forward")
    mask = np.zeros(10, dtype=bool)
    for _ in range(int(res.mask.sum())):
        errs = {i: inst.evaluate(np.where(np.arange(10) == i, True, mask))
                for i in range(10) if not mask[i]}
        i = min(errs, key=lambda t: errs[t])
        assert res.mask[i]
        assert errs[i] < inst.evaluate(mask)
        mask[i] = True
    assert np.array_equal(mask, res.mask)
    # stopped: no single addition improves
    cur = inst.evaluate(mask)
    assert all(inst.evaluate(np.where(np.arange(10) == i, True, mask)) >= cur * (1 - 1e-12)
               for i in range(10) if not mask[i])


@pytest.mark.parametrize("kind", ["neuron_pruning", "weight_pruning"])
@pytest.mark.parametrize("act", ["identity", "relu"])
@pytest.mark.parametrize("norm", ["linf", "l1", "l2"])
def test_vectorised_model_matches_evaluate(kind: str, act: str, norm: str) -> None:
    """White-box: the heuristics' fast errors and flip deltas agree with instance.evaluate."""
    gen = generate_neuron_pruning if kind == "neuron_pruning" else generate_weight_pruning
    inst = gen(3, 7, 30, seed=8, output_activation=act, norm=norm, domain="cube")
    model = ResidualModel(inst)
    rng = np.random.default_rng(0)
    for _ in range(5):
        flat = rng.random(model.M) < 0.5
        st = model.state(flat)
        assert model.error(st) == pytest.approx(inst.evaluate(flat.reshape(inst.mask_shape)),
                                                rel=1e-12, abs=1e-15)
        D = model.flip_deltas(st)
        for t in rng.choice(model.M, size=4, replace=False):
            g = flat.copy()
            g[t] = ~g[t]
            np.testing.assert_allclose(st.h + D[:, t], model.state(g).h, rtol=0, atol=1e-12)


def test_time_limit_is_honoured() -> None:
    inst = generate_weight_pruning(2, 64, 128, seed=0, output_activation="relu")
    start = time.perf_counter()
    res = solve(inst, "prune_local_search", time_limit=0.5, restarts=1000)
    assert time.perf_counter() - start < 5.0
    # cut short by the time limit: said by the status and the limit, as every kind's
    # heuristics do, not only in a note
    assert res.status == "time_limit" and res.limit == "time" and not res.certified
    assert res.objective == inst.evaluate(res.mask)
    assert any("time limit" in n for n in res.notes)
    done = solve(inst, "prune_local_search", time_limit=60, restarts=0, kicks=0)
    assert done.status == "feasible" and done.limit == "none"


def test_bad_options_are_input_errors() -> None:
    inst = generate_neuron_pruning(2, 6, 16, seed=0)
    with pytest.raises(InputError):
        solve(inst, "prune_local_search", restarts=-1)
    with pytest.raises(InputError):
        solve(inst, "prune_local_search", lns_size=40)
    with pytest.raises(InputError):
        solve(inst, "random_search", samples=0)
    with pytest.raises(InputError):
        solve(inst, "ticket")  # neuron pruning: not a weight-pruning instance
    with pytest.raises(InputError):
        run_ticket(inst, Goal(), SolveOptions())


# ----------------------------------------------------------------------------------------
# The constructive ticket


def _best_subset_sum(values: np.ndarray, target: float) -> float:
    best = abs(target)
    for k in range(1, len(values) + 1):
        for c in itertools.combinations(values.tolist(), k):
            best = min(best, abs(math.fsum(c) - target))
    return best


@pytest.mark.parametrize("seed", range(3))
def test_ticket_matches_subset_sum_and_its_bound(seed: int) -> None:
    inst = generate_weight_pruning(2, 40, 256, seed=seed, output_activation="relu")
    res = solve(inst, "ticket")
    W, v = inst.network.hidden_weights, inst.network.output_weights
    w_star = inst.target.output_weights[0] * inst.target.hidden_weights[0]
    # each unit keeps at most one weight, on the coordinate it was assigned to
    assert np.all(res.mask.sum(axis=1) <= 1)
    assign = np.array(res.stats["assignment"])
    rows, cols = np.nonzero(res.mask)
    assert np.array_equal(assign[rows], cols)
    # each of the 2d subset sums is solved optimally (brute force here, <= 2^14 subsets)
    worst = np.zeros(2)
    for j in range(2):
        for sign in (1, -1):
            units = np.flatnonzero((assign == j) & (np.sign(W[:, j]) == sign))
            assert units.size <= 14
            values = v[units] * np.abs(W[units, j])
            target = sign * w_star[j]
            chosen = math.fsum(v[i] * abs(W[i, j]) for i in units if res.mask[i, j])
            err = abs(chosen - target)
            assert err == pytest.approx(_best_subset_sum(values, target), abs=1e-12)
            worst[j] = max(worst[j], err)
    # relu output: sup error over the points <= sum_j max(e+_j, e-_j)|x_j|
    predicted = float((np.abs(inst.points) @ worst).max())
    assert res.stats["predicted_linf"] == pytest.approx(predicted, rel=1e-9)
    assert res.objective <= predicted + 1e-9
    assert res.objective < 0.05  # about 10 values per subset sum: errors ~1e-3..1e-2


def test_ticket_trials_and_assignment_rules() -> None:
    """More assignment trials never hurt (trial 0 is the single-trial construction), and
    the "mod" rule assigns unit i to input i mod d."""
    for seed in range(4):
        inst = generate_weight_pruning(3, 30, 128, seed=seed, output_activation="relu",
                                       domain="cube")
        one = solve(inst, "ticket", trials=1)
        many = solve(inst, "ticket", trials=10, seed=seed)
        assert many.objective <= one.objective
        mod = solve(inst, "ticket", assignment="mod")
        assert mod.stats["assignment"] == [i % 3 for i in range(30)]
        rows, cols = np.nonzero(mod.mask)
        assert np.array_equal(cols, rows % 3)
    with pytest.raises(InputError):
        solve(inst, "ticket", assignment="nearest")


def test_ticket_beats_greedy_neuron_pruning() -> None:
    """With a relu output the ticket's error is far below what the greedy finds for the
    same budget of units by neuron pruning (the exponential-gap setting)."""
    inst = generate_weight_pruning(2, 40, 256, seed=5, output_activation="relu")
    ticket = solve(inst, "ticket")
    greedy = solve(inst.as_neuron_pruning(), "greedy_forward")
    assert ticket.objective < greedy.objective


def test_ticket_identity_output_and_bad_targets() -> None:
    inst = generate_weight_pruning(2, 20, 64, seed=1)  # identity output
    res = solve(inst, "ticket")
    assert res.status == "feasible"
    assert any("guarantee needs a relu output" in n for n in res.notes)
    # no predicted bound: the relu-output one (0.237) did not hold here (0.91; hunt 49)
    assert res.stats["predicted_linf"] is None
    assert not any("predicted sup error" in n for n in res.notes)
    net = inst.network
    two = TwoLayerNet(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1.0, 1.0]))
    bad = WeightPruningInstance(network=net, target=two, points=inst.points)
    with pytest.raises(InputError):
        solve(bad, "ticket")
    neg = TwoLayerNet(np.array([[1.0, 0.0]]), np.array([-1.0]))
    with pytest.raises(InputError):
        solve(WeightPruningInstance(network=net, target=neg, points=inst.points), "ticket")
    with pytest.raises(InputError):
        solve(NeuronPruningInstance(network=net, target=two, points=inst.points), "ticket")


def test_prune_local_search_cut_at_once_keeps_a_better_warm_start() -> None:
    """The starts compete before any descent: with the limit gone before the first one, the
    optimal warm start (20x better than greedy's mask) was dropped for greedy's (hunt 11)."""
    from exactprune.instances import generate_neuron_pruning

    inst = generate_neuron_pruning(2, 14, 16, 4)
    best = solve(inst, "bruteforce")
    res = solve(inst, "prune_local_search", time_limit=1e-9, warm_start=best.mask)
    assert str(res.status) == "time_limit"
    assert res.objective == best.objective


@pytest.mark.parametrize("kind", ["neuron", "weight"])
def test_best_flip_in_blocks_chooses_as_the_whole_matrix_did(kind: str, monkeypatch) -> None:
    """best_flip evaluates the flips in blocks (the whole (K, M) deltas took 3.6 s and 320 MB
    temporaries a step on a wide net: hunt 71 M2). Its choice and score are `pick`'s over the
    whole matrix, also across block edges (blocks of 3 columns here) and among ties."""
    import exactprune.solvers.pruning.residual_model as rm

    monkeypatch.setattr(rm, "CHUNK_ENTRIES", 3 * 16)
    rng = np.random.default_rng(3)
    checked = 0
    for seed in range(40):
        act, norm = ["identity", "relu"][seed % 2], ["linf", "l1", "l2"][seed % 3]
        gen = generate_neuron_pruning if kind == "neuron" else generate_weight_pruning
        inst = gen(2 + seed % 3, 7, 16, seed=seed, output_activation=act, norm=norm)
        model = ResidualModel(inst)
        assert model.K == 16
        for _ in range(6):
            flat = rng.random(model.M) < 0.5
            if seed % 5 == 0:
                flat[:] = False  # ties: many flips of the same error
            st = model.state(flat)
            for add, remove in ((True, True), (True, False), (False, True)):
                allowed = np.where(st.flat, remove, add)
                got = rm.best_flip(model, st, add, remove)
                if not allowed.any():
                    assert got is None
                    continue
                idx = np.flatnonzero(allowed)
                b, score = model.pick(st.h[:, None] + model.flip_deltas(st)[:, idx])
                assert got == (int(idx[b]), score)
                checked += 1
    assert checked > 500


@pytest.mark.parametrize("kind", ["neuron", "weight"])
def test_best_flip_out_of_time_chooses_among_the_flips_it_evaluated(kind: str,
                                                                    monkeypatch) -> None:
    """Hunt 76 M1: best_flip scanned every block whatever the clock (one scan of a weight net
    of width 2,000, d = 50, K = 2,000 took 10 s). Out of time it stops after the first block
    and returns the best of those flips; with time, the best of all."""
    import exactprune.solvers.pruning.residual_model as rm
    from exactprune.solvers.clock import Clock

    monkeypatch.setattr(rm, "CHUNK_ENTRIES", 3 * 16)  # blocks of 3 flips
    gen = generate_neuron_pruning if kind == "neuron" else generate_weight_pruning
    for seed in range(10):
        inst = gen(2, 12, 16, seed=seed)
        model = ResidualModel(inst)
        st = model.state(np.zeros(model.M, bool))
        D = model.flip_deltas(st)
        b, score = model.pick(st.h[:, None] + D[:, :3])
        assert rm.best_flip(model, st, True, False, clock=Clock(-1.0)) == (b, score)
        b, score = model.pick(st.h[:, None] + D)
        assert rm.best_flip(model, st, True, False, clock=Clock(None)) == (b, score)


@pytest.mark.parametrize("kind", ["neuron", "weight"])
def test_greedy_backward_out_of_time_trims_to_the_budget_at_once(kind: str) -> None:
    """Over max_kept, greedy_backward removed one best unit per step whatever the clock
    (O(M·K) each: width 800 with max_kept 5 ran 34 s on a 0.5 s limit; hunt 73). Out of
    time, it now keeps the max_kept entries of largest magnitude at once, and says
    `time_limit`; with time, the greedy removals are unchanged."""
    gen = generate_neuron_pruning if kind == "neuron" else generate_weight_pruning
    inst = gen(2, 24, 64, seed=6)
    budget = 3
    res = solve(inst, "greedy_backward", max_kept=budget, time_limit=1e-9)
    assert res.status == "time_limit" and res.kept == budget
    assert "the rest trimmed to the budget by magnitude" in " ".join(res.notes)  # hunt 75 L3
    for solver in ("greedy_forward", "prune_local_search"):  # over-budget warm starts too
        warm = solve(inst, solver, max_kept=budget, time_limit=1e-9,
                     warm_start=np.ones(inst.mask_shape, dtype=bool))
        assert warm.kept <= budget and "by magnitude" in " ".join(warm.notes), solver
    top = ph.magnitude_order(inst)[:budget]
    want = np.zeros(inst.mask_size, dtype=bool)
    want[top] = True
    assert np.array_equal(np.asarray(res.mask).ravel(), want)
    timed = solve(inst, "greedy_backward", max_kept=budget)
    assert timed.kept <= budget and timed.status == "feasible"
    assert not np.array_equal(np.asarray(timed.mask).ravel(), want)  # greedy, not magnitude


@pytest.mark.parametrize("kind", ["neuron", "weight"])
@pytest.mark.parametrize("swaps_only", [False, True])
@pytest.mark.parametrize("chunk,whole", [(8 * 5, 8 * 5), (8 * 5, None), (None, None)])
def test_pair_moves_in_blocks_find_the_best_pair(kind: str, swaps_only: bool,
                                                 chunk: int | None, whole: int | None,
                                                 monkeypatch) -> None:
    """The descent's pair scan runs in blocks (the whole pair matrix held 19 GB at M = 12,000
    and ignored the clock). Over every pair, recomputed from the mask, none is better than
    the one it returns, and it returns None only when no pair improves: with blocks of a few
    pairs (the linf screen and the a < b rule cross many block edges) whose deltas are
    computed per block or sliced from all of them, and with the defaults."""
    import exactprune.solvers.pruning.local_search as ls
    from exactprune.solvers.clock import Clock
    from exactprune.solvers.pruning.residual_model import better

    if chunk is not None:
        monkeypatch.setattr(ls, "CHUNK_ENTRIES", chunk)
    if whole is not None:
        monkeypatch.setattr(ls, "WHOLE_DELTAS_ENTRIES", whole)
    rng = np.random.default_rng(11)
    found = none = 0
    for seed in range(30):
        act, norm = ["identity", "relu"][seed % 2], ["linf", "l1", "l2"][seed % 3]
        gen = generate_neuron_pruning if kind == "neuron" else generate_weight_pruning
        inst = gen(2, 9 if kind == "neuron" else 4, 12, seed=seed, output_activation=act,
                   norm=norm)
        model = ResidualModel(inst)
        for budget in (model.M, max(1, model.M // 3)):
            flat = np.zeros(model.M, bool)
            flat[rng.choice(model.M, size=int(rng.integers(0, budget + 1)), replace=False)] = True
            st = model.state(flat)
            cur = model.score(st)
            got = ls._best_pair(model, st, cur, budget, swaps_only, Clock(None))
            scores = {}
            for a, b in itertools.combinations(range(model.M), 2):
                if swaps_only and st.flat[a] == st.flat[b]:
                    continue
                g = flat.copy()
                g[[a, b]] = ~g[[a, b]]
                if g.sum() <= budget:
                    scores[a, b] = model.score(model.state(g))
            if got is None:
                assert not any(better(sc, cur) for sc in scores.values())
                none += 1
                continue
            pair = tuple(sorted(got[:2]))
            assert pair in scores and better(got[2], cur)
            assert got[2][0] == pytest.approx(scores[pair][0], rel=1e-12, abs=1e-300)
            assert not any(better(sc, got[2]) for sc in scores.values()), (seed, budget)
            found += 1
    assert found > 20 and none > 0


def test_local_search_on_a_wide_net_holds_its_memory() -> None:
    """Found 2026-12-05 (sixteenth session): at width 12,000 the pair scan built the whole
    pair matrix (19 GB peak, 37 s on a 10 s limit). Blocks keep the temporaries small on a
    width-4,000 net, where the whole matrix's linf screen alone is 1 GB."""
    inst = generate_neuron_pruning(2, 4000, 16, seed=1)
    res = _local_search_within_memory(inst, time_limit=3.0)
    assert res.objective == inst.evaluate(res.mask)


def test_local_search_with_many_weights_per_unit_holds_its_memory() -> None:
    """Hunt 76: the pairs of weights inside one unit were all computed at once, K x n·d(d-1)/2
    floats (d = 100, width 500, K = 128: 7.6 GB, 17.8 s on a 3 s limit). They go in blocks
    now; here the whole set would be about 250 MB a copy."""
    inst = generate_weight_pruning(100, 100, 64, seed=1)
    res = _local_search_within_memory(inst, time_limit=2.0, max_kept=5)
    assert res.objective == inst.evaluate(res.mask) and res.mask.sum() <= 5


def _local_search_within_memory(inst, **kw):
    """prune_local_search (one descent) with its peak of traced allocations under 200 MB, the
    pair scan reached."""
    import tracemalloc

    tracemalloc.start()
    try:
        res = solve(inst, "prune_local_search",
                    options={"restarts": 0, "kicks": 0, "lns_rounds": 0}, **kw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert res.stats["swap_scans"] >= 1  # the pair scan ran
    assert peak < 200e6, peak
    return res


def test_ticket_trials_is_refused_beside_the_mod_assignment() -> None:
    """Hunt 104 L1: `trials` with assignment=mod (a single assignment) was taken and ignored;
    unset, balanced tries 20."""
    inst = generate_weight_pruning(2, 8, 16, seed=1)
    with pytest.raises(InputError, match="assignment=mod has a single one"):
        solve(inst, "ticket", assignment="mod", trials=3)
    assert solve(inst, "ticket", assignment="mod").stats["trials"] == 1
    assert solve(inst, "ticket").stats["trials"] == 20
    assert solve(inst, "ticket", trials=3).stats["trials"] == 3
