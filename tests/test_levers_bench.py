"""benchmarks/pruning/levers.py: a configuration's SCIP parameters apply to its own job only
(pool workers run several jobs, so a leak would change the next configuration's engine)."""

from __future__ import annotations

from exactprune.benchmarks.pruning.levers import run_one
from exactprune.solvers import milp_engines


def test_scip_params_of_one_job_do_not_leak_into_the_next() -> None:
    before = dict(milp_engines.SCIP_PARAMS)
    job = {"engine": "scip", "formulation": "loose", "seed": 0, "n": 8, "kind": "neuron",
           "points": 32, "activation": "identity", "time_limit": 20.0,
           "options": {"scip_params": {"numerics/feastol": 1e-7}}}
    loose = run_one(job)
    assert milp_engines.SCIP_PARAMS == before
    plain = run_one({**job, "formulation": "selection", "options": {}})
    assert loose["certified"] and plain["certified"]
    assert abs(loose["objective"] - plain["objective"]) <= 1e-5 * plain["objective"]


def test_incumbent_policy_of_one_job_does_not_leak_into_the_next() -> None:
    from exactprune.solvers.pruning import exact

    before = (exact.INCUMBENT_SEARCH, exact.INCUMBENT_TIME_SHARE)
    job = {"engine": "scip", "formulation": "incumbent greedy", "seed": 0, "n": 40,
           "kind": "neuron", "points": 32, "activation": "relu", "time_limit": 20.0,
           "options": {"incumbent": "greedy"}}
    greedy = run_one(job)
    assert (exact.INCUMBENT_SEARCH, exact.INCUMBENT_TIME_SHARE) == before
    share = run_one({**job, "formulation": "incumbent 10 %", "options": {"incumbent": 0.1}})
    assert (exact.INCUMBENT_SEARCH, exact.INCUMBENT_TIME_SHARE) == before
    assert greedy["certified"] and share["certified"]
    assert abs(greedy["objective"] - share["objective"]) <= 1e-5 * share["objective"]


def test_paired_lines_count_each_seeds_wins_against_the_first_configuration() -> None:
    from exactprune.benchmarks.pruning.levers import paired_lines

    def rows(bounds: list[float], objectives: list[float | None]) -> list[dict]:
        return [{"seed": s, "bound": b, "objective": o}
                for s, (b, o) in enumerate(zip(bounds, objectives, strict=True))]

    base = rows([1.0, 2.0, 3.0, 4.0], [5.0, 5.0, 5.0, 5.0])
    other = rows([2.0, 2.0, 1.0, 5.0], [4.0, None, 6.0, 5.0])
    lines = paired_lines([("scip", "a", base), ("scip", "b", other)])
    # bound: higher on seeds 0 and 3, lower on 2, tie on 1; objective: lower on 0, higher
    # on 2, tie on 3, missing on 1
    assert lines[-1] == "| scip | b | 2/4 | 1/4 | 1/4 | 1/4 |"
    assert paired_lines([("scip", "a", base)]) == []


def test_an_unknown_configuration_is_refused_not_skipped(capsys) -> None:
    """A label the benchmark does not know (e.g. one split at a comma) is an error, not an
    empty comparison."""
    import pytest

    from exactprune.benchmarks.pruning.levers import main

    with pytest.raises(SystemExit) as exc:
        main(["--configs", "8 workers, masks one by one", "--seeds", "1"])
    assert exc.value.code == 2
    assert "unknown configuration" in capsys.readouterr().err


def test_jobs_run_packed_by_threads_in_order_and_a_failed_job_is_a_row() -> None:
    from exactprune.benchmarks.pruning.levers import lever_task, run_jobs
    from exactprune.benchmarks.sweep_worker import task_slots

    base = {"formulation": "selection", "seed": 0, "n": 8, "kind": "neuron", "points": 32,
            "activation": "identity", "time_limit": 20.0}
    jobs = [{**base, "engine": "cpsat", "options": {"threads": 8}},
            {**base, "engine": "scip", "options": {}},
            {**base, "engine": "nope", "options": {}}]
    assert [task_slots(lever_task(j).spec, 2) for j in jobs] == [2, 1, 1]
    rows = run_jobs(jobs, 2)
    assert [r["engine"] for r in rows] == ["cpsat", "scip", "nope"]
    assert rows[0]["certified"] and rows[1]["certified"]
    assert abs(rows[0]["objective"] - rows[1]["objective"]) <= 1e-5 * rows[1]["objective"]
    assert rows[2]["status"] == "error" and not rows[2]["certified"]
    assert "nope" in rows[2]["error"]


def test_every_configuration_label_can_be_named_on_the_command_line() -> None:
    """--configs is a comma list: a label with a comma could never be selected."""
    from exactprune.benchmarks.pruning.levers import CONFIGS

    assert all("," not in label for _, label, _ in CONFIGS)


def test_gurobi_params_of_one_job_do_not_leak_into_the_next() -> None:
    import pytest

    from exactprune.solvers.milp_engines import gurobi

    if not gurobi.available():
        pytest.skip("gurobipy is not installed")
    before = dict(gurobi.GUROBI_PARAMS)
    job = {"engine": "gurobi", "formulation": "bound focus", "seed": 0, "n": 8,
           "kind": "neuron", "points": 32, "activation": "identity", "time_limit": 20.0,
           "options": {"gurobi_params": {"MIPFocus": 3}}}
    focused = run_one(job)
    assert gurobi.GUROBI_PARAMS == before
    plain = run_one({**job, "formulation": "selection", "options": {}})
    assert focused["certified"] and plain["certified"]
    assert abs(focused["objective"] - plain["objective"]) <= 1e-5 * plain["objective"]


def test_scaling_benchmarks_check_their_engines_before_any_run(tmp_path, capsys) -> None:
    """Unknown engines and a formulation an engine lacks are usage errors (exit 2, hunt 49);
    the default engines (cpsat, highs) on the default dictionary formulation are not: a
    formulation check for every engine refused cpsat, which has no formulation option, and
    with it the benchmark's default and documented commands (hunt 50)."""
    import pytest

    from exactprune.benchmarks.pruning import scaling

    base = ["--seeds", "0", "--out", str(tmp_path)]
    assert scaling.main(base) == 0
    assert scaling.main([*base, "--engines", "scip,cpsat", "--points", "256"]) == 0
    assert scaling.main([*base, "--engines", "scip", "--formulation", "bigm"]) == 0
    for bad in (["--engines", "nosuch"], ["--engines", "highs", "--formulation", "bigm"],
                ["--engines", "cpsat", "--formulation", "bigm"]):
        with pytest.raises(SystemExit) as exc:
            scaling.main([*base, *bad])
        assert exc.value.code == 2
        assert "error:" in capsys.readouterr().err.strip().splitlines()[-1]
