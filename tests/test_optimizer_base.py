"""The Optimizer base through RandomSearch: ask/tell bookkeeping, minimize, dump/load, bad input."""

from __future__ import annotations

import concurrent.futures as cf
import math
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from _objectives import shifted_sphere
from hypothesis import given, settings
from hypothesis import strategies as st

import optimkit as ok
from optimkit import errors


def make(budget: int = 100, dim: int = 3, **kw):  # type: ignore[no-untyped-def]
    return ok.optimizers.RandomSearch(parametrization=dim, budget=budget, seed=kw.pop("seed", 0), **kw)


def test_ask_tell_recommend_counters_and_bests() -> None:
    opt = make(budget=50)
    losses = []
    for _ in range(20):
        cand = opt.ask()
        loss = shifted_sphere(cand.value)
        losses.append(loss)
        opt.tell(cand, loss)
    assert opt.num_ask == 20 and opt.num_tell == 20 and opt.num_tell_not_asked == 0
    rec = opt.recommend()
    assert rec.loss == pytest.approx(min(losses))
    assert opt.provide_recommendation() is rec
    for name in ("optimistic", "pessimistic", "average", "minimum"):
        assert opt.current_bests[name].mean == pytest.approx(min(losses))
    assert opt.num_objectives == 1 and opt.dimension == 3


def test_current_bests_with_repeated_noisy_point() -> None:
    opt = make()
    a, b = opt.ask(), opt.ask()
    opt.tell(a, 1.0)
    opt.tell(b, 1.5)
    # re-evaluating `a` badly moves its mean above b's
    opt.tell(a, 3.0)
    opt.tell(a, 3.0)
    assert opt.current_bests["minimum"].parameter is a
    np.testing.assert_array_equal(opt.current_bests["average"].parameter.value, b.value)
    assert opt.current_bests["average"].parameter.loss == 1.5
    assert opt.current_bests["pessimistic"].parameter is a  # many evaluations: narrow confidence bound
    assert opt.current_bests["average"].count == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from([0.0, 1.0, 1.5, 2.0, 70.0, 72.0, 140.0, 142.0, 1e3,
                                                                 -3.0, math.inf, math.nan])),
                min_size=1, max_size=40))
def test_admission_bound_gives_the_bests_of_the_exact_tests(tells: list[tuple[int, float]]) -> None:
    """The one-comparison fast path of the bests' update decides as the four exact tests do, also
    for re-evaluated points and losses around the +-70.71 bounds of single evaluations."""
    fast, exact = make(seed=1), make(seed=1)
    changed = exact._bests_changed

    def always_exact() -> None:
        changed()
        exact._admit = math.inf  # every finite loss takes the exact path

    exact._bests_changed = always_exact  # type: ignore[method-assign]
    points = [fast.parametrization.spawn_child(new_value=np.full(3, float(i))) for i in range(6)]
    filler = [(100 + k, 200.0 + k) for k in range(70)]  # fills the runner-up heap: the fast path engages
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, loss in filler + tells:
            if i >= 100:
                for opt in (fast, exact):
                    opt.tell(opt.parametrization.spawn_child(new_value=np.full(3, float(i))), loss)
                continue
            for opt in (fast, exact):
                opt.tell(opt.parametrization.spawn_child(new_value=points[i].value), loss)
    for name in ("optimistic", "pessimistic", "average", "minimum"):
        a, b = fast.current_bests[name], exact.current_bests[name]
        np.testing.assert_array_equal(a.parameter.value, b.parameter.value)
        assert (a.count, a.mean) == (b.count, b.mean) or (math.isnan(a.mean) and math.isnan(b.mean))
    assert sorted(fast._archive) == sorted(exact._archive) and fast._runner_up == exact._runner_up < math.inf


def test_optimizer_from_a_dump_without_the_admission_bound_decides_exactly() -> None:
    """A dump written before the bound existed lacks it: the class default sends tells the exact way."""
    opt = make()
    for loss in (5.0, 4.0):
        opt.tell(opt.ask(), loss)
    del opt.__dict__["_admit"], opt.__dict__["_admit_bests"]
    better = opt.ask()
    opt.tell(better, 1.0)
    assert opt.current_bests["minimum"].parameter is better and opt.recommend().loss == 1.0


