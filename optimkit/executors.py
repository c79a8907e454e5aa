"""Executors: where ``Optimizer.minimize`` runs the objective function.

An executor is anything with ``submit(fn, *args, **kwargs) -> future`` whose future has
``done()`` and ``result()`` (``concurrent.futures`` executors qualify). optimkit ships two:

- :class:`SequentialExecutor`: runs ``fn`` at once in the calling process (the default of
  ``minimize`` when no executor is given);
- :class:`RayExecutor`: runs each evaluation as a Ray task, on a local Ray started on demand or
  on an existing cluster, ships the objective once through the object store, honours
  per-evaluation resources and survives lost workers.

Executors only evaluate; whether the objective is minimized is the optimizer's business
(optimkit always minimizes).
"""

from __future__ import annotations

import math
import os
import socket
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from optimkit.errors import (
    EvaluationFailedWarning,
    OptimkitRuntimeError,
    OptimkitTypeError,
    OptimkitValueError,
    UnpicklableObjectiveError,
    UnsatisfiableResourcesError,
)

__all__ = [
    "Executor",
    "Future",
    "SequentialExecutor",
    "RayExecutor",
    "RayFuture",
    "ClusterConnectionError",
    "FAILED_LOSS",
]

#: The loss a :class:`RayFuture` returns for an evaluation whose worker was lost more than
#: ``max_retries`` times: the worst possible loss, so the optimizer moves away from it.
FAILED_LOSS: float = math.inf

#: Per-evaluation options ``resources_per_eval`` may hold (passed to Ray's ``.options``).
_RESOURCE_KEYS = frozenset(
    {
        "num_cpus",
        "num_gpus",
        "memory",
        "resources",
        "accelerator_type",
        "label_selector",
        "scheduling_strategy",
        "runtime_env",
    }
)


class ClusterConnectionError(OptimkitRuntimeError, ConnectionError):
    """Ray could not be started or the cluster at ``address`` could not be reached in time."""


@runtime_checkable
class Future(Protocol):
    """What ``Executor.submit`` returns: a handle on one evaluation."""

    def done(self) -> bool: ...

    def result(self) -> Any: ...


@runtime_checkable
class Executor(Protocol):
    """Anything that can run ``fn(*args, **kwargs)`` and hand back a :class:`Future`."""

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future: ...


class _DoneFuture:
    """A future that is already done: holds a value or the exception ``fn`` raised."""

    __slots__ = ("_value", "_exception")

    def __init__(self, value: Any = None, exception: BaseException | None = None) -> None:
        self._value = value
        self._exception = exception

    def done(self) -> bool:
        return True

    def result(self, timeout: float | None = None) -> Any:
        if self._exception is not None:
            raise self._exception
        return self._value

    def exception(self, timeout: float | None = None) -> BaseException | None:
        return self._exception


class SequentialExecutor:
    """Run each evaluation at once, in the calling process.

    ``submit`` calls ``fn`` immediately and returns a done future; an exception raised by
    ``fn`` is re-raised by ``result()``, as ``concurrent.futures`` does.

    Examples
    --------
    >>> SequentialExecutor().submit(pow, 2, 3).result()
    8
    """

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> _DoneFuture:
        try:
            value = fn(*args, **kwargs)
        except Exception as exc:  # re-raised by result(), never swallowed
            return _DoneFuture(exception=exc)
        return _DoneFuture(value)

    def shutdown(self, wait: bool = True) -> None:
        """Nothing to release (present for ``concurrent.futures`` compatibility)."""

    def __enter__(self) -> SequentialExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()


# ----------------------------------------------------------------------------- Ray worker side
# Objectives deserialized in this worker process, by object-store id: each worker deserializes
# an objective once, not once per evaluation. Bounded so long-lived workers do not leak.
_WORKER_CACHE: OrderedDict[str, Callable[..., Any]] = OrderedDict()
_WORKER_CACHE_SIZE = 8


