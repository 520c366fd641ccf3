"""Derive the daily and yearly tables from what the engine recorded, in numpy.

Each yearly metric is defined the way its source defines it: unique persons in a year (a
flow), nights or days in a year (a sum of overlaps), a stock at the end of a year, or a mean
of daily stocks over a year (for the sources' "monthly mean"). Daily stocks are counted at
the start of each day from the stage spans of :mod:`sim.spans`.

The yearly table is built by the sections of :data:`SECTIONS`, in that order. What they
report on comes from the run record, never from literals: every regime of the model (the
keys of ``recovery.regime``), every channel and part, every place pool.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.model import EXIT_REASONS
from sim.recording import BCT, OPVANG, UIT, pool_stages
from sim.spans import Intervals, StageSpans, count_at, overlap_days, stage_spans, step_at

LONG_STAY_DAYS = 270.0  # "stays over 9 months" (the municipality's indicators)
Schedule = tuple[np.ndarray, np.ndarray]  # (change times, capacity from then on)
Row = tuple[int, str, str, float]


@dataclass(frozen=True)
class PoolRecord:
    """A place pool of the run: its name, the label it is reported under, places and cost."""

    name: str
    label: str
    capacity: Schedule
    cost_per_day: float


@dataclass(frozen=True)
class RunRecord:
    """Everything one replication recorded, as numpy arrays, plus what names the codes."""

    events: dict[str, np.ndarray]
    reasons: list[str]
    client_group: np.ndarray
    client_origin: np.ndarray
    group_names: list[str]
    bct_groups: list[str]  # groups that come in through the BCT
    origin_names: list[str]
    facility_names: list[str]
    facility_regime: list[str]  # the regime each facility is reported under
    facility_cost: np.ndarray
    facility_capacity: list[Schedule]
    regimes: list[str]  # every regime of the model
    channel_parts: dict[str, list[str]]  # channel -> its parts reported apart (Pact: municipalities)
    pools: list[PoolRecord]
    unused_time: np.ndarray
    unused_reason: np.ndarray
    start: dt.date
    years: list[int]
    year_edges: np.ndarray  # model times of 1 January of each year and the year after
    horizon: float


def regime_metric(regime: str) -> str:
    """The metric prefix of a regime: ``nachtopvang``, ``24-uurs`` -> ``opvang_24uurs``."""
    name = "".join(c if c.isalnum() else "_" for c in regime.replace("-", ""))
    return f"opvang_{name}" if name[:1].isdigit() else name


@dataclass(frozen=True)
class Daily:
    """Stocks at the start of each reported day: facility or stage -> kind -> values."""

    days: np.ndarray
    values: dict[str, dict[str, np.ndarray]]

    def table(self, start: dt.date) -> pd.DataFrame:
        """Long table: day, date, facility (or stage), occupancy, capacity, queue."""
        n, names = len(self.days), list(self.values)
        nan = np.full(n, np.nan)

        def column(kind: str) -> np.ndarray:
            return np.concatenate([self.values[name].get(kind, nan) for name in names])

        day = np.tile(self.days.astype(np.int32), len(names))
        origin = np.datetime64(start.isoformat(), "D")
        return pd.DataFrame({
            "day": day,
            "date": origin + day.astype("timedelta64[D]"),
            "facility": pd.Categorical.from_codes(np.repeat(np.arange(len(names)), n),
                                                  pd.Index(names)),
            "occupancy": column("occupancy").astype(float),
            "capacity": column("capacity").astype(float),
            "queue": column("queue").astype(float),
        })


def derive(rec: RunRecord) -> tuple[Daily, list[Row]]:
    """The daily stocks and the yearly indicators of one replication."""
    moved = rec.reasons.index("moved") if "moved" in rec.reasons else -1
    spans = stage_spans(rec.events, rec.horizon, len(rec.pools), moved)
    daily = daily_stocks(rec, spans)
    context = Context(rec, spans, daily)
    out = Annual(rec.years, rec.year_edges)
    for section in SECTIONS:
        section(context, out)
    return daily, out.rows


def daily_stocks(rec: RunRecord, spans: StageSpans) -> Daily:
    """Occupancy, capacity and queues at the start of each day of the reported years.

    A pool's occupancy counts the places held: by their occupants, and by occupants waiting
    for another pool's place (who keep theirs until they move).
    """
    days = np.arange(rec.year_edges[0], rec.year_edges[-1])
    values: dict[str, dict[str, np.ndarray]] = {}
    shelter = spans.shelter
    for i, name in enumerate(rec.facility_names):
        values[name] = {"occupancy": count_at(shelter, days, shelter.facility == i),
                        "capacity": step_at(*rec.facility_capacity[i], days)}
    values["wacht_op_bed"] = {"queue": count_at(spans.wacht_op_bed, days)}
    values["klaar"] = {"occupancy": count_at(spans.klaar, days)}
    for i, pool in enumerate(rec.pools):
        held = sum(count_at(s, days) for s in spans.holding(rec.events, i))
        values[pool.name] = {"occupancy": np.asarray(held),
                             "capacity": step_at(*pool.capacity, days),
                             "queue": count_at(spans.pool_waiting[i], days)}
    return Daily(days, values)


class Annual:
    """Collects (year, metric, group, value) rows."""

    def __init__(self, years: list[int], edges: np.ndarray) -> None:
        self.years = years
        self.edges = edges
        self.rows: list[Row] = []

    def add(self, metric: str, group: str, values: np.ndarray) -> None:
        """One value per year."""
        self.rows += [(y, metric, group, float(x)) for y, x in zip(self.years, values, strict=True)]

    def count(self, metric: str, group: str, times: np.ndarray) -> None:
        """Events per year."""
        self.add(metric, group, np.histogram(times, self.edges)[0])

    def mean_length(self, metric: str, group: str, spans: Intervals, ended: np.ndarray) -> None:
        """Mean length of the ``ended`` spans, by the year they end."""
        end, length = spans.end[ended], spans.length[ended]
        self.add(metric, group, _ratio(np.histogram(end, self.edges, weights=length)[0],
                                       np.histogram(end, self.edges)[0]))


class Context:
    """What the sections share: the record, its spans and daily stocks, and event columns."""

    def __init__(self, rec: RunRecord, spans: StageSpans, daily: Daily) -> None:
        self.rec, self.spans, self.daily = rec, spans, daily
        ev = rec.events
        self.client, self.time, self.src, self.dst = ev["client"], ev["time"], ev["src"], ev["dst"]
        self.reason = ev["reason"]
        self.code = {name: i for i, name in enumerate(rec.reasons)}
        base = [r.split("/")[0] for r in rec.reasons] or [""]  # a channel part's channel
        self.base_code = {name: i for i, name in enumerate(dict.fromkeys(base))}
        self.reason_base = np.array([self.base_code[b] for b in base])
        self.event_base = self.reason_base[self.reason]
        self.n_years = len(rec.years)
        self.day_year = np.searchsorted(rec.year_edges, daily.days, side="right") - 1
        self.exits = sorted({*rec.channel_parts, *EXIT_REASONS, "wlz_transfer"})

    def is_base(self, name: str) -> np.ndarray:
        """Events whose reason is ``name`` (a channel: any of its parts)."""
        return self.event_base == self.base_code.get(name, -2)

    def by_year(self, x: np.ndarray, mean: bool = False) -> np.ndarray:
        """Daily values summed (or averaged) per reported year."""
        ok = (self.day_year >= 0) & (self.day_year < self.n_years)
        total = np.bincount(self.day_year[ok], x[ok], self.n_years)
        return _ratio(total, np.bincount(self.day_year[ok], minlength=self.n_years)) if mean else total


def unique_per_year(client: np.ndarray, overlap: np.ndarray) -> np.ndarray:
    """Unique clients with positive overlap, per year (overlap: spans x years)."""
    return np.array([len(np.unique(client[overlap[:, j] > 0])) for j in range(overlap.shape[1])])


# --- sections ---------------------------------------------------------------------------


def bct_section(c: Context, out: Annual) -> None:
    """BCT: unique persons registering in a year per group, returns, decisions."""
    rec, n_years = c.rec, c.n_years
    group_of = rec.client_group[c.client]
    bct_gi = [rec.group_names.index(g) for g in rec.bct_groups]
    via_bct = np.isin(group_of, bct_gi)
    registered = (c.dst == BCT) & via_bct
    year_idx = np.searchsorted(rec.year_edges, c.time, side="right") - 1
    in_years = (year_idx >= 0) & (year_idx < n_years)
    for gi in [*bct_gi, None]:
        mask = registered & in_years & (True if gi is None else group_of == gi)
        pairs = np.unique(c.client[mask] * n_years + year_idx[mask])
        out.add("bct_registrations", "total" if gi is None else rec.group_names[gi],
                np.bincount(pairs % n_years, minlength=n_years))
    out.count("bct_returns", "total", c.time[registered & (c.reason == c.code.get("return", -1))])
    decided = (c.src == BCT) & via_bct
    for name in sorted({rec.reasons[r] for r in np.unique(c.reason[decided])}):
        out.count("bct_decisions", name, c.time[decided & (c.reason == c.code[name])])


def shelter_section(c: Context, out: Annual) -> None:
    """Shelter stays: users and nights per regime as the sources count them, long stays."""
    rec, stays = c.rec, c.spans.shelter
    overlap = overlap_days(stays.start, stays.end, rec.year_edges)
    regime = np.array(rec.facility_regime, dtype=object)[stays.facility]
    for name in rec.regimes:
        sel = regime == name
        label = regime_metric(name)
        out.add(f"{label}_users", "total", unique_per_year(stays.client[sel], overlap[sel]))
        out.add(f"{label}_nights", "total", overlap[sel].sum(axis=0))
    ended = stays.closed_by >= 0
    end_base = np.where(ended, c.event_base[np.maximum(stays.closed_by, 0)], -1)
    long_ended = ended & (stays.length > LONG_STAY_DAYS)
    out.count("stays_over_9_months", "total", stays.end[long_ended])
    for name in [*c.exits, *(p.name for p in rec.pools)]:
        out.count("stays_over_9_months", name,
                  stays.end[long_ended & (end_base == c.base_code.get(name, -2))])
    out.mean_length("mean_stay_days", "total", stays, ended)


def bed_wait_section(c: Context, out: Annual) -> None:
    """Waiting outside for a bed (rough sleeping) and the wait from decision to bed."""
    rough = c.spans.wacht_op_bed
    rough_overlap = overlap_days(rough.start, rough.end, c.rec.year_edges)
    out.add("rough_sleeper_nights", "total", rough_overlap.sum(axis=0))
    out.add("rough_sleepers", "total", unique_per_year(rough.client, rough_overlap))
    n_placed = np.histogram(c.time[c.dst == OPVANG], c.rec.year_edges)[0]
    got_bed = _closed_into(rough, c.dst, OPVANG)
    waited = np.histogram(rough.end[got_bed], c.rec.year_edges, weights=rough.length[got_bed])[0]
    out.add("mean_wait_for_bed_days", "total", _ratio(waited, n_placed))
    out.add("shelter_placements", "total", n_placed)


def pool_section(c: Context, out: Annual) -> None:
    """Each place pool: its waiting list and wait, places, occupancy, and exits."""
    rec, year_end = c.rec, c.rec.year_edges[1:]
    for i, pool in enumerate(rec.pools):
        waiting = c.spans.pool_waiting[i]
        _, in_place = pool_stages(i)
        out.mean_length(f"mean_wait_{pool.name}_days", "total", waiting,
                        _closed_into(waiting, c.dst, in_place))
        out.add(f"{pool.name}_waiting_list", "total", count_at(waiting, year_end))
        origin = rec.client_origin[waiting.client]
        for j, name in enumerate(rec.origin_names):
            out.add(f"{pool.name}_waiting_list", name, count_at(waiting, year_end, origin == j))
        out.count(f"{pool.name}_indications", "total", waiting.start)
    for pool in rec.pools:
        out.add("bw_occupancy", pool.label, c.by_year(c.daily.values[pool.name]["occupancy"], True))
        out.add("bw_places", pool.label, step_at(*pool.capacity, year_end))
    _pool_exits(c, out)


def _pool_exits(c: Context, out: Annual) -> None:
    """Moves out of every pool, by where to: another pool's label, ambulant, the Wlz."""
    rec = c.rec
    in_codes = [pool_stages(i)[1] for i in range(len(rec.pools))]
    for j, pool in enumerate(rec.pools):  # moved into pool j from another pool's place
        waiting = c.spans.pool_waiting[j]
        moved = _closed_into(waiting, c.dst, in_codes[j]) & np.isin(c.src[waiting.opened_by], in_codes)
        out.count("bw_exits", pool.label, waiting.end[moved])
    leaving = np.isin(c.src, in_codes) & (c.dst == UIT)
    to_wlz = leaving & (c.is_base("wlz") | c.is_base("wlz_transfer"))
    out.count("bw_exits", "ambulant", c.time[leaving & ~to_wlz])
    out.count("bw_exits", "wlz", c.time[to_wlz])


