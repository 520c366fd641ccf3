"""The notebooks' answers in words (sim.study.analysis): written from the numbers of the table
they describe, with signs, units and ranges, and a break-even only where the numbers hold one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.study.analysis import (
    HEADLINE,
    PEOPLE,
    STATES,
    about_run,
    break_even,
    change,
    difference_lines,
    difference_table,
    direction,
    items_of,
    level_line,
    pick,
    quoted,
    unit_of,
)
from sim.study.compare import intervals, paired_differences


def values_of(shift: dict[str, float], n: int = 40, seed: int = 1) -> pd.DataFrame:
    """Indicator values per replication (the shape of sim.study.analysis.indicators): a
    baseline and a scenario that adds ``shift[label]`` plus noise to each label."""
    rng = np.random.default_rng(seed)
    rows = []
    for label, (_metric, group) in HEADLINE.items():
        base = rng.gamma(5.0, 100.0, n)
        for scenario, add in (("as_now", 0.0), ("cut", shift.get(label, 0.0))):
            noise = rng.normal(0, 5, n) if scenario == "cut" else 0.0
            for r in range(n):
                rows.append({"metric": label, "group": group, "scenario": scenario, "replication": r,
                             "value": base[r] + add + (noise[r] if scenario == "cut" else 0.0)})
    return pd.DataFrame(rows)


def test_units_come_from_the_data_dictionary() -> None:
    assert unit_of("people_without_a_bed") == "persons/year"
    assert unit_of("nights_without_a_bed") == "person-nights/year"
    assert unit_of("nachtopvang_users") == "persons/year"  # the {regime}_users family
    assert unit_of("facility_share_of_days_full") == "share"
    assert unit_of("cost_eur") == "euro/year"
    assert unit_of("no_such_metric") == ""


def test_a_figure_is_quoted_with_sign_range_and_unit() -> None:
    row = pd.Series({"median": 12.4, "p2.5": -3.2, "p97.5": 25.0})
    assert quoted(row, "people_without_a_bed", difference=True) == "+12 [-3, +25] persons a year"
    assert quoted(row, "people_without_a_bed") == "12 [-3, 25] persons a year"
    small = pd.Series({"median": -1.26, "p2.5": -4.0, "p97.5": -0.5})
    assert quoted(small, "mean_wait_for_bed_days", difference=True) == "-1.3 [-4.0, -0.5] days"
    money = pd.Series({"median": 640_000.0, "p2.5": 100_000.0, "p97.5": 1_250_000.0})
    assert quoted(money, "cost_eur", difference=True) == "+0.64 [+0.10, +1.25] M euro a year"
    share = pd.Series({"median": -0.05, "p2.5": -0.1, "p97.5": 0.0})
    assert quoted(share, "share_of_registrants_sheltered", difference=True) == (
        "-5.0 [-10.0, 0.0] percentage points")


def test_a_change_names_its_unsettled_sign_and_an_exact_zero() -> None:
    open_ = pd.Series({"median": 2.0, "p2.5": -1.0, "p97.5": 5.0, "relative": 0.1})
    assert change(open_, "wait for a bed (days)", "mean_wait_for_bed_days") == (
        "wait for a bed +2.0 [-1.0, +5.0] days (+10 %; the range holds 0: direction not settled)")
    zero = pd.Series({"median": 0.0, "p2.5": 0.0, "p97.5": 0.0, "relative": 0.0})
    assert change(zero, "hotel", "nights_without_a_bed") == "hotel unchanged (0 in every replication)"


def test_the_sentence_picked_follows_the_range() -> None:
    up = pd.Series({"p2.5": 1.0, "p97.5": 5.0})
    down = pd.Series({"p2.5": -5.0, "p97.5": -0.1})
    open_ = pd.Series({"p2.5": -1.0, "p97.5": 5.0})
    assert [direction(r) for r in (up, down, open_)] == [1, -1, 0]
    assert pick(down, "more", "fewer", "unsettled") == "fewer"
    assert pick(open_, "more", "fewer", "unsettled") == "unsettled"


def test_the_answer_lines_carry_the_tables_numbers() -> None:
    values = values_of({"people without a bed": 30.0, "people sheltered": -20.0,
                        "nights without a bed: street": 0.0})
    diff = paired_differences(values, "as_now")
    lines = difference_lines(diff, ["cut"], PEOPLE, names={"cut": "a cut"}, details=STATES)
    assert lines[0].startswith("* **a cut**: people sheltered -")
    for label, _metric, _group in PEOPLE:
        row = diff[(diff["metric"] == label) & (diff["scenario"] == "cut")].iloc[0]
        assert f"{label} {row['median']:+,.0f} [{row['p2.5']:+,.0f}, {row['p97.5']:+,.0f}]" in lines[0]
    street = diff[(diff["metric"] == "nights without a bed: street") & (diff["scenario"] == "cut")].iloc[0]
    assert street["p2.5"] < 0 < street["p97.5"]  # the noise alone: the sign is open
    assert lines[1].startswith("  * of which street ")
    assert "direction not settled" in lines[1].split("; with others")[0]
    assert "direction not settled" not in lines[0]  # both people figures are settled
    table = difference_table(diff, ["cut"], PEOPLE).splitlines()
    assert table[0] == ("| scenario | people sheltered (persons a year) "
                        "| people without a bed (persons a year) |")
    people = diff[(diff["metric"] == "people without a bed") & (diff["scenario"] == "cut")].iloc[0]
    assert table[2].startswith("| cut | -") and table[2].endswith(
        f"| {people['median']:+,.0f} [{people['p2.5']:+,.0f}, {people['p97.5']:+,.0f}] |")
    level = intervals(values)
    assert level_line(level, "as_now", items_of(HEADLINE, ["people without a bed"])).startswith(
        "people without a bed ")


def test_few_replications_are_said_to_be_few() -> None:
    assert "With 2 replications" in about_run(2, (2026, 2030), "as now")
    assert "With" not in about_run(60, (2026, 2030), "as now")


def curve(medians: list[float], half: float) -> pd.DataFrame:
    x = [0.0, 0.1, 0.2, 0.3]
    return pd.DataFrame({"value": x, "median": medians, "p2.5": [m - half for m in medians],
                         "p97.5": [m + half for m in medians]})


def test_a_break_even_is_given_where_the_median_crosses_and_the_ranges_settle_it() -> None:
    found = break_even(curve([40.0, 10.0, -20.0, -50.0], half=5.0))
    assert found.value == pytest.approx(0.1 + 0.1 * 10 / 30)
    assert found.settled and found.kind == "crossing"


def test_no_break_even_is_invented_where_every_range_holds_zero() -> None:
    found = break_even(curve([4.0, 1.0, -2.0, -5.0], half=20.0))
    assert found.value is None and found.kind == "open"
    assert "holds 0 at every tested size" in found.text


def test_no_break_even_where_the_median_keeps_its_sign() -> None:
    found = break_even(curve([40.0, 30.0, 20.0, 15.0], half=5.0))
    assert found.value is None and found.kind == "above"
    assert "above 0 at every tested size" in found.text
    assert break_even(curve([-40.0, -30.0, -20.0, -15.0], half=5.0)).kind == "below"
    uncertain = break_even(curve([40.0, 10.0, -2.0, -3.0], half=5.0))
    assert uncertain.value is not None and not uncertain.settled
