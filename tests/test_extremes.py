"""Extreme settings whose outcome is known without simulating: unlimited outflow, no outflow
at all, and near-deterministic durations. Also edge cases of the calendar and of small
models that once made the engine fail.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from simcheck import (
    Log,
    check_chains,
    daily_wide,
    day_of,
    facility,
    haarlem_raw,
    metric,
    minimal_raw,
    run,
    short,
)

from sim.input.errors import InputError
from sim.input.limits import RATE_MAX

SEED = 20240501


# --- (a) unlimited outflow ------------------------------------------------------------


@pytest.fixture(scope="module")
def unlimited() -> tuple[Any, Any]:
    """Baseline with a regular channel that houses at once, for every group and track,
    more BW, beschut and shelter places than anyone needs."""
    raw = short(haarlem_raw(), end_year=2020, warmup=1)
    raw["channels"]["regular"]["rate_per_year"] = RATE_MAX  # a mean wait of 53 minutes
    for group in raw["groups"].values():
        group["channels"] = sorted({*group["channels"], "regular"})
        group["skaeve_share"] = 0.0  # skaeve clients may only use Skaeve Huse
    for pool in raw["places"].values():
        pool["schedule"] = {"2010-01-01": 10_000}  # the most a model file allows
    for fac in raw["facilities"].values():
        first = min(fac["schedule"])
        fac["schedule"] = {"2010-01-01": {**fac["schedule"][first], "places": 10_000}}
    raw["recovery"].pop("intermittent")  # nights away are no wait: this case is about waiting
    return run(raw, SEED)


def test_unlimited_outflow_houses_the_ready_at_once(unlimited: tuple[Any, Any]) -> None:
    _, rep = unlimited
    log = Log(rep.events)
    check_chains(log)
    ready = np.flatnonzero((log.dst == "klaar") & ~log.last)
    assert len(ready) > 100
    assert not (log.last & (log.dst == "klaar")).any(), "someone still waits for a home"
    nxt = ready + 1
    assert (log.src[nxt] == "klaar").all()
    assert (log.dst[nxt] == "uitstroom").all()
    assert set(log.reason[nxt]) == {"regular"}
    # the wait for a home is exponential at the highest rate a model allows (it was 1e9 a year
    # before issue 20 capped a hazard's rate at RATE_MAX): its mean within the 95 % interval
    wait = log.time[nxt] - log.time[ready]
    mean = 365.0 / RATE_MAX
    assert abs(wait.mean() - mean) < 1.96 * mean / np.sqrt(len(wait))
    assert wait.max() < 1.0  # days
    # hardly anyone is seen waiting for a home at midnight
    occ = daily_wide(rep.daily, "occupancy")
    if "klaar" in occ:
        assert occ["klaar"].mean() < 0.1
    # BW leavers who go home are housed at once too
    bw_home = (log.src == "bw") & (log.dst == "uitstroom") & (log.reason == "regular")
    assert bw_home.sum() > 10


def test_places_beyond_demand_mean_no_waiting(unlimited: tuple[Any, Any]) -> None:
    _, rep = unlimited
    assert (metric(rep, "bw_waiting_list") == 0).all()
    wait_bw = metric(rep, "mean_wait_bw_days")
    assert ((wait_bw == 0) | wait_bw.isna()).all()
    assert (metric(rep, "bw_indications") > 0).all()
    assert (metric(rep, "mean_wait_for_bed_days") == 0).all()
    for state in ("street", "with_others", "in_hotel"):
        assert (metric(rep, f"{state}_nights") == 0).all(), state
    assert (metric(rep, "shelter_placements") > 100).all()
    log = Log(rep.events)
    assert not (log.dst == "wacht_op_bed").any()
    queue = daily_wide(rep.daily, "queue")
    assert (queue["bw"] == 0).all() and (queue["wacht_op_bed"] == 0).all()


# --- (b) no outflow at all ---------------------------------------------------------------


@pytest.fixture(scope="module")
def blocked() -> tuple[Any, Any]:
    """Baseline where nobody ever leaves a bed, a place or the queue: no homes, no
    departures, endless patience, no BW places and no way to the Wlz; three times the
    arrivals."""
    raw = short(haarlem_raw(), end_year=2022, warmup=0)
    for channel in raw["channels"].values():
        channel.pop("dated", None)
        if channel["kind"] == "quota":
            channel["homes_per_year"] = dict.fromkeys(channel["homes_per_year"], 0.0)
        elif channel["kind"] == "hazard":
            channel["rate_per_year"] = 0.0
        else:
            channel["homes"] = 0
    for group in raw["groups"].values():
        group["arrivals"] = {y: 3 * r for y, r in group["arrivals"].items()}
        group["departure_per_year"] = 0.0
        group["patience_days"] = 1e9
    for pool in raw["places"].values():
        pool["exit"] = {"ambulant": 1.0}  # a home, which never comes
    raw["places"]["bw"]["schedule"] = {"2019-01-01": 0}
    raw["places"]["bw"]["wlz_transfer"]["share"] = 0.0
    raw["recovery"].pop("intermittent")  # nobody leaves a bed for nights elsewhere either
    return run(raw, SEED)


def test_without_outflow_nobody_leaves_a_bed(blocked: tuple[Any, Any]) -> None:
    model, rep = blocked
    log = Log(rep.events)
    check_chains(log)
    left = set(log.reason[log.dst == "uitstroom"])
    assert left <= {"leaves", "referred"}, left  # only straight from the BCT
    assert (log.reason[log.dst == "bw"] == "initial").all()  # BW has no places
    occ = daily_wide(rep.daily, "occupancy")
    cap = daily_wide(rep.daily, "capacity")
    for fac in model.facilities.values():
        o, c = occ[fac.name].to_numpy(), cap[fac.name].to_numpy()
        fell = np.diff(o) < 0
        # only a cut (a closure, the end of the winter beds) moves occupants out: to another
        # bed, or outside to wait for one; the day after, the occupants fit the places
        assert (np.diff(c)[fell] < 0).all(), f"{fac.name} lost an occupant without a cut"
        assert (o[1:][fell] <= c[1:][fell]).all(), fac.name


def test_without_outflow_the_shelters_fill(blocked: tuple[Any, Any]) -> None:
    model, rep = blocked
    occ = daily_wide(rep.daily, "occupancy")
    cap = daily_wide(rep.daily, "capacity")
    last = occ.index.max()
    for fac in model.facilities.values():
        # every facility with places on the last day is full (or above places after a cut)
        if cap.loc[last, fac.name] > 0:
            assert occ.loc[last, fac.name] >= cap.loc[last, fac.name], fac.name
    full = metric(rep, "share_of_days_full", "nachtopvang")
    assert full.loc[2020:].min() == 1.0
    assert metric(rep, "share_of_days_full", "opvang_24uurs").loc[2022] == 1.0
    # a winter's extra beds are filled, and their occupants leave them when the winter ends
    wil = occ["Wilhelminastraat"]
    assert wil.loc[day_of(model, "2020-12-31")] == 30 + 15
    assert wil.loc[day_of(model, "2021-04-01")] == 30
    assert wil.loc[day_of(model, "2021-06-30")] == 30


def test_without_outflow_the_queues_grow_every_year(blocked: tuple[Any, Any]) -> None:
    model, rep = blocked
    for name in ("street_nights", "street_at_year_end", "bw_waiting_list",
                 "mean_wait_for_bed_days"):
        values = metric(rep, name).to_numpy()
        assert (np.diff(values) > 0).all(), f"{name} does not grow: {values}"
    queue = daily_wide(rep.daily, "queue")
    year_ends = [day_of(model, dt.date(y, 12, 31)) for y in range(2019, 2023)]
    for col in ("wacht_op_bed", "bw"):
        values = queue.loc[year_ends, col].to_numpy()
        assert (np.diff(values) > 0).all(), f"{col} queue does not grow: {values}"


# --- (c) near-deterministic durations ------------------------------------------------------


@pytest.fixture(scope="module")
def fixed() -> tuple[Any, Any]:
    """One group, nearly fixed recovery work (gamma shape 1e6) and BW stays, no departures.

    Facility ``a`` (night shelter, dormitory: speed 1) becomes a 24-hour place with
    two-person rooms (speed 1.3 * 1.1) on 1 July; ``b`` (24-hour, single rooms: speed
    1.3 * 1.3) takes who finds ``a`` full. A hazard channel houses the ready at 36.5 a
    year (mean 10 days) and gives up on nobody.
    """
    raw = minimal_raw(places=0, arrivals_per_year=400.0, end_year=2020, warmup=0)
    raw["facilities"] = {
        "a": facility("A", 20, "nachtopvang", "dormitory"),
        "b": facility("B", 40, "24-uurs", "single"),
    }
    raw["facilities"]["a"]["schedule"]["2019-07-01"] = {"regime": "24-uurs",
                                                        "room_type": "two-person"}
    raw["routes"]["regional_mo"]["single_adult"] = ["a", "b"]
    group = raw["groups"]["g"]
    group.update(recovery_days=169.0, recovery_shape=1e6, patience_days=50.0,
                 bw_indication_share=0.3, channels=["out"])
    raw["channels"] = {"out": {"kind": "hazard", "tracks": ["shelter"], "rate_per_year": 36.5}}
    raw["places"] = {"bw": {"label": "beschermd_wonen", "schedule": {"2000-01-01": 1000},
                            "stay_days": 400.0, "stay_shape": 1e6, "indication_days": 20.0,
                            "exit": {"wlz": 1.0}}}
    return run(raw, SEED)


def test_time_to_ready_is_work_over_speed_at_placement(fixed: tuple[Any, Any]) -> None:
    model, rep = fixed
    log = Log(rep.events)
    check_chains(log)
    ready = np.flatnonzero(log.dst == "klaar")
    placed = ready - 1
    assert (log.dst[placed] == "opvang").all()
    switch = day_of(model, "2019-07-01")
    speed = np.select(
        [log.facility[placed] == "B", log.time[placed] < switch],
        [1.3 * 1.3, 1.0], 1.3 * 1.1)
    took = log.time[ready] - log.time[placed]
    np.testing.assert_allclose(took, 169.0 / speed, rtol=0.01)
    # all three settings occur
    assert set(np.round(speed, 2)) == {1.0, 1.43, 1.69}


def test_bw_stay_and_waits_have_their_means(fixed: tuple[Any, Any]) -> None:
    _, rep = fixed
    log = Log(rep.events)
    into_bw = np.flatnonzero((log.dst == "bw") & ~log.last)
    stay = log.time[into_bw + 1] - log.time[into_bw]
    assert len(stay) > 20
    assert (log.reason[into_bw + 1] == "wlz").all()
    np.testing.assert_allclose(stay, 400.0, rtol=0.01)
    # the housing wait is exponential with mean 10 days (rate 36.5 a year)
    ready = np.flatnonzero((log.dst == "klaar") & ~log.last)
    housed = log.time[ready + 1] - log.time[ready]
    assert len(housed) > 200 and (log.reason[ready + 1] == "out").all()
    assert abs(housed.mean() - 10.0) < 4 * 10.0 / np.sqrt(len(housed))


def test_quota_homes_arrive_at_homes_times_realisation() -> None:
    """A quota channel for BW leavers only, with nobody in BW: every home goes unused, and
    their number a year is Poisson with mean homes * realisation (from the channel start)."""
    raw = minimal_raw(places=5, arrivals_per_year=0.0, end_year=2020)
    raw["channels"] = {"pact": {"kind": "quota", "tracks": ["place"], "start": dt.date(2019, 7, 1),
                                "homes_per_year": {"x": 2000.0, "y": 1000.0},
                                "realisation": {"x": 0.5, "y": 1.0}}}
    _, rep = run(raw, SEED)
    unused = metric(rep, "unused_homes", "pact")
    expected = np.array([2000.0 * 184 / 365, 2000.0 * 366 / 365])  # 184 days of 2019
    assert (np.abs(unused.to_numpy() - expected) < 4 * np.sqrt(expected)).all(), unused


# --- calendar edge cases -----------------------------------------------------------------


@pytest.mark.parametrize("opened", ["2019-12-01", "2020-04-01"])
def test_facility_opening_on_a_winter_boundary(opened: str) -> None:
    raw = minimal_raw(places=5, arrivals_per_year=50.0, end_year=2020)
    raw["facilities"]["f"] = facility("F", 5, opened=opened, winter_places=3)
    model, rep = run(raw, SEED)
    cap = daily_wide(rep.daily, "capacity")["F"]
    assert cap.loc[day_of(model, opened) - 1] == 0
    assert cap.loc[day_of(model, opened)] == (8 if opened.endswith("12-01") else 5)


def test_winter_season_within_one_calendar_year() -> None:
    raw = short(haarlem_raw(), end_year=2019, warmup=0)
    raw["winter"] = {"start": "02-01", "end": "04-01"}
    model, rep = run(raw, SEED)
    cap = daily_wide(rep.daily, "capacity")["Wilhelminastraat"]
    assert cap.loc[day_of(model, "2019-01-15")] == 30  # January is not winter
    assert cap.loc[day_of(model, "2019-02-15")] == 30 + 15
    assert cap.loc[day_of(model, "2019-05-01")] == 30


def test_a_leap_day_winter_boundary_is_refused() -> None:
    """A winter season must begin and end on a day every year has: 02-29 is refused, naming
    the key."""
    raw = short(haarlem_raw(), end_year=2019, warmup=0)
    raw["winter"] = {"start": "12-01", "end": "02-29"}
    with pytest.raises(InputError, match=r"winter\.end"):
        run(raw, SEED)


def test_a_model_without_a_night_shelter_runs() -> None:
    raw = minimal_raw(places=5, arrivals_per_year=50.0, stand_ins=False)
    _, rep = run(raw, SEED)
    assert (metric(rep, "share_of_days_full", "nachtopvang") == 0).all()
