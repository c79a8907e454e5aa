from __future__ import annotations

import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(__file__))

# OPTIMKIT_TEST_WITHOUT=torch,ray,PyNomad makes those packages unimportable in this test process (a
# fault injection: it checks that the suite skips cleanly where an optional extra is not installed)
_BLOCKED = {name for name in os.environ.get("OPTIMKIT_TEST_WITHOUT", "").split(",") if name}
if _BLOCKED:

    class _BlockExtras:
        def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
            if fullname.split(".")[0] in _BLOCKED:
                raise ModuleNotFoundError(f"No module named {fullname!r} (blocked for this test)", name=fullname)
            return None

    sys.meta_path.insert(0, _BlockExtras())
    import importlib.util

    _find_spec = importlib.util.find_spec

    def _find_unblocked(name: str, package: str | None = None) -> object:
        return None if name.split(".")[0] in _BLOCKED else _find_spec(name, package)

    importlib.util.find_spec = _find_unblocked  # type: ignore[assignment]
