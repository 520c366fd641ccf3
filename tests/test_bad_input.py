"""Bad input gets one clear error naming the file, the key and what was expected.

Through :func:`sim.model.files.load` (an :class:`InputError` with ``file``, ``key`` and
``expected``) and through the command line (exit code 2, one line on stderr, nothing
written). Bad model files are made from ``models/haarlem.toml`` with one change each.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json
import math
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sim.cli import main
from sim.input.errors import InputError
from sim.model.files import from_mapping, load, model_hash, with_overrides
from sim.study.targets import COLUMNS, load_targets

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "haarlem.toml"
TARGETS = ROOT / "calibration" / "targets.csv"

Edit = Callable[[dict[str, Any]], None]


# --- helpers ------------------------------------------------------------------------


def base_raw() -> dict[str, Any]:
    """The parsed baseline model (a fresh copy for every call)."""
    return tomllib.loads(MODEL.read_text(encoding="utf-8"))


def toml_value(value: Any) -> str:
    """A TOML value on one line (inline tables and arrays)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)  # repr gives inf / nan / 1e-05, all valid TOML
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dt.datetime):
        raise TypeError("datetimes are not used in model files")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}"
                               for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} as TOML")


def dump_toml(data: dict[str, Any]) -> str:
    """A TOML document: one ``key = inline value`` line per top-level key."""
    return "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in data.items())


def write_model(folder: Path, edit: Edit | None = None, name: str = "bad.toml") -> Path:
    """The baseline model with one edit, written to ``folder/name``."""
    raw = base_raw()
    if edit is not None:
        edit(raw)
    path = folder / name
    path.write_text(dump_toml(raw), encoding="utf-8")
    return path


def setting(*path_and_value: Any) -> Edit:
    """An edit setting ``raw[p0][p1]... = value``."""
    *path, value = path_and_value

    def edit(raw: dict[str, Any]) -> None:
        node = raw
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = copy.deepcopy(value)

    return edit


def deleting(*path: str) -> Edit:
    """An edit removing ``raw[p0][p1]...``."""

    def edit(raw: dict[str, Any]) -> None:
        node = raw
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return edit


def renaming(*path_and_new: str) -> Edit:
    """An edit renaming the key at ``path`` to ``new`` (keeping its value)."""
    *path, new = path_and_new

    def edit(raw: dict[str, Any]) -> None:
        node = raw
        for part in path[:-1]:
            node = node[part]
        node[new] = node.pop(path[-1])

    return edit


def entries_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def assert_one_error_line(err: str, *fragments: str) -> None:
    """stderr is one line, no traceback, naming every fragment."""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


# --- the helper itself: the unmodified baseline round-trips -------------------------


def test_dump_toml_round_trips_the_baseline(tmp_path: Path) -> None:
    path = write_model(tmp_path, name="same.toml")
    assert tomllib.loads(path.read_text()) == base_raw()
    assert load(path) == load(MODEL)
    assert model_hash(load(path)) == model_hash(load(MODEL))


def test_baseline_model_is_valid() -> None:
    model = load(MODEL)
    assert model.name == "haarlem"
    assert model.source == str(MODEL)


# --- one change, one error ----------------------------------------------------------

