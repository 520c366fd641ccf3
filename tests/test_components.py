"""Each component alone in a bare SimPy environment, and new kinds as model-file data only.

The waiting-list base, shelters, place pools and channels are driven here without the
journey: a test stands in for the client processes and checks what each component gives
whom, and when. The last tests add a third place pool and a new regime to a model file
and find their figures in the yearly table.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
import simpy
from simcheck import Log, check_chains, check_stocks_match_daily, haarlem_raw, metric, minimal_raw, run, short

from sim.components.housing import Channel, Housing
from sim.components.places import Places
from sim.components.shelters import Facility, Recovery, ScheduleEntry, Shelters, Winter
from sim.engine.calendar import Calendar
from sim.engine.client import Client
from sim.engine.log import Recorder
from sim.engine.queues import COMPACT_FROM, WaitingLists
from sim.engine.streams import Streams


class Draws:
    """Stands in for a group's variates: every column the same value."""

    def __init__(self, value: float = 0.5) -> None:
        self.value = value

    def episode_row(self, k: int, episode: int) -> list[float]:
        return [self.value] * 40


def client(env: simpy.Environment, cid: int) -> Client:
    """A client with a fresh wake event, as the journey makes one before it waits."""
    c = Client(cid, 0, "single_adult", False, False, Draws(), cid)
    c.wake = env.event()
    return c


def served(c: Client) -> Any:
    """The value a client's wake was succeeded with (None: not served)."""
    assert c.wake is not None
    return c.wake.value if c.wake.triggered else None


# --- the waiting-list base -----------------------------------------------------------------


def test_serve_gives_to_the_oldest_waiter_across_the_lists_it_is_asked_for() -> None:
    env = simpy.Environment()
    lists: WaitingLists[str] = WaitingLists(env)
    a, b, c = (client(env, i) for i in range(3))
    lists.join(a, "x")
    env.run(until=1.0)
    lists.join(b, "y")
    lists.join(c, "x")
    assert lists.waiting == 3
    assert lists.serve(["y"], "bed 1") is b  # only list y is asked: b, although a is older
    assert lists.serve(["x", "y"], "bed 2") is a  # the oldest across x and y
    assert served(a) == "bed 2" and served(b) == "bed 1" and served(c) is None
    assert lists.waiting == 1 and lists.live("x") == 1


def test_a_waiter_who_left_is_skipped_and_a_tie_goes_to_the_first_list() -> None:
    env = simpy.Environment()
    lists: WaitingLists[str] = WaitingLists(env)
    a, b, c = (client(env, i) for i in range(3))
    lists.join(a, "x")
    lists.join(b, "y")
    lists.join(c, "x")
    lists.leave(a)  # a's timer fired: lazy removal
    assert lists.waiting == 2 and lists.live("x") == 1
    assert lists.serve(["y", "x"], 1) is b  # b and c joined at the same time: y comes first
    assert lists.serve(["x"], 2) is c
    assert lists.serve(["x", "y"], 3) is None
    assert served(a) is None and lists.waiting == 0


def test_a_waiter_with_a_new_wait_is_not_served_by_its_old_entry() -> None:
    env = simpy.Environment()
    lists: WaitingLists[str] = WaitingLists(env)
    a = client(env, 0)
    lists.join(a, "x")
    lists.leave(a)
    a.wake = env.event()  # a later wait, on another list
    lists.join(a, "y")
    assert lists.serve(["x"], "stale") is None
    assert lists.serve(["y"], "fresh") is a and served(a) == "fresh"


