"""The model root: groups and returns, and the cross-references between components.

A model is a frozen dataclass built from a TOML model file by :mod:`sim.schema` (types and
unknown keys) and validated once at load time. Each component owns its slice of the schema
and its checks (:mod:`sim.shelters`: facilities, winter, recovery and routes;
:mod:`sim.housing`: channels; :mod:`sim.places`: place pools); the checks here are the
root's own fields and the references between slices (a decision outcome needs a route, a
group's channels must exist). Reading model files, overrides and hashing are in
:mod:`sim.modelfile`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sim.checks import distribution, non_negative, positive, probability, rate
from sim.errors import InputError
from sim.housing import Channel, validate_channels
from sim.places import PlacePool, validate_places
from sim.shelters import Facility, Recovery, Winter, validate_shelters

NON_SHELTER_OUTCOMES: tuple[str, ...] = ("referred", "leaves")
EXIT_REASONS: tuple[str, ...] = ("referred", "leaves", "gave_up", "departed", "wlz")
# ways out of the system besides the channels: BCT outcomes, giving up the wait for a bed,
# leaving shelter without housing, and the Wlz
MAX_YEARS = 200  # simulated years after the start, and years of warm-up before it, at most


@dataclass(frozen=True)
class Simulation:
    """Clock and horizon: day 0 is ``start``; warm-up runs before it and is not reported."""

    start: dt.date
    end_year: int
    warmup_years: int = 2


@dataclass(frozen=True)
class Group:
    """A BCT client group: arrivals, who they are, the decision and their journey."""

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
    trend_per_year: float = 0.0
    via_bct: bool = True
    skaeve_share: float = 0.0


@dataclass(frozen=True)
class Return:
    """Chance that a client leaving by this way reports at the BCT again, and when."""

    probability: float
    mean_days: float


@dataclass(frozen=True)
class Model:
    """A whole region: validated, immutable, picklable."""

    simulation: Simulation
    winter: Winter
    origin: dict[str, float]
    facilities: dict[str, Facility]
    routes: dict[str, dict[str, tuple[str, ...]]]
    recovery: Recovery
    groups: dict[str, Group]
    channels: dict[str, Channel]
    returns: dict[str, Return]
    places: dict[str, PlacePool]
    name: str = "model"
    description: str = ""
    source: str = field(default="", compare=False)


def validate(model: Model, file: str) -> None:
    """Cross-check a built model; raise :class:`InputError` on the first problem."""
    _validate_simulation(model.simulation, file)
    distribution(model.origin, file, "origin")
    validate_shelters(model.facilities, model.routes, model.recovery, model.winter, file)
    for outcome in model.routes:
        if outcome in NON_SHELTER_OUTCOMES:
            raise InputError(file, f"routes.{outcome}", "a non-shelter outcome cannot have a route")
    validate_channels(model.channels, file)
    for gid, group in model.groups.items():
        _validate_group(model, group, file, f"groups.{gid}")
    valid_exits = set(model.channels) | set(EXIT_REASONS)
    for name, ret in model.returns.items():
        key = f"returns.{name}"
        if name not in valid_exits:
            raise InputError(file, key, f"unknown exit; expected one of {', '.join(sorted(valid_exits))}")
        probability(ret.probability, file, f"{key}.probability")
        positive(ret.mean_days, file, f"{key}.mean_days")
    validate_places(model.places, file)
    if not any(p.indication_days is not None for p in model.places.values()):
        for gid, group in model.groups.items():
            if group.bw_indication_share > 0:
                raise InputError(file, f"groups.{gid}.bw_indication_share",
                                 "expected 0: no pool of [places] has indication_days")


def _validate_simulation(sim: Simulation, file: str) -> None:
    if not sim.start.year <= sim.end_year <= sim.start.year + MAX_YEARS:
        raise InputError(file, "simulation.end_year",
                         f"expected a year from {sim.start.year} to {sim.start.year + MAX_YEARS}, "
                         f"got {sim.end_year}")
    if not 0 <= sim.warmup_years <= MAX_YEARS:
        raise InputError(file, "simulation.warmup_years",
                         f"expected a number of years from 0 to {MAX_YEARS}, got {sim.warmup_years}")


def _validate_group(model: Model, g: Group, file: str, key: str) -> None:
    if not g.arrivals:
        raise InputError(file, f"{key}.arrivals", "expected yearly rates, e.g. 2019 = 371")
    for year, per_year in g.arrivals.items():
        if not year.isdigit():
            raise InputError(file, f"{key}.arrivals.{year}", "expected a year as key")
        rate(per_year, file, f"{key}.arrivals.{year}")
    for name in ("first_report_share", "family_share", "youth_share", "bw_indication_share",
                 "skaeve_share"):
        probability(getattr(g, name), file, f"{key}.{name}")
    if g.family_share + g.youth_share > 1 + 1e-9:
        raise InputError(file, f"{key}.youth_share", "family_share + youth_share must be <= 1")
    if g.trend_per_year <= -1:
        raise InputError(file, f"{key}.trend_per_year", "expected > -1")
    for name in ("recovery_days", "patience_days", "recovery_shape", "assessment_days"):
        positive(getattr(g, name), file, f"{key}.{name}")
    non_negative(g.departure_per_year, file, f"{key}.departure_per_year")
    distribution(g.decision, file, f"{key}.decision")
    for outcome, p in g.decision.items():
        if outcome in NON_SHELTER_OUTCOMES or p == 0:
            continue
        if outcome not in model.routes:
            raise InputError(file, f"{key}.decision.{outcome}",
                             f"no route for this outcome; expected one of "
                             f"{', '.join([*model.routes, *NON_SHELTER_OUTCOMES])}")
        shares = {"family": g.family_share, "youth": g.youth_share,
                  "single_adult": 1 - g.family_share - g.youth_share}
        for segment, share in shares.items():
            if share > 0 and segment not in model.routes[outcome]:
                raise InputError(file, f"routes.{outcome}.{segment}",
                                 f"missing: group {key.split('.')[-1]} sends {segment} clients here")
    for i, name in enumerate(g.channels):
        if name not in model.channels:
            raise InputError(file, f"{key}.channels[{i}]", f"unknown channel {name!r}")
