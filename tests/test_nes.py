"""XNES / SNES: reference steps, convergence, ask/tell behaviour, bad input and numerical safety."""

from __future__ import annotations

import dataclasses
import json
import math
import pickle
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

import optimkit as ok
from optimkit.algorithms.nes import SNES, XNES, ConfSNES, ConfXNES, common, snes, xnes
from optimkit.core import registry
from optimkit.errors import OptimkitValueError

# one generation, d = 2, popsize 4, worked out by hand below
Z = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 0.0], [0.0, 2.0]])
LOSSES = np.array([3.0, 1.0, 4.0, 2.0])  # ranks: row 1 best, then row 3, row 0, row 2
# utilities for n = 4: w_k = max(0, log 3 - log k) = (log 3, log 1.5, 0, 0), normalized, minus 1/4
A_ = math.log(3) / (math.log(3) + math.log(1.5)) - 0.25   # 0.4804227 (best)
B_ = math.log(1.5) / (math.log(3) + math.log(1.5)) - 0.25  # 0.0195773 (second)
C_ = -0.25                                                # third and fourth


def sphere(x: np.ndarray) -> float:
    return float(np.sum(np.asarray(x) ** 2))


def rosenbrock(x: np.ndarray) -> float:
    x = np.asarray(x)
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def test_utilities_by_hand_and_ties() -> None:
    u = common.rank_utilities(LOSSES)
    np.testing.assert_allclose(u, [C_, A_, C_, B_], rtol=1e-12)
    np.testing.assert_allclose([A_, B_], [0.4804227, 0.0195773], atol=1e-7)
    assert abs(u.sum()) < 1e-15
    assert np.all(common.rank_utilities([2.0, 2.0, 2.0, 2.0]) == 0.0)  # all tied: no information
    tied = common.rank_utilities([1.0, 5.0, 5.0, np.nan])  # NaN is worst, the two 5s share
    assert tied[1] == tied[2] and tied[0] == pytest.approx(A_) and tied[3] == pytest.approx(C_)


def test_xnes_reference_step() -> None:
    params = xnes.Params(dimension=2, popsize=4, sigma=0.5)
    state = xnes.init(params, mean=[1.0, -1.0])
    x = xnes.ask(params, state, Z)
    np.testing.assert_allclose(x, [1.0, -1.0] + 0.5 * Z)
    new = xnes.tell(params, state, x, LOSSES)
    # G_delta = A*z1 + B*z3 + C*(z0 + z2) = [A, -A + 2B + C]
    np.testing.assert_allclose(new.mean, [1.0 + 0.5 * A_, -1.0 + 0.5 * (-A_ + 2 * B_ + C_)], rtol=1e-12)
    np.testing.assert_allclose(new.mean, [1.2402114, -1.3456341], atol=1e-6)
    # G_M = sum u z z^T = [[A + 2C, C - A], [C - A, A + C + 4B]]; G_sigma = tr / 2
    g_m = np.array([[A_ + 2 * C_, C_ - A_], [C_ - A_, A_ + C_ + 4 * B_]])
    g_sigma = np.trace(g_m) / 2
    eta = 0.6 * (3 + math.log(2)) / (2 * math.sqrt(2))  # 0.7834348 for sigma and B
    assert params.eta_sigma == pytest.approx(0.7834348, abs=1e-7) == params.eta_b
    assert new.sigma == pytest.approx(0.5 * math.exp(eta / 2 * g_sigma), rel=1e-12)
    assert new.sigma == pytest.approx(0.5291339, abs=1e-6)
    expected_b = scipy.linalg.expm(eta / 2 * (g_m - g_sigma * np.eye(2)))  # B was I
    np.testing.assert_allclose(new.b, expected_b, rtol=1e-10, atol=1e-12)
    assert abs(new.b[0, 1]) > 0.1  # a full matrix: the matrix exponential, not an element-wise exp
    assert not np.allclose(new.b, np.exp(eta / 2 * (g_m - g_sigma * np.eye(2))))
    np.testing.assert_allclose(new.b @ new.b_inv, np.eye(2), atol=1e-12)
    assert np.linalg.det(new.b) == pytest.approx(1.0)


