"""EA-NOMAD: the numpy core (Params, selection, breeding, planning) and the ask/tell adapter on real NOMAD."""

from __future__ import annotations

import gc
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from test_nomad_worker import nomad_children

import optimkit as ok
from optimkit.core import registry
from optimkit.errors import NomadCrashWarning, OptimkitValueError
from optimkit.optimizers import eanomad as ea

pytest.importorskip("PyNomad")
pytestmark = pytest.mark.nomad

SMALL = dict(population_size=4, subset_size=2, max_bb_eval=15)


def sphere(x: np.ndarray) -> float:
    return float(np.sum((x - 0.3) ** 2))


# ---------------------------------------------------------------------------------------- core
@pytest.mark.parametrize(("kwargs", "name"), [
    (dict(subset_size=50), "subset_size"), (dict(crossover_rate=1.0), "crossover_rate"),
    (dict(crossover_rate=-0.1), "crossover_rate"), (dict(bounds=0.0), "bounds"),
    (dict(bounds=-1.0), "bounds"), (dict(mode="EA"), "mode"), (dict(population_size=1), "population_size"),
    (dict(n_elites=40), "n_elites"), (dict(crossover_type="blend"), "crossover_type"),
    (dict(mode="hybrid", n_mutate_coords=0), "n_mutate_coords"), (dict(max_bb_eval=0), "max_bb_eval"),
    (dict(nomad_options=["SEED 3"]), "nomad_options"),
])
def test_params_reject_bad_options_by_name(kwargs: dict, name: str) -> None:
    with pytest.raises(OptimkitValueError, match=name):
        ea.Params(**kwargs)


def test_params_resolve_against_dimension() -> None:
    assert ea.Params().resolve(5).subset_size == 5
    with pytest.raises(OptimkitValueError, match="subset_size"):
        ea.Params(subset_size=8).resolve(5)
    assert ea.Params(population_size=9).elites == 4


@pytest.mark.parametrize("losses", [[-5.0, -1.0, -3.0], [0.0, 0.0, 0.0], [1e9, np.inf, -np.inf], [2.0, 1.0, 2.0]])
def test_rank_weights_are_defined_for_any_sign(losses: list[float]) -> None:
    w = ea.rank_weights(np.array(losses))
    assert np.all(w > 0) and w.sum() == pytest.approx(1.0)
    order = np.argsort(losses, kind="stable")
    assert np.all(np.diff(w[order]) <= 1e-12)  # better loss, no smaller weight
    for i in range(3):
        for j in range(3):
            if losses[i] == losses[j]:
                assert w[i] == pytest.approx(w[j])  # ties share their weight


def test_breed_crossover_and_mutation() -> None:
    parents = np.array([[0.0] * 6, [1.0] * 6])
    rng = np.random.default_rng(0)
    params = ea.Params(crossover_rate=0.0, n_mutate_coords=0).resolve(6)
    kids = ea.breed(parents, np.array([0.0, 1.0]), params, 50, rng)
    assert np.all((kids == 0.0).all(1) | (kids == 1.0).all(1))  # rate 0: every gene from the second parent
    params = ea.Params(n_mutate_coords=2).resolve(6)
    kids = ea.breed(parents, np.array([0.0, 1.0]), params, 50, rng)
    assert np.all(((kids != 0.0) & (kids != 1.0)).sum(1) <= 2)
    assert ((kids != 0.0) & (kids != 1.0)).sum() > 50
    assert kids.min() >= 0.0 and kids.max() <= 1.0
    params = ea.Params(crossover_type="fitness", crossover_exponent=3.0, n_mutate_coords=0).resolve(6)
    kids = ea.breed(parents, np.array([-10.0, 5.0]), params, 400, rng)  # negative losses are fine
    assert (kids == 0.0).mean() > 0.6  # biased towards the better parent


def test_plan_generation_pure_and_hybrid() -> None:
    rng = np.random.default_rng(1)
    params = ea.Params(population_size=6, subset_size=3, bounds=0.2).resolve(8)
    state = ea.init(params, 8, rng)
    tasks = ea.plan_generation(state, params, rng)
    assert all(t.is_search and t.coords.size == 3 for t in tasks)
    for t in tasks:
        assert np.all(t.lower >= 0) and np.all(t.upper <= 1) and np.all(t.lower <= t.x[t.coords])
    assert len({t.seed for t in tasks}) == 6
    hp = ea.Params(mode="hybrid", population_size=4, n_mutate_coords=1).resolve(8)
    hs = ea.init(hp, 8, rng, reference=np.full(8, 0.5))
    hs.population[1, 2] = 0.9
    hs.population[2, 2] = 0.1  # same mask as row 1: not novel
    hs.population[3, :] = 0.0  # 8 changes: novel
    kinds = [(t.is_search, tuple(t.coords)) for t in ea.plan_generation(hs, hp, rng)]
    assert kinds == [(False, ()), (True, (2,)), (False, ()), (True, tuple(range(8)))]


