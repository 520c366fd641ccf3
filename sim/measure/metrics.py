"""Derive the daily and yearly tables from what the engine recorded, in numpy.

Each yearly metric is defined the way its source defines it: unique persons in a year (a
flow), nights or days in a year (a sum of overlaps), a stock at the end of a year, or a mean
of daily stocks over a year (for the sources' "monthly mean"). Daily stocks are counted at
the start of each day from the stage spans of :mod:`sim.engine.spans`.

The yearly table is built by the sections of :data:`SECTIONS`, in that order. What they
report on comes from the run record, never from literals: every regime of the model (the
keys of ``recovery.regime``), every channel and part, every place pool.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pandas as pd

from sim.components.homeless import STATES, exit_state, out_of_sight, waiting_state
from sim.components.intake import NON_SHELTER_OUTCOMES
from sim.engine.log import BCT, UIT, pool_stages
from sim.engine.spans import (
    Intervals,
    StageSpans,
    count_at,
    counts_by,
    joined,
    member,
    next_event,
    overlap_days,
    pair_intervals,
    stage_spans,
    step_at,
    subset,
)
from sim.measure.annual import (
    LONG_STAY_DAYS,
    Annual,
    Context,
    closed_into,
    ratio,
    regime_metric,
    unique_per_year,
)
from sim.measure.monitoring import SECTIONS as MONITORING
from sim.measure.record import Daily, RunRecord


def derive(rec: RunRecord) -> tuple[Daily, pd.DataFrame]:
    """The daily stocks and the yearly indicators (year, metric, group, value) of one
    replication."""
    context = context_of(rec)
    out = Annual(rec.years, rec.year_edges, rec.absent)
    for section in SECTIONS:
        section(context, out)
    return context.daily, out.table()


def context_of(rec: RunRecord) -> Context:
    """What the sections share: the record's spans, daily stocks and states (also for a
    script that looks at persons, ``scripts/who_is_without_a_bed.py``)."""
    codes = {name: i for i, name in enumerate(rec.log.reasons)}
    spans = stage_spans(rec.log.events, rec.horizon, len(rec.pools), codes)
    left = out_of_sight(rec.log.events, rec.homeless, rec.log.reasons, rec.horizon, spans.order)
    states = homeless_spans(rec, spans, left)
    daily = daily_stocks(rec, spans, states)
    return Context(rec, spans, daily, states, left, homeless_spans(rec, spans, left, without_bed=True))


def homeless_spans(rec: RunRecord, spans: StageSpans, left: Intervals,
                   without_bed: bool = False) -> dict[str, Intervals]:
    """The spans of every state of people without a bed or home
    (:mod:`sim.components.homeless`): waiting for a bed, nights away from a night shelter,
    and the window after leaving without housing (``left``).

    ``without_bed``: the spans of ``nights_without_a_bed`` only: of people with a decision for
    shelter (not the window after a BCT outcome without one), and not a night-shelter user's
    nights away between spells in a bed (part of using a night shelter, which has a bed for
    them when they come back or a place in line for one: a part of ``person_nights`` of its
    own). So a bed cut that leaves fewer people using the night shelter at all does not show
    as fewer people without a bed.
    """
    reason = rec.log.events["reason"]
    waits = spans.wacht_op_bed if without_bed else joined(spans.wacht_op_bed, spans.weg)
    state = waiting_state(rec.homeless, reason[waits.opened_by], rec.log.reasons)
    if without_bed:
        left = subset(left, ~member(reason[left.opened_by], no_shelter_codes(rec)))
    after = exit_state(rec.homeless, reason[left.opened_by], rec.log.reasons)
    return {name: joined(subset(waits, state == i), subset(left, after == i))
            for i, name in enumerate(STATES)}


def no_shelter_codes(rec: RunRecord) -> list[int]:
    """The reason codes of the BCT's decisions without shelter (referred, leaves)."""
    return [i for i, r in enumerate(rec.log.reasons) if r in NON_SHELTER_OUTCOMES]


