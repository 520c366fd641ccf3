"""Place pools: places with a dated schedule and one waiting list (BW, beschut wonen, ...).

The slice of the model file this component owns: ``[places.*]``, one table per pool. A pool
has places, stays of a drawn length, and exits: to another pool (waiting for it while keeping
this place), ``ambulant`` (a home through the outflow channels, with support) or a way out of
the system (``wlz``). Shelter clients with an indication wait for the pool that has an
``indication_days``; others arrive directly (``direct_applicants_per_year``, from clinics
and home) or are there at the start (``initial_occupants``, ``initial_waiting``: occupants
beyond the places at the start wait first in line). A third
pool is a table in the model file, nothing else.

Places are given in order of request. ``occupied`` counts places held, by an occupant or
standing empty for ``vacancy_days`` after one left (intake, matching, refurbishment). When the
places fall below the people in them, the most recently admitted leave that day and go back on
the waiting list, first in line (:meth:`Places.trim`). A ``wlz_transfer`` moves a share of the
occupants to another pool (or out of the system) on one day, and their places go with them:
the pool's places fall, and the other pool's rise, by the number moved.

A schedule entry is a number of places from its date, or ``{ places = N, ramp = true }``: the
places change linearly from the previous entry's (on its date) to N (on this one's), a whole
place at a time (:func:`sim.engine.calendar.ramp_steps`). Stays are a gamma of mean
``stay_days`` and shape ``stay_shape`` (default 1: exponential), or any distribution of
:mod:`sim.components.durations` (``stay``). The stock at the start is part-way through its
stays (``simulation.initial_stays``).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import simpy

from sim.components.durations import Duration, gamma, validate_duration
from sim.engine.calendar import Calendar, ramp_steps
from sim.engine.client import Client
from sim.engine.processes import Light
from sim.engine.queues import WaitingLists, follow_schedule
from sim.engine.spans import Schedule, steps
from sim.input.checks import count, distribution, non_negative, parse_date, positive, probability, rate
from sim.input.errors import InputError

AMBULANT = "ambulant"  # an exit to a home through the outflow channels, with ambulant support
WAYS_OUT = ("wlz",)  # exits that leave the system (when no pool of that name exists)


@dataclass(frozen=True)
class WlzTransfer:
    """A one-off move of a share of a pool's occupants to the Wlz, with their places: into
    the pool ``to`` (its places grow by the number moved), or out of the system."""

    date: dt.date
    share: float
    to: str = ""


@dataclass(frozen=True)
class PlaceChange:
    """A schedule entry given as a table: places from its date, reached by a linear ramp from
    the previous entry's places when ``ramp``."""

    places: int
    ramp: bool = False


@dataclass(frozen=True)
class PlacePool:
    """A pool of places: its schedule, stays, exits, stocks and costs.

    ``label`` names the pool in the yearly tables (the group of ``bw_occupancy``,
    ``bw_places``, ``cost_eur`` and ``bw_exits``).
    """

    label: str
    schedule: dict[str, int | PlaceChange]
    exit: dict[str, float]
    stay_days: float | None = None  # the mean of a gamma with stay_shape (default 1) ...
    stay_shape: float | None = None
    stay: Duration | None = None  # ... or any distribution (then without the two above)
    vacancy_days: float = 0.0
    cost_per_day: float = 0.0
    indication_days: float | None = None
    direct_applicants_per_year: float = 0.0
    initial_occupants: int = 0
    initial_waiting: int = 0
    wlz_transfer: WlzTransfer | None = None
    budget: str = "beschermd_wonen"  # the budget line that pays for it ("" for none: the Wlz)

    def stay_duration(self) -> Duration:
        """The distribution of a stay in one of its places."""
        if self.stay is not None:
            return self.stay
        assert self.stay_days is not None
        return gamma(self.stay_days, self.stay_shape if self.stay_shape is not None else 1.0)

    def places(self) -> dict[str, int]:
        """The schedule as dated numbers of places, each ramp as its steps."""
        return expand_ramps({d: (e.places, e.ramp) if isinstance(e, PlaceChange) else (e, False)
                             for d, e in self.schedule.items()})


