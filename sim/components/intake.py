"""BCT client groups: their schema, demand paths, origins and decisions.

The slice of the model file this component owns: ``[groups.*]``. A group has arrivals (a
rate a year from each year or date, in steps or linear ramps), a demand path after them, who
its clients are (segment, municipality of origin, BW indication, Skaeve Huse need), the BCT
decision (which may depend on the municipality of origin: economic homeless with ties to
Haarlem get its local places, the others are referred to their own municipality), the
parameters of their journey, and who of them is in the shelters at the start (``initial``).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.components.durations import Duration, gamma, validate_duration
from sim.engine.calendar import Calendar
from sim.input.checks import count, distribution, non_negative, positive, probability, rate, year
from sim.input.errors import InputError, did_you_mean

NON_SHELTER_OUTCOMES: tuple[str, ...] = ("referred", "leaves")  # decisions without a route


@dataclass(frozen=True)
class OwnEntryReport:
    """The names under which a group with its own entry (``via_bct = false``: the
    vrouwenopvang) is reported, as its source reports it: ``admissions`` counts its clients
    from the region starting a stay (group ``from_region``), ``completed`` its clients leaving
    a bed of a facility of ``regime`` for a home, per the facilities' ``report_group``."""

    admissions: str
    completed: str
    from_region: str
    regime: str


@dataclass(frozen=True)
class IntakeRecord:
    """Who came in, for the figures: every group of a run's persons (the model's groups, then
    a pseudo-group per place pool's direct applicants), the model's groups and those that come
    in through the BCT, the municipalities of origin and the one that stands for outside the
    region, and per model group the length of its decisions for shelter and the model time its
    trajectory support starts (None: none)."""

    group_names: list[str]
    groups: list[str]
    bct_groups: list[str]
    origin_names: list[str]
    outside_region: str
    beschikking_days: list[float | None]
    trajectory_from: list[float | None]
    own_entry: dict[int, OwnEntryReport]  # model group index -> how it is reported


def intake_record(groups: Mapping[str, Group], origins: Sequence[str], outside_region: str,
                  group_names: Sequence[str], calendar: Calendar) -> IntakeRecord:
    """The intake of a run as the figures need it."""
    return IntakeRecord(
        group_names=list(group_names), groups=list(groups),
        bct_groups=[name for name, g in groups.items() if g.via_bct],
        origin_names=list(origins), outside_region=outside_region,
        beschikking_days=[g.beschikking_days for g in groups.values()],
        trajectory_from=[None if g.trajectory_from is None else calendar.day(g.trajectory_from)
                         for g in groups.values()],
        own_entry={i: g.report for i, g in enumerate(groups.values()) if g.report is not None})
Segment = tuple[float, float, float, float]  # (from, to, rate a year at from, rate a year at to)


@dataclass(frozen=True)
class Rate:
    """An entry of ``arrivals`` given as a table: the rate a year from its date, reached by a
    linear ramp from the previous entry's rate (on that entry's date) when ``ramp``."""

    rate: float
    ramp: bool = False


