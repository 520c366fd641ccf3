"""Experiment files: parsing, grid expansion, posterior draws, and bad files.

A bad experiment file gets one error naming the file and the key (exit code 2 through the
command line) and nothing is written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from cli_runner import cli

from sim.errors import InputError
from sim.experiment import definition_hash, read_experiment, tasks
from sim.modelfile import load, model_hash
from sim.tasks import task_model

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "haarlem.toml"
VP21 = "facilities.velserpoort.schedule.2021-01-01"
HEADER = f"""model = {json.dumps(str(MODEL))}
replications = 2
seed = 5
horizon = {{ end_year = 2020 }}
"""


def write(folder: Path, body: str, name: str = "exp.toml", header: str = HEADER) -> Path:
    path = folder / name
    path.write_text(header + body, encoding="utf-8")
    return path


def posterior_file(folder: Path, columns: dict[str, list[object]], weights: list[float]) -> Path:
    path = folder / "posterior.parquet"
    pd.DataFrame({**columns, "weight": weights}).to_parquet(path, index=False)
    return path


# --- good files ---------------------------------------------------------------------------


def test_smoke_experiment() -> None:
    exp = read_experiment(ROOT / "experiments" / "smoke.toml")
    assert exp.name == "smoke"
    assert list(exp.scenarios) == ["baseline", "fewer_places"]
    assert exp.baseline == "baseline"
    assert (exp.replications, exp.seed, exp.tables) == (3, 7, ("annual", "daily"))
    base = load(MODEL, {"simulation.end_year": 2019, "simulation.warmup_years": 1})
    assert exp.scenarios["baseline"].hash == model_hash(base)
    fewer = exp.scenarios["fewer_places"].model
    assert fewer.facilities["velserpoort"].schedule["2019-01-01"].places == 28
    assert fewer.simulation.end_year == 2019
    assert base.facilities["velserpoort"].schedule["2019-01-01"].places == 30


def test_velserpoort_experiment() -> None:
    exp = read_experiment(ROOT / "experiments" / "velserpoort_fewer_places.toml")
    assert exp.replications == 20
    assert exp.horizon == {"end_year": 2025}
    fewer = exp.scenarios["fewer_places"].model.facilities["velserpoort"].schedule["2021-01-01"]
    assert fewer.places == 28
    assert fewer.room_type == "two-person"  # only the places change


def test_tasks_share_seed_and_replication_across_scenarios() -> None:
    exp = read_experiment(ROOT / "experiments" / "smoke.toml")
    keys = [(t.scenario, t.replication, t.seed) for t in tasks(exp)]
    assert keys == [(s, r, 7) for r in range(3) for s in ("baseline", "fewer_places")]
    assert [t.replication for t in tasks(exp, skip={("baseline", 0), ("fewer_places", 2)})] == [0, 1, 1, 2]


def test_grid_expands_to_the_product(tmp_path: Path) -> None:
    exp = read_experiment(write(tmp_path, f"""
[scenarios.baseline]
[grids.rooms]
"{VP21}.room_type" = ["single", "two-person"]
"{VP21}.places" = [28, 42]
"""))
    assert list(exp.scenarios) == [
        "baseline", "rooms__room_type-single__places-28", "rooms__room_type-single__places-42",
        "rooms__room_type-two-person__places-28", "rooms__room_type-two-person__places-42"]
    point = exp.scenarios["rooms__room_type-single__places-28"]
    assert point.overrides == {f"{VP21}.room_type": "single", f"{VP21}.places": 28}
    assert point.origin == "grids.rooms"
    entry = point.model.facilities["velserpoort"].schedule["2021-01-01"]
    assert (entry.room_type, entry.places) == ("single", 28)
    # the grid point that equals the baseline resolves to the same model
    assert exp.scenarios["rooms__room_type-two-person__places-42"].hash == exp.scenarios["baseline"].hash
    assert exp.scenarios["rooms__room_type-single__places-28"].hash != exp.scenarios["baseline"].hash


def test_grid_names_tell_keys_with_the_same_last_part_apart(tmp_path: Path) -> None:
    exp = read_experiment(write(tmp_path, """
