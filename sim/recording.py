"""What the engine records: clients, state changes and daily snapshots.

Processes call :meth:`Recorder.log` at every state change; all indicators are derived
afterwards from these records in numpy (:mod:`sim.metrics`), never from counters kept in
the processes. The log is a set of typed arrays, cheap to append to in the event loop.
"""

from __future__ import annotations

from array import array

import numpy as np

STAGES: tuple[str, ...] = (
    "buiten",         # outside the system (before arrival, or while waiting at home for BW)
    "bct",            # reported at the BCT, being assessed
    "wacht_op_bed",   # decision for shelter, no bed free: waiting outside (rough sleeping)
    "opvang",         # in a shelter bed, working toward ready to move on
    "klaar",          # in a shelter bed, ready, waiting for a home
    "bw_wachtlijst",  # BW indication, waiting for a BW place (in a shelter bed or at home)
    "bw",             # in beschermd wonen
    "beschut",        # in beschut wonen
    "uitstroom",      # left the system (housed, referred, departed, Wlz, ...)
)
STAGE = {name: i for i, name in enumerate(STAGES)}
NO_FACILITY = -1


class Recorder:
    """Append-only records of one replication."""

    def __init__(self) -> None:
        self.client = array("q")
        self.time = array("d")
        self.src = array("b")
        self.dst = array("b")
        self.facility = array("h")
        self.reason = array("h")
        self.reasons: dict[str, int] = {}
        self.client_group = array("h")
        self.client_segment = array("b")
        self.client_origin = array("b")
        self.client_bw = array("b")
        self.unused_time = array("d")
        self.unused_reason = array("h")

    def reason_code(self, reason: str) -> int:
        """The code of a reason string (interned on first use)."""
        code = self.reasons.get(reason)
        if code is None:
            code = self.reasons[reason] = len(self.reasons)
        return code

    def new_client(self, group: int, segment: int, origin: int, bw: bool) -> int:
        """Register a person; returns their id."""
        self.client_group.append(group)
        self.client_segment.append(segment)
        self.client_origin.append(origin)
        self.client_bw.append(bw)
        return len(self.client_group) - 1

    def log(self, client: int, time: float, src: int, dst: int, facility: int,
            reason: int) -> None:
        """One state change of one client."""
        self.client.append(client)
        self.time.append(time)
        self.src.append(src)
        self.dst.append(dst)
        self.facility.append(facility)
        self.reason.append(reason)

    def unused_home(self, time: float, reason: int) -> None:
        """A home a channel released with nobody eligible waiting."""
        self.unused_time.append(time)
        self.unused_reason.append(reason)

    def events(self) -> dict[str, np.ndarray]:
        """The event log as numpy columns."""
        return {
            "client": np.frombuffer(self.client, dtype=np.int64),
            "time": np.frombuffer(self.time, dtype=np.float64),
            "src": np.frombuffer(self.src, dtype=np.int8),
            "dst": np.frombuffer(self.dst, dtype=np.int8),
            "facility": np.frombuffer(self.facility, dtype=np.int16),
            "reason": np.frombuffer(self.reason, dtype=np.int16),
        }

    def reason_names(self) -> list[str]:
        """Reason strings indexed by code."""
        names = [""] * len(self.reasons)
        for name, code in self.reasons.items():
            names[code] = name
        return names
