"""Time spans of clients in each stage, paired from the event log (numpy only)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from sim.engine.log import KLAAR, OPVANG, UIT, WACHT, WEG, pool_stages


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
    """Pair each opening event with the next closing event of the same client after it.

    An event may be both (a move closes one span and opens the next). Spans still open at
    the end run to ``horizon``. ``order``: the rows by client (:func:`by_client`).
    """
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    o = order[opens[order]]  # opening rows, by client and time
    close_rank = rank[np.flatnonzero(closes)]
    close_rank.sort()
    pos = np.searchsorted(close_rank, rank[o], side="right")
    nxt = order[close_rank[np.minimum(pos, len(close_rank) - 1)]] if len(close_rank) else o
    matched = (pos < len(close_rank)) & (client[nxt] == client[o])
    closed_by = np.where(matched, nxt, -1)
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
    """The spans a replication's indicators are built from.

    A bed span is a client's time in one shelter bed (a move to another bed ends it); a stay
    is their unbroken time in shelter beds (moves go on; nights without a bed end it).
    """

    shelter: Intervals  # in one shelter bed
    stays: Intervals  # in shelter beds without a night between
    wacht_op_bed: Intervals  # waiting outside for a bed
    weg: Intervals  # a night-shelter user's nights elsewhere between spells in a bed
    klaar: Intervals  # ready in a shelter bed, waiting for a home
    pool_waiting: list[Intervals]  # on each place pool's waiting list (in a bed or not)
    pool_in: list[Intervals]  # in a place of each pool
    pool_kept: list[Intervals]  # holding a place of each pool while waiting for another's
    holds_bed: np.ndarray  # the stages in which a client can hold a shelter bed
    order: np.ndarray  # the rows of the event log by client (:func:`by_client`)

    def holding(self, pool: int) -> list[Intervals]:
        """The spans in which a client holds a place of ``pool``: in it, or waiting from it
        for another pool's place (until a cut takes it)."""
        return [self.pool_in[pool], self.pool_kept[pool]]


def stage_spans(events: dict[str, np.ndarray], horizon: float, n_pools: int,
                reasons: dict[str, int]) -> StageSpans:
    """Spans in a shelter bed and stay, waiting for one, away, ready, and on each pool's list
    and in its places.

    ``reasons``: the codes of the reasons that shape the spans: ``moved`` (to another bed: it
    ends a bed span, not a stay), ``indicated`` and ``cut`` (a wait for a place starts: an
    indication, or a place a cut took; it ends in a place or out of the system, whether the
    client meanwhile had a bed or not).
    """
    client, time, src, dst = events["client"], events["time"], events["src"], events["dst"]
    facility, reason = events["facility"], events["reason"]
    order = by_client(client, time)

    def spans(opens: np.ndarray, closes: np.ndarray) -> Intervals:
        return pair_intervals(client, time, facility, opens, closes, horizon, order)

    codes = [pool_stages(i) for i in range(n_pools)]
    holds_bed = np.array([OPVANG, KLAAR, *(w for w, _ in codes)])
    in_bed_before, in_bed_after = member(src, holds_bed), member(dst, holds_bed)
    has_bed = facility >= 0
    moved = reason == reasons.get("moved", -1)
    takes_bed = in_bed_after & has_bed & ~in_bed_before
    leaves_bed = in_bed_before & has_bed & ~in_bed_after
    cut = reason == reasons.get("cut", -1)
    indicated = reason == reasons.get("indicated", -1)
    waiting, places = [w for w, _ in codes], [p for _, p in codes]
    return StageSpans(
        shelter=spans(takes_bed | moved, leaves_bed | moved),
        stays=spans(takes_bed, leaves_bed),
        wacht_op_bed=spans(dst == WACHT, src == WACHT),
        weg=spans(dst == WEG, src == WEG),
        klaar=spans((dst == KLAAR) & (src != KLAAR), (src == KLAAR) & (dst != KLAAR)),
        pool_waiting=[spans((dst == w) & (indicated | cut & (src == p)), (dst == p) | (dst == UIT))
                      for w, p in codes],
        pool_in=[spans(dst == p, src == p) for _, p in codes],
        pool_kept=[spans((src == p) & member(dst, waiting) & ~cut,
                         member(src, waiting) & (member(dst, places) | (dst == UIT) | cut))
                   for _, p in codes],
        holds_bed=holds_bed, order=order)


def subset(spans: Intervals, mask: np.ndarray) -> Intervals:
    """The spans where ``mask`` is true."""
    return Intervals(spans.client[mask], spans.start[mask], spans.end[mask], spans.facility[mask],
                     spans.opened_by[mask], spans.closed_by[mask])


def joined(first: Intervals, *others: Intervals) -> Intervals:
    """The spans of all."""
    parts = (first, *others)
    return Intervals(*(np.concatenate([getattr(s, f) for s in parts])
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


Schedule = tuple[np.ndarray, np.ndarray]  # (change times, value from then on)


def steps(changes: list[tuple[float, int]]) -> Schedule:
    """A step function from its (time, value) changes, as :func:`step_at` reads it."""
    return (np.array([t for t, _ in changes], dtype=float),
            np.array([v for _, v in changes], dtype=float))


def step_at(change_times: np.ndarray, values: np.ndarray, times: np.ndarray) -> np.ndarray:
    """A step function (value from each change time on; 0 before the first) at ``times``."""
    if len(change_times) == 0:
        return np.zeros(len(times))
    idx = np.searchsorted(change_times, times, side="right") - 1
    return np.where(idx >= 0, values[np.maximum(idx, 0)], 0)
