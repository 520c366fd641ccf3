"""Outflow channels and the queue of clients waiting for a home.

Clients ready to move on (from shelter, BW or beschut wonen) wait in FIFO queues, one per
set of channels they may use. A ``quota`` channel releases homes as a Poisson process
(homes a year times realisation) and gives each to the longest-waiting eligible client; a
home nobody eligible waits for is recorded as unused. A ``capacity`` channel (Skaeve Huse)
keeps a fixed number of homes and fills each as it frees. ``hazard`` channels act on each
waiting client through a personal timer, set up in :mod:`sim.journey`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from sim.calendar import Calendar
from sim.model import Channel, Model
from sim.recording import Recorder
from sim.shelters import Entry, is_current
from sim.streams import Streams

if TYPE_CHECKING:
    from sim.journey import Client

Eligibility = tuple[str, ...]  # names of the quota and capacity channels a client may use


class Housing:
    """Quota and capacity channels with their waiting queues."""

    def __init__(self, env: simpy.Environment, model: Model, calendar: Calendar,
                 recorder: Recorder, on_home: Callable[[Client, str], None]) -> None:
        self.env = env
        self.model = model
        self.calendar = calendar
        self.recorder = recorder
        self.on_home = on_home
        self.queues: dict[Eligibility, deque[Entry]] = {}
        self.by_channel: dict[str, list[deque[Entry]]] = {n: [] for n in model.channels}
        self.free_homes: dict[str, int] = {}
        self.waiting = 0

    def eligibility(self, channels: tuple[str, ...], track: str, skaeve: bool) -> Eligibility:
        """The queue-served channels open to a client on this track."""
        return tuple(
            name for name in channels
            if (ch := self.model.channels[name]).kind != "hazard"
            and track in ch.tracks and ch.only_skaeve == skaeve
        )

    def hazard_rates(self, channels: tuple[str, ...], track: str,
                     skaeve: bool) -> list[tuple[str, float]]:
        """(channel, rate a day) of the hazard channels open to a client on this track."""
        return [
            (name, ch.rate_per_year / 365.0) for name in channels
            if (ch := self.model.channels[name]).kind == "hazard"
            and track in ch.tracks and ch.only_skaeve == skaeve and ch.rate_per_year > 0
        ]

    def start(self, streams: Streams, horizon: float) -> None:
        """Start the release process of every quota and capacity channel."""
        for name, ch in self.model.channels.items():
            start = self.calendar.day(ch.start) if ch.start else self.env.now
            start = max(start, self.env.now)
            if ch.kind == "quota":
                times, parts = self._release_times(ch, streams.get(f"channel/{name}"),
                                                   start, horizon)
                self.env.process(self._release(name, times, parts))
            elif ch.kind == "capacity":
                self.env.process(self._open(name, ch, start))

    def _release_times(self, ch: Channel, rng: np.random.Generator, start: float,
                       horizon: float) -> tuple[list[float], list[str]]:
        parts = list(ch.homes_per_year)
        times, labels = [], []
        span = max(horizon - start, 0.0)
        for part in parts:
            rate = ch.homes_per_year[part] * ch.realisation[part] / 365.0
            n = rng.poisson(rate * span)
            times.append(start + np.sort(rng.random(n)) * span)
            labels.append(np.full(n, parts.index(part)))
        all_times = np.concatenate(times)
        order = np.argsort(all_times, kind="stable")
        label_idx = np.concatenate(labels)[order]
        return all_times[order].tolist(), [parts[i] for i in label_idx]

    def _release(self, name: str, times: list[float],
                 parts: list[str]) -> Generator[Any, Any, None]:
        multi = len(self.model.channels[name].homes_per_year) > 1
        for t, part in zip(times, parts, strict=True):
            yield self.env.timeout(t - self.env.now)
            label = f"{name}/{part}" if multi else name
            if not self._give(name, label):
                self.recorder.unused_home(self.env.now, self.recorder.reasons[label])

    def _open(self, name: str, ch: Channel, start: float) -> Generator[Any, Any, None]:
        if start > self.env.now:
            yield self.env.timeout(start - self.env.now)
        self.free_homes[name] = ch.homes
        while self.free_homes[name] and self._give(name, name):
            self.free_homes[name] -= 1

    def free_home(self, name: str) -> None:
        """A capacity-channel home is vacated: offer it again."""
        if not self._give(name, name):
            self.free_homes[name] += 1

    def enqueue(self, client: Client, eligibility: Eligibility) -> None:
        """Wait for a home; take a free capacity home at once if there is one."""
        for name in eligibility:
            if self.free_homes.get(name, 0) > 0:
                self.free_homes[name] -= 1
                self.on_home(client, name)
                return
        queue = self.queues.get(eligibility)
        if queue is None:
            queue = self.queues[eligibility] = deque()
            for name in eligibility:
                self.by_channel[name].append(queue)
        assert client.wake is not None
        client.queued = True
        queue.append((client.wake, client))
        self.waiting += 1

    def leave_queue(self, client: Client) -> None:
        """A waiting client leaves by another way; removed lazily from the deque."""
        client.queued = False
        self.waiting -= 1

    def _give(self, name: str, label: str) -> bool:
        best: deque[Entry] | None = None
        for queue in self.by_channel[name]:
            while queue and not is_current(queue[0]):
                queue.popleft()
            if queue and (best is None or queue[0][1].since < best[0][1].since):
                best = queue
        if best is None:
            return False
        _, client = best.popleft()
        client.queued = False
        self.waiting -= 1
        self.on_home(client, label)
        return True
