"""ANSR: numpy core (reference step, properties) and the ask/tell adapter."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimkit.errors import OptimkitValueError
from optimkit.optimizers import ansr as core


def brute_force_losers(best_loss: np.ndarray, best_index: int, tol: float) -> np.ndarray:
    """All pairs, as the reference implementation checks them (one pair at a time)."""
    losers = set()
    for i, j in itertools.combinations(range(len(best_loss)), 2):
        ri, rj = best_loss[i], best_loss[j]
        hi, lo = max(ri, rj), min(ri, rj)
        if not (np.isfinite(hi) and np.isfinite(lo) and hi != 0.0 and (hi - lo) / abs(hi) < tol):
            continue
        i_wins = i == best_index or (j != best_index and ri < rj)
        losers.add(j if i_wins else i)
    return np.array(sorted(losers), dtype=np.intp)


# ----------------------------------------------------------------- reference values
def test_reference_epoch_by_hand() -> None:
    params = core.Params(popsize=3, sigma=0.5, p_self=0.5, restart_tolerance=0.0)
    pos = np.array([[0.2, 0.4], [0.6, 0.8], [0.5, 0.5]])
    state = core.init(params, pos)
    state = core.update_bests(state, np.array([3.0, 1.0, 2.0]))
    assert state.best_index == 1
    np.testing.assert_array_equal(state.best_pos, pos)
    assert len(core.find_losers(state.best_loss, state.best_index, 0.0)) == 0
    noise = np.array([[1.0, -1.0], [0.5, 0.0], [20.0, -2.0]]) * params.sigma  # N(0, sigma) draws
    choice = np.array([[0.1, 0.6], [0.2, 0.99], [0.75, 0.3]])
    # row 0: own (0.2); u=0.6 -> (0.1*4)=0 -> skip self -> particle 1: 0.8 + 0.4*0.5*(-1) = 0.6
    # row 1: own (0.6); u=0.99 -> 1 -> skip self -> particle 2: 0.5 + 0.3*0.5*0 = 0.5
    # row 2: u=0.75 -> 1 -> particle 1: 0.6 + 0.1*0.5*20 = 1.6 -> clipped to 1; own (0.5)
    guide = core.guides_from_uniform(choice, params.p_self)
    np.testing.assert_array_equal(guide, [[0, 1], [1, 2], [1, 2]])
    new = core.perturb(state, noise, guide)
    np.testing.assert_allclose(new.pos, [[0.2, 0.6], [0.6, 0.5], [1.0, 0.5]], atol=1e-15)
    assert new.num_epochs == 1
    np.testing.assert_array_equal(state.pos, pos)  # the input state is not mutated


def test_reference_restart_by_hand() -> None:
    params = core.Params(popsize=4, sigma=0.1, p_self=1.0, restart_tolerance=1e-8)
    state = core.init(params, np.full((4, 1), 0.5))
    state = core.update_bests(state, np.array([1.0, 1.0 + 1e-10, 5.0, 1.0]))
    # pairs (0,1): converged, 1 loses; (0,3): tie with the global best 0, 3 loses; 2 is far away
    losers = core.find_losers(state.best_loss, state.best_index, params.restart_tolerance)
    np.testing.assert_array_equal(losers, [1, 3])
    fresh = np.array([[0.1], [0.2], [0.3], [0.4]])
    new = core.restart(state, losers, fresh)
    np.testing.assert_array_equal(new.best_pos[:, 0], [0.5, 0.1, 0.5, 0.2])
    np.testing.assert_array_equal(new.pos[:, 0], [0.5, 0.3, 0.5, 0.4])
    np.testing.assert_array_equal(new.best_loss, [1.0, np.inf, 5.0, np.inf])
    assert new.num_restarts == 2


def test_zero_and_nonfinite_pairs_never_count() -> None:
    losses = np.array([0.0, 0.0, np.inf, np.inf, np.nan, 3.0])
    assert list(core.find_losers(losses, 0, 1.0)) == []


def test_p_self_extremes() -> None:
    params0 = core.Params(popsize=3, sigma=1.0, p_self=0.0)
    state = core.update_bests(core.init(params0, np.array([[0.1], [0.5], [0.9]])), np.zeros(3) + [1, 2, 3])
    zero = np.zeros((3, 1))
    # p_self=0: u in [0, 1/2) -> first other particle, [1/2, 1) -> second one
    guide = core.guides_from_uniform(np.array([[0.0], [0.49], [0.99]]), 0.0)
    moved = core.perturb(state, zero, guide)
    np.testing.assert_allclose(moved.pos[:, 0], [0.5, 0.1, 0.5])
    np.testing.assert_allclose(core.perturb(state, zero, None).pos[:, 0], [0.1, 0.5, 0.9])
    # p_self = 1 draws no uniforms for the guides
    fresh, noise, none = core.draw_fast(np.random.default_rng(0), core.Params(popsize=3, p_self=1.0), 0, 1)
    assert fresh.shape == (0, 1) and noise(5).shape == (5,) and none is None


def test_inject_replaces_worst_best_only_when_better() -> None:
    params = core.Params(popsize=3)
    state = core.update_bests(core.init(params, np.full((3, 2), 0.5)), np.array([1.0, 3.0, 2.0]))
    same = core.inject(state, np.array([0.0, 0.0]), 3.0)
    np.testing.assert_array_equal(same.best_loss, state.best_loss)
    new = core.inject(state, np.array([-1.0, 0.25]), 0.5)
    np.testing.assert_array_equal(new.best_loss, [1.0, 0.5, 2.0])
    np.testing.assert_array_equal(new.best_pos[1], [0.0, 0.25])  # clipped into the box
    assert new.best_index == 1


# ----------------------------------------------------------------- properties
@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([0.0, 1.0, 1.0 + 1e-12, 2.0, -1.0, -1.0 - 1e-12, np.inf, 5.0]),
                min_size=2, max_size=9),
       st.sampled_from([0.0, 1e-8, 1e-3, 0.5]))
def test_find_losers_equals_all_pairs(losses: list[float], tol: float) -> None:
    arr = np.array(losses)
    best = int(np.argmin(arr))
    np.testing.assert_array_equal(core.find_losers(arr, best, tol), brute_force_losers(arr, best, tol))


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 7), st.integers(1, 4), st.floats(0.01, 3.0), st.floats(0.0, 1.0),
       st.sampled_from([0.0, 1e-8, 0.2]), st.integers(0, 2**32 - 1),
       st.sampled_from(["random", "ties", "flat"]))
def test_epoch_properties(popsize: int, dim: int, sigma: float, p_self: float, tol: float,
                          seed: int, kind: str) -> None:
    params = core.Params(popsize=popsize, sigma=sigma, p_self=p_self, restart_tolerance=tol)
    rng = np.random.default_rng(seed)
    state = core.init(params, rng.random((popsize, dim)))
    best_so_far = np.inf
    for _ in range(6):
        x = core.ask(state)
        assert np.all((x >= 0.0) & (x <= 1.0))  # points stay in the box
        if kind == "random":
            losses = rng.random(popsize)
        elif kind == "ties":
            losses = rng.integers(0, 3, popsize).astype(float)
        else:
            losses = np.full(popsize, 1.0)
        state = core.update_bests(state, losses)
        best = state.best_index
        kept_pos, kept_loss = state.best_pos[best].copy(), state.best_loss[best]
        assert kept_loss <= best_so_far  # the best loss never rises
        best_so_far = kept_loss
        state = core.evolve(state, params, rng)
        assert state.best_loss[best] == kept_loss  # the global best is never restarted
        np.testing.assert_array_equal(state.best_pos[best], kept_pos)
        assert np.all((state.best_pos >= 0.0) & (state.best_pos <= 1.0))


def test_draws_follow_the_intended_distribution() -> None:
    """The single-uniform choice: p_self own best, the others uniformly (never itself)."""
    p, d = 4, 50_000
    params = core.Params(popsize=p, sigma=1.0, p_self=0.3)
    marks = np.arange(p, dtype=float)[:, None] * np.ones((1, d)) / 10.0
    state = core.State(pos=marks.copy(), best_pos=marks, best_loss=np.zeros(p))
    choice = np.random.default_rng(0).random((p, d))
    guide = core.perturb(state, np.zeros((p, d)), core.guides_from_uniform(choice, params.p_self)).pos
    for row in range(p):
        counts = np.bincount(np.rint(guide[row] * 10).astype(int), minlength=p) / d
        expected = np.full(p, 0.7 / (p - 1))
        expected[row] = 0.3
        np.testing.assert_allclose(counts, expected, atol=0.01)


# ----------------------------------------------------------------- options
@pytest.mark.parametrize(("option", "value"), [
    ("popsize", 1), ("popsize", 2.5), ("popsize", True), ("sigma", 0.0), ("sigma", -1.0),
    ("sigma", np.inf), ("p_self", -0.1), ("p_self", 1.5), ("p_self", np.nan),
    ("restart_tolerance", -1e-9), ("bound", np.inf), ("bound", 0.0), ("bound", "10"),
])
def test_bad_options_name_the_option(option: str, value: object) -> None:
    with pytest.raises(OptimkitValueError, match=option):
        core.Params(**{option: value})  # type: ignore[arg-type]


# ----------------------------------------------------------------- ask/tell adapter
import optimkit as ok  # noqa: E402
from optimkit.optimizers.ansr import ANSR, ConfANSR  # noqa: E402
from optimkit.optimizers.base import registry  # noqa: E402


def sphere_value(x: np.ndarray) -> float:
    return float(np.sum(np.asarray(x) ** 2))


def test_registry_names_and_presets() -> None:
    assert registry["ANSR"] is ANSR
    periodic = registry["ANSRPeriodic"]
    assert periodic.config()["sigma"] == 0.04 and periodic.config()["p_self"] == 0.05
    assert registry["ANSRUnimodal"].config()["p_self"] == 0.0
    assert registry["ANSRMultimodal"].config()["sigma"] == 0.3
    opt = ConfANSR(popsize=8, sigma=0.1, seed=3)(parametrization=4, budget=100)
    assert isinstance(opt, ANSR) and opt._params.popsize == 8
    with pytest.raises(OptimkitValueError, match="popsize"):
        ConfANSR(popsize=1)
    with pytest.raises(OptimkitValueError, match="bound"):
        ANSR(3, bound=float("nan"))


def test_epoch_is_handed_out_then_updated_after_all_tells_in_any_order() -> None:
    opt = ANSR(3, popsize=6, p_self=0.5, seed=0)
    cands = [opt.ask() for _ in range(6)]
    assert len({c.uid for c in cands}) == 6
    first = np.array([c.value for c in cands])
    order = [4, 0, 5, 2, 1]
    for i in order:
        opt.tell(cands[i], sphere_value(cands[i].value))
    assert opt.num_epochs == 0  # one particle still out
    opt.tell(cands[3], sphere_value(cands[3].value))
    assert opt.num_epochs == 1
    # the bests are the first epoch's points, whatever the order of the tells
    np.testing.assert_array_equal(opt._box.to_data(opt._state.best_pos), opt._box.to_data(
        opt._box.from_data(first)))
    nxt = [opt.ask() for _ in range(6)]
    assert not np.allclose(np.array([c.value for c in nxt]), first)


def test_same_seed_same_asks_whatever_the_seeding_route() -> None:
    def run(opt: ANSR) -> np.ndarray:
        values = []
        for _ in range(20):
            c = opt.ask()
            values.append(c.value)
            opt.tell(c, sphere_value(c.value))
        return np.array(values)

    a = run(ANSR(2, popsize=4, seed=11))
    b = run(ANSR(2, popsize=4, seed=11))
    np.testing.assert_array_equal(a, b)
    opt = ANSR(2, popsize=4)
    opt.parametrization.random_state.seed(11)  # the nevergrad way, before the first ask
    np.testing.assert_array_equal(run(opt), a)
    assert not np.array_equal(run(ANSR(2, popsize=4, seed=12)), a)


def test_abandoned_particle_is_asked_again() -> None:
    opt = ANSR(2, popsize=3, seed=0)
    _, c1 = opt.ask(), opt.ask()
    opt.abandon(c1)
    again = opt.ask()
    np.testing.assert_array_equal(again.value, c1.value)


def test_asks_beyond_the_epoch_get_scouts_that_do_not_break_the_epoch() -> None:
    opt = ANSR(2, popsize=3, seed=0)
    parts = [opt.ask() for _ in range(3)]
    scouts = [opt.ask() for _ in range(4)]  # workers running ahead of the tells
    assert all(np.all(np.abs(c.value) <= 10.0) for c in scouts)
    for c in parts[:2] + scouts:
        opt.tell(c, sphere_value(c.value) - 1e6)  # scouts better than any particle so far
    assert opt.num_epochs == 0  # scouts do not complete the epoch
    assert np.sum(opt._state.best_loss < -1e5) == 3  # they replaced the worst bests (all 3 slots)
    opt.tell(parts[2], sphere_value(parts[2].value))
    assert opt.num_epochs == 1 and opt.num_tell == 7


def test_tell_not_asked_replaces_the_worst_best_when_better() -> None:
    opt = ANSR(2, popsize=3, seed=0, bound=5.0)
    parts = [opt.ask() for _ in range(3)]
    for c in parts:
        opt.tell(c, 1.0 + sphere_value(c.value))
    worst = float(opt._state.best_loss.max())
    good = opt.parametrization.spawn_child(new_value=np.array([0.5, -0.5]))
    opt.tell(good, 0.0)
    assert opt.num_tell_not_asked == 1
    assert float(opt._state.best_loss.min()) == 0.0 and worst not in opt._state.best_loss
    np.testing.assert_allclose(opt._box.to_data(opt._state.best_pos[opt._state.best_index]), [0.5, -0.5])
    bad = opt.parametrization.spawn_child(new_value=np.array([1.0, 1.0]))
    before = opt._state.best_loss.copy()
    opt.tell(bad, 1e9)
    np.testing.assert_array_equal(opt._state.best_loss, before)


def test_points_stay_in_the_parametrization_bounds() -> None:
    param = ok.p.Array(shape=(3,), lower=-1.0, upper=2.0)
    opt = ANSR(param, budget=640, popsize=8, sigma=0.5, seed=1)
    for _ in range(640):
        c = opt.ask()
        assert np.all((c.value >= -1.0) & (c.value <= 2.0))
        opt.tell(c, float(np.sum((c.value - 1.9) ** 2)))
    np.testing.assert_allclose(opt.recommend().value, 1.9, atol=0.1)


def test_minimize_sequential_vectorized_and_with_workers() -> None:
    seq = ANSR(4, budget=64 * 60, seed=0, p_self=0.05, bound=2.0).minimize(sphere_value)
    vec = ANSR(4, budget=64 * 60, seed=0, p_self=0.05, bound=2.0).minimize(
        lambda x: np.einsum("ij,ij->i", x, x), vectorized=True)
    # the same epochs with the same draws: same recommendation
    np.testing.assert_allclose(seq.value, vec.value)
    assert sphere_value(vec.value) < 1e-2
    from concurrent.futures import ThreadPoolExecutor

    opt = ANSR(4, budget=64 * 60, num_workers=5, seed=0, p_self=0.05, bound=2.0)
    with ThreadPoolExecutor(5) as ex:
        rec = opt.minimize(sphere_value, executor=ex)
    assert sphere_value(rec.value) < 1e-2 and opt.num_tell == 64 * 60


def test_vectorized_partial_batches_and_abandon() -> None:
    opt = ANSR(2, popsize=4, seed=0)
    data = opt._internal_ask_batch(3)
    opt._internal_abandon_batch(data)
    again = opt._internal_ask_batch(4)
    np.testing.assert_array_equal(again[:3], data)
    opt._internal_tell_batch(again, np.arange(4.0))
    assert opt.num_epochs == 1
    extra = opt._internal_ask_batch(6)  # 4 particles and 2 scouts
    opt._internal_tell_batch(extra, np.full(6, -1.0))
    assert opt.num_epochs == 2 and opt.restarts >= 0


def test_dump_and_load_resume_the_same_run(tmp_path) -> None:  # noqa: ANN001
    opt = ANSR(3, popsize=4, seed=5)
    for _ in range(6):
        c = opt.ask()
        opt.tell(c, sphere_value(c.value))
    path = tmp_path / "ansr.pkl"
    opt.dump(path)
    other = ANSR.load(path)
    for _ in range(10):
        a, b = opt.ask(), other.ask()
        np.testing.assert_array_equal(a.value, b.value)
        opt.tell(a, sphere_value(a.value))
        other.tell(b, sphere_value(b.value))


@pytest.mark.parametrize("p_self", [0.9, 0.95, 0.999])
def test_sparse_neighbour_draws_follow_the_intended_distribution(p_self: float) -> None:
    """p_self >= 0.9: neighbour coordinates from geometric gaps, same law as one uniform each."""
    p, d = 4, 20_000
    gen = np.random.default_rng(1)
    counts = np.zeros((p, p))
    for _ in range(5):
        _, noise, (flat, index) = core.draw_fast(gen, core.Params(popsize=p, p_self=p_self), 0, d)
        assert np.all(np.diff(flat) > 0) and flat.max() < p * d
        np.testing.assert_array_equal(index % d, flat % d)  # the same coordinate of a neighbour
        source = index // d
        np.add.at(counts, (flat // d, source), 1)
    assert np.all(np.diag(counts) == 0)  # never its own index
    share = counts.sum() / (5 * p * d)
    expected = 5 * p * d * (1 - p_self)
    assert share == pytest.approx(1 - p_self, rel=4 / np.sqrt(expected))  # within 4 sd
    off = counts[~np.eye(p, dtype=bool)]
    assert off.std() / off.mean() < 3 / np.sqrt(off.mean())  # the other particles uniformly
    # the sparse guide means the same as the dense one
    marks = np.arange(p * 3, dtype=float).reshape(p, 3)
    state = core.State(pos=marks.copy(), best_pos=marks, best_loss=np.zeros(p))
    dense = np.tile(np.arange(p)[:, None], (1, 3))
    dense[1, 2] = 3
    sparse = (np.array([5]), np.array([3 * 3 + 2]))  # (1, 2) follows particle 3
    zero = np.zeros((p, 3))
    np.testing.assert_array_equal(core.perturb(state, zero, sparse).pos, core.perturb(state, zero, dense).pos)


def test_neighbour_index_never_picks_the_particle_itself() -> None:
    """The largest uniform below 1 still maps to another particle, for any population size."""
    top = np.nextafter(1.0, 0.0)
    for p in [2, 3, 5, 17, 64, 65, 1000, 4097]:
        d = 3
        flat = np.arange(p * d)
        for u in (0.0, top):
            index = core.neighbour_index(np.full(p * d, u), flat, p, d)
            assert np.all(index // d != flat // d) and np.all(index % d == flat % d)
        rows = core.neighbour_index(np.linspace(0, top, 10 * p), np.zeros(10 * p, dtype=np.intp), p, d) // d
        counts = np.bincount(rows, minlength=p)
        assert counts[0] == 0 and counts[1:].min() > 0 and counts[1:].max() - counts[1:].min() <= 1  # evenly


def test_bernoulli_positions_cover_the_whole_range() -> None:
    gen = np.random.default_rng(0)
    hits = np.concatenate([core.bernoulli_positions(gen, 1000, 0.3) for _ in range(200)])
    assert hits.min() >= 0 and hits.max() <= 999
    assert len(hits) / 200 == pytest.approx(300, rel=0.02)
    assert np.bincount(hits // 100).std() / np.bincount(hits // 100).mean() < 0.05


def test_normals_are_drawn_only_where_a_coordinate_can_move() -> None:
    """Coordinates with |guide - pos| = 0 land on the guide whatever the draw: none is spent on them."""
    pos = np.array([[0.2, 0.4, 0.6], [0.5, 0.5, 0.5]])
    best = np.array([[0.2, 0.3, 0.6], [0.5, 0.5, 0.9]])
    state = core.State(pos=pos, best_pos=best, best_loss=np.zeros(2))
    asked: list[object] = []

    def noise(size: object) -> np.ndarray:
        asked.append(size)
        return np.array([2.0, -1.0])

    new = core.perturb(state, noise, None)
    assert asked == [2]  # only (0, 1) and (1, 2) can move
    np.testing.assert_allclose(new.pos, [[0.2, 0.3 + 0.1 * 2.0, 0.6], [0.5, 0.5, 0.9 - 0.4]])
    dense = core.perturb(state, np.array([[9.0, 2.0, 9.0], [9.0, 9.0, -1.0]]), None)
    np.testing.assert_allclose(dense.pos, new.pos)


@settings(max_examples=25, deadline=None)
@given(st.permutations(list(range(5))), st.integers(0, 2**31 - 1))
def test_tells_in_any_order_give_the_same_run(order: list[int], seed: int) -> None:
    def run(tell_order: list[int]) -> np.ndarray:
        opt = ANSR(3, popsize=5, p_self=0.5, restart_tolerance=0.5, seed=seed)
        for _ in range(3):  # three epochs, each told in the given order
            cands = [opt.ask() for _ in range(5)]
            for i in tell_order:
                opt.tell(cands[i], float(np.round(sphere_value(cands[i].value))))  # ties: restarts happen
        return np.array([opt.ask().value for _ in range(5)])

    np.testing.assert_array_equal(run(order), run(list(range(5))))


def test_same_seed_same_asks_in_another_process() -> None:
    import subprocess
    import sys

    code = ("import numpy as np; from optimkit.optimizers.ansr import ANSR\n"
            "opt = ANSR(4, popsize=6, seed=123)\n"
            "for _ in range(14):\n"
            "    c = opt.ask(); opt.tell(c, float(np.sum(c.value ** 2)))\n"
            "print(repr(opt.ask().value.tolist()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1])).stdout
    opt = ANSR(4, popsize=6, seed=123)
    for _ in range(14):
        c = opt.ask()
        opt.tell(c, float(np.sum(c.value ** 2)))
    assert out.strip() == repr(opt.ask().value.tolist())


def test_candidates_in_flight_survive_dump_and_load(tmp_path) -> None:  # noqa: ANN001
    opt = ANSR(2, popsize=3, seed=1)
    out = [opt.ask() for _ in range(3)]
    opt.tell(out[0], 1.0)
    path = tmp_path / "ansr.pkl"
    opt.dump(path)
    loaded = ANSR.load(path)  # in-flight candidates are abandoned at load: their particles are re-issued
    again = [loaded.ask() for _ in range(2)]
    assert sorted(c.value.tolist() for c in again) == sorted(c.value.tolist() for c in out[1:])
    for c in again:
        loaded.tell(c, 2.0)
    assert loaded.num_epochs == 1 and loaded.num_tell_not_asked == 0


# ----------------------------------------------------------------- the core package (params, state, ...)
def test_core_functions_take_params_then_state_and_match_the_former_entry_points() -> None:
    from optimkit.algorithms.ansr import Params, core, draw_fast, drawer

    params = Params(popsize=5, sigma=0.2, p_self=0.3, restart_tolerance=0.1)
    uniforms = np.random.default_rng(0).random((5, 3))
    new, old = core.init(params, uniforms), core.init(params, uniforms)
    gen_new, gen_old = np.random.default_rng(1), np.random.default_rng(1)
    for _ in range(8):
        losses = np.round((core.ask(params, new) ** 2).sum(axis=1), 1)
        new = core.tell(params, new, losses, drawer(gen_new, params, draw_fast))
        old = core_shim_tell(old, params, losses, gen_old)
        np.testing.assert_array_equal(new.pos, old.pos)
        np.testing.assert_array_equal(new.best_loss, old.best_loss)
    assert new.num_restarts == old.num_restarts > 0


def core_shim_tell(state: core.State, params: core.Params, losses: np.ndarray, rng: np.random.Generator) -> core.State:
    return core.tell(state, params, losses, rng)  # the former module's order: (state, params, ...)


def test_params_validation_comes_from_the_shared_helper() -> None:
    from optimkit.algorithms.ansr import Params

    with pytest.raises(OptimkitValueError, match=r"popsize must be an integer in \[2, inf., got 1"):
        Params(popsize=1)
    with pytest.raises(OptimkitValueError, match=r"p_self must be a finite number in \[0, 1\], got 1.5"):
        Params(p_self=1.5)
    assert Params(popsize=np.int64(8)).popsize == 8 and type(Params(popsize=np.int64(8)).popsize) is int


def test_former_import_paths_still_work() -> None:
    import optimkit.algorithms.ansr as package
    import optimkit.optimizers.ansr as former

    for name in former.__all__:
        assert hasattr(former, name), name
    for name in ("Params", "State", "ANSR", "ConfANSR", "draw_fast", "draw_reference", "guides_from_uniform"):
        assert getattr(former, name) is getattr(package, name)
    assert ok.optimizers.registry["ANSR"] is package.ANSR
