"""Shelter facilities: their schema, capacity schedules, winter beds, routes and the bed queue.

The slice of the model file this component owns: ``[facilities.*]`` (dated schedules of
places, regime and room type), ``[winter]`` (the winter season), ``[recovery]`` (speeds and
departure multipliers by regime and room type; its keys are the regimes and room types) and
``[routes]`` (decision outcome and segment -> facilities tried in order).

A pool's capacity follows its schedule; when it falls below the beds taken (a dated cut, the
end of the winter beds, a closure), the most recently placed occupants leave their beds that
day (:meth:`Shelters.trim`; the journey moves them to another bed or outside). Clients who find
no bed on their route wait outside on the route's waiting list; a freed bed goes to the
longest-waiting client whose route includes that pool and who takes its room type (people who
avoid a room type wait for another: ``recovery.refuse_room_type``). In a regime with
``recovery.intermittent`` spells a client sleeps in the shelter some nights and elsewhere on
others, which frees the bed meanwhile.

A schedule entry with ``ramp = true`` changes the places linearly from the previous entry's
(on its date) to its own (on its date), a whole place at a time
(:func:`sim.engine.calendar.ramp_steps`). A model without a ``[recovery]`` table has one
regime, ``shelter``, and one room type, ``room``, at speed 1; where the model has one regime
or one room type, schedule entries need not name it, and a facility is reported under the
regime of its first entry unless ``report_as`` says otherwise.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from sim.engine.calendar import Calendar, ramp_steps
from sim.engine.client import SEGMENTS, Client
from sim.engine.processes import Light
from sim.engine.queues import WaitingLists, follow_schedule
from sim.engine.spans import Schedule, steps
from sim.input.checks import count, non_negative, parse_date, positive, probability
from sim.input.errors import InputError, did_you_mean
from sim.input.schema import REQUIRED

RouteKey = tuple[str, str, tuple[str, ...]]  # (decision outcome, segment, room types avoided)
Routes = dict[str, dict[str, tuple[str, ...]]]  # outcome -> segment -> facility ids
Change = tuple[float, int, str, str]  # (time, capacity, regime, room type)
DEFAULT_REGIME = "shelter"  # the one regime of a model without recovery.regime
DEFAULT_ROOM_TYPE = "room"  # the one room type of a model without recovery.room_type


# --- schema ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Winter:
    """Winter emergency shelter season, as month-day strings (``"12-01"``)."""

    start: str = "12-01"
    end: str = "04-01"


@dataclass(frozen=True)
class ScheduleEntry:
    """A dated change of a facility: only the fields given change."""

    places: int | None = None
    regime: str | None = None  # a key of recovery.regime
    room_type: str | None = None  # a key of recovery.room_type
    ramp: bool = False  # places reached by a linear ramp from the previous entry's


@dataclass(frozen=True)
class Facility:
    """A shelter pool with a capacity schedule; closed before its first entry.

    ``report_as`` is the regime under which the sources count its users and nights.
    """

    name: str = ""  # default: the facility's key
    task: str = ""
    target_group: str = ""
    report_as: str = ""  # default: the regime of its first entry
    schedule: dict[str, ScheduleEntry] = field(default_factory=dict, metadata=REQUIRED)
    cost_per_day: float = 0.0
    winter_places: int = 0
    report_group: str = "total"  # counted apart under this group (the VO's satellite homes)
    budget: str = "maatschappelijke_opvang"  # the budget line that pays for it


@dataclass(frozen=True)
class Spells:
    """Intermittent use of a regime's beds: nights in a row in a bed, then nights elsewhere
    (means of exponential spells)."""

    nights_in: float
    nights_away: float


@dataclass(frozen=True)
class Recovery:
    """Recovery speed by setting: regime multiplier times room-type multiplier.

    A client needs ``recovery_days`` of work (drawn per client) at speed 1; in a setting
    with speed ``s`` the stay until ready lasts work / s days. ``departure`` multiplies the
    group's rate of leaving shelter without housing, by regime, and ``departure_room_type``
    by room type (incidents, suspensions; a room type it does not name: 1).
    ``refuse_room_type`` is the share of clients who will not take a bed of a room type and
    wait for another (people who avoid dormitories; a room type it does not name: 0).
    ``intermittent``: the regimes whose beds are used some nights and not others (the night
    shelter), with their spells. The keys of ``regime`` are the model's regimes, those of
    ``room_type`` its room types.
    """

    regime: dict[str, float] = field(default_factory=lambda: {DEFAULT_REGIME: 1.0})
    room_type: dict[str, float] = field(default_factory=lambda: {DEFAULT_ROOM_TYPE: 1.0})
    departure: dict[str, float] = field(default_factory=dict)  # absent: 1
    departure_room_type: dict[str, float] = field(default_factory=dict)  # absent: 1
    refuse_room_type: dict[str, float] = field(default_factory=dict)  # absent: 0
    intermittent: dict[str, Spells] = field(default_factory=dict)  # absent: a bed every night


def validate_shelters(facilities: dict[str, Facility], routes: Routes, recovery: Recovery,
                      winter: Winter, file: str) -> None:
    """Check the shelter slice of a model; raise :class:`InputError` on the first problem."""
    for key in ("start", "end"):
        text = getattr(winter, key)
        try:
            dt.date.fromisoformat(f"2001-{text}")  # not a leap year: 02-29 is refused
        except ValueError:
            raise InputError(file, f"winter.{key}", f"expected MM-DD, got {text!r}") from None
    _validate_recovery(recovery, file)
    for fid, fac in facilities.items():
        _validate_facility(fac, recovery, file, f"facilities.{fid}")
    for outcome, by_segment in routes.items():
        for segment, route in by_segment.items():
            key = f"routes.{outcome}.{segment}"
            if segment not in SEGMENTS:
                raise InputError(file, key, f"unknown segment; expected one of {', '.join(SEGMENTS)}"
                                 f"{did_you_mean(segment, SEGMENTS)}")
            if not route:
                raise InputError(file, key, "expected at least one facility")
            for i, fid in enumerate(route):
                if fid not in facilities:
                    raise InputError(file, f"{key}[{i}]",
                                     f"unknown facility {fid!r}{did_you_mean(fid, facilities)}")


def _validate_recovery(recovery: Recovery, file: str) -> None:
    for table in ("regime", "room_type", "departure"):
        for name, speed in getattr(recovery, table).items():
            positive(speed, file, f"recovery.{table}.{name}")
    for name in recovery.departure:
        if name not in recovery.regime:
            raise InputError(file, f"recovery.regime.{name}", "missing: recovery.departure has it")
    for table, check in (("departure_room_type", positive), ("refuse_room_type", probability)):
        for name, value in getattr(recovery, table).items():
            if name not in recovery.room_type:
                rooms = list(recovery.room_type)
                raise InputError(file, f"recovery.{table}.{name}", "unknown room type; expected one "
                                 f"of {', '.join(rooms)}{did_you_mean(name, rooms)}")
            check(value, file, f"recovery.{table}.{name}")
    for name, spells in recovery.intermittent.items():
        if name not in recovery.regime:
            raise InputError(file, f"recovery.intermittent.{name}",
                             f"unknown regime; expected one of {', '.join(recovery.regime)}")
        positive(spells.nights_in, file, f"recovery.intermittent.{name}.nights_in")
        positive(spells.nights_away, file, f"recovery.intermittent.{name}.nights_away")


def _validate_facility(fac: Facility, recovery: Recovery, file: str, key: str) -> None:
    count(fac.winter_places, file, f"{key}.winter_places")
    non_negative(fac.cost_per_day, file, f"{key}.cost_per_day")
    if fac.report_as not in recovery.regime:
        raise InputError(file, f"{key}.report_as",
                         f"expected one of the regimes of recovery.regime: {', '.join(recovery.regime)}"
                         f"{did_you_mean(fac.report_as, recovery.regime)}")
    if not fac.schedule:
        raise InputError(file, f"{key}.schedule", "expected at least one dated entry")
    dates = {d: parse_date(d, file, f"{key}.schedule.{d}") for d in fac.schedule}
    order = sorted(dates, key=dates.__getitem__)
    entry = fac.schedule[order[0]]
    if entry.places is None or entry.regime is None or entry.room_type is None:
        complete = [d for d in order if None not in (fac.schedule[d].places, fac.schedule[d].regime,
                                                      fac.schedule[d].room_type)]
        before = (f"dated before the facility's first entry ({dates[complete[0]]}), when it is "
                  "still closed: an entry then must give places, regime and room_type, or be "
                  f"dated from {dates[complete[0]]} on") if complete else \
            "the first entry must give places, regime and room_type"
        raise InputError(file, f"{key}.schedule.{order[0]}", before)
    if entry.ramp:
        raise InputError(file, f"{key}.schedule.{order[0]}.ramp",
                         "the first entry cannot ramp: a ramp starts at the entry before it")
    for d, entry in fac.schedule.items():
        if entry.places is not None:
            count(entry.places, file, f"{key}.schedule.{d}.places")
        elif entry.ramp:
            raise InputError(file, f"{key}.schedule.{d}.places", "missing: a ramp needs the places "
                             "it reaches")
        for name, known in (("regime", recovery.regime), ("room_type", recovery.room_type)):
            value = getattr(entry, name)
            if value is not None and value not in known:
                raise InputError(file, f"{key}.schedule.{d}.{name}",
                                 f"unknown {name} {value!r}; expected one of those of "
                                 f"recovery.{name}: {', '.join(known)}{did_you_mean(value, known)}")


def complete_facilities(facilities: dict[str, Facility], recovery: Recovery) -> dict[str, Facility]:
    """The facilities with what they leave out filled in: the name (the key), the regime and
    room type of the first entry where the model has only one, and ``report_as`` (the regime
    of the first entry). Left as they are where that cannot be done (the checks name it)."""
    one_regime = next(iter(recovery.regime)) if len(recovery.regime) == 1 else None
    one_room = next(iter(recovery.room_type)) if len(recovery.room_type) == 1 else None
    out = {}
    for fid, fac in facilities.items():
        try:
            first = min(fac.schedule, key=dt.date.fromisoformat) if fac.schedule else None
        except ValueError:
            first = None
        schedule = dict(fac.schedule)
        if first is not None:
            entry = schedule[first]
            schedule[first] = dataclasses.replace(entry, regime=entry.regime or one_regime,
                                                  room_type=entry.room_type or one_room)
        regime = schedule[first].regime if first is not None else None
        out[fid] = dataclasses.replace(fac, name=fac.name or fid, schedule=schedule,
                                       report_as=fac.report_as or regime or "")
    return out


def expand_ramps(schedule: dict[str, ScheduleEntry]) -> dict[str, ScheduleEntry]:
    """The schedule with each ramp replaced by its daily steps of places from the entry
    before it (the places in force on that entry's date)."""
    dated = sorted(schedule.items(), key=lambda item: dt.date.fromisoformat(item[0]))
    out = dict(schedule)
    places = 0
    for i, (d, entry) in enumerate(dated):
        if entry.ramp and entry.places is not None:
            start = dt.date.fromisoformat(dated[i - 1][0])
            for day, n in ramp_steps(start, dt.date.fromisoformat(d), places, entry.places):
                out[day.isoformat()] = ScheduleEntry(places=n)
        places = entry.places if entry.places is not None else places
    return out


# --- run time ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ShelterRecord:
    """The facilities of a run, in model order, for the figures: their keys, names, the regime
    the sources count each under (``report_as``) and the group counted apart (``report_group``),
    day rates and budget lines, places over time (as applied, winter beds included), and every
    regime of the model."""

    ids: list[str]
    names: list[str]
    report_as: list[str]
    report_group: list[str]
    cost: np.ndarray
    budget: list[str]
    capacity: list[Schedule]
    regimes: list[str]


class Pool:
    """One facility at run time."""

    __slots__ = ("capacity", "departure", "fid", "index", "name", "occupants", "occupied",
                 "regime", "report_as", "room_type", "routes", "serves", "speed", "spell_away",
                 "spell_in")

    def __init__(self, index: int, fid: str, name: str, report_as: str) -> None:
        self.index = index
        self.fid = fid
        self.name = name
        self.report_as = report_as
        self.capacity = 0
        self.occupied = 0  # beds taken (given to a client, who may not have arrived in it yet)
        self.regime = ""
        self.room_type = ""
        self.speed = 1.0
        self.departure = 1.0  # multiplies the rate of leaving without housing
        self.spell_in = math.inf  # mean nights in a row in a bed (intermittent use) ...
        self.spell_away = 0.0  # ... and elsewhere between them
        self.routes: list[RouteKey] = []  # every waiting list whose route includes the pool
        self.serves: list[RouteKey] = []  # those whose clients take its room type now
        self.occupants: dict[int, Client] = {}  # by client id, in the order they took a bed


class Shelters:
    """All shelter pools of a run and the waiting lists of clients without a bed."""

    def __init__(self, env: simpy.Environment, calendar: Calendar,
                 facilities: dict[str, Facility], routes: Routes, recovery: Recovery,
                 winter: Winter) -> None:
        self.env = env
        self.calendar = calendar
        self.facilities = facilities
        self.recovery = recovery
        self.winter = winter
        self.pools = [Pool(i, fid, f.name, f.report_as) for i, (fid, f) in enumerate(facilities.items())]
        self.capacity_log: list[list[tuple[float, int]]] = [[] for _ in self.pools]  # as applied
        self.by_id = by_id = {p.fid: p for p in self.pools}
        refused = sorted((s, r) for r, s in recovery.refuse_room_type.items() if s > 0)[::-1]
        self.avoidance = [(share, tuple(r for _, r in refused[: i + 1]))
                          for i, (share, _) in enumerate(refused)]  # (share, room types avoided)
        self.routes: dict[tuple[str, str], tuple[Pool, ...]] = {}
        self.lists: WaitingLists[RouteKey] = WaitingLists(env)
        for outcome, by_segment in routes.items():
            for segment, route in by_segment.items():
                self.routes[(outcome, segment)] = tuple(by_id[fid] for fid in route)
                for avoided in ((), *(a for _, a in self.avoidance)):
                    key = (outcome, segment, avoided)
                    self.lists.list(key)
                    for pool in self.routes[(outcome, segment)]:
                        pool.routes.append(key)

    def record(self) -> ShelterRecord:
        """The facilities as the figures need them (at the end of a run)."""
        facilities = self.facilities.values()
        return ShelterRecord(
            ids=list(self.facilities), names=[p.name for p in self.pools],
            report_as=[p.report_as for p in self.pools],
            report_group=[f.report_group for f in facilities],
            cost=np.array([f.cost_per_day for f in facilities]),
            budget=[f.budget for f in facilities],
            capacity=[steps(log) for log in self.capacity_log],
            regimes=list(self.recovery.regime))

    def avoided(self, u: float) -> tuple[str, ...]:
        """The room types a client with uniform ``u`` will not take (nested: who avoids a
        rarer-avoided room type avoids the more often avoided ones too)."""
        out: tuple[str, ...] = ()
        for share, avoided in self.avoidance:
            if u < share:
                out = avoided
        return out

    def start(self, first_year: int, last_year: int) -> None:
        """Start one capacity process per pool."""
        winter = self.calendar.winter_changes(first_year, last_year, self.winter.start,
                                              self.winter.end)
        for pool, fac in zip(self.pools, self.facilities.values(), strict=True):
            changes = self._changes(fac.schedule, fac.winter_places, winter)
            Light(self.env, follow_schedule(self.env, [(c[0], c) for c in changes],
                                            functools.partial(self._apply, pool))).start()

    def _changes(self, schedule: dict[str, ScheduleEntry], winter_places: int,
                 winter: list[tuple[float, bool]]) -> list[Change]:
        """(time, capacity, regime, room type) at every change of one pool."""
        schedule = expand_ramps(schedule)
        times = self.calendar.schedule_times(schedule, self.env.now)
        dated = sorted(zip(times, schedule, schedule.values(), strict=True),
                       key=lambda x: (x[0], x[1]))  # entries moved to the run start: by date
        points: list[tuple[float, str, Any]] = [(t, "schedule", e) for t, _, e in dated]
        if winter_places:
            points += [(t, "winter", on) for t, on in winter]
        points.sort(key=lambda p: (p[0], p[1] == "winter"))  # stable; a schedule entry first
        opened = min(p[0] for p in points if p[1] == "schedule")
        places, regime, room, in_winter = 0, "", "", False
        out: list[Change] = []
        for t, kind, value in points:
            if kind == "winter":
                in_winter = value
            else:
                places = value.places if value.places is not None else places
                regime = value.regime or regime
                room = value.room_type or room
            if t >= opened:
                if out and out[-1][0] == t:  # changes at one time: only the last state counts
                    out.pop()
                out.append((t, places + (winter_places if in_winter and places > 0 else 0),
                            regime, room))
        return out

    def _apply(self, pool: Pool, change: Change) -> None:
        _, pool.capacity, pool.regime, pool.room_type = change
        self.capacity_log[pool.index].append((self.env._now, pool.capacity))
        recovery = self.recovery
        pool.speed = recovery.regime[pool.regime] * recovery.room_type[pool.room_type]
        pool.departure = (recovery.departure.get(pool.regime, 1.0)
                          * recovery.departure_room_type.get(pool.room_type, 1.0))
        spells = recovery.intermittent.get(pool.regime)
        pool.spell_in, pool.spell_away = ((spells.nights_in, spells.nights_away) if spells
                                          else (math.inf, 0.0))
        pool.serves = [key for key in pool.routes if pool.room_type not in key[2]]
        if pool.occupied > pool.capacity:  # after the other changes of today
            self.env.timeout(0).callbacks.append(functools.partial(self._trim, pool))
        self._fill(pool)

    def _trim(self, pool: Pool, _: object) -> None:
        """The capacity fell below the beds taken: the most recently placed occupants leave
        their beds (their process handles the interrupt: another bed, or outside)."""
        excess = pool.occupied - pool.capacity
        for client in reversed(list(pool.occupants.values())):
            if excess <= 0:
                break
            assert client.process is not None
            client.process.interrupt("cut")
            excess -= 1

    def place(self, key: RouteKey) -> Pool | None:
        """Take a free bed on the route that the client takes, first pool first; None when
        there is none."""
        for pool in self.routes[key[:2]]:
            if pool.occupied < pool.capacity and pool.room_type not in key[2]:
                pool.occupied += 1
                return pool
        return None

    def take(self, fid: str) -> Pool | None:
        """Take a free bed of facility ``fid`` whatever its room type (for someone in it at
        the start of the run); None when there is none."""
        pool = self.by_id[fid]
        if pool.occupied < pool.capacity:
            pool.occupied += 1
            return pool
        return None

    def enqueue(self, client: Client, key: RouteKey) -> None:
        """Wait outside for a bed on this route; ``client.wake`` succeeds with the pool."""
        self.lists.join(client, key)

    def leave_queue(self, client: Client) -> None:
        """A waiting client stops waiting (gave up, or got a place or a home instead)."""
        self.lists.leave(client)

    def hold(self, pool: Pool, client: Client) -> None:
        """The client is in a bed of ``pool`` (given by :meth:`place` or the waiting list)."""
        pool.occupants[client.id] = client

    def release(self, pool: Pool, client: Client) -> None:
        """A bed frees up: give it to the longest-waiting client who takes it."""
        pool.occupied -= 1
        pool.occupants.pop(client.id, None)
        self._fill(pool)

    def _fill(self, pool: Pool) -> None:
        while pool.occupied < pool.capacity and self.lists.serve(pool.serves, pool) is not None:
            pool.occupied += 1