def test_finish_generation_keeps_elites_and_takes_extra_points() -> None:
    rng = np.random.default_rng(2)
    params = ea.Params(population_size=4, n_elites=2).resolve(3)
    state = ea.init(params, 3, rng)
    results = {i: (np.full(3, i / 10), float(i)) for i in range(4)}
    new = ea.finish_generation(state, params, results, [(np.full(3, 0.9), -1.0)], rng)
    assert np.allclose(new.population[0], 0.9) and np.allclose(new.population[1], 0.0)
    assert list(new.losses[:2]) == [-1.0, 0.0] and new.generation == 1


# ------------------------------------------------------------------------------------- adapter
def test_registry_names_and_family() -> None:
    assert registry["EANOMAD"] is ea.EANOMAD
    hybrid = registry["EANOMADHybrid"](ok.p.Array(shape=(3,)), budget=10)
    assert hybrid._params.mode == "hybrid"
    hybrid.close()
    conf = ea.ConfEANOMAD(mode="hybrid", max_bb_eval=7)
    assert conf.config()["max_bb_eval"] == 7
    with pytest.raises(OptimkitValueError, match="crossover_rate"):
        ea.ConfEANOMAD(crossover_rate=2.0)


def test_minimize_pure_improves_and_leaves_no_process() -> None:
    param = ok.p.Array(shape=(5,), lower=-1, upper=1)
    opt = registry["EANOMAD"](param, budget=600, seed=0, population_size=6, subset_size=3, max_bb_eval=25)
    rec = opt.minimize(sphere)
    assert opt.generation >= 2
    assert sphere(rec.value) < 0.02
    assert np.all(np.abs(rec.value) <= 1)
    assert nomad_children() == []


def test_minimize_hybrid_changes_few_coordinates() -> None:
    init = np.zeros(12)
    param = ok.p.Array(init=init, lower=-1, upper=1)
    opt = ea.EANOMAD(param, budget=300, seed=1, mode="hybrid", population_size=6, n_mutate_coords=1,
                     max_bb_eval=10)
    rec = opt.minimize(lambda x: float(np.sum((x - 0.3) ** 2)))
    assert sphere(rec.value) < sphere(init)
    assert np.count_nonzero(rec.value != 0) <= 6
    assert nomad_children() == []


def test_same_seed_same_asks() -> None:
    def run() -> list[np.ndarray]:
        opt = ea.EANOMAD(3, budget=60, seed=3, **SMALL)
        out = []
        for _ in range(60):
            cand = opt.ask()
            out.append(cand.value.copy())
            opt.tell(cand, sphere(cand.value))
        opt.close()
        return out

    assert all(np.array_equal(a, b) for a, b in zip(run(), run()))


def test_parallel_workers_have_asks_outstanding() -> None:
    opt = ea.EANOMAD(ok.p.Array(shape=(4,), lower=-1, upper=1), budget=200, num_workers=2, seed=0, **SMALL)
    a, b = opt.ask(), opt.ask()
    start = min(sphere(a.value), sphere(b.value))
    assert a._tag[0][0] != b._tag[0][0]  # two different NOMAD searches
    assert len(nomad_children()) == 2
    opt.tell(b, sphere(b.value))
    opt.tell(a, sphere(a.value))
    with ThreadPoolExecutor(2) as ex:
        rec = opt.minimize(sphere, executor=ex)
    assert sphere(rec.value) < start
    assert opt.num_tell == 200
    assert nomad_children() == []


def test_extra_asks_and_tell_not_asked() -> None:
    opt = ea.EANOMAD(3, budget=100, num_workers=1, seed=0, **SMALL)
    first, extra = opt.ask(), opt.ask()  # one search, one point at a time: the second is an extra
    assert extra._tag[0] is None
    opt.tell(extra, 5.0)
    opt.tell(first, 6.0)
    foreign = opt.parametrization.spawn_child(new_value=np.full(3, 0.3))
    opt.tell(foreign, 0.0)
    assert opt.num_tell_not_asked == 1
    opt.close()


def test_objective_exception_leaves_no_process() -> None:
    calls = []

    def bad(x: np.ndarray) -> float:
        calls.append(1)
        if len(calls) == 20:
            raise RuntimeError("boom")
        return sphere(x)

    opt = ea.EANOMAD(4, budget=100, seed=0, **SMALL)
    with pytest.raises(RuntimeError, match="boom"):
        opt.minimize(bad)
    assert nomad_children() == []
    rec = opt.minimize(sphere)  # and it can go on
    assert np.isfinite(sphere(rec.value))
    assert nomad_children() == []


