"""Tests of ``optimkit.torch.ANSR`` (the torch.optim front end of ANSR)."""

from __future__ import annotations

import copy
import io
import math
import warnings

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from optimkit.algorithms.ansr import core  # noqa: E402
from optimkit.errors import OptimkitValueError  # noqa: E402
from optimkit.torch import ANSR  # noqa: E402

STATE = "ansr"


def regression(seed: int = 0, device: str = "cpu"):
    """The seed README's 1-16-1 Tanh regression: data, model, loss."""
    torch.manual_seed(seed)
    x = torch.linspace(-1, 1, 50, device=device).unsqueeze(1)
    y = 2.0 * x + 3.0 * x**2
    model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1)).to(device)
    return x, y, model


def flat(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


# ---------------------------------------------------------------- the seed's two examples
def test_closure_mode_regression_example_drives_loss_down():
    x, y, model = regression()
    opt = ANSR(model.parameters(), popsize=8, sigma=0.05, bound=5.0, seed=0)

    def closure():
        return nn.functional.mse_loss(model(x), y)

    with torch.no_grad():
        start = float(closure())
    for _ in range(300):
        loss = opt.step(closure)
    assert float(loss) < 0.1 * start
    # the parameters are left at the best point, whose loss step() returned
    with torch.no_grad():
        assert float(closure()) == pytest.approx(float(loss), rel=1e-5)


def test_batched_mode_regression_example_drives_loss_down():
    x, y, model = regression()
    opt = ANSR(model.parameters(), model=model, batch_size=8, popsize=8, sigma=0.05, bound=5.0, seed=0)

    def loss_fn(output):
        return nn.functional.mse_loss(output, y)

    with torch.no_grad():
        start = float(loss_fn(model(x)))
    for _ in range(300):
        loss = opt.step(loss_fn, x)
    assert float(loss) < 0.1 * start
    assert isinstance(opt.restarts, int)
    with torch.no_grad():
        assert float(loss_fn(model(x))) == pytest.approx(float(loss), rel=1e-5)


@pytest.mark.parametrize("batch_size", [3, 8, 64])
def test_batched_mode_evaluates_the_same_particles_as_closure_mode(batch_size):
    x, y, model_a = regression()
    model_b = copy.deepcopy(model_a)
    closure_opt = ANSR(model_a.parameters(), popsize=8, bound=5.0, seed=3)
    batched_opt = ANSR(model_b.parameters(), model=model_b, batch_size=batch_size, popsize=8, bound=5.0, seed=3)
    closure_opt.step(lambda: nn.functional.mse_loss(model_a(x), y))
    batched_opt.step(lambda out: nn.functional.mse_loss(out, y), x)
    a, b = closure_opt.state[STATE], batched_opt.state[STATE]
    torch.testing.assert_close(a["loss"], b["loss"], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(a["pos"], b["pos"])
    torch.testing.assert_close(flat(model_a), flat(model_b))


def test_closure_is_called_popsize_times_per_step():
    w = torch.zeros(4)
    opt = ANSR([w], popsize=7, seed=0)
    calls = 0

    def closure():
        nonlocal calls
        calls += 1
        return (w**2).sum()

    opt.step(closure)
    opt.step(closure)
    assert calls == 14
    assert opt.epoch == 2


def test_closure_may_return_a_python_float_but_must_be_given():
    w = torch.zeros(3)
    opt = ANSR([w], popsize=8, p_self=0.05, bound=2.0, seed=0)
    for _ in range(100):
        loss = opt.step(lambda: float(((w - 1.0) ** 2).sum()))
    assert float(loss) < 0.01
    with pytest.raises(OptimkitValueError, match="closure"):
        opt.step()


def test_best_loss_never_rises_and_params_stay_in_the_box():
    w = torch.full((6,), 3.0)
    opt = ANSR([w], popsize=6, sigma=0.3, p_self=0.5, bound=4.0, seed=1)
    previous = math.inf
    for _ in range(60):
        loss = float(opt.step(lambda: (torch.sin(3 * w) + 0.1 * w**2).sum()))
        assert loss <= previous
        previous = loss
        assert bool((w.abs() <= 4.0).all())
    pos = opt.state[STATE]["pos"]
    assert bool(((pos >= 0) & (pos <= 1)).all())


def test_initial_parameters_are_particle_zero():
    w = torch.tensor([1.0, -2.0, 0.5])
    opt = ANSR([w], popsize=4, bound=4.0, seed=0)
    seen = []
    opt.step(lambda: seen.append(w.clone()) or (w**2).sum())
    torch.testing.assert_close(seen[0], torch.tensor([1.0, -2.0, 0.5]))


# ---------------------------------------------------------------- the step's semantics
def test_with_p_self_one_the_first_step_leaves_particles_in_place():
    # epoch 1: every particle improves, so best == pos and |guide - pos| == 0
    w = torch.zeros(5)
    opt = ANSR([w], popsize=4, p_self=1.0, seed=0)
    opt.step(lambda: (w**2).sum() + 1.0)
    state = opt.state[STATE]
    torch.testing.assert_close(state["pos"], state["best_pos"], rtol=0, atol=0)


@pytest.mark.parametrize("p_self", [0.2, 0.8])
def test_p_self_is_the_share_of_coordinates_guided_by_the_own_best(p_self):
    # after the first step best == pos, so a self-guided coordinate does not move at all
    w = torch.zeros(4000)
    opt = ANSR([w], popsize=3, p_self=p_self, seed=0)
    opt.step(lambda: (w**2).sum())
    state = opt.state[STATE]
    unchanged = (state["pos"] == state["best_pos"]).double().mean().item()
    assert unchanged == pytest.approx(p_self, abs=0.02)


def test_neighbour_guides_are_uniform_over_the_other_particles():
    w = torch.zeros(6000)
    opt = ANSR([w], popsize=3, p_self=0.0, sigma=1e-7, seed=0)
    opt.step(lambda: (w**2).sum())
    state = opt.state[STATE]
    distance = (state["pos"][:, None, :] - state["best_pos"][None, :, :]).abs()  # (particle, guide, coord)
    nearest = distance.argmin(dim=1)
    for k in range(3):
        shares = torch.bincount(nearest[k], minlength=3).double() / 6000
        assert shares[k] < 0.01  # never its own best
        for j in set(range(3)) - {k}:
            assert shares[j].item() == pytest.approx(0.5, abs=0.03)


def test_with_p_self_zero_particles_follow_the_other_particles_best():
    w = torch.zeros(200)
    opt = ANSR([w], popsize=2, p_self=0.0, sigma=1e-3, seed=0)
    before = opt.state.get(STATE)
    assert before is None
    calls = []

    def closure():
        calls.append(w.clone())
        return (w - 0.3).abs().sum() + 1.0

    opt.step(closure)
    state = opt.state[STATE]
    pos0 = (calls[0] + 10.0) / 20.0  # particle 0 before the move (unit box)
    guide = state["best_pos"][1]  # with two particles, the only other particle
    bound = (guide - pos0).abs() * 1e-3 * 7 + 1e-6
    assert bool(((state["pos"][0] - guide).abs() <= bound).all())
    assert not torch.allclose(state["pos"][0], state["best_pos"][0])


def test_converged_pairs_restart_their_losers_but_never_the_global_best():
    w = torch.zeros(3)
    opt = ANSR([w], popsize=6, seed=0)
    opt.step(lambda: torch.tensor(2.0))  # every pair has the same best loss
    state = opt.state[STATE]
    assert opt.restarts == 5
    assert float(state["best_loss"][0]) == 2.0  # argmin picks the first: particle 0 is kept
    assert bool(torch.isinf(state["best_loss"][1:]).all())


@pytest.mark.parametrize("value", [0.0, math.inf, math.nan])
def test_pairs_at_zero_or_non_finite_loss_never_count_as_converged(value):
    w = torch.zeros(3)
    opt = ANSR([w], popsize=5, seed=0)
    for _ in range(3):
        opt.step(lambda: torch.tensor(value))
    assert opt.restarts == 0


def test_restart_uses_relative_difference():
    w = torch.zeros(2)
    losses = iter([1.0, 1.0 + 1e-3, 5.0, 7.0] * 10)
    opt = ANSR([w], popsize=4, restart_tolerance=1e-2, seed=0)
    opt.step(lambda: torch.tensor(next(losses), dtype=torch.float64))
    assert opt.restarts == 1  # only the pair (1.0, 1.001) converged
    assert math.isinf(float(opt.state[STATE]["best_loss"][1]))


def test_restart_detection_on_tensors_matches_numpy_on_all_kinds_of_losses():
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(0)
    for case in range(300):
        n = int(rng.integers(2, 12))
        values = rng.choice([0.0, 1.0, 1.0 + 1e-9, 2.0, -1.0, -1.0 - 1e-9, np.inf, 3.5], size=n)
        if case % 3 == 0:
            values = values + rng.normal(0, 1e-3, size=n) * (case % 2)
        best = int(np.argmin(values))
        tol = float(rng.choice([0.0, 1e-8, 1e-3, 0.5]))
        ours = core.converged_losers(torch.tensor(values), best, tol).tolist()
        assert ours == list(core.converged_losers(values, best, tol)), (values, tol)
        assert best not in ours


# ---------------------------------------------------------------- seeding and persistence
def run_steps(seed: int, steps: int = 20) -> torch.Tensor:
    w = torch.linspace(-1, 1, 8)
    opt = ANSR([w], popsize=5, p_self=0.5, seed=seed)
    for _ in range(steps):
        opt.step(lambda: ((w - 0.2) ** 2).sum())
    return w


def test_same_seed_same_run_and_global_rng_untouched():
    torch.manual_seed(123)
    global_state = torch.random.get_rng_state()
    assert torch.equal(run_steps(4), run_steps(4))
    assert not torch.equal(run_steps(4), run_steps(5))
    assert torch.equal(torch.random.get_rng_state(), global_state)


@pytest.mark.parametrize("batched", [False, True])
def test_state_dict_resumes_a_run_exactly(batched):
    def make(model):
        if batched:
            return ANSR(model.parameters(), model=model, batch_size=4, popsize=6, p_self=0.3,
                        restart_tolerance=1e-2, bound=5.0, seed=7)
        return ANSR(model.parameters(), popsize=6, p_self=0.3, restart_tolerance=1e-2, bound=5.0, seed=7)

    def advance(opt, model, steps):
        for _ in range(steps):
            if batched:
                opt.step(lambda out: nn.functional.mse_loss(out, y), x)
            else:
                opt.step(lambda: nn.functional.mse_loss(model(x), y))

    x, y, model = regression()
    opt = make(model)
    advance(opt, model, 15)
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    weights = copy.deepcopy(model.state_dict())
    in_memory = opt.state_dict()  # a snapshot: later steps must not change it
    advance(opt, model, 25)

    for saved in (torch.load(io.BytesIO(buffer.getvalue())), in_memory):
        _, _, fresh_model = regression(seed=99)  # other weights and another seed, both overwritten
        fresh_model.load_state_dict(weights)
        fresh = make(fresh_model)
        fresh.param_groups[0]["seed"] = 8
        fresh.load_state_dict(saved)
        advance(fresh, fresh_model, 25)
        assert torch.equal(flat(fresh_model), flat(model))
        assert fresh.restarts == opt.restarts
        assert fresh.epoch == opt.epoch == 40
        assert torch.equal(fresh.state[STATE]["pos"], opt.state[STATE]["pos"])


def test_state_dict_holds_the_whole_run():
    w = torch.zeros(4)
    opt = ANSR([w], popsize=4, seed=0)
    opt.step(lambda: (w**2).sum())
    run = opt.state_dict()["state"][STATE]
    for key in ("pos", "best_pos", "best_loss", "loss", "restarts", "epoch", "generator_state"):
        assert key in run
    assert opt.state_dict()["param_groups"][0]["seed"] == 0


def test_load_state_dict_rejects_a_mismatched_population():
    w = torch.zeros(4)
    opt = ANSR([w], popsize=4, seed=0)
    opt.step(lambda: (w**2).sum())
    other = ANSR([torch.zeros(5)], popsize=4, seed=0)
    with pytest.raises(OptimkitValueError, match="popsize"):
        other.load_state_dict(opt.state_dict())


@pytest.mark.parametrize("stepped", [False, True])
def test_load_state_dict_refuses_another_popsize_and_changes_nothing(stepped):
    w = torch.zeros(4)
    opt = ANSR([w], popsize=8, seed=0)
    if stepped:
        opt.step(lambda: (w**2).sum())
    w2 = torch.zeros(4)
    other = ANSR([w2], popsize=4, seed=0)
    other.step(lambda: (w2**2).sum())
    before = other.state_dict()
    with pytest.raises(OptimkitValueError, match=r"saved with popsize=8, but this optimizer has popsize=4"):
        other.load_state_dict(opt.state_dict())
    assert other.param_groups[0]["popsize"] == 4 and other.epoch == 1
    assert torch.equal(other.state[STATE]["pos"], before["state"][STATE]["pos"])
    other.step(lambda: (w2**2).sum())  # still a working popsize-4 run
    assert other.epoch == 2


@pytest.mark.parametrize("steps_before", [0, 3])
def test_a_closure_that_raises_leaves_the_parameters_at_the_best_point(steps_before):
    w = torch.zeros(3)
    opt = ANSR([w], popsize=6, seed=0, bound=2.0)
    for _ in range(steps_before):
        opt.step(lambda: ((w - 1.0) ** 2).sum())
    best = w.clone()
    calls = []

    def failing():
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the simulator crashed")
        return ((w - 1.0) ** 2).sum()

    with pytest.raises(RuntimeError, match="simulator crashed"):
        opt.step(failing)
    assert torch.equal(w, best) and len(calls) == 3
    assert opt.epoch == steps_before
    loss = opt.step(lambda: ((w - 1.0) ** 2).sum())  # the run goes on
    assert opt.epoch == steps_before + 1 and torch.isfinite(loss)


# ---------------------------------------------------------------- options
def test_self_instead_neighbour_is_an_alias_of_p_self():
    opt = ANSR([torch.zeros(2)], self_instead_neighbour=0.3)
    assert opt.param_groups[0]["p_self"] == 0.3
    with pytest.raises(OptimkitValueError, match="self_instead_neighbour"):
        ANSR([torch.zeros(2)], p_self=0.2, self_instead_neighbour=0.3)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"popsize": 1}, "popsize"),
        ({"popsize": 2.5}, "popsize"),
        ({"sigma": 0.0}, "sigma"),
        ({"sigma": math.nan}, "sigma"),
        ({"p_self": 1.5}, "p_self"),
        ({"p_self": -0.1}, "p_self"),
        ({"self_instead_neighbour": 2.0}, "p_self"),
        ({"restart_tolerance": -1e-3}, "restart_tolerance"),
        ({"bound": math.inf}, "bound"),
        ({"bound": 0.0}, "bound"),
        ({"seed": -1}, "seed"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 4}, "batch_size"),  # batched mode needs model=
    ],
)
def test_bad_options_raise_naming_the_option(kwargs, name):
    with pytest.raises(OptimkitValueError, match=name):
        ANSR([torch.zeros(2)], **kwargs)


