"""The municipality's monitoring indicators (from 2023), each under its own metric name.

"Regelmatig terugkeren naar de MO; verblijven langer dan 9 maanden en de redenen daarvan;
verblijfsduur; afgegeven beschikkingen; trajecten; aanvragen en wachtlijsten BW en beschut
wonen naar gemeente van herkomst; gemiddelde wachttijd tussen indicatie en zorg; doorstroom
BW naar beschut wonen en naar ambulante begeleiding; aandeel kortere verblijven dan in 2022."
The sources give no definitions; the ones here are stated in ``docs/metrics.md``. Waiting
lists by origin, the wait from indication to a place and the length of stay are in
:mod:`sim.measure.metrics`.
"""

from __future__ import annotations

import numpy as np

from sim.components.intake import NON_SHELTER_OUTCOMES
from sim.engine.log import BCT, KLAAR, OPVANG, UIT, pool_stages
from sim.engine.spans import member
from sim.measure.annual import LONG_STAY_DAYS, Annual, Context, ratio

REGULAR_RETURNS = 2  # "regelmatig terugkeren": returned at least twice


def returning_regularly_section(c: Context, out: Annual) -> None:
    """Persons reporting at the BCT again in a year who have returned at least twice so far
    (groups with their own entry, the vrouwenopvang, are not MO)."""
    via_bct = member(c.rec.log.client_group[c.client],
                     [c.rec.intake.group_names.index(g) for g in c.rec.intake.bct_groups])
    reports = np.flatnonzero((c.dst == BCT) & via_bct)
    order = reports[np.lexsort((reports, c.client[reports]))]  # by client, in logging order
    first = np.r_[True, c.client[order][1:] != c.client[order][:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    nth = np.arange(len(order)) - start  # 0: first report, 1: first return, ...
    regular = order[nth >= REGULAR_RETURNS]
    year = np.searchsorted(c.rec.year_edges, c.time[regular], side="right") - 1
    ok = (year >= 0) & (year < c.n_years)
    pairs = np.unique(c.client[regular][ok] * c.n_years + year[ok])
    out.add("returning_regularly", "total", np.bincount(pairs % c.n_years, minlength=c.n_years))


def long_stays_section(c: Context, out: Annual) -> None:
    """Shelter stays passing nine months, in the year they pass it, by what the client then
    waits for: the entry pool's place (``bw``), a home (the first channel with a waiting
    list open to them, or ``other_channel``), or nothing yet (``no_reason``: recovering)."""
    rec, stays = c.rec, c.spans.stays
    long = stays.length > LONG_STAY_DAYS
    when = stays.start[long] + LONG_STAY_DAYS
    stage = _stage_at(c, stays.client[long], when)
    home = _waits_for(rec.housing.home_channels, rec.log.client_group[stays.client[long]],
                      rec.log.client_origin[stays.client[long]], when)
    reason = np.where(stage == OPVANG, "no_reason", np.where(stage == KLAAR, home, "waiting_list"))
    for i, pool in enumerate(rec.pools):
        reason = np.where(stage == pool_stages(i)[0], pool.name, reason)
    out.count("stays_passing_9_months", "total", when)
    reasons = dict.fromkeys(n for group in rec.housing.home_channels for o in group for n, _ in o)
    for name in ["no_reason", *(p.name for p in rec.pools), *reasons, "other_channel"]:
        out.count("stays_passing_9_months", name, when[reason == name])


def _waits_for(channels: list[list[list[tuple[str, float]]]], group: np.ndarray,
               origin: np.ndarray, t: np.ndarray) -> np.ndarray:
    """For each client (of ``group``, from ``origin``, at time ``t``): the first channel with a
    waiting list open to them, or ``other_channel``."""
    out = np.full(len(t), "other_channel", dtype=object)
    for g, by_origin in enumerate(channels):
        for o, open_ in enumerate(by_origin):
            mine = np.flatnonzero((group == g) & (origin == o))
            if len(mine) == 0:
                continue
            name = np.full(len(mine), "other_channel", dtype=object)
            for channel, start in reversed(open_):  # the first one open wins
                name[t[mine] >= start] = channel
            out[mine] = name
    return out


def _stage_at(c: Context, clients: np.ndarray, times: np.ndarray) -> np.ndarray:
    """The stage each client is in at the given time (the last event at or before it)."""
    order = c.spans.order
    keys = c.client[order] * 1e6 + c.time[order]  # days are far below 1e6 per client step
    idx = np.searchsorted(keys, clients * 1e6 + times, side="right") - 1
    return c.dst[order[np.maximum(idx, 0)]]


def beschikkingen_section(c: Context, out: Annual) -> None:
    """Decisions for shelter issued: new ones at the BCT, and extensions while the client is
    still in shelter at the end of one (for groups whose decisions run out, the economic
    homeless: "in bijna alle gevallen een beschikking voor 6 maanden ... wordt verlengd")."""
    rec, stays = c.rec, c.spans.stays
    shelter_outcome = np.array([r not in NON_SHELTER_OUTCOMES for r in rec.log.reasons] or [False])
    decided = (c.src == BCT) & shelter_outcome[c.reason] & member(
        rec.log.client_group[c.client], [rec.intake.group_names.index(g) for g in rec.intake.bct_groups])
    out.count("beschikkingen", "new", c.time[decided])
    extended = []
    for gi, days in enumerate(rec.intake.beschikking_days):
        if days is None:
            continue
        mine = rec.log.client_group[stays.client] == gi
        n = np.floor(stays.length[mine] / days).astype(int)  # extensions within the stay
        extended.append(np.repeat(stays.start[mine], n) + days * _ranks(n))
    out.count("beschikkingen", "extended", np.concatenate(extended) if extended else np.zeros(0))


def _ranks(n: np.ndarray) -> np.ndarray:
    """1..n[0], 1..n[1], ... concatenated."""
    total = int(n.sum())
    starts = np.repeat(np.cumsum(n) - n, n)
    return np.arange(total) - starts + 1


def trajectories_section(c: Context, out: Annual) -> None:
    """Trajectory support started (trajectbegeleiding): shelter stays begun by clients of
    groups that get it, from its start date (a move to another bed is no new stay)."""
    rec, stays = c.rec, c.spans.stays
    group = rec.log.client_group[stays.client]
    times = []
    for gi, start in enumerate(rec.intake.trajectory_from):
        if start is not None:
            times.append(stays.start[(group == gi) & (stays.start >= start)])
    out.count("trajectories_started", "total", np.concatenate(times) if times else np.zeros(0))


def pool_flows_section(c: Context, out: Annual) -> None:
    """Moves out of each place pool by where to: another pool, ambulant support at home, or
    a way out (the Wlz)."""
    rec = c.rec
    in_codes = [pool_stages(i)[1] for i in range(len(rec.pools))]
    for i, pool in enumerate(rec.pools):
        for j, other in enumerate(rec.pools):  # moved from a place of i into one of j
            waiting = c.spans.pool_waiting[j]
            moved = (waiting.closed_by >= 0) & (c.src[waiting.opened_by] == in_codes[i])
            moved &= c.dst[np.maximum(waiting.closed_by, 0)] == in_codes[j]
            if i != j:
                out.count("place_flows", f"{pool.label}_to_{other.label}", waiting.end[moved])
        for j, other in enumerate(rec.pools):  # moved with the place (a transfer)
            if other.name == pool.transfer_to:
                direct = (c.src == in_codes[i]) & (c.dst == in_codes[j])
                out.count("place_flows", f"{pool.label}_to_{other.label}_with_the_place", c.time[direct])
        leaving = (c.src == in_codes[i]) & (c.dst == UIT)
        to_wlz = leaving & (c.is_base("wlz") | c.is_base("wlz_transfer"))
        out.count("place_flows", f"{pool.label}_to_ambulant", c.time[leaving & ~to_wlz])
        out.count("place_flows", f"{pool.label}_to_wlz", c.time[to_wlz])


def shorter_stays_section(c: Context, out: Annual) -> None:
    """Share of the shelter stays ending in a year that are shorter than the median stay
    ending in 2022 ("aandeel kortere verblijven dan in 2022"); missing without 2022."""
    stays = c.spans.stays
    ended = stays.closed_by >= 0
    year = np.searchsorted(c.rec.year_edges, stays.end, side="right") - 1
    if 2022 not in c.rec.years or not (ended & (year == c.rec.years.index(2022))).any():
        out.add("share_of_stays_shorter_than_2022", "total", np.full(c.n_years, np.nan))
        return
    median = np.median(stays.length[ended & (year == c.rec.years.index(2022))])
    shorter = ended & (stays.length < median)
    out.add("share_of_stays_shorter_than_2022", "total",
            ratio(out.per_year(stays.end[shorter]), out.per_year(stays.end[ended])))


SECTIONS = (returning_regularly_section, long_stays_section, beschikkingen_section,
            trajectories_section, pool_flows_section, shorter_stays_section)
