"""Sweeps: the dataset, resume after a kill, identical tables on every backend, summaries.

The reference is an uninterrupted sweep of ``experiments/smoke.toml`` in one process;
every other way of running it must give the same Parquet files, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from cli_runner import cli

import sim.batch.backends
import sim.study.sweep
from sim.batch.dataset import read_checksums
from sim.batch.tasks import Task, TaskOutput
from sim.input.errors import InputError
from sim.model.files import model_hash
from sim.replication.replicate import run_replication
from sim.study.experiment import read_experiment
from sim.study.results import load
from sim.study.sweep import sweep

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "experiments" / "smoke.toml"
MODEL = ROOT / "models" / "haarlem.toml"
CTRL_C_ABLE = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
               "from sim.cli import main; sys.exit(main(sys.argv[1:]))")


def parquet_files(out: Path) -> dict[str, bytes]:
    """Every Parquet file of a dataset by its relative path."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}


def hidden(out: Path) -> list[Path]:
    return [p for p in out.rglob(".*")]


def smoke_copy(folder: Path, changes: dict[str, str]) -> Path:
    """``experiments/smoke.toml`` with the model path made absolute and text replaced."""
    text = SMOKE.read_text().replace('"../models/haarlem.toml"', json.dumps(str(MODEL)))
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new)
    path = folder / "smoke.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted sweep of the smoke experiment in this process."""
    out = tmp_path_factory.mktemp("reference") / "smoke"
    report = sweep(read_experiment(SMOKE), out, workers=1, progress=False)
    assert (report.total, report.already, report.computed) == (6, 0, 6)
    return out


def test_dataset_layout(reference: Path) -> None:
    expected = {f"{table}/scenario={s}/rep-{r:05d}.parquet"
                for table in ("annual", "daily") for s in ("baseline", "fewer_places") for r in range(3)}
    assert set(parquet_files(reference)) == expected
    assert sorted(p.name for p in reference.iterdir()) == ["annual", "checksums.sha256", "daily",
                                                           "manifest.json"]
    assert hidden(reference) == []
    assert read_checksums(reference) == {  # what sha256sum -c checks
        name: hashlib.sha256(data).hexdigest() for name, data in parquet_files(reference).items()}
    one = pd.read_parquet(reference / "annual" / "scenario=fewer_places" / "rep-00002.parquet")
    assert list(one.columns[:3]) == ["experiment", "replication", "seed"]  # scenario: the folder
    assert set(one["experiment"]) == {"smoke"}
    assert set(one["replication"]) == {2} and set(one["seed"]) == {7}


def test_manifest(reference: Path) -> None:
    manifest = json.loads((reference / "manifest.json").read_text())
    exp = read_experiment(SMOKE)
    assert manifest["kind"] == "sweep"
    assert manifest["experiment"] == "smoke"
    assert manifest["status"] == "complete"
    assert manifest["started"] <= manifest["ended"]
    assert manifest["baseline"] == "baseline"
    assert manifest["seeds"]["seed"] == 7 and manifest["seeds"]["replications"] == [0, 1, 2]
    for name, scenario in exp.scenarios.items():
        entry = manifest["scenarios"][name]
        assert entry["model_hash"] == scenario.hash == model_hash(scenario.model)
        assert entry["overrides"] == scenario.overrides
        assert entry["model"]["simulation"]["end_year"] == 2019
    assert manifest["versions"]["pandas"] == pd.__version__
    assert manifest["git_commit"]
    [session] = manifest["sessions"]
    assert session["status"] == "complete" and session["computed"] == 6
    assert session["backend"] == "this process"


def test_dataset_holds_what_the_engine_computes(reference: Path) -> None:
    exp = read_experiment(SMOKE)
    direct = run_replication(exp.scenarios["fewer_places"].model, 7, 1).annual
    stored = load(reference, "annual")
    stored = stored[(stored["scenario"] == "fewer_places") & (stored["replication"] == 1)]
    pd.testing.assert_frame_equal(stored[list(direct.columns)].reset_index(drop=True), direct,
                                  check_dtype=False)


def test_two_workers_give_identical_files(reference: Path, tmp_path: Path) -> None:
    report = sweep(read_experiment(SMOKE), tmp_path / "smoke", workers=2, progress=False)
    assert report.backend == "2 local processes"
    assert parquet_files(tmp_path / "smoke") == parquet_files(reference)


def test_dask_cluster_gives_identical_files(reference: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  protocol="tcp://", dashboard_address=None) as cluster:
        result = cli(["sweep", str(SMOKE), "--scheduler", cluster.scheduler_address,
                      "--out", str(tmp_path / "smoke"), "--quiet"])
    assert result.code == 0, result.err
    assert "on Dask scheduler" in result.out
    assert parquet_files(tmp_path / "smoke") == parquet_files(reference)