# (id, edit, the dotted key named, a fragment of what was expected)
BAD_MODELS: list[tuple[str, Edit, str, str]] = [
    ("string_for_number", setting("groups", "wmo", "patience_days", "thirty"),
     "groups.wmo.patience_days", "expected a number"),
    ("string_for_integer", setting("places", "bw", "initial_waiting", "120"),
     "places.bw.initial_waiting", "expected an integer"),
    ("float_for_integer_places",
     setting("facilities", "wilhelminastraat", "schedule", "2019-01-01", "places", 30.5),
     "facilities.wilhelminastraat.schedule.2019-01-01.places", "expected an integer"),
    ("bool_for_number", setting("places", "bw", "stay_days", True), "places.bw.stay_days",
     "expected a number"),
    ("string_for_date", setting("simulation", "start", "2019-01-01"),
     "simulation.start", "expected a date"),
    ("number_for_list", setting("groups", "eu", "channels", 3),
     "groups.eu.channels", "expected a list"),
    ("scalar_for_table", setting("winter", "none"), "winter", "expected a table"),
    ("unknown_regime",
     setting("facilities", "velserpoort", "schedule", "2021-01-01", "regime", "hostel"),
     "facilities.velserpoort.schedule.2021-01-01.regime", "one of"),
    ("negative_capacity",
     setting("facilities", "wilhelminastraat", "schedule", "2019-01-01", "places", -5),
     "facilities.wilhelminastraat.schedule.2019-01-01.places", "from 0 to"),
    ("negative_capacity_later_entry",
     setting("facilities", "tijdelijke_nachtopvang", "schedule", "2021-01-01", "places", -1),
     "facilities.tijdelijke_nachtopvang.schedule.2021-01-01.places", "from 0 to"),
    ("negative_winter_places", setting("facilities", "velserpoort", "winter_places", -15),
     "facilities.velserpoort.winter_places", "from 0 to"),
    ("negative_bw_places", setting("places", "bw", "schedule", "2021-01-01", -434),
     "places.bw.schedule.2021-01-01", "from 0 to"),
    ("route_to_unknown_facility",
     setting("routes", "regional_mo", "family", ["gezinsopvang", "nowhere"]),
     "routes.regional_mo.family[1]", "unknown facility 'nowhere'"),
    ("empty_route", setting("routes", "local_economic", "youth", []),
     "routes.local_economic.youth", "at least one facility"),
    ("route_for_unknown_segment", setting("routes", "vrouwenopvang", "elderly", ["vrouwenopvang"]),
     "routes.vrouwenopvang.elderly", "unknown segment"),
    ("decision_sums_below_one", setting("groups", "wmo", "decision",
                                        {"regional_mo": 0.7, "leaves": 0.2}),
     "groups.wmo.decision", "sum to 1"),
    ("decision_sums_above_one", setting("groups", "economic", "decision",
                                        {"local_economic": 0.5, "referred": 0.45, "leaves": 0.2}),
     "groups.economic.decision", "sum to 1"),
    ("decision_probability_out_of_range", setting("groups", "wmo", "decision",
                                                  {"regional_mo": 1.2, "leaves": -0.2}),
     "groups.wmo.decision.regional_mo", "probability"),
    ("decision_without_route", setting("groups", "wmo", "decision",
                                       {"hotel": 0.7, "leaves": 0.3}),
     "groups.wmo.decision.hotel", "no route"),
    ("origin_sums_above_one", setting("origin", "other", 0.5), "origin", "sum to 1"),
    ("bw_exit_sums_below_one", setting("places", "bw", "exit", {"beschut": 0.3, "ambulant": 0.5}),
     "places.bw.exit", "sum to 1"),
    ("bw_exit_unknown_way", setting("places", "bw", "exit",
                                    {"beschut": 0.3, "home": 0.55, "wlz": 0.15}),
     "places.bw.exit.home", "unknown key"),
    ("two_pools_take_indications", setting("places", "beschut", "indication_days", 30.0),
     "places.beschut.indication_days", "only one pool"),
    ("indication_without_a_pool_for_it", deleting("places", "bw", "indication_days"),
     "groups.wmo.bw_indication_share", "no pool"),
    ("unknown_top_level_key", setting("colour", "blue"), "colour", "unknown key"),
    ("unknown_nested_key", setting("groups", "wmo", "colour", 1),
     "groups.wmo.colour", "unknown key"),
    ("unknown_key_in_schedule_entry",
     setting("facilities", "wilhelminastraat", "schedule", "2019-01-01", "beds", 30),
     "facilities.wilhelminastraat.schedule.2019-01-01.beds", "unknown key"),
    ("misspelt_key", renaming("simulation", "warmup_years", "warmup_year"),
     "simulation.warmup_year", "unknown key"),
    ("missing_required_key", deleting("simulation", "start"), "simulation.start", "missing"),
    ("missing_group_key", deleting("groups", "eu", "patience_days"),
     "groups.eu.patience_days", "missing"),
    ("missing_table", deleting("groups"), "groups", "missing"),  # [places] may be left out
    ("bad_month_in_schedule_date",
     renaming("facilities", "tijdelijke_nachtopvang", "schedule", "2020-03-15", "2020-13-15"),
     "facilities.tijdelijke_nachtopvang.schedule.2020-13-15", "YYYY-MM-DD"),
    ("word_as_schedule_date",
     renaming("facilities", "velserpoort", "schedule", "2021-01-01", "soon"),
     "facilities.velserpoort.schedule.soon", "YYYY-MM-DD"),
    ("bad_day_in_bw_places_date", renaming("places", "bw", "schedule", "2022-07-01", "2021-02-30"),
     "places.bw.schedule.2021-02-30", "YYYY-MM-DD"),
    ("empty_schedule", setting("facilities", "frans_hals", "schedule", {}),
     "facilities.frans_hals.schedule", "at least one"),
    ("incomplete_first_schedule_entry",
     setting("facilities", "joops_hotel", "schedule", "2022-01-01", {"places": 19}),
     "facilities.joops_hotel.schedule.2022-01-01", "first entry"),
    ("group_channel_does_not_exist", setting("groups", "wmo", "channels", ["pact", "nope"]),
     "groups.wmo.channels[1]", "unknown channel 'nope'"),
    ("return_for_unknown_exit", setting("returns", "lottery", {"probability": 0.1,
                                                               "mean_days": 10.0}),
     "returns.lottery", "unknown exit"),
    ("return_probability_above_one", setting("returns", "leaves", "probability", 1.5),
     "returns.leaves.probability", "probability"),
    ("year_key_not_a_year", setting("groups", "wmo", "arrivals", {"soon": 300.0}),
     "groups.wmo.arrivals.soon", "year"),
    ("negative_arrivals", setting("groups", "eu", "arrivals", "2019", -18),
     "groups.eu.arrivals.2019", "from 0 to"),
    ("nan_patience", setting("groups", "eu", "patience_days", math.nan),
     "groups.eu.patience_days", "finite"),
    ("shares_over_one", setting("groups", "wmo", "youth_share", 0.95),
     "groups.wmo.youth_share", "<= 1"),
    ("bad_winter_date", setting("winter", "start", "13-01"), "winter.start", "MM-DD"),
    ("end_before_start", setting("simulation", "end_year", 2018),
     "simulation.end_year", "from 2019 to"),
    ("regime_without_recovery_speed", deleting("recovery", "regime", "24-uurs"),
     "recovery.regime.24-uurs", "missing"),
    ("quota_realisation_parts_differ", setting("channels", "pact", "realisation",
                                               {"haarlem": 0.6}),
     "channels.pact.realisation", "same parts"),
    ("unknown_channel_kind", setting("channels", "regular", "kind", "lottery"),
     "channels.regular.kind", "one of"),
]

