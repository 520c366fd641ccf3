"""A pool of places with a dated capacity schedule and one waiting list (BW, beschut wonen).

Places are given in order of request; a capacity cut never evicts. ``occupied`` counts
places held, by an occupant or standing empty for ``vacancy_days`` after one left (intake,
matching, refurbishment).
"""

from __future__ import annotations

from collections.abc import Mapping

import simpy

from sim.calendar import Calendar
from sim.client import Client
from sim.queues import WaitingLists, follow_schedule

PLACE = "place"  # the value a client's wake succeeds with when a place is given


class Places:
    """Places with a waiting list; ``client.wake`` succeeds with ``"place"``."""

    def __init__(self, env: simpy.Environment, vacancy_days: float = 0.0) -> None:
        self.env = env
        self.vacancy_days = vacancy_days
        self.vacant = 0  # places held empty between occupants
        self.capacity = 0
        self.occupied = 0
        self.lists: WaitingLists[str] = WaitingLists(env)
        self.changes: list[tuple[float, int]] = []  # (time, capacity)

    def start(self, calendar: Calendar, schedule: Mapping[str, int]) -> None:
        """Follow the schedule (see :meth:`Calendar.schedule_times`); no places before it."""
        times = calendar.schedule_times(schedule, self.env.now)
        dated = sorted(zip(times, schedule, schedule.values(), strict=True))
        self.changes = [(t, n) for t, _, n in dated]
        self.env.process(follow_schedule(self.env, self.changes, self._set_capacity))

    def _set_capacity(self, capacity: int) -> None:
        self.capacity = capacity
        self._fill()

    def request(self, client: Client) -> None:
        """Join the waiting list (a place is given at once when one is free)."""
        self.lists.join(client, PLACE)
        self._fill()

    def leave_queue(self, client: Client) -> None:
        """A waiting client leaves by another way."""
        self.lists.leave(client)

    def release(self) -> None:
        """The occupant leaves; the place is free again after the vacancy time."""
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
