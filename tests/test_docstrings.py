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


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
