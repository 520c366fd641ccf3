"""The rows of the yearly table that cannot occur in a model, and are therefore not written.

A model without place pools has no moves to the Wlz, one without a rule that puts anyone
``with_others`` no nights there, and so on (a group with its own entry is reported only under
the names of its ``report`` table): those rows would be zero in every run, and a model of
another region would carry the Haarlem model's vocabulary as rows of zeros. Which rows can
occur follows from what the model has (tables, keys, names), not from values, so that
scenarios that change numbers report the same rows; only the money rows go when nothing in
the model costs anything.

Each row is ``(metric, group)``; ``"*"`` as the group stands for every group of the metric.
"""

from __future__ import annotations

from sim.components.homeless import STATES
from sim.components.intake import NON_SHELTER_OUTCOMES
from sim.model.root import Model

Row = tuple[str, str]
ANY = "*"


def absent_rows(model: Model) -> frozenset[Row]:
    """The (metric, group) rows that cannot occur in ``model``."""
    rows: set[Row] = set()
    groups = model.groups.values()
    if not model.returns:
        rows |= {("bct_returns", ANY), ("returning_regularly", ANY)}
    if all(g.beschikking_days is None for g in groups):
        rows.add(("beschikkingen", "extended"))
    if all(g.trajectory_from is None for g in groups):
        rows.add(("trajectories_started", ANY))
    for state in set(STATES) - _states(model):
        rows |= {(f"{state}_nights", ANY), (f"{state}_at_year_end", ANY),
                 ("nights_without_a_bed", state)}
    for way_out in _ways_out_absent(model):
        rows |= {("outflow", way_out), ("stays_over_9_months", way_out)}
    if not model.places:
        rows |= {("person_nights", "in_a_place"), ("person_nights", "waiting_for_a_place")}
    if {"wlz", "wlz_transfer"} <= _ways_out_absent(model):
        rows.add(("person_nights", "in_long_term_care"))
    if not model.channels:
        rows.add(("person_nights", "housed"))
    if not model.recovery.intermittent:
        rows.add(("person_nights", "away_from_a_night_shelter"))
    if set(NON_SHELTER_OUTCOMES) <= _ways_out_absent(model):
        rows.add(("person_nights", "no_decision_for_shelter"))
    return frozenset(rows | _money_rows(model))


def _states(model: Model) -> set[str]:
    """The states of people without a bed or home that a rule of ``[homeless]`` can give."""
    rules = model.homeless
    return ({rules.default_waiting, *rules.waiting.values()}
            | {rules.after_exit_state.get(w, "out_of_sight") for w in rules.after_exit})


def _ways_out_absent(model: Model) -> set[str]:
    """The ways out of the system besides the channels that the model has no way to take:
    a decision without shelter no group can get, a place lost while waiting for a home (no
    pool), a pool's exit to the Wlz or its transfer (no pool has one)."""
    outcomes = {o for g in model.groups.values() for o in g.outcomes()}
    exits = {e for p in model.places.values() for e in p.exit}
    absent = {o for o in NON_SHELTER_OUTCOMES if o not in outcomes}
    if not model.places:
        absent.add("cut")
    if "wlz" not in exits:
        absent.add("wlz")
    if all(p.wlz_transfer is None for p in model.places.values()):
        absent.add("wlz_transfer")
    return absent


def _money_rows(model: Model) -> set[Row]:
    """Every money row when nothing in the model costs anything (no day rate, hotel night,
    support at home or budget)."""
    costs = ([f.cost_per_day for f in model.facilities.values()]
             + [p.cost_per_day for p in model.places.values()]
             + list(model.homeless.cost_per_night.values())
             + [c.support_cost_per_day for c in model.channels.values()])
    if any(c > 0 for c in costs) or model.budgets:
        return set()
    lines = {f.budget for f in model.facilities.values()} | {p.budget for p in model.places.values()}
    return ({("cost_eur", ANY), ("other_costs_eur", ANY), ("budget_gap_eur", ANY)}
            | {(f"cost_eur_{line}", ANY) for line in lines if line})