def test_garbage_collection_kills_children() -> None:
    opt = ea.EANOMAD(4, budget=100, seed=0, **SMALL)
    cand = opt.ask()
    assert cand is not None and len(nomad_children()) == 1
    del opt, cand
    gc.collect()
    for _ in range(50):
        if not nomad_children():
            break
        import time

        time.sleep(0.1)
    assert nomad_children() == []


def test_dump_load_mid_search_goes_on_exactly(tmp_path) -> None:
    opt = ea.EANOMAD(ok.p.Array(shape=(4,), lower=-1, upper=1), budget=400, seed=0, population_size=4,
                     subset_size=3, max_bb_eval=40)
    first = np.inf
    for _ in range(25):
        cand = opt.ask()
        first = min(first, sphere(cand.value))
        opt.tell(cand, sphere(cand.value))
    pending = opt.ask()  # in flight while dumping: re-issued after load
    path = tmp_path / "ea.pkl"
    opt.dump(path)
    assert len(nomad_children()) == 1  # the live optimizer keeps its search
    loaded = ea.EANOMAD.load(path)
    assert len(nomad_children()) == 1  # nothing started by loading
    again = loaded.ask()
    assert np.array_equal(again.value, pending.value)
    for _ in range(30):
        loaded.tell(again, sphere(again.value))
        opt.tell(pending, sphere(pending.value))
        again, pending = loaded.ask(), opt.ask()
        assert np.array_equal(again.value, pending.value)
    opt.close()
    loaded.close()
    assert nomad_children() == []
    rec = loaded.minimize(sphere)
    assert sphere(rec.value) <= first
    assert nomad_children() == []


def test_contract_suite() -> None:
    from optimkit.testing import contract

    for check in contract.ALL_CHECKS:
        check(registry["EANOMAD"])
    assert nomad_children() == []


def test_crash_inside_a_run_ends_one_search_only() -> None:
    """NOMAD's default direction type crashes on 2-D sub-problems; the run goes on with a warning."""
    param = ok.p.Array(shape=(2,), lower=-1, upper=1)
    opt = ea.EANOMAD(param, budget=150, seed=0, population_size=4, subset_size=2, bounds=0.5,
                     max_bb_eval=30, nomad_options={"DIRECTION_TYPE": "ORTHO N+1 QUAD", "QUAD_MODEL_SEARCH": "yes"})
    opt._state = ea.init(opt._params, 2, opt._rng)
    opt._state.population[:] = 0.75  # value 0.5: the crashing start point of the issue
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec = opt.minimize(lambda x: float(np.sum(x ** 2)))
    assert any(issubclass(w.category, NomadCrashWarning) for w in caught)
    assert opt.num_tell == 150
    assert float(np.sum(rec.value ** 2)) <= 0.5
    assert nomad_children() == []


def test_vectorized_minimize_batches_points_of_several_searches() -> None:
    opt = ea.EANOMAD(ok.p.Array(shape=(5,), lower=-1, upper=1), budget=300, num_workers=3, seed=0,
                     population_size=6, max_bb_eval=15)
    batches = []

    def f(xs: np.ndarray) -> np.ndarray:
        batches.append(len(xs))
        return np.sum((xs - 0.3) ** 2, axis=1)

    rec = opt.minimize(f, vectorized=True)
    assert opt.num_tell == 300 and max(batches) == 3
    assert sphere(rec.value) < 0.05
    assert nomad_children() == []


# --------------------------------------------------------- the core package: (params, state, ...), draws
def test_new_and_old_import_paths_name_the_same_objects() -> None:
    from optimkit.algorithms import eanomad as core_pkg

    assert registry["EANOMAD"] is core_pkg.EANOMAD is ea.EANOMAD
    assert ok.families.ConfEANOMAD is core_pkg.ConfEANOMAD is ea.ConfEANOMAD
    assert ea.Params is core_pkg.Params and ea.Task is core_pkg.Task and ea.rank_weights is core_pkg.rank_weights


