"""Messages that say what happened (issue 20): errors that cross processes, a closed scheduler
port, a missing baseline scenario, experiment file names, a "did you mean" for every near
key, dated changes that cannot act.

Each test failed against the code before issue 20's fix (a wrong or unhelpful message, a
refusal of a good file, a broken process pool), as its commit says.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pickle
import pkgutil
import shutil
import socket
import time
from pathlib import Path

import pandas as pd
import pytest
from cli_runner import cli

import sim
import sim.batch.backends
import sim.study.sweep
from sim.batch.backends import PoolBackend
from sim.batch.tasks import Task, Variant, run_task
from sim.input.errors import InputError
from sim.model.files import resolve
from sim.study.experiment import read_experiment
from sim.study.sweep import sweep

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "haarlem.toml"
SMOKE = ROOT / "experiments" / "smoke.toml"
HEADER = f"model = {json.dumps(str(MODEL))}\nreplications = 1\nseed = 5\nhorizon = {{ end_year = 2021 }}\n"


def one_error_line(err: str, start: str) -> None:
    assert "Traceback" not in err, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith(start), err


def experiment(folder: Path, body: str, name: str = "exp.toml") -> Path:
    path = folder / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


# --- exceptions that cross processes -------------------------------------------------------


def custom_exceptions() -> list[type[BaseException]]:
    """Every exception class defined in the package."""
    found = []
    for info in pkgutil.walk_packages(sim.__path__, "sim."):
        if info.name.endswith("__main__"):
            continue  # running it is the command line
        module = importlib.import_module(info.name)
        for _, value in vars(module).items():
            if (inspect.isclass(value) and issubclass(value, BaseException)
                    and value.__module__ == module.__name__):
                found.append(value)
    return sorted(set(found), key=lambda c: f"{c.__module__}.{c.__qualname__}")


def test_the_package_has_custom_exceptions() -> None:
    names = {c.__name__ for c in custom_exceptions()}
    assert {"InputError", "BackendError", "SweepStoppedError"} <= names


@pytest.mark.parametrize("kind", custom_exceptions(), ids=lambda c: c.__name__)
def test_every_custom_exception_pickles(kind: type[BaseException]) -> None:
    try:
        required = len([p for p in inspect.signature(kind).parameters.values()
                        if p.default is inspect.Parameter.empty
                        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)])
    except ValueError:  # Exception's own constructor: a message
        required = 1
    error = kind(*(f"value {i}" for i in range(required)))
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is kind
    assert str(back) == str(error) and vars(back) == vars(error)


def test_an_input_error_in_a_worker_process_comes_back_as_itself() -> None:
    """A posterior draw that gives an invalid model is found where the model is built: in the
    worker. Its InputError broke the pool (it could not be unpickled)."""
    bad = Variant(resolve(MODEL), "drawn.toml", {"groups.wmo.patience_days": -1.0})
    tasks = [Task("s", 0, 1, bad, until_year=2019)]
    with PoolBackend(2) as backend, pytest.raises(InputError) as caught:
        list(backend.map(run_task, tasks))
    assert (caught.value.file, caught.value.key) == ("drawn.toml", "groups.wmo.patience_days")
    assert "expected a number > 0" in caught.value.expected


# --- a scheduler port with nothing behind it ---------------------------------------------


def test_a_closed_scheduler_port_is_said_to_be_closed(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr(sim.batch.backends, "CONNECT_TIMEOUT", 5.0)
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # free, and closed once the block ends
    started = time.monotonic()
    result = cli(["sweep", str(SMOKE), "--scheduler", f"tcp://127.0.0.1:{port}", "--out",
                  str(tmp_path / "out"), "--quiet"])
    assert time.monotonic() - started < 4  # it waited the whole timeout, then said "silent"
    assert result.code == 2
    one_error_line(result.err, f"error: --scheduler: no Dask scheduler at 'tcp://127.0.0.1:{port}': "
                               "the connection was refused (nothing listens on that port)")
    assert not (tmp_path / "out").exists()


def test_an_unknown_scheduler_host_is_said_to_be_unknown(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    result = cli(["sweep", str(SMOKE), "--scheduler", "tcp://no-such-host.invalid:8786", "--out",
                  str(tmp_path / "out"), "--quiet"])
    assert result.code == 2
    one_error_line(result.err, "error: --scheduler: no Dask scheduler at "
                               "'tcp://no-such-host.invalid:8786': the host 'no-such-host.invalid' "
                               "is not known")


# --- summary's baseline --------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reference") / "smoke"
    sweep(read_experiment(SMOKE), out, workers=1, progress=False)
    return out


def test_a_baseline_without_results_is_named_as_such(tmp_path: Path, reference: Path) -> None:
    out = tmp_path / "smoke"
    shutil.copytree(reference, out)
    for table in ("annual", "daily"):
        shutil.rmtree(out / table / "scenario=baseline")  # as if the sweep never got to them
    sums = out / "checksums.sha256"
    sums.write_text("".join(line for line in sums.read_text().splitlines(keepends=True)
                            if "scenario=baseline/" not in line))
    result = cli(["summary", str(out)])
    assert result.code == 2
    one_error_line(result.err, f"error: {out}: the experiment's baseline scenario 'baseline' has "
                               "no results here (scenarios with results: fewer_places)")


def test_a_misspelt_baseline_gets_a_suggestion(reference: Path) -> None:
    result = cli(["summary", str(reference), "--baseline", "fewer_place"])
    assert result.code == 2
    one_error_line(result.err, "error: --baseline: expected one of the scenarios: baseline, "
                               "fewer_places; did you mean 'fewer_places'?")


# --- experiment files ---------------------------------------------------------------------


def test_an_experiment_file_named_with_a_space_is_read(tmp_path: Path) -> None:
    path = experiment(tmp_path, "[scenarios.a]\n", name="my first experiment.toml")
    assert read_experiment(path).name == "my_first_experiment"
    result = cli(["check", str(path)])
    assert result.code == 0, result.err
    assert "experiment my_first_experiment: 1 scenario" in result.out


def test_an_explicit_name_must_still_be_a_folder_name(tmp_path: Path) -> None:
    path = experiment(tmp_path, 'name = "my first"\n[scenarios.a]\n', name="x.toml")
    result = cli(["check", str(path)])
    assert result.code == 2
    one_error_line(result.err, f"error: {path}: name: expected letters, digits")


SUGGESTED = {  # body of an experiment file: (key named, the suggestion)
    "misspelt override": (
        '[scenarios.a]\n"facilities.wilhelminastraat.schedule.2021-01-01.place" = 40\n',
        "scenarios.a.facilities.wilhelminastraat.schedule.2021-01-01.place",
        "override of a key that does not exist in {model}; did you mean "
        "'facilities.wilhelminastraat.schedule.2021-01-01.places'?"),
    "misspelt facility in an override": (
        '[scenarios.a]\n"facilities.wilhelminastrat.schedule.2021-01-01.places" = 40\n',
        "scenarios.a.facilities.wilhelminastrat.schedule.2021-01-01.places",
        "did you mean 'facilities.wilhelminastraat.schedule.2021-01-01.places'?"),
    "misspelt top-level key": ('replication = 3\n[scenarios.a]\n', "replication",
                               "did you mean 'replications'?"),
    "misspelt horizon key": ('[scenarios.a]\n', "horizon.end_yaer", "did you mean 'end_year'?"),
    "misspelt grid label key": (
        '[grids.g]\n"groups.wmo.patience_days" = [10, 20]\nlabels.patience_day = ["a", "b"]\n',
        "grids.g.labels.patience_day", "did you mean 'patience_days'?"),
    "misspelt sample factor": (
        '[sample]\nmethod = "morris"\nn = 2\nseed = 1\n[parameters."groups.wmo.patience_dayz"]\n'
        "low = 7.0\nhigh = 120.0\n", "parameters.groups.wmo.patience_dayz",
        "did you mean 'groups.wmo.patience_days'?"),
}


@pytest.mark.parametrize("case", sorted(SUGGESTED))
def test_a_near_key_gets_a_suggestion(tmp_path: Path, case: str) -> None:
    body, key, words = SUGGESTED[case]
    path = experiment(tmp_path, body)
    if case == "misspelt horizon key":
        path.write_text(path.read_text().replace("end_year = 2021", "end_yaer = 2021"))
    result = cli(["check", str(path)])
    assert result.code == 2
    one_error_line(result.err, f"error: {path}: {key}: ")
    assert words.format(model=MODEL) in result.err


def test_a_misspelt_posterior_column_gets_a_suggestion(tmp_path: Path) -> None:
    posterior = tmp_path / "posterior.parquet"
    pd.DataFrame({"groups.wmo.patience_day": [30.0], "weight": [1.0]}).to_parquet(posterior)
    path = experiment(tmp_path, 'posterior = "posterior.parquet"\n[scenarios.a]\n')
    result = cli(["check", str(path)])
    assert result.code == 2
    one_error_line(result.err, f"error: {posterior}: groups.wmo.patience_day: a column that is not a "
                               "key of the model")
    assert "did you mean 'groups.wmo.patience_days'?" in result.err


# --- dated changes that cannot act --------------------------------------------------------


def test_a_scenario_dated_after_the_horizon_is_refused(tmp_path: Path) -> None:
    """It ran, silently equal to its base."""
    path = experiment(tmp_path, '[scenarios.base]\n[scenarios.later]\n'
                                '"facilities.wilhelminastraat.schedule.2025-01-01.places" = 40\n')
    result = cli(["check", str(path)])
    assert result.code == 2
    one_error_line(result.err, f"error: {path}: scenarios.later.facilities.wilhelminastraat.schedule."
                               "2025-01-01.places: dated 2025-01-01, after the horizon's end "
                               "(2021-12-31): it has no effect, so the scenario would equal its base")


def test_a_scenario_dated_before_the_start_and_replaced_is_refused(tmp_path: Path) -> None:
    path = experiment(tmp_path, '[scenarios.a]\n"places.bw.schedule.2000-01-01" = 600\n'
                                '"places.bw.schedule.2001-01-01" = 500\n')
    result = cli(["check", str(path)])
    assert result.code == 2
    one_error_line(result.err, f"error: {path}: scenarios.a.places.bw.schedule.2000-01-01: dated "
                               "2000-01-01, before the run starts (2017-01-01), and replaced then")


def test_a_model_reused_with_a_shorter_horizon_is_warned_about(tmp_path: Path) -> None:
    path = experiment(tmp_path, "[scenarios.a]\n")
    result = cli(["check", str(path)])
    assert result.code == 0, result.err
    assert result.err.startswith(f"warning: {MODEL} (with the horizon of {path}): 10 dated entries "
                                 "have no effect in the run from 2017-01-01 to 2021-12-31: "
                                 "facilities.tijdelijke_nachtopvang.schedule.2022-01-01 (dated "
                                 "2022-01-01, after the horizon's end (2021-12-31)); ")
    assert result.err.endswith("; and 6 more\n") and result.err.count("\n") == 1
    model = tmp_path / "short.toml"
    model.write_text(MODEL.read_text().replace("end_year = 2030", "end_year = 2021"))
    checked = cli(["check", str(model)])
    assert checked.code == 0, checked.err
    assert checked.err.startswith(f"warning: {model}: 10 dated entries have no effect in the run "
                                  "from 2017-01-01 to 2021-12-31: ")
    assert cli(["check", str(MODEL)]).err == ""  # its own horizon: every entry acts


def test_an_input_error_in_a_sweep_s_worker_is_one_line(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    exp = read_experiment(SMOKE)
    bad = Variant(exp.base, "drawn.toml", {"groups.wmo.patience_days": -1.0})
    monkeypatch.setattr(sim.study.sweep, "tasks", lambda exp, skip: iter(
        [Task("baseline", 0, exp.seed, bad, exp.tables, exp.name)]))
    result = cli(["sweep", str(SMOKE), "--out", str(tmp_path / "out"), "--workers", "2", "--quiet"])
    assert result.code == 2
    one_error_line(result.err, "error: drawn.toml: groups.wmo.patience_days: expected a number > 0")