def test_stale_entries_are_dropped_once_they_are_most_and_the_order_is_kept() -> None:
    env = simpy.Environment()
    lists: WaitingLists[str] = WaitingLists(env)
    clients = [client(env, i) for i in range(1000)]
    for i, c in enumerate(clients):
        lists.join(c, "xy"[i % 2])
    staying = clients[::10]  # 100 keep waiting, 900 leave (their timers fired)
    for c in clients:
        if c not in staying:
            lists.leave(c)
    entries = sum(len(d) for d in lists.lists.values())
    assert lists.entries == entries <= 2 * lists.waiting + COMPACT_FROM  # not 1,000
    assert lists.waiting == 100 and lists.live("x") == 100  # every tenth joined list x
    assert [lists.serve(["x", "y"], k) for k in range(100)] == staying  # oldest first


# --- shelters ----------------------------------------------------------------------------


def shelters(env: simpy.Environment) -> Shelters:
    """Two facilities on one route: A (2 places, 1 from day 10) and B (1 place)."""
    entry = {"regime": "24-uurs", "room_type": "single"}
    facilities = {
        "a": Facility("A", "regional", "all", "24-uurs", {
            "2000-01-01": ScheduleEntry(places=2, **entry),
            "2000-01-11": ScheduleEntry(places=1)}, 100.0),
        "b": Facility("B", "regional", "all", "24-uurs",
                      {"2000-01-01": ScheduleEntry(places=1, **entry)}, 100.0),
    }
    recovery = Recovery({"24-uurs": 1.5}, {"single": 2.0}, {"24-uurs": 0.5})
    out = Shelters(env, Calendar(dt.date(2000, 1, 1)), facilities,
                   {"mo": {"single_adult": ("a", "b")}}, recovery, Winter())
    out.start(2000, 2000)
    return out


def test_shelters_place_in_route_order_and_a_freed_bed_goes_to_the_longest_waiting() -> None:
    env = simpy.Environment()
    pools = shelters(env)
    env.run(until=1.0)
    key = ("mo", "single_adult", ())
    placed = [pools.place(key) for _ in range(4)]
    assert [p.name if p else None for p in placed] == ["A", "A", "B", None]
    assert placed[0] is not None and placed[0].speed == 3.0 and placed[0].departure == 0.5
    first, second = client(env, 0), client(env, 1)
    pools.enqueue(first, key)
    env.run(until=2.0)
    pools.enqueue(second, key)
    occupant = client(env, 9)
    pools.release(placed[2], occupant)  # B frees up
    assert served(first) is placed[2] and served(second) is None
    env.run(until=20.0)  # A is cut to 1 place on day 10: a freed A bed is not given again
    assert pools.pools[0].capacity == 1
    pools.release(placed[0], occupant)
    assert served(second) is None and pools.pools[0].occupied == 1
    pools.release(placed[1], occupant)
    assert served(second) is placed[1] and pools.pools[0].occupied == 1


# --- place pools -------------------------------------------------------------------------


def test_places_give_in_order_of_request_and_stand_empty_between_occupants() -> None:
    env = simpy.Environment()
    places = Places(env, vacancy_days=5.0)
    places.start(Calendar(dt.date(2000, 1, 1)), {"2000-01-01": 1})
    env.run(until=1.0)
    a, b = client(env, 0), client(env, 1)
    places.request(a)
    places.request(b)
    assert served(a) == "place" and served(b) is None
    places.hold(a)
    env.run(until=3.0)
    places.vacate(a)  # a's stay is over on day 3 ...
    places.release(a)  # ... and a leaves: the place is vacant until day 8
    env.run(until=7.9)
    assert served(b) is None and places.vacant == 1
    env.run(until=8.1)
    assert served(b) == "place" and places.vacant == 0 and places.occupied == 1


# --- channels ----------------------------------------------------------------------------


def housing(env: simpy.Environment, channels: dict[str, Channel]) -> Housing:
    out = Housing(env, Calendar(dt.date(2000, 1, 1)), channels, Recorder())
    out.start(Streams(1, 0), 3650.0)
    return out