def daily_stocks(rec: RunRecord, spans: StageSpans, states: dict[str, Intervals]) -> Daily:
    """Occupancy, capacity and queues at the start of each day of the reported years.

    A pool's occupancy counts the places held: by their occupants, and by occupants waiting
    for another pool's place (who keep theirs until they move). The states of people
    without a bed or home are rows of their own (occupancy: persons in that state).
    """
    days = np.arange(rec.year_edges[0], rec.year_edges[-1])
    values: dict[str, dict[str, np.ndarray]] = {}
    occupancy = counts_by(spans.shelter, days, spans.shelter.facility, len(rec.shelters.names))
    for i, name in enumerate(rec.shelters.names):
        values[name] = {"occupancy": occupancy[i],
                        "capacity": step_at(*rec.shelters.capacity[i], days)}
    values["wacht_op_bed"] = {"queue": count_at(spans.wacht_op_bed, days)}
    values["weg"] = {"occupancy": count_at(spans.weg, days)}
    values["klaar"] = {"occupancy": count_at(spans.klaar, days)}
    for i, pool in enumerate(rec.pools):
        held = sum(count_at(s, days) for s in spans.holding(i))
        values[pool.name] = {"occupancy": np.asarray(held),
                             "capacity": step_at(*pool.capacity, days),
                             "queue": count_at(spans.pool_waiting[i], days)}
    for name, state in states.items():
        values[name] = {"occupancy": count_at(state, days)}
    return Daily(days, values)


