"""What the engine records: clients, state changes and daily snapshots.

Processes call :meth:`Recorder.log` at every state change; all indicators are derived
afterwards from these records in numpy (:mod:`sim.measure.metrics`), never from counters kept in
the processes. The log is one flat array of doubles, six to an event; a row is packed by
``struct`` and appended as bytes (a third of the work of ``array.extend``, which converts
number by number), and it holds no Python objects (a list of numbers would keep millions
of them alive at ten times the volume, for the garbage collector to go over).
"""

from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass

import numpy as np

BASE_STAGES: tuple[str, ...] = (
    "buiten",         # outside the system (before arrival, or while waiting at home for a place)
    "bct",            # reported at the BCT, being assessed
    "wacht_op_bed",   # decision for shelter, no bed free: waiting (street, with others, hotel: [homeless])
    "opvang",         # in a shelter bed, working toward ready to move on
    "klaar",          # in a shelter bed, ready, waiting for a home
    "uitstroom",      # left the system (housed, referred, departed, Wlz, ...)
    "weg",            # a night-shelter user's nights elsewhere between nights in a bed
)
BUITEN, BCT, WACHT, OPVANG, KLAAR, UIT, WEG = range(len(BASE_STAGES))


def stage_names(pools: list[str]) -> tuple[str, ...]:
    """Every stage of a model with these place pools, in code order.

    After the base stages, each pool has two: ``<pool>_wachtlijst`` (on its waiting list, in
    a shelter bed, at home, or in another pool's place) and ``<pool>`` (in one of its places).
    """
    return BASE_STAGES + tuple(s for p in pools for s in (f"{p}_wachtlijst", p))


def pool_stages(pool: int) -> tuple[int, int]:
    """Codes of the ``pool``-th pool's stages: (on its waiting list, in a place)."""
    return len(BASE_STAGES) + 2 * pool, len(BASE_STAGES) + 2 * pool + 1


NO_FACILITY = -1


def code_type(codes: np.ndarray) -> np.dtype:
    """The narrowest signed integer type that holds every one of ``codes`` (and -1)."""
    high = int(codes.max(initial=0))
    for candidate in (np.int8, np.int16, np.int32):
        if high <= np.iinfo(candidate).max:
            return np.dtype(candidate)
    return np.dtype(np.int64)


class Codes(dict[str, int]):
    """Reason strings to small integers, numbered in order of first use."""

    def __missing__(self, key: str) -> int:
        code = self[key] = len(self)
        return code


@dataclass(frozen=True)
class LogRecord:
    """What the event log holds at the end of a replication, as numpy arrays: the events
    (:meth:`Recorder.events`), what names their reason codes, each person's group and origin,
    and the homes released with nobody waiting."""

    events: dict[str, np.ndarray]
    reasons: list[str]
    client_group: np.ndarray
    client_origin: np.ndarray
    unused_time: np.ndarray
    unused_reason: np.ndarray


class Recorder:
    """Append-only records of one replication."""

    def __init__(self) -> None:
        self.log_values = array("d")
        add, pack = self.log_values.frombytes, struct.Struct("6d").pack

        def log(row: tuple[float, ...]) -> None:
            add(pack(*row))

        self.log = log  # log((client, time, src, dst, facility, reason))
        self.reasons = Codes()
        self.client_group = array("q")  # 64-bit: a person's codes are keys in arithmetic
        self.client_origin = array("q")  # (origin x years wrapped in 8 bits from 16 years on)
        self.unused_time = array("d")
        self.unused_reason = array("q")

    def new_client(self, group: int, origin: int) -> int:
        """Register a person; returns their id."""
        self.client_group.append(group)
        self.client_origin.append(origin)
        return len(self.client_group) - 1

    def unused_home(self, time: float, reason: int) -> None:
        """A home a channel released with nobody eligible waiting."""
        self.unused_time.append(time)
        self.unused_reason.append(reason)

    def record(self) -> LogRecord:
        """Everything recorded, as arrays."""
        client_group, client_origin = self.clients()
        return LogRecord(self.events(), self.reason_names(), client_group, client_origin,
                         np.frombuffer(self.unused_time, dtype=np.float64),
                         np.frombuffer(self.unused_reason, dtype=np.int64))

    def clients(self) -> tuple[np.ndarray, np.ndarray]:
        """Each person's group and municipality of origin (int64, indexed by client id)."""
        return (np.frombuffer(self.client_group, dtype=np.int64),
                np.frombuffer(self.client_origin, dtype=np.int64))

    def events(self) -> dict[str, np.ndarray]:
        """The event log as numpy columns, in order of time (and of logging within a time:
        a report at the BCT is logged when its visit is scheduled, before its time).

        Stage, facility and reason codes are stored in the narrowest signed type that holds
        every code of the run (:func:`code_type`), to keep a long run's log small; they are
        indices and labels, and a caller widens them before any arithmetic.
        """
        table = np.frombuffer(self.log_values, dtype=np.float64).reshape(-1, 6)
        table = table[np.argsort(table[:, 1], kind="stable")]
        return {
            "client": table[:, 0].astype(np.int64),
            "time": table[:, 1].copy(),
            **{name: table[:, i].astype(code_type(table[:, i]))
               for i, name in ((2, "src"), (3, "dst"), (4, "facility"), (5, "reason"))},
        }

    def reason_names(self) -> list[str]:
        """Reason strings indexed by code."""
        names = [""] * len(self.reasons)
        for name, code in self.reasons.items():
            names[code] = name
        return names
