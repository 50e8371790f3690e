"""The CLI contract: outputs, exit codes, one-line errors, no partial files."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from exactprune.cli import main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_generate_then_solve_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inst = tmp_path / "inst.json"
    code, _, _ = run(["generate", "subset-sum", "--n", "18", "--seed", "4", "-o", str(inst)],
                     capsys)
    assert code == 0
    data = json.loads(inst.read_text())
    assert data["kind"] == "subset_sum" and len(data["values"]) == 18
    assert data["generator"]["seed"] == 4
    code, out, err = run(["solve", str(inst), "--solver", "mitm", "--json"], capsys)
    assert code == 0, err
    res = json.loads(out)
    for key in ("status", "objective", "bound", "gap", "certified", "mask", "solver",
                "wall_time_s", "notes"):
        assert key in res
    assert res["status"] == "optimal" and res["certified"] is True
    from exactprune import load_instance

    assert res["objective"] == load_instance(inst).evaluate(res["mask"])


def test_generate_respects_range_and_target(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    inst = tmp_path / "i.json"
    run(["generate", "subset-sum", "--n", "50", "--low", "0", "--high", "0.5", "--target",
         "0.7", "-o", str(inst)], capsys)
    data = json.loads(inst.read_text())
    assert all(0 <= v <= 0.5 for v in data["values"]) and data["target"] == 0.7


def test_solve_writes_result_and_warm_start(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    inst, res = tmp_path / "i.json", tmp_path / "r.json"
    run(["generate", "subset-sum", "--n", "12", "-o", str(inst)], capsys)
    code, out, _ = run(["solve", str(inst), "--solver", "greedy", "-o", str(res)], capsys)
    assert code == 0 and "feasible" in out and res.exists()
    code, out, err = run(["solve", str(inst), "--solver", "local_search", "--warm-start",
                          str(res), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["options"]["warm_start"] is True


def test_sparsest_and_max_kept_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inst = tmp_path / "i.json"
    run(["generate", "subset-sum", "--n", "16", "-o", str(inst)], capsys)
    code, out, _ = run(["solve", str(inst), "--objective", "sparsest", "--eps", "1e-3",
                        "--json"], capsys)
    res = json.loads(out)
    assert code == 0 and res["goal"]["objective"] == "sparsest"
    assert res["objective"] == sum(res["mask"]) and res["error"] <= 1e-3
    code, out, _ = run(["solve", str(inst), "--max-kept", "2", "--json"], capsys)
    assert code == 0 and sum(json.loads(out)["mask"]) <= 2


def test_solvers_json_declares_each_option_as_data(capsys: pytest.CaptureFixture[str]) -> None:
    """Scripts had to parse each option's prose ("...; bool; default False"; hunt 122 L4):
    `option_declarations` gives type, default, choices and range as data. Each declaration must
    be the option the backend takes: its default is what `parse_options` fills in, every
    choice parses as itself, a value beyond a bound is refused, and a value of another type is
    refused."""
    from exactprune.instances.errors import InputError
    from exactprune.solvers import get_backend

    code, out, _ = run(["solvers", "--json"], capsys)
    assert code == 0
    checked = 0
    for row in json.loads(out):
        assert set(row["option_declarations"]) == set(row["options"])
        backend = get_backend(row["solver"], row["kind"])
        filled = backend.parse_options({})
        for name, decl in row["option_declarations"].items():
            assert decl["type"] in ("int", "float", "bool", "str", "floats") and decl["help"]
            if not decl["required"]:
                default = filled[name]
                assert decl["default"] == (list(default) if isinstance(default, tuple)
                                           else default), (row["solver"], name)
            for choice in decl["choices"] or ():
                assert backend.parse_options({name: choice})[name] == choice
            if decl["minimum"] is not None and decl["type"] in ("int", "float"):
                below = decl["minimum"] - (0 if decl["minimum_exclusive"] else 1)
                with pytest.raises(InputError):
                    backend.parse_options({name: below})
            if decl["maximum"] is not None and decl["type"] in ("int", "float"):
                with pytest.raises(InputError):
                    backend.parse_options({name: decl["maximum"] + 1})
            if decl["type"] in ("int", "float", "bool"):
                with pytest.raises(InputError):
                    backend.parse_options({name: "not-a-value"})
            checked += 1
    assert checked >= 100


def test_solvers_lists_one_object_per_kind_and_solver(
        capsys: pytest.CaptureFixture[str]) -> None:
    from exactprune.solvers import list_backends

    code, out, _ = run(["solvers", "--json"], capsys)
    assert code == 0
    rows = {(r["kind"], r["solver"]): r for r in json.loads(out)}
    assert len(rows) == len(json.loads(out))  # no pair twice
    assert set(rows) == {(b.kind, b.name) for b in list_backends(commercial=True)}
    words = {"min_error", "sparsest", "max_kept", "warm_start", "threads", "time_limit"}
    for r in rows.values():
        assert set(r) >= {"kind", "solver", "exact", "available", "version", "capabilities",
                          "options"}
        assert set(r["capabilities"]) <= words and "min_error" in r["capabilities"]
        assert all(isinstance(v, str) and v for v in r["options"].values())
    assert rows[("subset_sum", "mitm")]["exact"] and rows[("subset_sum", "mitm")]["available"]
    assert not rows[("subset_sum", "greedy")]["exact"]
    # what we found: pruning engines advertised max_kept and sparsest they could not do
    for kind in ("neuron_pruning", "weight_pruning"):
        assert "sparsest" not in rows[(kind, "scip")]["capabilities"]
        assert "max_kept" not in rows[(kind, "scip")]["capabilities"]
    assert "formulation" in rows[("weight_pruning", "highs")]["options"]
    assert "antipodal" in rows[("neuron_pruning", "highs")]["options"]["formulation"]
    assert "bigm" not in rows[("neuron_pruning", "highs")]["options"]["formulation"]
    for engine in ("highs", "cbc"):  # wrong certified optima on big-M (docs/numerics.md)
        assert "bigm" not in rows[("weight_pruning", engine)]["options"]["formulation"]
    assert "bigm" in rows[("weight_pruning", "scip")]["options"]["formulation"]
    assert "formulation" not in rows[("neuron_pruning", "cpsat")]["options"]
    code, out, _ = run(["solvers", "--kind", "subset-sum", "--json"], capsys)
    assert {r["kind"] for r in json.loads(out)} == {"subset_sum"}
    # an option that may stay unset says so, not "default None"
    assert rows[("neuron_pruning", "scip")]["options"]["cuts"].endswith("default unset")
    assert rows[("neuron_pruning", "magnitude")]["options"]["k"].endswith("default unset")
    assert not any("default None" in text for r in rows.values() for text in r["options"].values())
    # what each takes of its kind's variants, as data and in the text listing (hunt 152 L1)
    assert rows[("neuron_pruning", "highs")]["accepts"] == {"norm": ["linf", "l1"]}
    assert rows[("neuron_selection", "bnb")]["accepts"]["repeats"] == [False]
    assert rows[("subset_sum", "mitm")]["accepts"] == {}
    code, out, _ = run(["solvers", "--kind", "neuron-selection"], capsys)
    lines = out.splitlines()
    bnb = next(i for i, line in enumerate(lines) if line.split()[1:2] == ["bnb"])
    assert lines[bnb + 1].strip() == "takes only: rule average, keep; repeats false"
    brute = next(i for i, line in enumerate(lines) if line.split()[1:2] == ["bruteforce"])
    assert "takes only" not in lines[brute + 1]


def test_unknown_option_and_capability_exit_2(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    inst = tmp_path / "w.json"
    run(["generate", "weight-pruning", "--d", "2", "--width", "3", "--points", "8", "-o",
         str(inst)], capsys)
    for argv, needle in [
        (["--solver", "highs", "--option", "formulaton=bigm"], "has no option 'formulaton'"),
        (["--solver", "highs", "--option", "lazy=no-thanks"], "lazy must be true or false"),
        (["--solver", "highs", "--option", "time_limit=3"], "argument of solve"),
        (["--solver", "highs", "--max-kept", "2"], "does not support max_kept"),
        (["--solver", "cpsat", "--option", "formulation=bigm"], "has no option"),
        (["--solver", "mitm"], "unknown solver 'mitm' for weight_pruning"),
    ]:
        code, out, err = run(["solve", str(inst), *argv], capsys)
        assert code == 2 and err.count("\n") == 1 and needle in err, (argv, err)


BAD_FILES = {
    "nan": '{"kind": "subset_sum", "values": [0.1, NaN], "target": 0.2}',
    "inf": '{"kind": "subset_sum", "values": [0.1, 1e999], "target": 0.2}',
    "string value": '{"kind": "subset_sum", "values": [0.1, "a"], "target": 0.2}',
    "bool value": '{"kind": "subset_sum", "values": [true, 0.5], "target": 0.2}',
    "nested": '{"kind": "subset_sum", "values": [[0.1]], "target": 0.2}',
    "empty": '{"kind": "subset_sum", "values": [], "target": 0.2}',
    "no target": '{"kind": "subset_sum", "values": [0.1]}',
    "string target": '{"kind": "subset_sum", "values": [0.1], "target": "x"}',
    "unknown kind": '{"kind": "knapsack", "values": [0.1], "target": 0.2}',
    "wrong version": '{"kind": "subset_sum", "version": 7, "values": [0.1], "target": 0.2}',
    "truncated": '{"kind": "subset_sum", "values": [0.1, 0.',
    "not an object": "[1, 2, 3]",
    "empty file": "",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_instance_files_exit_2(name: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "bad.json", BAD_FILES[name])
    out_file = tmp_path / "out.json"
    code, out, err = run(["solve", path, "--solver", "mitm", "-o", str(out_file)], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("exactprune: error:")
    assert "Traceback" not in err and out == ""
    assert not out_file.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["solve", "{inst}", "--solver", "nosuch"],
        ["solve", "{inst}", "--time-limit", "-1"],
        ["solve", "{inst}", "--time-limit", "nan"],
        ["solve", "{inst}", "--threads", "0"],
        ["solve", "{missing}"],
        ["solve", "{inst}", "--objective", "sparsest"],
        ["solve", "{inst}", "--eps", "0.1"],
        ["solve", "{big}", "--solver", "bruteforce"],
        ["solve", "{inst}", "--objective", "sparsest", "--eps", "-1"],
        ["generate", "subset-sum", "--n", "0"],
        ["generate", "subset-sum", "--n", "5", "--low", "1", "--high", "0"],
        ["generate", "subset-sum", "--n", "5", "-o", "{nodir}"],
        ["export", "{inst}", "--format", "xls", "-o", "{out}"],
        ["frobnicate"],
        [],
    ],
)
def test_bad_usage_exit_2(args: list[str], tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    inst, big = tmp_path / "i.json", tmp_path / "big.json"
    main(["generate", "subset-sum", "--n", "6", "-o", str(inst)])
    main(["generate", "subset-sum", "--n", "30", "-o", str(big)])
    capsys.readouterr()
    paths = {"inst": str(inst), "big": str(big), "missing": str(tmp_path / "missing.json"),
             "nodir": str(tmp_path / "no" / "dir.json"), "out": str(tmp_path / "m.xls")}
    code, out, err = run([a.format(**paths) for a in args], capsys)
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "m.xls").exists() and not (tmp_path / "no").exists()


def test_real_process_exit_codes(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.json", '{"kind": "subset_sum", "values": [NaN], "target": 0}')
    proc = subprocess.run([sys.executable, "-m", "exactprune", "solve", bad],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "NaN" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "exactprune", "demo", "--n", "12"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "optimal" in proc.stdout


def test_demo_stops_at_its_time_limit_and_says_what_is_not_certified(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--n", "56", "--time-limit", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "time_limit" in out and "certified optimum" not in out
    assert "best, not certified" in out


def test_ci_runs_the_readme_commands() -> None:
    """.ci/run must install and test exactly as the README's first screen says."""
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    blocks = [b.split("```", 1)[0].strip() for b in readme.split("```bash\n")[1:3]]
    ci = (root / ".ci" / "run").read_text()
    assert len(blocks) == 2
    for command in blocks:
        # CI adds -q to pip and -p no:cacheprovider to pytest; everything else is verbatim
        core = command.replace("pip install -e", "pip install -q -e")
        core = core.replace("python -m pytest -q", "python -m pytest -q -p no:cacheprovider")
        assert core in ci, command