def test_unreachable_scheduler_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr(sim.batch.backends, "CONNECT_TIMEOUT", 1.0)
    result = cli(["sweep", str(SMOKE), "--scheduler", "tcp://127.0.0.1:1",
                  "--out", str(tmp_path / "smoke"), "--quiet"])
    assert result.code == 2
    assert result.err.startswith("error: --scheduler: no Dask scheduler at 'tcp://127.0.0.1:1': the "
                                 "connection was refused")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_killed_sweep_resumes_to_the_same_dataset(tmp_path: Path) -> None:
    path = smoke_copy(tmp_path, {"replications = 3": "replications = 10"})
    out = tmp_path / "smoke"
    child = subprocess.Popen([sys.executable, "-m", "sim", "sweep", str(path), "--out", str(out),
                              "--workers", "1", "--quiet"], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(list(out.rglob("rep-*.parquet"))) < 6 and child.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    written = len(list(out.rglob("rep-*.parquet")))
    assert 6 <= written < 40, "the sweep must be killed mid-run"
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"

    resumed = cli(["sweep", str(path), "--out", str(out), "--workers", "2", "--quiet"])
    assert resumed.code == 0, resumed.err
    assert hidden(out) == []
    whole = tmp_path / "whole"
    sweep(read_experiment(path), whole, workers=1, progress=False)
    assert parquet_files(out) == parquet_files(whole)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert [s["status"] for s in manifest["sessions"]] == ["killed", "complete"]
    assert manifest["sessions"][1]["computed"] < 20


@pytest.mark.slow
def test_ctrl_c_stops_a_pool_and_says_how_to_resume(tmp_path: Path) -> None:
    path = smoke_copy(tmp_path, {"replications = 3": "replications = 10"})
    out = tmp_path / "smoke"
    # Ctrl-C as a terminal sends it, even where this test runs with SIGINT ignored (nohup, CI)
    child = subprocess.Popen([sys.executable, "-c", CTRL_C_ABLE, "sweep", str(path), "--out", str(out),
                              "--workers", "2", "--quiet"], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(list(out.rglob("rep-*.parquet"))) < 2 and child.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 1, err
    assert "interrupted" in err and "run the same command again" in err
    assert "Traceback" not in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert manifest["sessions"][0]["computed"] < 20


def test_failed_task_stops_the_sweep_and_resume_computes_only_the_rest(
        reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = sim.study.sweep.run_task

    def flaky(task: Task) -> TaskOutput:
        calls.append(task)
        if len(calls) == 4:
            raise RuntimeError("worker lost")
        return real(task)

    monkeypatch.setattr(sim.study.sweep, "run_task", flaky)
    out = tmp_path / "smoke"
    stopped = cli(["sweep", str(SMOKE), "--out", str(out), "--workers", "1", "--quiet"])
    assert stopped.code == 1
    assert "worker lost" in stopped.err
    assert "3 of 6 tasks are in" in stopped.err and "run the same command again" in stopped.err
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    assert len(parquet_files(out)) == 6  # three tasks, two tables each

    monkeypatch.setattr(sim.study.sweep, "run_task", real)
    resumed = cli(["sweep", str(SMOKE), "--out", str(out), "--workers", "1", "--quiet"])
    assert resumed.code == 0, resumed.err
    assert "(3 computed now, 3 already there)" in resumed.out
    assert parquet_files(out) == parquet_files(reference)


def test_missing_files_are_recomputed_and_nothing_else(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "smoke"
    shutil.copytree(reference, out)
    (out / "annual" / "scenario=baseline" / "rep-00001.parquet").unlink()
    (out / "daily" / "scenario=fewer_places" / "rep-00002.parquet").unlink()
    (out / "daily" / "scenario=baseline" / ".rep-00000.parquet.123-abc.tmp").write_bytes(b"half")
    untouched = [out / "annual" / "scenario=baseline" / "rep-00000.parquet",
                 out / "daily" / "scenario=baseline" / "rep-00001.parquet"]  # of a recomputed task
    stamps = [p.stat().st_mtime_ns for p in untouched]
    report = sweep(read_experiment(SMOKE), out, workers=1, progress=False)
    assert (report.already, report.computed) == (4, 2)
    assert [p.stat().st_mtime_ns for p in untouched] == stamps  # existing files are never rewritten
    assert hidden(out) == []
    assert parquet_files(out) == parquet_files(reference)


def test_complete_sweep_run_again_computes_nothing(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "smoke"
    shutil.copytree(reference, out)
    result = cli(["sweep", str(SMOKE), "--out", str(out), "--quiet"])
    assert result.code == 0, result.err
    assert "(0 computed now, 6 already there)" in result.out


@pytest.mark.parametrize(("change", "words"), [
    ({'"facilities.velserpoort.schedule.2019-01-01.places" = 28':
      '"facilities.velserpoort.schedule.2019-01-01.places" = 30'}, "scenario fewer_places changed"),
    ({"replications = 3": "replications = 4"}, "changed: replications"),
    ({"[scenarios.fewer_places]": "[scenarios.fewer]"}, "scenario fewer added"),
])
def test_changed_experiment_is_refused(reference: Path, tmp_path: Path, change: dict[str, str],
                                       words: str) -> None:
    out = tmp_path / "smoke"
    shutil.copytree(reference, out)
    before = {str(p): (p.stat().st_mtime_ns, p.read_bytes()) for p in out.rglob("*") if p.is_file()}
    path = smoke_copy(tmp_path, change)
    result = cli(["sweep", str(path), "--out", str(out), "--quiet"])
    assert result.code == 2
    assert result.err.startswith(f"error: {out / 'manifest.json'}: definition_hash: "), result.err
    assert "another definition of experiment smoke" in result.err
    assert words in result.err and "--out" in result.err
    after = {str(p): (p.stat().st_mtime_ns, p.read_bytes()) for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_folder_that_is_not_a_sweep_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "smoke"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = cli(["sweep", str(SMOKE), "--out", str(out), "--quiet"])
    assert result.code == 2
    assert result.err.startswith(f"error: {out}: already exists")
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_load_gives_a_tidy_frame(reference: Path) -> None:
    annual = load(reference, "annual", overrides=False)
    assert list(annual.columns) == ["experiment", "scenario", "replication", "seed",
                                    "year", "metric", "group", "value"]
    keyed = load(reference, "annual")  # with the scenario's override as a column
    places = keyed.groupby("scenario")["facilities.velserpoort.schedule.2019-01-01.places"].first()
    assert places.to_dict() == {"baseline": 30, "fewer_places": 28}
    # run keys as categoricals, the scenarios in the experiment's order
    assert isinstance(annual["scenario"].dtype, pd.CategoricalDtype)
    assert list(annual["scenario"].cat.categories) == ["baseline", "fewer_places"]
    assert isinstance(annual["experiment"].dtype, pd.CategoricalDtype)
    assert list(annual[["scenario", "replication"]].drop_duplicates().itertuples(index=False)) == [
        (s, r) for s in ("baseline", "fewer_places") for r in range(3)]
    rows = annual.groupby(["scenario", "replication"]).size()
    assert rows.nunique() == 1 and rows.iloc[0] > 20
    assert set(annual["year"]) == {2019}
    daily = load(reference, "daily")
    assert list(daily.columns[:4]) == ["experiment", "scenario", "replication", "seed"]
    assert len(daily) == 6 * 365 * daily["facility"].nunique()
    with pytest.raises(InputError, match="events: no such table; found: annual, daily"):
        load(reference, "events")


def test_summary_prints_intervals_and_paired_differences(reference: Path) -> None:
    result = cli(["summary", str(reference)])
    assert result.code == 0, result.err
    assert "experiment smoke" in result.out and "2 scenarios x 3 replications, seed 7" in result.out
    intervals, paired = result.out.split("paired differences against baseline")
    for metric in ("people_without_a_bed", "nights_without_a_bed", "people_sheltered",
                   "mean_wait_for_bed_days", "stays_over_9_months",
                   "bw_waiting_list", "outflow"):
        assert metric in intervals and metric in paired
    annual = load(reference, "annual")
    nights = annual[(annual["metric"] == "people_without_a_bed") & (annual["group"] == "total")].groupby(
        ["replication", "scenario"])["value"].mean().unstack()  # the yearly mean per replication
    difference = nights["fewer_places"] - nights["baseline"]
    row = next(line for line in paired.splitlines() if line.split()[:1] == ["people_without_a_bed"])
    assert row.split()[:4] == ["people_without_a_bed", "total", "fewer_places", "3"]
    assert row.split()[4] == f"{difference.median():,.1f}"  # the median, then the quantiles
    assert row.split()[7] == f"{difference.mean():,.1f}"  # and the mean
    assert "baseline" not in paired.split("\n", 2)[2]  # the baseline is not compared with itself


def test_summary_of_a_missing_folder(tmp_path: Path) -> None:
    result = cli(["summary", str(tmp_path / "nothing")])
    assert result.code == 2
    assert result.err == f"error: {tmp_path / 'nothing'}: no such results folder\n"


def test_posterior_sweep_records_its_draws(tmp_path: Path) -> None:
    pd.DataFrame({"recovery.room_type.single": [1.0, 1.6], "weight": [1.0, 1.0]}).to_parquet(
        tmp_path / "posterior.parquet")
    path = smoke_copy(tmp_path, {"tables = [": 'posterior = "posterior.parquet"\ntables = ['})
    out = tmp_path / "smoke"
    sweep(read_experiment(path), out, workers=1, progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    draws = manifest["posterior"]["draws"]
    assert [d["replication"] for d in draws] == [0, 1, 2]
    assert all(d["values"] == {"recovery.room_type.single": [1.0, 1.6][d["row"]]} for d in draws)
    assert manifest["definition"]["posterior"]["columns"] == ["recovery.room_type.single"]


@pytest.mark.slow
def test_a_script_without_main_guard_is_told_what_to_do(tmp_path: Path) -> None:
    script = tmp_path / "unguarded.py"
    script.write_text(f"import sim\nsim.run_experiment({str(SMOKE)!r}, {str(tmp_path / 'out')!r}, "
                      "workers=2, progress=False)\n")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode != 0
    assert "if __name__ == '__main__':" in done.stderr
    assert not list((tmp_path / "out").rglob("*.parquet"))
