"""Experiment files: parsing, grid expansion, posterior draws, and bad files.

A bad experiment file gets one error naming the file and the key (exit code 2 through the
command line) and nothing is written.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_runner import cli

from sim.batch.tasks import task_model
from sim.input.errors import InputError
from sim.model.files import load, model_hash
from sim.study.experiment import definition, definition_hash, read_experiment, tasks
from sim.study.results import load as load_results

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "haarlem.toml"
VP21 = "facilities.velserpoort.schedule.2021-01-01"
HEADER = f"""model = {json.dumps(str(MODEL))}
replications = 2
seed = 5
horizon = {{ end_year = 2021 }}
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
        model = task_model(task)  # built where the task runs, by sim.model.posterior.apply_draw
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
    "horizon before the start": HEADER.replace("end_year = 2021", "end_year = 2010"),
    "zero replications": HEADER.replace("replications = 2", "replications = 0"),
    "negative seed": HEADER.replace("seed = 5", "seed = -1"),
    "too many replications": HEADER.replace("replications = 2", "replications = 1000000"),
    "seed beyond 2^63": HEADER.replace("seed = 5", f"seed = {2**63}"),
    "end year far away": HEADER.replace("end_year = 2021", "end_year = 1000000000000"),
    "warm-up of a million years": HEADER.replace("end_year = 2021",
                                                 "end_year = 2020, warmup_years = 1000000"),
    "unknown horizon key": HEADER.replace("end_year = 2021", "until = 2025"),
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
        "as_now", "ten_more_beds", "housing_first_20", "single_rooms-1.0", "single_rooms-1.6",
        "single_rooms-2.0"]
    assert (exp.replications, exp.horizon, exp.tables) == (60, {"end_year": 2030}, ("annual",))


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


# --- dated entries, readable grid names, opvang check ------------------------------------


def test_a_scenario_adds_a_dated_schedule_entry_and_a_channel_change(tmp_path: Path) -> None:
    """New dates under a facility's schedule and a channel's dated changes, over the model as
    the sources describe it (which has neither date): the file reads, and the change acts."""
    path = write(tmp_path, """
[scenarios.baseline]
[scenarios.more_places]
"facilities.wilhelminastraat.schedule.2025-01-01.places" = 40
[scenarios.more_housing_first]
"channels.housing_first.dated.2025-01-01.haarlem" = 30
""", header=HEADER.replace("replications = 2", "replications = 1").replace(
        "end_year = 2021", "end_year = 2025, warmup_years = 1"))
    exp = read_experiment(path)
    schedule = exp.scenarios["more_places"].model.facilities["wilhelminastraat"].schedule
    assert "2025-01-01" not in exp.scenarios["baseline"].model.facilities["wilhelminastraat"].schedule
    assert schedule["2025-01-01"].places == 40
    assert schedule["2025-01-01"].regime is None  # as before the date
    assert exp.scenarios["more_housing_first"].model.channels["housing_first"].dated["2025-01-01"] == {
        "haarlem": 30.0}
    result = cli(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "1", "--quiet"],
                 tmp_path)
    assert result.code == 0, result.err
    annual = load_results(tmp_path / "out", "annual")

    def value(scenario: str, year: int, metric: str, group: str) -> float:
        row = annual[(annual["scenario"] == scenario) & (annual["year"] == year)
                     & (annual["metric"] == metric) & (annual["group"] == group)]
        return float(row["value"].iloc[0])

    for metric, group, scenario in (("mean_occupied", "nachtopvang", "more_places"),
                                    ("outflow", "housing_first", "more_housing_first")):
        assert value(scenario, 2024, metric, group) == value("baseline", 2024, metric, group)
        assert value(scenario, 2025, metric, group) > value("baseline", 2025, metric, group) + 5


