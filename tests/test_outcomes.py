"""Outcomes recomputed from the event log, independently of sim/measure/metrics.py and
sim/measure/monitoring.py.

Where everyone is on every day (the states of people without a bed or home are exclusive, and
with the people in shelter, in a place, housed and gone they account for every client), the
municipality's monitoring indicators, new clients, the vrouwenopvang's figures, and figures by
municipality that sum to the regional ones.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import numpy as np
import pandas as pd
import pytest
from simcheck import (
    Log,
    daily_wide,
    day_of,
    haarlem_raw,
    metric,
    run,
    short,
    untied_days,
)

from sim.components.homeless import STATES

SEED = 17


@pytest.fixture(scope="module")
def case() -> tuple[Any, Any, Log]:
    model, rep = run(short(haarlem_raw(), end_year=2023, warmup=1), SEED)
    assert rep.events is not None
    return model, rep, Log(rep.events)


def year_of(model: Any, t: float) -> int:
    """The calendar year of model time ``t`` from 2019; 0 in the warm-up."""
    return 0 if t < 0 else 2019 + sum(t >= day_of(model, f"{y}-01-01") for y in range(2020, 2031))


def whereabouts(model: Any, log: Log, day: float) -> Counter:
    """Where each client who has arrived is at the start of ``day`` (no event exactly then)."""
    rules = model.homeless
    channels = set(model.channels)
    where: Counter = Counter()
    for i in range(len(log.client)):
        if not (log.time[i] < day < log.until[i]):
            continue
        dst, reason, fac = log.dst[i], log.reason[i], log.facility[i]
        if dst in ("wacht_op_bed", "weg"):  # the state by what opened the wait or the nights away
            where[rules.waiting.get(reason, rules.default_waiting)] += 1
        elif dst in log.shelter and fac:
            where["shelter"] += 1
        elif dst in log.pools or (dst in log.shelter and log.src[i] in log.pools and reason != "cut"):
            where["place"] += 1  # in a pool's place, or waiting in it for another pool's
        elif dst in log.shelter:
            where["waiting_at_home"] += 1
        elif dst == "bct":
            where["bct"] += 1
        elif reason.split("/")[0] in channels or reason == "ambulant":
            where["housed"] += 1
        elif reason in rules.after_exit and day < log.time[i] + rules.out_of_sight_days:
            where[rules.after_exit_state.get(reason, "out_of_sight")] += 1
        else:
            where["gone"] += 1
    return where


def test_everyone_is_in_one_place_on_every_day(case: tuple[Any, Any, Log]) -> None:
    model, rep, log = case
    occ = daily_wide(rep.daily, "occupancy")
    days = untied_days(log, occ.index.to_numpy().astype(float))[::97]  # a day every few months
    assert len(days) > 15
    shelters = [f.name for f in model.facilities.values()]
    for day in days:
        where = whereabouts(model, log, day)
        arrived = len(np.unique(log.client[log.time < day]))
        assert sum(where.values()) == arrived
        # the engine's states and stocks equal the recomputation ...
        for state in STATES:
            assert occ.loc[int(day), state] == where[state], (day, state)
        assert occ.loc[int(day), shelters].sum() == where["shelter"]
        assert occ.loc[int(day), list(model.places)].sum() == where["place"]
        # ... and with the people housed, gone, at the BCT or waiting at home they are everyone
        engine = (occ.loc[int(day), [*STATES, *shelters, *model.places]].sum() + where["housed"]
                  + where["gone"] + where["bct"] + where["waiting_at_home"])
        assert engine == arrived, day


def test_state_nights_are_the_daily_counts_summed(case: tuple[Any, Any, Log]) -> None:
    model, rep, _ = case
    occ = daily_wide(rep.daily, "occupancy")
    for state in STATES:
        nights = metric(rep, f"{state}_nights")
        for year in (2020, 2022):
            days = [d for d in occ.index if year_of(model, d) == year]
            # daily counts at midnight sum to the nights up to the moves within days
            assert abs(occ.loc[days, state].sum() - nights.loc[year]) <= 0.02 * nights.loc[year] + 5


def test_new_clients_and_returning_regularly(case: tuple[Any, Any, Log]) -> None:
    model, rep, log = case
    bct = [g for g, grp in model.groups.items() if grp.via_bct]
    groups = rep.events.groupby("client")["group"].first()
    reports = defaultdict(int)
    new, regular = Counter(), Counter()
    regular_persons: set[tuple[int, int]] = set()
    for c, t, dst, reason in zip(log.client, log.time, log.dst, log.reason, strict=True):
        if dst != "bct" or groups[c] not in bct:
            continue
        year = year_of(model, t)
        if reason == "arrival" and t >= 0:
            new[year] += 1
        if reports[c] >= 2 and t >= 0:
            regular_persons.add((c, year))
        reports[c] += 1
    for _, year in regular_persons:
        regular[year] += 1
    for year in range(2019, 2024):
        assert metric(rep, "bct_new_clients").loc[year] == new[year]
        assert metric(rep, "returning_regularly").loc[year] == regular[year]


def test_figures_by_municipality_sum_to_the_region(case: tuple[Any, Any, Log]) -> None:
    model, rep, _ = case
    a = rep.annual
    origins = list(model.origin)
    for name in ("bct_new_clients", *(f"{p}_waiting_list" for p in model.places)):
        total = metric(rep, name)
        parts = a[(a["metric"] == name) & a["group"].isin(origins)].groupby("year")["value"].sum()
        pd.testing.assert_series_equal(parts, total, check_names=False)
    for line in ("maatschappelijke_opvang", "beschermd_wonen", "vrouwenopvang"):
        total = metric(rep, "cost_eur", line)
        parts = a[a["metric"] == f"cost_eur_{line}"].groupby("year")["value"].sum()
        other = metric(rep, "other_costs_eur", line)  # not split by municipality
        other = other.reindex(total.index).fillna(0.0) if len(other) else 0.0 * total
        np.testing.assert_allclose(parts.to_numpy() + other.to_numpy(), total.to_numpy(), rtol=1e-9)
    assert metric(rep, "other_costs_eur", "maatschappelijke_opvang").loc[2023] > 0
    pact = a[(a["metric"] == "pact_placements") & (a["group"] != "total")].groupby("year")["value"].sum()
    pd.testing.assert_series_equal(pact, metric(rep, "pact_placements"), check_names=False)


def test_pool_flows_and_vrouwenopvang_trajectories(case: tuple[Any, Any, Log]) -> None:
    model, rep, log = case
    labels = {name: pool.label for name, pool in model.places.items()}
    flows: Counter = Counter()
    holding = ""
    for i in range(len(log.client)):
        if log.first[i]:
            holding = ""
        src, dst = log.src[i], log.dst[i]
        if src in log.pools:
            holding = src
        year = year_of(model, log.time[i])
        if log.reason[i] == "cut" and src.endswith("_wachtlijst"):
            holding = ""  # a cut took the place the client kept while waiting
        if dst in log.pools and src.endswith("_wachtlijst") and holding and holding != dst:
            flows[(year, f"{labels[holding]}_to_{labels[dst]}")] += 1
        if dst in log.pools and src in log.pools:  # moved with the place (the transfer)
            assert model.places[src].wlz_transfer.to == dst
            flows[(year, f"{labels[src]}_to_{labels[dst]}_with_the_place")] += 1
        if src in log.pools and dst == "uitstroom":
            way = "wlz" if log.reason[i] in ("wlz", "wlz_transfer") else "ambulant"
            flows[(year, f"{labels[src]}_to_{way}")] += 1
        if dst in log.pools:
            holding = dst
    a = rep.annual[rep.annual["metric"] == "place_flows"]
    assert a["group"].str.endswith("_with_the_place").sum() == 5  # one transfer, five years
    for row in a.itertuples():
        assert row.value == flows[(row.year, row.group)], (row.year, row.group)
    sites = {f.name: f.report_group for f in model.facilities.values() if f.report_as == "vrouwenopvang"}
    done: Counter = Counter()
    for t, dst, fac, reason in zip(log.time, log.dst, log.facility, log.reason, strict=True):
        if dst == "uitstroom" and fac in sites and reason.split("/")[0] in model.channels:
            done[(year_of(model, t), sites[fac])] += 1
    for group in set(sites.values()):
        got = metric(rep, "vo_completed_trajectories", group)
        assert all(got.loc[y] == done[(y, group)] for y in range(2019, 2024))


def test_long_stays_by_reason_and_decisions_extended(case: tuple[Any, Any, Log]) -> None:
    model, rep, log = case
    stays = rep.annual[rep.annual["metric"] == "stays_passing_9_months"]
    total = stays[stays["group"] == "total"].set_index("year")["value"]
    parts = stays[stays["group"] != "total"].groupby("year")["value"].sum()
    pd.testing.assert_series_equal(parts, total, check_names=False)
    assert total.loc[2021:].sum() > 0
    # an economic client's decision runs out every 182.5 days in shelter and is extended
    days = model.groups["economic"].beschikking_days
    groups = rep.events.groupby("client")["group"].first()
    horizon = day_of(model, "2024-01-01")
    extended: Counter = Counter()
    start = None
    for i in range(len(log.client)):
        if log.dst[i] in log.shelter and log.facility[i] and log.src[i] not in log.shelter:
            start = log.time[i]  # a stay begins (a move to another bed goes on with it)
        leaves = log.src[i] in log.shelter and log.facility[i] and log.dst[i] not in log.shelter
        end = log.time[i] if leaves else (horizon if log.last[i] and start is not None else None)
        if end is not None and start is not None and groups[log.client[i]] == "economic":
            for k in range(1, int((end - start) // days) + 1):
                t = start + k * days
                if 0 <= t < horizon:
                    extended[year_of(model, t)] += 1
        if leaves or log.last[i]:
            start = None
    got = metric(rep, "beschikkingen", "extended")
    assert got.sum() > 0
    assert all(got.loc[y] == extended[y] for y in range(2019, 2024))


def test_idle_places_are_open_places_not_taken(case: tuple[Any, Any, Log]) -> None:
    """mean_idle_places (total): capacity minus occupancy over every shelter facility of the
    daily table, averaged over the days of each year."""
    model, rep, _ = case
    names = [f.name for f in model.facilities.values()]
    daily = rep.daily[rep.daily["facility"].isin(names)]
    idle = (daily["capacity"] - daily["occupancy"]).clip(lower=0)
    per_day = idle.groupby(daily["date"].astype(str).str[:4].astype(int)).sum()
    days = daily.groupby(daily["date"].astype(str).str[:4].astype(int))["day"].nunique()
    got = metric(rep, "mean_idle_places")
    np.testing.assert_allclose(got.to_numpy(), (per_day / days).loc[got.index].to_numpy())
    assert (got > 0).all()


def test_trajectories_started_and_shorter_stays(case: tuple[Any, Any, Log]) -> None:
    """trajectories_started: shelter stays begun by clients whose group has trajectory support,
    from its start date; share_of_stays_shorter_than_2022 is, in 2022 itself, the share below
    that year's median (at most a half)."""
    model, rep, log = case
    groups = rep.events.groupby("client")["group"].first()
    starts = {g: day_of(model, grp.trajectory_from) for g, grp in model.groups.items()
              if grp.trajectory_from is not None}
    assert starts, "the baseline has trajectory support"
    started: Counter = Counter()
    for c, t, src, dst, fac in zip(log.client, log.time, log.src, log.dst, log.facility,
                                   strict=True):
        g = groups[c]
        takes_bed = dst in log.shelter and fac and src not in log.shelter  # a stay begins
        if takes_bed and g in starts and t >= starts[g] and t >= 0:
            started[year_of(model, t)] += 1
    got = metric(rep, "trajectories_started")
    for year in range(2019, 2024):
        assert got.loc[year] == started[year]
    assert got.sum() > 0
    shorter = metric(rep, "share_of_stays_shorter_than_2022")
    assert 0.3 < shorter.loc[2022] <= 0.5
    assert shorter.notna().all()
