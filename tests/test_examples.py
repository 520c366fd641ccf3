"""models/examples/: a minimal template and a model of another (stylised) region, both run;
neither needs a table of the Haarlem model, and rows that cannot occur are not written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cli_runner import ROOT, cli
from simcheck import Log, check_chains, check_facility_column, check_stocks_match_daily

from sim.measure.possible import absent_rows
from sim.model.files import load, read_toml
from sim.replication.replicate import run_replication

EXAMPLES = ROOT / "models" / "examples"
MINIMAL, COUNTY = EXAMPLES / "minimal.toml", EXAMPLES / "county.toml"
HAARLEM_TABLES = ("winter", "recovery", "origin", "places", "homeless", "budgets")


def test_the_minimal_template_is_short_and_has_no_haarlem_table() -> None:
    assert len(MINIMAL.read_text().splitlines()) < 40
    raw = read_toml(MINIMAL)
    assert not set(HAARLEM_TABLES) & set(raw)
    for group in raw["groups"].values():  # no BCT decision, no origin
        assert not {"decision", "decision_by_origin", "origin"} & set(group)
    for facility in raw["facilities"].values():  # no winter beds, regime or room type
        assert "winter_places" not in facility
        for entry in facility["schedule"].values():
            assert not {"regime", "room_type"} & set(entry)


@pytest.mark.parametrize("example", [MINIMAL, COUNTY], ids=["minimal", "county"])
def test_an_example_passes_check_and_runs(example: Path, tmp_path: Path) -> None:
    checked = cli(["check", str(example)])
    assert checked.code == 0, checked.err
    ran = cli(["run", str(example), "-n", "2", "--out", str(tmp_path / "out"), "--quiet"])
    assert ran.code == 0, ran.err
    assert "not compared" in ran.out  # the project's Haarlem targets are not this model's
    assert (tmp_path / "out" / "manifest.json").is_file()


def reported(example: Path) -> set[tuple[str, str]]:
    annual = run_replication(load(example), 1, 0).annual
    return set(zip(annual["metric"], annual["group"], strict=True))


def test_rows_that_cannot_occur_are_not_written() -> None:
    rows = reported(MINIMAL)
    metrics = {m for m, _ in rows}
    for name in ("vo_emergency_admissions", "vo_completed_trajectories", "trajectories_started",
                 "with_others_nights", "in_hotel_nights", "bct_returns", "cost_eur",
                 "bw_places", "budget_gap_eur"):
        assert name not in metrics, name
    for way_out in ("wlz", "wlz_transfer", "cut", "referred", "leaves"):
        assert ("outflow", way_out) not in rows
    assert ("beschikkingen", "extended") not in rows
    assert ("person_nights", "in_a_place") not in rows
    # what can occur is written, zero or not
    assert {("street_nights", "total"), ("outflow", "gave_up"), ("outflow", "homes"),
            ("shelter_users", "total"), ("homes_placements", "total")} <= rows
    county = reported(COUNTY)
    assert ("cost_eur", "county_shelter") in county and ("bct_returns", "total") in county


def test_the_haarlem_model_writes_every_row() -> None:
    assert absent_rows(load(ROOT / "models" / "haarlem.toml")) == frozenset()


def test_the_county_starts_as_given_grows_and_people_come_back() -> None:
    model = load(COUNTY)
    rep = run_replication(model, 1, 0, events=True)
    daily = rep.daily.set_index(["facility", "day"])
    assert daily.loc[("County emergency shelter", 0), "occupancy"] == 52 + 8
    assert daily.loc[("County family shelter", 0), "occupancy"] == 20
    assert daily.loc[("wacht_op_bed", 0), "queue"] == 35 + 6
    capacity = daily.loc["County emergency shelter", "capacity"]
    assert capacity.loc[0] == 60 and capacity.loc[364] == 60 and capacity.iloc[-1] == 100
    assert np.all(np.diff(capacity.to_numpy()) >= 0)  # grows a bed at a time, never falls
    assert np.diff(capacity.to_numpy()).max() == 1
    events = rep.events
    assert events is not None
    housed = events[events["reason"] == "supportive_housing"]["client"]
    back = events[(events["reason"] == "return") & events["client"].isin(housed)]
    assert len(back) > 0, "nobody came back after losing a supportive home"


def test_the_county_log_is_consistent_with_its_daily_stocks() -> None:
    """The independent checks of the event log (tests/simcheck.py) hold for a model that
    starts from a known state: unbroken chains of legal moves, one bed at a time, and the
    stocks of each day recomputed from the log equal the daily table."""
    model = load(COUNTY)
    rep = run_replication(model, 2, 0, events=True)
    assert rep.events is not None
    log = Log(rep.events)
    check_chains(log)
    check_facility_column(log)
    names = [f.name for f in model.facilities.values()]
    assert check_stocks_match_daily(log, rep.daily, names) > 0.9 * rep.daily["day"].nunique()
