"""Results folders under odd conditions (issue 20): lock files that are no regular files, a
full disk, damaged or missing files and checksums, a damaged manifest.

Each case ends in one line that says what happened and what to do, never a traceback, and
never loses or overwrites anything the user had.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from cli_runner import cli

import sim.batch.dataset
import sim.batch.output
import sim.study.sweep
from sim.batch.dataset import CHECKSUMS, MANIFEST
from sim.batch.folders import holder, lock_path
from sim.study.experiment import read_experiment
from sim.study.sweep import sweep

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
        full_disk(patched, after=4)  # the manifest, the checksum list, a task's two tables
        result = cli(["sweep", str(SMOKE), "--out", str(out), "--workers", "1", "--quiet"])
    assert result.code == 1
    one_error_line(result.err, f"error: smoke stopped: 1 of 6 tasks are in {out}: ")
    assert result.err.rstrip().endswith("No space left on device; the disk is full: free space on "
                                        "it, then run the same command again to compute the rest")
    again = cli(["sweep", str(SMOKE), "--out", str(out), "--workers", "1", "--quiet"])
    assert again.code == 0, again.err
    assert "(5 computed now, 1 already there)" in again.out


# --- checksums ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted sweep of the smoke experiment in this process."""
    out = tmp_path_factory.mktemp("reference") / "smoke"
    sweep(read_experiment(SMOKE), out, workers=1, progress=False)
    return out


def checksum_lines(out: Path) -> list[str]:
    return (out / CHECKSUMS).read_text().splitlines()


def sha256sum_check(out: Path) -> None:
    """``sha256sum -c checksums.sha256`` in ``out`` passes (Python's own check where the tool
    is missing): every line names a file once, with its SHA-256."""
    lines = checksum_lines(out)
    names = [line.split("  ", 1)[1] for line in lines]
    assert len(names) == len(set(names)), lines
    if shutil.which("sha256sum"):
        done = subprocess.run(["sha256sum", "--quiet", "-c", CHECKSUMS], cwd=out, text=True,
                              capture_output=True)
        assert done.returncode == 0, done.stdout + done.stderr
    for line in lines:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest, name


@pytest.mark.slow
def test_checksum_lists_are_sorted_and_equal_for_equal_runs(tmp_path: Path, reference: Path) -> None:
    two = tmp_path / "two"
    result = cli(["sweep", str(SMOKE), "--out", str(two), "--workers", "2", "--quiet"])
    assert result.code == 0, result.err
    assert checksum_lines(two) == checksum_lines(reference)  # in completion order, they differed
    assert checksum_lines(two) == sorted(checksum_lines(two), key=lambda line: line.split("  ")[1])
    sha256sum_check(two)
    runs = [tmp_path / "run1", tmp_path / "run2"]
    for out in runs:
        done = cli(["run", MODEL, "-n", "2", "--until", "2019", "--out", str(out), "--quiet",
                    "--targets", TARGETS])
        assert done.code == 0, done.err
    assert (runs[0] / CHECKSUMS).read_bytes() == (runs[1] / CHECKSUMS).read_bytes()
    sha256sum_check(runs[0])


def test_after_a_repair_sha256sum_passes(tmp_path: Path, reference: Path) -> None:
    out = tmp_path / "smoke"
    shutil.copytree(reference, out)
    other = out / "annual" / "scenario=fewer_places" / "rep-00001.parquet"
    replaced = out / "annual" / "scenario=baseline" / "rep-00001.parquet"
    shutil.copyfile(other, replaced)  # a whole Parquet file, of the right replication and seed
    result = cli(["sweep", str(SMOKE), "--out", str(out), "--workers", "1", "--quiet"])
    assert result.code == 0, result.err
    assert "warning: 1 damaged result file(s) removed and computed again" in result.err
    assert replaced.read_bytes() == (reference / replaced.relative_to(out)).read_bytes()
    sha256sum_check(out)  # the stale line stayed, so sha256sum -c failed
    assert checksum_lines(out) == checksum_lines(reference)


