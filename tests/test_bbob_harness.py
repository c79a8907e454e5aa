"""The COCO BBOB harness (benchmarks/bbob.py) on one tiny problem: rows, targets, resume, report."""

from __future__ import annotations

import importlib
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

pytest.importorskip("cocoex")

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


Harness = tuple[ModuleType, ModuleType]


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module("bbob"), importlib.import_module("bbob_report")
    finally:
        sys.path.remove(str(BENCH))


def test_the_51_targets_run_from_1e2_to_1e_minus_8(harness: Harness) -> None:
    bbob, _ = harness
    assert len(bbob.TARGETS) == len(bbob.TARGET_COLUMNS) == 51
    assert bbob.TARGETS[0] == pytest.approx(100.0) and bbob.TARGETS[-1] == pytest.approx(1e-8)
    assert np.allclose(np.diff(np.log10(bbob.TARGETS)), -0.2)
    assert bbob.TARGET_COLUMNS[10] == "evals_1e+0.0"


def test_f_opt_is_the_value_at_the_optimum(harness: Harness) -> None:
    import cocoex
    from cocoex.bare_problem import BareProblem

    problem = cocoex.Suite("bbob", "", "function_indices:8 dimensions:2 instance_indices:3").get_problem(0)
    bare = BareProblem("bbob", 8, 2, 3)
    assert problem(np.asarray(bare.best_parameter())) == pytest.approx(bare.best_value(), abs=1e-12)
    assert problem.final_target_hit


def test_problems_are_built_by_instance_number(harness: Harness) -> None:
    """Instance 6 is instance 6 (the suite's instance_indices:6 would be instance 71 of the year's
    list, whose f_opt is another problem's)."""
    from cocoex.bare_problem import BareProblem

    bbob, _ = harness
    problem, f_opt = bbob.bbob_problem(3, 5, 6)
    bare = BareProblem("bbob", 3, 5, 6)
    x = np.linspace(-2.0, 3.0, 5)
    assert problem.id == "bbob_f003_i06_d05" and f_opt == bare.best_value()
    assert problem(x) == pytest.approx(bare(x), rel=1e-12)
    assert problem(np.asarray(bare.best_parameter())) == pytest.approx(f_opt, abs=1e-9)


def test_dimensions_outside_the_suite_are_refused(harness: Harness, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    bbob, _ = harness
    with pytest.raises(SystemExit):
        bbob.main(["--dims", "8", "--solvers", "RandomSearch", "--csv", str(tmp_path / "x.csv")])
    assert "--dims must be among the bbob suite's dimensions (2, 3, 5, 10, 20, 40)" in capsys.readouterr().err


def test_the_recorder_stops_at_the_budget_and_records_first_hits(harness: Harness) -> None:
    bbob, _ = harness
    values = iter([150.0, 20.0, 50.0, 1.0 + 1e-9, 0.5])  # f_opt = 0
    fun = bbob.Recorder(lambda x: next(values), 0.0, budget=4)
    for _ in range(4):
        fun(np.zeros(2))
    with pytest.raises(bbob.Stop):
        fun(np.zeros(2))
    assert fun.evaluations == 4 and fun.best_delta == pytest.approx(1.0)
    assert fun.hits[:11] == [2, 2, 2, 2, 4, 4, 4, 4, 4, 4, None]  # 1e2..1e1.4 at eval 2, ..1e0.2 at 4, 1e0 never
    assert all(h is None for h in fun.hits[10:])


def _run(bbob: ModuleType, *extra: str) -> int:
    return int(bbob.main(["--functions", "1", "--dims", "2", "--instances", "1", "--budget-multiplier", "20",
                          "--solvers", "RandomSearch,cmaes-IPOP", *extra]))


def test_one_tiny_problem_gives_rows_resume_skips_them_and_the_report_reads_them(
        harness: Harness, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bbob, report = harness
    csv = tmp_path / "bbob.csv"
    assert _run(bbob, "--resume", str(csv)) == 0
    rows = bbob.read_rows(csv)
    assert [r["solver"] for r in rows] == ["RandomSearch", "cmaes-IPOP"]
    for row in rows:
        assert (row["function"], row["dimension"], row["instance"], row["budget"]) == ("1", "2", "1", "40")
        assert sum(c.startswith("evals_1e") for c in row) == 51
        assert 1 <= int(row["evaluations"]) <= 40
        assert float(row["best_delta"]) >= 0.0
        assert 0.0 <= float(row["framework_s"]) <= float(row["wall_s"])
        hits = [int(row[c]) for c in bbob.TARGET_COLUMNS if row[c] != ""]
        assert hits == sorted(hits) and all(1 <= h <= int(row["evaluations"]) for h in hits)
        # the targets reached are a prefix, and the last one reached agrees with the best delta
        reached = [row[c] != "" for c in bbob.TARGET_COLUMNS]
        assert reached == sorted(reached, reverse=True)
        if hits:
            assert float(row["best_delta"]) <= bbob.TARGETS[len(hits) - 1]
        if len(hits) < 51:
            assert float(row["best_delta"]) > bbob.TARGETS[len(hits)]
    assert rows[0]["library"].startswith("optimkit") and rows[1]["library"].startswith("cmaes")

    before = csv.read_text()
    capsys.readouterr()
    assert _run(bbob, "--resume", str(csv)) == 0  # every cell is done: nothing runs
    assert "0 runs to do (2 cells already" in capsys.readouterr().err
    assert csv.read_text() == before
    assert _run(bbob, "--resume", str(csv), "--redo", "cmaes-IPOP") == 0  # one cell again, same seed
    again = bbob.read_rows(csv)
    assert [r["solver"] for r in again] == ["RandomSearch", "cmaes-IPOP"]
    assert [r[c] for r in again for c in bbob.TARGET_COLUMNS] == [r[c] for r in rows for c in bbob.TARGET_COLUMNS]
    with pytest.raises(SystemExit):  # a fresh --csv never overwrites silently
        _run(bbob, "--csv", str(csv))

    pytest.importorskip("matplotlib")
    table_path = tmp_path / "table.md"
    assert report.main([str(csv), "--out", str(tmp_path / "img"), "--table", str(table_path)]) == 0
    table = table_path.read_text()
    assert "| solver | d | runs | ECDF area | reached at 10 x d | framework µs / eval |" in table
    line = next(x for x in table.splitlines() if x.startswith("| RandomSearch | 2 |"))
    t = report.runtimes([rows[0]])
    assert line.split(" | ")[3] == f"{report.ecdf_area(t, 20):.3f}"
    assert (tmp_path / "img" / "bbob_ecdf_d2.png").stat().st_size > 10_000


def test_ecdf_area_and_fractions(harness: Harness) -> None:
    _, report = harness
    times = np.array([0.5, 1.0, 10.0, 100.0, 1000.0, np.inf])
    assert report.ecdf_area(np.array([1.0, 10.0, np.inf]), 100) == pytest.approx(0.5)
    assert report.ecdf_area(times, 1000) == pytest.approx((1 + 1 + 2 / 3 + 1 / 3 + 0 + 0) / 6)
    assert report.fraction_reached(times, 10) == pytest.approx(3 / 6)
    assert math.isnan(report.ecdf_area(np.array([]), 100))
