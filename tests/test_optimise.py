"""opvang optimise: the [optimise] table's checks, and a tiny search end to end: the same
candidates and selection on 1 and 2 workers and on Dask, resumed after an interruption to the
same result, its dataset readable as a sweep's."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_runner import cli

import sim.study.optimise.store
from sim.batch.dataset import read_checksums
from sim.input.errors import InputError
from sim.study.experiment import read_experiment
from sim.study.optimise.outputs import figures, pareto
from sim.study.optimise.run import run_optimise
from sim.study.results import load
from sim.study.sweep import SweepStoppedError

pytestmark = pytest.mark.slow  # searches, kills and resumes, Dask

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "haarlem.toml"
PLACES = '"facilities.velserpoort.schedule.2019-01-01.places"'
TINY = f"""
description = "A tiny search for the tests: Velserpoort's places and room type in 2019"
model = {json.dumps(str(MODEL))}
replications = 3
seed = 11
[horizon]
end_year = 2019
warmup_years = 1
[scenarios.baseline]
[optimise]
trials = 6
batch = 3
sampler = "tpe"
select = {{ best = 3, delta = 50.0, max_replications = 6, batch = 2 }}
[optimise.variables.{PLACES}]
low = 20
high = 40
step = 5
[optimise.variables."facilities.velserpoort.schedule.2019-01-01.room_type"]
choices = ["dormitory", "two-person"]
[[optimise.objectives]]
metric = "street_nights"
[[optimise.constraints]]
metric = "cost_eur"
groups = ["maatschappelijke_opvang", "housing_first"]
at_most = 200000
relative_to = "baseline"
"""


def tiny(folder: Path, changes: dict[str, str] | None = None) -> Path:
    text = TINY
    for old, new in (changes or {}).items():
        assert old in text
        text = text.replace(old, new)
    path = folder / "tiny.toml"
    path.write_text(text)
    return path


def outputs(out: Path) -> dict[str, object]:
    """What must not depend on how the search ran: the tables, the selection, the task files."""
    folder = out / "optimisation"
    selection = json.loads((folder / "selection.json").read_text())
    selection.pop("experiment_file")  # each test writes its own copy of the file
    return {"candidates": (folder / "candidates.csv").read_text(), "selection": selection,
            "checksums": read_checksums(out)}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("optimise")
    out = folder / "one"
    run_optimise(tiny(folder), out, workers=1, progress=False)
    return out


@pytest.mark.parametrize(("changes", "key"), [
    ({PLACES: '"facilities.velserpoort.schedule.2019-01-01.no_such_key"'}, "optimise.variables"),
    ({"low = 20": "low = 50"}, "optimise.variables"),
    ({"step = 5": "step = -5"}, "step"),
    ({'choices = ["dormitory", "two-person"]': 'choices = ["dormitory", "palace"]'}, "room_type"),
    ({'metric = "street_nights"': 'metric = "street_nights"\nyears = [2030, 2031]'}, "years"),
    ({"at_most = 200000": "at_most = 1\nat_least = 0"}, "optimise.constraints[0]"),
    ({"delta = 50.0": "delta = 0.0"}, "optimise.select.delta"),
    ({"trials = 6": "trials = 0"}, "optimise.trials"),
    ({'sampler = "tpe"': 'sampler = "grid"'}, "optimise.sampler"),
    ({"batch = 3": "batch = 3\nmystery = 1"}, "optimise.mystery"),
    ({'"housing_first"]': '"maatschappelijke_opvang"]'}, "optimise.constraints[0].groups"),
])
def test_bad_optimise_tables_are_refused_naming_the_key(tmp_path: Path, changes: dict[str, str],
                                                        key: str) -> None:
    with pytest.raises(InputError) as err:
        read_experiment(tiny(tmp_path, changes))
    assert key in err.value.key
    result = cli(["check", str(tmp_path / "tiny.toml")])
    assert result.code == 2 and key in result.err


def test_check_describes_the_search(tmp_path: Path) -> None:
    result = cli(["check", str(tiny(tmp_path))])
    assert result.code == 0
    assert "optimise 2 decision variables, 1 objective, 1 constraint: 6 trials (tpe)" in result.out


def test_an_unknown_metric_is_named_when_the_search_starts(tmp_path: Path) -> None:
    path = tiny(tmp_path, {'metric = "street_nights"': 'metric = "street_night"'})
    with pytest.raises(InputError) as err:
        run_optimise(path, tmp_path / "out", workers=1, progress=False)
    assert err.value.key == "optimise.objectives[0].metric"
    assert "did you mean street_nights" in err.value.expected


def test_the_search_writes_candidates_front_selection_and_figures(
        reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = reference / "optimisation"
    table = pd.read_csv(folder / "candidates.csv")
    selection = json.loads((folder / "selection.json").read_text())
    assert table["candidate"].iloc[0] == "baseline" and table["candidate"].is_unique
    assert table["selected"].sum() == 1
    chosen = table[table["selected"]].iloc[0]
    assert chosen["candidate"] == selection["selected"] and chosen["feasible"]
    assert "with probability at least 95% it is within 50" in selection["guarantee"]
    assert selection["simulations"]["search"] == 3 * len(table)
    assert set(pd.read_csv(folder / "front.csv")["candidate"]) <= set(table["candidate"][table["feasible"]])
    assert {"front", "selected_vs_baseline"} == set(figures(reference))
    # from the results alone: `opvang optimise experiments/x.toml` records the path as given,
    # which a notebook in notebooks/ cannot open
    moved = tmp_path / "moved"
    shutil.copytree(reference, moved)
    relative = json.loads((moved / "optimisation" / "selection.json").read_text())
    relative["experiment_file"] = "experiments/not_from_here.toml"
    (moved / "optimisation" / "selection.json").write_text(json.dumps(relative))
    monkeypatch.chdir(tmp_path)
    assert {"front", "selected_vs_baseline"} == set(figures(moved))
    annual = load(reference, "annual")  # the dataset reads as a sweep's, decision values as columns
    assert set(annual["scenario"]) == set(table["candidate"])
    assert PLACES.strip('"') in annual.columns
    cost = annual[(annual["scenario"] == "baseline") & (annual["replication"] < 3)
                  & (annual["metric"] == "cost_eur")
                  & annual["group"].isin(["maatschappelijke_opvang", "housing_first"])]
    summed = cost.groupby(["replication", "year"])["value"].sum().groupby("replication").mean().mean()
    assert table.loc[0, "cost_eur:maatschappelijke_opvang+housing_first mean"] == pytest.approx(summed)


def test_two_workers_give_the_same_search(reference: Path, tmp_path: Path) -> None:
    run_optimise(tiny(tmp_path), tmp_path / "two", workers=2, progress=False)
    assert outputs(tmp_path / "two") == outputs(reference)


@pytest.mark.slow
def test_an_interrupted_search_resumes_to_the_same_result(reference: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path, out = tiny(tmp_path), tmp_path / "cut"
    real = sim.study.optimise.store.write_atomic
    calls = []

    def cut(target: Path, data: bytes) -> None:
        calls.append(target)
        if len(calls) == 14:  # in the search's second round
            raise KeyboardInterrupt
        real(target, data)

    monkeypatch.setattr(sim.study.optimise.store, "write_atomic", cut)
    with pytest.raises(SweepStoppedError):
        run_optimise(path, out, workers=1, progress=False)
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    monkeypatch.setattr(sim.study.optimise.store, "write_atomic", real)
    report = run_optimise(path, out, workers=1, progress=False)
    assert 0 < report.computed < report.selection["simulations"]["total"]
    assert outputs(out) == outputs(reference)
    again = run_optimise(path, out, workers=1, progress=False)
    assert again.computed == 0 and outputs(out) == outputs(reference)


@pytest.mark.slow
def test_a_killed_search_resumes_to_the_same_result(reference: Path, tmp_path: Path) -> None:
    path, out = tiny(tmp_path), tmp_path / "killed"
    process = subprocess.Popen([sys.executable, "-m", "sim", "optimise", str(path), "--out", str(out),
                                "-j", "1", "--quiet"], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(read_checksums(out)) < 8 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 8 <= len(read_checksums(out)) < 33, "killed too late to test a resume"
    result = cli(["optimise", str(path), "--out", str(out), "--workers", "1", "--quiet"])
    assert result.code == 0, result.err
    assert outputs(out) == outputs(reference)
    assert json.loads((out / "manifest.json").read_text())["sessions"][0]["status"] == "killed"


def test_another_definition_is_refused(reference: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="another definition"):
        run_optimise(tiny(tmp_path, {"trials = 6": "trials = 7"}), reference, progress=False)


@pytest.mark.slow
def test_dask_gives_the_same_search(reference: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  protocol="tcp://", dashboard_address=None) as cluster:
        result = cli(["optimise", str(tiny(tmp_path)), "--scheduler", cluster.scheduler_address,
                      "--out", str(tmp_path / "dask"), "--quiet"])
    assert result.code == 0, result.err
    assert "selected:" in result.out and "with probability at least 95%" in result.out
    assert outputs(tmp_path / "dask") == outputs(reference)


def test_pareto_front() -> None:
    means = np.array([[1.0, 5.0], [2.0, 2.0], [3.0, 3.0], [5.0, 1.0], [1.0, 5.0]])
    assert pareto(means, ["minimise", "minimise"]).tolist() == [True, True, False, True, True]
    assert pareto(means, ["maximise", "minimise"]).tolist() == [False, False, False, True, False]