def expand_ramps(schedule: Mapping[str, tuple[int, bool]]) -> dict[str, int]:
    """Dated values (value, ramp) as dated values, each ramp replaced by its daily steps from
    the entry before it."""
    dated = sorted((dt.date.fromisoformat(d), n, ramp) for d, (n, ramp) in schedule.items())
    out: dict[str, int] = {}
    for (d0, n0, _), (d1, n1, ramp) in itertools.pairwise(dated):
        if ramp:
            out.update({d.isoformat(): n for d, n in ramp_steps(d0, d1, n0, n1)})
    out.update({d: n for d, (n, _) in schedule.items()})
    return out


def validate_places(pools: dict[str, PlacePool], file: str) -> None:
    """Check every pool and the references between pools."""
    entries = [name for name, pool in pools.items() if pool.indication_days is not None]
    if len(entries) > 1:
        raise InputError(file, f"places.{entries[1]}.indication_days",
                         f"only one pool takes indicated shelter clients; {entries[0]} has it too")
    for name, pool in pools.items():
        key = f"places.{name}"
        if not pool.schedule:
            raise InputError(file, f"{key}.schedule", "expected at least one dated entry")
        _validate_schedule(pool, file, key)
        _validate_stay(pool, file, key)
        if pool.indication_days is not None:
            positive(pool.indication_days, file, f"{key}.indication_days")
        rate(pool.direct_applicants_per_year, file, f"{key}.direct_applicants_per_year")
        for field in ("initial_occupants", "initial_waiting"):
            count(getattr(pool, field), file, f"{key}.{field}")
        for field in ("vacancy_days", "cost_per_day"):
            non_negative(getattr(pool, field), file, f"{key}.{field}")
        others = tuple(p for p in pools if p != name)
        distribution(pool.exit, file, f"{key}.exit", allowed=(*others, AMBULANT, *WAYS_OUT))
        if pool.wlz_transfer is not None:
            probability(pool.wlz_transfer.share, file, f"{key}.wlz_transfer.share")
            if pool.wlz_transfer.to and pool.wlz_transfer.to not in others:
                raise InputError(file, f"{key}.wlz_transfer.to",
                                 f"expected another place pool: {', '.join(others) or 'none'}")

def _validate_schedule(pool: PlacePool, file: str, key: str) -> None:
    for d, entry in pool.schedule.items():
        parse_date(d, file, f"{key}.schedule.{d}")
        if isinstance(entry, PlaceChange):
            count(entry.places, file, f"{key}.schedule.{d}.places")
        else:
            count(entry, file, f"{key}.schedule.{d}")
    first = min(pool.schedule, key=dt.date.fromisoformat)
    entry = pool.schedule[first]
    if isinstance(entry, PlaceChange) and entry.ramp:
        raise InputError(file, f"{key}.schedule.{first}.ramp",
                         "the first entry cannot ramp: a ramp starts at the entry before it")


def _validate_stay(pool: PlacePool, file: str, key: str) -> None:
    if pool.stay is not None:
        for field in ("stay_days", "stay_shape"):
            if getattr(pool, field) is not None:
                raise InputError(file, f"{key}.{field}", "not with stay: give the distribution's "
                                 "parameters there")
        validate_duration(pool.stay, file, f"{key}.stay")
        return
    if pool.stay_days is None:
        raise InputError(file, f"{key}.stay_days",
                         "missing; expected the mean stay in days (or a stay table)")
    for field in ("stay_days", "stay_shape"):
        if getattr(pool, field) is not None:
            positive(getattr(pool, field), file, f"{key}.{field}")


PLACE = "place"  # the value a client's wake succeeds with when a place is given
CUT = "cut"  # ... when their place goes (the places fell below the people in them)


@dataclass(frozen=True)
class PoolRecord:
    """A place pool of the run, for the figures: its name, the label it is reported under,
    its places over time (as applied), day rate and budget line ("" for none), and where its
    Wlz transfer moves occupants with their places."""

    name: str
    label: str
    capacity: Schedule
    cost_per_day: float
    budget: str
    transfer_to: str  # the pool its wlz_transfer moves occupants to with their places ("": none)