def test_grid_labels_name_the_points(tmp_path: Path) -> None:
    exp = read_experiment(write(tmp_path, f"""
[grids.gain]
"recovery.room_type.single" = [1.1, 1.32, 1.54]
labels.single = ["none", "plus20", "plus40"]

[grids.rooms]
label = "vp{{places}}_{{room_type}}"
labels."{VP21}.room_type" = ["one", "two"]
"{VP21}.room_type" = ["single", "two-person"]
"{VP21}.places" = [28, 42]

[grids.winter]
label = "winter-{{facilities.velserpoort.winter_places}}"
"facilities.velserpoort.winter_places" = [0, 30]
"""))
    assert list(exp.scenarios) == [
        "gain__single-none", "gain__single-plus20", "gain__single-plus40",
        "vp28_one", "vp42_one", "vp28_two", "vp42_two", "winter-0", "winter-30"]
    assert exp.scenarios["gain__single-plus20"].overrides == {"recovery.room_type.single": 1.32}
    assert exp.scenarios["vp42_two"].overrides == {f"{VP21}.room_type": "two-person", f"{VP21}.places": 42}
    assert exp.scenarios["vp42_two"].origin == "grids.rooms"


BAD_LABELS = {  # name: (grid body, key, words)
    "unknown placeholder": ('label = "g-{plaices}"\n"groups.wmo.patience_days" = [10, 20]\n',
                            "grids.g.label", "{plaices} is not a key of this grid"),
    "template that names two points alike": (
        f'label = "g-{{places}}"\n"{VP21}.places" = [28, 42]\n"{VP21}.room_type" = ["single", "dormitory"]\n',
        "grids.g.label", "already used by grids.g"),
    "template that is no folder name": ('label = "g/{patience_days}"\n"groups.wmo.patience_days" = [10]\n',
                                        "grids.g.label", "folder name"),
    "label that is not a string": ('label = 3\n"groups.wmo.patience_days" = [10]\n', "grids.g.label",
                                   "expected a string"),
    "names of the wrong length": ('labels.patience_days = ["short"]\n"groups.wmo.patience_days" = [10, 20]\n',
                                  "grids.g.labels.patience_days", "expected a list of 2 names"),
    "names for a key not in the grid": ('labels.places = ["a"]\n"groups.wmo.patience_days" = [10]\n',
                                        "grids.g.labels.places", "not a key of this grid"),
    "name that is no folder name": ('labels.patience_days = ["a b"]\n"groups.wmo.patience_days" = [10]\n',
                                    "grids.g.labels.patience_days", "folder names"),
    "labels that are not a table": ('labels = ["a"]\n"groups.wmo.patience_days" = [10]\n', "grids.g.labels",
                                    "expected a table"),
}


@pytest.mark.parametrize("case", sorted(BAD_LABELS))
def test_bad_grid_label(tmp_path: Path, case: str) -> None:
    body, key, words = BAD_LABELS[case]
    path = write(tmp_path, "[grids.g]\n" + body)
    with pytest.raises(InputError) as err:
        read_experiment(path)
    assert (err.value.file, err.value.key) == (str(path), key)
    assert words in err.value.expected


def test_check_reads_experiment_files(tmp_path: Path) -> None:
    result = cli(["check", str(ROOT / "experiments" / "smoke.toml")])
    assert result.code == 0, result.err
    assert result.out.startswith(f"{ROOT / 'experiments' / 'smoke.toml'}: ok (experiment smoke: "
                                 "2 scenarios x 3 replications = 6 tasks, seed 7, model ")
    bad = write(tmp_path, f'[scenarios.a]\n"{VP21}.plces" = 28\n')
    result = cli(["check", str(bad)], tmp_path)
    assert result.code == 2
    assert result.err == f"error: {bad}: scenarios.a.{VP21}.plces: override of a key that does not " \
                         f"exist in {MODEL}; did you mean '{VP21}.places'?\n"
    assert cli(["check", str(MODEL)]).out.startswith(f"{MODEL}: ok (")  # a model file as before


# --- sampled designs ([sample], [parameters.KEY], [levers.KEY]) ---------------------------

SAMPLE = """
[sample]
method = "morris"
n = 3
seed = 99

[parameters."groups.wmo.patience_days"]
low = 7.0
high = 120.0
scale = "log"

[parameters."groups.wmo.decision.regional_mo"]
low = 0.5
high = 0.9
complement = "groups.wmo.decision.leaves"

[levers."facilities.velserpoort.schedule.2021-01-01.places"]
low = 28
high = 56
integer = true
"""


