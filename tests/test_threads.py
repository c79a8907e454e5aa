"""Issue 13, finding 8: ask/tell/recommend/dump from several threads lose nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

import optimkit as ok


@pytest.mark.parametrize("name", ["ANSR", "XNES", "SNES", "RandomSearch"])
def test_four_threads_5000_pairs_each(name: str, tmp_path: Path) -> None:
    threads, pairs = 4, 5000
    opt = ok.optimizers.registry[name](parametrization=5, budget=threads * pairs, num_workers=threads, seed=0)
    failures: list[BaseException] = []
    told: list[int] = [0] * threads

    def work(k: int) -> None:
        try:
            for i in range(pairs):
                c = opt.ask()
                opt.tell(c, float(np.sum(c.value**2)))
                told[k] += 1
                if i % 1000 == 0:
                    opt.recommend()
                if k == 0 and i % 2500 == 0:
                    opt.dump(tmp_path / "opt.dump")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion
            failures.append(exc)

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not failures, repr(failures[0])
    assert sum(told) == opt.num_tell == opt.num_ask == threads * pairs
    assert not opt._asked  # every asked candidate was told, none left waiting
    assert opt.recommend().loss is not None and opt.recommend().loss < 1.0
    loaded = ok.load(tmp_path / "opt.dump")
    assert loaded.num_tell <= opt.num_tell


def test_batches_from_two_threads() -> None:
    opt = ok.optimizers.registry["XNES"](parametrization=4, budget=4000, seed=1)
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(100):
                x = opt.ask_batch(10)
                opt.tell_batch(x, np.sum(x**2, axis=1))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion
            failures.append(exc)

    workers = [threading.Thread(target=work) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not failures, repr(failures[0])
    assert opt.num_tell == opt.num_ask == 2000
