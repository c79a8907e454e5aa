"""Families and the registry: ``ConfiguredOptimizer`` (an optimizer class with a fixed configuration,
callable like a class) and ``registry`` (name -> optimizer class or family member)."""

from __future__ import annotations

import difflib
import inspect
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import errors

if TYPE_CHECKING:  # annotations only: the optimizer module does not import this one either
    from ..parametrization import Parameter
    from .optimizer import Optimizer

__all__ = ["ConfiguredOptimizer", "Registry", "registry"]


class ConfiguredOptimizer:
    """A family member: an optimizer class with a fixed configuration, callable like a class.

    ``ConfiguredOptimizer(OptimizerClass, config)(parametrization, budget=None, num_workers=1)``
    builds ``OptimizerClass(parametrization, budget, num_workers, **config)``; with
    ``as_config=True`` (as in nevergrad) it builds
    ``OptimizerClass(parametrization, budget, num_workers, config=self)`` instead, for classes that
    read their settings from the family object.

    Two members are equal when they configure the same class with equal options (arrays compared
    by value).

    Examples
    --------
    >>> import optimkit as ok
    >>> conf = ok.families.ConfANSR(popsize=16)
    >>> opt = conf(parametrization=3, budget=160)
    >>> opt.name, conf.config()["popsize"]
    ('ConfANSR(popsize=16)', 16)
    """

    recast = False
    no_parallelization = False

    def __init__(self, OptimizerClass: type[Optimizer], config: dict[str, Any], as_config: bool = False) -> None:
        self._OptimizerClass = OptimizerClass
        self._config = {k: v for k, v in config.items() if k not in ("self", "__class__")}
        self._as_config = bool(as_config)
        self.name = self._default_repr()

    @property
    def optimizer_class(self) -> type[Optimizer]:
        """The optimizer class this member configures."""
        return self._OptimizerClass

    @property
    def requires(self) -> tuple[str, ...]:
        """The optional modules the configured class needs (see ``Optimizer.requires``)."""
        return self._OptimizerClass.requires

    def config(self) -> dict[str, Any]:
        """The configuration (a copy)."""
        return dict(self._config)

    @property
    def settings(self) -> str:
        """The options that differ from the family's defaults, as ``"sigma=0.04, p_self=0.05"``."""
        defaults: dict[str, Any] = {}
        if type(self) is not ConfiguredOptimizer:
            for pname, p in inspect.signature(type(self).__init__).parameters.items():
                if p.default is not inspect.Parameter.empty:
                    defaults[pname] = p.default
        return ", ".join(f"{k}={v!r}" for k, v in self._config.items() if not (k in defaults and _same(defaults[k], v)))

    def _default_repr(self) -> str:
        head = type(self).__name__ if type(self) is not ConfiguredOptimizer else self._OptimizerClass.__name__
        return f"{head}({self.settings})"

    def __call__(self, parametrization: int | Parameter, budget: int | None = None, num_workers: int = 1) -> Optimizer:
        if self._as_config:
            opt = self._OptimizerClass(parametrization, budget, num_workers, config=self)  # type: ignore[call-arg]
        else:
            opt = self._OptimizerClass(parametrization, budget, num_workers, **self._config)
        opt.name = self.name
        opt._family = self  # saved in dumps: ``load`` checks that a dump belongs to this member
        return opt

    def set_name(self, name: str, register: bool = False) -> ConfiguredOptimizer:
        """Rename (and optionally register under that name); returns self."""
        self.name = str(name)
        if register:
            registry.register_name(self.name, self)
        return self

    def load(self, filepath: str | os.PathLike[str]) -> Optimizer:
        """Load a dump of an optimizer built by this member (same class and same configuration);
        ``LoadError`` naming both otherwise (load a dump of another configuration through its own
        member, its class's ``load`` or ``optimkit.load``)."""
        opt = self._OptimizerClass.load(filepath)
        family = getattr(opt, "_family", None)
        if not isinstance(family, ConfiguredOptimizer) or family != self:
            built = f"by {family!r}{_registered_as(family)}" if family is not None else "from its class directly"
            raise errors.LoadError(
                f"{os.fspath(filepath)!r} holds an optimizer of class {type(opt).__name__} built {built}, not by "
                f"{self!r}{_registered_as(self)}: load it with {type(opt).__name__}.load or optimkit.load"
            )
        return opt

    def __repr__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConfiguredOptimizer) or type(other) is not type(self):
            return NotImplemented
        if other._OptimizerClass is not self._OptimizerClass or other._as_config != self._as_config:
            return False
        if other._config.keys() != self._config.keys():
            return False
        return all(_same(v, other._config[k]) for k, v in self._config.items())

    def __hash__(self) -> int:
        return hash((type(self), self._OptimizerClass, tuple(sorted(self._config))))


def _registered_as(member: Any) -> str:
    names = [name for name, obj in registry.items() if isinstance(obj, ConfiguredOptimizer) and obj == member]
    return f" (registry name {names[0]!r})" if names else ""


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same type (arrays compared element-wise); incomparable means different."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and bool(np.array_equal(a, b))
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - e.g. objects whose == returns an array: compare as different
        return False


class Registry(dict):  # type: ignore[type-arg]
    """Name -> optimizer class or ``ConfiguredOptimizer``; unknown names raise a ``KeyError`` with close names."""

    def register(self, obj: Any) -> Any:
        """Decorator: register a class under its own name."""
        self.register_name(obj.__name__, obj)
        return obj

    def register_name(self, name: str, obj: Any) -> None:
        """Register ``obj`` under ``name`` (replacing a previous one)."""
        self[name] = obj

    def __missing__(self, key: Any) -> Any:
        close = difflib.get_close_matches(str(key), [str(k) for k in self], n=5, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise KeyError(f"{key!r} is not a registered optimizer.{hint} (see optimkit.optimizers.registry)")


registry = Registry()