def test_edited_group_options_are_validated_at_step():
    w = torch.zeros(2)
    opt = ANSR([w], popsize=4)
    opt.param_groups[0]["sigma"] = -1.0
    with pytest.raises(OptimkitValueError, match="sigma"):
        opt.step(lambda: (w**2).sum())


def test_groups_share_options_but_may_have_their_own_bound():
    a, b = torch.zeros(3), torch.zeros(3)
    opt = ANSR([{"params": [a], "bound": 1.0}, {"params": [b]}], popsize=8, sigma=0.5, bound=50.0, seed=0)
    for _ in range(20):
        opt.step(lambda: ((a - 0.5) ** 2).sum() + ((b - 30.0) ** 2).sum())
    assert bool((a.abs() <= 1.0).all())
    assert float(b.abs().max()) > 1.0
    with pytest.raises(OptimkitValueError, match="sigma"):
        ANSR([{"params": [a], "sigma": 0.1}, {"params": [b]}]).step(lambda: (a**2).sum())


def test_batched_mode_needs_the_model_to_own_the_params():
    _, _, model = regression()
    with pytest.raises(OptimkitValueError, match="model"):
        ANSR([torch.zeros(3)], model=model, batch_size=4)


def test_batched_mode_keeps_non_optimized_model_parameters_fixed():
    x, y, model = regression()
    frozen = model[2].weight.detach().clone()
    opt = ANSR(list(model[0].parameters()) + [model[2].bias], model=model, batch_size=8, popsize=8,
               bound=5.0, seed=0)
    for _ in range(5):
        opt.step(lambda out: nn.functional.mse_loss(out, y), x)
    assert torch.equal(model[2].weight.detach(), frozen)