def outflow_section(c: Context, out: Annual) -> None:
    """Outflow per way out of the system, placements per channel (and part), unused homes."""
    rec = c.rec
    leaving = c.dst == UIT
    for name in c.exits:
        out.count("outflow", name, c.time[leaving & c.is_base(name)])
    for channel, parts in rec.channel_parts.items():
        for part in parts:
            out.count(f"{channel}_placements", part,
                      c.time[leaving & (c.reason == c.code.get(f"{channel}/{part}", -1))])
        out.count(f"{channel}_placements", "total", c.time[leaving & c.is_base(channel)])
    unused = c.reason_base[rec.unused_reason]
    for name in rec.channel_parts:
        out.count("unused_homes", name, rec.unused_time[unused == c.base_code.get(name, -2)])


def fullness_section(c: Context, out: Annual) -> None:
    """Per regime: days with all its places full, open facility-days full, mean occupied."""
    rec, values, n = c.rec, c.daily.values, len(c.daily.days)
    for regime in rec.regimes:
        occ, cap, open_days, full_days = (np.zeros(n) for _ in range(4))
        for name, r in zip(rec.facility_names, rec.facility_regime, strict=True):
            if r != regime:
                continue
            o, k = values[name]["occupancy"], values[name]["capacity"]
            occ += o
            cap += k
            open_days += k > 0
            full_days += (k > 0) & (o >= k)
        label = regime_metric(regime)
        out.add("share_of_days_full", label, c.by_year((cap > 0) & (occ >= cap), True))
        out.add("share_of_facility_days_full", label,
                _ratio(c.by_year(full_days), c.by_year(open_days)))
        out.add("mean_occupied", label, c.by_year(occ, True))


def cost_section(c: Context, out: Annual) -> None:
    """Cost: occupied shelter place-days and held pool places times their day rates."""
    rec, stays = c.rec, c.spans.shelter
    overlap = overlap_days(stays.start, stays.end, rec.year_edges)
    bed_days = np.zeros((len(rec.facility_names), c.n_years))
    np.add.at(bed_days, stays.facility, overlap)
    out.add("cost_eur", "opvang", (bed_days * rec.facility_cost[:, None]).sum(axis=0))
    for pool in rec.pools:
        out.add("cost_eur", pool.label, c.by_year(c.daily.values[pool.name]["occupancy"])
                * pool.cost_per_day)


SECTIONS: tuple[Callable[[Context, Annual], None], ...] = (
    bct_section, shelter_section, bed_wait_section, pool_section, outflow_section,
    fullness_section, cost_section)


def _closed_into(spans: Intervals, dst: np.ndarray, stage: int) -> np.ndarray:
    """Which spans ended by a move into ``stage``."""
    return (spans.closed_by >= 0) & (dst[np.maximum(spans.closed_by, 0)] == stage)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.full(len(num), np.nan), where=den > 0)
