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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import simpy

from sim.engine.calendar import Calendar
from sim.engine.client import Client
from sim.engine.processes import Light
from sim.engine.queues import WaitingLists, follow_schedule
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
class PlacePool:
    """A pool of places: its schedule, stays, exits, stocks and costs.

    ``label`` names the pool in the yearly tables (the group of ``bw_occupancy``,
    ``bw_places``, ``cost_eur`` and ``bw_exits``).
    """

    label: str
    schedule: dict[str, int]
    stay_days: float
    exit: dict[str, float]
    stay_shape: float = 1.0
    vacancy_days: float = 0.0
    cost_per_day: float = 0.0
    indication_days: float | None = None
    direct_applicants_per_year: float = 0.0
    initial_occupants: int = 0
    initial_waiting: int = 0
    wlz_transfer: WlzTransfer | None = None
    budget: str = "beschermd_wonen"  # the budget line that pays for it ("" for none: the Wlz)


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
        for d, n in pool.schedule.items():
            parse_date(d, file, f"{key}.schedule.{d}")
            count(n, file, f"{key}.schedule.{d}")
        for field in ("stay_days", "stay_shape"):
            positive(getattr(pool, field), file, f"{key}.{field}")
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

PLACE = "place"  # the value a client's wake succeeds with when a place is given
CUT = "cut"  # ... when their place goes (the places fell below the people in them)


class Places:
    """Places with a waiting list; ``client.wake`` succeeds with ``"place"``."""

    def __init__(self, env: simpy.Environment, vacancy_days: float = 0.0) -> None:
        self.env = env
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
