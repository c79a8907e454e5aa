"""``pip install optimkit`` without extras, then pytest: the contract suite and the docstring
examples skip (with a reason) what needs torch, Ray or PyNomad, and pass the rest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


@pytest.mark.slow
def test_contract_and_docstrings_skip_cleanly_without_the_extras() -> None:
    env = dict(os.environ, OPTIMKIT_TEST_WITHOUT="torch,ray,PyNomad")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
         str(TESTS / "test_docstrings.py"), str(TESTS / "test_contract.py"), "-k", "not check_improves_on_sphere"],
        capture_output=True, text=True, cwd=TESTS.parent, env=env, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    out = proc.stdout
    assert "skipped" in out and "failed" not in out
    assert "needs torch" in out and "needs PyNomad" in out  # the reasons name the missing extra
