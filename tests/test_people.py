"""The headline figures recomputed from the event log, independently of sim/measure/metrics.py:
people sheltered and people without a bed and their nights, every night of every person
accounted for once, stays and waiting lists that go on through moves, cuts that hold, and
people who avoid a room type waiting under the same rules as everyone else.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
import pytest
from simcheck import (
    Log,
    build,
    check_facility_column,
    day_of,
    haarlem_raw,
    metric,
    run,
    run_region,
    short,
)

from sim.components.intake import NON_SHELTER_OUTCOMES
from sim.engine.client import AVOID
from sim.replication.variates import EPISODES

SEED = 23
YEARS = range(2019, 2024)
Span = tuple[int, float, float, str]  # (client, start, end, state or part)


@pytest.fixture(scope="module")
def case() -> tuple[Any, Any, Log]:
    raw = short(haarlem_raw(), end_year=2023, warmup=1)
    # a cut and a closure in the reported years, so that moves and cuts are in the log
    raw["facilities"]["wilhelminastraat"]["schedule"]["2020-06-01"] = {"places": 15}
    raw["facilities"]["frans_hals"]["schedule"]["2022-03-01"] = {"places": 0}
    model, rep = run(raw, SEED)
    assert rep.events is not None
    return model, rep, Log(rep.events)


def edges(model: Any) -> np.ndarray:
    return np.array([day_of(model, f"{y}-01-01") for y in [*YEARS, YEARS[-1] + 1]])


def nights(spans: list[Span], model: Any) -> np.ndarray:
    """Nights of the spans in each reported year."""
    e = edges(model)
    out = np.zeros(len(YEARS))
    for _, a, b, _ in spans:
        out += np.clip(np.minimum(b, e[1:]) - np.maximum(a, e[:-1]), 0.0, None)
    return out


def persons(spans: list[Span], model: Any) -> np.ndarray:
    """Unique clients with a span overlapping each reported year."""
    e = edges(model)
    seen: list[set[int]] = [set() for _ in YEARS]
    for c, a, b, _ in spans:
        for k in range(len(YEARS)):
            if min(b, e[k + 1]) > max(a, e[k]):
                seen[k].add(c)
    return np.array([len(s) for s in seen], dtype=float)


def parts_of(model: Any, log: Log) -> list[Span]:
    """Every night of every client from their first event to the end of the run, in one
    part, replayed event by event (the part of ``person_nights``; the states of
    ``nights_without_a_bed`` for the nights without a bed)."""
    rules, end = model.homeless, day_of(model, f"{YEARS[-1] + 1}-01-01")
    channels = set(model.channels)
    out: list[Span] = []
    for i in range(len(log.client)):
        a, b = log.time[i], min(log.until[i], end)
        dst, src, reason, fac = log.dst[i], log.src[i], log.reason[i], log.facility[i]
        if dst == "wacht_op_bed":
            part = "without_a_bed:" + rules.waiting.get(reason, rules.default_waiting)
        elif dst == "weg":  # nights away between spells in a night-shelter bed
            part = "away_from_a_night_shelter"
        elif dst in log.shelter and fac:
            part = "in_shelter_bed"
        elif dst in log.pools or (dst in log.waiting and src in log.pools and reason != "cut"):
            part = "in_a_place"
        elif dst in log.waiting:
            part = "waiting_for_a_place"
        elif dst == "bct":
            part = "at_bct"
        elif reason.split("/")[0] in channels:
            part = "housed"
        elif reason in ("wlz", "wlz_transfer"):
            part = "in_long_term_care"
        elif reason in NON_SHELTER_OUTCOMES:
            part = "no_decision_for_shelter"
        else:  # left without housing after a decision for shelter: followed for a while
            assert reason in rules.after_exit, reason
            cap = min(b, a + rules.out_of_sight_days)
            state = rules.after_exit_state.get(reason, "out_of_sight")
            out.append((log.client[i], a, cap, "without_a_bed:" + state))
            a, part = cap, "after_leaving"
        out.append((log.client[i], a, b, part))
    return out


def test_people_and_nights_without_a_bed(case: tuple[Any, Any, Log]) -> None:
    model, rep, log = case
    spans = parts_of(model, log)
    without = [s for s in spans if s[3].startswith("without_a_bed")]
    np.testing.assert_allclose(metric(rep, "nights_without_a_bed").loc[YEARS].to_numpy(),
                               nights(without, model), rtol=1e-9)
    for state in ("street", "with_others", "in_hotel", "out_of_sight"):
        mine = [s for s in without if s[3] == f"without_a_bed:{state}"]
        np.testing.assert_allclose(metric(rep, "nights_without_a_bed", state).loc[YEARS].to_numpy(),
                                   nights(mine, model), rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(metric(rep, "people_without_a_bed").loc[YEARS].to_numpy(),
                                  persons(without, model))
    beds = [s for s in spans if s[3] == "in_shelter_bed"]
    np.testing.assert_array_equal(metric(rep, "people_sheltered").loc[YEARS].to_numpy(),
                                  persons(beds, model))
    gone = [s for s in spans if s[3] == "after_leaving"]
    np.testing.assert_allclose(metric(rep, "nights_after_leaving").loc[YEARS].to_numpy(),
                               nights(gone, model), rtol=1e-9)
    # most nights without a bed are not on the street: the headline is not the street
    assert (metric(rep, "nights_without_a_bed") > 2 * metric(rep, "nights_without_a_bed", "street")).all()


def test_every_night_of_every_person_is_in_one_part(case: tuple[Any, Any, Log]) -> None:
    """The parts of person_nights equal the replay, and add up to the nights from each
    person's first event to the end: none counted twice, none lost."""
    model, rep, log = case
    spans = parts_of(model, log)
    for part in ("in_shelter_bed", "away_from_a_night_shelter", "after_leaving", "at_bct",
                 "in_a_place", "waiting_for_a_place",
                 "housed", "in_long_term_care", "no_decision_for_shelter"):
        mine = [s for s in spans if s[3] == part]
        np.testing.assert_allclose(metric(rep, "person_nights", part).loc[YEARS].to_numpy(),
                                   nights(mine, model), rtol=1e-9, atol=1e-6, err_msg=part)
    end = day_of(model, f"{YEARS[-1] + 1}-01-01")
    alive = [(c, t, end, "") for c, t in zip(log.client[log.first], log.time[log.first], strict=True)]
    np.testing.assert_allclose(metric(rep, "person_nights").loc[YEARS].to_numpy(),
                               nights(alive, model), rtol=1e-9)