@pytest.mark.parametrize("vectorized", [False, True])
def test_archive_keeps_no_batch_alive(vectorized: bool) -> None:
    """Archived points own their data and values: a row view would keep its whole batch in memory
    (popsize x dimension floats per archived point, for the length of the run)."""
    opt = ok.optimizers.registry["ANSR"](parametrization=ok.p.Array(shape=(16,), lower=-2, upper=2), budget=2048,
                                         seed=0, popsize=32)
    if vectorized:
        opt.minimize(lambda x: np.sum(x**2, axis=1), vectorized=True)
    else:
        opt.minimize(lambda x: float(np.sum(x**2)))
    assert len(opt._archive) > 10
    for mv in opt._archive.values():
        cand = mv.parameter
        assert mv.data.base is None and cand._raw_data.base is None and mv.data.shape == (16,)
        np.testing.assert_allclose(cand.get_standardized_data(reference=opt.parametrization), mv.data)
        assert float(np.sum(cand.value**2)) == pytest.approx(mv.mean)


def test_minimize_sequential_finds_better_than_start() -> None:
    opt = make(budget=300)
    rec = opt.minimize(shifted_sphere)
    assert shifted_sphere(rec.value) < shifted_sphere(np.zeros(3))
    assert opt.num_tell == 300


def test_same_seed_same_asks_and_nevergrad_style_seeding() -> None:
    a, b = make(seed=7), make(seed=7)
    np.testing.assert_array_equal([a.ask().value for _ in range(5)], [b.ask().value for _ in range(5)])
    c = ok.optimizers.RandomSearch(parametrization=3, budget=10)
    c.parametrization.random_state.seed(7)
    d = ok.optimizers.RandomSearch(parametrization=3, budget=10)
    d.parametrization.random_state = np.random.RandomState(7)
    np.testing.assert_array_equal(c.ask().value, d.ask().value)


