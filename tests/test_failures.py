"""Issue 12: every class of failure reproduced, and what must happen instead.

1. Two processes into one folder: one wins, the other exits 2 naming the folder, nothing is lost.
2. A sweep killed at any write step resumes to the same files, byte for byte.
3. A damaged result file is found on resume and rewritten; ``summary`` names it.
4. No process is left 5 s after a sweep or a calibration is killed; SIGTERM stops like Ctrl-C.
5. Odd values on the command line: exit 2, one line naming the option, before anything runs
   (the experiment file's values, ``"bw" = {}`` included, are in tests/test_experiment.py).
7. A wrong ``--scheduler``: a clear message within the connect timeout, never a hang.
8. ``opvang run`` memory does not grow with the number of replications.

Processes are started as a user starts them; every wait polls with a generous deadline, so
that a loaded machine makes these tests slower, not flaky.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cli_runner import cli

import sim.batch.backends
import sim.cli
import sim.study.calibration.command
import sim.study.sweep
from sim.batch.dataset import CHECKSUMS, damage, read_checksums
from sim.batch.folders import claim
from sim.batch.output import write_run
from sim.batch.runner import run
from sim.model.files import load
from sim.study.experiment import Experiment, read_experiment
from sim.study.sweep import sweep

pytestmark = pytest.mark.slow  # kill, resume and memory tests in processes of their own

psutil = pytest.importorskip("psutil")

ROOT = Path(__file__).resolve().parents[1]
MODEL = str(ROOT / "models" / "haarlem.toml")
SMOKE = ROOT / "experiments" / "smoke.toml"
CALIBRATION = ["--model", MODEL, "--priors", str(ROOT / "calibration/priors.toml"),
               "--targets", str(ROOT / "calibration/targets.csv"),
               "--components", str(ROOT / "calibration/components.toml")]


def parquet_files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}


def hidden(folder: Path) -> list[Path]:
    """Everything under ``folder`` whose name starts with a dot (temporary files, locks)."""
    return [p for p in folder.rglob(".*")]


def smoke_copy(folder: Path, replications: int) -> Path:
    """``experiments/smoke.toml`` with an absolute model path and another number of replications."""
    text = SMOKE.read_text().replace('"../models/haarlem.toml"', json.dumps(MODEL))
    path = folder / "smoke.toml"
    path.write_text(text.replace("replications = 3", f"replications = {replications}"))
    return path


def opvang(*args: str) -> subprocess.Popen[str]:
    """``python -m sim ARGS`` in the repository, stderr captured."""
    return subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=ROOT, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def alive(process: Any) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def one_error_line(err: str, start: str) -> None:
    assert "Traceback" not in err, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith(start), err


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted sweep of the smoke experiment in this process."""
    out = tmp_path_factory.mktemp("reference") / "smoke"
    sweep(read_experiment(SMOKE), out, workers=1, progress=False)
    return out


# --- 1. two processes, one folder --------------------------------------------------------


def test_two_runs_into_one_folder_one_wins_and_nothing_is_lost(tmp_path: Path) -> None:
    out = tmp_path / "X"
    runs = {seed: opvang("run", MODEL, "--replications", "1", "--until", "2021", "--seed", str(seed),
                         "--out", str(out), "--quiet") for seed in (1, 2)}
    ended = {seed: (child.wait(timeout=300), child.communicate()[1]) for seed, child in runs.items()}
    assert sorted(code for code, _ in ended.values()) == [0, 2], ended
    winner = next(seed for seed, (code, _) in ended.items() if code == 0)
    _, err = next(result for result in ended.values() if result[0] == 2)
    one_error_line(err, f"error: {out}: ")
    assert "is being written by another process" in err or "already exists and is not empty" in err
    assert json.loads((out / "manifest.json").read_text())["seed"] == winner
    for path in out.rglob("*.parquet"):
        assert damage(path, 0, winner) is None, path
    assert sorted(p.name for p in (out / "annual" / "scenario=haarlem").iterdir()) == ["rep-00000.parquet"]
    assert hidden(tmp_path) == []  # no lock file, no staged folder