def test_xnes_second_step_from_a_full_b_matches_scipy_expm() -> None:
    params = xnes.Params(dimension=3, popsize=5, sigma=0.3)
    rng = np.random.default_rng(0)
    state = xnes.init(params, mean=[0.5, 0.0, -0.5])
    for _ in range(30):  # build a non-trivial B, keeping the inverse by products only
        x = xnes.ask(params, state, rng.standard_normal((5, 3)))
        state = xnes.tell(params, state, x, [sphere(r * [1, 10, 100]) for r in x])
    x = xnes.ask(params, state, rng.standard_normal((5, 3)))
    y = np.array([sphere(r) for r in x])
    new = xnes.tell(params, state, x, y)
    s = np.linalg.solve(state.sigma * state.b, (x - state.mean).T).T  # independent whitening
    u = common.rank_utilities(y)
    g_m = sum(uk * (np.outer(sk, sk) - np.eye(3)) for uk, sk in zip(u, s))
    g_s = np.trace(g_m) / 3
    np.testing.assert_allclose(new.mean, state.mean + state.sigma * state.b @ (u @ s), rtol=1e-9)
    assert new.sigma == pytest.approx(state.sigma * math.exp(params.eta_sigma / 2 * g_s), rel=1e-9)
    np.testing.assert_allclose(new.b, state.b @ scipy.linalg.expm(params.eta_b / 2 * (g_m - g_s * np.eye(3))),
                               rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(new.b @ new.b_inv, np.eye(3), atol=1e-9)


def test_snes_reference_step() -> None:
    params = snes.Params(dimension=2, popsize=4, sigma=1.0)
    state = dataclasses.replace(snes.init(params, mean=[1.0, -1.0]), sigma=np.array([0.5, 2.0]))
    x = snes.ask(params, state, Z)
    np.testing.assert_allclose(x, [1.0, -1.0] + np.array([0.5, 2.0]) * Z)
    new = snes.tell(params, state, x, LOSSES)
    # mean += sigma * sum u z = sigma * [A, -A + 2B + C]
    np.testing.assert_allclose(new.mean, [1.0 + 0.5 * A_, -1.0 + 2.0 * (-A_ + 2 * B_ + C_)], rtol=1e-12)
    np.testing.assert_allclose(new.mean, [1.2402114, -2.3825363], atol=1e-6)
    # sigma *= exp(eta/2 * sum u (z^2 - 1)) with sum u z^2 = [A + 2C, A + 4B + C]
    eta = (3 + math.log(2)) / (5 * math.sqrt(2))  # 0.5222899
    assert params.eta_sigma == pytest.approx(0.5222899, abs=1e-7)
    g = np.array([A_ + 2 * C_, A_ + 4 * B_ + C_])
    np.testing.assert_allclose(new.sigma, [0.5, 2.0] * np.exp(eta / 2 * g), rtol=1e-12)
    np.testing.assert_allclose(new.sigma, [0.4974503, 2.1679260], atol=1e-6)


def test_restart_doubles_the_population() -> None:
    xp = xnes.Params(dimension=3, restarts=2)
    xs = xnes.restart(xp, xnes.init(xp), mean=[1.0, 2.0, 3.0])
    assert xs.popsize == 2 * xp.initial_popsize and xs.num_restarts == 1 and xs.sigma == xp.sigma
    sp = snes.Params(dimension=3, popsize=6)
    ss = snes.restart(sp, snes.init(sp), mean=[0.0, 0.0, 0.0])
    assert ss.popsize == 12 and ss.num_restarts == 1
    for _ in range(12):  # doubling stops at MAX_GROWTH x the initial population
        ss = snes.restart(sp, ss, mean=[0.0, 0.0, 0.0])
    assert ss.popsize == common.MAX_GROWTH * 6 and ss.num_restarts == 13


@pytest.mark.parametrize("name", ["XNES", "SNES"])
def test_converges_on_sphere_and_rosenbrock(name: str) -> None:
    opt = registry[name](parametrization=5, budget=2500, seed=1)
    rec = opt.minimize(lambda x: sphere(x - 0.5))
    assert sphere(rec.value - 0.5) < 1e-8
    # XNES learns the curved valley; SNES (diagonal) learns the axis scales of an ellipsoid
    problem = rosenbrock if name == "XNES" else (lambda x: sphere(np.asarray(x) * [1.0, 30.0, 1000.0]))
    opt = registry[name](parametrization=3, budget=6000, seed=2, sigma=0.5, restarts=3)
    rec = opt.minimize(problem)
    assert problem(rec.value) < 1e-8


def test_snes_handles_a_high_dimensional_sphere() -> None:
    opt = SNES(parametrization=50, budget=5000, seed=0)
    rec = opt.minimize(lambda x: sphere(x - 1.0))
    assert sphere(rec.value - 1.0) < 0.05


def test_honours_sigma_and_mean_in_value_space() -> None:
    param = ok.p.Array(init=np.zeros(2)).set_mutation(sigma=2.0)
    opt = XNES(param, budget=10, seed=0, sigma=0.001, mean=[10.0, -4.0])
    cand = opt.ask()
    np.testing.assert_allclose(cand.value, [10.0, -4.0], atol=0.05)
    np.testing.assert_allclose(opt.state.mean, [5.0, -2.0])  # standardized: value / mutation sigma


def test_reproducible_and_seed_sensitive() -> None:
    def run(seed: int) -> np.ndarray:
        opt = XNES(parametrization=4, budget=60, seed=seed)
        opt.minimize(sphere)
        return np.array([opt.ask().value for _ in range(3)])

    np.testing.assert_array_equal(run(7), run(7))
    assert not np.allclose(run(7), run(8))
    opt = SNES(parametrization=4, budget=100, seed=3)
    for _ in range(13):
        c = opt.ask()
        opt.tell(c, sphere(c.value))
    clone = pickle.loads(pickle.dumps(opt))
    np.testing.assert_array_equal([opt.ask().value for _ in range(5)], [clone.ask().value for _ in range(5)])


def test_nevergrad_style_seeding_and_another_process() -> None:
    def asks(opt: XNES) -> list[list[float]]:
        out = []
        for _ in range(12):
            c = opt.ask()
            out.append(c.value.tolist())
            opt.tell(c, sphere(c.value))
        return out

    param = ok.p.Array(shape=(3,))
    param.random_state.seed(42)
    first = asks(XNES(param, budget=12))
    again = ok.p.Array(shape=(3,))
    again.random_state.seed(42)
    assert asks(XNES(again, budget=12)) == first
    code = ("import json, optimkit as ok\n"
            "from optimkit.optimizers.nes import XNES\n"
            "p = ok.p.Array(shape=(3,)); p.random_state.seed(42); opt = XNES(p, budget=12); out = []\n"
            "for _ in range(12):\n"
            "    c = opt.ask(); out.append(c.value.tolist()); opt.tell(c, float((c.value ** 2).sum()))\n"
            "print(json.dumps(out))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(proc.stdout) == first


@settings(max_examples=15, deadline=None)
@given(order=st.permutations(list(range(7))), algo=st.sampled_from(["XNES", "SNES"]))
def test_any_tell_order_gives_the_same_state(order: list[int], algo: str) -> None:
    states = []
    for perm in (list(range(7)), order):
        opt = (XNES if algo == "XNES" else SNES)(parametrization=3, seed=9, popsize=7)
        cands = [opt.ask() for _ in range(7)]
        for i in perm:
            opt.tell(cands[i], sphere(cands[i].value - 0.3))
        states.append(opt.state)
    np.testing.assert_allclose(states[0].mean, states[1].mean, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(states[0].sigma, states[1].sigma, rtol=1e-12)


@pytest.mark.parametrize("cls", [XNES, SNES])
def test_tells_in_any_order_give_the_same_update(cls: type) -> None:
    states = []
    for order in (slice(None), slice(None, None, -1)):
        opt = cls(parametrization=3, seed=5, popsize=6)
        cands = [opt.ask() for _ in range(6)]
        for c in cands[order]:
            opt.tell(c, sphere(c.value - 1.0))
        assert opt.state.generation == 1
        states.append(opt.state)
    np.testing.assert_allclose(states[0].mean, states[1].mean, rtol=1e-12)
    np.testing.assert_allclose(states[0].sigma, states[1].sigma, rtol=1e-12)


def test_batch_path_matches_sequential_and_workers_work() -> None:
    seq = XNES(parametrization=4, budget=400, seed=11)
    seq.minimize(sphere)
    vec = XNES(parametrization=4, budget=400, seed=11)
    assert vec._batch_size == vec.state.popsize
    vec.minimize(lambda xs: np.sum(xs**2, axis=1), vectorized=True)
    np.testing.assert_allclose(seq.state.mean, vec.state.mean, rtol=1e-10)
    par = SNES(parametrization=6, budget=1200, num_workers=4, seed=0)
    with ThreadPoolExecutor(4) as pool:
        rec = par.minimize(sphere, executor=pool)
    assert par.num_tell == 1200 and sphere(rec.value) < 1e-4


def test_abandon_requeues_and_tell_not_asked_is_used() -> None:
    opt = XNES(parametrization=3, seed=0, popsize=4)
    first = opt.ask()
    opt.abandon(first)
    again = opt.ask()
    np.testing.assert_array_equal(first.value, again.value)
    opt.tell(again, 1.0)
    far = opt.parametrization.spawn_child(new_value=np.array([1e6, -1e6, 1e6]))
    opt.tell(far, -1.0)  # told-not-asked: joins the generation, its step clipped
    for _ in range(2):
        c = opt.ask()
        opt.tell(c, sphere(c.value))
    assert opt.num_tell_not_asked == 1 and opt.state.generation == 1
    assert np.all(np.abs(opt.state.mean) < 10) and np.all(np.isfinite(opt.state.b))
    opt.suggest(np.array([0.1, 0.2, 0.3]))
    c = opt.ask()
    opt.tell(c, 0.0)  # a suggestion is used the same way, no warning, no error
    np.testing.assert_array_equal(c.value, [0.1, 0.2, 0.3])


@pytest.mark.parametrize("bad, word", [
    ({"sigma": 0.0}, "sigma"), ({"sigma": -1.0}, "sigma"), ({"sigma": math.inf}, "sigma"),
    ({"popsize": 1}, "popsize"), ({"popsize": 2.5}, "popsize"), ({"popsize": True}, "popsize"),
    ({"lr_mean": 0.0}, "lr_mean"), ({"lr_sigma": -0.1}, "lr_sigma"), ({"restarts": -1}, "restarts"),
    ({"mean": [1.0, 2.0]}, "mean"), ({"mean": [1.0, np.nan, 0.0]}, "mean"), ({"mean": [np.inf] * 3}, "mean"),
])
def test_bad_input_names_the_option(bad: dict, word: str) -> None:
    for factory in (lambda **kw: XNES(3, **kw), lambda **kw: SNES(3, **kw)):
        with pytest.raises(OptimkitValueError, match=word):
            factory(**bad)
    if bad != {"mean": [1.0, 2.0]}:  # the length is only known with a parametrization
        with pytest.raises(OptimkitValueError, match=word):
            ConfXNES(**bad)
        with pytest.raises(OptimkitValueError, match=word):
            ConfSNES(**bad)
    with pytest.raises(OptimkitValueError, match="lr_b"):
        XNES(3, lr_b=0.0)
    with pytest.raises(OptimkitValueError, match="lr_b"):
        ConfXNES(lr_b=-2.0)


def test_families_and_registry() -> None:
    conf = ConfXNES(popsize=8, sigma=0.3, restarts=2, seed=4)
    opt = conf(parametrization=5, budget=50)
    assert isinstance(opt, XNES) and opt.state.popsize == 8 and opt.state.sigma == 0.3
    assert "popsize=8" in repr(conf) and "lr_b" not in repr(conf)
    assert conf.config()["restarts"] == 2
    assert registry["XNES"] is XNES and registry["SNES"] is SNES
    assert isinstance(ConfSNES(popsize=10)(parametrization=100), SNES)


@pytest.mark.parametrize("cls", [XNES, SNES])
def test_all_equal_losses_stop_or_restart_never_nan(cls: type) -> None:
    opt = cls(parametrization=4, budget=300, seed=0, restarts=0)
    opt.minimize(lambda x: 1.0)
    assert opt.state.stop == "flat_fitness" and np.all(np.isfinite(opt.state.mean))
    np.testing.assert_array_equal(opt.state.mean, np.zeros(4))  # no information: no move
    opt = cls(parametrization=4, budget=300, seed=0, restarts=2)
    opt.minimize(lambda x: 1.0)
    assert opt.state.num_restarts == 2 and opt.state.popsize == 4 * opt._params.initial_popsize
    assert np.all(np.isfinite(opt.state.mean)) and np.all(np.isfinite(opt.state.sigma))
    opt = cls(parametrization=4, budget=300, seed=0)  # the default: restart until the budget is spent
    opt.minimize(lambda x: 1.0)
    assert opt.num_ask == 300 and set(opt.state.runs.stops) == {"flat_fitness"} and opt.state.num_restarts > 2


@pytest.mark.parametrize("cls", [XNES, SNES])
def test_nan_losses_never_give_nan_states(cls: type) -> None:
    calls = iter(range(10**6))
    opt = cls(parametrization=3, budget=600, seed=0)
    with pytest.warns(ok.errors.NanLossWarning):
        rec = opt.minimize(lambda x: math.nan if next(calls) % 3 == 0 else sphere(x - 2.0))
    assert np.all(np.isfinite(opt.state.mean)) and sphere(rec.value - 2.0) < 1e-2
    opt = cls(parametrization=3, budget=100, seed=0)
    with pytest.warns(ok.errors.NanLossWarning):
        opt.minimize(lambda x: math.nan)
    assert np.all(np.isfinite(opt.state.mean)) and np.all(np.isfinite(opt.state.sigma))


def test_huge_dimensions_and_values_stay_finite() -> None:
    d = 20_000
    opt = SNES(parametrization=d, budget=5 * 33, seed=0)
    assert opt.state.popsize == 4 + int(3 * math.log(d))
    opt.minimize(lambda xs: np.sum(xs**2, axis=1) * 1e300, vectorized=True)  # overflows to inf
    assert np.all(np.isfinite(opt.state.mean)) and np.all(np.isfinite(opt.state.sigma))
    opt = XNES(parametrization=300, budget=3 * 21, seed=0)
    opt.minimize(lambda xs: np.where(np.arange(len(xs)) % 2, -np.inf, np.sum(xs**2, axis=1)), vectorized=True)
    st = opt.state
    assert all(np.all(np.isfinite(a)) for a in (st.mean, st.b, st.b_inv)) and math.isfinite(st.sigma)
    with pytest.warns(ok.errors.InefficientSettingsWarning, match="SNES"):
        XNES(parametrization=1001)
    params = xnes.Params(dimension=3, popsize=4)  # a point at 1e300 cannot break the state
    state = xnes.init(params)
    new = xnes.tell(params, state, np.array([[1e300] * 3, [0.0] * 3, [1.0] * 3, [2.0] * 3]), [0.0, 1, 2, 3])
    assert new.stop == "numerical" and np.all(np.isfinite(new.mean)) and np.all(np.isfinite(new.b))


def test_old_import_paths_keep_every_name() -> None:
    import importlib

    from optimkit.optimizers import nes as old_nes
    from optimkit.optimizers import snes as old_snes
    from optimkit.optimizers import xnes as old_xnes

    for module in (old_nes, old_xnes, old_snes):
        for name in module.__all__:
            assert getattr(importlib.import_module(module.__name__), name) is not None
    assert old_nes.XNES is XNES and old_nes.SNES is SNES and old_nes.ConfXNES is ConfXNES
    assert old_xnes.XNESParams is xnes.Params and old_snes.SNESState is snes.State
    assert old_xnes.xnes_tell is xnes.tell and old_snes.snes_restart is snes.restart
    params = xnes.Params(dimension=2, popsize=4, sigma=0.5)
    state = xnes.init(params, mean=[1.0, -1.0])
    np.testing.assert_array_equal(old_xnes.xnes_ask(state, Z), xnes.ask(params, state, Z))  # old order (state, z)
    sparams = snes.Params(dimension=2, popsize=4)
    sstate = snes.init(sparams)
    np.testing.assert_array_equal(old_snes.snes_ask(sstate, Z), snes.ask(sparams, sstate, Z))


def test_xnes_and_snes_share_their_options() -> None:
    assert issubclass(xnes.Params, common.Params) and issubclass(snes.Params, common.Params)
    shared = {f.name for f in dataclasses.fields(common.Params)}
    assert {f.name for f in dataclasses.fields(snes.Params)} == shared
    assert {f.name for f in dataclasses.fields(xnes.Params)} == shared | {"lr_b"}
    with pytest.raises(OptimkitValueError, match=r"restarts \(or math.inf\) must be an integer in \[0, inf\), got 1.5"):
        snes.Params(dimension=3, restarts=1.5)
    assert xnes.Params(dimension=3, restarts=math.inf).restarts == math.inf