BAD_MODELS += [  # issue 20: accepted although out of range, ignored, or without a suggestion
    ("date_key_without_dashes",  # a second key for 2019-01-01 was taken as it
     setting("facilities", "wilhelminastraat", "schedule", "20190101", {"places": 40}),
     "facilities.wilhelminastraat.schedule.20190101", "YYYY-MM-DD, got '20190101'; did you mean "
     "'2019-01-01'?"),
    ("date_key_in_the_year_9999",
     setting("facilities", "wilhelminastraat", "schedule", "9999-12-31", {"places": 40}),
     "facilities.wilhelminastraat.schedule.9999-12-31", "a date from 1900-01-01 to 2200-12-31"),
    ("date_key_after_2200", setting("channels", "housing_first", "dated", "2525-01-01", {"haarlem": 9}),
     "channels.housing_first.dated.2525-01-01", "a date from 1900-01-01 to 2200-12-31"),
    ("date_value_after_2200", setting("channels", "pact", "start", dt.date(2525, 1, 1)),
     "channels.pact.start", "a date from 1900-01-01 to 2200-12-31, got 2525-01-01"),
    ("arrivals_in_the_year_99999", setting("groups", "wmo", "arrivals", "99999", 300.0),
     "groups.wmo.arrivals.99999", "a year from 1900 to 2200, got 99999"),
    ("income_in_the_year_3000", setting("budgets", "vrouwenopvang", "income", "3000", 1.0),
     "budgets.vrouwenopvang.income.3000", "a year from 1900 to 2200"),
    ("anchor_year_0", setting("groups", "wmo", "demand", "anchor_year", 0),
     "groups.wmo.demand.anchor_year", "a year from 1900 to 2200, got 0"),
    ("hazard_rate_of_a_billion", setting("channels", "regular", "rate_per_year", 1e9),
     "channels.regular.rate_per_year", "from 0 to 10,000"),
    ("dated_hazard_rate_of_a_billion",
     setting("channels", "regular", "dated", "2021-10-01", "rate_per_year", 1e9),
     "channels.regular.dated.2021-10-01.rate_per_year", "from 0 to 10,000"),
    ("departure_rate_of_a_billion", setting("groups", "eu", "departure_per_year", 1e9),
     "groups.eu.departure_per_year", "from 0 to 10,000"),
    ("dated_part_of_a_capacity_channel",  # its dated table changes its homes, nothing else
     setting("channels", "skaeve_huse", "dated", {"2026-01-01": {"skaeve_huse": 12.0}}),
     "channels.skaeve_huse.dated.2026-01-01", "expected { homes = ... }"),
    ("rate_of_a_quota_channel", setting("channels", "pact", "rate_per_year", 0.5),
     "channels.pact.rate_per_year", "not used by a channel of kind 'quota' (only by kind 'hazard')"),
    ("homes_of_a_hazard_channel", setting("channels", "regular", "homes", 3),
     "channels.regular.homes", "not used by a channel of kind 'hazard'"),
    ("entry_before_the_first",
     setting("facilities", "wilhelminastraat", "schedule", "2018-06-01", {"places": 40}),
     "facilities.wilhelminastraat.schedule.2018-06-01",
     "dated before the facility's first entry (2019-01-01)"),
    ("misspelt_field", renaming("simulation", "warmup_years", "warmup_yaers"),
     "simulation.warmup_yaers", "did you mean 'warmup_years'?"),
    ("misspelt_field_in_a_schedule_entry",
     renaming("facilities", "velserpoort", "schedule", "2021-01-01", "places", "place"),
     "facilities.velserpoort.schedule.2021-01-01.place", "did you mean 'places'?"),
    ("misspelt_facility_in_a_route", setting("routes", "regional_mo", "family", ["gezinsopvnag"]),
     "routes.regional_mo.family[0]", "did you mean 'gezinsopvang'?"),
    ("misspelt_channel_of_a_group", setting("groups", "wmo", "channels", ["pact", "housing_frist"]),
     "groups.wmo.channels[1]", "did you mean 'housing_first'?"),
    ("misspelt_regime", setting("facilities", "velserpoort", "schedule", "2021-01-01", "regime", "24-uur"),
     "facilities.velserpoort.schedule.2021-01-01.regime", "did you mean '24-uurs'?"),
    ("misspelt_exit", setting("returns", "gaveup", {"probability": 0.1, "mean_days": 10.0}),
     "returns.gaveup", "did you mean 'gave_up'?"),
    ("misspelt_pool_exit", setting("places", "bw", "exit", {"beschut": 0.3, "ambulnt": 0.55,
                                                           "wlz_ggz": 0.15}),
     "places.bw.exit.ambulnt", "did you mean 'ambulant'?"),
    ("misspelt_channel_kind", setting("channels", "regular", "kind", "hazzard"),
     "channels.regular.kind", "did you mean 'hazard'?"),
]