[grids.winter]
"facilities.velserpoort.winter_places" = [0]
"facilities.wilhelminastraat.winter_places" = [30]
"""))
    assert list(exp.scenarios) == ["winter__velserpoort.winter_places-0__wilhelminastraat.winter_places-30"]


def test_nested_tables_are_dotted_keys(tmp_path: Path) -> None:
    dotted = read_experiment(write(tmp_path, f'[scenarios.a]\n"{VP21}.places" = 30\n', "a.toml"))
    nested = read_experiment(write(tmp_path, f"[scenarios.a.{VP21}]\nplaces = 30\n", "b.toml"))
    assert dotted.scenarios["a"].overrides == nested.scenarios["a"].overrides
    assert dotted.scenarios["a"].hash == nested.scenarios["a"].hash


def test_definition_hash_follows_what_determines_results(tmp_path: Path) -> None:
    def hash_of(body: str, header: str = HEADER) -> str:
        return definition_hash(read_experiment(write(tmp_path, body, header=header)))

    base = hash_of(f'[scenarios.a]\n"{VP21}.places" = 30\n')
    assert hash_of(f'[scenarios.a]\n"{VP21}.places" = 30\n') == base
    assert hash_of(f'description = "words"\n[scenarios.a]\n"{VP21}.places" = 30\n') == base
    assert hash_of(f'[scenarios.a]\n"{VP21}.places" = 31\n') != base
    assert hash_of(f'[scenarios.b]\n"{VP21}.places" = 30\n') != base
    assert hash_of(f'[scenarios.a]\n"{VP21}.places" = 30\n', HEADER.replace("seed = 5", "seed = 6")) != base


def test_posterior_draws_are_overrides_by_weight(tmp_path: Path) -> None:
    key = "recovery.room_type.single"
    posterior_file(tmp_path, {key: [1.1, 1.2, 1.5], "groups.wmo.patience_days": [10.0, 20.0, 30.0]},
                   [0.0, 1.0, 3.0])
    exp = read_experiment(write(tmp_path, f"""posterior = "posterior.parquet"