def test_batched_mode_on_cpu_with_several_threads_warns_once():
    from optimkit.errors import InefficientSettingsWarning

    x, y, model = regression()
    opt = ANSR(model.parameters(), model=model, batch_size=4, popsize=4, seed=0)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with pytest.warns(InefficientSettingsWarning, match="set_num_threads"):
            opt.step(lambda out: nn.functional.mse_loss(out, y), x)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            opt.step(lambda out: nn.functional.mse_loss(out, y), x)
    finally:
        torch.set_num_threads(threads)


def test_parameter_groups_added_before_the_first_step_join_the_run_later_ones_are_refused():
    w, v = torch.zeros(2), torch.zeros(3)
    opt = ANSR([w], popsize=4, seed=0)
    opt.step(lambda: (w**2).sum())
    opt.add_param_group({"params": [v]})
    with pytest.raises(OptimkitValueError, match="parameters cannot change"):
        opt.step(lambda: (w**2).sum() + (v**2).sum())

    x, y, model = regression()
    batched = ANSR(model[0].parameters(), model=model, batch_size=4, popsize=4, p_self=0.05, bound=5.0, seed=0)
    batched.add_param_group({"params": model[2].parameters()})
    for _ in range(30):
        loss = batched.step(lambda out: nn.functional.mse_loss(out, y), x)
    with torch.no_grad():  # every parameter, the added ones too, holds the reported best
        assert float(nn.functional.mse_loss(model(x), y)) == pytest.approx(float(loss), rel=1e-5)
    assert batched.state[STATE]["pos"].shape[1] == sum(p.numel() for p in model.parameters())


