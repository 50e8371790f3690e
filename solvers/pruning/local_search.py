"""`prune_local_search`: iterated local search, then large-neighbourhood search, for
`neuron_pruning` and `weight_pruning` (a heuristic, never certified; the exact backends take its
mask as their incumbent).

Descent (variable neighbourhood): take the best improving flip (one unit / weight in or out; all
M flips evaluated as h + delta columns, in blocks); when no flip improves, the best improving
pair move (any two flips: a swap, two in or two out, within the budget, also in blocks, reading
the clock between them); stop at a local optimum. For
linf the descent orders moves by the max error, ties (within a relative 1e-12) broken by a
smooth surrogate mean(|r|^8)^(1/8), which moves the search along the plateaus of the max without
ever raising it; pair moves are screened with an exact lower bound (their error on the 8
currently worst points) and evaluated in full in increasing bound order, so the best pair is
found without evaluating all of them.

Starts: the greedy_forward mask, the warm start (trimmed greedily if over max_kept), then
`restarts` seeded random masks (default 20). From each start's local optimum, `kicks`
perturbations (default 20): flip 2..M/16 entries (half of them among those acting on the current
worst point), descend, keep the result if it is not worse.

Then `lns_rounds` (default 100) exact re-optimisations of `lns_size` entries (default 12, all
2^12 assignments enumerated, exact through each unit's relu), chosen as units with similar kink
directions, entries acting on the worst points, or at random; each followed by a descent.

Stops early at the time limit. Measured: optimal on small instances (n <= 16), but 1.1-2x the
optimum on d = 2, K = 256 circle instances with n = 64 (identity output, linf). The landscape
has tiny basins: a descent from the optimum with 3 random flips returns to it in only 1/3 of
trials, as expected from the problem's subset-sum core.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.solvers.clock import Clock
from exactprune.solvers.pruning.heuristics import (
    check_kind,
    greedy_forward_state,
    heuristic_result,
    int_option,
    mask_budget,
    random_flat,
    warm_flat,
)
from exactprune.solvers.pruning.residual_model import (
    CHUNK_ENTRIES,
    NEURON,
    ResidualModel,
    State,
    best_flip,
    better,
    flipped,
    greedy_remove,
)
from exactprune.solvers.result import Goal, RawSolution, SolveOptions

SCREEN_POINTS = 8
"""Worst points used to screen swap candidates for linf (exact lower bound)."""
MAX_LNS_SIZE = 16
"""Largest `lns_size` option (2^16 assignments per re-optimisation)."""
LNS_BLOCK_BITS = 23
"""The large-neighbourhood step holds 2^size x K floats: size is cut to keep that <= 2^23."""




# ------------------------------------------------------------------------------------------
# Local search


WHOLE_DELTAS_ENTRIES = 1 << 24
"""Every flip's deltas (K, M) are computed at once up to this many floats (128 MB), and sliced
by the flip and pair scans; above, each block computes its own (pairs of a width-600 net with
K = 4,000 ran 3x slower computing them per block; hunt 76)."""


def _whole_deltas(model: ResidualModel) -> bool:
    """Whether every flip's deltas are computed at once (see WHOLE_DELTAS_ENTRIES)."""
    return model.K * model.M <= WHOLE_DELTAS_ENTRIES


