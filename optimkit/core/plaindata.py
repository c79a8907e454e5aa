"""A safe encoder/decoder of object graphs as plain data: JSON for the structure, numpy arrays as raw
bytes (never pickle).

:func:`encode` turns an object graph into a JSON-able tree plus a dict of numpy arrays (stored by
:mod:`.persistence` as ``.npy`` members of a zip file); :func:`decode` rebuilds it. Decoding runs
no code named by the data: it builds only

- ``None``, bools, ints (any size), floats (NaN and infinities included), complex numbers,
  strings, bytes, slices of ints, lists, tuples, dicts (any encodable keys), sets, frozensets, ``collections.deque`` (with ``maxlen``);
- numpy arrays and scalars of numeric or bool dtypes (object, string, structured dtypes refused);
- numpy ``RandomState`` / ``Generator`` / bit generators (their states), keeping the sharing of
  :class:`optimkit.rng.SharedRandomState` with its ``.generator``;
- instances of *safe classes* only (see :func:`is_safe_class`): made with ``cls.__new__(cls)``
  and given back their ``__dict__`` / ``__slots__`` (or ``__setstate__(state)`` when the class
  defines ``__getstate__``/``__setstate__``);
- functions, classes and modules that the state references, stored by name (``module:qualname``)
  and resolved on load only in modules that are *already imported* (``sys.modules``; nothing is
  imported from a name in a file), by dictionary lookups (no ``getattr``), never into the standard
  library (``os``, ``subprocess``, ``builtins.eval``...), and only to classes, numpy ufuncs, and
  functions of your own modules or of optimkit (not of installed packages: a loaded optimizer
  calls the functions its state names). Lambdas and local functions are refused when the state is encoded, with the
  path of the object in the state (``optimizer.parametrization._constraints[0]``).

Shared references and cycles are kept: an object referenced twice is encoded once and restored
once (ids in the tree). Class names in the data are resolved against the allowlist only.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import enum
import math
import os
import re
import sys
import types
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from .. import errors
from .. import rng as _rng

__all__ = [
    "PlainDataError",
    "register_safe_class",
    "is_safe_class",
    "encode",
    "decode",
    "check_array_header",
]

T = TypeVar("T", bound=type)

#: arrays of at most this many bytes are kept inline in the JSON (base64); larger ones become members
INLINE_BYTES = 4096
_ARRAY_KINDS = "biufc"
_DTYPE_RE = re.compile(r"^[<>|=]?[biufc][0-9]{1,2}$")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_MEMBER_RE = re.compile(r"^a[0-9]{1,9}\.npy$")
#: references into these top-level modules are neither written nor resolved (besides the few
#: harmless names of ``_SAFE_STDLIB``): a dump cannot make a loaded optimizer call ``os.system``
_STDLIB = frozenset(sys.stdlib_module_names) | {"builtins"}
_SAFE_STDLIB = {
    "builtins": frozenset(
        {"int", "float", "bool", "str", "bytes", "complex", "tuple", "list", "dict", "set", "frozenset",
         "abs", "min", "max", "sum", "len", "round", "NoneType"}
    ),
    "math": None,  # every name of math: pure functions
}
_BIT_GENERATORS: dict[str, type[np.random.BitGenerator]] = {
    "MT19937": np.random.MT19937,
    "PCG64": np.random.PCG64,
    "PCG64DXSM": np.random.PCG64DXSM,
    "Philox": np.random.Philox,
    "SFC64": np.random.SFC64,
}

_SAFE: dict[type, bool | None] = {}
_SAFE_CACHE: dict[type, bool] = {}  # is_safe_class's answers (cleared by register_safe_class)
_SLOTS: dict[type, tuple[str, ...]] = {}
#: optimkit classes (besides the automatic ones) whose instances optimizers hold; listed by name here
#: (resolved only in already-imported modules) so that low layers need not import this module
_OPTIMKIT_SAFE = frozenset(
    {
        "optimkit.core.bests:MultiValue",
        "optimkit.core.pareto:ParetoFront",
        "optimkit.parametrization.box:UnitBox",
        "optimkit.nomad.scheduler:Scheduler",
    }
)


class PlainDataError(errors.OptimkitTypeError):
    """An object of the state cannot be stored as plain data; ``state_path`` says where it is."""

    def __init__(self, state_path: str, message: str) -> None:
        super().__init__(f"{state_path}: {message}")
        self.state_path = state_path
        self.reason = message


def register_safe_class(cls: T, *, use_getstate: bool | None = None) -> T:
    """Allow instances of ``cls`` in dumps (usable as a class decorator); returns ``cls``.

    Decoding makes them with ``cls.__new__(cls)`` and restores their state, so register only
    classes whose state is plain data and whose ``__new__`` (and ``__setstate__``, if used) runs
    nothing else. Optimizer, Parameter and ``ConfiguredOptimizer`` subclasses and optimkit's
    dataclasses and enums are allowed without registering.

    Parameters
    ----------
    cls : type
        The class to allow (an optimkit class, or a foreign one an optimkit adapter holds, such as
        ``cmaes.CMA``).
    use_getstate : bool, optional
        True: store ``obj.__getstate__()`` and restore with ``__setstate__``. False: store the raw
        ``__dict__``/``__slots__`` even if the class defines ``__getstate__`` (e.g. to keep a
        generator that the class's own ``__getstate__`` drops). None (default): the class's own
        ``__getstate__``/``__setstate__`` when it defines them, else the raw attributes.

    An adapter holding a foreign object allows its class in one line, next to its import, e.g.
    ``register_safe_class(cmaes.CMA, use_getstate=False)``; a class of its own module is allowed
    with the decorator form ``@register_safe_class``.

    Examples
    --------
    >>> import numpy as np
    >>> import optimkit as ok
    >>> from optimkit.core.plaindata import decode, encode, is_safe_class
    >>> is_safe_class(ok.optimizers.ANSR), is_safe_class(dict)
    (True, False)
    >>> tree, arrays = encode({"x": np.arange(3), "rng": np.random.default_rng(0)})
    >>> decode(tree, arrays)["x"]
    array([0, 1, 2])
    """
    if not isinstance(cls, type):
        raise errors.OptimkitTypeError(f"register_safe_class expects a class, got {cls!r}")
    _SAFE[cls] = use_getstate
    _SAFE_CACHE.clear()
    return cls


#: subclasses of these (from any module) are allowed: named, not imported (no import cycle)
_SAFE_BASES = frozenset(
    {"optimkit.core.optimizer:Optimizer", "optimkit.parametrization.core:Parameter",
     "optimkit.core.registry:ConfiguredOptimizer"}
)


def _listed(cls: type, names: frozenset[str]) -> bool:
    """Whether ``cls`` is the class named by one of ``names`` (the very object, in its module)."""
    name = f"{getattr(cls, '__module__', '')}:{getattr(cls, '__qualname__', '')}"
    if name not in names:
        return False
    try:
        return _lookup(*name.split(":")) is cls
    except (KeyError, ModuleNotFoundError):
        return False


def is_safe_class(cls: type) -> bool:
    """Whether instances of ``cls`` may be stored and rebuilt: registered with
    :func:`register_safe_class`, a subclass of ``Optimizer``/``Parameter``/``ConfiguredOptimizer``,
    one of the optimkit classes listed in ``_OPTIMKIT_SAFE``, or a dataclass or enum defined in an
    optimkit module."""
    known = _SAFE_CACHE.get(cls)
    if known is None:
        known = _SAFE_CACHE[cls] = _is_safe_class(cls)
    return known


def _is_safe_class(cls: type) -> bool:
    if cls in _SAFE:
        return True
    if any(_listed(base, _SAFE_BASES) for base in cls.__mro__) or _listed(cls, _OPTIMKIT_SAFE):
        return True
    module = getattr(cls, "__module__", "") or ""
    in_optimkit = module == "optimkit" or module.startswith("optimkit.")
    return in_optimkit and (dataclasses.is_dataclass(cls) or issubclass(cls, enum.Enum))


def _uses_getstate(cls: type) -> bool:
    choice = _SAFE.get(cls)
    if choice is not None:
        return choice
    for klass in cls.__mro__:
        if "__getstate__" in klass.__dict__:
            return klass is not object
    return False


def _ref_name(obj: Any) -> tuple[str, str]:
    return str(getattr(obj, "__module__", None)), str(getattr(obj, "__qualname__", getattr(obj, "__name__", "")))


def _stdlib_allows(module: str, qualname: str) -> bool:
    top = module.split(".", 1)[0]
    if top not in _STDLIB:
        return True
    if module not in _SAFE_STDLIB:
        return False
    names = _SAFE_STDLIB[module]
    return names is None or qualname in names


def _third_party(module: str) -> bool:
    """Whether ``module`` comes from an installed package (site-packages), not from your own code."""
    mod = sys.modules.get(module)
    filename = getattr(mod, "__file__", None)
    if not isinstance(filename, str):
        return module != "__main__"  # built-in or namespace modules count as installed code
    parts = os.path.normpath(filename).split(os.sep)
    return "site-packages" in parts or "dist-packages" in parts


def _refusal(module: str, qualname: str, obj: Any) -> str | None:
    """Why a reference to ``obj`` (found at ``module:qualname``) may not be stored or resolved, or None.

    Allowed: classes outside the standard library; functions of your own modules (``__main__``
    included) and of optimkit; numpy ufuncs; ``math`` and a few harmless builtins. Refused: the rest
    of the standard library and the functions of installed packages (a loaded optimizer calls the
    functions its state names, so a dump may only name functions you wrote)."""
    if not _stdlib_allows(module, qualname):
        return "is in the standard library: a dump cannot name it (wrap it in a function of your own module)"
    top = module.split(".", 1)[0]
    if top in _STDLIB or top == "optimkit" or isinstance(obj, (type, np.ufunc)):
        return None
    if _third_party(module):
        return (
            f"is a function of the installed package {top!r}: a dump names only functions of your own modules "
            "(wrap it in a function of your own module)"
        )
    return None


def _lookup(module: str, qualname: str) -> Any:
    """``module.qualname`` among already-imported modules, through ``__dict__`` lookups only
    (no import, no ``getattr``); KeyError when absent."""
    if not _NAME_RE.match(module) or not _NAME_RE.match(qualname):
        raise KeyError(f"{module}:{qualname}")
    mod = sys.modules.get(module)
    if mod is None:
        raise ModuleNotFoundError(module)
    obj: Any = mod
    for part in qualname.split("."):
        namespace = obj.__dict__ if isinstance(obj, (types.ModuleType, type)) else None
        if namespace is None or part not in namespace:
            raise KeyError(f"{module}:{qualname}")
        obj = namespace[part]
    return obj


def _is_ref_callable(obj: Any) -> bool:
    return isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, np.ufunc, type))


# ---------------------------------------------------------------------------------------- encode
class _Encoder:
    def __init__(self) -> None:
        self.memo: dict[int, int] = {}
        self.keep: list[Any] = []  # keeps temporaries alive, so that their ids stay unique
        self.arrays: dict[str, np.ndarray[Any, Any]] = {}
        self.building: set[int] = set()  # immutable containers being encoded (a cycle through one fails)

    def _new_id(self, obj: Any) -> int:
        n = len(self.keep)
        self.memo[id(obj)] = n
        self.keep.append(obj)
        return n

    def enc(self, obj: Any, path: Any) -> Any:
        cls = type(obj)
        if obj is None or cls is bool or cls is str:
            return obj
        if cls is int:
            return obj if -(2**63) < obj < 2**63 else {"$": "int", "hex": hex(obj)}
        if cls is float:
            return obj if math.isfinite(obj) else {"$": "float", "v": repr(obj)}
        ref = self.memo.get(id(obj))
        if ref is not None:
            if ref in self.building:
                raise PlainDataError(_fmt(path), f"a {cls.__name__} that contains itself cannot be stored")
            return {"$": "ref", "id": ref}
        if cls is complex:
            return {"$": "complex", "re": self.enc(obj.real, path), "im": self.enc(obj.imag, path)}
        if cls is bytes:
            return {"$": "bytes", "b64": base64.b64encode(obj).decode()}
        if cls is slice:
            return {"$": "slice", "v": [self.enc(v, path) for v in (obj.start, obj.stop, obj.step)]}
        if cls is list:
            n = self._new_id(obj)
            return {"$": "list", "id": n, "v": [self.enc(v, (path, "item", i)) for i, v in enumerate(obj)]}
        if cls in (tuple, frozenset):
            n = self._new_id(obj)
            self.building.add(n)
            items = [self.enc(v, (path, "item", i)) for i, v in enumerate(obj)]
            self.building.discard(n)
            return {"$": cls.__name__, "id": n, "v": items}
        if cls is set:
            n = self._new_id(obj)
            return {"$": "set", "id": n, "v": [self.enc(v, (path, "member", None)) for v in obj]}
        if cls is collections.deque:
            n = self._new_id(obj)
            items = [self.enc(v, (path, "item", i)) for i, v in enumerate(obj)]
            return {"$": "deque", "id": n, "v": items, "maxlen": obj.maxlen}
        if cls is dict:
            return self._dict(obj, path)
        if cls is np.ndarray:
            return self._array(obj, path)
        if isinstance(obj, np.generic):
            return self._np_scalar(obj, path)
        if cls is np.dtype or isinstance(obj, np.dtype):
            self._check_dtype(obj, path)
            return {"$": "dtype", "v": obj.str}
        if isinstance(obj, (np.random.RandomState, np.random.Generator, np.random.BitGenerator)):
            return self._random(obj, path)
        if isinstance(obj, types.ModuleType):
            return self._module(obj, path)
        if _is_ref_callable(obj):
            return self._callable(obj, path)
        if isinstance(obj, enum.Enum) and is_safe_class(cls):
            module, qualname = _ref_name(cls)
            return {"$": "enum", "cls": f"{module}:{qualname}", "name": obj.name}
        if is_safe_class(cls):
            return self._instance(obj, cls, path)
        if callable(obj) and not isinstance(obj, type):
            raise PlainDataError(
                _fmt(path),
                f"the callable {_short(obj)} ({cls.__module__}.{cls.__qualname__}) cannot be stored: a dump "
                "names plain functions of your own modules only (wrap it in one)",
            )
        raise PlainDataError(
            _fmt(path),
            f"a {cls.__module__}.{cls.__qualname__} ({_short(obj)}) cannot be stored in a dump: only plain "
            "data, numpy arrays and generators, functions by importable name and optimkit classes can "
            "(optimkit.core.plaindata.register_safe_class allows a class)",
        )

    def _dict(self, obj: dict[Any, Any], path: Any) -> dict[str, Any]:
        n = self._new_id(obj)
        if all(type(k) is str for k in obj):  # the common case (attributes): a JSON object
            return {"$": "sdict", "id": n, "v": {k: self.enc(v, (path, "attr", k)) for k, v in obj.items()}}
        items = []
        for k, v in obj.items():
            key = self.enc(k, (path, "key", k))
            items.append([key, self.enc(v, (path, "attr" if isinstance(k, str) else "item", k))])
        return {"$": "dict", "id": n, "items": items}

    def _check_dtype(self, dtype: np.dtype[Any], path: Any) -> None:
        if dtype.kind not in _ARRAY_KINDS or dtype.hasobject or dtype.fields is not None or dtype.subdtype:
            raise PlainDataError(_fmt(path), f"numpy dtype {dtype} cannot be stored (numeric and bool dtypes only)")

    def _array(self, arr: np.ndarray[Any, Any], path: Any) -> dict[str, Any]:
        self._check_dtype(arr.dtype, path)
        n = self._new_id(arr)
        data = np.ascontiguousarray(arr)
        if data.nbytes <= INLINE_BYTES:
            return {
                "$": "nd", "id": n, "dtype": data.dtype.str, "shape": list(data.shape),
                "b64": base64.b64encode(data.tobytes()).decode(),
            }
        name = f"a{len(self.arrays)}.npy"
        self.arrays[name] = data
        return {"$": "nd", "id": n, "member": name}

    def _np_scalar(self, obj: np.generic, path: Any) -> dict[str, Any]:
        self._check_dtype(obj.dtype, path)
        return {"$": "npscalar", "dtype": obj.dtype.str, "b64": base64.b64encode(obj.tobytes()).decode()}

    def _random(self, obj: Any, path: Any) -> dict[str, Any]:
        n = self._new_id(obj)
        if isinstance(obj, np.random.BitGenerator):
            name = type(obj).__name__
            if _BIT_GENERATORS.get(name) is not type(obj):
                raise PlainDataError(_fmt(path), f"bit generator {type(obj).__qualname__} cannot be stored")
            return {"$": "bitgen", "id": n, "kind": name, "state": self.enc(obj.state, (path, "attr", "state"))}
        if isinstance(obj, np.random.Generator):
            return {"$": "generator", "id": n, "bg": self.enc(obj.bit_generator, (path, "attr", "bit_generator"))}
        if type(obj) not in (np.random.RandomState, _rng.SharedRandomState):
            raise PlainDataError(_fmt(path), f"{type(obj).__qualname__} (a RandomState subclass) cannot be stored")
        node: dict[str, Any] = {"$": "randomstate", "id": n}
        if isinstance(obj, _rng.SharedRandomState):  # first, as the decoder reads it
            node["shared"] = self.enc(obj.generator, (path, "attr", "generator"))
        node["state"] = self.enc(obj.get_state(legacy=False), (path, "attr", "state"))
        return node

    def _module(self, mod: types.ModuleType, path: Any) -> dict[str, Any]:
        name = mod.__name__
        if not (name.startswith("optimkit.") or name == "numpy" or name.startswith("numpy.")):
            raise PlainDataError(_fmt(path), f"module {name} cannot be stored (optimkit and numpy modules only)")
        return {"$": "module", "name": name}

    def _callable(self, obj: Any, path: Any) -> dict[str, Any]:
        module, qualname = _ref_name(obj)
        what = "class" if isinstance(obj, type) else "function"
        if "<" in qualname or not _NAME_RE.match(qualname) or not _NAME_RE.match(module):
            raise PlainDataError(
                _fmt(path),
                f"{what} {_short(obj)} is a lambda or a local {what}: a dump stores functions by importable "
                "name only; define it at the top level of a module",
            )
        try:
            found = _lookup(module, qualname)
        except (KeyError, ModuleNotFoundError):
            found = None
        if found is not obj:
            raise PlainDataError(
                _fmt(path), f"{what} {_short(obj)} cannot be found again as {module}:{qualname}: a dump stores "
                "functions by importable name only"
            )
        refusal = _refusal(module, qualname, obj)
        if refusal is not None:
            raise PlainDataError(_fmt(path), f"{what} {module}.{qualname} {refusal}")
        return {"$": "callable", "ref": f"{module}:{qualname}"}

    def _instance(self, obj: Any, cls: type, path: Any) -> dict[str, Any]:
        module, qualname = _ref_name(cls)
        if "<" in qualname:
            raise PlainDataError(_fmt(path), f"instances of the local class {qualname} cannot be stored")
        n = self._new_id(obj)
        node: dict[str, Any] = {"$": "obj", "id": n, "cls": f"{module}:{qualname}"}
        if _uses_getstate(cls):
            state = obj.__getstate__()
            self.keep.append(state)
            node["state"] = self.enc(state, path)
            return node
        attrs = getattr(obj, "__dict__", None)
        if attrs is not None:
            node["dict"] = self.enc(dict(attrs), path)
        slots = _slots_of(obj, cls)
        if slots:
            node["slots"] = self.enc(slots, path)
        return node


def _slot_names(cls: type) -> tuple[str, ...]:
    names = _SLOTS.get(cls)
    if names is None:
        found: list[str] = []
        for klass in cls.__mro__:
            declared = klass.__dict__.get("__slots__", ())
            for name in (declared,) if isinstance(declared, str) else declared:
                if name not in ("__dict__", "__weakref__") and name not in found:
                    found.append(name)
        names = _SLOTS[cls] = tuple(found)
    return names


def _slots_of(obj: Any, cls: type) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _slot_names(cls):
        try:
            out[name] = object.__getattribute__(obj, name)
        except AttributeError:
            continue
    return out


def _fmt(path: Any) -> str:
    """The readable form of a path in the state, built lazily (``(parent, kind, key)`` tuples):
    ``optimizer.parametrization._constraints[0]``."""
    parts: list[str] = []
    while isinstance(path, tuple):
        path, kind, key = path
        if kind == "attr" and isinstance(key, str) and _NAME_RE.match(key):
            parts.append(f".{key}")
        elif kind == "member":
            parts.append("{}")
        elif kind == "key":
            parts.append(f"<key {_short(key, 24)}>")
        else:
            parts.append(f"[{_short(key, 24)}]")
    return str(path) + "".join(reversed(parts))


def _short(obj: Any, limit: int = 80) -> str:
    try:
        text = repr(obj)
    except Exception:  # noqa: BLE001 - a message must never fail
        text = f"<{type(obj).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def encode(obj: Any, path: str = "optimizer") -> tuple[Any, dict[str, np.ndarray[Any, Any]]]:
    """``obj`` as a JSON-able tree and a dict ``{member name: array}`` of its larger arrays.

    Raises :class:`PlainDataError` (naming the path of the object in the state, starting with
    ``path``) for anything that cannot be stored.
    """
    encoder = _Encoder()
    try:
        tree = encoder.enc(obj, path)
    except RecursionError as exc:
        raise PlainDataError(_fmt(path), "the state is nested too deeply to be stored") from exc
    return tree, encoder.arrays


# ---------------------------------------------------------------------------------------- decode
class _Decoder:
    def __init__(self, arrays: Callable[[str], np.ndarray[Any, Any]]) -> None:
        self.memo: dict[int, Any] = {}
        self.arrays = arrays

    def _fail(self, message: str) -> errors.LoadError:
        return errors.LoadError(message)

    def _remember(self, node: dict[str, Any], obj: Any) -> Any:
        n = node.get("id")
        if type(n) is not int or n in self.memo:
            raise self._fail(f"bad object id {n!r}")
        self.memo[n] = obj
        return obj

    def dec(self, node: Any) -> Any:
        cls = type(node)
        if node is None or cls in (bool, int, float, str):
            return node
        if cls is not dict:
            raise self._fail(f"unexpected {cls.__name__} in the state tree")
        tag = node.get("$")
        method = _TAGS.get(tag) if isinstance(tag, str) else None
        if method is None:
            raise self._fail(f"unknown node type {tag!r}")
        return method(self, node)

    def _items(self, node: dict[str, Any]) -> list[Any]:
        items = node.get("v")
        if type(items) is not list:
            raise self._fail("a container without items")
        return items

    def d_ref(self, node: dict[str, Any]) -> Any:
        n = node.get("id")
        if type(n) is not int or n not in self.memo:
            raise self._fail(f"reference to an unknown or unfinished object {n!r}")
        return self.memo[n]

    def d_int(self, node: dict[str, Any]) -> int:
        text = node.get("hex")
        if not isinstance(text, str) or not re.match(r"^-?0x[0-9a-f]+$", text):
            raise self._fail("bad big integer")
        return int(text, 16)

    def d_float(self, node: dict[str, Any]) -> float:
        text = node.get("v")
        if text not in ("nan", "inf", "-inf"):
            raise self._fail(f"bad float {text!r}")
        return float(text)

    def d_complex(self, node: dict[str, Any]) -> complex:
        re_, im = self.dec(node.get("re")), self.dec(node.get("im"))
        if type(re_) is not float or type(im) is not float:
            raise self._fail("bad complex number")
        return complex(re_, im)

    def d_bytes(self, node: dict[str, Any]) -> bytes:
        return _b64(node.get("b64"))

    def d_slice(self, node: dict[str, Any]) -> slice:
        parts = [self.dec(v) for v in self._items(node)]
        if len(parts) != 3 or not all(v is None or type(v) is int for v in parts):
            raise self._fail("bad slice")
        return slice(*parts)

    def d_list(self, node: dict[str, Any]) -> list[Any]:
        out: list[Any] = self._remember(node, [])
        out.extend(self.dec(v) for v in self._items(node))
        return out

    def d_tuple(self, node: dict[str, Any]) -> tuple[Any, ...]:
        return self._remember(node, tuple(self.dec(v) for v in self._items(node)))  # type: ignore[no-any-return]

    def d_frozenset(self, node: dict[str, Any]) -> frozenset[Any]:
        return self._remember(node, frozenset(self.dec(v) for v in self._items(node)))  # type: ignore[no-any-return]

    def d_set(self, node: dict[str, Any]) -> set[Any]:
        out: set[Any] = self._remember(node, set())
        out.update(self.dec(v) for v in self._items(node))
        return out

    def d_deque(self, node: dict[str, Any]) -> collections.deque[Any]:
        maxlen = node.get("maxlen")
        if maxlen is not None and (type(maxlen) is not int or maxlen < 0):
            raise self._fail(f"bad deque maxlen {maxlen!r}")
        out: collections.deque[Any] = self._remember(node, collections.deque(maxlen=maxlen))
        out.extend(self.dec(v) for v in self._items(node))
        return out

    def d_dict(self, node: dict[str, Any]) -> dict[Any, Any]:
        out: dict[Any, Any] = self._remember(node, {})
        items = node.get("items")
        if type(items) is not list:
            raise self._fail("a dict without items")
        for pair in items:
            if type(pair) is not list or len(pair) != 2:
                raise self._fail("a bad dict item")
            key = self.dec(pair[0])
            try:
                out[key] = self.dec(pair[1])
            except TypeError as exc:  # an unhashable key
                raise self._fail(f"a bad dict key ({exc})") from exc
        return out

    def d_sdict(self, node: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = self._remember(node, {})
        items = node.get("v")
        if type(items) is not dict:
            raise self._fail("a dict without items")
        for key, value in items.items():
            out[key] = self.dec(value)
        return out

    def d_nd(self, node: dict[str, Any]) -> np.ndarray[Any, Any]:
        member = node.get("member")
        if member is not None:
            if not isinstance(member, str):
                raise self._fail("bad array member name")
            return self._remember(node, self.arrays(member))  # type: ignore[no-any-return]
        dtype = _dtype(node.get("dtype"))
        shape = node.get("shape")
        if type(shape) is not list or not all(type(s) is int and s >= 0 for s in shape) or len(shape) > 32:
            raise self._fail(f"bad array shape {shape!r}")
        raw = _b64(node.get("b64"))
        if math.prod(shape) * dtype.itemsize != len(raw):
            raise self._fail(f"array of shape {tuple(shape)} and dtype {dtype} does not match its {len(raw)} bytes")
        arr = np.frombuffer(bytearray(raw), dtype=dtype).reshape(shape)
        return self._remember(node, arr)  # type: ignore[no-any-return]

    def d_npscalar(self, node: dict[str, Any]) -> Any:
        dtype = _dtype(node.get("dtype"))
        raw = _b64(node.get("b64"))
        if len(raw) != dtype.itemsize:
            raise self._fail("bad numpy scalar")
        return np.frombuffer(raw, dtype=dtype)[0]

    def d_dtype(self, node: dict[str, Any]) -> np.dtype[Any]:
        return _dtype(node.get("v"))

    def d_bitgen(self, node: dict[str, Any]) -> np.random.BitGenerator:
        kind = node.get("kind")
        factory = _BIT_GENERATORS.get(kind) if isinstance(kind, str) else None
        if factory is None:
            raise self._fail(f"unknown bit generator {kind!r}")
        bg = self._remember(node, factory())
        try:
            bg.state = self.dec(node.get("state"))
        except (TypeError, ValueError, KeyError) as exc:
            raise self._fail(f"bad {kind} state ({exc})") from exc
        return bg  # type: ignore[no-any-return]

    def d_generator(self, node: dict[str, Any]) -> np.random.Generator:
        bg = self.dec(node.get("bg"))
        if not isinstance(bg, np.random.BitGenerator):
            raise self._fail("a Generator without a bit generator")
        return self._remember(node, np.random.Generator(bg))  # type: ignore[no-any-return]

    def d_randomstate(self, node: dict[str, Any]) -> np.random.RandomState:
        shared = node.get("shared")
        rs: np.random.RandomState
        if shared is None:
            rs = self._remember(node, np.random.RandomState(np.random.MT19937()))
        else:
            rs = _rng.SharedRandomState.__new__(_rng.SharedRandomState)
            self._remember(node, rs)
            gen = self.dec(shared)
            if not isinstance(gen, np.random.Generator):
                raise self._fail("a SharedRandomState without its Generator")
            np.random.RandomState.__init__(rs, gen.bit_generator)
            rs.generator = gen
        state = self.dec(node.get("state"))
        try:
            rs.set_state(state)
        except (TypeError, ValueError, KeyError) as exc:
            raise self._fail(f"bad RandomState state ({exc})") from exc
        return rs

    def d_module(self, node: dict[str, Any]) -> types.ModuleType:
        name = node.get("name")
        if not isinstance(name, str) or not (name.startswith("optimkit.") or name.split(".")[0] == "numpy"):
            raise self._fail(f"module {name!r} cannot be restored (optimkit and numpy modules only)")
        mod = sys.modules.get(name)
        if mod is None:
            raise self._fail(f"module {name} is not imported: import it before loading")
        return mod

    def d_callable(self, node: dict[str, Any]) -> Any:
        ref = node.get("ref")
        if not isinstance(ref, str) or ref.count(":") != 1:
            raise self._fail(f"bad function reference {ref!r}")
        module, qualname = ref.split(":")
        if not _stdlib_allows(module, qualname):
            raise self._fail(f"the dump names {module}.{qualname}, in the standard library: refused")
        try:
            obj = _lookup(module, qualname)
        except ModuleNotFoundError as exc:
            raise self._fail(
                f"the dump refers to {module}.{qualname}, but module {module!r} is not imported: import it "
                "before loading (a dump never imports modules)"
            ) from exc
        except KeyError as exc:
            raise self._fail(f"the dump refers to {module}.{qualname}, which does not exist") from exc
        if not _is_ref_callable(obj) or getattr(obj, "__name__", "") == "<lambda>":
            raise self._fail(f"{module}.{qualname} is not a function or a class")
        refusal = _refusal(module, qualname, obj)
        if refusal is not None:
            raise self._fail(f"the dump names {module}.{qualname}, which {refusal}: refused")
        return obj

    def _class(self, ref: Any) -> type:
        if not isinstance(ref, str) or ref.count(":") != 1:
            raise self._fail(f"bad class name {ref!r}")
        module, qualname = ref.split(":")
        try:
            cls = _lookup(module, qualname)
        except (KeyError, ModuleNotFoundError):
            cls = None
        if not isinstance(cls, type) or not is_safe_class(cls):
            raise self._fail(
                f"the dump names class {module}.{qualname}, which is not an allowed optimkit class "
                "(a dump only rebuilds optimizers, parametrizations and registered classes; import the "
                "module that defines it if it is one)"
            )
        return cls

    def d_enum(self, node: dict[str, Any]) -> Any:
        cls = self._class(node.get("cls"))
        name = node.get("name")
        if not issubclass(cls, enum.Enum) or not isinstance(name, str) or name not in cls.__members__:
            raise self._fail(f"bad enum member {name!r}")
        return cls.__members__[name]

    def d_obj(self, node: dict[str, Any]) -> Any:
        cls: Any = self._class(node.get("cls"))
        obj = self._remember(node, cls.__new__(cls))
        if "state" in node:
            state = self.dec(node["state"])
            setstate = getattr(cls, "__setstate__", None)
            if setstate is not None:
                setstate(obj, state)
            else:
                _default_setstate(obj, state)
            return obj
        attrs = self.dec(node["dict"]) if "dict" in node else None
        slots = self.dec(node["slots"]) if "slots" in node else None
        _default_setstate(obj, (attrs, slots))
        return obj


def _default_setstate(obj: Any, state: Any) -> None:
    attrs, slots = state if isinstance(state, tuple) and len(state) == 2 else (state, None)
    if attrs is not None:
        if type(attrs) is not dict or not all(type(k) is str for k in attrs):
            raise errors.LoadError(f"bad attributes for a {type(obj).__name__}")
        obj.__dict__.update(attrs)
    if slots is not None:
        if type(slots) is not dict or not all(type(k) is str for k in slots):
            raise errors.LoadError(f"bad slots for a {type(obj).__name__}")
        for key, value in slots.items():
            object.__setattr__(obj, key, value)


def _b64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise errors.LoadError("bad binary data")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise errors.LoadError("bad binary data") from exc


def _dtype(text: Any) -> np.dtype[Any]:
    if not isinstance(text, str) or not _DTYPE_RE.match(text):
        raise errors.LoadError(f"dtype {text!r} refused (numeric and bool dtypes only)")
    try:
        dtype = np.dtype(text)
    except TypeError as exc:
        raise errors.LoadError(f"dtype {text!r} refused") from exc
    if dtype.kind not in _ARRAY_KINDS or dtype.hasobject:
        raise errors.LoadError(f"dtype {text!r} refused (numeric and bool dtypes only)")
    return dtype


def check_array_header(dtype: np.dtype[Any], shape: Any, available: int, name: str) -> int:
    """The byte size of an array of ``dtype`` and ``shape``; ``LoadError`` unless the dtype is numeric
    or bool and the size is exactly the ``available`` bytes (checked before anything is allocated)."""
    if dtype.kind not in _ARRAY_KINDS or dtype.hasobject or dtype.fields is not None or dtype.subdtype:
        raise errors.LoadError(f"array {name} has dtype {dtype}: refused (numeric and bool dtypes only)")
    if type(shape) is not tuple or not all(type(s) is int and s >= 0 for s in shape):
        raise errors.LoadError(f"array {name} has a bad shape {shape!r}")
    size = math.prod(shape) * dtype.itemsize
    if size != available:
        raise errors.LoadError(
            f"array {name} claims shape {shape} ({size} bytes of {dtype}) but holds {available} bytes: refused"
        )
    return size


_TAGS: dict[str, Callable[[_Decoder, dict[str, Any]], Any]] = {
    "ref": _Decoder.d_ref, "int": _Decoder.d_int, "float": _Decoder.d_float, "complex": _Decoder.d_complex,
    "bytes": _Decoder.d_bytes, "slice": _Decoder.d_slice, "list": _Decoder.d_list, "tuple": _Decoder.d_tuple,
    "frozenset": _Decoder.d_frozenset, "set": _Decoder.d_set, "deque": _Decoder.d_deque,
    "dict": _Decoder.d_dict, "sdict": _Decoder.d_sdict, "nd": _Decoder.d_nd, "npscalar": _Decoder.d_npscalar, "dtype": _Decoder.d_dtype,
    "bitgen": _Decoder.d_bitgen, "generator": _Decoder.d_generator, "randomstate": _Decoder.d_randomstate,
    "module": _Decoder.d_module, "callable": _Decoder.d_callable, "enum": _Decoder.d_enum, "obj": _Decoder.d_obj,
}


def decode(tree: Any, arrays: dict[str, np.ndarray[Any, Any]] | Callable[[str], np.ndarray[Any, Any]]) -> Any:
    """The object graph of ``tree`` (from :func:`encode`); ``arrays`` maps member names to arrays
    (or is a function reading one). Raises :class:`~optimkit.errors.LoadError` for anything it
    will not build."""
    if isinstance(arrays, dict):
        table = arrays

        def lookup(name: str) -> np.ndarray[Any, Any]:
            if name not in table:
                raise errors.LoadError(f"missing array member {name!r}")
            return table[name]

        reader: Callable[[str], np.ndarray[Any, Any]] = lookup
    else:
        reader = arrays
    try:
        return _Decoder(reader).dec(tree)
    except errors.LoadError:
        raise
    except RecursionError as exc:
        raise errors.LoadError("the state is nested too deeply") from exc
    except (AttributeError, TypeError, ValueError, KeyError, IndexError, OverflowError) as exc:
        raise errors.LoadError(f"a malformed state ({type(exc).__name__}: {exc})") from exc


def is_member_name(name: str) -> bool:
    """Whether ``name`` is a valid array member name of a dump (``a<number>.npy``)."""
    return bool(_MEMBER_RE.match(name))
