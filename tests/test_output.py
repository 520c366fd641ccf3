"""``opvang run`` end to end: summary, one Parquet file per replication and table (the layout of
a sweep), manifest, atomic writing, a closed stdout, the targets of the default model."""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from cli_runner import cli

import sim.batch.output
import sim.cli
from sim.engine.log import stage_names
from sim.model.files import load, model_hash, to_jsonable
from sim.study.results import load as load_results

ROOT = Path(__file__).resolve().parents[1]
MODEL = "models/haarlem.toml"
SEED = 424242
ANNUAL_COLUMNS = ["experiment", "replication", "seed", "year", "metric", "group", "value"]
EVENT_COLUMNS = ["client", "time", "group", "from", "to", "facility", "reason"]


def partition(out: Path, table: str, replication: int = 0) -> Path:
    return out / table / "scenario=haarlem" / f"rep-{replication:05d}.parquet"


def table_of(out: Path, name: str) -> pd.DataFrame:
    """Every replication's file of one table, in order."""
    files = sorted((out / name / "scenario=haarlem").glob("rep-*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def hidden_entries(folder: Path) -> list[Path]:
    """Everything under ``folder`` (itself included) whose name starts with a dot."""
    return [p for p in folder.rglob("*") if p.name.startswith(".")]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """One small run shared by the tests of this module (2 replications to 2020)."""
    base = tmp_path_factory.mktemp("run")
    out = base / "out"
    argv = ["run", MODEL, "--replications", "2", "--until", "2020", "--seed", str(SEED),
            "--out", str(out), "--quiet"]
    result = cli(argv)
    result.base, result.path, result.argv = base, out, argv
    return result


@pytest.fixture(scope="module")
def manifest(run: SimpleNamespace) -> dict[str, Any]:
    return json.loads((run.path / "manifest.json").read_text())


def test_run_exits_0(run: SimpleNamespace) -> None:
    assert run.code == 0, run.err
    assert "Traceback" not in run.err
    assert f"results written to {run.path}" in run.out


def test_summary_shows_observed_registrations_2019(run: SimpleNamespace) -> None:
    assert re.search(r"^\s*2019\s+bct_registrations\s+total\s+715\.0\s", run.out, re.M), run.out
    assert "main indicators" in run.out
    assert f"seed {SEED}" in run.out


def test_one_file_per_replication_and_table(run: SimpleNamespace) -> None:
    for table in ("annual", "daily"):
        assert sorted(p.name for p in (run.path / table / "scenario=haarlem").iterdir()) == [
            "rep-00000.parquet", "rep-00001.parquet"]
    assert sorted(p.name for p in run.path.iterdir()) == ["annual", "checksums.sha256", "daily",
                                                          "manifest.json"]


def test_annual_table(run: SimpleNamespace) -> None:
    annual = table_of(run.path, "annual")
    assert list(annual.columns) == ANNUAL_COLUMNS
    assert set(annual["experiment"]) == {"run"}
    assert sorted(annual["replication"].unique()) == [0, 1]
    assert set(annual["seed"]) == {SEED}
    assert set(annual["year"]) == {2019, 2020}
    assert annual["value"].dtype.kind == "f"
    registrations = annual[(annual["metric"] == "bct_registrations")
                           & (annual["group"] == "total") & (annual["year"] == 2019)]
    assert len(registrations) == 2  # one row per replication
    assert (registrations["value"] > 0).all()


def test_hive_dataset_gives_run_keys(run: SimpleNamespace) -> None:
    annual = pd.read_parquet(run.path / "annual")
    assert set(annual["experiment"].astype(str)) == {"run"}
    assert set(annual["scenario"].astype(str)) == {"haarlem"}
    assert len(annual) == len(table_of(run.path, "annual"))
    loaded = load_results(run.path, "annual")
    assert list(loaded.columns[:4]) == ["experiment", "scenario", "replication", "seed"]
    assert len(loaded) == len(annual)


def test_daily_table(run: SimpleNamespace) -> None:
    daily = table_of(run.path, "daily")
    assert list(daily.columns[:3]) == ["experiment", "replication", "seed"]
    assert len(daily.columns) > 3
    assert sorted(daily["replication"].unique()) == [0, 1]
    assert set(daily["seed"]) == {SEED}
    assert (daily["replication"] == 0).sum() == (daily["replication"] == 1).sum() > 0


def test_no_events_table_without_flag(run: SimpleNamespace, manifest: dict[str, Any]) -> None:
    assert not (run.path / "events").exists()
    assert manifest["tables"] == ["annual", "daily"]


def test_manifest(run: SimpleNamespace, manifest: dict[str, Any]) -> None:
    model = load(ROOT / MODEL, overrides={"simulation.end_year": 2020})  # as run with --until
    assert manifest["model_hash"] == model_hash(model)
    assert manifest["seed"] == SEED
    assert manifest["replications"] == 2
    assert (manifest["experiment"], manifest["scenario"]) == ("run", "haarlem")
    for package in ("simpy", "numpy", "pandas"):
        assert manifest["versions"][package] == importlib.metadata.version(package)
    commit = r"[0-9a-f]{40}(\+dirty)?" if (ROOT / ".git").exists() else "unknown"
    assert re.fullmatch(commit, manifest["git_commit"]), manifest["git_commit"]
    resolved = dict(manifest["model"])
    expected = to_jsonable(model)
    assert resolved.pop("source") == MODEL
    expected.pop("source")
    assert resolved == expected


def test_no_temporary_files_left(run: SimpleNamespace) -> None:
    assert hidden_entries(run.base) == []
    assert [p.name for p in run.base.iterdir()] == ["out"]


def test_manifest_records_the_command(run: SimpleNamespace, manifest: dict[str, Any]) -> None:
    assert manifest["command"].split()[1:] == run.argv


def test_manifest_records_the_horizon(manifest: dict[str, Any]) -> None:
    assert manifest.get("until_year", manifest["model"]["simulation"]["end_year"]) == 2020


def test_events_table(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()  # an existing empty folder may be used
    result = cli(["run", MODEL, "--replications", "1", "--until", "2019", "--events",
                  "--out", str(out), "--quiet"])
    assert result.code == 0, result.err
    events = pd.read_parquet(partition(out, "events"))
    assert list(events.columns) == ["experiment", "replication", "seed", *EVENT_COLUMNS]
    assert len(events) > 0
    assert set(events["replication"]) == {0}
    stages = set(stage_names(list(load(MODEL).places)))
    assert set(events["from"].astype(str)) <= stages
    assert set(events["to"].astype(str)) <= stages
    assert events["time"].dtype.kind == "f"
    assert json.loads((out / "manifest.json").read_text())["tables"] == [
        "annual", "daily", "events"]
    assert hidden_entries(tmp_path) == []


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_manifest(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(sim.batch.output, "build_manifest", broken_manifest)
    out = tmp_path / "out"
    result = cli(["run", MODEL, "--replications", "1", "--until", "2019",
                  "--out", str(out), "--quiet"])
    assert result.code == 1
    assert "disk on fire" in result.err
    assert list(tmp_path.iterdir()) == []


def test_interrupted_run_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.cli, "write_run", interrupted)
    out = tmp_path / "out"
    result = cli(["run", MODEL, "--out", str(out), "--quiet"])
    assert result.code == 1
    assert "nothing was written" in result.err
    assert list(tmp_path.iterdir()) == []


def test_python_m_sim_check() -> None:
    done = subprocess.run([sys.executable, "-m", "sim", "check", MODEL], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{MODEL}: ok")


def test_python_m_sim_check_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    done = subprocess.run([sys.executable, "-m", "sim", "check", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: {path}: file not found"


# --- the default model, another folder, a closed stdout, --version ----------------------------

OBSERVED_2019 = re.compile(r"^\s*2019\s+bct_registrations\s+total\s+715\.0\s", re.M)


def test_default_model_prints_the_observed_table(tmp_path: Path) -> None:
    """The fitted model lives in calibration/fitted/: the project's targets are still found."""
    assert sim.cli.default_model() == Path("calibration/fitted/haarlem.toml")
    result = cli(["run", "--replications", "1", "--until", "2019", "--out", str(tmp_path / "out"),
                  "--quiet"])
    assert result.code == 0, result.err
    assert "observed (calibration/targets.csv) beside simulated" in result.out
    assert OBSERVED_2019.search(result.out), result.out


def test_targets_are_found_from_the_model_file_in_another_folder(tmp_path: Path) -> None:
    result = cli(["run", str(ROOT / "calibration/fitted/haarlem.toml"), "--replications", "1",
                  "--until", "2019", "--out", str(tmp_path / "out"), "--quiet"], cwd=tmp_path)
    assert result.code == 0, result.err
    assert f"observed ({ROOT / 'calibration/targets.csv'}) beside simulated" in result.out
    assert OBSERVED_2019.search(result.out)


def test_a_closed_stdout_still_writes_the_results(tmp_path: Path) -> None:
    """``opvang run | head``: results first, then the summary; a closed pipe is no error."""
    out = tmp_path / "out"
    child = subprocess.Popen([sys.executable, "-m", "sim", "run", MODEL, "--replications", "1",
                              "--until", "2019", "--out", str(out), "--quiet"], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # the reader is gone before the first line
    err = child.stderr.read()
    assert child.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err
    assert f"stdout was closed; the results are written to {out}" in err
    assert partition(out, "annual").is_file() and (out / "manifest.json").is_file()


def test_version() -> None:
    done = subprocess.run([sys.executable, "-m", "sim", "--version"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0
    assert done.stdout.strip() == f"opvang {importlib.metadata.version('opvang-sim')}"