def test_reproducible_in_other_process() -> None:
    code = (
        "import optimkit as ok\n"
        "o = ok.optimizers.RandomSearch(parametrization=3, budget=5, seed=11)\n"
        "print(repr([o.ask().value.tolist() for _ in range(3)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    here = make(seed=11)
    assert eval(out) == [here.ask().value.tolist() for _ in range(3)]


def test_suggest_is_lifo_and_counts_as_asked() -> None:
    opt = make()
    opt.suggest(np.array([1.0, 1.0, 1.0]))
    opt.suggest(np.array([2.0, 2.0, 2.0]))
    assert opt.ask().value.tolist() == [2.0, 2.0, 2.0]
    first = opt.ask()
    assert first.value.tolist() == [1.0, 1.0, 1.0]
    opt.tell(first, 0.0)
    assert opt.num_tell_not_asked == 0 and opt.recommend().value.tolist() == [1.0, 1.0, 1.0]


def test_suggest_with_instrumentation() -> None:
    inst = ok.p.Instrumentation(ok.p.Scalar(), y=ok.p.Choice(["a", "b"]))
    opt = ok.optimizers.RandomSearch(parametrization=inst, budget=10, seed=0)
    opt.suggest(3.0, y="b")
    cand = opt.ask()
    assert cand.args == (3.0,) and cand.kwargs == {"y": "b"}


def test_tell_not_asked() -> None:
    opt = make()
    cand = opt.parametrization.spawn_child(new_value=np.array([0.5, 0.5, 0.5]))
    opt.tell(cand, 0.0)
    assert opt.num_tell_not_asked == 1 and opt.num_tell == 1
    assert opt.recommend().value.tolist() == [0.5, 0.5, 0.5]


def test_callbacks_order_and_removal() -> None:
    opt = make()
    seen: list[str] = []
    opt.register_callback("ask", lambda o: seen.append(f"ask{o.num_ask}"))
    opt.register_callback("tell", lambda o, c, loss: seen.append(f"tell{o.num_tell}:{loss}"))
    cand = opt.ask()
    opt.tell(cand, 2.0)
    assert seen == ["ask0", "tell1:2.0"]
    opt.remove_all_callbacks()
    opt.tell(opt.ask(), 1.0)
    assert len(seen) == 2
    with pytest.raises(ValueError, match="'ask' or 'tell'"):
        opt.register_callback("minimize", print)


def test_early_stopping_spec_example() -> None:
    opt = make(budget=100)
    calls = []
    opt.register_callback("ask", ok.callbacks.EarlyStopping(lambda o: o.num_ask > 3))
    opt.minimize(lambda x: calls.append(1) or 1.0)
    assert len(calls) == 4 and opt.num_tell == 4


def test_no_improvement_stopper_and_timer() -> None:
    opt = make(budget=1000)
    opt.register_callback("ask", ok.callbacks.EarlyStopping.no_improvement_stopper(5))
    opt.minimize(lambda x: 1.0)  # never improves after the first
    assert 5 < opt.num_tell < 10
    opt2 = make(budget=10**7)
    opt2.register_callback("ask", ok.callbacks.EarlyStopping.timer(0.2))
    opt2.minimize(lambda x: 1.0)
    assert 0 < opt2.num_tell < 10**7


@pytest.mark.parametrize("pool", [cf.ThreadPoolExecutor, cf.ProcessPoolExecutor])
@pytest.mark.parametrize("batch_mode", [False, True])
def test_minimize_with_executor(pool, batch_mode: bool) -> None:  # type: ignore[no-untyped-def]
    opt = ok.optimizers.RandomSearch(parametrization=3, budget=40, num_workers=4, seed=0)
    with pool(max_workers=2) as ex:
        rec = opt.minimize(shifted_sphere, executor=ex, batch_mode=batch_mode)
    assert opt.num_ask == 40 and opt.num_tell == 40
    assert rec.loss == pytest.approx(opt.current_bests["minimum"].minimum)


def test_custom_submit_executor_and_in_flight_count() -> None:
    class Future:
        def __init__(self, value: float) -> None:
            self.value, self.polls = value, 0

        def done(self) -> bool:
            self.polls += 1
            return self.polls > 2

        def result(self) -> float:
            return self.value

    class Executor:
        def __init__(self) -> None:
            self.max_in_flight, self.futures = 0, []

        def submit(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
            fut = Future(fn(*args, **kwargs))
            self.futures.append(fut)
            self.max_in_flight = max(self.max_in_flight, sum(1 for f in self.futures if f.polls <= 2))
            return fut

    ex = Executor()
    opt = ok.optimizers.RandomSearch(parametrization=2, budget=30, num_workers=3, seed=0)
    opt.minimize(shifted_sphere, executor=ex)
    assert opt.num_tell == 30 and ex.max_in_flight == 3


def test_unpicklable_objective_with_process_pool() -> None:
    opt = ok.optimizers.RandomSearch(parametrization=2, budget=4, num_workers=2, seed=0)
    with cf.ProcessPoolExecutor(max_workers=1) as ex:
        with pytest.raises(errors.UnpicklableObjectiveError, match="cannot be pickled"):
            opt.minimize(lambda x: 1.0, executor=ex)
    assert opt.num_ask == 0


def test_objective_that_raises_leaves_optimizer_consistent(tmp_path: Path) -> None:
    opt = make(budget=20)
    count = {"n": 0}

    def flaky(x: np.ndarray) -> float:
        count["n"] += 1
        if count["n"] == 5:
            raise RuntimeError("simulator crashed")
        return shifted_sphere(x)

    with pytest.raises(RuntimeError, match="simulator crashed"):
        opt.minimize(flaky)
    assert opt.num_ask == opt.num_tell == 4
    assert opt.recommend().loss is not None
    opt.dump(tmp_path / "opt.pkl")
    opt.minimize(flaky)
    assert opt.num_tell == 20


def test_objective_that_raises_in_executor() -> None:
    def bad(x: np.ndarray) -> float:
        raise ValueError("boom")

    opt = ok.optimizers.RandomSearch(parametrization=2, budget=10, num_workers=3, seed=0)
    with cf.ThreadPoolExecutor(2) as ex, pytest.raises(ValueError, match="boom"):
        opt.minimize(bad, executor=ex)
    assert opt.num_ask == opt.num_tell == 0
    with pytest.warns(errors.InefficientSettingsWarning):
        opt.minimize(shifted_sphere)
    assert opt.num_tell == 10


def test_nan_and_inf_losses() -> None:
    opt = make()
    a, b, c = opt.ask(), opt.ask(), opt.ask()
    with pytest.warns(errors.NanLossWarning):
        opt.tell(a, float("nan"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.tell(b, float("nan"))  # warned once only
        opt.tell(c, math.inf)
    assert math.isnan(a.loss) and c.loss == math.inf
    d = opt.ask()
    opt.tell(d, 5.0)
    assert opt.recommend() is d
    assert opt.num_tell == 4


def test_constraint_violation_penalizes() -> None:
    opt = make(budget=200)
    rec = opt.minimize(shifted_sphere, constraint_violation=[lambda x: x[0] + 0.0])  # feasible iff x0 <= 0
    assert rec.value[0] <= 0


def test_cheap_constraints_resample_and_warn() -> None:
    param = ok.p.Array(shape=(2,)).register_cheap_constraint(lambda x: x[0] > 0)
    opt = ok.optimizers.RandomSearch(parametrization=param, budget=50, seed=1)
    for _ in range(20):
        assert opt.ask().value[0] > 0
    impossible = ok.p.Array(shape=(2,)).register_cheap_constraint(lambda x: False)
    opt2 = ok.optimizers.RandomSearch(parametrization=impossible, budget=5, seed=1)
    with pytest.warns(errors.FailedConstraintWarning):
        opt2.ask()


def test_max_time_and_verbosity(capsys: pytest.CaptureFixture[str]) -> None:
    import time

    opt = make(budget=10**6)
    opt.minimize(lambda x: time.sleep(0.01) or 1.0, max_time=0.3, verbosity=2)
    assert 1 <= opt.num_tell < 10**6  # stopped by the time limit, long before the budget
    assert "tell 1/1000000" in capsys.readouterr().out


def test_multiobjective_pareto_front() -> None:
    opt = make(budget=200, dim=2)
    opt.minimize(lambda x: [float(x[0] ** 2 + x[1] ** 2), float((x[0] - 1) ** 2 + x[1] ** 2)])
    front = opt.pareto_front()
    assert opt.num_objectives == 2 and len(front) >= 3
    losses = np.array([c.losses for c in front])
    for i in range(len(losses)):  # no point of the front dominates another
        dominated = np.all(losses <= losses[i], axis=1) & np.any(losses < losses[i], axis=1)
        assert not dominated.any()
    for subset in ("random", "loss-covering", "domain-covering", "hypervolume"):
        sub = opt.pareto_front(size=2, subset=subset)
        assert len(sub) == 2 and all(c in front for c in sub)
    with pytest.raises(ValueError, match="objectives"):
        opt.tell(opt.ask(), 1.0)


def test_hypervolume_exact() -> None:
    from optimkit.optimizers.pareto import hypervolume

    pts = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]])
    assert hypervolume(pts, np.array([4.0, 4.0])) == pytest.approx(3 + 2 + 1)


def test_vectorized_minimize() -> None:
    opt = ok.optimizers.RandomSearch(parametrization=ok.p.Array(shape=(4,), lower=-1, upper=1), budget=5000, seed=0)
    calls = []

    def f(x: np.ndarray) -> np.ndarray:
        calls.append(x.shape)
        assert np.all(np.abs(x) <= 1)
        return np.sum((x - 0.5) ** 2, axis=1)

    rec = opt.minimize(f, vectorized=True)
    assert opt.num_ask == opt.num_tell == 5000 and calls[0] == (1024, 4)
    assert rec.loss == pytest.approx(shifted_sphere(rec.value) - 0.0, abs=1e-12) or rec.loss < 0.1
    assert shifted_sphere(rec.value) < 0.05
    with pytest.raises(ValueError, match="losses"):
        ok.optimizers.RandomSearch(parametrization=2, budget=10).minimize(lambda x: np.zeros(3), vectorized=True)
    with pytest.raises(errors.UnsupportedParametrizationError):
        ok.optimizers.RandomSearch(parametrization=ok.p.Tuple(ok.p.Scalar()), budget=10).minimize(
            lambda x: 1.0, vectorized=True
        )


@pytest.mark.parametrize("name", ["RandomSearch", "ANSR"])
def test_vectorized_nan_rows_count_as_worst(name: str) -> None:
    """NaN rows of a vectorized objective: one warning, kept as NaN in the record, never the best."""
    opt = ok.optimizers.registry[name](parametrization=ok.p.Array(shape=(3,), lower=-1, upper=1), budget=640, seed=0)
    seen: list[float] = []
    opt.register_callback("tell", lambda o, c, loss: seen.append(loss))

    def f(x: np.ndarray) -> np.ndarray:
        out = np.sum(x**2, axis=1)
        out[::2] = np.nan  # the first row of every batch too: argmin finds a NaN first
        return out

    with pytest.warns(errors.NanLossWarning) as record:
        rec = opt.minimize(f, vectorized=True)
    assert len([w for w in record if issubclass(w.category, errors.NanLossWarning)]) == 1
    assert sum(map(math.isnan, seen)) == 320 and opt.num_tell == 640
    assert math.isfinite(rec.loss) and rec.loss == pytest.approx(float(np.sum(rec.value**2)))


def test_dump_load_roundtrip_continues_identically(tmp_path: Path) -> None:
    opt = make(budget=40)
    for _ in range(10):
        c = opt.ask()
        opt.tell(c, shifted_sphere(c.value))
    path = tmp_path / "dump.pkl"
    opt.dump(path)
    loaded = ok.optimizers.RandomSearch.load(path)
    assert loaded.num_ask == 10 and loaded.num_tell == 10
    np.testing.assert_array_equal(loaded.ask().value, opt.ask().value)
    assert loaded.recommend().loss == opt.recommend().loss
    assert ok.load(path).num_tell == 10


def test_load_rejects_truncated_foreign_and_wrong_class(tmp_path: Path) -> None:
    opt = make()
    path = tmp_path / "dump.pkl"
    opt.dump(path)
    raw = path.read_bytes()
    (tmp_path / "trunc.pkl").write_bytes(raw[: len(raw) - 20])
    with pytest.raises(errors.LoadError, match="truncated"):
        ok.optimizers.RandomSearch.load(tmp_path / "trunc.pkl")
    (tmp_path / "foreign.pkl").write_bytes(pickle.dumps({"not": "an optimizer"}))
    with pytest.raises(errors.LoadError, match="not an optimkit"):
        ok.optimizers.RandomSearch.load(tmp_path / "foreign.pkl")
    (tmp_path / "garbage.pkl").write_bytes(b"\x00\x01garbage")
    with pytest.raises(ValueError):
        ok.load(tmp_path / "garbage.pkl")

    class Other(ok.optimizers.RandomSearch):
        pass

    with pytest.raises(errors.LoadError, match="not a Other"):
        Other.load(path)
    with pytest.raises(errors.LoadError, match="cannot read"):
        ok.load(tmp_path / "missing.pkl")


def test_dump_is_atomic_and_checkpoint_option(tmp_path: Path) -> None:
    path = tmp_path / "ckpt.pkl"
    opt = make(budget=30)
    opt.minimize(shifted_sphere, checkpoint=path, checkpoint_every=7)
    assert ok.optimizers.RandomSearch.load(path).num_tell == 30
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pkl"]  # no temp file left behind


def test_inflight_candidates_reissued_after_load(tmp_path: Path) -> None:
    opt = make()
    a = opt.ask()
    opt.tell(a, 1.0)
    opt.ask()  # in flight when dumped
    opt.dump(tmp_path / "d.pkl")
    loaded = ok.optimizers.RandomSearch.load(tmp_path / "d.pkl")
    assert loaded.num_ask == 1 and loaded.num_tell == 1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"budget": -1}, "budget"),
        ({"num_workers": 0}, "num_workers"),
        ({"parametrization": 0}, "parametrization"),
        ({"scale": 0.0}, "scale"),
    ],
)
def test_bad_options(kwargs: dict, match: str) -> None:  # type: ignore[type-arg]
    args = {"parametrization": 2, "budget": 10}
    args.update(kwargs)
    with pytest.raises(errors.OptimkitValueError, match=match):
        ok.optimizers.RandomSearch(**args)


