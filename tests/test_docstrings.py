"""The examples in optimkit's docstrings run (doctest)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import optimkit

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(optimkit.__path__, prefix="optimkit.") if not m.name.endswith("__main__")
)


#: optional dependencies (extras): a module that needs a missing one is skipped, not failed
EXTRAS = {"torch", "ray", "PyNomad", "matplotlib"}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing not in EXTRAS:
            raise
        pytest.skip(f"{name} needs {missing} (an optional extra), which is not installed")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