@pytest.fixture(scope="module")
def sampled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sweep of a Morris sample of two factors (six points, one replication, 2019)."""
    folder = tmp_path_factory.mktemp("sampled")
    path = folder / "sampled.toml"
    path.write_text(f"model = {json.dumps(MODEL)}\nreplications = 1\nseed = 8\n"
                    "[horizon]\nend_year = 2019\nwarmup_years = 1\n"
                    '[sample]\nmethod = "morris"\nn = 2\nseed = 3\n'
                    '[parameters."groups.wmo.patience_days"]\nlow = 7.0\nhigh = 120.0\n'
                    '[parameters."returns.gave_up.probability"]\nlow = 0.2\nhigh = 0.8\n')
    out = folder / "sampled"
    sweep(read_experiment(path), out, workers=1, progress=False)
    return out


@pytest.mark.parametrize("command", ["summary", "sensitivity"])
@pytest.mark.parametrize("harm", ["replaced", "missing"])
def test_summary_and_sensitivity_name_a_damaged_or_missing_file(
        tmp_path: Path, reference: Path, sampled: Path, command: str, harm: str) -> None:
    out = tmp_path / "results"
    shutil.copytree(reference if command == "summary" else sampled, out)
    files = sorted((out / "annual").rglob("*.parquet"))
    path = files[0]
    if harm == "replaced":  # reads back whole, with the right keys: only the checksum tells
        shutil.copyfile(next(p for p in files if p.name == path.name and p != path), path)
    else:
        path.unlink()
    result = cli([command, str(out)])
    assert result.code == 2, result.out
    problem = "its SHA-256 differs from the one in" if harm == "replaced" else "missing: "
    one_error_line(result.err, f"error: {path}: damaged result file ({problem}")
    assert result.out == ""


def test_summary_warns_when_there_is_no_checksum_list(tmp_path: Path, reference: Path) -> None:
    out = tmp_path / "smoke"
    shutil.copytree(reference, out)
    (out / CHECKSUMS).unlink()
    result = cli(["summary", str(out)])
    assert result.code == 0, result.err
    assert f"warning: {out / CHECKSUMS} is missing: the result files cannot be checked" in result.out


# --- a damaged manifest ------------------------------------------------------------------


def test_a_damaged_manifest_is_rebuilt_when_the_sweep_runs_again(tmp_path: Path,
                                                                 reference: Path) -> None:
    out = tmp_path / "smoke"
    shutil.copytree(reference, out)
    (out / MANIFEST).write_text('{"kind": "sw')
    summary = cli(["summary", str(out)])  # the data are whole: a summary, with a warning
    assert summary.code == 0, summary.err
    assert f"warning: {out / MANIFEST}: damaged: cannot be read as JSON" in summary.out
    assert "a sweep rebuilds it from its experiment file" in summary.out
    result = cli(["sweep", str(SMOKE), "--out", str(out), "--workers", "1", "--quiet"])
    assert result.code == 0, result.err
    assert f"warning: {out / MANIFEST}: damaged: cannot be read as JSON" in result.err
    assert "rebuilt from" in result.err and "(0 computed now, 6 already there)" in result.out
    rebuilt, before = (json.loads((folder / MANIFEST).read_text()) for folder in (out, reference))
    assert rebuilt["status"] == "complete"
    assert rebuilt["definition_hash"] == before["definition_hash"]
    assert rebuilt["scenarios"] == before["scenarios"]
    again = cli(["summary", str(out)])
    assert again.out.replace(str(out), "X") == cli(["summary", str(reference)]).out.replace(
        str(reference), "X")


def test_a_damaged_manifest_over_another_experiment_s_files_is_refused(
        tmp_path: Path, reference: Path) -> None:
    out = tmp_path / "smoke"
    shutil.copytree(reference, out)
    (out / MANIFEST).write_text("[]")
    other = tmp_path / "other.toml"
    other.write_text(SMOKE.read_text().replace("seed = 7", "seed = 8").replace(
        '"../models/haarlem.toml"', json.dumps(MODEL)))
    result = cli(["sweep", str(other), "--out", str(out), "--workers", "1", "--quiet"])
    assert result.code == 2
    one_error_line(result.err, f"error: {out / MANIFEST}: damaged, and annual/scenario=baseline/"
                               "rep-00000.parquet holds experiment ['smoke'] and seed [7], not other")
    assert (out / MANIFEST).read_text() == "[]"


def test_sensitivity_needs_the_manifest_and_says_how_to_rebuild_it(tmp_path: Path,
                                                                  sampled: Path) -> None:
    out = tmp_path / "sampled"
    shutil.copytree(sampled, out)
    (out / MANIFEST).write_bytes(b"\xff\xfe")
    result = cli(["sensitivity", str(out)])
    assert result.code == 2
    one_error_line(result.err, f"error: {out / MANIFEST}: damaged: cannot be read as JSON")
    assert "a sweep rebuilds it from its experiment file and the data files" in result.err
