"""Results folders under odd conditions (issue 20): lock files that are no regular files, a
full disk, damaged or missing files and checksums, a damaged manifest.

Each case ends in one line that says what happened and what to do, never a traceback, and
never loses or overwrites anything the user had.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest
from cli_runner import cli

import sim.batch.dataset
import sim.batch.output
import sim.study.sweep
from sim.batch.folders import holder, lock_path

ROOT = Path(__file__).resolve().parents[1]
MODEL = str(ROOT / "models" / "haarlem.toml")
TARGETS = str(ROOT / "calibration" / "targets.csv")
SMOKE = ROOT / "experiments" / "smoke.toml"


def one_error_line(err: str, start: str) -> None:
    assert "Traceback" not in err, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith(start), err


def run_into(out: Path) -> list[str]:
    return ["run", MODEL, "-n", "1", "--until", "2019", "--out", str(out), "--quiet",
            "--targets", TARGETS]


# --- lock files --------------------------------------------------------------------------


def test_a_lock_file_that_is_a_symlink_is_refused_and_its_target_kept(tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me\n")
    out = tmp_path / "out"
    lock_path(out).symlink_to(target)
    result = cli(run_into(out))
    assert result.code == 2
    one_error_line(result.err, f"error: {out}: its lock file {lock_path(out)} is a symbolic link, "
                               "not a regular file")
    assert target.read_text() == "keep me\n"  # it was truncated and overwritten with a pid
    assert lock_path(out).is_symlink() and not out.exists()


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_a_lock_file_that_is_no_regular_file_is_refused(tmp_path: Path, kind: str) -> None:
    out = tmp_path / "out"
    lock = lock_path(out)
    os.mkfifo(lock) if kind == "fifo" else lock.mkdir()
    started = time.monotonic()
    result = cli(run_into(out))
    assert time.monotonic() - started < 60
    assert result.code == 2
    what = "a FIFO" if kind == "fifo" else "a folder"
    one_error_line(result.err, f"error: {out}: its lock file {lock} is {what}, not a regular file")
    assert not out.exists()


def test_who_holds_a_folder_is_read_without_blocking_on_a_fifo(tmp_path: Path) -> None:
    out = tmp_path / "out"
    os.mkfifo(lock_path(out))
    assert holder(out) is None  # it blocked for ever reading the FIFO
    lock_path(out).unlink()
    lock_path(out).symlink_to(tmp_path / "elsewhere")
    (tmp_path / "elsewhere").write_text(f"{os.getpid()}\n")
    assert holder(out) is None  # a link is no lock of ours


# --- a full disk -------------------------------------------------------------------------


def full_disk(monkeypatch: pytest.MonkeyPatch, after: int) -> None:
    """Every atomic write after the first ``after`` fails as on a full disk (the result files
    and the manifest alike, wherever they are written from)."""
    real = sim.batch.dataset.write_atomic
    calls = []

    def write(path: Path, data: bytes) -> None:
        calls.append(path)
        if len(calls) > after:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(path, data)

    for module in (sim.batch.dataset, sim.batch.output, sim.study.sweep):
        monkeypatch.setattr(module, "write_atomic", write)


def test_a_full_disk_during_a_run_is_one_line_and_leaves_nothing(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    full_disk(monkeypatch, after=1)
    out = tmp_path / "out"
    result = cli(run_into(out))
    assert result.code == 1
    one_error_line(result.err, "error: ")
    assert "No space left on device; the disk is full: free space on it, then run the same " \
           "command again" in result.err
    assert list(tmp_path.iterdir()) == []  # no folder, no staged folder, no lock file


def test_a_full_disk_during_a_sweep_is_one_line_and_a_rerun_completes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "smoke"
    with monkeypatch.context() as patched:
        full_disk(patched, after=3)  # the manifest and a task's two tables, then nothing
        result = cli(["sweep", str(SMOKE), "--out", str(out), "--workers", "1", "--quiet"])
    assert result.code == 1
    one_error_line(result.err, f"error: smoke stopped: 1 of 6 tasks are in {out}: ")
    assert result.err.rstrip().endswith("No space left on device; the disk is full: free space on "
                                        "it, then run the same command again to compute the rest")
    again = cli(["sweep", str(SMOKE), "--out", str(out), "--workers", "1", "--quiet"])
    assert again.code == 0, again.err
    assert "(5 computed now, 1 already there)" in again.out