def test_bad_calls() -> None:
    opt = ok.optimizers.RandomSearch(parametrization=2)
    with pytest.raises(ValueError, match="budget"):
        opt.minimize(shifted_sphere)
    with pytest.raises(TypeError):
        opt.tell("not a candidate", 1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        opt.tell(opt.ask(), "abc")
    with pytest.raises(ValueError, match="parametrization"):
        opt.tell(ok.p.Array(shape=(5,)).spawn_child(), 1.0)
    with pytest.raises(TypeError):
        ok.optimizers.RandomSearch(parametrization="x")  # type: ignore[arg-type]


def test_failed_scalar_loss_broadcasts_to_every_objective() -> None:
    opt = make(dim=2)
    opt.tell(opt.ask(), [1.0, 2.0])
    cand = opt.ask()
    opt.tell(cand, float("inf"))  # e.g. RayExecutor's FAILED_LOSS
    assert cand.losses.tolist() == [math.inf, math.inf] and opt.num_tell == 2


def test_reevaluating_a_failed_point_keeps_bests_comparable() -> None:
    opt = make()
    a = opt.ask()
    with pytest.warns(errors.NanLossWarning):
        opt.tell(a, float("nan"))
    again = opt.parametrization.spawn_child(new_value=a.value)
    opt.tell(again, 3.0)  # same point, now finite: its mean stays inf
    b = opt.ask()
    opt.tell(b, 5.0)
    for name in ("optimistic", "pessimistic", "average", "minimum"):
        assert math.isfinite(opt.current_bests[name].get_estimation(name)), name
    assert opt.recommend().loss == 5.0


def test_dump_format_version_is_checked(tmp_path: Path) -> None:
    import json

    opt = make(budget=10)
    path = tmp_path / "o.pkl"
    opt.dump(path)
    raw = path.read_bytes()
    magic, rest = raw.split(b"\n", 1)
    header_line, payload = rest.split(b"\n", 1)
    for version in (1, 2, 99):
        header = json.loads(header_line)
        header["format"] = version
        (tmp_path / "v.pkl").write_bytes(magic + b"\n" + json.dumps(header).encode() + b"\n" + payload)
        with pytest.raises(errors.LoadError, match=f"format {version}.*reads format 3"):
            ok.load(tmp_path / "v.pkl")
    assert ok.load(path).num_ask == opt.num_ask


def test_unseeded_runs_leave_the_global_numpy_generator_alone() -> None:
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    runs = [ok.optimizers.RandomSearch(parametrization=3, budget=5).ask().value for _ in range(2)]
    assert np.array_equal(np.random.get_state()[1], before)
    assert not np.array_equal(runs[0], runs[1])  # seeded from the operating system, not a constant


def test_vectorized_tell_keeps_the_bests_as_single_tells_do() -> None:
    rng = np.random.default_rng(0)
    batch = ok.optimizers.RandomSearch(parametrization=3, budget=80, seed=0)
    single = ok.optimizers.RandomSearch(parametrization=3, budget=80, seed=0)
    for _ in range(2):
        rows, losses = rng.normal(size=(40, 3)), rng.permutation(np.linspace(5.0, 1.0, 40)) * rng.uniform()
        batch.ask_data(40)
        batch.tell_data(rows, losses)
        for row, loss in zip(rows, losses):
            single.tell(single.parametrization.spawn_child().set_standardized_data(row), float(loss))
        for name in ("optimistic", "pessimistic", "average", "minimum"):
            a, b = batch.current_bests[name], single.current_bests[name]
            assert a.mean == b.mean and np.array_equal(a.data, b.data), name
        assert batch.recommend().value.tolist() == single.recommend().value.tolist()
        # the best row is archived on its own memory, not as a view into the batch
        assert batch.recommend().get_standardized_data(reference=batch.parametrization).base is None


def test_batch_protocol_drives_minimize_counters_and_abandon() -> None:
    opt = ok.optimizers.RandomSearch(parametrization=2, budget=100, seed=1)
    data = opt.ask_data(8)
    assert data.shape == (8, 2) and opt.num_ask == 8 and opt.preferred_batch_size == 1024
    opt.abandon_data(data)
    assert opt.num_ask == 0
    data = opt.ask_data(4)
    with pytest.raises(errors.OptimkitValueError, match="4 losses"):
        opt.tell_data(data, np.ones(3))
    with pytest.warns(errors.NanLossWarning):
        opt.tell_data(data, np.array([3.0, np.nan, 1.0, 2.0]))
    assert opt.num_tell == 4 and opt.recommend().loss == 1.0
    with pytest.raises(errors.UnsupportedParametrizationError, match="use ask"):
        ok.optimizers.RandomSearch(parametrization=ok.p.Choice([1, 2]), budget=5).ask_data(2)
