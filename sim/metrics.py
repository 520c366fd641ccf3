"""Derive the yearly indicators from what the engine recorded, in numpy.

Each metric is defined the way its source defines it: unique persons in a year (a flow),
nights or days in a year (a sum of overlaps), a stock at the end of a year, or a mean of
daily stocks over a year (for the sources' "monthly mean").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.recording import STAGE

SHELTER_STAGES = np.array([STAGE["opvang"], STAGE["klaar"], STAGE["bw_wachtlijst"]])
LONG_STAY_DAYS = 270.0  # "stays over 9 months" (DOMAIN, the municipality's indicators)


@dataclass(frozen=True)
class Intervals:
    """Time spans of clients in some state: one row per span."""

    client: np.ndarray
    start: np.ndarray
    end: np.ndarray
    facility: np.ndarray  # facility of the opening event (-1 if none)
    closed_by: np.ndarray  # row index of the closing event in the log, -1 if still open

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


def pair_intervals(client: np.ndarray, time: np.ndarray, facility: np.ndarray,
                   opens: np.ndarray, closes: np.ndarray, horizon: float) -> Intervals:
    """Pair the i-th opening event of each client with its i-th closing event.

    A client is in at most one such span at a time, so openings and closings alternate;
    spans still open at the end run to ``horizon``.
    """
    o = np.flatnonzero(opens)
    c = np.flatnonzero(closes)
    o = o[np.lexsort((time[o], client[o]))]
    c = c[np.lexsort((time[c], client[c]))]
    width = int(max(np.count_nonzero(opens), 1)) + 1
    o_key = client[o] * width + within_client_rank(client[o])
    c_key = client[c] * width + within_client_rank(client[c])
    pos = np.searchsorted(c_key, o_key)
    pos_clipped = np.minimum(pos, max(len(c) - 1, 0))
    matched = (pos < len(c)) & (c_key[pos_clipped] == o_key) if len(c) else np.zeros(len(o), bool)
    closed_by = np.where(matched, c[pos_clipped] if len(c) else -1, -1)
    end = np.where(matched, time[closed_by], horizon)
    return Intervals(client[o], time[o], end, facility[o], closed_by)


def overlap_days(start: np.ndarray, end: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Days each span overlaps each year: shape (n_spans, n_years)."""
    a = np.maximum(start[:, None], edges[None, :-1])
    b = np.minimum(end[:, None], edges[None, 1:])
    return np.clip(b - a, 0.0, None)


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
    bw_cost: float
    beschut_cost: float
    unused_time: np.ndarray
    unused_reason: np.ndarray
    daily_days: np.ndarray
    daily_columns: list[str]
    daily: np.ndarray  # (n_days, n_columns)
    years: list[int]
    year_edges: np.ndarray  # model times of 1 January of each year and the year after
    horizon: float


class Annual:
    """Collects (year, metric, group, value) rows."""

    def __init__(self, years: list[int]) -> None:
        self.years = years
        self.rows: list[tuple[int, str, str, float]] = []

    def add(self, metric: str, group: str, values: np.ndarray) -> None:
        """One value per year."""
        self.rows += [(y, metric, group, float(x)) for y, x in zip(self.years, values, strict=True)]

    def counts(self, metric: str, times: np.ndarray, labels: np.ndarray, names: list[str],
               edges: np.ndarray, total: bool = True) -> None:
        """Count events per year, per label and in total."""
        for i, name in enumerate(names):
            self.add(metric, name, np.histogram(times[labels == i], edges)[0])
        if total:
            self.add(metric, "total", np.histogram(times, edges)[0])


def unique_per_year(client: np.ndarray, overlap: np.ndarray) -> np.ndarray:
    """Unique clients with positive overlap, per year (overlap: spans x years)."""
    out = np.zeros(overlap.shape[1])
    for j in range(overlap.shape[1]):
        out[j] = len(np.unique(client[overlap[:, j] > 0]))
    return out