def test_float64_parameters_keep_their_precision():
    w = torch.zeros(3, dtype=torch.float64)
    opt = ANSR([w], popsize=4, seed=0)
    opt.step(lambda: (w**2).sum())
    assert opt.state[STATE]["pos"].dtype == torch.float64


# ---------------------------------------------------------------- compile and devices
@pytest.mark.slow
def test_works_with_a_compiled_model():
    torch._dynamo.reset()
    x, y, model = regression()
    compiled = torch.compile(model)
    opt = ANSR(compiled.parameters(), popsize=8, bound=5.0, seed=0)
    with torch.no_grad():
        start = float(nn.functional.mse_loss(compiled(x), y))
    for _ in range(40):
        loss = opt.step(lambda: nn.functional.mse_loss(compiled(x), y))
    assert float(loss) < 0.5 * start

    batched = ANSR(compiled.parameters(), model=compiled, batch_size=8, popsize=8, bound=5.0, seed=0)
    for _ in range(40):
        loss_b = batched.step(lambda out: nn.functional.mse_loss(out, y), x)
    assert float(loss_b) < float(loss)
    with torch.no_grad():
        assert float(nn.functional.mse_loss(compiled(x), y)) == pytest.approx(float(loss_b), rel=1e-4)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_runs_on_cuda_and_resumes_exactly():
    x, y, model = regression(device="cuda")
    opt = ANSR(model.parameters(), model=model, batch_size=8, popsize=8, bound=5.0, seed=0)
    with torch.no_grad():
        start = float(nn.functional.mse_loss(model(x), y))
    for _ in range(100):
        loss = opt.step(lambda out: nn.functional.mse_loss(out, y), x)
    assert loss.device.type == "cuda"
    assert opt.state[STATE]["pos"].device.type == "cuda"
    assert float(loss) < 0.2 * start
    saved = copy.deepcopy(opt.state_dict())
    weights = copy.deepcopy(model.state_dict())
    for _ in range(10):
        opt.step(lambda out: nn.functional.mse_loss(out, y), x)
    model2 = copy.deepcopy(model)
    model2.load_state_dict(weights)
    opt2 = ANSR(model2.parameters(), model=model2, batch_size=8, popsize=8, bound=5.0, seed=0)
    opt2.load_state_dict(saved)
    for _ in range(10):
        opt2.step(lambda out: nn.functional.mse_loss(out, y), x)
    assert torch.equal(flat(model2), flat(model))
    closure_opt = ANSR(model.parameters(), popsize=8, bound=5.0, seed=0)
    closure_loss = closure_opt.step(lambda: nn.functional.mse_loss(model(x), y))
    assert float(closure_loss) <= float(loss) * (1 + 1e-4) + 1e-6  # particle 0 is the current best