def test_a_stay_goes_on_through_moves_and_lists_keep_their_order(case: tuple[Any, Any, Log]) -> None:
    """A stay runs from taking a bed to leaving the bed stages: a move to another bed goes on
    with it (placements, mean length and long stays recomputed); an indication is counted
    once however often the client moves, and the wait for a place runs from it."""
    model, rep, log = case
    check_facility_column(log)
    assert (log.reason == "moved").sum() > 5 and (log.reason == "cut").sum() > 5
    e = edges(model)
    begun, ended, length, long = (np.zeros(len(YEARS)) for _ in range(4))
    start = math.nan
    for i in range(len(log.client)):
        takes = log.dst[i] in log.shelter and log.facility[i] and log.src[i] not in log.shelter
        leaves = log.src[i] in log.shelter and log.facility[i] and log.dst[i] not in log.shelter
        if takes:
            start = log.time[i]
            k = np.searchsorted(e, start, side="right") - 1
            if 0 <= k < len(YEARS):
                begun[k] += 1
        elif leaves:
            k = np.searchsorted(e, log.time[i], side="right") - 1
            if 0 <= k < len(YEARS):
                ended[k] += 1
                length[k] += log.time[i] - start
                long[k] += log.time[i] - start > 270.0
    np.testing.assert_array_equal(metric(rep, "shelter_placements").loc[YEARS].to_numpy(), begun)
    np.testing.assert_allclose(metric(rep, "mean_stay_days").loc[YEARS].to_numpy(), length / ended,
                               rtol=1e-9)
    np.testing.assert_array_equal(metric(rep, "stays_over_9_months").loc[YEARS].to_numpy(), long)
    indicated = (log.dst == "bw_wachtlijst") & (log.reason == "indicated")
    per_year = np.histogram(log.time[indicated], e)[0]
    np.testing.assert_array_equal(metric(rep, "bw_indications").loc[YEARS].to_numpy(), per_year)


def test_a_moved_waiter_keeps_their_place_on_the_list() -> None:
    """Places of the BW pool are given in order of indication to the clients waiting in a
    shelter bed, also to those who moved to another bed or lost theirs meanwhile: nobody
    indicated later is placed before a client who is still waiting."""
    raw = short(haarlem_raw(), end_year=2022, warmup=1)
    raw["facilities"]["wilhelminastraat"]["schedule"]["2020-06-01"] = {"places": 10}
    raw["facilities"]["velserpoort"]["schedule"]["2021-06-01"] = {"places": 20}
    raw["places"]["bw"]["direct_applicants_per_year"] = 0.0
    raw["places"]["bw"]["initial_waiting"] = 0
    raw["places"]["bw"]["schedule"] = {"2019-01-01": 60}  # scarce: shelter clients wait
    raw["places"]["bw"]["initial_occupants"] = 60
    _, rep = run(raw, SEED)
    log = Log(rep.events)
    joined: dict[int, float] = {}
    placed: list[tuple[float, float, int]] = []  # (time placed, time joined, client)
    for i in range(len(log.client)):
        c = log.client[i]
        if log.dst[i] == "bw_wachtlijst" and log.reason[i] == "indicated":
            joined[c] = log.time[i]
        elif log.dst[i] == "bw" and c in joined:
            placed.append((log.time[i], joined.pop(c), c))
        elif log.dst[i] == "uitstroom":
            joined.pop(c, None)
    moved = {c for c, r, d in zip(log.client, log.reason, log.dst, strict=True)
             if r in ("moved", "cut", "away") and d in ("bw_wachtlijst", "wacht_op_bed", "weg")}
    assert len(placed) > 30 and moved & {c for _, _, c in placed}, "moved waiters were placed"
    placed.sort()
    for k, (t, since, c) in enumerate(placed):
        later = [other for t2, s2, other in placed[k + 1:] if s2 < since and t2 > t]
        assert not later, f"client {c} (joined {since}) placed at {t} before {later[:3]}"


