"""SimPy processes and events that cost fewer scheduled events.

A client's journey needs neither SimPy's start event of a process (:class:`simpy.Process`
schedules an ``Initialize``) nor its end event (nobody waits for a client), and a client who
waits for a component or a timer, whichever comes first, needs one event, not a timeout and
an event. Both classes keep SimPy's contracts: :class:`Light` is a :class:`simpy.Process`
(it can be interrupted), :class:`Wake` an event that components succeed.
"""

from __future__ import annotations

from collections.abc import Generator
from heapq import heappush
from typing import Any

import simpy
from simpy.core import BoundClass
from simpy.events import NORMAL

INF = float("inf")
_BOUND = [name for name, member in vars(simpy.Environment).items() if isinstance(member, BoundClass)]
ProcessGenerator = Generator[simpy.Event, Any, Any]  # what it returns is not used


class Environment(simpy.Environment):
    """SimPy's environment, with events at a given time and a way to free a run.

    ``env.timeout(t - env.now)`` happens at ``now + (t - now)``, which in floating point is
    not always ``t``: an event whose time is known in advance (the BCT's decision after a
    report that is no event of its own) goes into SimPy's schedule at that time as it is.
    """

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        self.live: set[Light] = set()  # the processes still running
        for name in _BOUND:  # SimPy binds only its own class's event classes to the instance
            setattr(self, name, getattr(self, name))  # env.timeout(...) without __get__

    def close(self) -> None:
        """Let reference counting free the run: close the generators of the processes still
        running (their frames hold the model and its clients), drop what is still scheduled
        and the event classes bound to the environment (bound to it, they make it a reference
        cycle). Afterwards the environment cannot run; a replication closes it at its end, as
        a collection of everything it made costs several times more (at ten times the volume,
        half a second for the collector's passes over 250,000 objects)."""
        for process in self.live:
            process._generator.close()
            process._target = None  # type: ignore[assignment]
        self.live.clear()
        self._queue.clear()
        for name in _BOUND:
            vars(self).pop(name, None)

    def at(self, time: float, value: Any = None) -> simpy.Event:
        """A triggered event at ``time`` (not before now), with ``value``."""
        if time < self._now:
            raise ValueError(f"{time} is before now ({self._now})")
        event = simpy.Event(self)
        event._ok, event._value = True, value
        heappush(self._queue, (time, NORMAL, next(self._eid), event))
        return event


class Light(simpy.Process):
    """A process that starts on a given event, or at once, and whose end is no event.

    ``start(event)`` resumes the generator when ``event`` is processed; ``start(None)`` runs
    it now, up to its first yield. When the generator returns the process is dead (no event
    is scheduled); an exception in it propagates out of the SimPy loop.
    """

    def __init__(self, env: simpy.Environment, generator: ProcessGenerator) -> None:
        # simpy.Process.__init__ is not called: it would schedule an Initialize event
        self.env = env
        self.callbacks = []
        self._generator = generator
        self._target: simpy.Event | None = None  # type: ignore[assignment]
        self._live = env.live if isinstance(env, Environment) else None

    def start(self, event: simpy.Event | None = None) -> Light:
        """Start when ``event`` is processed (its value is sent in and ignored), or now."""
        if self._live is not None:
            self._live.add(self)
        if event is None:
            self._resume(_NOW)
        else:
            self._target = event
            event.callbacks.append(self._resume)
        return self

    def _resume(self, event: simpy.Event) -> None:
        """Send the event's value (or throw its exception) into the generator, until it
        yields an event that is still to come or returns."""
        env, generator = self.env, self._generator
        env._active_proc = self
        while True:
            try:
                if event._ok:
                    event = generator.send(event._value)
                else:
                    event._defused = True
                    exc = event._value
                    event = generator.throw(type(exc)(*exc.args))
            except StopIteration:
                self._ok, self._value = True, None  # dead: is_alive is False
                if self._live is not None:
                    self._live.discard(self)
                event = None  # type: ignore[assignment]
                break
            if event.callbacks is not None:
                event.callbacks.append(self._resume)
                break
        self._target = event
        env._active_proc = None


class _Now(simpy.Event):
    """The event a process started at once resumes on (triggered, never scheduled)."""

    def __init__(self) -> None:
        self.callbacks = None  # type: ignore[assignment]
        self._ok = True
        self._value = None


_NOW = _Now()


class Wake(simpy.Event):
    """What a waiting client waits on: its own timer, or a component, whichever comes first.

    With a finite ``delay`` the event is scheduled at once for ``now + delay`` with ``value``
    (as a :class:`simpy.Timeout`). A component that gives the client what it waits for calls
    :meth:`succeed` earlier: the event is scheduled again for now, with the component's
    value; when its timer's entry comes up later, the event has no callbacks left and SimPy's
    loop passes over it. So a wait costs one scheduled event, where a timeout whose callback
    succeeds an event cost two (and a stale timeout when the component came first).
    """

    def __init__(self, env: simpy.Environment, delay: float, value: Any) -> None:
        self.env = env
        self.callbacks = []
        self._ok = True
        self._value = value
        self.early = False  # succeeded by a component
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        if delay < INF:
            env.schedule(self, NORMAL, delay)

    def succeed(self, value: Any = None) -> Wake:
        """Wake the client now with ``value`` (before its timer, which is then ignored)."""
        if self.early or self.callbacks is None:
            raise RuntimeError(f"{self} has already been triggered")
        self.early = True
        self._value = value
        self.callbacks.append(_spent)
        self.env.schedule(self, NORMAL)
        return self


def _spent(event: simpy.Event) -> None:
    """The last callback of a wake a component succeeded: its timer's later entry in the
    schedule finds an empty list of callbacks (SimPy's loop needs a list)."""
    event.callbacks = []
