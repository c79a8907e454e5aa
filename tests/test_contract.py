"""The contract suite over every registered optimizer."""

from __future__ import annotations

import pytest

import optimkit as ok
from optimkit.testing import contract

# RandomSearch is the baseline: it is not held to the quality bar of the sphere check
CASES = [
    (name, check)
    for name in sorted(ok.optimizers.registry)
    for check in contract.ALL_CHECKS
    if not (check is contract.check_improves_on_sphere and name == "RandomSearch")
]


@pytest.mark.parametrize("name, check", CASES, ids=[f"{n}-{c.__name__}" for n, c in CASES])
def test_contract(name: str, check) -> None:  # type: ignore[no-untyped-def]
    factory = ok.optimizers.registry[name]
    for module in factory.requires:  # an optional extra that is not installed: skip, saying which
        pytest.importorskip(module, reason=f"{name} needs {module} (an optional extra), which is not installed")
    check(factory)