def test_a_negative_count_is_told_the_right_bound(capsys: pytest.CaptureFixture[str]) -> None:
    """`--threads -3` names the bound it misses (>= 1), as `--threads 0` does; `--threads 65`
    was refused by another layer in other words, without the flag's name (hunt 211 L1), as
    were `--eps -1` beside `--eps nan` and `ticket --coefficients 41` beside 0."""
    for bad in ("-3", "0", "65"):
        code, _, err = run(["solve", "x.json", "--threads", bad], capsys)
        assert code == 2 and err.count("\n") == 1
        assert f"argument --threads: must be an integer from 1 to 64, got {int(bad)}" in err
    for bad in ("-1", "-1e-300"):
        code, _, err = run(["solve", "x.json", "--objective", "sparsest", "--eps", bad], capsys)
        assert code == 2 and f"argument --eps: must be a finite number >= 0, got {bad}" in err
    from exactprune.instances.params import nonneg_finite_float

    # -0 is 0: it was stored as "eps": -0.0 (hunt 214 L3)
    assert math.copysign(1.0, nonneg_finite_float("-0")) == 1.0
    for bad in ("0", "41"):
        code, _, err = run(["ticket", "mnist-mlp", "--coefficients", bad, "--eps", "0.1"],
                           capsys)
        assert code == 2 and f"argument --coefficients: must be an integer from 1 to 40, " \
                             f"got {bad}" in err