class Places:
    """Places with a waiting list; ``client.wake`` succeeds with ``"place"``. ``name`` and
    ``pool``: the pool of the model it runs (its record's name, label, cost and budget)."""

    def __init__(self, env: simpy.Environment, vacancy_days: float = 0.0, name: str = "",
                 pool: PlacePool | None = None) -> None:
        self.env = env
        self.name, self.pool = name, pool
        self.vacancy_days = vacancy_days
        self.vacant = 0  # places held empty between occupants
        self.capacity = 0
        self.occupied = 0
        self.lists: WaitingLists[str] = WaitingLists(env)
        self.occupants: dict[int, Client] = {}  # in their stay now, in the order admitted
        self.leaving: dict[int, Client] = {}  # their stay over, holding the place until they go
        self.capacity_log: list[tuple[float, int]] = []  # (time, places) as applied

    def start(self, calendar: Calendar, schedule: Mapping[str, int]) -> None:
        """Follow the schedule (see :meth:`Calendar.schedule_times`); no places before it."""
        times = calendar.schedule_times(schedule, self.env.now)
        dated = sorted(zip(times, schedule, schedule.values(), strict=True))
        changes = [(t, n) for t, _, n in dated]
        Light(self.env, follow_schedule(self.env, changes, self.set_capacity)).start()

    def record(self) -> PoolRecord:
        """The pool as the figures need it (at the end of a run)."""
        assert self.pool is not None, "a pool of a model"
        transfer = self.pool.wlz_transfer
        return PoolRecord(self.name, self.pool.label, steps(self.capacity_log),
                          self.pool.cost_per_day, self.pool.budget,
                          transfer.to if transfer is not None else "")

    def set_capacity(self, capacity: int) -> None:
        """From now on, ``capacity`` places."""
        self.capacity = capacity
        self.capacity_log.append((self.env._now, capacity))
        if self.occupied - self.vacant > capacity:  # after the other changes of today
            self.env.timeout(0).callbacks.append(self._trim)
        self._fill()

    def _trim(self, _: object) -> None:
        """The places fell below the people in them: the most recently admitted lose theirs
        (their wake succeeds with ``"cut"``), first of those in their stay, then of those
        who hold a place while they wait to leave it (for a home or another pool)."""
        excess = self.occupied - self.vacant - self.capacity
        for held in (self.occupants, self.leaving):
            for client in reversed(list(held.values())):
                if excess <= 0:
                    return
                assert client.wake is not None
                if getattr(client.wake, "early", False):  # given a home or place now: leaves it
                    excess -= 1
                    continue
                del held[client.id]
                self.occupied -= 1
                client.queued = False  # off any list it waits on (the journey tells that list)
                assert client.wake is not None
                client.wake.succeed(CUT)
                excess -= 1

    def request(self, client: Client, since: float | None = None) -> float:
        """Join the waiting list (a place is given at once when one is free); ``since``: the
        time the client first joined it. Returns that time."""
        since = self.lists.join(client, PLACE, since)
        self._fill()
        return since

    def leave_queue(self, client: Client) -> None:
        """A waiting client leaves by another way."""
        self.lists.leave(client)

    def hold(self, client: Client) -> None:
        """The client is in a place (its stay is ``client.wake``)."""
        self.occupants[client.id] = client

    def move_out(self, client: Client) -> None:
        """The client leaves in their stay and takes the place along (a transfer): no longer
        in it, nor holding it (a later cut here cannot reach them)."""
        del self.occupants[client.id]
        self.occupied -= 1

    def vacate(self, client: Client) -> None:
        """The client's stay in the place is over; they hold it until they leave it
        (:meth:`release`: for a home, or another pool's place)."""
        self.leaving[client.id] = self.occupants.pop(client.id)

    def release(self, client: Client) -> None:
        """The client leaves the place; it is free again after the vacancy time."""
        del self.leaving[client.id]
        if self.vacancy_days > 0:
            self.vacant += 1
            self.env.timeout(self.vacancy_days).callbacks.append(self._after_vacancy)
        else:
            self._free()

    def _after_vacancy(self, _: object) -> None:
        self.vacant -= 1
        self._free()

    def _free(self) -> None:
        self.occupied -= 1
        self._fill()

    def _fill(self) -> None:
        while self.occupied < self.capacity and self.lists.serve((PLACE,), PLACE) is not None:
            self.occupied += 1
