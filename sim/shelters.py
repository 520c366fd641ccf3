"""Shelter pools: capacity schedules, winter beds, placement by route and the bed queue.

A pool's capacity follows its schedule; a cut never evicts, it only stops new placements
until occupancy has fallen below the new capacity. Clients who find no bed on their route
wait outside in a FIFO queue per route; a freed bed goes to the longest-waiting client
whose route includes that pool.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import simpy

from sim.calendar import Calendar
from sim.model import Model, Recovery

if TYPE_CHECKING:
    from sim.journey import Client

RouteKey = tuple[str, str]  # (decision outcome, segment)
Entry = tuple[simpy.Event, "Client"]  # (the wait it belongs to, the client)


class Pool:
    """One facility at run time."""

    __slots__ = ("capacity", "changes", "departure", "fid", "index", "name", "occupied",
                 "regime", "report_as", "room_type", "routes", "speed")

    def __init__(self, index: int, fid: str, name: str, report_as: str) -> None:
        self.index = index
        self.fid = fid
        self.name = name
        self.report_as = report_as
        self.capacity = 0
        self.occupied = 0
        self.regime = ""
        self.room_type = ""
        self.speed = 1.0
        self.departure = 1.0  # multiplies the rate of leaving without housing
        self.routes: list[RouteKey] = []
        self.changes: list[tuple[float, int, str, str]] = []  # (time, capacity, regime, room)


class Shelters:
    """All shelter pools of a run and the queue of clients waiting for a bed."""

    def __init__(self, env: simpy.Environment, model: Model, calendar: Calendar,
                 on_bed: Callable[[Client, Pool], None]) -> None:
        self.env = env
        self.model = model
        self.calendar = calendar
        self.on_bed = on_bed
        self.pools = [Pool(i, fid, f.name, f.report_as)
                      for i, (fid, f) in enumerate(model.facilities.items())]
        by_id = {p.fid: p for p in self.pools}
        self.routes: dict[RouteKey, tuple[Pool, ...]] = {}
        for outcome, by_segment in model.routes.items():
            for segment, route in by_segment.items():
                key = (outcome, segment)
                self.routes[key] = tuple(by_id[fid] for fid in route)
                for pool in self.routes[key]:
                    pool.routes.append(key)
        self.queues: dict[RouteKey, deque[Entry]] = {key: deque() for key in self.routes}
        self.waiting = 0

    def start(self, first_year: int, last_year: int) -> None:
        """Start one capacity process per pool."""
        winter = self.calendar.winter_changes(first_year, last_year, self.model.winter.start,
                                              self.model.winter.end)
        for pool, fac in zip(self.pools, self.model.facilities.values(), strict=True):
            pool.changes = self._changes(fac.schedule, fac.winter_places, winter)
            self.env.process(self._follow_schedule(pool, pool.changes))

    def _changes(self, schedule: Any, winter_places: int,
                 winter: list[tuple[float, bool]]) -> list[tuple[float, int, str, str]]:
        """(time, capacity, regime, room type) at every change of one pool."""
        times = self.calendar.schedule_times(schedule, self.env.now)
        dated = sorted(zip(times, schedule, schedule.values(), strict=True),
                       key=lambda x: (x[0], x[1]))  # entries moved to the run start: by date
        points: list[tuple[float, str, Any]] = [(t, "schedule", e) for t, _, e in dated]
        if winter_places:
            points += [(t, "winter", on) for t, on in winter]
        points.sort(key=lambda p: (p[0], p[1] == "winter"))  # stable; a schedule entry first
        opened = min(p[0] for p in points if p[1] == "schedule")
        places, regime, room, in_winter = 0, "", "", False
        out = []
        for t, kind, value in points:
            if kind == "winter":
                in_winter = value
            else:
                places = value.places if value.places is not None else places
                regime = value.regime or regime
                room = value.room_type or room
            if t >= opened:
                out.append((t, places + (winter_places if in_winter and places > 0 else 0),
                            regime, room))
        return out

    def _follow_schedule(self, pool: Pool,
                         changes: list[tuple[float, int, str, str]]) -> Generator[Any, Any, None]:
        recovery: Recovery = self.model.recovery
        for t, capacity, regime, room in changes:
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            pool.capacity = capacity
            pool.regime = regime
            pool.room_type = room
            pool.speed = recovery.regime[regime] * recovery.room_type[room]
            pool.departure = recovery.departure[regime]
            self._fill(pool)

    def place(self, key: RouteKey) -> Pool | None:
        """Take a free bed on the route, first pool first; None when all are full."""
        for pool in self.routes[key]:
            if pool.occupied < pool.capacity:
                pool.occupied += 1
                return pool
        return None

    def enqueue(self, client: Client, key: RouteKey) -> None:
        """Wait outside for a bed on this route."""
        assert client.wake is not None
        client.queued = True
        self.queues[key].append((client.wake, client))
        self.waiting += 1

    def leave_queue(self, client: Client) -> None:
        """A waiting client gives up; removed lazily from the deque."""
        client.queued = False
        self.waiting -= 1

    def release(self, pool: Pool) -> None:
        """A bed frees up: give it to the longest-waiting client whose route includes it."""
        pool.occupied -= 1
        self._fill(pool)

    def _fill(self, pool: Pool) -> None:
        while pool.occupied < pool.capacity:
            best: deque[Entry] | None = None
            for key in pool.routes:
                queue = self.queues[key]
                while queue and not is_current(queue[0]):
                    queue.popleft()
                if queue and (best is None or queue[0][1].since < best[0][1].since):
                    best = queue
            if best is None:
                return
            _, client = best.popleft()
            client.queued = False
            self.waiting -= 1
            pool.occupied += 1
            self.on_bed(client, pool)


def is_current(entry: Entry) -> bool:
    """Whether a queue entry is the client's current wait (stale entries are skipped)."""
    wake, client = entry
    return client.queued and client.wake is wake
