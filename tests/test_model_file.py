"""The baseline model file: every number sourced or marked, facilities as in the data."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from sim.model.files import load

MODEL = Path("models/haarlem.toml")
NUMBER = re.compile(r"(?<![\w.-])-?\d+(\.\d+)?(?![\w-])")


def numeric_lines() -> list[tuple[int, str]]:
    out = []
    for i, line in enumerate(MODEL.read_text().splitlines(), start=1):
        code = re.sub(r'"[^"]*"', '""', line).split("#", 1)[0]
        if "=" in code and NUMBER.search(code.split("=", 1)[1]):
            out.append((i, line))
    return out


def test_every_number_cites_data_or_is_a_marked_assumption() -> None:
    lines = numeric_lines()
    assert len(lines) > 100
    untagged = [f"{i}: {line}" for i, line in lines
                if not re.search(r"#\s*(data:|assumption)", line)]
    assert not untagged, "numbers without a source or assumption tag:\n" + "\n".join(untagged)


def test_every_assumption_gives_a_range() -> None:
    missing = [f"{i}: {line}" for i, line in numeric_lines()
               if re.search(r"#\s*assumption(?!\s*\[)", line) and "assumption:" not in line]
    assert not missing, "assumptions without a [lo, hi] range:\n" + "\n".join(missing)


@pytest.fixture(scope="module")
def facilities_csv() -> pd.DataFrame:
    return pd.read_csv("models/sources/facilities.csv")


def test_every_facility_of_the_data_is_in_the_model(facilities_csv: pd.DataFrame) -> None:
    """Each row of the data is a facility (or several: the vrouwenopvang's Haarlem site and its
    satellite homes) with the data's places as its last places before any closure, and its
    opening or switch date in the schedule."""
    model = load(MODEL)
    for row in facilities_csv.itertuples():
        if row.regime == "skaeve huse":
            channel = model.channels["skaeve_huse"]
            assert channel.homes == row.places
            assert channel.start == dt.date.fromisoformat(row._9)
            continue
        parts = [f for f in model.facilities.values() if f.name.startswith(row.name)]
        assert parts, f"{row.name} missing from {MODEL}"
        places = 0
        for facility in parts:
            schedule = sorted(facility.schedule.items())
            opened = dt.date.fromisoformat(schedule[0][0])
            if isinstance(row._9, str):  # the 'from' column: the opening or switch date
                assert dt.date.fromisoformat(row._9) in {dt.date.fromisoformat(d) for d, _ in schedule}
            else:
                assert opened <= dt.date(2019, 1, 1), f"{row.name} should be open from the start"
            places += [e.places for _, e in schedule if e.places][-1]
            last_regime = [e.regime for _, e in schedule if e.regime is not None][-1]
            assert last_regime == row.regime
        assert places == row.places, f"{row.name}: {places} places, data say {row.places}"


def test_velserpoort_switches_to_24_hour_in_2021() -> None:
    schedule = load(MODEL).facilities["velserpoort"].schedule
    assert schedule["2019-01-01"].regime == "nachtopvang"
    assert schedule["2021-01-01"].regime == "24-uurs"
