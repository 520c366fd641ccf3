"""Shared helpers for the engine tests: model building and checks on the event log.

The checks re-derive what the engine must have done from its event log and compare it with
the daily table and the yearly metrics, independently of :mod:`sim.measure.metrics`.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.model.files import from_mapping, read_toml
from sim.model.root import Model
from sim.replication.replicate import Replication, run_replication

ROOT = Path(__file__).resolve().parents[1]
HAARLEM = ROOT / "models" / "haarlem.toml"

BASE = ("buiten", "bct", "wacht_op_bed", "opvang", "klaar", "uitstroom", "weg")
# Every move of a shelter client sim/replication/journey.py can log (besides a return, buiten ->
# bct after uitstroom); the moves of place pools, and of a client in a stage that waits for a
# place, are added per pool by Log.
SHELTER_MOVES = {
    ("buiten", "bct"), ("bct", "uitstroom"), ("bct", "wacht_op_bed"), ("bct", "opvang"),
    ("wacht_op_bed", "uitstroom"), ("opvang", "uitstroom"), ("opvang", "klaar"),
    ("klaar", "uitstroom"), ("weg", "wacht_op_bed"), ("weg", "uitstroom"),
}


@cache
def _haarlem() -> dict[str, Any]:
    return read_toml(HAARLEM)


def haarlem_raw() -> dict[str, Any]:
    """A fresh deep copy of the parsed baseline model file."""
    return copy.deepcopy(_haarlem())


def short(raw: dict[str, Any], end_year: int = 2019, warmup: int = 0) -> dict[str, Any]:
    """Set a short horizon on a raw model (in place) and return it."""
    raw["simulation"]["end_year"] = end_year
    raw["simulation"]["warmup_years"] = warmup
    return raw


def build(raw: dict[str, Any]) -> Model:
    return from_mapping(raw, "<test>")


def run(raw: dict[str, Any], seed: int = 1, replication: int = 0) -> tuple[Model, Replication]:
    model = build(raw)
    return model, run_replication(model, seed, replication, events=True)


def metric(rep: Replication, name: str, group: str = "total") -> pd.Series:
    """One yearly metric as a Series indexed by year."""
    a = rep.annual
    sel = a[(a["metric"] == name) & (a["group"] == group)]
    return sel.set_index("year")["value"].sort_index()


def day_of(model: Model, date: dt.date | str) -> float:
    if isinstance(date, str):
        date = dt.date.fromisoformat(date)
    return float((date - model.simulation.start).days)


def horizon(model: Model) -> float:
    return day_of(model, dt.date(model.simulation.end_year + 1, 1, 1))


# --- the event log ---------------------------------------------------------------------


class Log:
    """The event log as plain numpy columns, in logging order, grouped by client.

    The place pools are read from the stage categories: after the base stages, each pool ``p``
    has ``p_wachtlijst`` and ``p``. ``shelter`` are the stages that can hold a shelter bed,
    ``first`` those where a client can first appear, ``legal`` every move the engine can log.
    """

    def __init__(self, events: pd.DataFrame) -> None:
        ev = events.reset_index(drop=True)
        stages = list(ev["from"].cat.categories)
        self.pools = [s for s in stages if s not in BASE and not s.endswith("_wachtlijst")]
        waiting = [f"{p}_wachtlijst" for p in self.pools]
        self.shelter = ("opvang", "klaar", *waiting)
        self.waiting = waiting
        self.entry = {"bct", *self.pools, *waiting, "opvang", "klaar", "wacht_op_bed"}
        self.legal = set(SHELTER_MOVES)
        # in the shelters at the start (groups.<g>.initial): in a bed, ready, or waiting
        self.legal |= {("buiten", "opvang"), ("buiten", "klaar"), ("buiten", "wacht_op_bed")}
        # in a bed: to another bed (same stage, "moved"), outside after a cut ("cut"), nights
        # elsewhere ("away"), and back into a bed in the stage they were in ("bed")
        for s in self.shelter:
            self.legal |= {(s, s), (s, "wacht_op_bed"), (s, "weg"), ("wacht_op_bed", s),
                           ("weg", s)}
        for p, w in zip(self.pools, waiting, strict=True):
            # a place given in a bed, at home, or without a bed (waiting or away); a place
            # lost to a cut (back on the list); moved with the place to another pool
            self.legal |= {("buiten", p), ("buiten", w), ("opvang", w), (w, "uitstroom"), (w, p),
                           ("wacht_op_bed", p), ("weg", p), (p, w), (p, "uitstroom"),
                           *((p, other) for other in waiting if other != w),
                           *((p, other) for other in self.pools if other != p)}
        # a stable sort by client keeps each client's events in the order they were logged
        order = np.argsort(ev["client"].to_numpy(), kind="stable")
        self.order = order
        self.client = ev["client"].to_numpy()[order]
        self.time = ev["time"].to_numpy()[order]
        self.src = ev["from"].astype(str).to_numpy()[order]
        self.dst = ev["to"].astype(str).to_numpy()[order]
        self.facility = ev["facility"].astype(str).to_numpy()[order]
        self.reason = ev["reason"].astype(str).to_numpy()[order]
        n = len(self.client)
        self.first = np.r_[True, self.client[1:] != self.client[:-1]] if n else np.zeros(0, bool)
        self.last = np.r_[self.client[1:] != self.client[:-1], True] if n else np.zeros(0, bool)
        # the state entered by each event lasts until the client's next event
        self.until = np.where(self.last, math.inf, np.r_[self.time[1:], math.inf][:n])
        # the raw log order, for replaying counters event by event
        self.raw = ev


def check_chains(log: Log) -> None:
    """Each client's events form one unbroken chain of legal moves, in time order."""
    assert (log.src[log.first] == "buiten").all(), "a client's first event does not start outside"
    assert set(log.dst[log.first]) <= log.entry, \
        f"first events into {set(log.dst[log.first]) - log.entry}"
    first_bct = log.first & (log.dst == "bct")
    assert (log.reason[first_bct] == "arrival").all()
    assert not (log.dst == "buiten").any(), "nobody is ever logged back to 'buiten'"
    prev_dst = np.concatenate([[""], log.dst[:-1]])
    later = ~log.first
    is_return = later & (prev_dst == "uitstroom")
    # a return episode is logged as buiten -> bct with reason 'return'
    assert (log.src[is_return] == "buiten").all(), "an event after uitstroom not from buiten"
    assert (log.dst[is_return] == "bct").all(), "an event after uitstroom not a BCT return"
    assert (log.reason[is_return] == "return").all()
    # BW applicants and the initial BW stock (first seen outside the BCT) never return
    start = np.maximum.accumulate(np.where(log.first, np.arange(len(log.first)), 0))
    direct = np.isin(log.dst[start], [*log.pools, *log.waiting])
    assert not (is_return & direct).any(), "a direct BW client returned"
    assert (log.reason[log.dst == "bct"] != "return").sum() == first_bct.sum(), \
        "a BCT report that is neither a first arrival nor a return"
    cont = later & ~is_return
    bad = cont & (log.src != prev_dst)
    assert not bad.any(), (
        f"{bad.sum()} broken chains, e.g. client {log.client[bad][0]}: "
        f"{prev_dst[bad][0]} then {log.src[bad][0]}->{log.dst[bad][0]}")
    moves = set(zip(log.src, log.dst, strict=True))
    assert moves <= log.legal, f"illegal moves {moves - log.legal}"
    gaps = np.diff(log.time)[~log.first[1:]]
    assert (gaps >= 0).all(), f"time runs backwards within a client (min gap {gaps.min()})"
    assert np.isfinite(log.time).all()