BAD_IDS = [case[0] for case in BAD_MODELS]


@pytest.mark.parametrize(("name", "edit", "key", "expected"), BAD_MODELS, ids=BAD_IDS)
def test_load_names_file_key_and_expectation(tmp_path: Path, name: str, edit: Edit, key: str,
                                             expected: str) -> None:
    path = write_model(tmp_path, edit)
    with pytest.raises(InputError) as caught:
        load(path)
    err = caught.value
    assert err.file == str(path)
    assert err.key == key
    assert expected in err.expected
    assert str(err) == f"{path}: {key}: {err.expected}"


@pytest.mark.parametrize(("name", "edit", "key", "expected"), BAD_MODELS, ids=BAD_IDS)
def test_run_bad_model_exits_2_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                  name: str, edit: Edit, key: str,
                                                  expected: str) -> None:
    path = write_model(tmp_path, edit)
    out = tmp_path / "out"
    code = main(["run", str(path), "--replications", "1", "--until", "2019",
                 "--out", str(out), "--quiet"])
    captured = capsys.readouterr()
    assert code == 2
    assert_one_error_line(captured.err, str(path), key, expected)
    assert captured.err.startswith("error: ")
    assert captured.out == ""
    assert not out.exists()
    assert entries_in(tmp_path) == ["bad.toml"]