def annual(rec: RunRecord) -> list[tuple[int, str, str, float]]:
    """The yearly indicators of one replication."""
    ev = rec.events
    client, time, src, dst = ev["client"], ev["time"], ev["src"], ev["dst"]
    facility, reason = ev["facility"], ev["reason"]
    edges = rec.year_edges
    out = Annual(rec.years)
    group_of = rec.client_group[client]
    code = {name: i for i, name in enumerate(rec.reasons)}

    # BCT: unique persons registering in a year, returns, decisions
    bct = dst == STAGE["bct"]
    bct_gi = [rec.group_names.index(g) for g in rec.bct_groups]
    via_bct = np.isin(group_of, bct_gi)
    reg = bct & via_bct
    years_idx = np.searchsorted(edges, time, side="right") - 1
    for gi in [*bct_gi, None]:
        mask = reg if gi is None else reg & (group_of == gi)
        n_years = len(rec.years)
        ok = mask & (years_idx >= 0) & (years_idx < n_years)
        pairs = np.unique(client[ok] * n_years + years_idx[ok])
        out.add("bct_registrations", "total" if gi is None else rec.group_names[gi],
                np.bincount(pairs % n_years, minlength=n_years))
    is_return = reg & (reason == code.get("return", -1))
    out.add("bct_returns", "total", np.histogram(time[is_return], edges)[0])
    decided = (src == STAGE["bct"]) & via_bct
    outcomes = sorted({rec.reasons[r] for r in np.unique(reason[decided])})
    for name in outcomes:
        out.add("bct_decisions", name, np.histogram(time[decided & (reason == code[name])], edges)[0])

    # Shelter stays, from the placement to leaving the shelter stages
    in_shelter_src = np.isin(src, SHELTER_STAGES) & (facility >= 0)
    stays = pair_intervals(client, time, facility,
                           dst == STAGE["opvang"],
                           in_shelter_src & ~np.isin(dst, SHELTER_STAGES), rec.horizon)
    overlap = overlap_days(stays.start, stays.end, edges)
    report_as = np.array(rec.facility_report_as)[stays.facility]
    for regime in ("nachtopvang", "24-uurs", "vrouwenopvang"):
        sel = report_as == regime
        label = "opvang_24uurs" if regime == "24-uurs" else regime
        out.add(f"{label}_users", "total", unique_per_year(stays.client[sel], overlap[sel]))
        out.add(f"{label}_nights", "total", overlap[sel].sum(axis=0))
    ended = stays.closed_by >= 0
    end_reason = np.where(ended, reason[np.maximum(stays.closed_by, 0)], -1)
    long_ended = ended & (stays.length > LONG_STAY_DAYS)
    out.add("stays_over_9_months", "total", np.histogram(stays.end[long_ended], edges)[0])
    for r in np.unique(end_reason[long_ended]):
        out.add("stays_over_9_months", rec.reasons[r].split("/")[0],
                np.histogram(stays.end[long_ended & (end_reason == r)], edges)[0])
    n_ended = np.histogram(stays.end[ended], edges)[0]
    sum_len = np.histogram(stays.end[ended], edges, weights=stays.length[ended])[0]
    out.add("mean_stay_days", "total", _ratio(sum_len, n_ended))
    bed_days = np.zeros((len(rec.facility_names), len(rec.years)))
    np.add.at(bed_days, stays.facility, overlap)
    shelter_cost = (bed_days * rec.facility_cost[:, None]).sum(axis=0)

    # Waiting outside for a bed (rough sleeping) and the wait from decision to bed
    rough = pair_intervals(client, time, facility, dst == STAGE["wacht_op_bed"],
                           src == STAGE["wacht_op_bed"], rec.horizon)
    out.add("rough_sleeper_nights", "total", overlap_days(rough.start, rough.end, edges).sum(0))
    out.add("rough_sleepers", "total",
            unique_per_year(rough.client, overlap_days(rough.start, rough.end, edges)))
    placed = dst == STAGE["opvang"]
    n_placed = np.histogram(time[placed], edges)[0]
    got_bed = (rough.closed_by >= 0) & (dst[np.maximum(rough.closed_by, 0)] == STAGE["opvang"])
    waited = np.histogram(rough.end[got_bed], edges, weights=rough.length[got_bed])[0]
    out.add("mean_wait_for_bed_days", "total", _ratio(waited, n_placed))
    out.add("shelter_placements", "total", n_placed)

    # BW waiting list: wait from indication to a BW place, and the stock at the end of a year
    bw_wait = pair_intervals(client, time, facility, dst == STAGE["bw_wachtlijst"],
                             src == STAGE["bw_wachtlijst"], rec.horizon)
    to_bw = (bw_wait.closed_by >= 0) & (dst[np.maximum(bw_wait.closed_by, 0)] == STAGE["bw"])
    out.add("mean_wait_bw_days", "total",
            _ratio(np.histogram(bw_wait.end[to_bw], edges, weights=bw_wait.length[to_bw])[0],
                   np.histogram(bw_wait.end[to_bw], edges)[0]))
    year_end = edges[1:]
    still_open = (bw_wait.closed_by < 0)[:, None]
    on_list = (bw_wait.start[:, None] <= year_end[None, :]) & (
        (bw_wait.end[:, None] > year_end[None, :]) | still_open)
    out.add("bw_waiting_list", "total", on_list.sum(axis=0))
    origin = rec.client_origin[bw_wait.client]
    for i, name in enumerate(rec.origin_names):
        out.add("bw_waiting_list", name, (on_list & (origin == i)[:, None]).sum(axis=0))
    out.add("bw_indications", "total", np.histogram(bw_wait.start, edges)[0])

    # BW and beschut wonen: places and occupancy from the daily records
    col = {name: i for i, name in enumerate(rec.daily_columns)}
    day_year = np.searchsorted(edges, rec.daily_days, side="right") - 1
    for stage, label in (("bw", "beschermd_wonen"), ("beschut", "beschut_wonen")):
        occ = rec.daily[:, col[f"{stage}:occupancy"]]
        cap = rec.daily[:, col[f"{stage}:capacity"]]
        out.add("bw_occupancy", label, _mean_by_year(occ, day_year, len(rec.years)))
        out.add("bw_places", label, _at_year_end(cap, rec.daily_days, year_end))
    bw_days = [_sum_by_year(rec.daily[:, col[f"{s}:occupancy"]], day_year, len(rec.years))
               for s in ("bw", "beschut")]
    exits_bw = src == STAGE["bw"]
    to_beschut = exits_bw & (dst == STAGE["beschut"])
    to_wlz = np.isin(src, [STAGE["bw"], STAGE["beschut"]]) & np.isin(
        reason, [code.get("wlz", -1), code.get("wlz_transfer", -1)])
    housed = np.isin(src, [STAGE["bw"], STAGE["beschut"]]) & (dst == STAGE["uitstroom"]) & ~to_wlz
    out.add("bw_exits", "beschut_wonen", np.histogram(time[to_beschut], edges)[0])
    out.add("bw_exits", "ambulant", np.histogram(time[housed], edges)[0])
    out.add("bw_exits", "wlz", np.histogram(time[to_wlz], edges)[0])

    # Outflow per channel (every way out of the system)
    leaving = dst == STAGE["uitstroom"]
    base = np.array([r.split("/")[0] for r in rec.reasons] or [""])
    for name in sorted(set(base[np.unique(reason[leaving])])):
        sel = leaving & (base[reason] == name)
        out.add("outflow", name, np.histogram(time[sel], edges)[0])
    pact_parts = [r for r in rec.reasons if r.startswith("pact/")]
    for label in pact_parts:
        out.add("pact_placements", label.split("/")[1],
                np.histogram(time[leaving & (reason == code[label])], edges)[0])
    out.add("pact_placements", "total",
            np.histogram(time[leaving & (base[reason] == "pact")], edges)[0])
    for channel in ("onder_de_pannen", "housing_first"):
        out.add(f"{channel}_placements", "total",
                np.histogram(time[leaving & (reason == code.get(channel, -1))], edges)[0])
    unused_base = base[rec.unused_reason] if len(rec.unused_reason) else np.array([], str)
    for name in sorted(set(unused_base)):
        out.add("unused_homes", name, np.histogram(rec.unused_time[unused_base == name], edges)[0])

    # Shelter fullness and cost
    for regime in ("nachtopvang", "24-uurs"):
        idx = [i for i, r in enumerate(rec.facility_report_as) if r == regime]
        occ = rec.daily[:, [col[f"{rec.facility_names[i]}:occupancy"] for i in idx]].sum(1)
        cap = rec.daily[:, [col[f"{rec.facility_names[i]}:capacity"] for i in idx]].sum(1)
        full = (cap > 0) & (occ >= cap)
        label = "opvang_24uurs" if regime == "24-uurs" else regime
        out.add("share_of_days_full", label, _mean_by_year(full, day_year, len(rec.years)))
        out.add("mean_occupied", label, _mean_by_year(occ, day_year, len(rec.years)))
    out.add("cost_eur", "opvang", shelter_cost)
    out.add("cost_eur", "beschermd_wonen", bw_days[0] * rec.bw_cost)
    out.add("cost_eur", "beschut_wonen", bw_days[1] * rec.beschut_cost)
    return out.rows


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.full(len(num), np.nan), where=den > 0)


def _mean_by_year(x: np.ndarray, year: np.ndarray, n: int) -> np.ndarray:
    ok = (year >= 0) & (year < n)
    return _ratio(np.bincount(year[ok], x[ok], n), np.bincount(year[ok], minlength=n))


def _sum_by_year(x: np.ndarray, year: np.ndarray, n: int) -> np.ndarray:
    ok = (year >= 0) & (year < n)
    return np.bincount(year[ok], x[ok], n)


def _at_year_end(x: np.ndarray, days: np.ndarray, year_end: np.ndarray) -> np.ndarray:
    idx = np.clip(np.searchsorted(days, year_end, side="left"), 0, len(days) - 1)
    return x[idx]