def check_facility_column(log: Log) -> None:
    """A client holds one shelter bed from taking it until leaving the bed stages (or moving
    to another bed), and every event while holding it names that facility; other events name
    none."""
    held = ""
    for i in range(len(log.client)):
        if log.first[i]:
            held = ""
        src, dst, fac = log.src[i], log.dst[i], log.facility[i]
        if log.reason[i] == "moved":
            assert held and fac not in ("", held), f"client {log.client[i]} moved from {held!r} to {fac!r}"
            held = fac
        elif held:
            assert src in log.shelter and fac == held, \
                f"client {log.client[i]} {src}->{dst} at {fac!r}, holds {held!r}"
            if dst not in log.shelter:
                held = ""
        elif dst in log.shelter and fac:  # takes a bed
            assert src in ("bct", "wacht_op_bed", "weg") or (src == "buiten" and log.first[i]), \
                f"client {log.client[i]} {src}->{dst} {fac}"  # buiten: in a bed at the start
            held = fac
        else:
            assert fac == "", f"client {log.client[i]} {src}->{dst} names {fac!r} without a bed"
            assert dst != "opvang", f"client {log.client[i]} placed without a facility"
        if src == "opvang" and dst in log.waiting:
            assert held, "an indication in shelter without a bed"


def list_spans(log: Log, pool: str) -> tuple[np.ndarray, np.ndarray]:
    """(join, leave) times of every wait on ``pool``'s waiting list, replayed from the log: a
    client joins with an indication (or when a cut took their place) and stays on the list,
    in a shelter bed or not, until they get a place of the pool or leave the system."""
    joins, leaves = [], []
    on = math.nan
    for i in range(len(log.client)):
        if log.first[i]:
            if not math.isnan(on):
                leaves.append(math.inf)
            on = math.nan
        dst = log.dst[i]
        if dst == f"{pool}_wachtlijst" and (log.reason[i] == "indicated" or (
                log.reason[i] == "cut" and log.src[i] == pool)):
            assert math.isnan(on), f"client {log.client[i]} joins {pool}'s list twice"
            on = log.time[i]
            joins.append(on)
        elif not math.isnan(on) and dst in (pool, "uitstroom"):
            leaves.append(log.time[i])
            on = math.nan
    if not math.isnan(on):
        leaves.append(math.inf)
    return np.array(joins, dtype=float), np.array(leaves, dtype=float)