@dataclass(frozen=True)
class Initial:
    """People of a group in the shelter system at the start of the run (day 0 of the warm-up,
    or of the run without one).

    ``in_shelter``: facility -> people in its beds who are still recovering (the work left is
    drawn as for someone part-way through it: ``simulation.initial_stays``); ``ready``:
    facility -> people in its beds ready to move on, waiting for a home; ``waiting``: people
    waiting for a bed on the route. ``outcome``: the decision they had (a route; default the
    group's one decision outcome with a route).
    """

    outcome: str = ""
    in_shelter: dict[str, int] = field(default_factory=dict)
    ready: dict[str, int] = field(default_factory=dict)
    waiting: int = 0

    @property
    def people(self) -> int:
        """Everyone of the initial state."""
        return sum(self.in_shelter.values()) + sum(self.ready.values()) + self.waiting


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

    arrivals: dict[str, float | Rate]  # "YYYY" or "YYYY-MM-DD" -> rate a year from then
    patience_days: float
    first_report_share: float = 1.0
    family_share: float = 0.0
    youth_share: float = 0.0
    decision: dict[str, float] = field(default_factory=dict)  # empty: the model's only route
    assessment_days: float = 0.0
    recovery_days: float | None = None  # the mean of a gamma with recovery_shape ...
    recovery_shape: float | None = None  # ... (default 1: exponential)
    recovery: Duration | None = None  # ... or any distribution (then without the two above)
    departure_per_year: float = 0.0
    bw_indication_share: float = 0.0
    channels: tuple[str, ...] = ()
    initial: Initial = field(default_factory=Initial)
    demand: Demand = field(default_factory=Demand)
    origin: dict[str, float] | None = None
    decision_by_origin: dict[str, dict[str, float]] = field(default_factory=dict)
    via_bct: bool = True
    report: OwnEntryReport | None = None  # a group with its own entry: its figures' names
    skaeve_share: float = 0.0
    beschikking_days: float | None = None  # a decision for shelter runs out and is extended
    trajectory_from: dt.date | None = None  # trajectory support in shelter from this date

    def work(self) -> Duration:
        """The distribution of the recovery work a client needs (days at speed 1)."""
        if self.recovery is not None:
            return self.recovery
        assert self.recovery_days is not None
        return gamma(self.recovery_days, self.recovery_shape if self.recovery_shape is not None
                     else 1.0)

    def segment_shares(self) -> dict[str, float]:
        """The share of each segment among the group's clients."""
        return {"single_adult": 1.0 - self.family_share - self.youth_share,
                "youth": self.youth_share, "family": self.family_share}

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
        """Arrivals a year (first reports and returns, as counted) in ``year``, for arrivals
        given by year (:meth:`yearly`)."""
        table = {int(y): _rate_of(r) for y, r in self.arrivals.items()}
        first, last = min(table), max(table)
        if year in table:
            return table[year]
        if year < first:
            return table[first]
        return self._after(table[last], last, year, path)

    def _after(self, last_rate: float, last: int, year: int, path: str) -> float:
        """The rate in ``year`` after the last year given (``last``, at ``last_rate``): the
        change a year to the anchor year, then the demand path's."""
        d = self.demand
        to_anchor = min(year, max(d.anchor_year, last)) - last
        after = max(0, year - max(d.anchor_year, last))
        return (last_rate * (1 + d.change_per_year) ** to_anchor
                * (1 + d.paths.get(path, 0.0)) ** after)

    def yearly(self) -> bool:
        """Whether arrivals are given by year only, in steps."""
        return all(k.isdigit() and not (isinstance(r, Rate) and r.ramp)
                   for k, r in self.arrivals.items())

    def first_report_segments(self, path: str, first_year: int, last_year: int,
                              calendar: Calendar) -> list[Segment]:
        """The rate a year of first reports over the years ``first_year`` to ``last_year``, as
        segments ``(from, to, rate at from, rate at to)`` in model time (``day``: a date's), in
        which it is constant or linear: one per year for arrivals by year; split at each dated
        entry (and ramps linear) otherwise."""
        day = calendar.day
        if self.yearly():
            return [(day(dt.date(y, 1, 1)), day(dt.date(y + 1, 1, 1)),
                     r := self.first_reports(y, path), r) for y in range(first_year, last_year + 1)]
        points = self._points(calendar)
        edges = sorted({day(dt.date(y, 1, 1)) for y in range(first_year, last_year + 2)}
                       | {t for t, _, _ in points if day(dt.date(first_year, 1, 1)) < t
                          < day(dt.date(last_year + 1, 1, 1))})
        last_year_given = max(entry_date(k).year for k in self.arrivals)
        out = []
        for a, b in itertools.pairwise(edges):
            year = (calendar.start + dt.timedelta(days=a)).year
            if year > last_year_given:
                r = self._after(points[-1][1], last_year_given, year, path) * self.first_report_share
                out.append((a, b, r, r))
            else:
                out.append((a, b, _rate_at(points, a, False) * self.first_report_share,
                            _rate_at(points, b, True) * self.first_report_share))
        return out

    def _points(self, calendar: Calendar) -> list[tuple[float, float, bool]]:
        """(model time, rate, ramp) of each entry of ``arrivals``, by time."""
        return sorted((calendar.day(entry_date(k)), _rate_of(r), isinstance(r, Rate) and r.ramp)
                      for k, r in self.arrivals.items())


def entry_date(key: str) -> dt.date:
    """The date an entry of ``arrivals`` takes effect: a year's 1 January, or the date."""
    return dt.date(int(key), 1, 1) if key.isdigit() else dt.date.fromisoformat(key)


def _rate_of(value: float | Rate) -> float:
    return value.rate if isinstance(value, Rate) else value


def _rate_at(points: list[tuple[float, float, bool]], t: float, before: bool) -> float:
    """The rate a year at model time ``t`` (just before it, when ``before``: the end of a
    segment): the entry in force, or on a ramp toward the next entry the line between them."""
    i = sum(1 for p, _, _ in points if p < t or (p == t and not before)) - 1
    if i < 0:
        return points[0][1]
    if i + 1 < len(points) and points[i + 1][2]:  # on a ramp to the next entry
        (t0, r0, _), (t1, r1, _) = points[i], points[i + 1]
        return r0 + (r1 - r0) * (t - t0) / (t1 - t0)
    return points[i][1]


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
                   routes: Mapping[str, Mapping[str, tuple[str, ...]]], channels: Mapping[str, object],
                   demand_path: str) -> None:
    """Check a group and its references to origins, routes and channels."""
    _validate_arrivals(g, key, file)
    for name in ("first_report_share", "family_share", "youth_share", "bw_indication_share",
                 "skaeve_share"):
        probability(getattr(g, name), file, f"{key}.{name}")
    if g.family_share + g.youth_share > 1 + 1e-9:
        raise InputError(file, f"{key}.youth_share", "family_share + youth_share must be <= 1")
    positive(g.patience_days, file, f"{key}.patience_days")
    non_negative(g.assessment_days, file, f"{key}.assessment_days")
    if g.report is not None and g.via_bct:
        raise InputError(file, f"{key}.report", "only a group with its own entry (via_bct = "
                         "false) is reported under names of its own")
    _validate_work(g, key, file)
    rate(g.departure_per_year, file, f"{key}.departure_per_year")  # a rate per client
    if g.beschikking_days is not None:
        positive(g.beschikking_days, file, f"{key}.beschikking_days")
    _validate_demand(g.demand, f"{key}.demand", file, demand_path)
    if g.origin is not None:
        distribution(g.origin, file, f"{key}.origin", allowed=tuple(origins))
    if not g.decision:
        raise InputError(file, f"{key}.decision", "missing; expected the outcomes of the decision "
                         f"and their probabilities (the model has several routes: {', '.join(routes)})")
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
    if g.initial != Initial():
        _validate_initial(g, f"{key}.initial", file, routes)