def test_a_claimed_folder_is_refused_before_anything_runs(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    never = pytest.fail  # nothing may be simulated
    monkeypatch.setattr(sim.cli, "write_run", lambda *a, **k: never("simulated"))
    monkeypatch.setattr(sim.study.sweep, "run_task", lambda *a, **k: never("simulated"))
    monkeypatch.setattr(sim.study.calibration.command, "fit", lambda *a, **k: never("fitted"))
    out = tmp_path / "out"
    with claim(out):
        for argv in (["run", MODEL, "--until", "2019", "--out", str(out), "--quiet"],
                     ["sweep", str(SMOKE), "--out", str(out), "--workers", "1", "--quiet"],
                     ["calibrate", "--quick", "--out", str(out), "--workers", "1", "--quiet",
                      *CALIBRATION]):
            result = cli(argv)
            assert result.code == 2, argv
            one_error_line(result.err, f"error: {out}: is being written by another process "
                                       f"(pid {os.getpid()})")
    assert not out.exists()
    assert hidden(tmp_path) == []


def test_a_second_sweep_into_a_running_one_is_refused(tmp_path: Path) -> None:
    path = smoke_copy(tmp_path, 40)
    out = tmp_path / "smoke"
    first = opvang("sweep", str(path), "--out", str(out), "--workers", "1", "--quiet")
    wait_until(lambda: (out / "manifest.json").exists() or first.poll() is not None, 120,
               "the first sweep's manifest")
    assert first.poll() is None, "the first sweep must still run"
    second = cli(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"])
    assert first.poll() is None, "the first sweep must still run"
    assert second.code == 2
    one_error_line(second.err, f"error: {out}: is being written by another process (pid {first.pid})")
    first.send_signal(signal.SIGTERM)  # the first one stops cleanly; the second left no trace
    assert first.wait(timeout=120) == 1, first.communicate()[1]
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["status"] for s in manifest["sessions"]] == ["interrupted"]
    computed = manifest["sessions"][0]["computed"]  # two tables a task; a stop may cut one short
    assert 2 * computed <= len(list(out.rglob("rep-*.parquet"))) <= 2 * computed + 1


# --- 2. a kill at every write step --------------------------------------------------------

WRITE_CALLS = ("open", "write", "ftruncate", "mkdir", "fsync", "replace", "rename", "unlink")


def sweep_in_child(exp: Experiment, out: Path, kill_at: int | None) -> tuple[int, int]:
    """Sweep in a forked child that SIGKILLs itself just before its ``kill_at``-th write call
    (``os.open``, ``os.write``, ``os.mkdir``, ``os.replace``, ...). Returns the wait status
    and the number of write calls the child made (when it was not killed)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: count and kill, sweep, report, leave without cleanup
        real_write, calls = os.write, [0]

        def counted(real: Callable[..., Any]) -> Callable[..., Any]:
            def call(*args: Any, **kwargs: Any) -> Any:
                calls[0] += 1
                if calls[0] == kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)
                return real(*args, **kwargs)
            return call

        code = 3
        try:
            for name in WRITE_CALLS:
                setattr(os, name, counted(getattr(os, name)))
            with redirect_stderr(io.StringIO()):
                sweep(exp, out, workers=1, progress=False)
            code = 0
        finally:
            real_write(write_end, str(calls[0]).encode())
            os._exit(code)
    os.close(write_end)
    deadline = time.monotonic() + 120
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            pytest.fail("the swept child hangs")
        time.sleep(0.01)
    with os.fdopen(read_end) as fh:
        count = fh.read()
    return done[1], int(count or 0)


def test_a_sweep_killed_at_every_write_step_resumes_to_the_same_files(tmp_path: Path) -> None:
    exp = dataclasses.replace(read_experiment(SMOKE), replications=1)  # 2 tasks, 4 files
    whole = tmp_path / "whole"
    status, steps = sweep_in_child(exp, whole, kill_at=None)
    assert status == 0 and steps > 20, (status, steps)
    expected = parquet_files(whole)
    assert len(expected) == 4
    for step in range(1, steps + 1):
        out = tmp_path / f"killed-at-{step}"
        status, _ = sweep_in_child(exp, out, kill_at=step)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, step
        report = sweep(exp, out, workers=1, progress=False)  # resume
        assert parquet_files(out) == expected, step
        assert hidden(out) == [] and not list(tmp_path.glob(".*")), step
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["status"] == "complete", step
        # the killed session says so (or "complete" when it was killed after its last manifest)
        assert {s["status"] for s in manifest["sessions"][:-1]} <= {"killed", "complete"}, step
        assert report.already + report.computed == 2
        assert set(read_checksums(out)) == set(expected), step
        shutil.rmtree(out)


def test_a_sweep_killed_before_its_first_manifest_resumes(tmp_path: Path, reference: Path) -> None:
    out = tmp_path / "d"
    out.mkdir()
    (out / ".manifest.json.1-dead.tmp").write_text("{")
    result = cli(["sweep", str(SMOKE), "--out", str(out), "--workers", "1", "--quiet"])
    assert result.code == 0, result.err
    assert hidden(out) == []
    assert parquet_files(out) == parquet_files(reference)


def test_a_killed_sweep_is_not_running_forever(tmp_path: Path) -> None:
    path = smoke_copy(tmp_path, 40)
    out = tmp_path / "smoke"
    child = opvang("sweep", str(path), "--out", str(out), "--workers", "1", "--quiet")
    wait_until(lambda: len(list(out.rglob("rep-*.parquet"))) >= 2 or child.poll() is not None, 120,
               "the first tasks")
    child.kill()
    child.wait(timeout=60)
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    summary = cli(["summary", str(out)])
    assert summary.code == 0, summary.err
    assert "the sweep is stopped before it finished (killed)" in summary.out


# --- 3. damaged result files -----------------------------------------------------------


def damage_files(out: Path) -> list[str]:
    """Cut one file short, change one byte of another, and cut short a file the checksum list
    does not name (as if killed between its rename and its checksum)."""
    cut = out / "annual" / "scenario=baseline" / "rep-00001.parquet"
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    flipped = out / "daily" / "scenario=fewer_places" / "rep-00002.parquet"
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0x01
    flipped.write_bytes(bytes(data))
    unlisted = out / "annual" / "scenario=fewer_places" / "rep-00000.parquet"
    sums = out / CHECKSUMS
    name = unlisted.relative_to(out).as_posix()
    sums.write_text("".join(line for line in sums.read_text().splitlines(keepends=True)
                            if not line.endswith(f"  {name}\n")))
    unlisted.write_bytes(unlisted.read_bytes()[:-100])
    return [str(p.relative_to(out)) for p in (cut, flipped, unlisted)]


def test_damaged_result_files_are_found_and_rewritten(tmp_path: Path, reference: Path) -> None:
    out = tmp_path / "smoke"
    shutil.copytree(reference, out)
    names = damage_files(out)
    untouched = out / "daily" / "scenario=baseline" / "rep-00001.parquet"
    stamp = untouched.stat().st_mtime_ns
    result = cli(["sweep", str(SMOKE), "--out", str(out), "--workers", "1", "--quiet"])
    assert result.code == 0, result.err
    assert "warning: 3 damaged result file(s) removed and computed again" in result.err
    assert "(3 computed now, 3 already there)" in result.out
    assert parquet_files(out) == parquet_files(reference)
    assert untouched.stat().st_mtime_ns == stamp  # whole files are never rewritten
    session = json.loads((out / "manifest.json").read_text())["sessions"][-1]
    assert sorted(entry.split(" (")[0] for entry in session["damaged_files_rewritten"]) == sorted(names)
    again = cli(["sweep", str(SMOKE), "--out", str(out), "--workers", "1", "--quiet"])
    assert "(0 computed now, 6 already there)" in again.out and "damaged" not in again.err


def test_summary_names_a_damaged_file(tmp_path: Path, reference: Path) -> None:
    out = tmp_path / "smoke"
    shutil.copytree(reference, out)
    cut = out / "annual" / "scenario=baseline" / "rep-00001.parquet"
    cut.write_bytes(cut.read_bytes()[:1000])
    result = cli(["summary", str(out)])
    assert result.code == 2
    one_error_line(result.err, f"error: {cut}: damaged result file (")


# --- 4. no process left behind ---------------------------------------------------------


def killed_leaves_nothing(child: subprocess.Popen[str], sig: int, ready: Callable[[], bool],
                          processes: int = 3) -> str:
    """Wait until ``child`` has ``processes`` descendants and is ``ready``, send ``sig``; every
    process it started must be gone within 5 s. Returns the child's stderr.

    Its descendants come in this order: the resource tracker, the forkserver (which then takes
    about half a second to import the engine), the workers.
    """
    parent = psutil.Process(child.pid)
    wait_until(lambda: (ready() and len(parent.children(recursive=True)) >= processes)
               or child.poll() is not None, 180, f"{processes} processes under the command")
    assert child.poll() is None, child.communicate()[1]
    started = parent.children(recursive=True)
    child.send_signal(sig)
    killed = time.monotonic()
    _, err = child.communicate(timeout=60)
    while any(alive(p) for p in started) and time.monotonic() < killed + 5:
        time.sleep(0.05)
    assert not [p for p in started if alive(p)], f"left behind after 5 s: {started}"
    return err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_no_process_left_after_a_sweep_is_killed(tmp_path: Path, sig: int) -> None:
    path = smoke_copy(tmp_path, 200)
    out = tmp_path / "smoke"
    child = opvang("sweep", str(path), "--out", str(out), "--workers", "2", "--quiet")
    err = killed_leaves_nothing(child, sig, lambda: len(list(out.rglob("rep-*.parquet"))) >= 2)
    if sig == signal.SIGTERM:  # handled like Ctrl-C
        assert child.returncode == 1
        assert "interrupted" in err and "run the same command again" in err
        assert "Traceback" not in err
        assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
        assert hidden(tmp_path) == []


@pytest.mark.parametrize("processes", [2, 3], ids=["while its workers start", "while they work"])
def test_no_process_left_after_a_calibration_is_killed(tmp_path: Path, processes: int) -> None:
    """Killed while the forkserver imports the engine, the command waits for the worker it is
    starting (else that worker, never recorded, prints a traceback after the last line)."""
    out = tmp_path / "fit"
    child = opvang("calibrate", "--quick", "--workers", "2", "--quiet", "--out", str(out), *CALIBRATION)
    err = killed_leaves_nothing(child, signal.SIGTERM, lambda: True, processes)
    assert child.returncode == 1
    assert err.strip().splitlines()[-1] == "interrupted; nothing was written", err
    assert list(tmp_path.iterdir()) == []  # no fit, no staged folder, no lock


def test_an_interrupt_during_a_held_block_comes_at_its_end() -> None:
    reached = []
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C as in a command
    try:
        with pytest.raises(KeyboardInterrupt), sim.batch.backends.interrupts_held():
            signal.raise_signal(signal.SIGINT)
            reached.append("after the signal")
        assert reached == ["after the signal"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_held_sigterm_goes_to_the_handler_that_was_there() -> None:
    received: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    try:
        with sim.batch.backends.interrupts_held():
            signal.raise_signal(signal.SIGTERM)
            signal.raise_signal(signal.SIGTERM)
            assert received == []
        assert received == [signal.SIGTERM]  # delivered once: one stop, as the command handles it
    finally:
        signal.signal(signal.SIGTERM, previous)


# --- 5. odd values on the command line ---------------------------------------------------

ODD: dict[str, tuple[list[str], str]] = {  # name: (arguments, start of the error line)
    "negative seed": (["run", MODEL, "--seed", "-1"], "error: --seed: expected an integer from 0"),
    "seed of 2^63": (["run", MODEL, "--seed", str(2**63)], "error: --seed: expected an integer"),
    "seed of 5,000 digits": (["run", MODEL, "--seed", "9" * 5000], "error: --seed: expected an integer"),
    "seed that is no number": (["run", MODEL, "--seed", "x"], "error: --seed: expected an integer"),
    "until 99999": (["run", MODEL, "--until", "99999"], "error: --until: expected an integer from 1 to 2200"),
    "until before the start": (["run", MODEL, "--until", "2010"], "error: --until: expected a year from"),
    "zero replications": (["run", MODEL, "-n", "0"], "error: --replications: expected an integer from 1"),
    "a million replications": (["run", MODEL, "-n", "1000000"], "error: --replications: expected"),
    "run on zero workers": (["run", MODEL, "--workers", "0"], "error: --workers: expected an integer"),
    "out under a file": (["run", MODEL, "--out", "{file}/x"], "error: --out: {file}/x is under {file}"),
    "out that is a file": (["run", MODEL, "--out", "{file}"], "error: {file}: already exists"),
    "posterior that is a text file": (["run", MODEL, "--posterior", "{file}"],
                                      "error: {file}: not a Parquet"),
    "model that is a folder": (["run", "{dir}"], "error: {dir}: cannot be read"),
    "targets that are a folder": (["run", MODEL, "--targets", "{dir}"], "error: {dir}: cannot be read"),
    "targets that are empty": (["run", MODEL, "--targets", "{empty}"], "error: {empty}: cannot be read"),
    "unknown option": (["run", "--bogus"], "error: unrecognized arguments: --bogus"),
    "no command": ([], "error: the following arguments are required: command"),
    "unknown command": (["runn"], "error: command: invalid choice: 'runn'"),
    "sweep on zero workers": (["sweep", str(SMOKE), "--workers", "0"], "error: --workers: expected"),
    "sweep on 1000 workers": (["sweep", str(SMOKE), "-j", "1000"], "error: --workers: expected"),
    "scheduler that is no address": (["sweep", str(SMOKE), "--scheduler", "not a url"],
                                     "error: --scheduler: expected tcp://HOST:PORT, got 'not a url'"),
    "scheduler port too large": (["sweep", str(SMOKE), "--scheduler", "tcp://localhost:99999"],
                                 "error: --scheduler: expected tcp://HOST:PORT"),
    "sweep out under a file": (["sweep", str(SMOKE), "--out", "{file}/x"], "error: --out: {file}/x is under"),
    "model file as experiment": (["sweep", MODEL], f"error: {MODEL}: "),
    "experiment that is a folder": (["sweep", "{dir}"], "error: {dir}: cannot be read"),
    "zero particles": (["calibrate", "--particles", "0"], "error: --particles: expected an integer from 1"),
    "zero generations": (["calibrate", "--generations", "0"], "error: --generations: expected"),
    "zero check draws": (["calibrate", "--check-draws", "0"], "error: --check-draws: expected"),
    "calibrate on zero workers": (["calibrate", "--workers", "0"], "error: --workers: expected"),
    "negative calibration seed": (["calibrate", "--seed", "-5"], "error: --seed: expected"),
    "particles that are no number": (["calibrate", "--particles", "many"], "error: --particles: expected"),
    "too few particles for a kernel": (["calibrate", "--particles", "5", *CALIBRATION],
                                       "error: --particles: expected at least"),
    "fit under a file": (["calibrate", "--out", "{file}/fit", *CALIBRATION],
                         "error: --out: {file}/fit is under"),
    "years the wrong way round": (["summary", "{dir}", "--years", "2025-2020"],
                                  "error: --years: expected FIRST <= LAST"),
    "years out of range": (["summary", "{dir}", "--years", "0-99999"], "error: --years: expected YEAR"),
    "summary of an empty folder": (["summary", "{dir}"], "error: {dir}: annual: no such table"),
    "check of a folder": (["check", "{dir}"], "error: {dir}: cannot be read"),
}


@pytest.mark.parametrize("case", sorted(ODD))
def test_odd_command_line_values_are_refused(tmp_path: Path, case: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sim.cli, "write_run", lambda *a, **k: pytest.fail("simulated"))
    monkeypatch.setattr(sim.study.sweep, "run_task", lambda *a, **k: pytest.fail("simulated"))
    monkeypatch.setattr(sim.study.calibration.command, "fit", lambda *a, **k: pytest.fail("fitted"))
    inputs = tmp_path / "inputs"
    (inputs / "folder").mkdir(parents=True)
    (inputs / "file.txt").write_text("text")
    (inputs / "empty.csv").write_text("")
    places = {"{file}": str(inputs / "file.txt"), "{dir}": str(inputs / "folder"),
              "{empty}": str(inputs / "empty.csv")}

    def fill(text: str) -> str:
        for key, value in places.items():
            text = text.replace(key, value)
        return text

    argv, start = ODD[case]
    before = sorted(tmp_path.rglob("*"))
    result = cli_exit([fill(arg) for arg in argv], tmp_path)
    assert result.code == 2, result
    one_error_line(result.err, fill(start))
    assert sorted(tmp_path.rglob("*")) == before  # nothing written, no results/ folder


def cli_exit(argv: list[str], cwd: Path) -> SimpleNamespace:
    """Like ``cli``, also when argparse ends the command with SystemExit (its usage errors)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        with redirect_stdout(stdout), redirect_stderr(stderr):
            try:
                code = sim.cli.main(argv)
            except SystemExit as stop:
                code = int(stop.code or 0)
    return SimpleNamespace(code=code, out=stdout.getvalue(), err=stderr.getvalue())


# --- 7. a wrong scheduler ----------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[Callable[[bytes | None], str]]:
    """A TCP server on a free port that answers every connection with ``reply`` (None: silence)."""
    sockets: list[socket.socket] = []

    def start(reply: bytes | None) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        sockets.append(listener)

        def serve() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                sockets.append(conn)
                if reply is not None:
                    conn.sendall(reply)

        threading.Thread(target=serve, daemon=True).start()
        return f"tcp://127.0.0.1:{listener.getsockname()[1]}"

    yield start
    for sock in sockets:
        sock.close()


@pytest.mark.parametrize(("reply", "words"), [
    (None, "within 2 s (the port is open but silent)"),
    (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "answered, but not as a Dask scheduler"),
], ids=["silent", "junk"])
def test_a_port_that_is_no_scheduler(tmp_path: Path, server: Callable[[bytes | None], str],
                                     monkeypatch: pytest.MonkeyPatch, reply: bytes | None,
                                     words: str) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr(sim.batch.backends, "CONNECT_TIMEOUT", 2.0)
    address = server(reply)
    started = time.monotonic()
    result = cli(["sweep", str(SMOKE), "--scheduler", address, "--out", str(tmp_path / "out"),
                  "--quiet"])
    assert time.monotonic() - started < 60
    assert result.code == 2
    one_error_line(result.err, "error: --scheduler: ")
    assert words in result.err
    assert list(tmp_path.iterdir()) == []


def test_a_scheduler_that_is_no_address_ends_at_once(tmp_path: Path) -> None:
    child = opvang("sweep", str(SMOKE), "--scheduler", "not a url", "--out", str(tmp_path / "out"))
    _, err = child.communicate(timeout=60)  # it waited 40 s and printed a traceback
    assert child.returncode == 2
    one_error_line(err, "error: --scheduler: expected tcp://HOST:PORT, got 'not a url'")


def test_a_cluster_without_workers_stops_the_sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(sim.batch.backends, "NO_WORKERS_TIMEOUT", 2.0)
    out = tmp_path / "out"
    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp://",
                                  dashboard_address=None) as cluster:
        result = cli(["sweep", str(SMOKE), "--scheduler", cluster.scheduler_address, "--out", str(out),
                      "--quiet"])
    assert result.code == 1
    assert "has had no workers for 2 s" in result.err and "run the same command again" in result.err
    assert "Traceback" not in result.err
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"


# --- 8. memory ---------------------------------------------------------------------------


def peak_heap(call: Callable[[], object]) -> float:
    """Peak Python heap (numpy and pandas buffers included) during ``call``, in MiB."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def test_run_memory_does_not_grow_with_replications(tmp_path: Path) -> None:
    """``opvang run`` streams each replication to disk: four replications peak where one does.
    ``sim.run`` keeps every table in memory, as ``opvang run`` did: there the same measure
    grows by three replications' tables, so it can tell."""
    model = load(MODEL, {"simulation.end_year": 2020})

    streamed = {n: peak_heap(lambda n=n: write_run(tmp_path / f"out{n}", model, n, 1, progress=False))
                for n in (1, 4)}
    in_memory = {n: peak_heap(lambda n=n: run(model, n, 1, progress=False)) for n in (1, 4)}
    kept = in_memory[4] - in_memory[1]  # three replications' tables
    assert kept > 1.0  # MiB: three daily tables of two years, at least
    assert streamed[4] - streamed[1] < 0.25 * kept, (streamed, in_memory)  # the annual tables
    assert streamed[4] < 1.1 * streamed[1]