def count_spans(start: np.ndarray, end: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Spans [start, end) covering each day."""
    return (np.searchsorted(np.sort(start), days, side="right")
            - np.searchsorted(np.sort(end), days, side="right"))


def counts_at(log: Log, mask: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Clients in the states entered by the masked events, at each day (no ties assumed)."""
    start = np.sort(log.time[mask])
    end = np.sort(log.until[mask])
    return (np.searchsorted(start, days, side="left")
            - np.searchsorted(end, days, side="left"))


def untied_days(log: Log, days: np.ndarray) -> np.ndarray:
    """Days at which no event happens at exactly that time (so the snapshot is unambiguous)."""
    at = np.isin(days, log.time)
    return days[~at]


def daily_wide(daily: pd.DataFrame, column: str) -> pd.DataFrame:
    return daily.pivot(index="day", columns="facility", values=column).sort_index()


def check_stocks_match_daily(log: Log, daily: pd.DataFrame,
                             facilities: list[str]) -> int:
    """Stage counts derived from the log equal the daily snapshots on every untied day.

    Returns the number of days compared.
    """
    occ = daily_wide(daily, "occupancy")
    queue = daily_wide(daily, "queue")
    days = untied_days(log, occ.index.to_numpy().astype(float))
    idx = days.astype(int)
    in_shelter = np.isin(log.dst, log.shelter) & (log.facility != "")
    for name in facilities:
        got = counts_at(log, in_shelter & (log.facility == name), days)
        want = occ.loc[idx, name].to_numpy()
        bad = np.flatnonzero(got != want)
        assert not len(bad), (f"{name}: day {idx[bad[0]]} log says {got[bad[0]]} in shelter, "
                              f"daily occupancy {want[bad[0]]}")
    checks = [("klaar", log.dst == "klaar", occ), ("wacht_op_bed", log.dst == "wacht_op_bed", queue),
              ("weg", log.dst == "weg", occ)]
    for pool in log.pools:
        checks.append((pool, holds_place(log, pool), occ))
        got = count_spans(*list_spans(log, pool), days)
        want = queue.loc[idx, pool].to_numpy()
        bad = np.flatnonzero(got != want)
        assert not len(bad), (f"{pool} list: day {idx[bad[0]]} log says {got[bad[0]]}, "
                              f"daily {want[bad[0]]}")
    for col, mask, table in checks:
        got = counts_at(log, mask, days)
        want = table.loc[idx, col].to_numpy()
        bad = np.flatnonzero(got != want)
        assert not len(bad), (f"{col}: day {idx[bad[0]]} log says {got[bad[0]]}, "
                              f"daily {want[bad[0]]}")
    return len(days)


def holds_place(log: Log, pool: str) -> np.ndarray:
    """Events after which the client holds a place of ``pool``: in it, or waiting from it
    for another pool's place."""
    return (log.dst == pool) | (np.char.endswith(log.dst.astype(str), "_wachtlijst")
                                & (log.src == pool) & (log.reason != "cut"))


# --- capacities ----------------------------------------------------------------------


def shelter_capacity(model: Model, fid: str, t: np.ndarray) -> np.ndarray:
    """Capacity of one facility at model times ``t``, computed from the model directly:
    the schedule's places (closed before the first entry) plus winter places during the
    winter season of a facility that is open (places > 0). A first entry dated on the start
    date is in force from the start of the warm-up."""
    fac = model.facilities[fid]
    start = model.simulation.start
    dates = sorted(fac.schedule, key=dt.date.fromisoformat)
    places = 0
    change_days = []
    values = []
    for d in dates:
        entry = fac.schedule[d]
        if entry.places is not None:
            places = entry.places
        change_days.append(float((dt.date.fromisoformat(d) - start).days))
        values.append(places)
    change_days = effective_days(model, change_days)
    idx = np.searchsorted(np.array(change_days), t, side="right") - 1
    places_at = np.where(idx >= 0, np.array(values)[np.maximum(idx, 0)], 0)
    winter = np.array([in_winter(model, start + dt.timedelta(days=math.floor(x))) for x in t],
                      dtype=bool)
    return places_at + np.where(winter & (places_at > 0), fac.winter_places, 0)


def in_winter(model: Model, date: dt.date) -> bool:
    """Whether ``date`` falls in the winter season [start, end) (possibly across new year)."""
    start = dt.date(2000, *map(int, model.winter.start.split("-")))
    end = dt.date(2000, *map(int, model.winter.end.split("-")))
    md = dt.date(2000, date.month, date.day)
    if start <= end:
        return start <= md < end
    return md >= start or md < end


def effective_days(model: Model, days: list[float]) -> list[float]:
    """When dated entries (days sorted) take effect: an entry before the run start at the
    run start, and a first entry on the start date (day 0) at the run start too."""
    start = model.simulation.start
    run_start = float((dt.date(start.year - model.simulation.warmup_years, 1, 1) - start).days)
    return [run_start if d <= run_start or (i == 0 and d == 0.0) else d
            for i, d in enumerate(days)]


def places_capacity(model: Model, schedule: dict[str, int], t: np.ndarray) -> np.ndarray:
    """A place pool's places at model times ``t`` (none before the first entry)."""
    items = sorted((day_of(model, d), n) for d, n in schedule.items())
    days = np.array(effective_days(model, [d for d, _ in items]))
    values = np.array([n for _, n in items])
    idx = np.searchsorted(days, t, side="right") - 1
    return np.where(idx >= 0, values[np.maximum(idx, 0)], 0)


def transferred(log: Log, pool: str, t: np.ndarray) -> np.ndarray:
    """Places moved with their occupants to another pool (negative) or from one (positive)
    by a wlz_transfer, up to each of the times ``t``, counted from the log."""
    moves = log.reason == "wlz_transfer"
    out = np.sort(log.time[moves & (log.src == pool)])
    into = np.sort(log.time[moves & (log.dst == pool)])
    return np.searchsorted(into, t, side="right") - np.searchsorted(out, t, side="right")


def check_daily_capacity(model: Model, daily: pd.DataFrame, log: Log) -> None:
    """The daily capacity equals the model's schedule (with winter places) every day; a
    pool's, with the places the Wlz transfer moved."""
    cap = daily_wide(daily, "capacity")
    days = cap.index.to_numpy().astype(float)
    for fid, fac in model.facilities.items():
        want = shelter_capacity(model, fid, days)
        got = cap[fac.name].to_numpy()
        bad = np.flatnonzero(got != want)
        assert not len(bad), (f"{fid}: day {int(days[bad[0]])} capacity {got[bad[0]]}, "
                              f"schedule says {want[bad[0]]}")
    for col, pool in model.places.items():
        want = places_capacity(model, pool.schedule, days) + transferred(log, col, days)
        got = cap[col].to_numpy()
        assert (got == want).all(), f"{col} capacity differs from its schedule"


def check_daily_never_over(model: Model, daily: pd.DataFrame) -> None:
    """Capacity holds: no facility or pool has more people than places on any day (a cut
    moves the people above it that day)."""
    occ = daily_wide(daily, "occupancy")
    cap = daily_wide(daily, "capacity")
    for name in [*(f.name for f in model.facilities.values()), *model.places]:
        o, c = occ[name].to_numpy(), cap[name].to_numpy()
        bad = np.flatnonzero(o > c)
        assert not len(bad), (f"{name}: occupancy {o[bad[0]]} on day {occ.index[bad[0]]} above "
                              f"capacity {c[bad[0]]}")


def check_placements_within_capacity(model: Model, log: Log) -> None:
    """Replaying the log in order, nobody takes a bed of a full or closed facility or a place
    of a full pool, and a bed's occupants never outnumber its capacity once the day's moves
    are done."""
    ev = log.raw
    t = ev["time"].to_numpy()
    src = ev["from"].astype(str).to_numpy()
    dst = ev["to"].astype(str).to_numpy()
    fac = ev["facility"].astype(str).to_numpy()
    reason = ev["reason"].astype(str).to_numpy()
    moved = reason == "moved"  # to this bed, from the facility of the client's previous event
    before = np.empty(len(fac), dtype=object)
    before[log.order] = np.where(log.first, "", np.r_[[""], log.facility[:-1]])
    in_shelter_src, in_shelter_dst = np.isin(src, log.shelter), np.isin(dst, log.shelter)
    for name, fid in {f.name: fid for fid, f in model.facilities.items()}.items():
        into = (in_shelter_dst & ~in_shelter_src | moved) & (fac == name)
        out = (in_shelter_src & ~in_shelter_dst & (fac == name)) | (moved & (before == name))
        occ = np.cumsum(into.astype(int) - out.astype(int))
        assert (occ >= 0).all(), f"{name}: more leave than entered"
        cap = shelter_capacity(model, fid, t[into])
        bad = np.flatnonzero(occ[into] > cap)
        assert not len(bad), (f"{name}: placement at t={t[into][bad[0]]} makes occupancy "
                              f"{occ[into][bad[0]]} above capacity {cap[bad[0]]}")
    for stage, pool in model.places.items():
        hold = holds_place(log, stage).astype(int)
        change = np.empty(len(hold), dtype=int)
        change[log.order] = hold - np.where(log.first, 0, np.r_[0, hold[:-1]])
        occ = np.cumsum(change)
        placed = (dst == stage) & (reason != "initial") & (reason != "wlz_transfer")
        cap = places_capacity(model, pool.schedule, t[placed]) + transferred(log, stage, t[placed])
        bad = np.flatnonzero(occ[placed] > cap)
        assert not len(bad), (f"{stage}: placement at t={t[placed][bad[0]]} makes occupancy "
                              f"{occ[placed][bad[0]]} above {cap[bad[0]]} places")


def waits_for_bed(log: Log) -> tuple[np.ndarray, np.ndarray]:
    """(time, wait since the start of the wait outside) of every stay begun: a client taking
    a bed from outside one (zero for who found one free: from the BCT, or back from nights
    away)."""
    placed = np.flatnonzero(np.isin(log.dst, log.shelter) & (log.facility != "")
                            & ~np.isin(log.src, log.shelter))
    prev = placed - 1  # taking a bed is never a client's first event
    from_queue = log.src[placed] == "wacht_op_bed"
    wait = np.where(from_queue, log.time[placed] - log.time[prev], 0.0)
    return log.time[placed], wait


def pool_waits(log: Log, pool: str) -> tuple[np.ndarray, np.ndarray]:
    """(time, wait since joining the list) of every place of ``pool`` given from its list."""
    times, waits = [], []
    on = math.nan
    for i in range(len(log.client)):
        if log.first[i]:
            on = math.nan
        if log.dst[i] == f"{pool}_wachtlijst" and (log.reason[i] == "indicated" or (
                log.reason[i] == "cut" and log.src[i] == pool)):
            on = log.time[i]
        elif log.dst[i] == pool and not math.isnan(on):
            times.append(log.time[i])
            waits.append(log.time[i] - on)
            on = math.nan
        elif log.dst[i] == "uitstroom":
            on = math.nan
    return np.array(times, dtype=float), np.array(waits, dtype=float)


def yearly_mean(times: np.ndarray, values: np.ndarray, model: Model) -> pd.Series:
    years = range(model.simulation.start.year, model.simulation.end_year + 1)
    edges = np.array([day_of(model, dt.date(y, 1, 1)) for y in [*years, years[-1] + 1]])
    n = np.histogram(times, edges)[0]
    s = np.histogram(times, edges, weights=values)[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.Series(np.where(n > 0, s / np.maximum(n, 1), np.nan), index=list(years))


# --- running the region directly, to see its counters at the end ------------------------


def run_region(model: Model, seed: int, replication: int = 0,
               probe: Any = None) -> tuple[Any, pd.DataFrame]:
    """Run one replication the way the engine does, keeping the region (its pools, queues
    and counters) and the event log as a table. ``probe(region)`` is called at every
    midnight, when all events before it have been handled."""
    from sim.engine.log import Recorder, stage_names
    from sim.engine.streams import Streams
    from sim.replication.journey import Region

    recorder = Recorder()
    region = Region(model, Streams(seed, replication), recorder)
    region.start()
    if probe is not None:
        for day in np.arange(math.floor(region.env.now) + 1, region.horizon):
            region.env.run(until=float(day))
            probe(region)
    region.env.run(until=region.horizon)
    ev = recorder.events()
    reasons = np.array(recorder.reason_names() or [""], dtype=object)
    names = np.array(["", *[p.name for p in region.shelters.pools]], dtype=object)
    stages = stage_names(region.pool_names)
    events = pd.DataFrame({
        "client": ev["client"], "time": ev["time"],
        "from": pd.Categorical.from_codes(ev["src"], stages),
        "to": pd.Categorical.from_codes(ev["dst"], stages),
        "facility": names[ev["facility"] + 1], "reason": reasons[ev["reason"]],
    })
    return region, events


def check_no_idle_place(region: Any) -> None:
    """Work conservation: nobody waits for a bed while a bed on their route is free, and
    nobody waits for a place of a pool while one is free."""
    for key in region.shelters.lists.lists:
        if region.shelters.lists.live(key):
            free = [p.name for p in region.shelters.routes[key[:2]]
                    if p.occupied < p.capacity and p.room_type not in key[2]]
            assert not free, f"t={region.env.now}: {key} clients wait while {free} have beds"
    for name, places in zip(region.pool_names, region.places, strict=True):
        if places.lists.live("place"):
            assert places.occupied >= places.capacity, \
                f"t={region.env.now}: {name} has a free place and a waiting list"


def final_counts(log: Log) -> pd.Series:
    """Clients per (stage, facility) after their last event."""
    last = pd.DataFrame({"stage": log.dst[log.last], "facility": log.facility[log.last]})
    return last.value_counts()


# --- a minimal model, built in code -------------------------------------------------------

SPEEDS = {"regime": {"nachtopvang": 1.0, "24-uurs": 1.3, "vrouwenopvang": 1.0},
          "room_type": {"dormitory": 1.0, "two-person": 1.1, "single": 1.3, "family-unit": 1.1},
          "departure": {"nachtopvang": 1.0, "24-uurs": 1.0, "vrouwenopvang": 1.0}}


def facility(name: str, places: int, regime: str = "24-uurs", room: str = "single",
             opened: str = "2000-01-01", winter_places: int = 0) -> dict[str, Any]:
    """A facility table, open with ``places`` from ``opened``."""
    return {"name": name, "task": "regional", "target_group": "everyone", "report_as": regime,
            "cost_per_day": 100.0, "winter_places": winter_places,
            "schedule": {opened: {"places": places, "regime": regime, "room_type": room}}}


def minimal_raw(places: int = 5, arrivals_per_year: float = 100.0, end_year: int = 2019,
                warmup: int = 0, stand_ins: bool = True) -> dict[str, Any]:
    """One group of single adults, all sent to one 24-hour facility ``f``; no outflow
    channels, no returns, no place pools. ``stand_ins`` adds a closed night shelter so that
    every regime the metrics report on has a facility."""
    facilities = {"f": facility("F", places)}
    if stand_ins:
        facilities["closed_night"] = facility("Closed night shelter", 0, "nachtopvang",
                                              "dormitory")
    return {
        "name": "minimal",
        "simulation": {"start": dt.date(2019, 1, 1), "end_year": end_year,
                       "warmup_years": warmup},
        "winter": {"start": "12-01", "end": "04-01"},
        "origin": {"here": 1.0},
        "recovery": copy.deepcopy(SPEEDS),
        "facilities": facilities,
        "routes": {"regional_mo": {"single_adult": ["f"]}},
        "groups": {"g": {
            "arrivals": {"2019": arrivals_per_year}, "first_report_share": 1.0,
            "family_share": 0.0, "youth_share": 0.0, "decision": {"regional_mo": 1.0},
            "assessment_days": 1e-6, "recovery_days": 1e9, "recovery_shape": 1000.0,
            "departure_per_year": 0.0, "patience_days": 1e12, "bw_indication_share": 0.0,
            "channels": []}},
        "channels": {},
        "returns": {},
        "places": {},
    }
