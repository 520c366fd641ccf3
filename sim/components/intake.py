"""BCT client groups: their schema, demand paths, origins and decisions.

The slice of the model file this component owns: ``[groups.*]``. A group has yearly
arrivals (the counted years), a demand path after them, who its clients are (segment,
municipality of origin, BW indication, Skaeve Huse need), the BCT decision (which may depend
on the municipality of origin: economic homeless with ties to Haarlem get its local places,
the others are referred to their own municipality) and the parameters of their journey.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from sim.input.checks import distribution, positive, probability, rate, year
from sim.input.errors import InputError, did_you_mean

NON_SHELTER_OUTCOMES: tuple[str, ...] = ("referred", "leaves")  # decisions without a route


@dataclass(frozen=True)
class Demand:
    """Arrivals after the last counted year.

    From the last year of ``arrivals`` to ``anchor_year`` the rate changes by
    ``change_per_year`` a year (fitted to a later count, such as the 2023 new clients); after
    the anchor it changes by the yearly change of the chosen demand path
    (``simulation.demand_path``). A group without paths stays flat after the anchor.
    """

    change_per_year: float = 0.0
    anchor_year: int = 2023
    paths: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Group:
    """A client group: arrivals, who they are, the decision and their journey.

    ``origin`` (municipality of origin -> probability; default the model's ``origin``) and
    ``decision_by_origin`` (municipality -> decision; the others take ``decision``).
    """

    arrivals: dict[str, float]
    first_report_share: float
    family_share: float
    youth_share: float
    decision: dict[str, float]
    assessment_days: float
    recovery_days: float
    recovery_shape: float
    departure_per_year: float
    patience_days: float
    bw_indication_share: float
    channels: tuple[str, ...]
    demand: Demand = field(default_factory=Demand)
    origin: dict[str, float] | None = None
    decision_by_origin: dict[str, dict[str, float]] = field(default_factory=dict)
    via_bct: bool = True
    skaeve_share: float = 0.0
    beschikking_days: float | None = None  # a decision for shelter runs out and is extended
    trajectory_from: dt.date | None = None  # trajectory support in shelter from this date

    def outcomes(self) -> list[str]:
        """Every decision outcome of the group, in file order."""
        names = list(self.decision)
        for table in self.decision_by_origin.values():
            names += [n for n in table if n not in names]
        return names

    def origin_table(self, model_origin: Mapping[str, float]) -> dict[str, float]:
        """Origin probabilities over the model's municipalities (absent: 0)."""
        own = self.origin if self.origin is not None else model_origin
        return {name: own.get(name, 0.0) for name in model_origin}

    def first_reports(self, year: int, path: str) -> float:
        """First reports a year: arrivals without the returns (the model adds its own)."""
        return self.rate(year, path) * self.first_report_share

    def rate(self, year: int, path: str) -> float:
        """Arrivals a year (first reports and returns, as counted) in ``year``."""
        table = {int(y): r for y, r in self.arrivals.items()}
        first, last = min(table), max(table)
        if year in table:
            return table[year]
        if year < first:
            return table[first]
        d = self.demand
        to_anchor = min(year, max(d.anchor_year, last)) - last
        after = max(0, year - max(d.anchor_year, last))
        return (table[last] * (1 + d.change_per_year) ** to_anchor
                * (1 + d.paths.get(path, 0.0)) ** after)


def decision_table(group: Group, origins: list[str]) -> np.ndarray:
    """Cumulative decision probabilities: one row per municipality of origin, over
    :meth:`Group.outcomes`."""
    outcomes = group.outcomes()
    rows = []
    for name in origins:
        table = group.decision_by_origin.get(name, group.decision)
        rows.append(np.cumsum([table.get(o, 0.0) for o in outcomes]))
    return np.array(rows)


def validate_group(g: Group, key: str, file: str, origins: Mapping[str, float],
                   routes: Mapping[str, Mapping[str, object]], channels: Mapping[str, object],
                   demand_path: str) -> None:
    """Check a group and its references to origins, routes and channels."""
    if not g.arrivals:
        raise InputError(file, f"{key}.arrivals", "expected yearly rates, e.g. 2019 = 371")
    for when, per_year in g.arrivals.items():
        year(when, file, f"{key}.arrivals.{when}")
        rate(per_year, file, f"{key}.arrivals.{when}")
    for name in ("first_report_share", "family_share", "youth_share", "bw_indication_share",
                 "skaeve_share"):
        probability(getattr(g, name), file, f"{key}.{name}")
    if g.family_share + g.youth_share > 1 + 1e-9:
        raise InputError(file, f"{key}.youth_share", "family_share + youth_share must be <= 1")
    for name in ("recovery_days", "patience_days", "recovery_shape", "assessment_days"):
        positive(getattr(g, name), file, f"{key}.{name}")
    rate(g.departure_per_year, file, f"{key}.departure_per_year")  # a rate per client
    if g.beschikking_days is not None:
        positive(g.beschikking_days, file, f"{key}.beschikking_days")
    _validate_demand(g.demand, f"{key}.demand", file, demand_path)
    if g.origin is not None:
        distribution(g.origin, file, f"{key}.origin", allowed=tuple(origins))
    for name, table in {"": g.decision, **g.decision_by_origin}.items():
        where = f"{key}.decision_by_origin.{name}" if name else f"{key}.decision"
        if name and name not in origins:
            raise InputError(file, where, f"unknown municipality; expected one of {', '.join(origins)}"
                             f"{did_you_mean(name, origins)}")
        distribution(table, file, where)
        _validate_routes(g, table, where, file, routes)
    for i, name in enumerate(g.channels):
        if name not in channels:
            raise InputError(file, f"{key}.channels[{i}]",
                             f"unknown channel {name!r}{did_you_mean(name, channels)}")


def _validate_demand(d: Demand, key: str, file: str, path: str) -> None:
    year(d.anchor_year, file, f"{key}.anchor_year")
    for name, change in {"change_per_year": d.change_per_year, **d.paths}.items():
        if not -0.5 <= change <= 1.0:
            where = f"{key}.change_per_year" if name == "change_per_year" else f"{key}.paths.{name}"
            raise InputError(file, where, f"expected a change a year from -0.5 to 1.0, got {change}")
    if d.paths and path not in d.paths:
        raise InputError(file, f"{key}.paths", f"missing the demand path {path!r} "
                         f"(simulation.demand_path); has {', '.join(d.paths)}")


def _validate_routes(g: Group, table: Mapping[str, float], where: str, file: str,
                     routes: Mapping[str, Mapping[str, object]]) -> None:
    """Every outcome that sends clients to shelter has a route for each of their segments."""
    shares = {"family": g.family_share, "youth": g.youth_share,
              "single_adult": 1 - g.family_share - g.youth_share}
    for outcome, p in table.items():
        if outcome in NON_SHELTER_OUTCOMES or p == 0:
            continue
        if outcome not in routes:
            raise InputError(file, f"{where}.{outcome}", "no route for this outcome; expected one of "
                             f"{', '.join([*routes, *NON_SHELTER_OUTCOMES])}"
                             f"{did_you_mean(outcome, [*routes, *NON_SHELTER_OUTCOMES])}")
        for segment, share in shares.items():
            if share > 0 and segment not in routes[outcome]:
                raise InputError(file, f"routes.{outcome}.{segment}",
                                 f"missing: group {where.split('.')[1]} sends {segment} clients here")
