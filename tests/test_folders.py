"""Results folders under odd conditions (issue 20): lock files that are no regular files, a
full disk, damaged or missing files and checksums, a damaged manifest.

Each case ends in one line that says what happened and what to do, never a traceback, and
never loses or overwrites anything the user had.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from cli_runner import cli

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