[scenarios.baseline]
[scenarios.fixed_single]
"{key}" = 1.0
""", header=HEADER.replace("replications = 2", "replications = 40")))
    assert exp.posterior is not None
    rows = [exp.posterior.draw(exp.seed, r) for r in range(40)]
    assert set(rows) == {1, 2}  # weight 0 is never drawn
    assert 20 < rows.count(2) < 40  # about three quarters
    again = read_experiment(exp.file)
    assert again.posterior is not None
    assert [again.posterior.draw(exp.seed, r) for r in range(40)] == rows
    for task in tasks(exp):
        row = rows[task.replication]
        model = task_model(task)  # built where the task runs, by sim.posterior.apply_draw
        assert model.groups["wmo"].patience_days == [10.0, 20.0, 30.0][row]
        single = model.recovery.room_type["single"]
        assert single == (1.0 if task.scenario == "fixed_single" else [1.1, 1.2, 1.5][row])


def test_a_posterior_draw_does_not_depend_on_the_number_of_replications(tmp_path: Path) -> None:
    posterior_file(tmp_path, {"recovery.room_type.single": [1.1, 1.2, 1.5]}, [1.0, 1.0, 1.0])
    short = read_experiment(write(tmp_path, 'posterior = "posterior.parquet"\n[scenarios.a]\n', "a.toml"))
    long = read_experiment(write(tmp_path, 'posterior = "posterior.parquet"\n[scenarios.a]\n', "b.toml",
                                 header=HEADER.replace("replications = 2", "replications = 9")))
    assert short.posterior is not None and long.posterior is not None
    assert [short.posterior.draw(5, r) for r in range(2)] == [long.posterior.draw(5, r) for r in range(2)]
    assert len({long.posterior.draw(5, r) for r in range(9)}) > 1


# --- bad files ----------------------------------------------------------------------------

BAD = {  # name: (body after the header, expected key, words of the message)
    "unknown key": ("replicatons = 3\n[scenarios.a]\n", "replicatons", "unknown key"),
    "override of a key that does not exist": (
        f'[scenarios.a]\n"{VP21}.plces" = 28\n', f"scenarios.a.{VP21}.plces", "does not exist"),
    "override of a facility that does not exist": (
        '[scenarios.a]\n"facilities.nowhere.winter_places" = 3\n',
        "scenarios.a.facilities.nowhere.winter_places", "does not exist"),
    "override of the wrong type": (
        f'[scenarios.a]\n"{VP21}.places" = "many"\n', f"scenarios.a.{VP21}.places", "expected an integer"),
    "override with a bad value": (
        f'[scenarios.a]\n"{VP21}.places" = -5\n', f"scenarios.a.{VP21}.places",
        "expected a number from 0 to"),
    "grid value that is not a list": (
        f'[grids.g]\n"{VP21}.places" = 28\n', f"grids.g.{VP21}.places", "expected a non-empty list"),
    "grid key that does not exist": (
        f'[grids.g]\n"{VP21}.rooms" = [1, 2]\n', f"grids.g.{VP21}.rooms", "does not exist"),
    "grid value that gives a bad model": (
        f'[grids.g]\n"{VP21}.room_type" = ["single", "tent"]\n', f"grids.g.{VP21}.room_type",
        "expected one of"),
    "grid name used twice": (
        f'[scenarios."g__places-28"]\n[grids.g]\n"{VP21}.places" = [28]\n', "grids.g", "already used"),
    "baseline that is not a scenario": ('baseline = "base"\n[scenarios.a]\n', "baseline",
                                        "expected one of the scenarios"),
    "no scenarios": ("", "scenarios", "at least one scenario"),
    "scenario name that is no folder name": ('[scenarios."a/b"]\n', "scenarios.a/b", "folder name"),
    "scenario that is not a table": ("scenarios = 3\n", "scenarios", "expected tables"),
    "horizon before the start": ("[scenarios.a]\n", "horizon.end_year", "expected a year from 2019"),
    "zero replications": ("[scenarios.a]\n", "replications", "expected an integer from 1 to 100000"),
    "too many replications": ("[scenarios.a]\n", "replications", "from 1 to 100000, got 1000000"),
    "negative seed": ("[scenarios.a]\n", "seed", f"expected an integer from 0 to {2**63 - 1}"),
    "seed beyond 2^63": ("[scenarios.a]\n", "seed", f"from 0 to {2**63 - 1}, got {2**63}"),
    "end year far away": ("[scenarios.a]\n", "horizon.end_year", "from 1 to 2200, got 1000000000000"),
    "warm-up of a million years": ("[scenarios.a]\n", "horizon.warmup_years", "from 0 to 50, got 1000000"),
    "override with an empty table": ('[scenarios.a]\n"bw" = {}\n', "scenarios.a.bw",
                                     "an empty table overrides nothing"),
    "empty table nested in an override": (f'[scenarios.a.{VP21}]\nplaces = 30\nextra = {{}}\n',
                                          f"scenarios.a.{VP21}.extra", "an empty table overrides nothing"),
    "grid axis that is an empty table": ('[grids.g]\n"groups.wmo.patience_days" = [10, 20]\n"bw" = {}\n',
                                         "grids.g.bw", "an empty table overrides nothing"),
    "unknown table": ('tables = ["annual", "weekly"]\n[scenarios.a]\n', "tables[1]", "expected one of"),
    "table twice": ('tables = ["annual", "annual"]\n[scenarios.a]\n', "tables", "distinct"),
    "unknown horizon key": ("[scenarios.a]\n", "horizon.until", "unknown key"),
}
HEADERS = {
    "horizon before the start": HEADER.replace("end_year = 2020", "end_year = 2010"),
    "zero replications": HEADER.replace("replications = 2", "replications = 0"),
    "negative seed": HEADER.replace("seed = 5", "seed = -1"),
    "too many replications": HEADER.replace("replications = 2", "replications = 1000000"),
    "seed beyond 2^63": HEADER.replace("seed = 5", f"seed = {2**63}"),
    "end year far away": HEADER.replace("end_year = 2020", "end_year = 1000000000000"),
    "warm-up of a million years": HEADER.replace("end_year = 2020",
                                                 "end_year = 2020, warmup_years = 1000000"),
    "unknown horizon key": HEADER.replace("end_year = 2020", "until = 2025"),
}


def assert_refused(tmp_path: Path, path: Path, file: str, key: str, words: str) -> None:
    """Exit code 2, one error line naming the file and the key, nothing written."""
    before = sorted(tmp_path.rglob("*"))
    result = cli(["sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"], tmp_path)
    assert result.code == 2, result.err
    assert result.err.startswith(f"error: {file}: {key}: " if key else f"error: {file}: "), result.err
    assert words in result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert sorted(tmp_path.rglob("*")) == before  # no out/, no results/


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_experiment_file(tmp_path: Path, case: str) -> None:
    body, key, words = BAD[case]
    path = write(tmp_path, body, header=HEADERS.get(case, HEADER))
    with pytest.raises(InputError) as err:
        read_experiment(path)
    assert (err.value.file, err.value.key) == (str(path), key)
    assert_refused(tmp_path, path, str(path), key, words)


def test_missing_model_key(tmp_path: Path) -> None:
    path = write(tmp_path, "[scenarios.a]\n", header="replications = 2\nseed = 1\n")
    assert_refused(tmp_path, path, str(path), "model", "missing")


def test_model_file_not_found(tmp_path: Path) -> None:
    path = write(tmp_path, "[scenarios.a]\n", header=HEADER.replace(str(MODEL), "nowhere.toml"))
    assert_refused(tmp_path, path, str(path), "model", f"no such file: {tmp_path / 'nowhere.toml'}")


def test_not_toml(tmp_path: Path) -> None:
    path = write(tmp_path, "[scenarios.a\n")
    assert_refused(tmp_path, path, str(path), "", "not valid TOML")


def test_experiment_file_not_found(tmp_path: Path) -> None:
    assert_refused(tmp_path, tmp_path / "missing.toml", str(tmp_path / "missing.toml"), "",
                   "file not found")


@pytest.mark.parametrize(("columns", "weights", "key", "words"), [
    ({"recovery.room_type.single": [1.2]}, None, "weight", "missing column"),
    ({"recovery.room_type.singel": [1.2]}, [1.0], "recovery.room_type.singel", "not a key of the model"),
    ({"recovery.room_type.single": [1.2, 1.3]}, [1.0, -1.0], "weight (row 1)", "expected a finite"),
    ({"recovery.room_type.single": [1.2]}, [0.0], "weight", "at least one weight > 0"),
    ({"groups.wmo.patience_days": [-3.0]}, [1.0], "row 0", "expected a number > 0"),
])
def test_bad_posterior(tmp_path: Path, columns: dict[str, list[object]], weights: list[float] | None,
                       key: str, words: str) -> None:
    path = tmp_path / "posterior.parquet"
    pd.DataFrame({**columns, **({} if weights is None else {"weight": weights})}).to_parquet(path)
    exp = write(tmp_path, 'posterior = "posterior.parquet"\n[scenarios.a]\n')
    assert_refused(tmp_path, exp, str(path), key, words)


def test_posterior_not_found(tmp_path: Path) -> None:
    exp = write(tmp_path, 'posterior = "fitted.parquet"\n[scenarios.a]\n')
    assert_refused(tmp_path, exp, str(exp), "posterior", f"no such file: {tmp_path / 'fitted.parquet'}")


def test_the_readme_example_is_a_valid_experiment(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Experiments and sweeps", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    example = example.replace('"../models/haarlem.toml"', json.dumps(str(MODEL)))
    example = "\n".join(line for line in example.splitlines() if not line.startswith("posterior"))
    exp = read_experiment(write(tmp_path, example, header=""))
    assert list(exp.scenarios) == [
        "baseline", "fewer_places", "rooms__room_type-single__places-28",
        "rooms__room_type-single__places-42", "rooms__room_type-two-person__places-28",
        "rooms__room_type-two-person__places-42"]
    assert (exp.replications, exp.horizon, exp.tables) == (20, {"end_year": 2025}, ("annual",))


def test_a_derived_model_file_as_base(tmp_path: Path) -> None:
    derived = tmp_path / "fitted.toml"
    derived.write_text(f'base = {json.dumps(str(MODEL))}\n[overrides]\n"recovery.room_type.single" = 1.5\n')
    header = HEADER.replace(str(MODEL), "fitted.toml")
    exp = read_experiment(write(tmp_path, "[scenarios.a]\n", header=header))
    assert exp.model_file == str(derived)
    assert exp.scenarios["a"].model.recovery.room_type["single"] == 1.5


@pytest.mark.parametrize("path", sorted((ROOT / "experiments").glob("*.toml")), ids=lambda p: p.name)
def test_every_experiment_file_is_valid(path: Path) -> None:
    exp = read_experiment(path)
    assert exp.baseline in exp.scenarios
    assert all(task.replication < exp.replications for task in tasks(exp))
