"""ANSR (Across Neighbourhood Search with Restarts) as a ``torch.optim.Optimizer`` (minimizes).

A shell over ANSR's core (:mod:`optimkit.algorithms.ansr.core`), which runs on tensors (on a CPU,
on numpy views of them: the same functions and draws at a fraction of the per-op cost): this module
keeps only what torch needs. It maps the unit box onto ``[-bound, bound]`` of the parameters,
evaluates the population (one closure call per particle, or ``torch.func.vmap`` over the model),
draws on the optimizer's own ``torch.Generator`` on the parameters' device
(:mod:`optimkit.torch.draws`), and keeps the whole run (population, bests, losses, restart count,
epoch) in ``self.state`` so that ``state_dict()`` / ``load_state_dict()`` resume a run exactly.
The update rules, the restart detection and the option checks are the core's.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, vmap

from optimkit.algorithms.ansr import core
from optimkit.algorithms.ansr.core import P_SELF_DEFAULT, Params, State, resolve_p_self
from optimkit.errors import InefficientSettingsWarning, OptimkitTypeError, OptimkitValueError, OptimkitWarning
from optimkit.torch.draws import draw_torch
from optimkit.validation import check_int

__all__ = ["ANSR", "group_params"]

_STATE_KEY = "ansr"
_SHARED_OPTIONS = ("popsize", "sigma", "restart_tolerance", "p_self", "seed")
_OPTIONS = (*_SHARED_OPTIONS, "bound")


def group_params(group: dict[str, Any]) -> Params:
    """The core's :class:`Params` of a parameter group (validated there; ``seed`` an integer >= 0)."""
    check_int("seed", group["seed"], 0)
    return Params(popsize=group["popsize"], sigma=group["sigma"], p_self=group["p_self"],
                  restart_tolerance=group["restart_tolerance"], bound=group["bound"])


def _has_tied_tensors(model: nn.Module) -> bool:
    """Whether a parameter or buffer of ``model`` appears under several names (``functional_call``
    then has to tie the replacements; without ties, skipping that analysis saves time per call)."""
    def count(unique: bool) -> int:
        return (sum(1 for _ in model.named_parameters(remove_duplicate=unique))
                + sum(1 for _ in model.named_buffers(remove_duplicate=unique)))
    return count(True) != count(False)