@pytest.mark.parametrize(("name", "edit", "key", "expected"), BAD_MODELS[::6],
                         ids=BAD_IDS[::6])
def test_check_bad_model_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture, name: str,
                                 edit: Edit, key: str, expected: str) -> None:
    path = write_model(tmp_path, edit)
    assert main(["check", str(path)]) == 2
    captured = capsys.readouterr()
    assert_one_error_line(captured.err, str(path), key)
    assert captured.out == ""


def test_from_mapping_names_the_given_file() -> None:
    raw = base_raw()
    raw["groups"]["wmo"]["channels"] = ["ghost"]
    with pytest.raises(InputError) as caught:
        from_mapping(raw, "variant.toml")
    assert (caught.value.file, caught.value.key) == ("variant.toml", "groups.wmo.channels[0]")


def test_bad_model_without_out_creates_no_results_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    path = write_model(tmp_path, setting("groups", "wmo", "patience_days", "thirty"))
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(path), "--replications", "1", "--quiet"]) == 2
    assert "groups.wmo.patience_days" in capsys.readouterr().err
    assert entries_in(tmp_path) == ["bad.toml"]


# --- files that cannot be read as TOML ----------------------------------------------


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(InputError) as caught:
        load(path)
    assert caught.value.file == str(path)
    assert caught.value.key == ""
    assert "not found" in caught.value.expected

    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    assert_one_error_line(capsys.readouterr().err, str(path), "not found")
    assert not out.exists()
    assert main(["check", str(path)]) == 2
    assert_one_error_line(capsys.readouterr().err, str(path), "not found")
    assert entries_in(tmp_path) == []


INVALID_TOML = [
    ("unclosed_array", 'name = "x"\nsimulation = [\n'),
    ("duplicate_key", 'name = "a"\nname = "b"\n'),
    ("no_value", "name =\n"),
    ("bare_word_value", "name = haarlem\n"),
]


