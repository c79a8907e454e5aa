"""Callbacks: ParametersLogger, OptimizerDump, ProgressBar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import optimkit as ok


def test_parameters_logger_load_and_flattened(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    inst = ok.p.Instrumentation(ok.p.Array(shape=(2,)), lr=ok.p.Log(lower=1e-3, upper=1.0))
    opt = ok.optimizers.RandomSearch(parametrization=inst, budget=5, seed=0)
    logger = ok.callbacks.ParametersLogger(path)
    opt.register_callback("tell", logger)
    opt.minimize(lambda x, lr: float(np.sum(x**2) + lr))
    rows = logger.load()
    assert len(rows) == 5
    assert [r["#num-tell"] for r in rows] == [1, 2, 3, 4, 5]
    assert all(isinstance(r["#loss"], float) for r in rows)
    flat = logger.load_flattened()
    assert {"#value#0#0#0", "#value#0#0#1", "#value#1#lr"} <= set(flat[0])
    assert flat[0]["#value#1#lr"] == pytest.approx(rows[0]["#value"][1]["lr"])
    with path.open("a") as fh:
        fh.write('{"#loss": 1.0, "trunc')  # a crash mid-line
    assert len(logger.load()) == 5
    fresh = ok.callbacks.ParametersLogger(path, append=False)
    opt2 = ok.optimizers.RandomSearch(parametrization=2, budget=2, seed=0)
    opt2.register_callback("tell", fresh)
    opt2.minimize(lambda x: 0.0)
    assert len(fresh.load()) == 2


def test_optimizer_dump_callback(tmp_path: Path) -> None:
    path = tmp_path / "opt.pkl"
    opt = ok.optimizers.RandomSearch(parametrization=2, budget=7, seed=0)
    opt.register_callback("tell", ok.callbacks.OptimizerDump(path))
    opt.minimize(lambda x: float(np.sum(x**2)))
    loaded = ok.optimizers.RandomSearch.load(path)
    assert loaded.num_tell == 7
    assert loaded._callbacks == {"ask": [], "tell": []}  # callbacks are not saved: register them after load


def test_progress_bar(capsys: pytest.CaptureFixture[str]) -> None:
    opt = ok.optimizers.RandomSearch(parametrization=2, budget=20, seed=0)
    bar = ok.callbacks.ProgressBar()
    opt.register_callback("tell", bar)
    opt.minimize(lambda x: float(np.sum(x**2)))
    err = capsys.readouterr().err
    assert "20/20" in err and "best=" in err
    assert bar._bar is None  # closed at the end of the budget
    import pickle

    pickle.dumps(opt)  # the bar does not prevent dumps


def test_callback_errors() -> None:
    with pytest.raises(TypeError):
        ok.callbacks.EarlyStopping(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tolerance_window"):
        ok.callbacks.EarlyStopping.no_improvement_stopper(0)
    with pytest.raises(ValueError, match="max_duration"):
        ok.callbacks.EarlyStopping.timer(-1)
