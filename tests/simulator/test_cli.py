"""`locker-sim`: serve in a real process; the client commands in-process."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.cli import main

LINE_TIMEOUT = 10.0


class Served:
    def __init__(self, args: list[str], run_dir: Path) -> None:
        self.run_dir = run_dir
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "simulator", *args, "--run-dir", str(run_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()
        self.stderr = ""

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))

    def line(self) -> str:
        return self._lines.get(timeout=LINE_TIMEOUT)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=10)
        self._pump_thread.join(timeout=5)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        if not self.proc.stderr.closed:
            self.stderr = self.proc.stderr.read()
            self.proc.stderr.close()
        self.proc.stdout.close()
        return code


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Served]:
    served = Served(["--boards", "1", "--channels", "8"], tmp_path / "run")
    yield served
    served.stop()


def cli(capsys: pytest.CaptureFixture[str], run_dir: Path, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--run-dir", str(run_dir)])
    out, err = capsys.readouterr()
    return code, out, err


def test_serve_prints_the_device_path_and_the_control_address_first(serve: Served) -> None:
    first, second = serve.line(), serve.line()
    match = re.fullmatch(r"serial: (\S+)", first)
    assert match, first
    link = Path(match.group(1))
    assert link.is_symlink() and os.readlink(link).startswith("/dev/pts/")
    assert re.fullmatch(r"control: 127\.0\.0\.1:\d+", second), second
    assert re.fullmatch(r"engine: cpython 3\.\d+\.\d+", serve.line())
    assert (serve.run_dir / "control").read_text().strip() == second.split(" ", 1)[1]
    assert serve.stop() == 0
    assert not link.exists() and not (serve.run_dir / "control").exists()


def test_client_commands_against_a_running_simulator(
    serve: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    serve.line()
    serve.line()
    serve.line()  # engine: ...
    run = serve.run_dir
    assert cli(capsys, run, "force", "A03")[0] == 0
    assert cli(capsys, run, "put", "A03", "--count", "2")[0] == 0
    assert cli(capsys, run, "jam", "A04")[0] == 0
    assert cli(capsys, run, "sensor", "A05", "door", "stuck", "open")[0] == 0
    assert cli(capsys, run, "offline", "1")[0] == 0
    code, out, _ = cli(capsys, run, "status")
    assert code == 0
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 5}
    assert "open" in rows["A03"] and "│ 2 " in rows["A03"]
    assert "jammed" in rows["A04"]
    assert "door sensor stuck open" in rows["A05"]
    assert "board 1 offline" in rows["A01"]
    assert len([r for r in rows if re.fullmatch(r"A0\d", r)]) == 8

    code, _, err = cli(capsys, run, "offline", "9")
    assert code == 1 and "unknown_board" in err and "unit 9" in err
    code, _, err = cli(capsys, run, "open", "A04")
    assert code == 1 and "door_locked: A04" in err

    link = Path(serve.line().split()[3])  # "bus bus0: serial <path> (...)"
    assert cli(capsys, run, "unplug")[0] == 0
    assert not link.exists()
    assert cli(capsys, run, "replug")[0] == 0
    assert link.is_symlink()

    code, out, _ = cli(capsys, run, "stats", "--json")
    assert code == 0 and '"silence_violations"' in out


def test_run_a_scenario_file(
    serve: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve.line()
    serve.line()
    script = tmp_path / "s.toml"
    script.write_text('[[steps]]\nat = 0\ncmd = "force"\ncompartment = "A01"\n'
                      '[[steps]]\nat = 0.1\ncmd = "close"\ncompartment = "A01"\n')  # fmt: skip
    code, out, _ = cli(capsys, serve.run_dir, "run", str(script))
    assert code == 0 and "2 steps, 0 failed" in out
    script.write_text('[[steps]]\nat = 0\ncmd = "open"\ncompartment = "Q01"\n')
    code, _, err = cli(capsys, serve.run_dir, "run", str(script))
    assert code == 1 and "steps[0].compartment: no compartment 'Q01'" in err


def test_a_second_simulator_in_the_same_run_dir_is_refused(serve: Served) -> None:
    serve.line()
    serve.line()
    second = Served([], serve.run_dir)
    assert second.proc.wait(timeout=10) == 2
    second.stop()
    assert "already serving" in second.stderr


def test_no_simulator_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, tmp_path, "status")
    assert code == 1 and "no running simulator found" in err


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ("[[buses]\n", "not valid TOML"),
        ("[[buses]]\nboards = [{ unit = 1 }, { unit = 2 }, { unit = 300 }]\n",
         "buses[0].boards[2].unit: 300 is outside 1..247"),
    ],
)  # fmt: skip
def test_a_bad_layout_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], layout: str, message: str
) -> None:
    path = tmp_path / "layout.toml"
    path.write_text(layout)
    code, out, err = cli(capsys, tmp_path, "serve", "--layout", str(path))
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--channels", "99"], "--channels: 99 is outside 1..48"),
        (["--layout", "x.toml", "--baud", "9600"], "--layout and --baud do not mix"),
        (["--tcp-port", "70000"], "--tcp-port: 70000 is outside 0..65535"),
        (["--auto-open", "-1"], "--auto-open: auto_open_after must be >= 0"),
        (["--format", "8X1"], "--format: '8X1' is not one of"),
    ],
)
def test_bad_flags_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = cli(capsys, tmp_path, "serve", *args)
    assert code == 2 and message in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["open"])
    assert info.value.code == 2
    assert "compartment" in capsys.readouterr().err


def test_serve_never_replaces_a_regular_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    precious = tmp_path / "notes.txt"
    precious.write_text("keep me")
    code, _, err = cli(capsys, tmp_path, "serve", "--link", str(precious))
    assert code == 2 and "is not a symlink" in err
    assert precious.read_text() == "keep me"


def test_status_watch_draws_the_locker_front_until_interrupted(serve: Served) -> None:
    serve.line()
    serve.line()
    subprocess.run(
        [sys.executable, "-m", "simulator", "force", "A02", "--run-dir", str(serve.run_dir)],
        check=True,
        capture_output=True,
        timeout=LINE_TIMEOUT,
    )
    watcher = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator",
            "status",
            "--watch",
            "0.2",
            "--run-dir",
            str(serve.run_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "120", "LINES": "60"},
    )
    # Wait for a first frame on the pipe, then interrupt like a person would.
    assert watcher.stdout is not None
    seen = ""
    while "A08" not in seen:
        chunk = watcher.stdout.readline()
        assert chunk, f"watch ended early: {watcher.stderr.read() if watcher.stderr else ''}"
        seen += chunk
    watcher.send_signal(signal.SIGINT)
    out, _ = watcher.communicate(timeout=LINE_TIMEOUT)
    assert watcher.returncode == 0
    seen += out
    assert "front view" in seen
    lines = seen.splitlines()
    a02 = next(i for i, line in enumerate(lines) if "A02" in line)
    a03 = next(i for i, line in enumerate(lines) if "A03" in line)
    assert "open" in lines[a02 + 1]  # the forced door, in its cell
    assert "closed" in lines[a03 + 1]


def test_status_watch_interval_is_checked(
    serve: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    serve.line()
    serve.line()
    code, _, err = cli(capsys, serve.run_dir, "status", "--watch", "0")
    assert code == 2 and "--watch" in err