def test_a_sample_expands_into_scenarios(tmp_path: Path) -> None:
    before = np.random.get_state()[1].copy()
    exp = read_experiment(write(tmp_path, "[scenarios.baseline]\n" + SAMPLE))
    assert np.array_equal(np.random.get_state()[1], before)  # no global random state
    design = exp.design
    assert design is not None
    assert (design.method, design.n, design.seed, design.levels) == ("morris", 3, 99, 4)
    assert list(exp.scenarios) == ["baseline"] + [f"sample-{i:05d}" for i in range(1, 13)]  # 3 x (3 + 1)
    assert exp.baseline == "baseline"
    for i, name in enumerate(design.names):
        scenario = exp.scenarios[name]
        assert scenario.origin == "sample"
        values = scenario.overrides
        assert 7.0 <= values["groups.wmo.patience_days"] <= 120.0
        assert isinstance(values[f"{VP21}.places"], int) and 28 <= values[f"{VP21}.places"] <= 56
        assert values["groups.wmo.decision.regional_mo"] + values["groups.wmo.decision.leaves"] == \
            pytest.approx(1.0)
        assert scenario.model.groups["wmo"].patience_days == values["groups.wmo.patience_days"]
        unit = design.unit[i][0]  # log scale: uniform in the logarithm
        assert values["groups.wmo.patience_days"] == pytest.approx(7.0 * (120 / 7.0) ** unit)
    assert design.kinds == {"groups.wmo.patience_days": "parameter",
                            "groups.wmo.decision.regional_mo": "parameter", f"{VP21}.places": "lever"}
    record = definition(exp)["sample"]
    assert [f["key"] for f in record["factors"]] == list(design.factors)
    assert record["unit"] == [list(row) for row in design.unit] and record["points"] == 12


def test_a_sample_is_a_function_of_its_seed(tmp_path: Path) -> None:
    first = read_experiment(write(tmp_path, SAMPLE, "a.toml"))
    again = read_experiment(write(tmp_path, SAMPLE, "b.toml"))
    other = read_experiment(write(tmp_path, SAMPLE.replace("seed = 99", "seed = 100"), "c.toml"))
    default = read_experiment(write(tmp_path, SAMPLE.replace("seed = 99\n", ""), "d.toml"))
    assert first.design is not None and again.design is not None and other.design is not None
    assert first.design.unit == again.design.unit
    same, changed = definition(first), definition(other)
    assert {**same, "experiment": ""} == {**definition(again), "experiment": ""}  # names differ
    assert first.design.unit != other.design.unit
    assert same["sample"] != changed["sample"] and same["scenarios"] != changed["scenarios"]
    assert default.design is not None and default.design.seed == 5  # the experiment's seed
    assert "sample" not in definition(read_experiment(ROOT / "experiments" / "smoke.toml"))


@pytest.mark.parametrize(("method", "n", "points"), [("sobol", 4, 4 * (3 + 2)), ("latin", 7, 7)])
def test_sobol_and_latin_samples(tmp_path: Path, method: str, n: int, points: int) -> None:
    body = SAMPLE.replace('method = "morris"', f'method = "{method}"').replace("n = 3", f"n = {n}")
    exp = read_experiment(write(tmp_path, body))
    assert exp.design is not None and len(exp.design.unit) == points == len(exp.scenarios)


def test_the_sensitivity_example_screens_at_least_ten_parameters() -> None:
    exp = read_experiment(ROOT / "experiments" / "sensitivity_example.toml")
    assert exp.design is not None and exp.design.method == "morris"
    assert list(exp.design.kinds.values()).count("parameter") >= 10
    assert len(exp.scenarios) == exp.design.n * (len(exp.design.factors) + 1)


