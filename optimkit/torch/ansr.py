"""ANSR (Across Neighbourhood Search with Restarts) as a ``torch.optim.Optimizer`` (minimizes).

The tensor version of the step in ``optimkit.optimizers.ansr`` (SPEC section 2), with positions in
``[0, 1]^d`` mapped onto ``[-bound, bound]``. The whole run (population, bests, losses, generator
state, restart count, epoch) lives in ``self.state``, so ``state_dict()`` / ``load_state_dict()``
resume a run exactly; a step never synchronizes host and device (restarts are applied with masks).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, vmap

from optimkit.errors import InefficientSettingsWarning, OptimkitTypeError, OptimkitValueError, OptimkitWarning

__all__ = ["ANSR"]

_STATE_KEY = "ansr"
_SHARED_OPTIONS = ("popsize", "sigma", "restart_tolerance", "p_self", "seed")


# option: (integers only, lowest value, lowest excluded, highest value)
_RULES = {
    "popsize": (True, 2, False, math.inf),
    "sigma": (False, 0, True, math.inf),
    "restart_tolerance": (False, 0, False, math.inf),
    "p_self": (False, 0, False, 1.0),
    "bound": (False, 0, True, math.inf),
    "seed": (True, 0, False, math.inf),
}


def _check_options(group: dict[str, Any]) -> None:
    """Raise OptimkitValueError naming the first invalid option of a parameter group."""
    for name, (integral, low, low_open, high) in _RULES.items():
        value = group[name]
        kind = numbers.Integral if integral else numbers.Real
        v = float(value) if isinstance(value, kind) and not isinstance(value, bool) else math.nan
        if math.isfinite(v) and (v > low if low_open else v >= low) and v <= high:
            continue
        accepted = f"{'an integer' if integral else 'a finite number'} {'>' if low_open else '>='} {low}"
        accepted += f" and <= {high}" if high < math.inf else ""
        raise OptimkitValueError(f"{name} must be {accepted}, got {value!r}")


def restart_mask(best_loss: torch.Tensor, best: torch.Tensor, tol: float) -> torch.Tensor:
    """Which particles lose a converged pair, checking all pairs at once (no host sync).

    A pair converged when ``(hi - lo) / |hi| < tol`` with ``hi`` finite and non-zero; the loser
    has the larger loss (on a tie the lower index) and the global best ``best`` never loses.
    """
    n = best_loss.shape[0]
    ii, jj = torch.triu_indices(n, n, offset=1, device=best_loss.device)
    ri, rj = best_loss[ii], best_loss[jj]
    hi, lo = torch.maximum(ri, rj), torch.minimum(ri, rj)
    converged = torch.isfinite(hi) & (hi != 0) & ((hi - lo) / hi.abs() < tol)
    loser = torch.where((ii == best) | ((jj != best) & (ri < rj)), jj, ii)
    hits = torch.zeros(n, device=best_loss.device, dtype=torch.int64).index_add_(0, loser, converged.long())
    return hits > 0


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
        by a uniformly chosen other particle's best. ``self_instead_neighbour`` is an alias.
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
    hold the best point found; ``step`` returns its loss as a 0-dim tensor (no device sync).

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

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        popsize: int = 64,
        sigma: float = 0.05,
        restart_tolerance: float = 1e-8,
        p_self: float = 0.95,
        bound: float = 10.0,
        seed: int = 0,
        model: nn.Module | None = None,
        batch_size: int = 1,
        *,
        self_instead_neighbour: float | None = None,
    ) -> None:
        if self_instead_neighbour is not None:
            if p_self not in (0.95, self_instead_neighbour):
                raise OptimkitValueError(f"p_self={p_self!r} and its alias self_instead_neighbour="
                                         f"{self_instead_neighbour!r} disagree; pass only one of them")
            p_self = self_instead_neighbour
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise OptimkitValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        if model is not None and not isinstance(model, nn.Module):
            raise OptimkitTypeError(f"model must be a torch.nn.Module or None, got {type(model).__name__}")
        if batch_size > 1 and model is None:
            raise OptimkitValueError(f"batch_size={batch_size} > 1 needs model= (batched mode vmaps "
                                     "over the model's parameters)")
        defaults = dict(popsize=popsize, sigma=sigma, restart_tolerance=restart_tolerance,
                        p_self=p_self, bound=bound, seed=seed)
        _check_options(defaults)
        super().__init__(params, defaults)
        for group in self.param_groups:
            _check_options(group)
            for p in group["params"]:
                if not p.is_floating_point():
                    raise OptimkitTypeError(f"params must be floating point tensors, got dtype {p.dtype}")
        first = self.param_groups[0]["params"][0]
        self._device = first.device
        self._dtype = torch.promote_types(first.dtype, torch.float32)
        self._generator = torch.Generator(device=self._device)
        self._generator.manual_seed(int(seed))
        self._model = model
        self._batch_size = int(batch_size)
        self._names = []
        if model is not None:
            self._names = self._match_model_parameters(model)
        self._warned_threads = False

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

    def _check_groups(self) -> dict[str, Any]:
        """Validate the (possibly user-edited) groups; return the shared options."""
        first = self.param_groups[0]
        for group in self.param_groups:
            _check_options(group)
            for key in _SHARED_OPTIONS:
                if group[key] != first[key]:
                    raise OptimkitValueError(f"{key} must be the same in every parameter group (got "
                                             f"{first[key]!r} and {group[key]!r}); only bound may differ")
        return first

    def _bounds(self) -> torch.Tensor | float:
        """The half-width of the box per coordinate (a float when all groups agree)."""
        values = {float(g["bound"]) for g in self.param_groups}
        if len(values) == 1:
            return values.pop()
        return torch.cat([torch.full((p.numel(),), float(g["bound"]), device=self._device, dtype=self._dtype)
                          for g in self.param_groups for p in g["params"]])

    def _flat_params(self) -> torch.Tensor:
        return torch.cat([p.detach().reshape(-1).to(self._dtype) for p in self._params()])

    def _set_flat_params(self, flat: torch.Tensor) -> None:
        offset = 0
        for p in self._params():
            n = p.numel()
            p.copy_(flat[offset:offset + n].view_as(p))
            offset += n

    def _run(self) -> dict[str, Any] | None:
        """The ANSR run in ``self.state`` (under a string key), or None before the first step."""
        state: dict[Any, Any] = self.state
        return state.get(_STATE_KEY) or None

    @property
    def restarts(self) -> int:
        """Total number of restarted particles so far."""
        state = self._run()
        return 0 if not state else int(state["restarts"])

    @property
    def epoch(self) -> int:
        """Number of completed steps (epochs)."""
        state = self._run()
        return 0 if not state else int(state["epoch"])

    def _init_state(self, group: dict[str, Any]) -> dict[str, Any]:
        popsize = int(group["popsize"])
        self._generator.manual_seed(int(group["seed"]))
        bound = self._bounds()
        flat = self._flat_params()
        dims = flat.numel()
        kw: dict[str, Any] = dict(device=self._device, dtype=self._dtype)
        pos = torch.rand(popsize, dims, generator=self._generator, **kw)
        pos[0] = ((flat + bound) / (2.0 * bound)).clamp(0.0, 1.0)
        state = {
            "pos": pos,
            "best_pos": torch.zeros(popsize, dims, **kw),
            "best_loss": torch.full((popsize,), math.inf, **kw),
            "loss": torch.full((popsize,), math.inf, **kw),
            "restarts": torch.zeros((), device=self._device, dtype=torch.int64),
            "epoch": 0,
        }
        self.state[_STATE_KEY] = state  # type: ignore[index]
        return state

    # ------------------------------------------------------------------ evaluation
    def _evaluate_closure(self, closure: Callable[[], Any], real: torch.Tensor, out: torch.Tensor) -> None:
        for k in range(real.shape[0]):
            self._set_flat_params(real[k])
            with torch.enable_grad():
                loss = closure()
            if isinstance(loss, torch.Tensor) and loss.numel() != 1:
                raise OptimkitValueError(f"the closure must return a scalar loss, got shape {tuple(loss.shape)}")
            out[k] = loss.detach().reshape(()) if isinstance(loss, torch.Tensor) else loss

    def _evaluate_batched(self, loss_fn: Callable[..., torch.Tensor], inputs: tuple[Any, ...],
                          real: torch.Tensor, out: torch.Tensor) -> None:
        model = self._model
        assert model is not None  # guaranteed by the caller
        self._maybe_warn_threads()
        if len(self._names) != len(self._params()):  # a group was added since
            self._names = self._match_model_parameters(model)
        chosen = set(self._names)
        fixed = {n: p.detach() for n, p in model.named_parameters() if n not in chosen}
        fixed.update(dict(model.named_buffers()))
        stacked: dict[str, torch.Tensor] = {}
        offset = 0
        for name, p in zip(self._names, self._params()):
            n = p.numel()
            stacked[name] = real[:, offset:offset + n].reshape(-1, *p.shape).to(p.dtype)
            offset += n

        def member_loss(params: dict[str, torch.Tensor]) -> torch.Tensor:
            return loss_fn(functional_call(model, {**fixed, **params}, inputs))

        chunk = None if self._batch_size >= real.shape[0] else self._batch_size
        losses = vmap(member_loss, randomness="different", chunk_size=chunk)(stacked)
        if losses.dim() != 1:
            raise OptimkitValueError(f"loss_fn must return a scalar per member, got shape {tuple(losses.shape[1:])}")
        out.copy_(losses.detach())

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
        group = self._check_groups()
        state = self._run() or self._init_state(group)
        popsize, dims = state["pos"].shape
        if int(group["popsize"]) != popsize or sum(p.numel() for p in self._params()) != dims:
            raise OptimkitValueError(f"popsize and the parameters cannot change during a run (population "
                                     f"{popsize} x {dims}, group popsize {group['popsize']!r})")
        sigma, p_self, tol = float(group["sigma"]), float(group["p_self"]), float(group["restart_tolerance"])
        bound = self._bounds()
        gen = self._generator
        pos, best_pos, best_loss = state["pos"], state["best_pos"], state["best_loss"]

        # 1. evaluate every particle
        real = pos * (2.0 * bound) - bound
        loss = torch.empty(popsize, device=self._device, dtype=self._dtype)
        if self._model is not None and self._batch_size > 1:
            self._evaluate_batched(closure, inputs, real, loss)
        else:
            self._evaluate_closure(closure, real, loss)

        # 2. keep each particle's best
        improved = loss < best_loss
        best_loss = torch.where(improved, loss, best_loss)
        best_pos = torch.where(improved[:, None], pos, best_pos)
        best = torch.argmin(best_loss)

        # 3. restart the losers of converged pairs (vectorized over pairs, no host sync)
        restart = restart_mask(best_loss, best, tol)
        fresh_best = torch.rand(popsize, dims, generator=gen, device=self._device, dtype=self._dtype)
        fresh_pos = torch.rand(popsize, dims, generator=gen, device=self._device, dtype=self._dtype)
        best_loss = best_loss.masked_fill(restart, math.inf)
        best_pos = torch.where(restart[:, None], fresh_best, best_pos)
        pos = torch.where(restart[:, None], fresh_pos, pos)

        # 4. perturb every coordinate around its guide
        noise = torch.randn(popsize, dims, generator=gen, device=self._device, dtype=self._dtype)
        if p_self == 1.0:
            guide = best_pos
        else:
            # one uniform per coordinate: own best if u < p_self, else (u - p_self) / (1 - p_self),
            # uniform again, picks one of the popsize - 1 other particles
            u = torch.rand(popsize, dims, generator=gen, device=self._device, dtype=self._dtype)
            rows = torch.arange(popsize, device=self._device)[:, None]
            other = ((u - p_self) * ((popsize - 1) / (1.0 - p_self))).long().clamp_(0, popsize - 2)
            other += other >= rows
            if p_self > 0.0:
                other = torch.where(u < p_self, rows, other)
            guide = torch.gather(best_pos, 0, other)
        new_pos = torch.addcmul(guide, (guide - pos).abs(), noise, value=sigma).clamp_(0.0, 1.0)

        state.update(
            pos=new_pos, best_pos=best_pos, best_loss=best_loss, loss=loss,
            restarts=state["restarts"] + restart.sum(), epoch=state["epoch"] + 1,
            generator_state=gen.get_state(),
        )
        # 5. leave the parameters at the best point found
        self._set_flat_params(best_pos[best] * (2.0 * bound) - bound)
        return best_loss[best].detach()

    # ------------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, Any]:
        """The torch state dict, with a snapshot (copies) of the whole ANSR run."""
        sd = super().state_dict()
        run = sd["state"].get(_STATE_KEY)
        if run is not None:
            snap = {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in run.items()}
            snap["generator_state"] = self._generator.get_state()
            snap["generator_device"] = self._device.type
            sd["state"] = {**sd["state"], _STATE_KEY: snap}
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state dict saved by ``state_dict()``; the run resumes exactly."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            _check_options(group)
        run = self._run()
        if not run:
            self._generator.manual_seed(int(self.param_groups[0]["seed"]))
            return
        dims = sum(p.numel() for p in self._params())
        popsize = int(self.param_groups[0]["popsize"])
        if tuple(run["pos"].shape) != (popsize, dims):
            raise OptimkitValueError(f"state_dict holds a population of shape {tuple(run['pos'].shape)}, but this "
                                     f"optimizer has popsize={popsize} and {dims} parameters")
        floats = ("pos", "best_pos", "best_loss", "loss")
        self.state[_STATE_KEY] = {  # type: ignore[index]
            **run, **{k: run[k].to(self._device, self._dtype).clone() for k in floats},
            "restarts": run["restarts"].to(self._device, torch.int64).clone(),
        }
        if run.get("generator_device", self._device.type) == self._device.type:
            self._generator.set_state(run["generator_state"].cpu())
        else:
            warnings.warn(f"the state_dict's generator was on {run['generator_device']!r}, this optimizer is on "
                          f"{self._device.type!r}: the random stream is reseeded, so the resumed run differs",
                          OptimkitWarning, stacklevel=2)
            self._generator.manual_seed(int(self.param_groups[0]["seed"]) + int(run["epoch"]))