# ---------------------------------------------------------------- one core: numpy and torch on the same draws
class Recorder:
    """Draws of each epoch made on numpy, replayed on torch (float64): the same values on both sides."""

    def __init__(self, params, seed: int, sparse: bool):
        import numpy as np

        self.np, self.params, self.sparse = np, params, sparse
        self.gen = np.random.default_rng(seed)
        self.epochs: list = []

    def numpy_draw(self, k: int, d: int):
        np, p = self.np, self.params.popsize
        fresh = self.gen.random((2 * k, d))
        normals: list = []
        if self.sparse:  # the ask/tell optimizer's layout: a flat (positions, sources) guide, lazy normals
            flat = np.sort(self.gen.choice(p * d, size=(p * d) // 3, replace=False))
            index = (flat + d * (1 + self.gen.integers(0, p - 1, flat.size))) % (p * d)
            guide = (flat, index)

            def noise(size):
                z = self.gen.normal(0.0, self.params.sigma, size)
                normals.append(z)
                return z
        else:
            noise = self.gen.normal(0.0, self.params.sigma, (p, d))
            guide = self.gen.random((p, d))
        self.epochs.append((k, fresh, noise, guide, normals))
        return fresh, noise, guide if self.sparse else core.guides_from_uniform(guide, self.params.p_self)

    def torch_draw(self, epoch: int):
        def draw(k: int, d: int):
            k0, fresh, noise, guide, normals = self.epochs[epoch]
            assert k == k0  # the same restarts were detected
            t = lambda a: torch.as_tensor(a)  # noqa: E731
            if self.sparse:
                calls = iter(normals)
                return t(fresh), (lambda size: t(next(calls))), (t(guide[0]), t(guide[1]))
            return t(fresh), t(noise), core.guides_from_uniform(t(guide), self.params.p_self)
        return draw


@pytest.mark.parametrize("sparse", [False, True])
def test_numpy_and_torch_follow_the_same_trajectory_on_the_same_draws(sparse):
    np = pytest.importorskip("numpy")
    params = core.Params(popsize=6, sigma=0.4, p_self=0.5, restart_tolerance=0.3)
    rec = Recorder(params, seed=1, sparse=sparse)
    uniforms = rec.gen.random((6, 5))
    a = core.init(params, uniforms, x0=np.full(5, 0.5))
    b = core.init(params, torch.tensor(uniforms, dtype=torch.float64), torch.full((5,), 0.5, dtype=torch.float64))
    for epoch in range(25):
        x = core.ask(params, a)
        np.testing.assert_array_equal(core.ask(params, b).numpy(), x)
        losses = np.round(((x - 0.3) ** 2).sum(axis=1), 1)  # coarse: ties, so restarts happen
        a = core.tell(params, a, losses, rec.numpy_draw)
        b = core.tell(params, b, torch.tensor(losses), rec.torch_draw(epoch))
        for name in ("pos", "best_pos", "best_loss"):
            np.testing.assert_array_equal(getattr(b, name).numpy(), getattr(a, name), err_msg=f"{name}, epoch {epoch}")
        assert (b.best_index, b.num_restarts, b.num_epochs) == (a.best_index, a.num_restarts, a.num_epochs)
    assert a.num_restarts > 5  # the restart rule was exercised


def test_torch_optimizer_follows_the_numpy_core_on_its_own_draws(monkeypatch):
    """The torch front end (float64) and the numpy core, fed the draws the front end made, agree."""
    np = pytest.importorskip("numpy")
    import optimkit.torch.ansr as front

    draws = []

    def recording(gen, params, like, k, d, **kwargs):
        out = front_draw(gen, params, like, k, d, **kwargs)
        draws.append(out)
        return out

    front_draw = front.draw_torch
    monkeypatch.setattr(front, "draw_torch", recording)
    w = torch.zeros(4, dtype=torch.float64)
    opt = ANSR([w], popsize=5, sigma=0.3, p_self=0.4, restart_tolerance=0.2, bound=2.0, seed=3)
    params = core.Params(popsize=5, sigma=0.3, p_self=0.4, restart_tolerance=0.2, bound=2.0)
    state = None
    for epoch in range(20):
        seen: list = []
        opt.step(lambda seen=seen: seen.append(w.clone()) or torch.round((w - 0.7).pow(2).sum() * 4) / 4)
        unit = (torch.stack(seen).numpy() + 2.0) / 4.0
        if state is None:
            state = core.init(params, unit)
        np.testing.assert_allclose(unit, state.pos, rtol=0, atol=1e-15)  # the same points were evaluated
        losses = np.round(((unit * 4.0 - 2.0 - 0.7) ** 2).sum(axis=1) * 4) / 4
        drawn = tuple(a if isinstance(a, np.ndarray) else a.numpy() for a in draws[epoch])
        state = core.tell(params, state, losses, lambda k, d, drawn=drawn: drawn)
        run = opt.state[STATE]
        np.testing.assert_array_equal(run["pos"].numpy(), state.pos)
        np.testing.assert_array_equal(run["best_loss"].numpy(), state.best_loss)
        assert opt.restarts == state.num_restarts and opt.epoch == state.num_epochs
    assert opt.restarts > 0


def test_alias_conflict_raises_and_the_signature_shows_the_spec_default():
    import inspect

    with pytest.raises(OptimkitValueError, match="p_self.*self_instead_neighbour"):
        ANSR([torch.zeros(2)], p_self=0.95, self_instead_neighbour=0.2)
    assert ANSR([torch.zeros(2)], p_self=0.2, self_instead_neighbour=0.2).param_groups[0]["p_self"] == 0.2
    assert ANSR([torch.zeros(2)]).param_groups[0]["p_self"] == 0.95
    assert repr(inspect.signature(ANSR).parameters["p_self"].default) == "0.95"


def test_torch_callbacks_of_compat_stop_an_optimkit_torch_run():
    from optimkit.compat.ansr import TorchEarlyStopCallback, TorchWindowEarlyStopCallback

    w = torch.zeros(3)
    opt = ANSR([w], popsize=8, p_self=0.05, bound=2.0, seed=0)
    stop = TorchEarlyStopCallback(stop_residual=0.05)
    for _ in range(500):
        loss = opt.step(lambda: ((w - 1.0) ** 2).sum())
        if stop(loss):
            break
    assert float(loss) <= 0.05 and opt.epoch < 500

    opt = ANSR([w], popsize=4, seed=0)
    window = TorchWindowEarlyStopCallback(window_size=3, min_difference=1e9)
    steps = 0
    while not window(opt.step(lambda: (w**2).sum())):
        steps += 1
    assert steps == 3  # compared at calls 0 (against inf) and 3: no improvement of 1e9, stop