def test_a_home_search_splits_queued_channels_from_hazards() -> None:
    env = simpy.Environment()
    channels = {
        "pact": Channel("quota", ("shelter",), homes_per_year={"x": 10.0}, realisation={"x": 1.0}),
        "regular": Channel("hazard", ("shelter", "bw"), rate_per_year=36.5),
        "other": Channel("hazard", ("shelter",), rate_per_year=73.0),
        "skaeve": Channel("capacity", ("shelter",), homes=1, stay_days=10.0, only_skaeve=True),
    }
    search = housing(env, channels).search(("pact", "regular", "other", "skaeve"), "shelter", False, "")
    assert search.eligibility == ("pact",)
    assert search.names == ["regular", "other"]
    assert search.mean_wait == pytest.approx(1 / 0.3)  # 0.1 + 0.2 a day
    assert search.cumulative == pytest.approx([1 / 3, 1.0])
    bw = housing(env, channels).search(("pact", "regular", "other"), "bw", False, "")
    assert bw.eligibility == () and bw.names == ["regular"]


def test_a_quota_channel_houses_the_longest_waiting_and_counts_unused_homes() -> None:
    env = simpy.Environment()
    homes = housing(env, {"pact": Channel("quota", ("shelter",), homes_per_year={"x": 365.0},
                                          realisation={"x": 1.0})})
    a, b = client(env, 0), client(env, 1)
    homes.enqueue(a, ("pact",))
    homes.enqueue(b, ("pact",))
    env.run(until=30.0)  # about 30 homes: both housed, the rest unused
    assert served(a) == "pact" and served(b) == "pact"
    unused = len(homes.recorder.unused_time)
    assert 10 < unused < 60


def test_a_capacity_home_is_offered_again_when_its_stay_ends() -> None:
    env = simpy.Environment()
    homes = housing(env, {"skaeve": Channel("capacity", ("shelter",), homes=1, stay_days=10.0,
                                            only_skaeve=True)})
    env.run(until=1.0)  # the home is open and free
    a, b = client(env, 0), client(env, 1)
    homes.enqueue(a, ("skaeve",))  # takes the free home at once
    homes.enqueue(b, ("skaeve",))
    assert served(a) == "skaeve" and served(b) is None
    stay = 1.0 - 10.0 * np.log1p(-0.5)  # the stand-in variates: every uniform is 0.5
    env.run(until=stay - 0.01)
    assert served(b) is None
    env.run(until=stay + 0.01)
    assert served(b) == "skaeve"


# --- new kinds are data only -----------------------------------------------------------------


def test_another_place_pool_is_a_table_in_the_model_file() -> None:
    """A pool reached from beschermd wonen, added as data: its figures appear, clients flow."""
    raw = short(haarlem_raw(), end_year=2020, warmup=1)
    raw["places"]["langdurig"] = {"label": "langdurig", "schedule": {"2019-01-01": 40},
                                  "stay_days": 2000.0, "exit": {"wlz": 1.0}, "cost_per_day": 250.0}
    raw["places"]["bw"]["exit"] = {"beschut": 0.3, "ambulant": 0.4, "wlz_ggz": 0.1, "langdurig": 0.2}
    model, rep = run(raw, 5)
    log = Log(rep.events)
    check_chains(log)
    check_stocks_match_daily(log, rep.daily, [f.name for f in model.facilities.values()])
    assert (log.dst == "langdurig").sum() > 10
    assert ((log.src == "bw") & (log.dst == "langdurig_wachtlijst")).any()
    occupancy = metric(rep, "bw_occupancy", "langdurig")
    assert (occupancy > 0).all() and (occupancy <= 40).all()
    assert (metric(rep, "bw_places", "langdurig") == 40).all()
    assert (metric(rep, "place_flows", "beschermd_wonen_to_langdurig") > 0).all()
    assert (metric(rep, "cost_eur", "beschermd_wonen") > 0).all()
    for name in ("langdurig_waiting_list", "mean_wait_langdurig_days", "langdurig_indications",
                 "langdurig_clients"):
        assert len(metric(rep, name)) == 2, name


