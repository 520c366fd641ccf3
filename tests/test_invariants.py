"""Property tests: invariants of the client flow that hold for any valid model.

Hypothesis varies the baseline Haarlem model (places, winter beds, capacity cuts and
closures, arrival rates, BCT decisions, departure, patience, channels, BW) and each example
is checked against its own event log, daily table and yearly metrics. Runs are short (one
or two reported years, at most one warm-up year) and examples derandomised.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from simcheck import (
    Log,
    build,
    check_chains,
    check_daily_capacity,
    check_daily_never_over,
    check_facility_column,
    check_no_idle_place,
    check_placements_within_capacity,
    check_stocks_match_daily,
    count_spans,
    counts_at,
    daily_wide,
    day_of,
    haarlem_raw,
    holds_place,
    horizon,
    list_spans,
    metric,
    places_capacity,
    pool_waits,
    run,
    run_region,
    shelter_capacity,
    transferred,
    waits_for_bed,
    yearly_mean,
)

# No shrinking: a failing example of a whole region is printed as found (shrinking one can
# take minutes).
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Opening dates used when a facility is moved earlier (to be open during the warm-up);
# none falls on a winter boundary (see test_extremes.py for that case).
OPENINGS = ("2017-06-15", "2018-03-10", "2018-09-20")
# Winter seasons across the new year, none starting or ending on an opening date above or
# in the baseline (1 January); see test_extremes.py for the other cases.
WINTERS = (("12-01", "04-01"), ("11-15", "03-15"), ("10-20", "05-10"))
# Facilities that clients reach on their route in the baseline model.
ROUTED = ("wilhelminastraat", "velserpoort", "frans_hals", "spaarnezicht", "perron_18",
          "gezinsopvang", "velserpoort_gezinnen", "vrouwenopvang")


def weights(draw: Any, keys: list[str]) -> dict[str, float]:
    """A probability distribution over ``keys`` (summing to one)."""
    w = [draw(st.integers(0, 10)) for _ in keys]
    if sum(w) == 0:
        w[0] = 1
    return {k: x / sum(w) for k, x in zip(keys, w, strict=True)}


def unit(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@st.composite
def variants(draw: Any, closing: str | None = None) -> tuple[dict[str, Any], int]:
    """A valid variant of the baseline model, with a short horizon, and a seed.

    With ``closing``, that facility is open from before the run and closes (places = 0) on
    a drawn day within the reported years.
    """
    raw = haarlem_raw()
    sim = raw["simulation"]
    sim["end_year"] = draw(st.sampled_from([2019, 2020]))
    sim["warmup_years"] = draw(st.integers(0, 1))
    last_day = (dt.date(sim["end_year"] + 1, 1, 1) - dt.date(2019, 1, 1)).days
    raw["winter"] = dict(zip(("start", "end"), draw(st.sampled_from(WINTERS)), strict=True))

    for fac in raw["facilities"].values():
        schedule = fac["schedule"]
        first = min(schedule)
        if draw(st.booleans()):  # open earlier, so that the warm-up fills it
            schedule[draw(st.sampled_from(OPENINGS))] = schedule.pop(first)
            first = min(schedule)
        schedule[first]["places"] = draw(st.integers(0, 40))
        fac["winter_places"] = draw(st.integers(0, 20))
        if draw(st.booleans()):  # a dated cut, rise or closure after opening
            when = dt.date.fromisoformat(first) + dt.timedelta(days=draw(st.integers(1, 800)))
            schedule.setdefault(when.isoformat(), {})["places"] = draw(st.integers(0, 40))
    if closing is not None:
        fac = raw["facilities"][closing]
        fac["schedule"] = {"2017-06-15": {**fac["schedule"][min(fac["schedule"])],
                                          "places": draw(st.integers(5, 40))}}
        close = dt.date(2019, 1, 1) + dt.timedelta(days=draw(st.integers(1, last_day - 30)))
        fac["schedule"][close.isoformat()] = {"places": 0}

    departure = raw["recovery"].get("departure", {})
    for regime in departure:
        departure[regime] = draw(unit(0.1, 2.0))
    for group in raw["groups"].values():
        scale = draw(unit(0.0, 3.0))
        group["arrivals"] = {y: r * scale for y, r in group["arrivals"].items()}
        group["decision"] = weights(draw, list(group["decision"]))
        group["departure_per_year"] = draw(unit(0.0, 5.0))
        group["patience_days"] = draw(unit(0.5, 200.0))
        group["recovery_days"] = draw(unit(5.0, 400.0))
        group["recovery_shape"] = draw(unit(0.5, 5.0))
        group["assessment_days"] = draw(unit(0.1, 30.0))
        group["bw_indication_share"] = draw(unit(0.0, 0.6))
        group["demand"] = {"change_per_year": draw(unit(-0.5, 0.5))}
        group["skaeve_share"] = draw(unit(0.0, 0.3))
        family = draw(unit(0.0, 1.0))
        group["family_share"] = family
        group["youth_share"] = draw(unit(0.0, 1.0)) * (1.0 - family)

    for channel in raw["channels"].values():
        if channel["kind"] == "quota":
            channel["homes_per_year"] = {p: draw(unit(0.0, 300.0))
                                         for p in channel["homes_per_year"]}
            channel["realisation"] = {p: draw(unit(0.0, 1.0)) for p in channel["realisation"]}
        elif channel["kind"] == "hazard":
            channel["rate_per_year"] = draw(unit(0.0, 10.0))
        else:
            channel["homes"] = draw(st.integers(0, 10))
            channel["stay_days"] = draw(unit(10.0, 2000.0))

    if draw(st.booleans()):  # a third pool, reached from beschermd wonen
        raw["places"]["wlz"] = {"label": "wlz", "schedule": {"2019-01-01": 0}, "stay_days": 1000.0,
                                "exit": {"ambulant": 1.0}}
    for name, pool in raw["places"].items():
        pool["schedule"] = {d: draw(st.integers(0, 600)) for d in pool["schedule"]}
        if draw(st.booleans()):  # places from before the warm-up
            pool["schedule"]["2017-06-15"] = draw(st.integers(0, 600))
        pool["initial_occupants"] = draw(st.integers(0, 600))
        pool["initial_waiting"] = draw(st.integers(0, 200))
        pool["direct_applicants_per_year"] = draw(unit(0.0, 300.0))
        pool["stay_days"] = draw(unit(30.0, 3000.0))
        ways = dict.fromkeys([*(p for p in raw["places"] if p != name), "ambulant", "wlz"])
        pool["exit"] = weights(draw, list(ways))
        if "indication_days" in pool:
            pool["indication_days"] = draw(unit(1.0, 200.0))
        if "wlz_transfer" in pool:
            pool["wlz_transfer"]["share"] = draw(unit(0.0, 1.0))

    for ret in raw["returns"].values():
        ret["probability"] = draw(unit(0.0, 1.0))
        ret["mean_days"] = draw(unit(5.0, 1000.0))
    return raw, draw(st.integers(0, 2**32 - 1))


def facility_names(model: Any) -> list[str]:
    return [f.name for f in model.facilities.values()]


# --- every client accounted for -------------------------------------------------------


@SETTINGS
@given(variants())
def test_every_client_is_one_unbroken_chain_matching_the_daily_stocks(case: Any) -> None:
    raw, seed = case
    model, rep = run(raw, seed)
    assert rep.events is not None
    log = Log(rep.events)
    # every registered client appears in the log
    clients = np.unique(log.client)
    np.testing.assert_array_equal(clients, np.arange(len(clients)))
    check_chains(log)
    check_facility_column(log)
    n_days = rep.daily["day"].nunique()
    compared = check_stocks_match_daily(log, rep.daily, facility_names(model))
    assert compared >= 0.9 * n_days, "too few days without events at midnight to compare"


@SETTINGS
@given(variants())
@pytest.mark.slow
def test_counters_agree_with_the_log_and_no_place_idles(case: Any) -> None:
    """The region's own counters (beds, places, queues) at the horizon agree with where the
    log last put each client; and at every midnight nobody waits for a bed or place that
    is free on their route."""
    raw, seed = case
    model = build(raw)
    region, events = run_region(model, seed, probe=check_no_idle_place)
    log = Log(events)
    check_chains(log)
    end = np.array([horizon(model)])
    in_bed = np.isin(log.dst, log.shelter) & (log.facility != "")
    for pool, fid in zip(region.shelters.pools, model.facilities, strict=True):
        assert pool.occupied == counts_at(log, in_bed & (log.facility == pool.name), end)[0], \
            pool.name
        assert pool.capacity == shelter_capacity(model, fid, end - 1e-6)[0], pool.name
    assert region.shelters.lists.waiting == counts_at(log, log.dst == "wacht_op_bed", end)[0]
    for name, places in zip(region.pool_names, region.places, strict=True):
        held = counts_at(log, holds_place(log, name), end)[0]
        assert places.occupied - places.vacant == held, name
        assert places.lists.waiting == count_spans(*list_spans(log, name), end - 1e-6)[0], name
        schedule = model.places[name].schedule
        assert places.capacity == (places_capacity(model, schedule, end - 1e-6)[0]
                                   + transferred(log, name, end)[0]), name
    # everyone ready in a shelter bed waits for a home (pool leavers may wait as well)
    assert region.housing.lists.waiting >= counts_at(log, log.dst == "klaar", end)[0]
    # the waiting-list counters equal their live entries
    for lists in (region.shelters.lists, *(p.lists for p in region.places), region.housing.lists):
        assert sum(lists.live(key) for key in lists.lists) == lists.waiting


# --- capacity ---------------------------------------------------------------------------


@SETTINGS
@given(variants())
def test_occupancy_never_exceeds_capacity(case: Any) -> None:
    raw, seed = case
    model, rep = run(raw, seed)
    assert rep.events is not None
    log = Log(rep.events)
    check_daily_capacity(model, rep.daily, log)
    check_daily_never_over(model, rep.daily)
    check_placements_within_capacity(model, log)


# --- waits --------------------------------------------------------------------------


@SETTINGS
@given(variants())
def test_waits_are_never_negative_and_match_the_log(case: Any) -> None:
    raw, seed = case
    model, rep = run(raw, seed)
    assert rep.events is not None
    log = Log(rep.events)
    gaps = np.diff(log.time)[~log.first[1:]]
    assert (gaps >= 0).all()
    annual = rep.annual
    values = annual["value"].to_numpy()
    assert not np.isinf(values).any()
    signed = annual["metric"].eq("budget_gap_eur").to_numpy()  # a surplus is negative
    assert (values[~np.isnan(values) & ~signed] >= 0).all(), annual[annual["value"] < 0]
    for name in ("mean_wait_for_bed_days", "mean_wait_bw_days", "mean_stay_days"):
        v = metric(rep, name)
        assert ((v >= 0) | v.isna()).all(), name
    # the mean wait for a bed, over all placements of a year (zero waits included)
    times, waits = waits_for_bed(log)
    assert (waits >= 0).all()
    pd.testing.assert_series_equal(metric(rep, "mean_wait_for_bed_days"),
                                   yearly_mean(times, waits, model), check_names=False,
                                   check_index_type=False, rtol=1e-9)
    # the mean BW wait from joining the list, over the clients who got a place that year
    # (in a shelter bed, at home, or outside after losing their bed)
    times, bw_wait = pool_waits(log, "bw")
    assert (bw_wait >= 0).all()
    pd.testing.assert_series_equal(metric(rep, "mean_wait_bw_days"),
                                   yearly_mean(times, bw_wait, model),
                                   check_names=False, check_index_type=False, rtol=1e-9)


# --- closed facilities -----------------------------------------------------------------


@SETTINGS
@given(st.sampled_from(ROUTED).flatmap(
    lambda fid: st.tuples(st.just(fid), variants(closing=fid))))
def test_a_closed_facility_takes_no_one_new_and_moves_its_occupants(case: Any) -> None:
    fid, (raw, seed) = case
    model, rep = run(raw, seed)
    assert rep.events is not None
    fac = model.facilities[fid]
    closed_at = max(day_of(model, d) for d in fac.schedule)
    events = rep.events
    in_bed = events["to"].isin(["opvang", "klaar", "bw_wachtlijst"])
    placed = events[in_bed & (events["facility"] == fac.name)]
    assert not (placed["time"] >= closed_at).any(), placed[placed["time"] >= closed_at]
    cap = daily_wide(rep.daily, "capacity")
    occ = daily_wide(rep.daily, "occupancy")
    after = cap.index >= closed_at
    assert (cap.loc[after, fac.name] == 0).all(), "winter places reopened a closed facility"
    assert (occ.loc[after, fac.name] == 0).all(), "occupants stayed in a closed facility"
    # they moved to another bed on their route, or outside to wait for one
    left = events[(events["time"] == closed_at) & events["reason"].isin(["moved", "cut"])]
    assert left["reason"].eq("cut").eq(left["to"].eq("wacht_op_bed")).all()
    # and in general: no one takes a bed anywhere on a day its daily capacity is 0
    moved_in = events[in_bed & (events["facility"] != "") & (events["time"] >= 0)]
    day = np.floor(moved_in["time"].to_numpy()).astype(int)
    column = cap.columns.get_indexer(pd.Index(moved_in["facility"]))
    caps = cap.reindex(index=day).to_numpy()[np.arange(len(day)), column]
    assert (caps > 0).all(), "a placement on a day its facility had no places"