def test_people_who_avoid_dormitories_wait_for_another_bed() -> None:
    """recovery.refuse_room_type: a client avoids dormitories when their own uniform is below
    the share (about that share of those with a decision for shelter, binomial 99 %
    interval); they never take a dormitory bed, and wait outside, give up or get another bed
    by the same rules as everyone; with share 0 the run is the baseline's."""
    raw = short(haarlem_raw(), end_year=2020, warmup=1)
    raw["recovery"]["refuse_room_type"] = {"dormitory": 0.3}
    model = build(raw)
    region, events = run_region(model, SEED)
    log = Log(events)
    check_facility_column(log)
    avoid, episode = avoiders(region, log, 0.3)
    share = np.mean(list(avoid.values()))
    half = 2.576 * math.sqrt(0.3 * 0.7 / len(avoid))
    assert len(avoid) > 300 and abs(share - 0.3) < half
    dorms = {f.name for f in model.facilities.values()
             if {e.room_type for e in f.schedule.values() if e.room_type} == {"dormitory"}}
    in_dorm = np.flatnonzero(np.isin(log.facility, list(dorms)) & np.isin(log.dst, log.shelter))
    assert not any(avoid.get((log.client[i], episode[i]), False) for i in in_dorm), \
        "an avoider in a dormitory"
    ends: dict[bool, set[str]] = defaultdict(set)  # how waits outside end, for each kind
    for i in np.flatnonzero(log.src == "wacht_op_bed"):
        kind = avoid.get((log.client[i], episode[i]))
        if kind is not None:
            ends[kind].add("bed" if log.facility[i] else log.reason[i])
    assert {"bed", "gave_up"} <= ends[True] <= ends[False]
    raw["recovery"]["refuse_room_type"] = {"dormitory": 0.0}
    _, none = run(raw, SEED)
    _, default = run(short(haarlem_raw(), end_year=2020, warmup=1), SEED)
    assert none.events.equals(default.events)


def avoiders(region: Any, log: Log, share: float) -> tuple[dict[tuple[int, int], bool], np.ndarray]:
    """Whether each decision for shelter (client, episode) is of a client who avoids
    dormitories, from their own uniform (row k of their group's draws, the decision's
    episode); and the episode of each event of the log."""
    group_of = np.array(region.rec.client_group, dtype=np.int64)
    out: dict[tuple[int, int], bool] = {}
    episode_of = np.zeros(len(log.client), dtype=int)
    reports: dict[int, int] = defaultdict(int)
    for i in range(len(log.client)):
        c = int(log.client[i])
        if log.dst[i] == "bct":
            reports[c] += 1
        episode = episode_of[i] = reports[c] - 1
        decided = log.src[i] == "bct" and log.dst[i] in ("opvang", "wacht_op_bed")
        if decided and episode < EPISODES:
            g = int(group_of[c])
            k = int(np.searchsorted(np.flatnonzero(group_of == g), c))  # the group's k-th client
            out[(c, episode)] = bool(region.draws[region.group_names[g]].rows[k, episode, AVOID] < share)
    return out, episode_of


def test_the_bed_nights_a_cut_removes_are_found_again() -> None:
    """The bed-night balance (sim.study.balance): paired replication by replication, the
    changes of the parts of person_nights add up to zero (the same people, every night in one
    part), and the beds cut are nights in a bed lost."""
    import pandas as pd

    from sim.batch.runner import run as run_model
    from sim.study.balance import balance, paired_parts

    raw = short(haarlem_raw(), end_year=2021, warmup=1)
    tables = []
    for scenario, places in (("as_now", 30), ("cut", 10)):
        raw["facilities"]["wilhelminastraat"]["schedule"]["2020-01-01"] = {"places": places}
        annual = run_model(build(raw), 4, SEED, scenario=scenario, progress=False).tables["annual"]
        tables.append(annual.assign(scenario=scenario))
    paired = paired_parts(pd.concat(tables, ignore_index=True), "as_now", (2020, 2021))
    parts = paired["person_nights"].drop(columns="total")
    np.testing.assert_allclose(parts.sum(axis=1).to_numpy(), 0.0, atol=1e-6)
    assert (parts["in_shelter_bed"] < -1000).all()  # 20 beds a year fewer, well used
    table = balance(paired)
    assert abs(table.loc["sum_of_all_changes", "cut"]) < 1e-6
    assert table.loc["bed_nights_removed", "cut"] > 0
    assert table.loc["share_both", "cut"] > 0  # some of the removed nights are without a bed
