"""The optimkit command line (run in-process through main(), and once as the installed script)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from optimkit import cli


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "RandomSearch" in out and "Random search" in out


def test_run_writes_table_log_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(
        ["run", "RandomSearch", "--function", "sphere", "--dim", "3", "--budget", "50", "--out", str(tmp_path), "--no-progress"]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "sphere-3D" in out and "best loss" in out
    log = tmp_path / "RandomSearch-sphere-3D-seed0.jsonl"
    lines = log.read_text().splitlines()
    assert len(lines) == 50 and "#loss" in json.loads(lines[0])
    assert (tmp_path / "run-RandomSearch-sphere-3D.png").stat().st_size > 1000
    assert json.loads((tmp_path / "run-RandomSearch-sphere-3D.json").read_text())[0]["evaluations"] == 50


def test_compare_and_user_objective(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(
        [
            "compare", "RandomSearch", "RandomSearch", "--function", "_objectives:shifted_sphere", "--dim", "2",
            "--budget", "30", "--seeds", "2", "--out", str(tmp_path), "--no-progress",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "median best loss" in out and "shifted_sphere-2D" in out
    assert (tmp_path / "compare-shifted_sphere-2D.png").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "Nope", "--function", "sphere", "--dim", "2", "--budget", "5"], "unknown optimizer 'Nope'"),
        (["run", "RandomSearch", "--function", "nofunc", "--dim", "2", "--budget", "5"], "unknown function"),
        (["run", "RandomSearch", "--function", "sphere", "--dim", "0", "--budget", "5"], "--dim must be >= 1"),
        (["run", "RandomSearch", "--function", "no_such_module:f", "--dim", "2", "--budget", "5"], "cannot import"),
    ],
)
def test_errors_are_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_console_script_installed() -> None:
    exe = shutil.which("optimkit") or str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "optimkit")
    proc = subprocess.run([exe, "list"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "RandomSearch" in proc.stdout


@pytest.mark.ray
def test_run_on_a_local_ray(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(
        ["run", "RandomSearch", "--function", "sphere", "--dim", "2", "--budget", "8", "--workers", "2",
         "--ray", "local", "--out", str(tmp_path), "--no-progress"]
    )
    assert code == 0
    assert len((tmp_path / "RandomSearch-sphere-2D-seed0.jsonl").read_text().splitlines()) == 8


def test_list_shows_each_presets_own_settings(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert "sigma=0.04" in lines["ANSRPeriodic"] and "p_self=0.05" in lines["ANSRPeriodic"]
    assert "sigma=0.12" in lines["ANSRUnimodal"] and "p_self=0.95" not in lines["ANSRUnimodal"]
