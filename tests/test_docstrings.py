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
EXTRAS = {"torch", "ray", "PyNomad", "matplotlib", "optuna", "cmaes"}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing not in EXTRAS:
            raise
        pytest.skip(f"{name} needs {missing} (an optional extra), which is not installed")
    runner = _Runner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    for test in doctest.DocTestFinder().find(module, name):
        runner.run(test)
        if runner.missing:
            pytest.skip(f"{test.name} needs {runner.missing} (an optional extra), which is not installed")
    assert runner.failures == 0, f"{runner.failures} docstring example(s) failed in {name}"


class _Runner(doctest.DocTestRunner):
    """A doctest runner that notes an example stopped by a missing optional extra."""

    missing = ""

    def report_unexpected_exception(self, out, test, example, exc_info):  # type: ignore[no-untyped-def]
        exc = exc_info[1]
        root = (getattr(exc, "name", None) or "").split(".")[0]
        if isinstance(exc, ImportError) and root in EXTRAS:
            self.missing = root
            return
        super().report_unexpected_exception(out, test, example, exc_info)