P = '[parameters."groups.wmo.patience_days"]\n'
R = "low = 7.0\nhigh = 9.0\n"
LATIN = '[sample]\nmethod = "latin"\nn = 2\n'
SHARE = '[parameters."groups.wmo.decision.regional_mo"]\nlow = 0.5\nhigh = 0.9\n'
BAD_SAMPLES = {  # name: (body, key, words)
    "unknown method": ('[sample]\nmethod = "fast"\nn = 4\n' + P + R, "sample.method",
                       "expected one of 'morris', 'sobol', 'latin'"),
    "n of one": ('[sample]\nmethod = "morris"\nn = 1\n' + P + R, "sample.n", "expected an integer from 2 to"),
    "sobol n that is no power of 2": ('[sample]\nmethod = "sobol"\nn = 6\n' + P + R, "sample.n",
                                      "power of 2"),
    "odd levels": ('[sample]\nmethod = "morris"\nn = 2\nlevels = 5\n' + P + R, "sample.levels",
                   "even number of levels"),
    "levels of a latin sample": (LATIN + "levels = 4\n" + P + R, "sample.levels", "morris only"),
    "too many points": ('[sample]\nmethod = "latin"\nn = 100001\n' + P + R, "sample.n", "from 2 to 100000"),
    "negative sample seed": (LATIN + "seed = -1\n" + P + R, "sample.seed", "expected an integer from 0"),
    "unknown sample key": (LATIN + "size = 3\n" + P + R, "sample.size", "unknown key"),
    "parameters without a sample": (P + R, "sample", "needs a [sample]"),
    "sample without factors": (LATIN, "parameters", "at least one factor"),
    "factor that is no key": (LATIN + '[parameters."groups.wmo.patiense_days"]\n' + R,
                              "parameters.groups.wmo.patiense_days", "does not exist in the model"),
    "lever that is no key": (LATIN + '[levers."facilities.nowhere.winter_places"]\nlow = 1\nhigh = 9\n',
                             "levers.facilities.nowhere.winter_places", "does not exist in the model"),
    "low above high": (LATIN + P + "low = 9.0\nhigh = 7.0\n", "parameters.groups.wmo.patience_days",
                       "expected low < high"),
    "log scale from zero": (LATIN + P + 'low = 0.0\nhigh = 7.0\nscale = "log"\n',
                            "parameters.groups.wmo.patience_days.low", "low > 0"),
    "bound that gives a bad model": (LATIN + P + "low = -3.0\nhigh = 7.0\n",
                                     "parameters.groups.wmo.patience_days", "bound -3.0 gives an invalid"),
    "float for an integer key": (LATIN + f'[levers."{VP21}.places"]\nlow = 28\nhigh = 56\n',
                                 f"levers.{VP21}.places", "expected an integer"),
    "unknown factor key": (LATIN + P + R + "mean = 8.0\n", "parameters.groups.wmo.patience_days.mean",
                           "unknown key"),
    "factor both parameter and lever": (LATIN + P + R + '[levers."groups.wmo.patience_days"]\n' + R,
                                        "levers.groups.wmo.patience_days", "already a factor"),
    "complement of another table": (LATIN + SHARE + 'complement = "groups.economic.decision.leaves"\n',
                                    "parameters.groups.wmo.decision.regional_mo.complement", "same table"),
    "complement that does not exist": (LATIN + SHARE + 'complement = "groups.wmo.decision.stays"\n',
                                       "parameters.groups.wmo.decision.regional_mo.complement",
                                       "does not exist"),
    "scenario named as a point": ('[scenarios."sample-00001"]\n' + LATIN + P + R, "scenarios.sample-00001",
                                  "belongs to the points"),
    "parameters that are not tables": ("parameters = 3\n" + LATIN, "parameters", "expected tables"),
}


@pytest.mark.parametrize("case", sorted(BAD_SAMPLES))
def test_bad_sample(tmp_path: Path, case: str) -> None:
    body, key, words = BAD_SAMPLES[case]
    path = write(tmp_path, body)
    with pytest.raises(InputError) as err:
        read_experiment(path)
    assert (err.value.file, err.value.key) == (str(path), key), err.value
    assert words in err.value.expected
    assert_refused(tmp_path, path, str(path), key, words)