def _validate_arrivals(g: Group, key: str, file: str) -> None:
    """Keys that are years or dates, rates in range, no ramp into the first entry."""
    if not g.arrivals:
        raise InputError(file, f"{key}.arrivals", "expected yearly rates, e.g. 2019 = 371")
    for when, value in g.arrivals.items():
        where = f"{key}.arrivals.{when}"
        if when.isascii() and when.isdigit():
            year(when, file, where)  # a year key, within the documented years
        try:
            year(entry_date(when).year, file, where)
        except ValueError:
            raise InputError(file, where, "expected a year (2019) or a date (2019-07-01) as key") from None
        rate(_rate_of(value), file, f"{where}.rate" if isinstance(value, Rate) else where)
    first = min(g.arrivals, key=entry_date)
    value = g.arrivals[first]
    if isinstance(value, Rate) and value.ramp:
        raise InputError(file, f"{key}.arrivals.{first}.ramp",
                         "the first entry cannot ramp: a ramp starts at the entry before it")


def _validate_work(g: Group, key: str, file: str) -> None:
    """The recovery work: ``recovery`` or ``recovery_days`` (with ``recovery_shape``)."""
    if g.recovery is not None:
        for name in ("recovery_days", "recovery_shape"):
            if getattr(g, name) is not None:
                raise InputError(file, f"{key}.{name}",
                                 "not with recovery: give the distribution's mean there")
        validate_duration(g.recovery, file, f"{key}.recovery")
        return
    if g.recovery_days is None:
        raise InputError(file, f"{key}.recovery_days",
                         "missing; expected the mean recovery work in days (or a recovery table)")
    positive(g.recovery_days, file, f"{key}.recovery_days")
    if g.recovery_shape is not None:
        positive(g.recovery_shape, file, f"{key}.recovery_shape")


def initial_outcome(g: Group, routes: Mapping[str, object]) -> str:
    """The decision the group's initial people had: ``initial.outcome``, or the group's one
    decision outcome with a route ("" when there is none or several)."""
    if g.initial.outcome:
        return g.initial.outcome
    with_route = [o for o in g.outcomes() if o in routes]
    return with_route[0] if len(with_route) == 1 else ""


def initial_segments(g: Group, route: Mapping[str, tuple[str, ...]],
                     facility: str | None) -> dict[str, float]:
    """The segments of the group's initial people in ``facility`` (None: waiting for a bed) and
    their shares: the group's segments whose route (``route``: segment -> facilities) includes
    it, in proportion to their shares."""
    shares = {s: p for s, p in g.segment_shares().items()
              if p > 0 and s in route and (facility is None or facility in route[s])}
    total = sum(shares.values())
    return {s: p / total for s, p in shares.items()}


def _validate_initial(g: Group, key: str, file: str,
                      routes: Mapping[str, Mapping[str, tuple[str, ...]]]) -> None:
    """The outcome has a route, each facility is on it for one of the group's segments."""
    outcome = initial_outcome(g, routes)
    if not outcome:
        raise InputError(file, f"{key}.outcome", "missing; expected the decision the people had, "
                         f"one of the routes: {', '.join(routes)}")
    if outcome not in routes:
        raise InputError(file, f"{key}.outcome", f"expected a route, one of {', '.join(routes)}; "
                         f"got {outcome!r}")
    count(g.initial.waiting, file, f"{key}.waiting")
    for table in ("in_shelter", "ready"):
        for fid, n in getattr(g.initial, table).items():
            count(n, file, f"{key}.{table}.{fid}")
            if not initial_segments(g, routes[outcome], fid):
                raise InputError(file, f"{key}.{table}.{fid}", f"not a facility on the route "
                                 f"{outcome} of the group's segments")
    if g.initial.waiting and not initial_segments(g, routes[outcome], None):
        raise InputError(file, f"{key}.waiting", f"the route {outcome} has no segment of the group")


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