def _evaluate(boxed_ref: list[Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Ray task body: fetch the objective (cached per worker) and evaluate it once."""
    import ray

    ref = boxed_ref[0]  # boxed so that Ray does not resolve (and deserialize) it every call
    key = ref.hex()
    fn = _WORKER_CACHE.get(key)
    if fn is None:
        fn = ray.get(ref)
        _WORKER_CACHE[key] = fn
        if len(_WORKER_CACHE) > _WORKER_CACHE_SIZE:
            _WORKER_CACHE.popitem(last=False)
    else:
        _WORKER_CACHE.move_to_end(key)
    return fn(*args, **kwargs)


# ----------------------------------------------------------------------------- driver side
def _lost_worker_errors() -> tuple[type[BaseException], ...]:
    """Ray errors meaning 'the process or node running the evaluation died'."""
    from ray import exceptions as rex

    return (
        rex.WorkerCrashedError,
        rex.NodeDiedError,
        rex.LocalRayletDiedError,
        rex.ObjectLostError,
        rex.OutOfMemoryError,
    )


class RayFuture:
    """Handle on one evaluation running as a Ray task.

    ``done()`` is cheap (``ray.wait(..., timeout=0)``), so it can be polled in a loop.
    ``result()`` returns the objective's value; an exception raised by the objective is
    re-raised with its original type (its remote traceback chained as ``__cause__``); an
    evaluation whose worker died more than ``max_retries`` times returns :data:`FAILED_LOSS`
    (``float('inf')``) with an :class:`~optimkit.errors.EvaluationFailedWarning`, and
    :attr:`failure` then holds Ray's error (``minimize`` counts it as a failed evaluation).
    ``kill()`` stops a running evaluation (``ray.cancel(force=True)``: its worker process is killed).
    """

    __slots__ = ("ref", "_name", "_max_retries", "_state", "_value", "_failure")

    def __init__(self, ref: Any, name: str, max_retries: int) -> None:
        self.ref = ref
        self._name = name
        self._max_retries = max_retries
        self._state = "pending"  # "pending" | "value" | "error"
        self._value: Any = None
        self._failure: BaseException | None = None

    @property
    def failure(self) -> BaseException | None:
        """Ray's error when the evaluation was lost (its worker died after all retries), else None."""
        return self._failure

    def done(self) -> bool:
        """Whether the evaluation finished (successfully or not); never blocks."""
        if self._state != "pending":
            return True
        import ray

        ready, _ = ray.wait([self.ref], num_returns=1, timeout=0, fetch_local=False)
        return bool(ready)

    def result(self, timeout: float | None = None) -> Any:
        """The objective's value (blocks until done, or ``timeout`` seconds: ``TimeoutError``)."""
        if self._state == "pending":
            self._fetch(timeout)
        if self._state == "error":
            raise self._value
        return self._value

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """The exception ``result()`` would raise, or None."""
        if self._state == "pending":
            self._fetch(timeout)
        return self._value if self._state == "error" else None

    def cancel(self) -> bool:
        """Ask Ray to cancel the evaluation if it has not finished; returns whether it was pending."""
        if self.done():
            return False
        import ray

        ray.cancel(self.ref)
        return True

    def kill(self) -> None:
        """Stop the evaluation now, even while it runs: ``ray.cancel(ref, force=True)`` kills its
        worker process (Ray starts another). A later result is never fetched."""
        if self._state != "pending":
            return
        import ray

        self._value = OptimkitRuntimeError(f"the evaluation of {self._name} was killed")
        self._state = "error"
        try:
            ray.cancel(self.ref, force=True)
        except Exception as exc:  # noqa: BLE001 - the task may have just finished; nothing to stop
            warnings.warn(f"could not cancel the evaluation of {self._name}: {exc!r}", EvaluationFailedWarning, stacklevel=2)

    def _fetch(self, timeout: float | None) -> None:
        import ray
        from ray.exceptions import GetTimeoutError, RayTaskError

        try:
            self._value = ray.get(self.ref, timeout=timeout)
            self._state = "value"
        except GetTimeoutError:
            raise  # a TimeoutError; the future stays pending
        except RayTaskError as exc:  # the objective raised: hand back its own exception
            cause = exc.cause if isinstance(exc.cause, BaseException) else exc
            if cause is not exc:
                cause.__cause__ = exc
            self._value, self._state = cause, "error"
        except _lost_worker_errors() as exc:
            warnings.warn(
                f"evaluation of {self._name} was lost ({type(exc).__name__}) after "
                f"{self._max_retries} retries; it is reported as failed with loss {FAILED_LOSS}",
                EvaluationFailedWarning,
                stacklevel=3,
            )
            self._value, self._state, self._failure = FAILED_LOSS, "value", exc


def _ray_is_initialized() -> bool:
    import ray

    return bool(ray.is_initialized())


def _parse_host_port(address: str) -> tuple[str, int] | None:
    """``host:port`` of ``"host:port"`` or ``"ray://host:port"``; None for "auto"/"local"."""
    rest = address[len("ray://") :] if address.startswith("ray://") else address
    if rest in ("auto", "local", "") or "://" in rest:
        return None
    host, sep, port = rest.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]") or "127.0.0.1", int(port)


class RayExecutor:
    """Run evaluations as Ray tasks, locally or on a cluster.

    Parameters
    ----------
    address : str or None
        None starts a private local Ray on demand (at the first ``submit`` or at ``__enter__``), or
        uses the Ray this process already initialized, or the cluster named by the ``RAY_ADDRESS``
        environment variable (as under ``ray job submit``). ``"auto"`` joins the cluster started on this machine
        with ``ray start``; ``"host:port"`` or ``"ray://host:port"`` joins a remote one.
    num_cpus : int or None
        CPUs of the local Ray this executor starts (None: all of them); not allowed with ``address``.
    resources_per_eval : dict or None
        Resources each evaluation requests, passed to Ray's ``.options`` (``{"num_gpus": 1}``,
        ``{"num_cpus": 4}``, ``{"resources": {"simulator": 1}}``...). Default: Ray's one CPU per task.
    max_retries : int, default 3
        How many times an evaluation whose worker process or node died is run again. After that its
        future's ``result()`` is ``float('inf')`` with an ``EvaluationFailedWarning``. An ordinary
        exception raised by the objective is never retried: ``result()`` re-raises it.
    connect_timeout : float, default 30
        Seconds allowed to reach ``address`` (or ``RAY_ADDRESS``) before raising
        :class:`ClusterConnectionError` (Ray's own handshake with a reachable port may add ~20 s).
    resource_timeout : float, default 0
        When Ray starts (or is joined), each evaluation's request (``resources_per_eval``, or Ray's
        one CPU) is checked against the nodes of the cluster: if no node has it all, an
        :class:`~optimkit.errors.UnsatisfiableResourcesError` naming the request and the cluster's
        resources is raised, instead of tasks that wait forever. ``resource_timeout`` seconds are
        allowed for such a node to join first (give one to an autoscaling cluster).
    **ray_init_kwargs
        Passed to ``ray.init`` (``include_dashboard=False`` unless given).

    Notes
    -----
    The objective is serialized once per executor and function (object store); each Ray worker
    deserializes it once. ``shutdown()`` (or leaving the ``with`` block) stops Ray only if this
    executor started it; a Ray the user started, or a cluster, is never shut down.

    Examples
    --------
    >>> with RayExecutor(num_cpus=2) as ex:                          # doctest: +SKIP
    ...     optimizer.minimize(objective, executor=ex, batch_mode=False)
    """

    def __init__(
        self,
        address: str | None = None,
        num_cpus: int | None = None,
        resources_per_eval: Mapping[str, Any] | None = None,
        max_retries: int = 3,
        *,
        connect_timeout: float = 30.0,
        resource_timeout: float = 0.0,
        **ray_init_kwargs: Any,
    ) -> None:
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise OptimkitValueError(f"max_retries must be an integer >= 0, got {max_retries!r}")
        if num_cpus is not None and (isinstance(num_cpus, bool) or not isinstance(num_cpus, int) or num_cpus < 1):
            raise OptimkitValueError(f"num_cpus must be None or an integer >= 1, got {num_cpus!r}")
        if num_cpus is not None and address is not None:
            raise OptimkitValueError(
                f"num_cpus={num_cpus!r} applies only to a local Ray this executor starts; "
                f"it cannot be combined with address={address!r} (a cluster has its own CPUs)"
            )
        if address is not None and not isinstance(address, str):
            raise OptimkitTypeError(f"address must be None or a string, got {address!r}")
        if not (isinstance(connect_timeout, int | float) and 0 < connect_timeout < math.inf):
            raise OptimkitValueError(f"connect_timeout must be a finite number > 0, got {connect_timeout!r}")
        if not (isinstance(resource_timeout, int | float) and 0 <= resource_timeout < math.inf):
            raise OptimkitValueError(f"resource_timeout must be a finite number >= 0, got {resource_timeout!r}")
        resources = dict(resources_per_eval or {})
        unknown = sorted(set(resources) - _RESOURCE_KEYS)
        if unknown:
            raise OptimkitValueError(
                f"resources_per_eval has unknown key(s) {unknown}; accepted: {sorted(_RESOURCE_KEYS)}"
            )
        for key in ("num_cpus", "num_gpus", "memory"):
            value = resources.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
                raise OptimkitValueError(f"resources_per_eval[{key!r}] must be a number >= 0, got {value!r}")
        self.address = address
        self.num_cpus = num_cpus
        self.resources_per_eval = resources
        self.max_retries = max_retries
        self.connect_timeout = float(connect_timeout)
        self.resource_timeout = float(resource_timeout)
        self.ray_init_kwargs = ray_init_kwargs
        self._started_ray = False
        self._ready = False
        self._remote: Any = None
        # id(fn) -> (fn, ObjectRef): fn is kept alive so its id is not reused while cached
        self._shipped: OrderedDict[int, tuple[Callable[..., Any], Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        opts = [f"address={self.address!r}"] if self.address is not None else []
        if self.num_cpus is not None:
            opts.append(f"num_cpus={self.num_cpus}")
        if self.resources_per_eval:
            opts.append(f"resources_per_eval={self.resources_per_eval!r}")
        if self.max_retries != 3:
            opts.append(f"max_retries={self.max_retries}")
        return f"RayExecutor({', '.join(opts)})"

    # -- lifecycle
    @property
    def started_ray(self) -> bool:
        """Whether this executor started the Ray it uses (and so will shut it down)."""
        return self._started_ray

    def start(self) -> RayExecutor:
        """Connect to (or start) Ray now; done automatically by the first ``submit``."""
        with self._lock:
            if self._ready:
                return self
            try:
                import ray
            except ImportError as exc:  # pragma: no cover - ray is an optional extra
                raise OptimkitRuntimeError(
                    "RayExecutor needs Ray: pip install 'optimkit[ray]'"
                ) from exc
            if not ray.is_initialized():
                self._init_ray(ray)
            self._check_resources(ray)
            self._remote = ray.remote(_evaluate)
            self._ready = True
        return self

    def _needed_resources(self) -> dict[str, float]:
        """What one evaluation asks of a node, in the names of ``ray.nodes()``' resources."""
        res = self.resources_per_eval
        need: dict[str, float] = {}
        for key, name, default in (("num_cpus", "CPU", 1), ("num_gpus", "GPU", 0), ("memory", "memory", 0)):
            value = res.get(key, default)
            if value:
                need[name] = float(value)
        for name, value in (res.get("resources") or {}).items():
            if value:
                need[str(name)] = float(value)
        if res.get("accelerator_type"):
            need[f"accelerator_type:{res['accelerator_type']}"] = 0.001
        return need

    def _check_resources(self, ray: Any) -> None:
        """Raise ``UnsatisfiableResourcesError`` if no alive node can run one evaluation
        (after waiting up to ``resource_timeout`` seconds for one to join)."""
        need = self._needed_resources()
        if not need:
            return
        deadline = time.monotonic() + self.resource_timeout
        while True:
            nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive", n.get("alive", False))]
            if any(all(node.get(k, 0.0) >= v for k, v in need.items()) for node in nodes):
                return
            if time.monotonic() >= deadline:
                break
            time.sleep(min(0.5, max(deadline - time.monotonic(), 0.0)))
        have = {k: v for k, v in sorted(ray.cluster_resources().items()) if not k.startswith("node:")}
        asked = f"resources_per_eval={self.resources_per_eval!r}" if self.resources_per_eval else "Ray's default"
        waited = f" (waited resource_timeout={self.resource_timeout:g} s)" if self.resource_timeout else ""
        raise UnsatisfiableResourcesError(
            f"no node of the Ray cluster can run an evaluation{waited}: {asked} asks each for {need}, "
            f"the cluster has {have} over {len(nodes)} node(s); lower the request, add a node that has it, "
            "or give resource_timeout=seconds to wait for an autoscaling cluster"
        )

    def _init_ray(self, ray: Any) -> None:
        env_address = os.environ.get("RAY_ADDRESS") or None
        target = self.address if self.address is not None else env_address
        where = f"address={self.address!r}" if self.address is not None else f"RAY_ADDRESS={env_address!r}"
        kwargs = {"include_dashboard": False, **self.ray_init_kwargs}
        if target is None:
            # "local": a private instance, even if a cluster started on this machine (ray start,
            # a test Cluster) advertises itself in /tmp/ray; join such a cluster with "auto"
            target = "local"
            if self.num_cpus is not None:
                kwargs["num_cpus"] = self.num_cpus
        else:  # a cluster: explicit address, or RAY_ADDRESS as set by `ray job submit`
            if self.num_cpus is not None:
                raise OptimkitValueError(
                    f"num_cpus={self.num_cpus!r} applies only to a local Ray this executor starts, "
                    f"but {where} makes it join a cluster; unset one of them"
                )
            kwargs.pop("include_dashboard", None)
            hostport = _parse_host_port(target)
            if hostport is not None:  # fail fast (bounded) instead of Ray's long reconnect loop
                try:
                    socket.create_connection(hostport, timeout=self.connect_timeout).close()
                except OSError as exc:
                    raise ClusterConnectionError(
                        f"cannot reach the Ray cluster at {where} "
                        f"within connect_timeout={self.connect_timeout:g} s: {exc}"
                    ) from exc
        try:
            ray.init(address=target, **kwargs)
        except (ConnectionError, TimeoutError) as exc:
            raise ClusterConnectionError(f"cannot connect to Ray at {where}: {exc}") from exc
        self._started_ray = target == "local"

    def shutdown(self, wait: bool = True) -> None:
        """Forget shipped objectives; stop Ray if (and only if) this executor started it."""
        with self._lock:
            self._shipped.clear()
            self._remote = None
            self._ready = False
            if self._started_ray:
                import ray

                self._started_ray = False
                if ray.is_initialized():
                    ray.shutdown()

    def __enter__(self) -> RayExecutor:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    # -- evaluations
    def _ship(self, fn: Callable[..., Any]) -> Any:
        """ObjectRef of ``fn`` in the object store, put once per function."""
        entry = self._shipped.get(id(fn))
        if entry is not None and entry[0] is fn:
            return entry[1]
        import ray
        from ray import cloudpickle

        name = getattr(fn, "__qualname__", None) or repr(fn)
        try:
            cloudpickle.dumps(fn)  # type: ignore[no-untyped-call]  # fail here, naming the objective
        except Exception as exc:
            raise UnpicklableObjectiveError(
                f"the objective {name!r} cannot be serialized for RayExecutor "
                f"({type(exc).__name__}: {exc}); define it at module level and keep unpicklable "
                "state (locks, open files, sockets, live connections) out of it, or create that "
                "state lazily inside the worker"
            ) from exc
        ref = ray.put(fn)
        self._shipped[id(fn)] = (fn, ref)
        if len(self._shipped) > _WORKER_CACHE_SIZE:
            self._shipped.popitem(last=False)
        return ref

    def wait(self, futures: list[RayFuture], timeout: float | None = None) -> tuple[list[RayFuture], list[RayFuture]]:
        """Block until at least one of ``futures`` is done (or ``timeout`` s); return ``(done, not_done)``.

        One ``ray.wait`` call for the whole list, so a driver loop can sleep until a result
        arrives instead of polling each future's ``done()``.
        """
        finished = [f for f in futures if f._state != "pending"]
        pending = [f for f in futures if f._state == "pending"]
        if pending:
            import ray

            refs = [f.ref for f in pending]
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0, fetch_local=False)
            if not ready and not finished:
                ready, _ = ray.wait(refs, num_returns=1, timeout=timeout, fetch_local=False)
            ready_ids = {r.hex() for r in ready}
            finished += [f for f in pending if f.ref.hex() in ready_ids]
        done_ids = {id(f) for f in finished}
        return [f for f in futures if id(f) in done_ids], [f for f in futures if id(f) not in done_ids]

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> RayFuture:
        """Start ``fn(*args, **kwargs)`` as a Ray task and return its :class:`RayFuture`."""
        if not callable(fn):
            raise OptimkitTypeError(f"submit needs a callable objective, got {fn!r}")
        if not self._ready or not _ray_is_initialized():
            # first call, or Ray was shut down behind our back: objects shipped before are gone
            self._ready, self._started_ray = False, False
            self._shipped.clear()
            self.start()
        ref = self._ship(fn)
        task = self._remote.options(
            max_retries=self.max_retries, retry_exceptions=False, **self.resources_per_eval
        ).remote([ref], args, kwargs)
        return RayFuture(task, getattr(fn, "__qualname__", repr(fn)), self.max_retries)