@pytest.mark.parametrize(("name", "text"), INVALID_TOML, ids=[c[0] for c in INVALID_TOML])
def test_invalid_toml(tmp_path: Path, capsys: pytest.CaptureFixture, name: str,
                      text: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load(path)
    assert caught.value.file == str(path)
    assert "not valid TOML" in caught.value.expected

    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    assert_one_error_line(capsys.readouterr().err, str(path), "not valid TOML")
    assert not out.exists()
    assert main(["check", str(path)]) == 2


def test_invalid_toml_in_a_real_model_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    text = MODEL.read_text(encoding="utf-8")
    path = tmp_path / "bad.toml"
    path.write_text(text.replace("end_year = 2030", "end_year = 20 30", 1), encoding="utf-8")
    assert main(["check", str(path)]) == 2
    assert_one_error_line(capsys.readouterr().err, str(path), "not valid TOML")


def test_directory_as_model_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "model.toml"
    folder.mkdir()
    with pytest.raises(InputError) as caught:
        load(folder)
    assert caught.value.file == str(folder)
    assert "cannot be read" in caught.value.expected
    assert main(["check", str(folder)]) == 2
    assert_one_error_line(capsys.readouterr().err, str(folder), "cannot be read")


def test_model_file_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(MODEL.read_text(encoding="utf-8")
                     .replace('name = "haarlem"', 'name = "caf\u00e9"', 1)
                     .encode("latin-1", errors="replace"))  # an é in Latin-1: not UTF-8
    assert main(["check", str(path)]) == 2
    assert_one_error_line(capsys.readouterr().err, str(path))


def test_infinite_arrival_rate_is_rejected(tmp_path: Path,
                                           capsys: pytest.CaptureFixture) -> None:
    path = write_model(tmp_path, setting("groups", "wmo", "arrivals", "2019", math.inf))
    assert main(["check", str(path)]) == 2
    assert_one_error_line(capsys.readouterr().err, str(path), "groups.wmo.arrivals.2019")


def test_unknown_key_inside_optional_table_is_named(tmp_path: Path) -> None:
    path = write_model(tmp_path, setting("places", "bw", "wlz_transfer", "colour", "red"))
    with pytest.raises(InputError) as caught:
        load(path)
    assert caught.value.key == "places.bw.wlz_transfer.colour"
    assert "unknown key" in caught.value.expected


# --- overrides ----------------------------------------------------------------------


@pytest.mark.parametrize(("dotted", "key"), [
    ("colour", "colour"),
    ("groups.wmo.colour", "groups.wmo.colour"),
    ("groups.nobody.patience_days", "groups.nobody"),
    ("nothing.at.all", "nothing"),
    ("groups.wmo.channels.0", "groups.wmo.channels.0"),
    ("simulation.start.year", "simulation.start.year"),
])
def test_override_of_unknown_key(dotted: str, key: str) -> None:
    raw = base_raw()
    with pytest.raises(InputError) as caught:
        with_overrides(raw, {dotted: 1}, "experiment.toml")
    assert caught.value.file == "experiment.toml"
    assert caught.value.key == key
    assert "does not exist" in caught.value.expected
    assert raw == base_raw()  # the input mapping is untouched


def test_override_may_add_an_entry_to_a_table_with_free_keys() -> None:
    raw = base_raw()
    out = with_overrides(raw, {
        "facilities.velserpoort.schedule.2025-01-01": {"places": 21, "room_type": "single"},
        "groups.economic.decision.regional_mo": 0.0,
    }, "experiment.toml")
    model = from_mapping(out, "experiment.toml")
    assert model.facilities["velserpoort"].schedule["2025-01-01"].places == 21
    assert model.groups["economic"].decision["regional_mo"] == 0.0
    assert raw == base_raw()
    with pytest.raises(InputError) as caught:  # a new entry is validated like any other
        from_mapping(with_overrides(raw, {"places.bw.schedule.2025-13-01": 400}, "e.toml"), "e.toml")
    assert caught.value.key == "places.bw.schedule.2025-13-01"


def test_override_may_add_a_dated_entry_or_a_default_table_on_the_way() -> None:
    model = load(MODEL, overrides={"facilities.wilhelminastraat.schedule.2025-01-01.places": 40,
                                   "groups.wmo.demand.change_per_year": -0.05})
    assert model.facilities["wilhelminastraat"].schedule["2025-01-01"].places == 40
    assert model.groups["wmo"].demand.change_per_year == -0.05
    for dotted, key in (("facilities.wilhelminastraat.schedul.2025-01-01.places",
                         "facilities.wilhelminastraat.schedul"),
                        ("facilities.wilhelminastraat.schedule.2025-01-01.beds",
                         "facilities.wilhelminastraat.schedule.2025-01-01.beds"),
                        ("groups.wmo.demand.pathz.central", "groups.wmo.demand.pathz")):
        with pytest.raises(InputError) as caught:
            load(MODEL, overrides={dotted: 1})
        assert caught.value.key == key


def test_load_with_override_of_unknown_key_names_the_model_file() -> None:
    with pytest.raises(InputError) as caught:
        load(MODEL, overrides={"groups.wmo.patience": 10.0})
    assert caught.value.file == str(MODEL)
    assert caught.value.key == "groups.wmo.patience"


def test_override_with_bad_value_is_validated() -> None:
    with pytest.raises(InputError) as caught:
        load(MODEL, overrides={"groups.wmo.patience_days": "long"})
    assert caught.value.key == "groups.wmo.patience_days"
    assert "expected a number" in caught.value.expected

    with pytest.raises(InputError) as caught:
        load(MODEL, overrides={'facilities.wilhelminastraat.schedule."2019-01-01".places': -1})
    assert caught.value.key == "facilities.wilhelminastraat.schedule.2019-01-01.places"


def test_override_of_existing_key_works_on_a_copy() -> None:
    raw = base_raw()
    out = with_overrides(raw, {"groups.wmo.patience_days": 45.0,
                               'facilities.frans_hals.schedule."2019-01-01".places': 20}, "x")
    assert out["groups"]["wmo"]["patience_days"] == 45.0
    assert out["facilities"]["frans_hals"]["schedule"]["2019-01-01"]["places"] == 20
    assert raw == base_raw()
    model = load(MODEL, overrides={"groups.wmo.patience_days": 45.0})
    assert model.groups["wmo"].patience_days == 45.0


# --- command-line arguments and the results folder ----------------------------------


def test_check_good_model_returns_0(capsys: pytest.CaptureFixture) -> None:
    assert main(["check", str(MODEL)]) == 0
    captured = capsys.readouterr()
    assert "ok" in captured.out
    assert model_hash(load(MODEL)) in captured.out
    assert captured.err == ""


def test_run_into_non_empty_out_exits_2_and_keeps_content(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "keep.txt").write_bytes(b"precious results\n")
    (out / "sub" / "manifest.json").write_text("{}")
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    mtime = (out / "keep.txt").stat().st_mtime_ns

    code = main(["run", str(MODEL), "--replications", "1", "--until", "2019",
                 "--out", str(out), "--quiet"])
    captured = capsys.readouterr()
    assert code == 2
    assert_one_error_line(captured.err, str(out), "already exists")
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == [
        Path("keep.txt"), Path("sub"), Path("sub/manifest.json")]
    assert (out / "keep.txt").stat().st_mtime_ns == mtime
    assert entries_in(tmp_path) == ["out"]  # no temporary folder left beside it


def test_run_into_existing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    out.write_text("not a folder")
    code = main(["run", str(MODEL), "--replications", "1", "--until", "2019",
                 "--out", str(out), "--quiet"])
    assert code == 2
    assert_one_error_line(capsys.readouterr().err, str(out), "already exists")
    assert out.read_text() == "not a folder"
    assert entries_in(tmp_path) == ["out"]


def test_run_until_before_start_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    code = main(["run", str(MODEL), "--until", "2010", "--out", str(out), "--quiet"])
    assert code == 2
    assert_one_error_line(capsys.readouterr().err, "--until", "2019")
    assert not out.exists()


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_run_bad_replications_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture,
                                      value: str) -> None:
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as caught:  # argparse reports usage errors itself
        main(["run", str(MODEL), "--replications", value, "--out", str(out), "--quiet"])
    assert caught.value.code == 2
    assert "--replications" in capsys.readouterr().err
    assert not out.exists()