def test_core_steps_take_params_state_and_injected_draws() -> None:
    from optimkit.algorithms import eanomad as core_pkg

    params = core_pkg.Params(population_size=3, subset_size=2, bounds=0.25, n_elites=1,
                             n_mutate_coords=1).resolve(4)
    uniforms = np.array([[0.5] * 4, [0.1] * 4, [0.9] * 4])
    state = core_pkg.init(params, uniforms)
    perms = np.array([[3, 1, 0, 2], [0, 1, 2, 3], [2, 0, 1, 3]])
    tasks = core_pkg.ask(params, state, core_pkg.AskDraws(entropy=7, permutations=perms))
    assert [tuple(t.coords) for t in tasks] == [(1, 3), (0, 1), (0, 2)]
    assert np.allclose(tasks[0].lower, 0.25) and np.allclose(tasks[1].lower, 0.0)  # clipped to the box
    again = core_pkg.ask(params, state, core_pkg.AskDraws(7, perms))  # same draws, same tasks and seeds
    assert [(tuple(t.coords), t.seed) for t in again] == [(tuple(t.coords), t.seed) for t in tasks]
    assert len({t.seed for t in tasks}) == 3  # each NOMAD search has its own seed
    results = {0: (np.full(4, 0.5), 3.0), 1: (np.full(4, 0.1), 1.0), 2: (np.full(4, 0.9), 2.0)}
    # two children; both pick parent 0 (the only elite); gene draws irrelevant; coordinate 2 mutated to 0.75
    draws = core_pkg.BreedDraws(first=np.array([0.2, 0.7]), second=np.array([0.9, 0.1]), genes=np.zeros((2, 4)),
                                mutation_order=np.array([[0.9, 0.8, 0.1, 0.5]] * 2),
                                mutation_values=np.array([[0.75], [0.75]]))
    new = core_pkg.tell(params, state, results, [], draws)
    assert np.allclose(new.population[0], 0.1) and new.losses[0] == 1.0 and new.generation == 1
    assert np.allclose(new.population[1:], [0.1, 0.1, 0.75, 0.1])
    moved = core_pkg.extra_point(params, np.full(4, 0.5),
                                 core_pkg.ExtraDraws(coords=np.array([0, 3]), steps=np.array([1.0, -0.5])))
    assert np.allclose(moved, [0.75, 0.5, 0.5, 0.375])


def test_core_draws_are_the_generator_draws_of_before() -> None:
    """``draw_breed`` + ``breed`` give what ``Generator.choice(p=w)`` and the rest drew before the split."""
    from optimkit.algorithms import eanomad as core_pkg

    def breed_before(parents, parent_losses, params, n_offspring, gen):  # the pre-split code, verbatim
        p, d = parents.shape
        w = core_pkg.rank_weights(parent_losses)
        i1, i2 = gen.choice(p, size=n_offspring, p=w), gen.choice(p, size=n_offspring, p=w)
        genes = gen.random((n_offspring, d))
        if params.crossover_type == "uniform":
            take_first = genes < params.crossover_rate
        else:
            bias = (w[i1] / (w[i1] + w[i2])) ** params.crossover_exponent
            take_first = genes < bias[:, None]
        children = np.where(take_first, parents[i1], parents[i2])
        m = int(params.n_mutate_coords or 0)
        if m:
            cols = np.argsort(gen.random((n_offspring, d)), axis=1)[:, :m]
            children[np.arange(n_offspring)[:, None], cols] = gen.random((n_offspring, m))
        return children

    for seed in range(40):
        setup = np.random.default_rng(seed)
        p, d, n = int(setup.integers(1, 6)), int(setup.integers(1, 7)), int(setup.integers(0, 9))
        params = core_pkg.Params(crossover_type=("uniform", "fitness")[seed % 2], crossover_exponent=2.0,
                                 n_mutate_coords=int(setup.integers(0, d + 1))).resolve(d)
        parents, losses = setup.random((p, d)), np.round(setup.normal(size=p))
        old_gen, new_gen = np.random.default_rng(seed), np.random.default_rng(seed)
        before = breed_before(parents, losses, params, n, old_gen)
        after = core_pkg.breed(params, parents, losses, core_pkg.draw_breed(params, n, d, new_gen))
        assert np.array_equal(before, after)
        assert old_gen.random() == new_gen.random()  # and the generators end in the same state


def test_legacy_signatures_match_the_core() -> None:
    from optimkit.algorithms import eanomad as core_pkg

    params = ea.Params(population_size=5, subset_size=2).resolve(6)
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    state_a = ea.init(params, 6, a)
    state_b = core_pkg.init(params, core_pkg.draw_init(params, 6, b))
    assert np.array_equal(state_a.population, state_b.population)
    tasks_a = ea.plan_generation(state_a, params, a)
    tasks_b = core_pkg.ask(params, state_b, core_pkg.draw_ask(params, state_b, b))
    assert [(tuple(t.coords), t.seed) for t in tasks_a] == [(tuple(t.coords), t.seed) for t in tasks_b]
    results = {t.index: (t.x, float(t.index)) for t in tasks_a}
    new_a = ea.finish_generation(state_a, params, results, [], a)
    new_b = core_pkg.tell(params, state_b, results, [], core_pkg.draw_tell(params, state_b, b))
    assert np.array_equal(new_a.population, new_b.population)
