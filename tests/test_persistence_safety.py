"""Dumps are plain data (issue 13): loading a crafted file runs nothing, callables travel by name,
callbacks are not saved, temp files of dead writers are cleaned, and errors name the dump's path."""

from __future__ import annotations

import collections
import copy
import hashlib
import io
import json
import math
import os
import pickle
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import optimkit as ok
from optimkit import errors
from optimkit.core import persistence, plaindata


def positive_first(value: Any) -> bool:
    """A cheap constraint defined at module level: dumps store it by name."""
    return bool(np.all(np.isfinite(value)))


def square(x: float) -> float:
    return x * x


class Marker:
    """Unpickling it creates a file: the payload of the old attack."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.path, "w"))


def run(opt: ok.optimizers.base.Optimizer, n: int) -> None:
    for _ in range(n):
        cand = opt.ask()
        opt.tell(cand, float(np.sum(np.square(opt._data_of(cand)))))


def write_raw(path: Path, payload: bytes, version: int = persistence.FORMAT_VERSION, cls: str = "x:Y") -> None:
    """A file with a valid optimkit header (recomputed size and checksum) around ``payload``."""
    header = {"format": version, "class": cls, "name": "x", "size": len(payload),
              "sha256": hashlib.sha256(payload).hexdigest()}
    path.write_bytes(persistence.MAGIC + json.dumps(header).encode() + b"\n" + payload)


def write_crafted(path: Path, root: Any, members: dict[str, bytes] | None = None, stored: bool = True) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("state.json", json.dumps({"root": root}))
        for name, data in (members or {}).items():
            zf.writestr(name, data)
    write_raw(path, buf.getvalue())


def every_load_path(path: Path) -> list[Any]:
    return [
        lambda: ok.load(path),
        lambda: ok.optimizers.base.load(path),
        lambda: ok.optimizers.XNES.load(path),
        lambda: ok.optimizers.registry["ANSRPeriodic"].load(path),
    ]


# ------------------------------------------------------------------ crafted files run nothing
@pytest.mark.parametrize("version", [2, 3])
def test_pickle_payload_with_recomputed_checksum_runs_nothing(tmp_path: Path, version: int) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.dump"
    write_raw(path, pickle.dumps(Marker(str(marker))), version=version)
    for load in every_load_path(path):
        with pytest.raises(errors.LoadError):
            load()
    assert not marker.exists()


@pytest.mark.parametrize(
    "root, match",
    [
        ({"$": "obj", "id": 0, "cls": "os:system", "dict": None}, "not an allowed optimkit class"),
        ({"$": "obj", "id": 0, "cls": "subprocess:Popen", "dict": None}, "not an allowed optimkit class"),
        ({"$": "obj", "id": 0, "cls": "builtins:eval", "dict": None}, "not an allowed optimkit class"),
        ({"$": "obj", "id": 0, "cls": "collections:OrderedDict", "dict": None}, "not an allowed"),
        ({"$": "callable", "ref": "os:system"}, "standard library"),
        ({"$": "callable", "ref": "builtins:eval"}, "standard library"),
        ({"$": "callable", "ref": "subprocess:Popen"}, "standard library"),
        ({"$": "callable", "ref": "numpy:load.__globals__"}, "bad function reference|does not exist"),
        ({"$": "callable", "ref": "some_module_nobody_imported:fn"}, "is not imported: import it"),
        ({"$": "callable", "ref": "pytest:main"}, "installed package 'pytest'"),
        ({"$": "module", "name": "os"}, "optimkit and numpy modules only"),
        ({"$": "pickle", "data": "gASVAA=="}, "unknown node type"),
        ({"$": "obj", "id": 0, "cls": "optimkit.parametrization.data:Array", "slots": {"$": "sdict", "id": 1,
          "v": {"no_such_slot": 1}}}, "malformed state"),
        ({"$": "ref", "id": 5}, "unknown or unfinished"),
    ],
)
def test_json_naming_an_arbitrary_class_or_function_is_refused(tmp_path: Path, root: Any, match: str) -> None:
    path = tmp_path / "crafted.dump"
    write_crafted(path, root)
    with pytest.raises(errors.LoadError, match=match):
        ok.load(path)


def npy_bytes(header: dict[str, Any], data: bytes) -> bytes:
    fh = io.BytesIO()
    np.lib.format.write_array_header_1_0(fh, header)
    return fh.getvalue() + data


def test_npy_member_with_object_dtype_or_oversized_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "crafted.dump"
    objects = io.BytesIO()
    np.lib.format.write_array(objects, np.array([Marker(str(tmp_path / "pwned"))], dtype=object), allow_pickle=True)
    write_crafted(path, {"$": "nd", "id": 0, "member": "a0.npy"}, {"a0.npy": objects.getvalue()})
    with pytest.raises(errors.LoadError, match="dtype object"):
        ok.load(path)
    assert not (tmp_path / "pwned").exists()

    huge = npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (10**12, 10**6)}, b"\x00" * 8)
    write_crafted(path, {"$": "nd", "id": 0, "member": "a0.npy"}, {"a0.npy": huge})
    started = time.perf_counter()
    with pytest.raises(errors.LoadError, match="claims shape"):
        ok.load(path)
    assert time.perf_counter() - started < 1.0  # refused before allocating anything

    inline = {"$": "nd", "id": 0, "dtype": "<f8", "shape": [10**9], "b64": "AAAAAAAAAAA="}
    write_crafted(path, inline)
    with pytest.raises(errors.LoadError, match="does not match"):
        ok.load(path)
    write_crafted(path, {"$": "nd", "id": 0, "dtype": "|O", "shape": [1], "b64": "AAAAAAAAAAA="})
    with pytest.raises(errors.LoadError, match="refused"):
        ok.load(path)
    ok_array = npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (1,)}, b"\x00" * 8)
    write_crafted(path, {"$": "nd", "id": 0, "member": "a0.npy"}, {"a0.npy": ok_array}, stored=False)
    with pytest.raises(errors.LoadError, match="compressed"):  # no zip bombs
        ok.load(path)
    write_crafted(path, {"$": "nd", "id": 0, "member": "a0.npy"}, {"a0.npy": ok_array})
    assert ok.load(path).tolist() == [0.0]  # the same file, well-formed, loads


def test_other_versions_are_refused_naming_both_and_pickles_need_the_unsafe_loader(tmp_path: Path) -> None:
    opt = ok.optimizers.RandomSearch(parametrization=3, budget=50, seed=1)
    opt.register_callback("tell", ok.callbacks.EarlyStopping(lambda o: False))
    run(opt, 10)
    legacy = tmp_path / "legacy.dump"
    write_raw(legacy, pickle.dumps(opt), version=2)  # what optimkit <= 0.1 wrote
    with pytest.raises(errors.LoadError, match=r"format 2; this optimkit reads format 3.*load_unsafe_pickle"):
        ok.load(legacy)
    old = ok.load_unsafe_pickle(legacy)
    assert old.num_tell == 10 and old._callbacks == {"ask": [], "tell": []}
    assert "RUNS CODE" in (ok.load_unsafe_pickle.__doc__ or "")
    newer = tmp_path / "newer.dump"
    write_raw(newer, b"whatever", version=99)
    with pytest.raises(errors.LoadError, match="format 99; this optimkit reads format 3 only.*newer"):
        ok.optimizers.RandomSearch.load(newer)
    opt.dump(tmp_path / "new.dump")
    with pytest.raises(errors.LoadError, match="reads the pickled format 2 only"):
        ok.load_unsafe_pickle(tmp_path / "new.dump")


def test_a_dump_loads_only_through_its_own_family_member(tmp_path: Path) -> None:
    path = tmp_path / "ansr.dump"
    ok.optimizers.registry["ANSR"](parametrization=2, budget=100).dump(path)
    with pytest.raises(errors.LoadError, match=r"class ANSR built from its class directly, not by ANSRPeriodic"):
        ok.optimizers.registry["ANSRPeriodic"].load(path)
    member = ok.optimizers.registry["ANSRMultimodal"]
    member(parametrization=2, budget=100).dump(path)
    with pytest.raises(errors.LoadError, match=r"ANSRMultimodal.*not by ANSRPeriodic"):
        ok.optimizers.registry["ANSRPeriodic"].load(path)
    assert member.load(path).name == member.name
    assert ok.optimizers.registry["ANSR"].load(path).num_ask == 0  # the class accepts any member
    with pytest.raises(errors.LoadError, match="not a XNES"):
        ok.optimizers.XNES.load(path)


# ------------------------------------------------------------------ callables by name
def test_constraints_and_functions_in_a_choice_travel_by_name(tmp_path: Path) -> None:
    param = ok.p.Instrumentation(ok.p.Array(shape=(2,)).register_cheap_constraint(positive_first),
                                 fn=ok.p.Choice([square, np.sin, abs]))
    opt = ok.optimizers.registry["ANSR"](parametrization=param, budget=200, seed=3)
    run(opt, 30)
    opt.dump(tmp_path / "c.dump")
    loaded = ok.load(tmp_path / "c.dump")
    assert loaded.parametrization._content[0]._constraints == (positive_first,)
    assert loaded.parametrization._content["fn"].choices[0] is square
    assert [loaded.ask().kwargs["fn"] for _ in range(10)] == [opt.ask().kwargs["fn"] for _ in range(10)]


def test_lambdas_are_refused_before_writing_naming_the_path_and_the_state(tmp_path: Path) -> None:
    param = ok.p.Array(shape=(2,)).register_cheap_constraint(lambda v: True)
    opt = ok.optimizers.RandomSearch(parametrization=param, budget=10)
    target = tmp_path / "ckpt.dump"
    with pytest.raises(errors.DumpError) as info:
        opt.dump(target)
    message = str(info.value)
    assert str(target) in message and "optimizer.parametrization._constraints[0]" in message
    assert "lambda" in message and ".tmp-" not in message
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_function_of_a_module_not_imported_asks_for_the_import(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    opt = ok.optimizers.RandomSearch(parametrization=ok.p.Choice([square, 1]), budget=10)
    opt.dump(tmp_path / "f.dump")
    monkeypatch.delitem(sys.modules, __name__)
    with pytest.raises(errors.LoadError, match=f"module '{__name__}' is not imported: import it before loading"):
        ok.load(tmp_path / "f.dump")


# ------------------------------------------------------------------ the generic encoder
def test_plain_data_round_trip_keeps_types_sharing_and_cycles() -> None:
    shared = [1, 2]
    cyclic: list[Any] = ["me"]
    cyclic.append(cyclic)
    data = {
        "ints": [0, -1, 2**70, -(2**200)], "floats": [math.inf, -math.inf, -0.0, 1e-310, 0.1],
        "nan": math.nan, "text": "é", "bytes": b"\x00\xff", "complex": 1 + 2j,
        "tuple": (1, (2,)), "set": {1, 2}, "frozen": frozenset({"a"}), "deque": collections.deque([1, 2], maxlen=3),
        (1, "k"): "tuple key", 3: "int key", "shared": (shared, shared), "cyclic": cyclic,
        "arrays": [np.arange(6, dtype=np.int32).reshape(2, 3), np.zeros((40, 40)), np.asfortranarray(np.eye(50)),
                   np.array(True), np.array([1 + 1j], dtype=np.complex64)],
        "scalars": [np.float32(1.5), np.int64(-3), np.bool_(True), np.dtype("float64")],
        "nested": {"a": {"b": [None, True]}},
    }
    tree, arrays = plaindata.encode(data)
    json.dumps(tree, allow_nan=False)  # plain JSON
    back = plaindata.decode(tree, arrays)
    assert back["ints"] == data["ints"] and back["floats"] == data["floats"]
    assert math.copysign(1, back["floats"][2]) == -1 and math.isnan(back["nan"])
    for key in ("text", "bytes", "complex", "tuple", "set", "frozen", (1, "k"), 3, "nested"):
        assert back[key] == data[key] and type(back[key]) is type(data[key])
    assert back["deque"] == data["deque"] and back["deque"].maxlen == 3
    assert back["shared"][0] is back["shared"][1] and back["cyclic"][1] is back["cyclic"]
    for got, want in zip(back["arrays"], data["arrays"]):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype and got.flags.writeable
    assert [type(s) for s in back["scalars"]] == [type(s) for s in data["scalars"]]
    assert back["scalars"] == data["scalars"]


def test_generators_keep_their_stream_and_the_shared_bit_generator() -> None:
    shared = ok.rng.SharedRandomState(5)
    shared.standard_normal()  # a cached Gaussian in the legacy state
    gen = np.random.default_rng(7)
    state = {"shared": shared, "gen": gen, "pcg": np.random.Generator(np.random.PCG64(1)), "rs": np.random.RandomState(2)}
    back = plaindata.decode(*plaindata.encode(state))
    assert back["shared"].generator.bit_generator is back["shared"]._bit_generator
    for key in ("shared", "rs"):
        assert back[key].standard_normal() == state[key].standard_normal()
    for key in ("gen", "pcg"):
        assert back[key].random() == state[key].random()
    assert back["shared"].generator.random() == shared.generator.random()  # one stream for both views
    assert back["shared"].randint(10**6) == shared.randint(10**6)


def test_unknown_objects_are_refused_with_their_path() -> None:
    with pytest.raises(plaindata.PlainDataError, match=r"root\.x\[1\]: a _thread\.lock .*cannot be stored"):
        plaindata.encode({"x": [1, __import__("threading").Lock()]}, "root")
    with pytest.raises(plaindata.PlainDataError, match="local function"):
        plaindata.encode([lambda: 1])
    with pytest.raises(plaindata.PlainDataError, match="standard library"):
        plaindata.encode(os.system)
    with pytest.raises(plaindata.PlainDataError, match="installed package '_pytest'"):
        plaindata.encode(pytest.approx)  # a loaded optimizer would call it: only your own functions
    with pytest.raises(plaindata.PlainDataError, match="wrap it"):
        plaindata.encode(np.mean)
    with pytest.raises(plaindata.PlainDataError, match="dtype object"):
        plaindata.encode(np.array([None]))


def test_a_registered_foreign_class_round_trips() -> None:
    class Foreign:
        pass

    Foreign.__qualname__ = "Foreign"  # as if defined at the top level of this module
    globals()["Foreign"] = Foreign
    try:
        obj = Foreign()
        obj.values = np.arange(3)  # type: ignore[attr-defined]
        with pytest.raises(plaindata.PlainDataError, match="register_safe_class"):
            plaindata.encode(obj)
        plaindata.register_safe_class(Foreign)
        back = plaindata.decode(*plaindata.encode([obj, obj]))
        assert type(back[0]) is Foreign and back[0] is back[1] and back[0].values.tolist() == [0, 1, 2]
    finally:
        plaindata._SAFE.pop(Foreign, None)
        plaindata._SAFE_CACHE.clear()
        del globals()["Foreign"]


# ------------------------------------------------------------------ every optimizer, resume paths
@pytest.mark.parametrize("name", sorted(ok.optimizers.registry))
def test_every_registered_optimizer_dumps_plain_data_and_continues(tmp_path: Path, name: str) -> None:
    param = ok.p.Array(shape=(3,))
    param.random_state.seed(11)
    opt = ok.optimizers.registry[name](parametrization=param, budget=300)
    run(opt, 25)
    opt.dump(tmp_path / "o.dump")
    with zipfile.ZipFile(io.BytesIO((tmp_path / "o.dump").read_bytes().split(b"\n", 2)[2])) as zf:
        assert "state.json" in zf.namelist()  # plain data, no pickle
    loaded = ok.optimizers.registry[name].load(tmp_path / "o.dump")
    assert loaded.num_tell == 25 and loaded.parametrization.random_state is loaded._rng
    for _ in range(5):
        a, b = opt.ask(), loaded.ask()
        np.testing.assert_array_equal(opt._data_of(a), loaded._data_of(b))
        opt.tell(a, 1.0)
        loaded.tell(b, 1.0)
    for o in (opt, loaded):
        close = getattr(o, "close", None)
        if close is not None:
            close()


def test_callbacks_are_not_saved_and_a_resumed_timer_counts_running_time_only(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    path = tmp_path / "ckpt.dump"

    def load_or_create() -> Any:
        opt = ok.load(path) if path.exists() else ok.optimizers.RandomSearch(parametrization=2, budget=40, seed=0)
        opt.register_callback("tell", ok.callbacks.ParametersLogger(log))
        return opt

    opt = load_or_create()
    run(opt, 20)
    opt.dump(path)
    resumed = load_or_create()  # the usual resume: callbacks registered once, not twice
    run(resumed, 20)
    assert len(log.read_text().splitlines()) == 40

    timer = ok.callbacks.EarlyStopping.timer(30.0)
    opt.register_callback("ask", timer)
    opt.ask()
    timer.stop_criterion._start -= 3600.0  # as if an hour had passed (downtime)
    for clone in (copy.deepcopy(timer), pickle.loads(pickle.dumps(timer))):
        assert math.isinf(clone.stop_criterion._start)  # the start is never carried over
        clone(opt)  # its first check starts it now: no stop
    opt.dump(path)
    assert ok.load(path)._callbacks == {"ask": [], "tell": []}


# ------------------------------------------------------------------ temp files
def test_stale_temp_files_of_dead_writers_are_removed_and_failed_writes_leave_none(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    target = tmp_path / "run.ckpt"
    stale = tmp_path / f".run.ckpt.tmp-{dead_pid}-abcd1234"
    stale_old_style = tmp_path / f".run.ckpt.tmp-{dead_pid}"
    alive = tmp_path / f".run.ckpt.tmp-{os.getppid()}-00000000"  # a live writer's file is left alone
    other = tmp_path / f".other.ckpt.tmp-{dead_pid}-abcd1234"
    for p in (stale, stale_old_style, alive, other):
        p.write_bytes(b"x" * 100)
    opt = ok.optimizers.RandomSearch(parametrization=2, budget=10, seed=0)
    opt.dump(target)
    assert not stale.exists() and not stale_old_style.exists()
    assert alive.exists() and other.exists() and target.exists()
    alive.unlink()
    other.unlink()

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(persistence.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        opt.dump(tmp_path / "second.ckpt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.ckpt"]  # the temp file was removed
