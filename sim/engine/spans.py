"""Time spans of clients in each stage, paired from the event log (numpy only)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from sim.engine.log import KLAAR, OPVANG, WACHT, pool_stages


@dataclass(frozen=True)
class Intervals:
    """Time spans of clients in some state: one row per span."""

    client: np.ndarray
    start: np.ndarray
    end: np.ndarray
    facility: np.ndarray  # facility of the opening event (-1 if none)
    opened_by: np.ndarray  # row index of the opening event in the log
    closed_by: np.ndarray  # row of the closing event; -1 still open, -2 ended by a rule (no event)

    @property
    def length(self) -> np.ndarray:
        return self.end - self.start


def within_client_rank(client: np.ndarray) -> np.ndarray:
    """For rows sorted by client: 0, 1, 2, ... within each client."""
    n = len(client)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(client)) + 1]
    counts = np.diff(np.r_[starts, n])
    return np.arange(n) - np.repeat(starts, counts)


def by_client(client: np.ndarray, time: np.ndarray) -> np.ndarray:
    """The rows of an event log by client, then time, then logging order."""
    return np.lexsort((np.arange(len(time)), time, client))


def member(values: np.ndarray, codes: Iterable[int]) -> np.ndarray:
    """``np.isin(values, codes)`` for non-negative integer values and codes, by a lookup
    table (several times faster for the small codes of stages, groups and reasons)."""
    wanted = np.fromiter(codes, dtype=np.intp)
    wanted = wanted[wanted >= 0]
    size = max(int(values.max(initial=0)), int(wanted.max(initial=0))) + 1
    table = np.zeros(size, dtype=bool)
    table[wanted] = True
    return table[values]


def pair_intervals(client: np.ndarray, time: np.ndarray, facility: np.ndarray,
                   opens: np.ndarray, closes: np.ndarray, horizon: float,
                   order: np.ndarray) -> Intervals:
    """Pair the i-th opening event of each client with its i-th closing event.

    A client is in at most one such span at a time, so openings and closings alternate;
    spans still open at the end run to ``horizon``. ``order``: the rows by client
    (:func:`by_client`).
    """
    o = order[opens[order]]
    c = order[closes[order]]
    width = max(len(o), 1) + 1
    o_key = client[o] * width + within_client_rank(client[o])
    c_key = client[c] * width + within_client_rank(client[c])
    pos = np.searchsorted(c_key, o_key)
    pos_clipped = np.minimum(pos, max(len(c) - 1, 0))
    matched = (pos < len(c)) & (c_key[pos_clipped] == o_key) if len(c) else np.zeros(len(o), bool)
    closed_by = np.where(matched, c[pos_clipped] if len(c) else -1, -1)
    end = np.where(matched, time[closed_by], horizon)
    return Intervals(client[o], time[o], end, facility[o], o, closed_by)


def next_event(client: np.ndarray, rows: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The row of each given event's next event of the same client (in logging order), -1
    when it is the client's last. ``order``: the rows by client (:func:`by_client`)."""
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    after = rank[rows] + 1
    nxt = order[np.minimum(after, len(order) - 1)] if len(order) else after
    same = (after < len(order)) & (client[nxt] == client[rows]) if len(order) else after > 0
    return np.where(same, nxt, -1)


