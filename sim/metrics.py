"""Derive the daily and yearly tables from what the engine recorded, in numpy.

Each yearly metric is defined the way its source defines it: unique persons in a year (a
flow), nights or days in a year (a sum of overlaps), a stock at the end of a year, or a mean
of daily stocks over a year (for the sources' "monthly mean"). Daily stocks are counted at
the start of each day from the stage spans of :mod:`sim.spans`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.model import EXIT_REASONS
from sim.recording import STAGE
from sim.spans import Intervals, count_at, overlap_days, stage_spans, step_at

LONG_STAY_DAYS = 270.0  # "stays over 9 months" (DOMAIN, the municipality's indicators)
Schedule = tuple[np.ndarray, np.ndarray]  # (change times, capacity from then on)


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
    facility_report_as: list[str]
    facility_cost: np.ndarray
    facility_capacity: list[Schedule]
    channel_parts: dict[str, list[str]]  # channel -> its quota parts (Pact: municipalities)
    bw_capacity: Schedule
    beschut_capacity: Schedule
    bw_cost: float
    beschut_cost: float
    unused_time: np.ndarray
    unused_reason: np.ndarray
    start: dt.date
    years: list[int]
    year_edges: np.ndarray  # model times of 1 January of each year and the year after
    horizon: float


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


def derive(rec: RunRecord) -> tuple[Daily, list[tuple[int, str, str, float]]]:
    """The daily stocks and the yearly indicators of one replication."""
    spans = stage_spans(rec.events, rec.horizon)
    daily = daily_stocks(rec, spans)
    return daily, annual(rec, spans, daily)


def daily_stocks(rec: RunRecord, spans: dict[str, Intervals]) -> Daily:
    """Occupancy, capacity and queues at the start of each day of the reported years."""
    days = np.arange(rec.year_edges[0], rec.year_edges[-1])
    values: dict[str, dict[str, np.ndarray]] = {}
    shelter = spans["shelter"]
    for i, name in enumerate(rec.facility_names):
        values[name] = {"occupancy": count_at(shelter, days, shelter.facility == i),
                        "capacity": step_at(*rec.facility_capacity[i], days)}
    values["wacht_op_bed"] = {"queue": count_at(spans["wacht_op_bed"], days)}
    values["klaar"] = {"occupancy": count_at(spans["klaar"], days)}
    values["bw"] = {"occupancy": count_at(spans["bw"], days),
                    "capacity": step_at(*rec.bw_capacity, days),
                    "queue": count_at(spans["bw_wachtlijst"], days)}
    values["beschut"] = {"occupancy": count_at(spans["beschut"], days),
                         "capacity": step_at(*rec.beschut_capacity, days)}
    return Daily(days, values)


class Annual:
    """Collects (year, metric, group, value) rows."""

    def __init__(self, years: list[int], edges: np.ndarray) -> None:
        self.years = years
        self.edges = edges
        self.rows: list[tuple[int, str, str, float]] = []

    def add(self, metric: str, group: str, values: np.ndarray) -> None:
        """One value per year."""
        self.rows += [(y, metric, group, float(x)) for y, x in zip(self.years, values, strict=True)]

    def count(self, metric: str, group: str, times: np.ndarray) -> None:
        """Events per year."""
        self.add(metric, group, np.histogram(times, self.edges)[0])


def unique_per_year(client: np.ndarray, overlap: np.ndarray) -> np.ndarray:
    """Unique clients with positive overlap, per year (overlap: spans x years)."""
    return np.array([len(np.unique(client[overlap[:, j] > 0])) for j in range(overlap.shape[1])])


def annual(rec: RunRecord, spans: dict[str, Intervals],
           daily: Daily) -> list[tuple[int, str, str, float]]:
    """The yearly indicators of one replication."""
    ev = rec.events
    client, time, src, dst = ev["client"], ev["time"], ev["src"], ev["dst"]
    reason = ev["reason"]
    edges, n_years = rec.year_edges, len(rec.years)
    year_end = edges[1:]
    out = Annual(rec.years, edges)
    group_of = rec.client_group[client]
    code = {name: i for i, name in enumerate(rec.reasons)}
    base = np.array([r.split("/")[0] for r in rec.reasons] or [""])

    # BCT: unique persons registering in a year, returns, decisions
    bct_gi = [rec.group_names.index(g) for g in rec.bct_groups]
    via_bct = np.isin(group_of, bct_gi)
    registered = (dst == STAGE["bct"]) & via_bct
    year_idx = np.searchsorted(edges, time, side="right") - 1
    in_years = (year_idx >= 0) & (year_idx < n_years)
    for gi in [*bct_gi, None]:
        mask = registered & in_years & (True if gi is None else group_of == gi)
        pairs = np.unique(client[mask] * n_years + year_idx[mask])
        out.add("bct_registrations", "total" if gi is None else rec.group_names[gi],
                np.bincount(pairs % n_years, minlength=n_years))
    out.count("bct_returns", "total", time[registered & (reason == code.get("return", -1))])
    decided = (src == STAGE["bct"]) & via_bct
    for name in sorted({rec.reasons[r] for r in np.unique(reason[decided])}):
        out.count("bct_decisions", name, time[decided & (reason == code[name])])

    # Shelter stays: users and nights as the sources count them, long stays, cost
    stays = spans["shelter"]
    overlap = overlap_days(stays.start, stays.end, edges)
    report_as = np.array(rec.facility_report_as)[stays.facility]
    for regime in ("nachtopvang", "24-uurs", "vrouwenopvang"):
        sel = report_as == regime
        label = _regime_label(regime)
        out.add(f"{label}_users", "total", unique_per_year(stays.client[sel], overlap[sel]))
        out.add(f"{label}_nights", "total", overlap[sel].sum(axis=0))
    ended = stays.closed_by >= 0
    end_reason = np.where(ended, reason[np.maximum(stays.closed_by, 0)], -1)
    long_ended = ended & (stays.length > LONG_STAY_DAYS)
    exits = sorted({*rec.channel_parts, *EXIT_REASONS, "wlz_transfer"})
    out.count("stays_over_9_months", "total", stays.end[long_ended])
    for name in [*exits, "bw"]:
        out.count("stays_over_9_months", name,
                  stays.end[long_ended & (base[np.maximum(end_reason, 0)] == name)])
    n_ended = np.histogram(stays.end[ended], edges)[0]
    sum_len = np.histogram(stays.end[ended], edges, weights=stays.length[ended])[0]
    out.add("mean_stay_days", "total", _ratio(sum_len, n_ended))
    bed_days = np.zeros((len(rec.facility_names), n_years))
    np.add.at(bed_days, stays.facility, overlap)

    # Waiting outside for a bed (rough sleeping) and the wait from decision to bed
    rough = spans["wacht_op_bed"]
    rough_overlap = overlap_days(rough.start, rough.end, edges)
    out.add("rough_sleeper_nights", "total", rough_overlap.sum(axis=0))
    out.add("rough_sleepers", "total", unique_per_year(rough.client, rough_overlap))
    placed = dst == STAGE["opvang"]
    n_placed = np.histogram(time[placed], edges)[0]
    got_bed = _closed_into(rough, dst, STAGE["opvang"])
    waited = np.histogram(rough.end[got_bed], edges, weights=rough.length[got_bed])[0]
    out.add("mean_wait_for_bed_days", "total", _ratio(waited, n_placed))
    out.add("shelter_placements", "total", n_placed)

    # BW waiting list: the wait from indication to a place, and the stock at year ends
    bw_wait = spans["bw_wachtlijst"]
    to_bw = _closed_into(bw_wait, dst, STAGE["bw"])
    out.add("mean_wait_bw_days", "total",
            _ratio(np.histogram(bw_wait.end[to_bw], edges, weights=bw_wait.length[to_bw])[0],
                   np.histogram(bw_wait.end[to_bw], edges)[0]))
    out.add("bw_waiting_list", "total", count_at(bw_wait, year_end))
    origin = rec.client_origin[bw_wait.client]
    for i, name in enumerate(rec.origin_names):
        out.add("bw_waiting_list", name, count_at(bw_wait, year_end, origin == i))
    out.count("bw_indications", "total", bw_wait.start)

    # BW and beschut wonen: places at year ends, mean occupancy, exits
    day_year = np.searchsorted(edges, daily.days, side="right") - 1
    for stage, label, schedule in (("bw", "beschermd_wonen", rec.bw_capacity),
                                   ("beschut", "beschut_wonen", rec.beschut_capacity)):
        out.add("bw_occupancy", label,
                _mean_by_year(daily.values[stage]["occupancy"], day_year, n_years))
        out.add("bw_places", label, step_at(*schedule, year_end))
    in_bw = np.isin(src, [STAGE["bw"], STAGE["beschut"]])
    to_wlz = in_bw & np.isin(base[reason], ["wlz", "wlz_transfer"])
    out.count("bw_exits", "beschut_wonen", time[(src == STAGE["bw"]) & (dst == STAGE["beschut"])])
    out.count("bw_exits", "ambulant", time[in_bw & (dst == STAGE["uitstroom"]) & ~to_wlz])
    out.count("bw_exits", "wlz", time[to_wlz])

    # Outflow per way out of the system, and placements per channel
    leaving = dst == STAGE["uitstroom"]
    for name in exits:
        out.count("outflow", name, time[leaving & (base[reason] == name)])
    for part in rec.channel_parts.get("pact", []):
        out.count("pact_placements", part, time[leaving & (reason == code.get(f"pact/{part}", -1))])
    out.count("pact_placements", "total", time[leaving & (base[reason] == "pact")])
    for channel in ("onder_de_pannen", "housing_first"):
        out.count(f"{channel}_placements", "total", time[leaving & (base[reason] == channel)])
    unused = base[rec.unused_reason] if len(rec.unused_reason) else np.array([], dtype=str)
    for name in rec.channel_parts:
        out.count("unused_homes", name, rec.unused_time[unused == name])

    # Shelter fullness and cost
    for regime in ("nachtopvang", "24-uurs"):
        names = [n for n, r in zip(rec.facility_names, rec.facility_report_as, strict=True)
                 if r == regime]
        occ = np.zeros(len(daily.days))
        cap = np.zeros(len(daily.days))
        open_days = np.zeros(len(daily.days))  # facilities open that day
        full_days = np.zeros(len(daily.days))  # of which full
        for n in names:
            o, c = daily.values[n]["occupancy"], daily.values[n]["capacity"]
            occ += o
            cap += c
            open_days += c > 0
            full_days += (c > 0) & (o >= c)
        full = (cap > 0) & (occ >= cap)
        label = _regime_label(regime)
        out.add("share_of_days_full", label, _mean_by_year(full, day_year, n_years))
        out.add("share_of_facility_days_full", label,
                _ratio(_sum_by_year(full_days, day_year, n_years),
                       _sum_by_year(open_days, day_year, n_years)))
        out.add("mean_occupied", label, _mean_by_year(occ, day_year, n_years))
    out.add("cost_eur", "opvang", (bed_days * rec.facility_cost[:, None]).sum(axis=0))
    for stage, label, price in (("bw", "beschermd_wonen", rec.bw_cost),
                                ("beschut", "beschut_wonen", rec.beschut_cost)):
        days = _sum_by_year(daily.values[stage]["occupancy"], day_year, n_years)
        out.add("cost_eur", label, days * price)
    return out.rows


def _regime_label(regime: str) -> str:
    return "opvang_24uurs" if regime == "24-uurs" else regime


def _closed_into(spans: Intervals, dst: np.ndarray, stage: int) -> np.ndarray:
    """Which spans ended by a move into ``stage``."""
    return (spans.closed_by >= 0) & (dst[np.maximum(spans.closed_by, 0)] == stage)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.full(len(num), np.nan), where=den > 0)


def _mean_by_year(x: np.ndarray, year: np.ndarray, n: int) -> np.ndarray:
    ok = (year >= 0) & (year < n)
    return _ratio(np.bincount(year[ok], x[ok], n), np.bincount(year[ok], minlength=n))


def _sum_by_year(x: np.ndarray, year: np.ndarray, n: int) -> np.ndarray:
    ok = (year >= 0) & (year < n)
    return np.bincount(year[ok], x[ok], n)
