"""A client at run time: the person (or household) every component serves.

It lives below the components (shelters, place pools, channels, waiting lists), which only
read and set the few fields their contract needs: ``wake`` (the event a client waits on),
``queued`` (whether they wait on a list now) and ``v`` (their variates).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Any

import simpy

SEGMENTS: tuple[str, ...] = ("single_adult", "youth", "family")  # who a shelter route is for
INF = math.inf

# Columns of a client's personal variates, one row per episode (uniforms unless said
# otherwise; sim.replication.variates draws them and turns those known at set-up into natural units).
# After these come two columns per place pool: the stay and the exit (pool_columns).
(SEGMENT, ORIGIN, DECISION, ASSESS, PATIENCE, WORK, DEPART, BW_FLAG, SKAEVE, INDICATION,
 HAZARD, HAZARD_PICK, RETURN, RETURN_DELAY, HOME_STAY, AVOID, SPELL) = range(17)
N_BASE = 17
GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0  # the step of a client's sequence of spell uniforms


def pool_columns(pool: int) -> tuple[int, int]:
    """The columns of a client's stay in and exit from the ``pool``-th place pool."""
    return N_BASE + 2 * pool, N_BASE + 2 * pool + 1


def exponential(mean: float, u: float) -> float:
    """Inverse CDF of the exponential distribution."""
    return -mean * math.log1p(-u)


def spell_uniform(u: float, j: int) -> float:
    """The ``j``-th uniform of a client's sequence from their own uniform ``u`` (an additive
    recurrence with the golden ratio): every spell of intermittent shelter use gets its own,
    the same in every scenario, without a stream whose order would depend on events."""
    return (u + j * GOLDEN) % 1.0


def pick(cumulative: list[float], names: list[str], u: float) -> str:
    """Inverse CDF of a categorical distribution."""
    return names[min(bisect.bisect_right(cumulative, u), len(names) - 1)]


class Client:
    """A person (or household) at run time."""

    __slots__ = ("bw", "draws", "episode", "gi", "id", "k", "origin", "process", "queued",
                 "segment", "skaeve", "v", "wake")

    def __init__(self, cid: int, gi: int, segment: str, bw: bool, skaeve: bool,
                 draws: Any, k: int, origin: str = "") -> None:
        self.id = cid
        self.gi = gi  # index of the client's group (direct BW applicants after the groups)
        self.origin = origin  # municipality of origin
        self.segment = segment
        self.bw = bw  # has a BW indication
        self.skaeve = skaeve  # needs a Skaeve Huse home
        self.draws = draws  # the group's personal variates (sim.replication.variates.GroupDraws)
        self.k = k  # this client's row in its group's draws
        self.episode = 0
        self.v: Sequence[float] = draws.episode_row(k, 0)  # a view of doubles
        self.queued = False
        self.wake: simpy.Event | None = None
        self.process: simpy.Process | None = None  # the current episode (a closure interrupts it)