def test_debug_is_taken_after_the_subcommand_too(tmp_path, capsys) -> None:
    """Hunt 16: `exactprune solve x.json --debug` (the natural "rerun with --debug") was a
    usage error; only `exactprune --debug solve ...` worked."""
    from exactprune.cli import main
    from exactprune.instances import generate_subset_sum, save_instance

    save_instance(generate_subset_sum(n=6, seed=0), tmp_path / "s.json")
    for argv in (["solve", str(tmp_path / "s.json"), "--solver", "mitm", "--debug"],
                 ["--debug", "solve", str(tmp_path / "s.json"), "--solver", "mitm"]):
        assert main(argv) == 0, capsys.readouterr().err


def test_certify_of_a_sparsest_result_recomputes_its_count(tmp_path, capsys) -> None:
    """Hunt 18: for a sparsest result certify printed the mask's error as
    objective_recomputed (the result's objective is the count kept) and compared nothing."""
    import json

    from exactprune.cli import main
    from exactprune.instances import generate_subset_sum, save_instance

    save_instance(generate_subset_sum(n=12, seed=0), tmp_path / "s.json")
    assert main(["solve", str(tmp_path / "s.json"), "--objective", "sparsest", "--eps", "1e-3",
                 "-o", str(tmp_path / "r.json")]) == 0
    capsys.readouterr()
    assert main(["certify", str(tmp_path / "s.json"), str(tmp_path / "r.json"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    claimed = json.loads((tmp_path / "r.json").read_text())
    assert out["objective_recomputed"] == out["kept"] == claimed["kept"]
    assert out["objective_matches"] and out["error_recomputed"] == claimed["error"]


@pytest.mark.parametrize("seed", range(3))
def test_certify_rechecks_an_infeasible_claim(seed: int, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """An infeasible sparsest result (no subset within eps, no mask) was refused ("holds no
    mask"), exactprune's own correct one and a false claim alike (hunt 186 L1). The re-check
    says whether some subset is within eps; the truth is the exact enumeration's."""
    from conftest import fraction_oracle

    from exactprune.instances import load_instance

    inst_path, res = tmp_path / "s.json", tmp_path / "r.json"
    assert main(["generate", "subset-sum", "--n", "10", "--seed", str(208001 + seed), "-o",
                 str(inst_path)]) == 0
    best = min(fraction_oracle(load_instance(inst_path)).values())
    infeasible_eps, feasible_eps = float(best) / 2, float(best) * 2
    assert main(["solve", str(inst_path), "--objective", "sparsest", "--eps",
                 repr(infeasible_eps), "-o", str(res)]) == 0
    own = json.loads(res.read_text())
    assert own["status"] == "infeasible" and own["mask"] is None

    def certify(doc: dict) -> dict:
        res.write_text(json.dumps(doc))
        capsys.readouterr()
        assert main(["certify", str(inst_path), str(res), "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    got = certify(own)
    assert got["infeasible_verified"] is True and got["instance_matches"] is True
    false_claim = certify({**own, "goal": {**own["goal"], "eps": feasible_eps}})
    assert false_claim["infeasible_verified"] is False
    assert "finds a subset" in false_claim["note"]
    min_error = certify({**own, "goal": {"objective": "min_error", "max_kept": None,
                                         "eps": None}})
    assert min_error["infeasible_verified"] is False and "empty mask" in min_error["note"]
    # a result of another kind, and a pruning instance, are refused in one line
    net = tmp_path / "net.json"
    assert main(["generate", "neuron-pruning", "--d", "2", "--width", "4", "--points", "8",
                 "--seed", "0", "-o", str(net)]) == 0
    res.write_text(json.dumps({**own, "kind": "neuron_pruning", "instance_sha256": None}))
    capsys.readouterr()
    assert main(["certify", str(net), str(res)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds no mask" in err[0], err
    assert str(res) in err[0]  # which file (hunt 207 L1)
    # --warm-start still needs a mask, and says which file has none (hunt 207 L1)
    res.write_text(json.dumps(own))
    capsys.readouterr()
    assert main(["solve", str(inst_path), "--warm-start", str(res)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"the result file {res} holds no mask" in err[0], err
    res.write_text(json.dumps({"mask": [1, 0, 1], "kind": "neuron_pruning"}))
    assert main(["solve", str(inst_path), "--warm-start", str(res)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"the result file {res} is for a 'neuron_pruning'" in err[0], err
    # JSON null is no result (it was read as an infeasible claim; hunt 190 F2)
    res.write_text("null")
    capsys.readouterr()
    assert main(["certify", str(inst_path), str(res)]) == 2
    assert "holds no mask" in capsys.readouterr().err
    # a result without the mask key holds no mask either (it was read whole as a mask)
    no_key = {k: v for k, v in own.items() if k != "mask"}
    assert certify(no_key)["infeasible_verified"] is True
    res.write_text(json.dumps({**no_key, "status": "feasible", "certified": False}))
    capsys.readouterr()
    assert main(["certify", str(inst_path), str(res)]) == 2
    assert "holds no mask" in capsys.readouterr().err


def test_certify_of_a_subset_sum_result_checks_its_bound(tmp_path, capsys) -> None:
    """An edited bound on a subset-sum result passed `certify` unread; it is
    `bound_consistent` false now, from the CLI as from the API."""
    import json

    from exactprune.cli import main

    inst, res = tmp_path / "s.json", tmp_path / "r.json"
    assert main(["generate", "subset-sum", "--n", "12", "--seed", "4", "-o", str(inst)]) == 0
    assert main(["solve", str(inst), "--solver", "greedy", "-o", str(res)]) == 0
    capsys.readouterr()
    data = json.loads(res.read_text())
    for bound, consistent in ((0.0, True), (1e300, False)):
        res.write_text(json.dumps({**data, "bound": bound}))
        assert main(["certify", str(inst), str(res), "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out.get("bound_consistent", True) is consistent, out


def test_certify_says_whether_a_results_gap_and_bounds_repeat_its_numbers(
        tmp_path, capsys) -> None:
    """Hunt 170 L2: a result's `gap` and `bounds` were read by nobody (a gap of -1, a dual
    bound of 1e300, bounds "x" passed). They are derived from its objective and bound:
    `gap_matches` and `bounds_match` say whether they do; a negative gap or bounds that are
    not two numbers is a malformed file."""
    import json

    from exactprune.cli import main

    inst, res = tmp_path / "s.json", tmp_path / "r.json"
    assert main(["generate", "subset-sum", "--n", "12", "--seed", "4", "-o", str(inst)]) == 0
    assert main(["solve", str(inst), "--solver", "mitm", "-o", str(res)]) == 0
    data = json.loads(res.read_text())

    def certify(**edit):  # type: ignore[no-untyped-def]
        res.write_text(json.dumps({**data, **edit}))
        capsys.readouterr()
        code = main(["certify", str(inst), str(res), "--json"])
        out, err = capsys.readouterr()
        return code, (json.loads(out) if code == 0 else err)

    code, out = certify()
    assert code == 0 and out["gap_matches"] is True and out["bounds_match"] is True
    code, out = certify(gap=1e300, bounds={"primal_bound": data["objective"],
                                           "dual_bound": 1e300})
    assert code == 0 and out["gap_matches"] is False and out["bounds_match"] is False
    code, out = certify(bound=0.0)  # the bound edited alone: the claim checked is the bound
    assert code == 0 and out["gap_matches"] is False and out["bound_consistent"] is True
    for edit in ({"gap": -1.0}, {"bounds": "x"}, {"bounds": {"primal_bound": 1.0}},
                 {"bounds": {"primal_bound": 1.0, "dual_bound": "y"}}):
        code, err = certify(**edit)
        assert code == 2 and len(err.strip().splitlines()) == 1, edit
        assert "malformed result object" in err, edit


@pytest.mark.parametrize("key", ["bound", "objective", "tolerance", "gap", "wall_time_s"])
def test_a_result_number_beyond_float64_is_one_line(tmp_path, capsys, key: str) -> None:
    """A result file whose bound (objective, ...) was the JSON integer 10**400 ended certify in
    an internal error, exit 1 (math.isnan's OverflowError; hunt 123 M2)."""
    import json

    from exactprune.cli import main

    inst, res = tmp_path / "s.json", tmp_path / "r.json"
    assert main(["generate", "subset-sum", "--n", "10", "--seed", "1", "-o", str(inst)]) == 0
    assert main(["solve", str(inst), "-o", str(res)]) == 0
    capsys.readouterr()
    res.write_text(json.dumps({**json.loads(res.read_text()), key: 10**400}))
    for argv in (["certify", str(inst), str(res)], ["solve", str(inst), "--warm-start", str(res)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{key} must be a number float64 can hold" in err, err


def test_certify_says_what_its_nulls_stand_for(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """certify -o wrote an error beyond float64 as null without a word, where solve's result
    notes it (hunt 217 L2)."""
    import json

    from exactprune.cli import main

    top = 1.7976931348623157e308
    inst, mask, out = tmp_path / "i.json", tmp_path / "m.json", tmp_path / "c.json"
    inst.write_text(json.dumps({"format": "exactprune.instance", "version": 1,
                                "kind": "subset_sum", "values": [top, top, top],
                                "target": -top}))
    mask.write_text(json.dumps({"mask": [1, 1, 1]}))
    assert main(["certify", str(inst), str(mask), "-o", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["error_recomputed"] is None and report["objective_recomputed"] is None
    assert "exceeds float64 (inf; null in JSON)" in report["note"]
    mask.write_text(json.dumps({"mask": [1, 0, 0]}))  # error 2 * top: still beyond
    assert main(["certify", str(inst), str(mask), "-o", str(out)]) == 0
    mask.write_text(json.dumps({"mask": [0, 0, 0]}))  # error top: finite, no such note
    assert main(["certify", str(inst), str(mask), "-o", str(out)]) == 0
    assert "exceeds float64" not in json.loads(out.read_text()).get("note", "")


@pytest.mark.parametrize("kind", ["subset-sum", "neuron-pruning"])
def test_certify_compares_the_claimed_kept_count(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    """A result claiming a `kept` its mask does not keep was passed over (hunt 96)."""
    import json

    from exactprune.cli import main

    inst, res = tmp_path / "i.json", tmp_path / "r.json"
    size = ["--n", "10"] if kind == "subset-sum" else ["--d", "2", "--width", "6", "--points", "8"]
    assert main(["generate", kind, *size, "--seed", "3", "-o", str(inst)]) == 0
    assert main(["solve", str(inst), "-o", str(res)]) == 0
    capsys.readouterr()
    data = json.loads(res.read_text())
    for claimed_kept, matches in ((data["kept"], True), (data["kept"] + 1, False)):
        res.write_text(json.dumps({**data, "kept": claimed_kept}))
        assert main(["certify", str(inst), str(res), "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["kept"] == data["kept"] and out["kept_claimed"] == claimed_kept
        assert out["kept_matches"] is matches
    # an empty path says which of the two it is (hunt 102 L2)
    assert main(["certify", str(inst), ""]) == 2
    assert "the result file path is empty" in capsys.readouterr().err
    assert main(["certify", "", str(res)]) == 2
    assert "the instance file path is empty" in capsys.readouterr().err
    # a malformed result names its file, as the bare mask's refusal does (hunt 102 L3)
    res.write_text(json.dumps({**data, "kept": -1}))
    assert main(["certify", str(inst), str(res)]) == 2
    assert capsys.readouterr().err.startswith(f"exactprune: error: {res}: malformed result")
    for bad in (2.5, -1, True, "3"):  # in a bare mask file, which from_json does not read
        res.write_text(json.dumps({"mask": data["mask"], "kept": bad}))
        assert main(["certify", str(inst), str(res)]) == 2
        assert "the result's kept must be a count" in capsys.readouterr().err
    # 5.0 is a count, as the result reader takes it; null claims nothing (hunt 99 L2)
    for claim, said in ((float(data["kept"]), True), (None, None)):
        res.write_text(json.dumps({**data, "kept": claim}))
        assert main(["certify", str(inst), str(res), "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out.get("kept_matches") is said
        if claim is not None:  # echoed as a count, as `kept` is (hunt 101 L5)
            assert out["kept_claimed"] == data["kept"] and type(out["kept_claimed"]) is int


@pytest.mark.parametrize(("entry", "named"), [
    (2, "2"), (0.5, "0.5"), (-1, "-1"), ("a", '"a"'), (None, "null"), (1e300, "1e+300"),
    ("1", '"1"'), (10**400, "1" + "0" * 36 + "...")])
def test_a_bad_mask_entry_is_named_in_one_wording(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], entry: object, named: str) -> None:
    """A warm start's (or certify's) mask entry of 2 was refused as "mask entries must be 0
    or 1" and one of 0.5 as "... must be 0/1 (or counts >= 0 with repeats)", neither naming
    the entry (hunt 208 L2): both say "mask entries must be 0 or 1" and name it, the entry at
    fault (a string made numpy's array all strings, and the valid first entry was named), an
    integer float64 cannot hold included (an internal error, exit 1; hunt 220 M1, L1, L2)."""
    import json

    from exactprune.cli import main

    inst, res, start = tmp_path / "i.json", tmp_path / "r.json", tmp_path / "w.json"
    assert main(["generate", "subset-sum", "--n", "6", "--seed", "1", "-o", str(inst)]) == 0
    assert main(["solve", str(inst), "--solver", "bruteforce", "-o", str(res)]) == 0
    data = json.loads(res.read_text())
    start.write_text(json.dumps({**data, "mask": [entry, *data["mask"][1:]]}))
    capsys.readouterr()
    for args in (["solve", str(inst), "--solver", "cpsat", "--warm-start", str(start)],
                 ["certify", str(inst), str(start)]):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "mask entries must be 0 or 1" in err, err
        assert err.rstrip().endswith(f"got {named}"), err
        if args[0] == "solve":  # the file named as the warm start, either way (hunt 220 L4)
            assert err.startswith(f"exactprune: error: warm start {start}: "), err
    # a weight-pruning mask object without its hidden_weights (refused as "got null")
    start.write_text(json.dumps({**data, "mask": {"x": 1}}))
    assert main(["certify", str(inst), str(start)]) == 2
    assert "a mask object must hold hidden_weights" in capsys.readouterr().err


@pytest.mark.parametrize(("claim", "said"), [
    ({"format": "exactprune.result", "version": 9, "mask": [1, 0, 0]},
     "unsupported result version 9"),
    ({"format": "exactprune.instance", "mask": [1, 0, 0]}, "not an exactprune result file"),
    ({"mask": [1, 0, 0], "goal": "sparsest"}, "the result's goal must be an object"),
    ({"version": 9, "mask": [1, 0, 0]}, "unsupported result version 9"),  # no format (hunt 36)
    ({"version": True, "mask": [1, 0, 0]}, "unsupported result version True"),  # hunt 37 L4
    ({"version": 1.0, "mask": [1, 0, 0]}, "unsupported result version 1.0"),  # hunt 39
])
def test_certify_and_warm_starts_check_the_result_header(
        claim: dict, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A result of version 9 and an instance file holding a mask were taken by certify and
    --warm-start, and subset-sum's certify ignored a goal that is not an object (hunt 35)."""
    from exactprune.instances import generate_subset_sum, save_instance

    inst = str(tmp_path / "s.json")
    save_instance(generate_subset_sum(n=3, seed=0), inst)
    res = write(tmp_path / "r.json", json.dumps(claim))
    commands = [["certify", inst, res]]
    if "goal" not in claim:
        commands.append(["solve", inst, "--solver", "highs", "--warm-start", res])
    for argv in commands:
        code, _, err = run(argv, capsys)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and said in lines[0], (argv, err)
    bare = write(tmp_path / "ok.json", json.dumps({"mask": [1, 0, 0]}))  # no header: a mask
    assert run(["certify", inst, bare], capsys)[0] == 0


@pytest.mark.parametrize(("goal", "said"), [
    ({"objective": "max_error"}, "unknown objective 'max_error'"),
    ({"objective": 1}, "unknown objective 1"),
    ({"objective": "min_error", "eps": 0.1}, "eps applies to the sparsest objective only"),
    ({"objective": "sparsest", "eps": 0.1, "max_kept": 2}, "max_kept applies to min_error"),
])
@pytest.mark.parametrize("kind", ["subset-sum", "neuron-pruning"])
def test_certify_refuses_a_goal_no_solver_takes(
        goal: dict, said: str, kind: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A status-less result claiming `certified` under a goal no solver takes (objective
    "max_error", eps beside min_error) read `optimum_verified: true`, the goal taken as plain
    min_error (hunt 176 M1): refused in one line as `from_json` refuses it, by the CLI and by
    the kind's Python hook."""
    from exactprune.instances import load_instance
    from exactprune.instances.errors import InputError
    from exactprune.solvers import solve
    from exactprune.solvers.pruning import certify as certify_pruning
    from exactprune.solvers.subset_sum import certify as certify_subset_sum

    inst = str(tmp_path / "i.json")
    size = ["--n", "10"] if kind == "subset-sum" else ["--d", "2", "--width", "6",
                                                        "--points", "16"]
    assert main(["generate", kind, *size, "--seed", "1", "-o", inst]) == 0
    instance = load_instance(inst)
    res = solve(instance, "bruteforce")
    assert res.certified
    claimed = {"mask": res.to_json()["mask"], "certified": True, "status": "optimal",
               "goal": goal}
    for edited in (claimed, {k: v for k, v in claimed.items() if k != "status"}):
        code, _, err = run(["certify", inst, write(tmp_path / "r.json", json.dumps(edited))],
                           capsys)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and said in lines[0], (edited, err)
        hook = certify_subset_sum if kind == "subset-sum" else certify_pruning
        with pytest.raises(InputError, match=said):
            hook(instance, res.mask, edited)


@pytest.mark.parametrize("kind", ["neuron-pruning", "weight-pruning"])
def test_pruning_certify_refuses_a_sparsest_goal(kind: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """No pruning solver takes the sparsest goal, yet `certify` accepted a result claiming a
    certified sparsest optimum and verified nothing (hunt 179 L4), where neuron selection
    refuses every goal its solvers do not take: refused in one line, CLI and hook."""
    from exactprune.instances import load_instance
    from exactprune.instances.errors import InputError
    from exactprune.solvers import solve
    from exactprune.solvers.pruning import certify as certify_pruning

    inst = str(tmp_path / "i.json")
    assert main(["generate", kind, "--d", "2", "--width", "4", "--points", "16", "--seed", "1",
                 "-o", inst]) == 0
    instance = load_instance(inst)
    res = solve(instance, "bruteforce")
    data = res.to_json(instance.mask_to_json)
    sparsest = {**data, "goal": {"objective": "sparsest", "eps": 0.5}}
    for claimed in (sparsest, {k: v for k, v in sparsest.items() if k != "status"}):
        code, _, err = run(["certify", inst, write(tmp_path / "r.json", json.dumps(claimed))],
                           capsys)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and "none a" in lines[0], err
        with pytest.raises(InputError, match="is none a .* solver takes"):
            certify_pruning(instance, res.mask, claimed)
    assert run(["certify", inst, write(tmp_path / "r.json", json.dumps(data))], capsys)[0] == 0


@pytest.mark.parametrize(("field", "value", "said"), [
    ("instance_sha256", "not-a-hash", "instance_sha256 must be 64 hex digits"),
    ("status", "solved", "solved"),
    ("certified", "yes", "certified"),
])
def test_warm_start_and_certify_read_a_result_as_results_are_read(
        field: str, value: Any, said: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """--warm-start took only the mask of a result whose other fields were malformed (a hash
    that is no sha256; hunt 62 L3), where certify refused it: both read it with
    SolveResult.from_json now."""
    from exactprune.instances import generate_subset_sum, save_instance

    inst = str(tmp_path / "s.json")
    save_instance(generate_subset_sum(n=6, seed=0), inst)
    good = str(tmp_path / "good.json")
    assert run(["solve", inst, "--solver", "mitm", "-o", good], capsys)[0] == 0
    assert run(["solve", inst, "--solver", "highs", "--warm-start", good], capsys)[0] == 0
    data = json.loads(Path(good).read_text())
    data[field] = value
    bad = write(tmp_path / "bad.json", json.dumps(data))
    for argv in (["certify", inst, bad], ["solve", inst, "--solver", "highs",
                                          "--warm-start", bad]):
        code, _, err = run(argv, capsys)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and said in lines[0], (argv, err)


@pytest.mark.parametrize(("argv", "said"), [
    (["generate", "subset-sum", "--n", "3", "--target", "9007199254740993", "-o", "-"],
     "has no exact float64 value"),
    (["generate", "subset-sum", "--n", "3", "--target", "1e-400", "-o", "-"],
     "1e-400 underflows float64 to 0"),
    (["generate", "subset-sum", "--n", "3", "--high", "1_0", "-o", "-"], "must be a number"),
    (["sweep", "subset-sum", "--param", "n=4", "--param", "target=1e-400", "--solvers", "mitm",
      "--no-progress"], "1e-400 underflows float64 to 0"),
    (["demo", "--time-limit", "1_0"], "not a number: '1_0'"),
    # int() and float() read "1_0" as 10 and full-width digits as their values (hunt 37 L1)
    (["generate", "subset-sum", "--n", "1_0", "-o", "-"], "n must be an integer"),
    (["generate", "subset-sum", "--n", "\uff13", "-o", "-"], "n must be an integer"),
    (["generate", "subset-sum", "--n", "3", "--target", "\uff11", "-o", "-"],
     "target must be a number"),
    (["generate", "subset-sum", "--n", "3", "--seed", "1_0", "-o", "-"], "seed must be an integer"),
    (["demo", "--n", "1_0"], "not an integer: '1_0'"),
    (["demo", "--seed", "9" * 5000], "not an integer of at most 30 digits"),  # hunt 39 F6
    (["sweep", "subset-sum", "--param", "n=4", "--param", "target=1_0", "--solvers", "mitm",
      "--no-progress"], "target must be a number, got '1_0'"),
    (["sweep", "subset-sum", "--param", "n=1_0", "--solvers", "mitm", "--no-progress"],
     "n must be an integer, got '1_0'"),
])
def test_numbers_in_flags_are_plain_decimals_float64_holds(
        argv: list[str], said: str, capsys: pytest.CaptureFixture[str]) -> None:
    """2^53 + 1 was written as 2^53, 1e-400 as 0 and 1_0 read as 10, each silently, while the
    same numbers in JSON are refused (hunt 35, hunt 36)."""
    code, out, err = run(argv, capsys)
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and len(lines) == 1 and said in lines[0], err


def test_exact_numbers_past_4300_digits_are_read(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """An integer written with 4,401 characters (leading zeros) is exactly 1; the exactness
    check's int() refused it with argparse's message and a 4.4 KB echo (hunt 45 F4)."""
    inst = tmp_path / "i.json"
    assert run(["generate", "subset-sum", "--n", "6", "-o", str(inst)], capsys)[0] == 0
    sparsest = ["solve", str(inst), "--solver", "mitm", "--objective", "sparsest", "--json",
                "--eps"]
    code, out, err = run([*sparsest, "0" * 4400 + "1"], capsys)
    assert code == 0 and json.loads(out)["status"] == "optimal", err
    for text, said in (("9" * 4400, "must be finite, got 9999"),
                       ("0" * 4400 + "9007199254740993",
                        "the integer 9007199254740993 has no exact float64 value")):
        code, out, err = run([*sparsest, text], capsys)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and len(err) < 400 and said in err, err


def test_amounts_written_as_integers_may_round_in_flags_options_and_grids(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A time limit or memory budget of 10**30 written out has no exact float64: the Python API
    rounds it, and the flags, --option and a TOML grid refused it (hunt 37 M2); an amount may
    round (data may not: the test above)."""
    inst = tmp_path / "i.json"
    assert run(["generate", "subset-sum", "--n", "8", "-o", str(inst)], capsys)[0] == 0
    big = str(10**30)
    for extra in (["--time-limit", big], ["--solver", "mitm", "--option",
                                          f"memory_limit_gb={big}"]):
        code, out, err = run(["solve", str(inst), "--json", *extra], capsys)
        assert code == 0 and json.loads(out)["status"] == "optimal", err
    grid = write(tmp_path / "g.toml", f'params = {{n = 6}}\nsolvers = ["mitm"]\n'
                                      f'[options]\ntime_limit = {big}\n')
    code, _, err = run(["sweep", "subset-sum", "--grid", grid, "--no-progress", "--jobs", "0",
                        "--store", str(tmp_path / "s.sqlite")], capsys)
    assert code == 0, err


def test_numbers_in_a_toml_grid_are_what_float64_holds(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    bad = write(tmp_path / "g.toml", 'params = {n = 4, target = 1e-400}\nsolvers = ["mitm"]\n')
    code, _, err = run(["sweep", "subset-sum", "--grid", bad, "--no-progress"], capsys)
    assert code == 2 and "1e-400 underflows float64 to 0" in err
    good = write(tmp_path / "h.toml", 'params = {n = 4, low = -1_0.5}\nsolvers = ["mitm"]\n')
    code, out, err = run(["sweep", "subset-sum", "--grid", good, "--no-progress", "--jobs", "0"],
                         capsys)
    assert code == 0 and "low=-10.5" in out, err


def test_an_error_with_stderr_closed_stays_out_of_stdout() -> None:
    """With stderr closed (`2>&-`), sys.stderr is None and print(file=None) wrote the error
    line into stdout, where a script reads the JSON (hunt 45)."""
    out = subprocess.run(["bash", "-c", '"$@" 2>&-', "run", sys.executable, "-m", "exactprune",
                          "demo", "--n", "0", "--json"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 2 and out.stdout == "", out.stdout


def test_an_error_line_quoting_a_huge_input_is_clipped(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """A safetensors tensor named with 1,000,000 characters made a 1,000,135-character error
    line (hunt 117 L1): the line stops at 1,000 characters and says how much it left out."""
    import struct

    name = "x" * 100_000
    header = json.dumps({name: {"dtype": "I64", "shape": [1, 1], "data_offsets": [0, 8]}})
    net = tmp_path / "net.safetensors"
    net.write_bytes(struct.pack("<Q", len(header)) + header.encode() + bytes(8))
    code, _, err = run(["ticket", str(net), "--coefficients", "4", "--eps", "0.01", "-o",
                        str(tmp_path / "t.npz")], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and not (tmp_path / "t.npz").exists()
    assert len(err) < 1100 and "characters left out) ..." in err
    assert "only F16" in err[-300:]  # the reason, after the quoted name


def test_a_warm_start_file_of_the_wrong_shape_is_named(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI read the --warm-start file before solve() and its line did not say which mask
    was at fault (hunt 115 L2)."""
    inst, ws = tmp_path / "inst.json", tmp_path / "ws.json"
    run(["generate", "subset-sum", "--n", "6", "-o", str(inst)], capsys)
    ws.write_text(json.dumps({"mask": [1, 0, 1]}))
    code, _, err = run(["solve", str(inst), "--solver", "mitm", "--warm-start", str(ws)], capsys)
    assert code == 2 and err.startswith(f"exactprune: error: warm start {ws}: ")
    assert "shape (6,)" in err


@pytest.mark.parametrize("command,name", [
    (["generate", "subset-sum", "--n", "6", "--seed", "0"], "inst.npz"),
    (["solve", "{inst}", "--solver", "mitm"], "result.CSV"),
    (["certify", "{inst}", "{result}"], "check.lp"),
    (["solve", "{inst}", "--solver", "mitm"], ".mps"),  # a hidden file named as MPS
    (["generate", "subset-sum", "--n", "6", "--seed", "0"], "inst.json.gz"),  # hunt 226 L3
    (["certify", "{inst}", "{result}"], "check.json.XZ"),
])
def test_json_outputs_refuse_a_name_of_another_format(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str],
        name: str) -> None:
    """`solve -o result.csv`, `generate -o inst.npz`, `certify -o check.lp` wrote JSON under
    those names (hunt 179 notes), where `export` refuses a name its format does not match:
    refused in one line before any work, nothing written; save_instance too."""
    from exactprune.instances import InputError, generate_subset_sum, save_instance

    inst, result = tmp_path / "inst.json", tmp_path / "result.json"
    save_instance(generate_subset_sum(6, seed=0), inst)
    assert run(["solve", str(inst), "--solver", "mitm", "-o", str(result)], capsys)[0] == 0
    args = [a.format(inst=inst, result=result) for a in command]
    code, out, err = run([*args, "-o", str(tmp_path / name)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "this writes JSON" in err and not (tmp_path / name).exists()
    assert run([*args, "-o", str(tmp_path / "fine.txt")], capsys)[0] == 0  # other names pass
    with pytest.raises(InputError, match=r"z\.npz: this writes JSON"):
        save_instance(generate_subset_sum(6, seed=0), tmp_path / "z.npz")
    with pytest.raises(InputError, match=r"z\.json\.gz: this writes JSON, not a compressed"):
        save_instance(generate_subset_sum(6, seed=0), tmp_path / "z.json.gz")
    assert not (tmp_path / "z.npz").exists() and not (tmp_path / "z.json.gz").exists()
    # a .json name that is a link to a .npz file replaced the NumPy file (hunt 183 L6)
    (tmp_path / "w.npz").write_bytes(b"PK")
    (tmp_path / "out.json").symlink_to(tmp_path / "w.npz")
    code, out, err = run([*args, "-o", str(tmp_path / "out.json")], capsys)
    assert code == 2 and "(a link to" in err and (tmp_path / "w.npz").read_bytes() == b"PK"


@pytest.mark.parametrize("kind", ["subset_sum", "neuron_pruning", "weight_pruning",
                                  "neuron_selection"])
def test_certify_reads_status_optimal_without_certified_as_a_claim(
        kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A result saying "optimal" whose `certified` key was removed (with its bound) had its
    optimum checked by nothing: every check printed was true beside the worst mask of the
    instance (hunt 195 M1; with certified false it is refused). Status optimal is read as the
    claim of a certified optimum, and refuted as the same file with certified true is, and
    as a file without a status saying certified true."""
    import dataclasses
    import itertools

    import numpy as np

    from exactprune.instances import (
        generate_neuron_pruning,
        generate_subset_sum,
        generate_weight_pruning,
        save_instance,
    )
    from exactprune.instances.neuron_selection.generator import synthetic_neuron_selection
    from exactprune.solvers import solve

    inst = {"subset_sum": lambda: generate_subset_sum(n=10, seed=3),
            "neuron_pruning": lambda: generate_neuron_pruning(d=2, width=6, points=16, seed=3),
            "weight_pruning": lambda: generate_weight_pruning(d=2, width=3, points=16, seed=3),
            "neuron_selection": lambda: synthetic_neuron_selection(6, 2, m=10, loss="l1",
                                                                   seed=3)}[kind]()
    if kind == "neuron_selection":  # k = 2 of 6 units: the masks keep exactly two
        masks = [np.isin(np.arange(6), pair) for pair in itertools.combinations(range(6), 2)]
    else:
        shape = (3, 2) if kind == "weight_pruning" else (inst.mask_size,)  # width x d
        masks = [np.array(bits, dtype=bool).reshape(shape)
                 for bits in itertools.product((0, 1), repeat=inst.mask_size)]
    worst = max(masks, key=inst.evaluate)
    best = solve(inst, "bruteforce")
    assert best.certified and inst.evaluate(worst) > best.objective + 1e-9
    claim = dataclasses.replace(best, mask=worst, objective=inst.evaluate(worst))
    data = claim.to_json(inst.mask_to_json)
    save_instance(inst, tmp_path / "i.json")
    # and a file without a status saying certified true: pruning passed it over (hunt 196 M1)
    for status, certified in (("optimal", None), ("optimal", True), (None, True)):
        edited = {k: v for k, v in data.items() if k not in ("certified", "bound", "gap",
                                                              "bounds", "error", "kept",
                                                              "status")}
        if status is not None:
            edited["status"] = status
        if certified is not None:
            edited["certified"] = certified
        code, out, _ = run(["certify", str(tmp_path / "i.json"),
                            write(tmp_path / "r.json", json.dumps(edited)), "--json"], capsys)
        report = json.loads(out)
        verified = report.get("optimum_verified", report.get("claims", {}).get(
            "optimum_verified"))
        assert code == 0 and verified is False, (status, certified, report)


def test_certify_names_the_file_whose_mask_it_refuses(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A mask certify cannot read was refused without naming the result file (certify reads
    two files), where --warm-start names its file (hunt 196 L3)."""
    from exactprune.instances import generate_weight_pruning, save_instance

    save_instance(generate_weight_pruning(d=2, width=3, points=8, seed=0), tmp_path / "w.json")
    claim = {"mask": {"hidden_weights": [[1, 1]] * 3, "output_weights": [0, 0, 0]}}
    result = write(tmp_path / "extra.json", json.dumps(claim))
    code, _, err = run(["certify", str(tmp_path / "w.json"), result], capsys)
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"exactprune: error: {result}: a weight_pruning mask is"), err


@pytest.mark.parametrize("word", ["a\nb", "it's\tq\\z", "a`b``c", "é\u2028", "\udcff\udcfe",
                                  "R\u00a0x\u0085",
                                  "plain word", "$HOME"])
def test_a_reports_command_is_one_shell_line_that_gives_back_every_word(word: str) -> None:
    """An `--out` with a newline broke a report's one-line `Command:` in two, and a backtick
    ended its code span early (hunt 203 note). A word that does not print is quoted as
    bash's $'...' (an undecodable byte as the byte), and the span is fenced by more backticks
    than any run in it; bash gives every word back."""
    import os
    import re
    import shutil
    import subprocess

    from exactprune import invocation

    argv = ["verify", "subset-sum", "--out", word]
    invocation.record_command(argv)
    try:
        line, blank = invocation.command_lines()
        command = invocation.command_line()
    finally:
        invocation.record_command(None)
    assert blank == "" and "\n" not in line and command is not None
    ticks = re.match(r"Command: (`+)", line).group(1)
    assert line == f"Command: {ticks}{' ' * (len(ticks) > 1)}{command}" \
                   f"{' ' * (len(ticks) > 1)}{ticks}"
    assert ticks not in command
    if shutil.which("bash") is None:
        return
    script = "f() { printf '%s\\0' \"$@\"; }; f" + command.removeprefix("exactprune")
    for locale in ("C.UTF-8", "C"):  # \\U escapes came back as text under C (hunt 212 L1)
        out = subprocess.run(["bash", "-c", script], capture_output=True, check=True,
                             env={**os.environ, "LC_ALL": locale}).stdout
        assert [os.fsdecode(b) for b in out.split(b"\0")[:-1]] == argv, locale


def test_an_error_naming_a_path_with_a_newline_stays_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Any error line quoting a path with a newline (or another character that does not
    print) was two lines on stderr (hunt 212); it is escaped, as repr would."""
    missing = tmp_path / "no\nsuch\u2028file.json"
    code, _, err = run(["solve", str(missing)], capsys)
    assert code == 2 and err.count("\n") == 1 and "\u2028" not in err
    assert "no\\nsuch\\u2028file.json" in err


@pytest.mark.parametrize("repeats", [True, False])
def test_a_repeats_result_is_summarised_by_its_counts_whatever_they_are(
        repeats: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """docs/neuron_selection.md: a `counts` line with repeats, a 0/1 `mask` line without; an
    answer with repeats whose counts were all 0 or 1 printed a `mask` line (hunt 225 L1)."""
    from exactprune.instances import save_instance
    from exactprune.instances.neuron_selection.generator import synthetic_neuron_selection

    path = tmp_path / "ns.json"
    save_instance(synthetic_neuron_selection(6, 1, m=10, repeats=repeats, seed=3), path)
    code, out, _ = run(["solve", str(path), "--solver", "bruteforce"], capsys)
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith(("counts", "mask")))
    assert line.split()[0] == ("counts" if repeats else "mask"), line
    assert sorted(line.split()[1].replace(",", "")) == ["0"] * 5 + ["1"], line