def test_run_with_bad_targets_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    targets = write_targets(tmp_path, drop="unit")
    out = tmp_path / "out"
    code = main(["run", str(MODEL), "--replications", "1", "--until", "2019",
                 "--targets", str(targets), "--out", str(out), "--quiet"])
    assert code == 2
    assert_one_error_line(capsys.readouterr().err, str(targets), "unit", "missing column")
    assert not out.exists()


def test_run_with_missing_targets_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    targets = tmp_path / "none.csv"
    out = tmp_path / "out"
    code = main(["run", str(MODEL), "--replications", "1", "--until", "2019",
                 "--targets", str(targets), "--out", str(out), "--quiet"])
    assert code == 2
    assert_one_error_line(capsys.readouterr().err, str(targets), "not found")
    assert not out.exists()


# --- targets ------------------------------------------------------------------------


def target_rows() -> list[dict[str, str]]:
    with TARGETS.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_targets(folder: Path, rows: list[dict[str, str]] | None = None,
                  drop: str | None = None) -> Path:
    rows = target_rows() if rows is None else rows
    columns = [c for c in rows[0] if c != drop]
    path = folder / "targets.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_real_targets_load() -> None:
    table = load_targets(TARGETS)
    assert list(table.columns) == list(COLUMNS)
    assert table["year"].dtype.kind == "i"
    assert table["value"].dtype.kind in "if"
    row = table[(table["year"] == 2019) & (table["metric"] == "bct_registrations")
                & (table["group"] == "total")]
    assert row["value"].tolist() == [715.0]


@pytest.mark.parametrize("column", ["value", "metric", "year", "unit"])
def test_targets_missing_column(tmp_path: Path, column: str) -> None:
    path = write_targets(tmp_path, drop=column)
    with pytest.raises(InputError) as caught:
        load_targets(path)
    assert caught.value.file == str(path)
    assert caught.value.key == column
    assert "missing column" in caught.value.expected


@pytest.mark.parametrize(("column", "text"), [("value", "many"), ("year", "2019a"),
                                              ("value", "")])
def test_targets_non_numeric_value(tmp_path: Path, column: str, text: str) -> None:
    rows = target_rows()
    rows[2][column] = text  # the third data row is line 4 (the header is line 1)
    path = write_targets(tmp_path, rows)
    with pytest.raises(InputError) as caught:
        load_targets(path)
    assert caught.value.file == str(path)
    assert caught.value.key == f"line 4, column {column}"
    assert "expected a number" in caught.value.expected


def test_targets_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "targets.csv"
    with pytest.raises(InputError) as caught:
        load_targets(path)
    assert caught.value.file == str(path)
    assert "not found" in caught.value.expected
