"""The optimkit command line (run in-process through main(), and once as the installed script)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
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


# -- issue 13, finding 14: one line plus a hint for every user error; Ctrl-C; modules of the current folder


def _write_module(folder: Path, name: str) -> None:
    (folder / f"{name}.py").write_text(
        "import numpy as np\n"
        "def ok(x):\n    return float(np.sum(x ** 2))\n"
        "def noreturn(x):\n    float(np.sum(x ** 2))\n"
        "def boom(x):\n    raise ZeroDivisionError('inside the objective')\n"
        "def interrupt(x):\n    raise KeyboardInterrupt\n"
        "def slow(x):\n    import pathlib, time\n    pathlib.Path('started').touch()\n    time.sleep(0.2)\n"
        "    return float(np.sum(x ** 2))\n"
    )


@pytest.fixture
def cwd_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A module written in a fresh current folder that is not on sys.path; its name."""
    name = f"cli_objectives_{tmp_path.name.replace('-', '_')}"
    _write_module(tmp_path, name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    yield name
    sys.modules.pop(name, None)


def _run(argv: list[str], out: Path) -> int:
    return cli.main(["run", "RandomSearch", "--dim", "2", "--budget", "6", "--no-progress", "--out", str(out), *argv])


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def test_function_from_a_module_in_the_current_folder(cwd_module: str, tmp_path: Path) -> None:
    assert _run(["--function", f"{cwd_module}:ok"], tmp_path / "out") == 0
    assert len((tmp_path / "out" / "RandomSearch-ok-2D-seed0.jsonl").read_text().splitlines()) == 6


def test_objective_without_return_is_one_line_with_a_hint(
    cwd_module: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["--function", f"{cwd_module}:noreturn"], tmp_path / "out") == 2
    err = _one_error_line(capsys)
    assert "None" in err and "forget to return" in err and "hint:" in err


def test_objective_that_raises_is_one_line_and_traceback_on_request(
    cwd_module: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["--function", f"{cwd_module}:boom"], tmp_path / "out") == 2
    err = _one_error_line(capsys)
    assert f"{cwd_module}:boom raised ZeroDivisionError: inside the objective" in err and "--traceback" in err
    assert _run(["--function", f"{cwd_module}:boom", "--traceback"], tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("optimkit: error: the objective")


def test_vector_result_needs_multi_objective(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["--function", "numpy:cos"], tmp_path) == 2
    err = _one_error_line(capsys)
    assert "returned 2 values, not one loss" in err and "--multi-objective" in err
    assert _run(["--function", "numpy:cos", "--multi-objective"], tmp_path) == 0
    row = json.loads((tmp_path / "run-RandomSearch-cos-2D.json").read_text())[0]
    assert row["evaluations"] == 6 and row["pareto points"] >= 1


@pytest.mark.parametrize("kind", ["file", "below a file"])
def test_out_that_cannot_be_a_folder_fails_before_running(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "afile").write_text("keep me")
    out = tmp_path / "afile" if kind == "file" else tmp_path / "afile" / "sub"
    assert _run(["--function", "sphere"], out) == 2
    err = _one_error_line(capsys)
    assert "--out" in err and "hint:" in err
    assert (tmp_path / "afile").read_text() == "keep me"


def test_ctrl_c_in_process_is_one_line_exit_130(
    cwd_module: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["--function", f"{cwd_module}:interrupt"], tmp_path / "out") == 130
    assert "interrupted by Ctrl-C" in _one_error_line(capsys)


def test_sigint_to_the_console_script(tmp_path: Path) -> None:
    _write_module(tmp_path, "slow_objectives")
    exe = shutil.which("optimkit") or str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "optimkit")
    proc = subprocess.Popen(
        [exe, "run", "RandomSearch", "--function", "slow_objectives:slow", "--dim", "2", "--budget", "500",
         "--no-progress"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / "started").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == [
        "optimkit: interrupted by Ctrl-C (hint: the log in the --out folder holds the evaluations made so far)"
    ]