def bct_section(c: Context, out: Annual) -> None:
    """BCT: unique persons registering in a year per group, returns, decisions."""
    rec, n_years = c.rec, c.n_years
    group_of = rec.log.client_group[c.client]
    bct_gi = [rec.intake.group_names.index(g) for g in rec.intake.bct_groups]
    via_bct = member(group_of, bct_gi)
    registered = (c.dst == BCT) & via_bct
    year_idx = np.searchsorted(rec.year_edges, c.time, side="right") - 1
    in_years = (year_idx >= 0) & (year_idx < n_years)
    mask = registered & in_years
    pairs = np.unique(c.client[mask] * n_years + year_idx[mask])  # (client, year) registered
    pair_year, pair_group = pairs % n_years, rec.log.client_group[pairs // n_years]
    for gi in [*bct_gi, None]:
        mine = pair_year if gi is None else pair_year[pair_group == gi]
        out.add("bct_registrations", "total" if gi is None else rec.intake.group_names[gi],
                np.bincount(mine, minlength=n_years))
    out.count("bct_returns", "total", c.time[registered & (c.reason == c.code.get("return", -1))])
    first = registered & (c.reason == c.code.get("arrival", -1))  # a client's first report
    out.count("bct_new_clients", "total", c.time[first])
    for gi in bct_gi:
        out.count("bct_new_clients", rec.intake.group_names[gi], c.time[first & (group_of == gi)])
    origin = rec.log.client_origin[c.client]
    for i, name in enumerate(rec.intake.origin_names):
        out.count("bct_new_clients", name, c.time[first & (origin == i)])
    decided = (c.src == BCT) & via_bct
    for name in sorted({rec.log.reasons[r] for r in np.unique(c.reason[decided])}):
        out.count("bct_decisions", name, c.time[decided & (c.reason == c.code[name])])


def shelter_section(c: Context, out: Annual) -> None:
    """Shelter beds and stays: users and nights per regime as the sources count them (in
    the beds of the regime's facilities), long stays and their length (a stay goes on in
    another bed; nights without a bed end it)."""
    rec, beds, stays = c.rec, c.spans.shelter, c.spans.stays
    overlap = overlap_days(beds.start, beds.end, rec.year_edges)
    regime = np.array(rec.shelters.report_as, dtype=object)[beds.facility]
    for name in rec.shelters.regimes:
        sel = regime == name
        label = regime_metric(name)
        out.add(f"{label}_users", "total", unique_per_year(beds.client[sel], overlap[sel]))
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
    """The placements in a shelter bed (from outside a bed: a new stay) and the mean wait
    for one (zero for who found a bed free)."""
    stays, waits = c.spans.stays, c.spans.wacht_op_bed
    n_placed = out.per_year(stays.start)
    got_bed = (waits.closed_by >= 0) & member(c.dst[np.maximum(waits.closed_by, 0)],
                                               c.spans.holds_bed)
    waited = np.histogram(waits.end[got_bed], c.rec.year_edges, weights=waits.length[got_bed])[0]
    out.add("mean_wait_for_bed_days", "total", ratio(waited, n_placed))
    out.add("shelter_placements", "total", n_placed)


def people_section(c: Context, out: Annual) -> None:
    """The headline: people sheltered and people without a bed, and their nights.

    ``people_sheltered``: persons with a night in a shelter bed in the year.
    ``people_without_a_bed``: persons with a decision for shelter who spend a night without a
    bed in the year, in any state: waiting for one (after the decision, after a cut took
    theirs, back from nights away with no bed free), or after leaving without housing, until
    they report again, are housed or ``out_of_sight_days`` have passed (then the model stops
    following them: ``nights_after_leaving``, until they report again; a night-shelter user's
    nights away between spells are part of using the shelter, not counted here).
    ``nights_without_a_bed`` by state, and its total. Also per client group, and the share of
    each year's BCT registrants who spend a night in a bed that year.
    """
    rec, beds = c.rec, c.spans.shelter
    bed_overlap = overlap_days(beds.start, beds.end, rec.year_edges)
    without = joined(*c.without_bed.values())
    overlap = overlap_days(without.start, without.end, rec.year_edges)
    bed_group, without_group = rec.log.client_group[beds.client], rec.log.client_group[without.client]
    out.add("people_sheltered", "total", unique_per_year(beds.client, bed_overlap))
    out.add("people_without_a_bed", "total", unique_per_year(without.client, overlap))
    for gi, name in enumerate(rec.intake.groups):
        mine = bed_group == gi
        out.add("people_sheltered", name, unique_per_year(beds.client[mine], bed_overlap[mine]))
        mine = without_group == gi
        out.add("people_without_a_bed", name,
                unique_per_year(without.client[mine], overlap[mine]))
    out.add("nights_without_a_bed", "total", overlap.sum(axis=0))
    for state, spans in c.without_bed.items():
        out.add("nights_without_a_bed", state,
                overlap_days(spans.start, spans.end, rec.year_edges).sum(axis=0))
    gone = c.after_leaving
    out.add("nights_after_leaving", "total",
            overlap_days(gone.start, gone.end, rec.year_edges).sum(axis=0))
    _registrants_sheltered(c, out, beds, bed_overlap)


def _registrants_sheltered(c: Context, out: Annual, beds: Intervals,
                           bed_overlap: np.ndarray) -> None:
    """The share of the persons registering at the BCT in a year who spend a night in a
    shelter bed that year, per group and in total."""
    rec, n = c.rec, c.n_years
    registered = (c.dst == BCT) & member(rec.log.client_group[c.client], c.bct_gi)
    year = np.searchsorted(rec.year_edges, c.time[registered], side="right") - 1
    ok = (year >= 0) & (year < n)
    pairs = np.unique(c.client[registered][ok] * n + year[ok])
    span, bed_year = np.nonzero(bed_overlap > 0)
    sheltered = np.isin(pairs, beds.client[span] * n + bed_year)
    group = rec.log.client_group[pairs // n]
    for gi in [*c.bct_gi, None]:
        mine = np.ones(len(pairs), bool) if gi is None else group == gi
        out.add("share_of_registrants_sheltered", "total" if gi is None else rec.intake.group_names[gi],
                ratio(np.bincount(pairs[mine & sheltered] % n, minlength=n),
                      np.bincount(pairs[mine] % n, minlength=n)))


def person_nights_section(c: Context, out: Annual) -> None:
    """Where everyone is, night by night: the nights of every person in the model from their
    first report (or from the start, for a pool's stock) to the end, split by where they
    are, so that a change in one (beds cut) shows where the nights went (the bed-night
    balance, ``scripts/bed_night_balance.py``). The parts add up to ``total``."""
    rec = c.rec
    parts = dict(person_night_parts(c))
    total = np.zeros(c.n_years)
    for name, spans in parts.items():
        nights = overlap_days(spans.start, spans.end, rec.year_edges).sum(axis=0)
        total += nights
        out.add("person_nights", name, nights)
    out.add("person_nights", "total", total)


def person_night_parts(c: Context) -> list[tuple[str, Intervals]]:
    """(part, spans) of :func:`person_nights_section`: every night of every person in
    exactly one part."""
    rec, spans = c.rec, c.spans
    places = [pool_stages(i)[1] for i in range(len(rec.pools))]
    waiting = [pool_stages(i)[0] for i in range(len(rec.pools))]
    pair = functools.partial(pair_intervals, c.client, c.time, rec.log.events["facility"],
                             horizon=rec.horizon, order=spans.order)
    opens_list = member(c.dst, waiting) & (rec.log.events["facility"] < 0)
    from_place = member(c.src, places) & (c.reason != c.code.get("cut", -1))  # still held
    return [
        ("in_shelter_bed", spans.shelter),
        ("without_a_bed", joined(*c.without_bed.values())),
        ("away_from_a_night_shelter", spans.weg),
        ("after_leaving", c.after_leaving),
        ("at_bct", pair(opens=c.dst == BCT, closes=c.src == BCT)),
        ("in_a_place", joined(*spans.pool_in,
                              pair(opens=opens_list & from_place, closes=member(c.src, waiting)))),
        ("waiting_for_a_place", pair(opens=opens_list & ~from_place, closes=member(c.src, waiting))),
        ("housed", c.after_exit(list(rec.housing.parts))),
        ("in_long_term_care", c.after_exit(["wlz", "wlz_transfer"])),
        ("no_decision_for_shelter", c.after_exit(list(NON_SHELTER_OUTCOMES))),
    ]


def homeless_section(c: Context, out: Annual) -> None:
    """People without a bed or home, per state: person-nights a year and persons at year
    end, in total and per client group."""
    rec, year_end = c.rec, c.rec.year_edges[1:]
    for name, spans in c.states.items():
        overlap = overlap_days(spans.start, spans.end, rec.year_edges)
        group = rec.log.client_group[spans.client]
        out.add(f"{name}_nights", "total", overlap.sum(axis=0))
        out.add(f"{name}_at_year_end", "total", count_at(spans, year_end))
        at_year_end = counts_by(spans, year_end, group, len(rec.intake.group_names))
        for gi, gname in enumerate(rec.intake.groups):
            out.add(f"{name}_nights", gname, overlap[group == gi].sum(axis=0))
            out.add(f"{name}_at_year_end", gname, at_year_end[gi])


def pool_section(c: Context, out: Annual) -> None:
    """Each place pool: its waiting list and wait, places, occupancy, and exits."""
    rec, year_end = c.rec, c.rec.year_edges[1:]
    for i, pool in enumerate(rec.pools):
        waiting = c.spans.pool_waiting[i]
        _, in_place = pool_stages(i)
        out.mean_length(f"mean_wait_{pool.name}_days", "total", waiting,
                        closed_into(waiting, c.dst, in_place))
        out.add(f"{pool.name}_waiting_list", "total", count_at(waiting, year_end))
        by_origin = counts_by(waiting, year_end, rec.log.client_origin[waiting.client],
                              len(rec.intake.origin_names))
        for j, name in enumerate(rec.intake.origin_names):
            out.add(f"{pool.name}_waiting_list", name, by_origin[j])
        indicated = c.reason[waiting.opened_by] == c.code.get("indicated", -1)  # not a cut
        out.count(f"{pool.name}_indications", "total", waiting.start[indicated])
    for pool in rec.pools:
        out.add("bw_occupancy", pool.label, c.by_year(c.daily.values[pool.name]["occupancy"], True))
        out.add("bw_places", pool.label, step_at(*pool.capacity, year_end))
        out.add(f"{pool.name}_clients", "total", count_at(c.spans.pool_in[rec.pools.index(pool)], year_end))


def outflow_section(c: Context, out: Annual) -> None:
    """Outflow per way out of the system, placements per channel (and part), unused homes."""
    rec = c.rec
    leaving = c.dst == UIT
    for name in c.exits:
        out.count("outflow", name, c.time[leaving & c.is_base(name)])
    for channel, parts in rec.housing.parts.items():
        for part in parts:
            out.count(f"{channel}_placements", part,
                      c.time[leaving & (c.reason == c.code.get(f"{channel}/{part}", -1))])
        out.count(f"{channel}_placements", "total", c.time[leaving & c.is_base(channel)])
    unused = c.reason_base[rec.log.unused_reason]
    for name in rec.housing.parts:
        out.count("unused_homes", name, rec.log.unused_time[unused == c.base_code.get(name, -2)])


def fullness_section(c: Context, out: Annual) -> None:
    """Per regime: days with all its places full, open facility-days full, mean occupied,
    mean idle places (and the idle places of all regimes together)."""
    rec, values, n = c.rec, c.daily.values, len(c.daily.days)
    idle_all = np.zeros(n)
    for regime in rec.shelters.regimes:
        occ, cap, open_days, full_days = (np.zeros(n) for _ in range(4))
        for name, r in zip(rec.shelters.names, rec.shelters.report_as, strict=True):
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
                ratio(c.by_year(full_days), c.by_year(open_days)))
        out.add("mean_occupied", label, c.by_year(occ, True))
        idle = np.maximum(cap - occ, 0.0)
        idle_all += idle
        out.add("mean_idle_places", label, c.by_year(idle, True))
    out.add("mean_idle_places", "total", c.by_year(idle_all, True))
    for fid, name in zip(rec.shelters.ids, rec.shelters.names, strict=True):
        o, k = values[name]["occupancy"], values[name]["capacity"]
        out.add("facility_share_of_days_full", fid,
                ratio(c.by_year((k > 0) & (o >= k)), c.by_year(k > 0)))


def cost_section(c: Context, out: Annual) -> None:
    """Money per budget line, in total and by municipality of origin, and the gap to the
    national budget: each span that costs something (a shelter bed, a held place of a pool,
    a night in a hotel, support at home after a placement) times its day rate."""
    rec = c.rec
    items = _cost_items(c)
    lines = list(dict.fromkeys([*(line for _, _, line in items), *rec.budgets.income,
                                *rec.budgets.other]))
    cost = {line: np.zeros(c.n_years) for line in lines}
    by_origin = {line: np.zeros((len(rec.intake.origin_names), c.n_years)) for line in lines}
    cells: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {line: [] for line in lines}
    for spans, rate, line in items:
        euro = overlap_days(spans.start, spans.end, rec.year_edges) * rate[:, None]
        cost[line] += euro.sum(axis=0)
        cell = rec.log.client_origin[spans.client][:, None] * c.n_years + np.arange(c.n_years)
        cells[line].append((cell.ravel(), euro.ravel()))
    for line, parts in cells.items():  # added up span by span, in the order of the items
        if parts:
            cell, euro = (np.concatenate(x) for x in zip(*parts, strict=True))
            by_origin[line][:] = np.bincount(cell, euro, by_origin[line].size).reshape(
                by_origin[line].shape)
    for line in lines:
        other = _by_year(rec.budgets.other.get(line, {}), rec.years, 0.0)
        if line in rec.budgets.other:
            out.add("other_costs_eur", line, other)
        out.add("cost_eur", line, cost[line] + other)
        for i, name in enumerate(rec.intake.origin_names):
            out.add(f"cost_eur_{line}", name, by_origin[line][i])
        income = rec.budgets.income.get(line)
        if income:  # the last known year's income holds on; before the first it is unknown
            out.add("budget_gap_eur", line, cost[line] + other - _by_year(income, rec.years, np.nan))


def _by_year(values: dict[int, float], years: list[int], before: float) -> np.ndarray:
    """A value per year from dated values: each holds from its year on (``before`` the first)."""
    return np.array([values[max(k for k in values if k <= y)] if values and y >= min(values)
                     else before for y in years], dtype=float)


def _cost_items(c: Context) -> list[tuple[Intervals, np.ndarray, str]]:
    """(spans, day rate of each span, budget line) of everything that costs money."""
    rec, stays = c.rec, c.spans.shelter
    line_of_stay = np.array(rec.shelters.budget, dtype=object)[stays.facility]
    items = []
    for line in dict.fromkeys(rec.shelters.budget):
        mine = line_of_stay == line
        items.append((subset(stays, mine), rec.shelters.cost[stays.facility[mine]], line))
    for i, pool in enumerate(rec.pools):
        if pool.budget:
            for spans in c.spans.holding(i):
                items.append((spans, np.full(len(spans.client), pool.cost_per_day), pool.budget))
    for state, price in rec.homeless.cost_per_night.items():
        spans = c.states[state]
        items.append((spans, np.full(len(spans.client), price), rec.homeless.budget[state]))
    for channel, (price, days, line) in rec.housing.support.items():
        spans = _support(c, channel, days)
        items.append((spans, np.full(len(spans.client), price), line))
    return items


def _support(c: Context, channel: str, days: float) -> Intervals:
    """Support at home after a placement by ``channel``: ``days`` long, or until the client
    reports at the BCT again."""
    placed = np.flatnonzero((c.dst == UIT) & c.is_base(channel))
    nxt = next_event(c.client, placed, c.spans.order)
    start = c.time[placed]
    end = np.minimum(start + days, np.where(nxt >= 0, c.time[np.maximum(nxt, 0)], c.rec.horizon))
    return Intervals(c.client[placed], start, end, c.rec.log.events["facility"][placed], placed,
                     np.full(len(placed), -2))


def own_entry_section(c: Context, out: Annual) -> None:
    """Each group with its own entry and a report table (the vrouwenopvang), under its
    source's names: its clients from the region starting a stay ("noodopnames afkomstig uit
    Kennemerland"), and its clients leaving a bed of a facility of its regime for a home, per
    facility group (afgeronde trajecten)."""
    rec = c.rec
    group_of = rec.log.client_group[c.client]
    origins = rec.intake.origin_names
    outside = origins.index(rec.intake.outside_region) if rec.intake.outside_region in origins else -1
    from_region = rec.log.client_origin[c.client] != outside
    housed = (c.dst == UIT) & member(c.event_base, [c.base_code.get(n, -2) for n in rec.housing.parts])
    facility = rec.log.events["facility"]
    for gi, report in rec.intake.own_entry.items():
        mine = group_of == gi
        out.count(report.admissions, report.from_region, c.time[(c.dst == BCT) & mine & from_region])
        sites = [(g, i) for i, (g, r) in enumerate(zip(rec.shelters.report_group,
                                                         rec.shelters.report_as, strict=True))
                 if r == report.regime]
        for group in dict.fromkeys(g for g, _ in sites):
            at = [i for g, i in sites if g == group]
            out.count(report.completed, group, c.time[housed & mine & np.isin(facility, at)])


SECTIONS: tuple[Callable[[Context, Annual], None], ...] = (
    bct_section, shelter_section, bed_wait_section, people_section, homeless_section,
    person_nights_section, pool_section,
    outflow_section, own_entry_section, fullness_section, cost_section, *MONITORING)