def overlap_days(start: np.ndarray, end: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Days each span overlaps each year: shape (n_spans, n_years)."""
    a = np.maximum(start[:, None], edges[None, :-1])
    b = np.minimum(end[:, None], edges[None, 1:])
    return np.clip(b - a, 0.0, None)


@dataclass(frozen=True)
class StageSpans:
    """The spans a replication's indicators are built from."""

    shelter: Intervals  # in a shelter bed (any stage that holds one)
    wacht_op_bed: Intervals  # waiting outside for a bed
    klaar: Intervals  # ready in a shelter bed, waiting for a home
    pool_waiting: list[Intervals]  # on each place pool's waiting list
    pool_in: list[Intervals]  # in a place of each pool
    holds_bed: np.ndarray  # the stages in which a client can hold a shelter bed
    order: np.ndarray  # the rows of the event log by client (:func:`by_client`)

    def holding(self, events: dict[str, np.ndarray], pool: int) -> list[Intervals]:
        """The spans in which a client holds a place of ``pool``: in it, or waiting from it
        for another pool's place."""
        _, in_place = pool_stages(pool)
        return [self.pool_in[pool], *(subset(w, events["src"][w.opened_by] == in_place)
                                      for w in self.pool_waiting)]


def stage_spans(events: dict[str, np.ndarray], horizon: float, n_pools: int,
                moved: int = -1) -> StageSpans:
    """Spans in a shelter bed, waiting for one, ready, and on each pool's list and in its places.

    ``moved``: the reason code of a move to another bed when a facility closes (the event
    ends the span in one facility and starts one in the next).
    """
    client, time, src, dst = events["client"], events["time"], events["src"], events["dst"]
    facility = events["facility"]

    order = by_client(client, time)

    def spans(opens: np.ndarray, closes: np.ndarray) -> Intervals:
        return pair_intervals(client, time, facility, opens, closes, horizon, order)

    codes = [pool_stages(i) for i in range(n_pools)]
    holds_bed = np.array([OPVANG, KLAAR, *(w for w, _ in codes)])
    in_bed = member(src, holds_bed) & (facility >= 0)
    bed_change = events["reason"] == moved
    return StageSpans(
        shelter=spans((dst == OPVANG) | bed_change, (in_bed & ~member(dst, holds_bed)) | bed_change),
        wacht_op_bed=spans(dst == WACHT, src == WACHT),
        klaar=spans(dst == KLAAR, src == KLAAR),
        pool_waiting=[spans(dst == w, src == w) for w, _ in codes],
        pool_in=[spans(dst == p, src == p) for _, p in codes],
        holds_bed=holds_bed, order=order)


def subset(spans: Intervals, mask: np.ndarray) -> Intervals:
    """The spans where ``mask`` is true."""
    return Intervals(spans.client[mask], spans.start[mask], spans.end[mask], spans.facility[mask],
                     spans.opened_by[mask], spans.closed_by[mask])


def joined(a: Intervals, b: Intervals) -> Intervals:
    """The spans of both."""
    return Intervals(*(np.concatenate((getattr(a, f), getattr(b, f)))
                       for f in ("client", "start", "end", "facility", "opened_by", "closed_by")))


def count_at(spans: Intervals, times: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """How many spans cover each of the sorted ``times`` (start <= t < end; open spans never
    end)."""
    if mask is not None:
        spans = subset(spans, mask)
    return counts_by(spans, times, np.zeros(len(spans.start), dtype=np.intp), 1)[0]


def counts_by(spans: Intervals, times: np.ndarray, key: np.ndarray, n_keys: int) -> np.ndarray:
    """:func:`count_at` for each value of ``key`` (one per span, from 0 to ``n_keys`` - 1)
    at once: shape (n_keys, len(times))."""
    end = np.where(spans.closed_by == -1, np.inf, spans.end)
    width = len(times) + 1
    key = key.astype(np.intp)
    first = key * width + np.searchsorted(times, spans.start, side="left")  # t >= start
    after = key * width + np.searchsorted(times, end, side="left")  # t >= end
    size = n_keys * width
    steps = np.bincount(first, minlength=size) - np.bincount(after, minlength=size)
    return np.cumsum(steps.reshape(n_keys, width), axis=1)[:, :-1]


def step_at(change_times: np.ndarray, values: np.ndarray, times: np.ndarray) -> np.ndarray:
    """A step function (value from each change time on; 0 before the first) at ``times``."""
    idx = np.searchsorted(change_times, times, side="right") - 1
    return np.where(idx >= 0, values[np.maximum(idx, 0)], 0)
