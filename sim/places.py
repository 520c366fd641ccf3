"""A pool of places with a dated capacity schedule and a FIFO waiting list (BW, beschut)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any

import simpy

from sim.calendar import Calendar
from sim.shelters import Entry, is_current

if TYPE_CHECKING:
    from sim.journey import Client


class Places:
    """Places given in order of request; a capacity cut never evicts.

    ``occupied`` counts places held, by an occupant or standing empty for ``vacancy_days``
    after one left (intake, matching, refurbishment).
    """

    def __init__(self, env: simpy.Environment, on_place: Callable[[Client], None],
                 vacancy_days: float = 0.0) -> None:
        self.env = env
        self.on_place = on_place
        self.vacancy_days = vacancy_days
        self.vacant = 0  # places held empty between occupants
        self.capacity = 0
        self.occupied = 0
        self.queue: deque[Entry] = deque()
        self.waiting = 0
        self.changes: list[tuple[float, int]] = []  # (time, capacity)

    def start(self, calendar: Calendar, schedule: Mapping[str, int]) -> None:
        """Follow the schedule (see :meth:`Calendar.schedule_times`); no places before it."""
        times = calendar.schedule_times(schedule, self.env.now)
        dated = sorted(zip(times, schedule, schedule.values(), strict=True))
        self.changes = [(t, n) for t, _, n in dated]
        self.env.process(self._follow(self.changes))

    def _follow(self, changes: list[tuple[float, int]]) -> Generator[Any, Any, None]:
        for t, capacity in changes:
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            self.capacity = capacity
            self._fill()

    def request(self, client: Client) -> None:
        """Join the waiting list; ``on_place`` is called when a place is given."""
        assert client.wake is not None
        client.queued = True
        client.since = self.env.now
        self.queue.append((client.wake, client))
        self.waiting += 1
        self._fill()

    def leave_queue(self, client: Client) -> None:
        """A waiting client leaves by another way; removed lazily from the deque."""
        client.queued = False
        self.waiting -= 1

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
        queue = self.queue
        while self.occupied < self.capacity and queue:
            entry = queue.popleft()
            if not is_current(entry):
                continue
            client = entry[1]
            client.queued = False
            self.waiting -= 1
            self.occupied += 1
            self.on_place(client)
