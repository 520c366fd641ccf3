"""Waiting lists: the one queue under shelters, place pools and outflow channels.

As in SimPy's resources, the server succeeds the waiter's event itself. A client waits on a
single ``wake`` event (that a timer may also trigger: patience, departure); joining a list
records the time, and :meth:`WaitingLists.serve` gives what is free to the longest-waiting
client across the lists that may use it, by succeeding their ``wake`` with it. A client who
stops waiting (a timer fired first) is removed lazily: a stale entry is skipped when it
reaches the head of its list.

A client who must stop waiting for a while (their bed moved, or they lost it) keeps their
place: they join again with the time they first joined (``since``) and are put back where
that time belongs, as if they had never left. A client may wait on several lists at once with
one ``wake`` (a bed, and a place or a home): the first list to serve them wins, and the others
are told by :meth:`WaitingLists.leave`.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Generator, Hashable, Iterable
from typing import Any, Generic, TypeVar

import simpy

from sim.engine.client import Client

K = TypeVar("K", bound=Hashable)
Entry = tuple[simpy.Event, Client, float]  # (the wait it belongs to, the client, joined at)
COMPACT_FROM = 64  # stale entries tolerated on top of as many as there are live ones


class WaitingLists(Generic[K]):
    """FIFO waiting lists, one per key; the oldest waiter across a set of lists goes first."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.lists: dict[K, deque[Entry]] = {}
        self.waiting = 0  # live entries over all lists
        self.entries = 0  # entries over all lists, stale ones included

    def list(self, key: K) -> deque[Entry]:
        """The list of ``key`` (created empty on first use)."""
        entries = self.lists.get(key)
        if entries is None:
            entries = self.lists[key] = deque()
        return entries

    def join(self, client: Client, key: K, since: float | None = None) -> float:
        """Wait on list ``key``; ``client.wake`` is the event served. ``since``: the time the
        client first joined it (a client who had to step out keeps their place); by default
        now. Returns that time."""
        assert client.wake is not None
        client.queued = True
        entries = self.lists.get(key)
        if entries is None:
            entries = self.list(key)
        now = self.env._now  # SimPy's clock without the property's Python call
        if since is None or since >= now:
            since = now
            entries.append((client.wake, client, since))
        else:
            entries.insert(_place_of(entries, since), (client.wake, client, since))
        self.waiting += 1
        self.entries += 1
        return since

    def leave(self, client: Client) -> None:
        """The client stops waiting (lazy: the entry is skipped when reached)."""
        client.queued = False
        self.waiting -= 1
        if self.entries > 2 * self.waiting + COMPACT_FROM:
            self.compact()

    def compact(self) -> None:
        """Drop the stale entries of every list (order kept). Called when more than half of
        all entries are stale, so that it costs O(1) per wait amortised, and the clients who
        left a list are not kept alive by it until they reach its head."""
        for key, entries in self.lists.items():
            self.lists[key] = deque(entry for entry in entries if is_current(entry))
        self.entries = self.waiting

    def serve(self, keys: Iterable[K], value: Any) -> Client | None:
        """Succeed the oldest waiter's ``wake`` with ``value``; None when nobody waits.

        Ties go to the list that comes first in ``keys``.
        """
        best: deque[Entry] | None = None
        for key in keys:
            entries = self.lists.get(key)
            if not entries:
                continue
            while entries and not is_current(entries[0]):
                entries.popleft()
                self.entries -= 1
            if entries and (best is None or entries[0][2] < best[0][2]):
                best = entries
        if best is None:
            return None
        wake, client, _ = best.popleft()
        self.entries -= 1
        client.queued = False
        self.waiting -= 1
        wake.succeed(value)
        return client

    def live(self, key: K) -> int:
        """Clients currently waiting on list ``key`` (for checks; not used by the engine)."""
        return sum(1 for entry in self.lists.get(key, ()) if is_current(entry))


def is_current(entry: Entry) -> bool:
    """Whether a list entry is the client's current wait (stale entries are skipped)."""
    wake, client, _ = entry
    return client.queued and client.wake is wake


def _place_of(entries: deque[Entry], since: float) -> int:
    """Where an entry that joined at ``since`` belongs: after every entry that joined at or
    before it. Entries are kept in the order of when they joined (a new one joins now, at the
    end; one back in line is put here), so a binary search finds it; a stale entry's place
    does not matter, it is skipped when served."""
    return bisect.bisect_right(entries, since, key=_joined)


def _joined(entry: Entry) -> float:
    return entry[2]


def follow_schedule(env: simpy.Environment, changes: list[tuple[float, Any]],
                    apply: Callable[[Any], None]) -> Generator[Any, Any, None]:
    """A process that calls ``apply(value)`` at each (time, value) of a dated schedule."""
    for t, value in changes:
        if t > env.now:
            yield env.timeout(t - env.now)
        apply(value)
