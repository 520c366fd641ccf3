"""Results as tables a researcher opens: ``sim.study.results.load`` with the scenarios' override
values as columns, and ``opvang summary --format csv|markdown``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from cli_runner import cli

from sim.cli import main
from sim.study.results import load

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "haarlem.toml"
VP19 = "facilities.velserpoort.schedule.2019-01-01"


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A baseline and a labelled grid over places and room type, 2 replications, 2019."""
    folder = tmp_path_factory.mktemp("grid")
    path = folder / "grid.toml"
    path.write_text(f"""model = {json.dumps(str(MODEL))}
replications = 2
seed = 3
[horizon]
end_year = 2019
warmup_years = 1
[scenarios.baseline]
[grids.vp]
label = "vp-{{places}}-{{room_type}}"
"{VP19}.places" = [20, 40]
"{VP19}.room_type" = ["single"]
[scenarios.warm]
"facilities.velserpoort.winter_places" = 30
""")
    result = cli(["sweep", str(path), "--out", str(folder / "out"), "--workers", "1", "--quiet"], folder)
    assert result.code == 0, result.err
    return folder / "out"


def test_load_gives_each_scenarios_values(grid: Path) -> None:
    annual = load(grid, "annual")
    keys = ["facilities.velserpoort.schedule.2019-01-01.places",
            "facilities.velserpoort.schedule.2019-01-01.room_type", "facilities.velserpoort.winter_places"]
    assert list(annual.columns[:7]) == ["experiment", "scenario", "replication", "seed", *keys]
    assert list(dict.fromkeys(annual["scenario"])) == ["baseline", "vp-20-single", "vp-40-single", "warm"]
    values = annual.drop_duplicates("scenario").set_index("scenario")[keys]
    assert values.to_dict("index") == {  # overrides, else the value the scenario's model has
        "baseline": dict(zip(keys, [30, "dormitory", 15], strict=True)),
        "vp-20-single": dict(zip(keys, [20, "single", 15], strict=True)),
        "vp-40-single": dict(zip(keys, [40, "single", 15], strict=True)),
        "warm": dict(zip(keys, [30, "dormitory", 30], strict=True))}
    assert annual[keys[0]].dtype == "int64"
    plain = load(grid, "annual", overrides=False)
    assert list(plain.columns) == [c for c in annual.columns if c not in keys]
    pd.testing.assert_frame_equal(annual.drop(columns=keys), plain)
    by_places = annual[annual["metric"] == "street_nights"].groupby(keys[0])["value"].mean()
    assert list(by_places.index) == [20, 30, 40]


def test_load_takes_posterior_draws_per_replication(tmp_path: Path) -> None:
    key = "groups.wmo.patience_days"
    pd.DataFrame({key: [10.0, 50.0], "weight": [1.0, 1.0]}).to_parquet(tmp_path / "posterior.parquet")
    path = tmp_path / "post.toml"
    path.write_text(f"""model = {json.dumps(str(MODEL))}
posterior = "posterior.parquet"
replications = 6
seed = 3
[horizon]
end_year = 2019
warmup_years = 1
[scenarios.drawn]
[scenarios.fixed]
"{key}" = 30.0
""")
    assert cli(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "1", "--quiet"],
               tmp_path).code == 0
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    drawn = {d["replication"]: d["values"][key] for d in manifest["posterior"]["draws"]}
    annual = load(tmp_path / "out").drop_duplicates(["scenario", "replication"])
    for scenario, replication, value in zip(annual["scenario"], annual["replication"], annual[key],
                                            strict=True):
        assert value == (30.0 if scenario == "fixed" else drawn[replication])
    assert len(set(drawn.values())) == 2


def test_summary_as_csv(grid: Path) -> None:
    result = cli(["summary", str(grid), "--format", "csv", "--baseline", "baseline"])
    assert result.code == 0, result.err
    table = pd.read_csv(io.StringIO(result.out))
    assert list(table.columns[:5]) == ["table", "metric", "group", "scenario", "baseline"]
    assert {"n", "median", "p2.5", "p97.5", "mean", "mean_lo95", "mean_hi95", "relative", "n_for_10pct",
            "first_year", "last_year"} <= set(table.columns)
    scenarios, differences = table[table["table"] == "scenarios"], table[table["table"] == "differences"]
    assert set(scenarios["scenario"]) == {"baseline", "vp-20-single", "vp-40-single", "warm"}
    assert set(differences["scenario"]) == {"vp-20-single", "vp-40-single", "warm"}
    assert set(differences["baseline"]) == {"baseline"} and scenarios["baseline"].isna().all()
    assert set(table["first_year"]) == set(table["last_year"]) == {2019}
    assert pd.api.types.is_float_dtype(table["median"])  # numbers, not text
    text = cli(["summary", str(grid)]).out  # the same figures as the text summary, unrounded
    people = scenarios[(scenarios["metric"] == "people_without_a_bed") & (scenarios["scenario"] == "warm")]
    assert f"{people['median'].iloc[0]:,.1f}" in text


def test_summary_as_markdown(grid: Path) -> None:
    result = cli(["summary", str(grid), "--format", "markdown", "--years", "2019"])
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "# Summary of grid"
    assert "## Scenarios" in lines and "## Paired differences against baseline" in lines
    header = lines.index("## Scenarios") + 4  # heading, blank, what the table holds, blank
    assert lines[header - 2].startswith("yearly means over 2019-2019, described over the replications")
    assert lines[header].startswith("| metric | group | scenario | n | median |")
    assert lines[header + 1].startswith("| --- | --- | --- | ---: | ---: |")
    rows = [line for line in lines if line.startswith("| people_without_a_bed | total | warm |")]
    assert len(rows) == 2  # in both tables
    table = lines[header:lines.index("", header)]
    csv = pd.read_csv(io.StringIO(cli(["summary", str(grid), "--format", "csv"]).out))
    assert len(table) == 2 + (csv["table"] == "scenarios").sum()
    assert all(row.count("|") == table[0].count("|") for row in table)


def test_unknown_format_is_refused(grid: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:  # argparse reports usage errors itself
        main(["summary", str(grid), "--format", "xlsx"])
    assert stop.value.code == 2
    assert capsys.readouterr().err.startswith("error: --format: invalid choice: 'xlsx'")