def _best_pair(model: ResidualModel, st: State, cur: tuple[float, float], budget: int,
               swaps_only: bool, clock: Clock, D: np.ndarray | None = None,
               ) -> tuple[int, int, tuple[float, float]] | None:
    """The best improving move that flips two entries, or None.

    swaps_only: one kept entry out and one unkept entry in (the count is unchanged);
    otherwise every pair (two in, two out, or a swap) whose count stays within `budget`.
    Pairs of entries of different units change h by D[:, a] + D[:, b]; pairs inside one unit
    (weight pruning) are computed exactly. For linf, a pair can only beat the current error e
    if it brings every one of the current worst points below e, so the error on those points
    (an exact lower bound) screens the candidates, and full evaluations run in increasing
    bound order until the bound exceeds the best found.

    The M^2 pairs go in blocks of at most CHUNK_ENTRIES temporaries (the linf screen's 4x
    that: candidates are ordered within a block, and split blocks cost time), and the clock is
    read between blocks: the whole pair matrix held 19 GB at M = 12,000 and a 10 s limit
    ended at 37 s. Out of time, the best improving pair found so far (or None). D: the whole
    `flip_deltas` if the caller has them (computed here when `_whole_deltas`).
    """
    best: tuple[int, int, tuple[float, float]] | None = None
    best_score = cur
    change = np.where(st.flat, -1, 1)

    sa, sb = model.same_unit_pairs(st, swaps_only)
    ok = st.kept + change[sa] + change[sb] <= budget
    sa, sb = sa[ok], sb[ok]
    step = max(1, CHUNK_ENTRIES // model.K)  # K x n·d(d-1)/2 floats at once: 7.6 GB at d = 100
    for c0 in range(0, sa.size, step):
        if clock.expired():
            return best
        ia, ib = sa[c0:c0 + step], sb[c0:c0 + step]
        k, sc = model.pick(st.h[:, None] + model.same_unit_deltas(st, ia, ib))
        if better(sc, best_score):
            best, best_score = (int(ia[k]), int(ib[k]), sc), sc
    if swaps_only:
        a_items, b_items = np.flatnonzero(st.flat), np.flatnonzero(~st.flat)
    else:
        a_items = b_items = np.arange(model.M)
    A, B = a_items.size, b_items.size
    if A == 0 or B == 0:
        return best
    if D is None and _whole_deltas(model):
        D = model.flip_deltas(st)
    if D is not None:  # columns are gathered below: 8x faster from Fortran order
        D = np.asfortranarray(D)

    def deltas(items: np.ndarray, points: np.ndarray | None = None) -> np.ndarray:
        if points is None:
            return model.item_deltas(st, items) if D is None else D[:, items]
        rows = model.item_deltas(st, items, points) if D is None else D[points][:, items]
        # the screen's rows in C order: a column pick of row picks comes out in Fortran
        # order, and the max over points then ran 9x slower (a max is exact in any order)
        return np.ascontiguousarray(rows)

    def blocks(rows: int, cols: int):
        """(a0, a1, b0, b1, valid (a, b)) over the pairs, blocks without a valid pair left
        out; stops when the clock runs out."""
        for b0 in range(0, B, cols):
            b1 = min(B, b0 + cols)
            for a0 in range(0, A, rows):
                if not swaps_only and a0 >= b1 - 1:
                    break  # a < b: items are 0..M-1 on both sides
                if clock.expired():
                    return
                a1 = min(A, a0 + rows)
                ia, ib = a_items[a0:a1], b_items[b0:b1]
                valid = model.unit[ia][:, None] != model.unit[ib][None, :]
                if not swaps_only:
                    valid &= ia[:, None] < ib[None, :]
                    valid &= st.kept + change[ia][:, None] + change[ib][None, :] <= budget
                if valid.any():
                    yield a0, a1, b0, b1, valid

    if model.norm == "linf":
        r_now = model.residuals(st.h)
        s = min(SCREEN_POINTS, model.K)
        worst = np.argpartition(-r_now, s - 1)[:s]
        hw = st.h[worst]
        Dwa, Dwb = deltas(a_items, worst), deltas(b_items, worst)
        screen = 4 * CHUNK_ENTRIES  # one block, one order of candidates, up to M = 1,024
        cols = min(B, max(1, screen // s))
        max_step = max(1, CHUNK_ENTRIES // model.K)
        for a0, a1, b0, b1, valid in blocks(max(1, screen // (s * cols)), cols):
            nb = b1 - b0
            Hs = hw[:, None, None] + Dwa[:, a0:a1, None] + Dwb[:, None, b0:b1]
            lb = model.residuals(Hs.reshape(s, -1), worst).max(axis=0)
            lb[~valid.ravel()] = np.inf
            cand = np.flatnonzero(lb <= best_score[0] * (1 + 1e-12))
            cand = cand[np.argsort(lb[cand], kind="stable")]
            c0, step = 0, 64
            while c0 < cand.size:  # growing chunks: the best pair is usually among the first
                chunk = cand[c0:c0 + step]
                c0, step = c0 + step, min(2 * step, max_step)
                if lb[chunk[0]] > best_score[0] * (1 + 1e-12):
                    break
                ia, ib = a_items[a0 + chunk // nb], b_items[b0 + chunk % nb]
                k, sc = model.pick(st.h[:, None] + deltas(ia) + deltas(ib))
                if better(sc, best_score):
                    best, best_score = (int(ia[k]), int(ib[k]), sc), sc
                if clock.expired():
                    return best
        return best

    cols = min(B, max(1, CHUNK_ENTRIES // (8 * model.K)))
    Db, db0 = None, -1
    for a0, a1, b0, b1, valid in blocks(max(1, CHUNK_ENTRIES // (model.K * cols)), cols):
        if db0 != b0:  # one block of b columns serves every block of a rows
            Db, db0 = deltas(b_items[b0:b1]), b0
        Da = deltas(a_items[a0:a1])
        H = st.h[:, None, None] + Da[:, :, None] + Db[:, None, :]  # (K, a, b)
        k, sc = model.pick(H.reshape(model.K, -1), valid.ravel())
        if k >= 0 and better(sc, best_score):
            best = (int(a_items[a0 + k // (b1 - b0)]), int(b_items[b0 + k % (b1 - b0)]), sc)
            best_score = sc
    return best


def _descend(model: ResidualModel, st: State, budget: int, clock: Clock,
             counter: dict[str, int]) -> State:
    """Variable-neighbourhood descent: best improving flip, else best improving pair move."""
    cur = model.score(st)
    whole = _whole_deltas(model)
    while not clock.expired():
        D = None
        if whole:  # every flip at once (the same choice as best_flip's blocks, faster)
            D = model.flip_deltas(st)
            k, sc = model.pick(st.h[:, None] + D, np.where(st.flat, True, st.kept < budget))
            flip = (k, sc) if k >= 0 else None
        else:
            flip = best_flip(model, st, allow_add=st.kept < budget, allow_remove=True,
                             clock=clock)
        counter["evaluations"] += model.M
        if flip is not None and better(flip[1], cur):
            st, cur = flipped(model, st, [flip[0]]), flip[1]
            counter["moves"] += 1
            continue
        sw = _best_pair(model, st, cur, budget, False, clock, D)
        counter["swap_scans"] += 1
        if sw is None:
            break
        st, cur = flipped(model, st, [sw[0], sw[1]]), sw[2]
        counter["moves"] += 1
    return st


def _kick(model: ResidualModel, st: State, rng: np.random.Generator, budget: int) -> State:
    """Flip a few entries: 2..max(3, M/16) of them, about half among the entries whose flip
    changes h at the current worst point, then remove at random while over budget."""
    size = model.M
    r = int(rng.integers(2, max(3, size // 16) + 1))
    worst = int(np.argmax(model.residuals(st.h)))
    relevant = np.flatnonzero(model.item_deltas(st, np.arange(size), np.array([worst]))[0] != 0)
    picks: set[int] = set()
    n_rel = min(relevant.size, (r + 1) // 2)
    if n_rel:
        picks.update(int(t) for t in rng.choice(relevant, size=n_rel, replace=False))
    while len(picks) < min(r, size):
        picks.add(int(rng.integers(0, size)))
    flat = st.flat.copy()
    idx = np.fromiter(picks, dtype=np.int64)
    flat[idx] = ~flat[idx]
    over = int(flat.sum()) - budget
    if over > 0:
        kept = np.flatnonzero(flat)
        flat[rng.choice(kept, size=over, replace=False)] = False
    return model.state(flat)


# ------------------------------------------------------------------------------------------
# Large-neighbourhood search: exact re-optimisation of a few entries


def _unit_options(model: ResidualModel, st: State, unit: int, items: np.ndarray,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every assignment of `items` (entries of one unit; the unit's other entries fixed).

    Returns (assignments (2^s, s) bool, contributions (K, 2^s) of the unit, kept counts of
    the items (2^s,)).
    """
    s = items.size
    assign = ((np.arange(1 << s)[:, None] >> np.arange(s)) & 1).astype(bool)
    if model.kind == NEURON:  # one item: the unit itself
        return assign, model.columns[:, [unit, unit]] * assign[:, 0], assign[:, 0].astype(int)
    js = items - unit * model.d
    cur = st.flat[items]
    base = st.pre[:, unit] - model.XW[:, unit, js] @ cur.astype(np.float64)
    pre = base[:, None] + model.XW[:, unit, js] @ assign.T.astype(np.float64)
    return assign, np.maximum(pre, 0.0) * model.v[unit], assign.sum(axis=1)


def _lns_step(model: ResidualModel, st: State, items: np.ndarray, budget: int,
              ) -> tuple[np.ndarray, tuple[float, float]] | None:
    """The best assignment of the entries `items` with the others fixed, by enumerating all
    2^len(items) of them (exact inside one unit: each unit's options are computed through its
    relu). Returns (new flat mask, score), or None if no assignment fits the budget."""
    items = np.unique(items)
    units = np.unique(model.unit[items])
    h = st.h - st.contrib[:, units].sum(axis=1)
    H = h[:, None]
    count = np.array([st.kept - int(st.flat[items].sum())])
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    for u in units:
        its = items[model.unit[items] == u]
        assign, contrib, kept = _unit_options(model, st, int(u), its)
        H = (H[:, :, None] + contrib[:, None, :]).reshape(model.K, -1)
        count = (count[:, None] + kept[None, :]).ravel()
        parts.append((its, assign))
    k, sc = model.pick(H, count <= budget)
    if k < 0:
        return None
    flat = st.flat.copy()
    # decode k: the last unit varies fastest
    for its, assign in reversed(parts):
        k, a = divmod(k, assign.shape[0])
        flat[its] = assign[a]
    return flat, sc


def _lns_items(model: ResidualModel, st: State, rng: np.random.Generator, size: int,
               directions: np.ndarray) -> np.ndarray:
    """Entries to re-optimise together (about `size` of them), by one of three rules:
    units with kink directions close to a random unit's (|cos| of w_i, since the kinks of
    units with opposite directions coincide), entries acting on the current worst points, or
    uniformly random entries. Whole units are taken for weight pruning (d entries each)."""
    per = 1 if model.kind == NEURON else model.d
    n_units = max(1, size // per)
    rule = int(rng.integers(3))
    if rule == 0:
        c = int(rng.integers(model.n))
        sim = np.abs(directions @ directions[c]) + 0.15 * rng.random(model.n)
        units = np.argsort(-sim)[:n_units]
    elif rule == 1:
        r = model.residuals(st.h)
        top = np.argsort(-r)[: int(rng.integers(1, 6))]
        # C order, as the rows of flip_deltas were: numpy's sums depend on the layout
        D = np.ascontiguousarray(model.item_deltas(st, np.arange(model.M), top))
        score = np.abs(D).sum(axis=0) * rng.random(model.M) ** 2
        if per > 1:
            score = score.reshape(model.n, per).sum(axis=1)
        units = np.argsort(-score)[:n_units]
    else:
        units = rng.choice(model.n, size=min(n_units, model.n), replace=False)
    if per == 1:
        return np.sort(units)
    items = (units[:, None] * per + np.arange(per)[None, :]).ravel()
    if items.size > size:  # d > size: part of one unit's weights
        items = rng.choice(items, size=size, replace=False)
    return np.sort(items)


def _directions(model: ResidualModel) -> np.ndarray:
    norms = np.linalg.norm(model.W, axis=1)
    return model.W / np.where(norms > 0, norms, 1.0)[:, None]


# ------------------------------------------------------------------------------------------
# Backend


def run_local_search(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Iterated local search, then large-neighbourhood search (see the module docstring).

    Extra options: restarts (default 20), kicks (default 20), lns_rounds (default 100),
    lns_size (default 12, at most 16).
    """
    check_kind(instance, "prune_local_search")
    restarts = int_option(opts, "restarts", 20, 0)
    kicks = int_option(opts, "kicks", 20, 0)
    lns_rounds = int_option(opts, "lns_rounds", 100, 0)
    lns_size = int_option(opts, "lns_size", 12, 1)
    if lns_size > MAX_LNS_SIZE:
        raise InputError(f"option lns_size enumerates 2^lns_size assignments: at most "
                         f"{MAX_LNS_SIZE}, got {lns_size}")
    clock = Clock(opts.time_limit)  # building the model counts against the limit (hunt 71 M2)
    model = ResidualModel(instance)
    # memory: 2^size candidates times K points in one block
    asked_lns = lns_size
    lns_size = max(1, min(lns_size, LNS_BLOCK_BITS - int(np.ceil(np.log2(model.K)))))
    budget = mask_budget(instance, goal)
    rng = np.random.default_rng(opts.seed)
    counter = {"evaluations": 0, "moves": 0, "swap_scans": 0, "descents": 0, "kicks": 0}

    starts: list[tuple[str, State]] = []
    greedy = greedy_forward_state(model, budget, clock)
    starts.append(("greedy", greedy))
    ws = warm_flat(model, opts)
    trim_notes: list[str] = []
    if ws is not None:
        st = model.state(ws)
        verdict = "accepted"
        if st.kept > budget:
            st = greedy_remove(model, st, budget, clock, force_only=True, notes=trim_notes)
            verdict = "trimmed"
        starts.append(("warm start", st))

    # the starts compete before any descent: a limit that ends first still returns the best
    # of them (an accepted warm start 20x better than greedy was dropped for greedy's mask)
    best_from, best = starts[0]
    best_score = model.score(best)
    for label, st in starts[1:]:
        if better(score := model.score(st), best_score):
            best, best_score, best_from = st, score, label
    done_starts = 0
    total = len(starts) + (restarts or 0)
    for r in range(total):
        if clock.expired():
            break
        label, st = starts[r] if r < len(starts) else (
            f"random start {r - len(starts)}", model.state(random_flat(rng, model.M, budget)))
        cur = _descend(model, st, budget, clock, counter)
        counter["descents"] += 1
        cur_score = model.score(cur)
        for _ in range(kicks or 0):
            if clock.expired():
                break
            trial = _descend(model, _kick(model, cur, rng, budget), budget, clock, counter)
            counter["descents"] += 1
            counter["kicks"] += 1
            t_score = model.score(trial)
            if not better(cur_score, t_score):  # accept if not worse
                cur, cur_score = trial, t_score
        done_starts += 1
        if better(cur_score, best_score):
            best, best_score, best_from = cur, cur_score, label
    lns_done = 0
    if lns_rounds and model.M > 1:
        size = min(lns_size, model.M)
        directions = _directions(model)
        cur, cur_score = best, best_score
        for _ in range(lns_rounds):
            if clock.expired():
                break
            items = _lns_items(model, cur, rng, size, directions)
            out = _lns_step(model, cur, items, budget)
            lns_done += 1
            if out is None or better(cur_score, out[1]):
                continue
            cur = _descend(model, model.state(out[0]), budget, clock, counter)
            cur_score = model.score(cur)  # accepted if not worse: moves along plateaus
            if better(cur_score, best_score):
                best, best_score, best_from = cur, cur_score, "large-neighbourhood search"
    notes = [f"{done_starts} of {total} starts (greedy, warm start, random) with up to "
             f"{kicks} kicks each, then {lns_done} exact re-optimisations of "
             f"{min(lns_size, model.M)} entries; best from {best_from}"]
    if lns_size < asked_lns:
        notes.append(f"lns_size {asked_lns} lowered to {lns_size}: a re-optimisation holds "
                     f"2^lns_size x K floats, kept near 2^{LNS_BLOCK_BITS} (K = {model.K})")
    stats: dict[str, Any] = {**counter, "starts": done_starts, "lns_rounds": lns_done,
                             "lns_size": min(lns_size, model.M)}  # entries per round
    if ws is not None:
        stats["warm_start"] = verdict
        if verdict == "trimmed":
            notes.append("warm start over max_kept: greedily trimmed to the budget")
            notes += trim_notes
    stopped = clock.expired()
    if stopped:
        notes.append("time limit reached: stopped early")
    return heuristic_result(model, best, "iterated local search (flip and swap moves)", notes,
                            stats, stopped)
