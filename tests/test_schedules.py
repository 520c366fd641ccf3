"""Ramps and finer dates: places that change linearly, arrivals dated by day and ramped, and
the dated homes of a capacity channel."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from sim.engine.calendar import Calendar, ramp_steps
from sim.engine.log import BCT, Recorder
from sim.engine.streams import Streams
from sim.input.errors import InputError
from sim.model.files import from_mapping, load
from sim.replication.journey import Region
from sim.replication.replicate import run_replication

START = dt.date(2025, 1, 1)


def model(**group: Any) -> dict[str, Any]:
    """One facility, one group, no warm-up, from 2025."""
    return {
        "simulation": {"start": START, "end_year": 2025, "warmup_years": 0},
        "facilities": {"f": {"schedule": {"2025-01-01": {"places": 10}}}},
        "routes": {"shelter": {"single_adult": ["f"]}},
        "groups": {"g": {"arrivals": {"2025": 50.0}, "recovery_days": 60.0, "patience_days": 10.0,
                         **group}},
    }


def line(a: int, b: int, days: int) -> list[int]:
    """The value of a ramp on each day from its start (day 0: a) to its end (day ``days``: b)."""
    return [a + math.trunc((b - a) * k / days) for k in range(days)] + [b]


def test_ramp_steps_follow_the_line_truncated_toward_the_start() -> None:
    for a, b, days in [(10, 30, 59), (30, 10, 7), (0, 3, 100), (5, 5, 10), (0, 40, 3)]:
        start = dt.date(2025, 1, 1)
        values, value = [], a
        steps = dict(ramp_steps(start, start + dt.timedelta(days=days), a, b))
        for k in range(days):
            value = steps.get(start + dt.timedelta(days=k), value)
            values.append(value)
        assert [*values, b] == line(a, b, days)


def test_a_facility_and_a_pool_ramp_their_places_day_by_day() -> None:
    raw = model(bw_indication_share=0.0)
    raw["facilities"]["f"]["schedule"]["2025-03-01"] = {"places": 30, "ramp": True}
    raw["places"] = {"p": {"label": "p", "stay_days": 100.0, "exit": {"wlz": 1.0},
                           "schedule": {"2025-01-01": 40, "2025-02-01": 40,
                                        "2025-04-12": {"places": 0, "ramp": True}}}}
    daily = run_replication(from_mapping(raw, "<ramp>"), 1, 0).daily
    f = daily[daily["facility"] == "f"].set_index("day")["capacity"]
    assert f.loc[0:59].tolist() == line(10, 30, 59)
    assert (f.loc[59:] == 30).all()
    p = daily[daily["facility"] == "p"].set_index("day")["capacity"]
    assert (p.loc[0:31] == 40).all()
    assert p.loc[31:101].tolist() == line(40, 0, 70)


def first_reports(raw: dict[str, Any], seed: int = 3) -> np.ndarray:
    region = Region(from_mapping(raw, "<arrivals>"), Streams(seed, 0), Recorder())
    region.start()
    region.env.run(until=region.horizon)
    ev = region.rec.events()
    return np.sort(ev["time"][ev["dst"] == BCT])


def test_arrivals_dated_by_day_start_on_their_day() -> None:
    times = first_reports(model(arrivals={"2025": 0.0, "2025-07-01": 3650.0}))
    july = Calendar(START).day(dt.date(2025, 7, 1))
    assert times.min() >= july
    expected = 3650.0 * (365 - july) / 365  # Poisson: within 4 standard deviations
    assert abs(len(times) - expected) < 4 * math.sqrt(expected)


def test_ramped_arrivals_rise_linearly() -> None:
    """From 0 a year on 1 January 2025 to 3650 on 1 January 2026: the arrival times of 2025
    have the density 2t (t: the share of the year gone), then the rate is flat."""
    times = first_reports(model(arrivals={"2025": 0.0, "2026-01-01": {"rate": 3650.0, "ramp": True}}))
    in_2025 = times[times < 365.0] / 365.0
    assert abs(len(in_2025) - 1825.0) < 4 * math.sqrt(1825.0)
    assert stats.kstest(in_2025, lambda t: t**2).pvalue > 0.01
    assert stats.kstest(in_2025, lambda t: t).pvalue < 1e-6  # not uniform: the test can fail


def test_arrivals_by_year_keep_their_segments_and_the_demand_path_follows_the_last_entry() -> None:
    haarlem = load("models/haarlem.toml")
    wmo, calendar = haarlem.groups["wmo"], Calendar(haarlem.simulation.start)
    segments = wmo.first_report_segments("central", 2017, 2030, calendar)
    assert [(a, r) for a, _, r, _ in segments] == [
        (calendar.year_start(y), wmo.first_reports(y, "central")) for y in range(2017, 2031)]
    dated = from_mapping(model(arrivals={"2025": 100.0, "2026-07-01": 200.0},
                               demand={"paths": {"central": 0.1}, "anchor_year": 2025}), "<d>")
    g, calendar = dated.groups["g"], Calendar(START)
    rates = {calendar.start + dt.timedelta(days=a): r
             for a, _, r, _ in g.first_report_segments("central", 2025, 2028, calendar)}
    assert rates[dt.date(2025, 1, 1)] == 100.0
    assert rates[dt.date(2026, 1, 1)] == 100.0
    assert rates[dt.date(2026, 7, 1)] == 200.0
    assert rates[dt.date(2027, 1, 1)] == pytest.approx(200.0 * 1.1)  # a year after the last
    assert rates[dt.date(2028, 1, 1)] == pytest.approx(200.0 * 1.1**2)


def test_a_capacity_channels_dated_homes_act() -> None:
    """Homes 10, 25 from April, 5 from August; people ready in beds wait for them. More homes
    are offered at once; fewer go as their occupants leave (nobody is put out)."""
    raw = model(arrivals={"2025": 0.0}, channels=["homes"], departure_per_year=0.0,
                initial={"ready": {"f": 1000}})
    raw["facilities"]["f"]["schedule"]["2025-01-01"]["places"] = 1000
    raw["channels"] = {"homes": {"kind": "capacity", "tracks": ["shelter"], "homes": 10,
                                 "stay_days": 30.0, "dated": {"2025-04-01": {"homes": 25},
                                                              "2025-08-01": {"homes": 5}}}}
    region = Region(from_mapping(raw, "<dated>"), Streams(1, 0), Recorder())
    region.start()
    homes = region.housing.channels["homes"]
    seen = []
    for day in range(1, 365):
        region.env.run(until=day)
        seen.append((day, homes.homes, homes.in_use))  # type: ignore[attr-defined]
    by_day = {d: (h, used) for d, h, used in seen}
    assert by_day[89] == (10, 10) and by_day[91] == (25, 25)  # a queue: every home lived in
    assert all(used <= max(5, by_day[d - 1][1]) for d, (_, used) in by_day.items() if d > 213)
    assert by_day[364] == (5, 5)


BAD: list[tuple[str, Any, str, str]] = [
    ("facilities.f.schedule", {"2025-01-01": {"places": 10, "ramp": True}},
     "facilities.f.schedule.2025-01-01.ramp", "first entry"),
    ("facilities.f.schedule", {"2025-01-01": {"places": 10}, "2025-06-01": {"ramp": True}},
     "facilities.f.schedule.2025-06-01.places", "ramp needs"),
    ("groups.g.arrivals", {"2025-02-01": {"rate": 5.0, "ramp": True}},
     "groups.g.arrivals.2025-02-01.ramp", "first entry"),
    ("groups.g.arrivals", {"2025": 5.0, "soon": 3.0}, "groups.g.arrivals.soon", "a year"),
    ("groups.g.arrivals", {"2025": 5.0, "2025-06-01": {"rate": -3.0}},
     "groups.g.arrivals.2025-06-01.rate", "from 0 to"),
]


@pytest.mark.parametrize(("where", "value", "key", "fragment"), BAD, ids=[b[2] for b in BAD])
def test_bad_schedules_are_refused_naming_the_key(where: str, value: Any, key: str,
                                                  fragment: str) -> None:
    raw = model()
    node = raw
    *path, last = where.split(".")
    for part in path:
        node = node[part]
    node[last] = value
    with pytest.raises(InputError) as err:
        from_mapping(raw, "m.toml")
    assert (err.value.key, fragment in err.value.expected) == (key, True), err.value


def test_a_capacity_channels_dated_entries_are_checked() -> None:
    raw = model(channels=["homes"])
    raw["channels"] = {"homes": {"kind": "capacity", "tracks": ["shelter"], "homes": 10,
                                 "stay_days": 30.0, "dated": {"2026-01-01": {"homes": 2.5}}}}
    with pytest.raises(InputError, match=r"channels\.homes\.dated\.2026-01-01\.homes: .*whole"):
        from_mapping(raw, "m.toml")
    raw["channels"]["homes"]["dated"] = {"2026-01-01": {"places": 3}}
    with pytest.raises(InputError, match=r"channels\.homes\.dated\.2026-01-01: expected \{ homes"):
        from_mapping(raw, "m.toml")
    raw["channels"]["homes"]["dated"] = {}
    raw["channels"]["homes"]["initial_occupants"] = 11
    with pytest.raises(InputError, match=r"channels\.homes\.initial_occupants: expected at most"):
        from_mapping(raw, "m.toml")
