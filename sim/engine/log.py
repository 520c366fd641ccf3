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


class Codes(dict[str, int]):
    """Reason strings to small integers, numbered in order of first use."""

    def __missing__(self, key: str) -> int:
        code = self[key] = len(self)
        return code


class Recorder:
    """Append-only records of one replication."""

    def __init__(self) -> None:
        self.log_values = array("d")
        add, pack = self.log_values.frombytes, struct.Struct("6d").pack

        def log(row: tuple[float, ...]) -> None:
            add(pack(*row))

        self.log = log  # log((client, time, src, dst, facility, reason))
        self.reasons = Codes()
        self.client_group = array("h")
        self.client_origin = array("b")
        self.unused_time = array("d")
        self.unused_reason = array("h")

    def new_client(self, group: int, origin: int) -> int:
        """Register a person; returns their id."""
        self.client_group.append(group)
        self.client_origin.append(origin)
        return len(self.client_group) - 1

    def unused_home(self, time: float, reason: int) -> None:
        """A home a channel released with nobody eligible waiting."""
        self.unused_time.append(time)
        self.unused_reason.append(reason)

    def events(self) -> dict[str, np.ndarray]:
        """The event log as numpy columns, in order of time (and of logging within a time:
        a report at the BCT is logged when its visit is scheduled, before its time)."""
        table = np.frombuffer(self.log_values, dtype=np.float64).reshape(-1, 6)
        table = table[np.argsort(table[:, 1], kind="stable")]
        return {
            "client": table[:, 0].astype(np.int64),
            "time": table[:, 1].copy(),
            "src": table[:, 2].astype(np.int8),
            "dst": table[:, 3].astype(np.int8),
            "facility": table[:, 4].astype(np.int16),
            "reason": table[:, 5].astype(np.int16),
        }

    def reason_names(self) -> list[str]:
        """Reason strings indexed by code."""
        names = [""] * len(self.reasons)
        for name, code in self.reasons.items():
            names[code] = name
        return names