def test_a_pool_added_leaves_the_other_draws_as_they_were() -> None:
    from sim.model.files import from_mapping
    from sim.replication.journey import Region

    raw = short(haarlem_raw(), end_year=2019, warmup=0)
    base = from_mapping(raw, "<test>")
    raw["places"]["extra"] = {"label": "extra", "schedule": {"2019-01-01": 0},
                              "stay_days": 100.0, "exit": {"ambulant": 1.0}}
    more = from_mapping(raw, "<test>")
    regions = []
    for model in (base, more):
        region = Region(model, Streams(9, 0), Recorder())
        region.start()
        regions.append(region)
    for name in base.groups:
        old, new = regions[0].draws[name].rows, regions[1].draws[name].rows
        np.testing.assert_array_equal(old, new[..., : old.shape[2]])


def test_a_new_regime_is_reported_under_its_own_name() -> None:
    raw = minimal_raw(places=5, arrivals_per_year=50.0, end_year=2020)
    raw["recovery"]["regime"]["hotel"] = 1.0
    raw["recovery"]["departure"]["hotel"] = 1.0
    raw["facilities"]["f"]["schedule"]["2000-01-01"]["regime"] = "hotel"
    raw["facilities"]["f"]["report_as"] = "hotel"
    _, rep = run(raw, 3)
    users, nights = metric(rep, "hotel_users"), metric(rep, "hotel_nights")
    assert (users > 0).all() and (nights > 0).all()
    assert nights.iloc[1] == pytest.approx(5 * 366, rel=0.02)  # five places, full all of 2020
    assert (metric(rep, "share_of_facility_days_full", "hotel") > 0.9).all()
    assert (metric(rep, "opvang_24uurs_users") == 0).all()  # nothing left in the 24-hour regime


def test_a_client_back_in_line_is_put_where_their_first_joining_belongs() -> None:
    """join(since=...): a client who had to step out (their bed moved, or they lost it) is
    put back among the others by the time they first joined, passing over stale entries."""
    env = simpy.Environment()
    lists: WaitingLists[str] = WaitingLists(env)
    a, b, c = client(env, 0), client(env, 1), client(env, 2)
    lists.join(a, "x")
    env.run(until=1.0)
    lists.join(b, "x")
    env.run(until=2.0)
    lists.join(c, "x")
    lists.leave(a)  # a steps out at day 2 ...
    a.wake = simpy.Event(env)
    assert lists.join(a, "x", since=0.0) == 0.0  # ... and is back, first in line again
    lists.leave(b)  # b steps out for good: a stale entry
    late = client(env, 3)
    assert lists.join(late, "x", since=1.5) == 1.5  # between b's old place and c
    order = [lists.serve(["x"], k) for k in range(4)]
    assert order == [a, late, c, None]


def test_places_cut_below_the_people_in_them_take_the_last_admitted() -> None:
    """A cut below the people in the places takes the places of the most recently admitted
    (their wake succeeds with "cut"), of those in their stay first, then of those waiting to
    leave; the count of places held follows."""
    env = simpy.Environment()
    places = Places(env)
    places.start(Calendar(dt.date(2000, 1, 1)), {"2000-01-01": 3, "2000-01-10": 1})
    env.run(until=1.0)
    people = [client(env, k) for k in range(3)]
    for person in people:
        places.request(person)
        assert served(person) == "place"
        person.wake = env.event()  # the stay (or the wait to leave) the client waits on now
        places.hold(person)
    places.vacate(people[2])  # the last admitted waits to leave, holding the place
    env.run(until=11.0)
    assert [served(p) for p in people] == ["cut", "cut", None]  # the last in their stay first
    assert places.occupied == 1 and not places.occupants and list(places.leaving) == [people[2].id]
    places.set_capacity(0)  # then those holding a place while they wait to leave it
    env.run(until=12.0)
    assert served(people[2]) == "cut" and places.occupied == 0 and not places.leaving