class ANSR(torch.optim.Optimizer):
    """Derivative-free ANSR optimizer for torch parameters (minimizes).

    Parameters
    ----------
    params : iterable of tensors or parameter groups
        Groups may set their own ``bound``; the other options are shared by the population.
    popsize : int
        Number of particles (>= 2); each ``step`` evaluates the loss ``popsize`` times.
    sigma : float
        Scale of the Gaussian perturbation, relative to the guide-to-particle distance.
    restart_tolerance : float
        Two particles whose best losses differ by less than this relative amount have
        converged; the worse one restarts at a random point (the global best never does).
    p_self : float
        Probability, per coordinate, that a particle is guided by its own best rather than
        by a uniformly chosen other particle's best. ``self_instead_neighbour`` is an alias
        (giving both with different values raises).
    bound : float
        Parameters are searched in ``[-bound, bound]``.
    seed : int
        Seed of the optimizer's own ``torch.Generator`` (on the parameters' device).
    model, batch_size : nn.Module, int
        With ``batch_size > 1``, ``step(loss_fn, *inputs)`` evaluates ``batch_size`` members
        at once with ``torch.func.vmap`` over ``functional_call(model, ...)``.

    Notes
    -----
    Closure mode: ``step(closure)`` sets the parameters to each particle in turn and calls
    ``closure()`` under ``torch.enable_grad`` (as LBFGS does). After each step the parameters
    hold the best point found; ``step`` returns its loss as a 0-dim tensor. If the closure raises
    (or Ctrl-C), the parameters get back the point they held when the step began, the best so far,
    and the exception propagates; the run itself is unchanged and the next step goes on. A step reads one
    number back from the device, the count of restarts, as the original does.

    Examples
    --------
    >>> import torch
    >>> from optimkit.torch import ANSR
    >>> w = torch.zeros(3)
    >>> opt = ANSR([w], popsize=8, p_self=0.05, bound=2.0, seed=0)  # unimodal: p_self ~ 0
    >>> for _ in range(100):
    ...     loss = opt.step(lambda: ((w - 1.0) ** 2).sum())
    >>> bool(loss < 1e-2)
    True
    """

    _device: torch.device
    _dtype: torch.dtype
    _generator: torch.Generator
    _model: nn.Module | None
    _batch_size: int
    _names: list[str]
    _warned_threads: bool
    _checked: tuple[Any, ...] | None
    _tied: bool
    _core_params: Params

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        popsize: int = 64,
        sigma: float = 0.05,
        restart_tolerance: float = 1e-8,
        p_self: float = P_SELF_DEFAULT,
        bound: float = 10.0,
        seed: int = 0,
        model: nn.Module | None = None,
        batch_size: int = 1,
        *,
        self_instead_neighbour: float | None = None,
    ) -> None:
        p_self = resolve_p_self(p_self, self_instead_neighbour)
        batch_size = check_int("batch_size", batch_size, 1)
        if model is not None and not isinstance(model, nn.Module):
            raise OptimkitTypeError(f"model must be a torch.nn.Module or None, got {type(model).__name__}")
        if batch_size > 1 and model is None:
            raise OptimkitValueError(f"batch_size={batch_size} > 1 needs model= (batched mode vmaps "
                                     "over the model's parameters)")
        defaults = dict(popsize=popsize, sigma=sigma, restart_tolerance=restart_tolerance,
                        p_self=p_self, bound=bound, seed=seed)
        group_params(defaults)
        super().__init__(params, defaults)
        for group in self.param_groups:
            group_params(group)
            for p in group["params"]:
                if not p.is_floating_point():
                    raise OptimkitTypeError(f"params must be floating point tensors, got dtype {p.dtype}")
        first = self.param_groups[0]["params"][0]
        self._device = first.device
        self._dtype = torch.promote_types(first.dtype, torch.float32)
        self._generator = torch.Generator(device=self._device)
        self._generator.manual_seed(int(seed))
        self._model = model
        self._batch_size = batch_size
        self._names = self._match_model_parameters(model) if model is not None else []
        self._tied = model is not None and _has_tied_tensors(model)
        self._warned_threads = False
        self._checked = None

    # ------------------------------------------------------------------ helpers
    def _params(self) -> list[torch.Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def _match_model_parameters(self, model: nn.Module) -> list[str]:
        """Names, in ``model``, of the optimized parameters (in optimizer order)."""
        by_id = {id(p): name for name, p in model.named_parameters()}
        if any(id(p) not in by_id for p in self._params()):
            raise OptimkitValueError("model= must own every optimized parameter: a tensor in params is "
                                     "not among model.named_parameters()")
        return [by_id[id(p)] for p in self._params()]

    def _options(self) -> Params:
        """The core's options, from the (possibly user-edited) groups, validated when they changed."""
        key = tuple(group[name] for group in self.param_groups for name in _OPTIONS)
        if key != self._checked:
            first = self.param_groups[0]
            for group in self.param_groups:
                group_params(group)
                for name in _SHARED_OPTIONS:
                    if group[name] != first[name]:
                        raise OptimkitValueError(f"{name} must be the same in every parameter group (got "
                                                 f"{first[name]!r} and {group[name]!r}); only bound may differ")
            self._core_params, self._checked = group_params(first), key
        return self._core_params

    def _bounds(self) -> torch.Tensor | float:
        """The half-width of the box per coordinate (a float when all groups agree)."""
        values = {float(g["bound"]) for g in self.param_groups}
        if len(values) == 1:
            return values.pop()
        return torch.cat([torch.full((p.numel(),), float(g["bound"]), device=self._device, dtype=self._dtype)
                          for g in self.param_groups for p in g["params"]])

    @staticmethod
    def _to_real(unit: torch.Tensor, bound: torch.Tensor | float, on_cpu: bool) -> torch.Tensor:
        """Unit-box positions mapped onto ``[-bound, bound]`` (on a CPU with one bound: in numpy, cheaper
        than two torch ops on small tensors; the same IEEE values)."""
        if on_cpu and isinstance(bound, float):
            return torch.from_numpy(unit.numpy() * (2.0 * bound) - bound)
        return unit * (2.0 * bound) - bound

    def _flat_params(self) -> torch.Tensor:
        return torch.cat([p.detach().reshape(-1).to(self._dtype) for p in self._params()])

    def _blocks(self, rows: torch.Tensor) -> list[torch.Tensor]:
        """``rows`` (n, dims) cut into one (n, *shape) view per parameter, in the parameters' dtype."""
        params = self._params()
        pieces = torch.split(rows, [p.numel() for p in params], dim=1)
        return [piece.reshape(-1, *p.shape).to(p.dtype) for piece, p in zip(pieces, params)]

    def _run(self) -> dict[str, Any] | None:
        """The ANSR run in ``self.state`` (under a string key), or None before the first step."""
        state: dict[Any, Any] = self.state
        return state.get(_STATE_KEY) or None

    @property
    def restarts(self) -> int:
        """Total number of restarted particles so far."""
        run = self._run()
        return 0 if not run else int(run["restarts"])

    @property
    def epoch(self) -> int:
        """Number of completed steps (epochs)."""
        run = self._run()
        return 0 if not run else int(run["epoch"])

    def _init_state(self, params: Params) -> dict[str, Any]:
        self._generator.manual_seed(int(self.param_groups[0]["seed"]))
        bound = self._bounds()
        flat = self._flat_params()
        uniforms = torch.rand(params.popsize, flat.numel(), generator=self._generator, device=self._device,
                              dtype=self._dtype)
        state = core.init(params, uniforms, ((flat + bound) / (2.0 * bound)))
        run = {"pos": state.pos, "best_pos": state.best_pos, "best_loss": state.best_loss,
               "loss": torch.full_like(state.best_loss, math.inf), "best_index": 0, "restarts": 0, "epoch": 0}
        self.state[_STATE_KEY] = run  # type: ignore[index]
        return run

    # ------------------------------------------------------------------ evaluation
    def _evaluate_closure(self, closure: Callable[[], Any], real: torch.Tensor) -> torch.Tensor:
        datas = [p.data for p in self._params()]
        members = list(zip(*(block.unbind(0) for block in self._blocks(real))))  # one tuple per particle
        values = []
        before = [data.clone() for data in datas]  # the best point so far (or the initial parameters)
        try:
            with torch.enable_grad():
                for member in members:
                    for data, value in zip(datas, member):
                        data.copy_(value)
                    values.append(closure())
        except BaseException:  # the closure raised (or Ctrl-C): leave the model on the best, not a trial
            for data, value in zip(datas, before):
                data.copy_(value)
            raise
        if all(isinstance(v, torch.Tensor) for v in values):
            for v in values:
                if v.numel() != 1:
                    raise OptimkitValueError(f"the closure must return a scalar loss, got shape {tuple(v.shape)}")
            return torch.stack([v.detach().reshape(()) for v in values]).to(self._device, self._dtype)
        return torch.tensor([float(v) for v in values], device=self._device, dtype=self._dtype)

    def _evaluate_batched(self, loss_fn: Callable[..., torch.Tensor], inputs: tuple[Any, ...],
                          real: torch.Tensor) -> torch.Tensor:
        model = self._model
        if model is None:  # pragma: no cover - step() only calls this with a model
            raise OptimkitValueError("batched mode needs model=")
        self._maybe_warn_threads()
        if len(self._names) != len(self._params()):  # a group was added since
            self._names = self._match_model_parameters(model)
            self._tied = _has_tied_tensors(model)
        stacked = dict(zip(self._names, self._blocks(real)))

        tie_weights = self._tied

        def member_loss(members: dict[str, torch.Tensor]) -> torch.Tensor:  # the others: the model's own
            return loss_fn(functional_call(model, members, inputs, tie_weights=tie_weights))

        chunk = None if self._batch_size >= real.shape[0] else self._batch_size
        with torch.inference_mode():  # no autograd inside: vmap's own per-op overhead drops too
            losses = vmap(member_loss, randomness="different", chunk_size=chunk)(stacked)
        if losses.dim() != 1:
            raise OptimkitValueError(f"loss_fn must return a scalar per member, got shape {tuple(losses.shape[1:])}")
        return losses.to(self._dtype)

    def _maybe_warn_threads(self) -> None:
        if (self._warned_threads or self._device.type != "cpu" or torch.get_num_threads() == 1
                or sum(p.numel() for p in self._params()) > 100_000):
            return
        self._warned_threads = True
        warnings.warn(f"ANSR batched mode on CPU with torch.get_num_threads()={torch.get_num_threads()}: for "
                      "small models intra-op threads can make each step many times slower (see "
                      "docs/optimizers/torch_ansr.md); consider torch.set_num_threads(1)",
                      InefficientSettingsWarning, stacklevel=6)

    # ------------------------------------------------------------------ the step
    @torch.no_grad()
    def step(self, closure: Callable[..., Any] | None = None, *inputs: Any) -> torch.Tensor:  # type: ignore[override]
        """Run one epoch; return the best loss so far (0-dim tensor).

        Closure mode: ``step(closure)``. Batched mode (``model=`` and ``batch_size > 1``):
        ``step(loss_fn, *inputs)`` with ``loss_fn(model(*inputs))`` a scalar.
        """
        if closure is None or not callable(closure):
            raise OptimkitValueError("ANSR.step requires a closure (or, in batched mode, a loss_fn)")
        params = self._options()
        run = self._run() or self._init_state(params)
        popsize, dims = run["pos"].shape
        if params.popsize != popsize or sum(p.numel() for p in self._params()) != dims:
            raise OptimkitValueError(f"popsize and the parameters cannot change during a run (population "
                                     f"{popsize} x {dims}, group popsize {params.popsize!r})")
        bound = self._bounds()
        state = State(run["pos"], run["best_pos"], run["best_loss"], run["best_index"], run["epoch"], run["restarts"])
        on_cpu = self._device.type == "cpu"
        real = self._to_real(core.ask(params, state), bound, on_cpu)
        if self._model is not None and self._batch_size > 1:
            loss = self._evaluate_batched(closure, inputs, real)
        else:
            loss = self._evaluate_closure(closure, real)
        draw = functools.partial(draw_torch, self._generator, params, state.pos)
        if on_cpu:  # the same core on numpy views of the tensors: a fraction of the ops' cost
            views = State(state.pos.numpy(), state.best_pos.numpy(), state.best_loss.numpy(), state.best_index,
                          state.num_epochs, state.num_restarts)
            out = core.tell(params, views, loss.detach().numpy(), functools.partial(draw, as_numpy=True))
            state = State(torch.from_numpy(out.pos), torch.from_numpy(out.best_pos), torch.from_numpy(out.best_loss),
                          out.best_index, out.num_epochs, out.num_restarts)
        else:
            with torch.inference_mode():  # the core's bookkeeping needs no autograd: less overhead per op
                state = core.tell(params, state, loss, draw)
        run.update(pos=state.pos, best_pos=state.best_pos, best_loss=state.best_loss, loss=loss,
                   best_index=state.best_index, restarts=state.num_restarts, epoch=state.num_epochs)
        # leave the parameters at the best point found (never restarted, so still the best after tell)
        best = state.best_index
        real_best = self._to_real(state.best_pos[best], bound, on_cpu)
        params_list = self._params()
        for p, piece in zip(params_list, torch.split(real_best, [p.numel() for p in params_list])):
            p.data.copy_(piece.view_as(p))
        best_loss: torch.Tensor = state.best_loss[best].clone()  # a normal tensor, not an inference one
        return best_loss

    # ------------------------------------------------------------------ persistence
    def _check_fits(self, state_dict: dict[str, Any]) -> None:
        """Raise, before anything is loaded, if ``state_dict`` belongs to a run of another shape."""
        popsize = int(self.param_groups[0]["popsize"])
        groups = state_dict.get("param_groups", []) if isinstance(state_dict, dict) else []
        saved = sorted({int(g["popsize"]) for g in groups if isinstance(g, dict) and "popsize" in g})
        if saved and saved != [popsize]:
            shown = saved[0] if len(saved) == 1 else saved
            raise OptimkitValueError(
                f"state_dict was saved with popsize={shown!r}, but this optimizer has popsize={popsize}: "
                f"create it with popsize={shown!r} to resume that run"
            )
        run = state_dict.get("state", {}).get(_STATE_KEY) if isinstance(state_dict, dict) else None
        dims = sum(p.numel() for p in self._params())
        if run and isinstance(run.get("pos"), torch.Tensor) and tuple(run["pos"].shape) != (popsize, dims):
            raise OptimkitValueError(
                f"state_dict holds a population of shape {tuple(run['pos'].shape)}, but this optimizer has "
                f"popsize={popsize} and {dims} parameters"
            )

    def state_dict(self) -> dict[str, Any]:
        """The torch state dict, with a snapshot (copies) of the whole ANSR run and the generator state."""
        sd = super().state_dict()
        run = sd["state"].get(_STATE_KEY)
        if run is not None:
            snap = {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in run.items()}
            snap["generator_state"] = self._generator.get_state()
            snap["generator_device"] = self._device.type
            sd["state"] = {**sd["state"], _STATE_KEY: snap}
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state dict saved by ``state_dict()``; the run resumes exactly.

        Raises ``OptimkitValueError``, and changes nothing, if the state dict was saved with another
        ``popsize`` or holds a population that does not fit this optimizer's parameters.
        """
        self._check_fits(state_dict)
        super().load_state_dict(state_dict)
        self._checked = None
        for group in self.param_groups:
            group_params(group)
        run = self._run()
        if not run:
            self._generator.manual_seed(int(self.param_groups[0]["seed"]))
            return
        dims = sum(p.numel() for p in self._params())
        popsize = int(self.param_groups[0]["popsize"])
        if tuple(run["pos"].shape) != (popsize, dims):
            raise OptimkitValueError(f"state_dict holds a population of shape {tuple(run['pos'].shape)}, but this "
                                     f"optimizer has popsize={popsize} and {dims} parameters")
        floats = {k: run[k].to(self._device, self._dtype).clone() for k in ("pos", "best_pos", "best_loss", "loss")}
        self.state[_STATE_KEY] = {  # type: ignore[index]
            **run, **floats, "restarts": int(run["restarts"]), "epoch": int(run["epoch"]),
            "best_index": int(run.get("best_index", int(floats["best_loss"].argmin()))),
        }
        if run.get("generator_device", self._device.type) == self._device.type:
            self._generator.set_state(run["generator_state"].cpu())
        else:
            warnings.warn(f"the state_dict's generator was on {run['generator_device']!r}, this optimizer is on "
                          f"{self._device.type!r}: the random stream is reseeded, so the resumed run differs",
                          OptimkitWarning, stacklevel=2)
            self._generator.manual_seed(int(self.param_groups[0]["seed"]) + int(run["epoch"]))
