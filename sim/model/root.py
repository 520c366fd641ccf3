"""The model root: groups and returns, and the cross-references between components.

A model is a frozen dataclass built from a TOML model file by :mod:`sim.input.schema` (types and
unknown keys) and validated once at load time. Each component owns its slice of the schema
and its checks (:mod:`sim.components.shelters`: facilities, winter, recovery and routes;
:mod:`sim.components.housing`: channels; :mod:`sim.components.places`: place pools); the checks here are the
root's own fields and the references between slices (a decision outcome needs a route, a
group's channels must exist). Reading model files, overrides and hashing are in
:mod:`sim.model.files`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from sim.components.homeless import Homeless, validate_homeless
from sim.components.housing import Channel, validate_channels
from sim.components.intake import NON_SHELTER_OUTCOMES, Group, validate_group
from sim.components.places import PlacePool, validate_places
from sim.components.shelters import Facility, Recovery, Winter, complete_facilities, validate_shelters
from sim.input.checks import distribution, non_negative, positive, probability, year
from sim.input.errors import InputError, did_you_mean
from sim.input.limits import WARMUP_YEARS_MAX, YEAR_MAX

DEFAULT_ORIGIN = "region"  # the one municipality of origin of a model without [origin]
EXIT_REASONS: tuple[str, ...] = ("referred", "leaves", "gave_up", "departed", "cut", "wlz")
# ways out of the system besides the channels: BCT outcomes, giving up the wait for a bed,
# leaving shelter without housing, losing a place to a cut while waiting for a home, the Wlz


@dataclass(frozen=True)
class Simulation:
    """Clock and horizon: day 0 is ``start``; warm-up runs before it and is not reported."""

    start: dt.date
    end_year: int
    warmup_years: int = 2
    demand_path: str = "central"  # the groups' demand path after their anchor year
    initial_stays: Literal["residual", "full"] = "residual"  # the stays of the stock at the
    # start: the rest of a stay under way (residual), or a whole stay from the start (full)


@dataclass(frozen=True)
class Return:
    """Chance that a client leaving by this way reports at the BCT again, and when."""

    probability: float
    mean_days: float


@dataclass(frozen=True)
class Budget:
    """A budget line: the national money (rijksbudget) it receives a year, and its spending
    that the model does not simulate (``other_costs``: not a bed, place or hotel night; from
    each year on, until the next)."""

    income: dict[str, float] = field(default_factory=dict)  # year -> euro
    other_costs: dict[str, float] = field(default_factory=dict)  # year -> euro


@dataclass(frozen=True)
class Model:
    """A whole region: validated, immutable, picklable."""

    simulation: Simulation
    facilities: dict[str, Facility]
    routes: dict[str, dict[str, tuple[str, ...]]]
    groups: dict[str, Group]
    winter: Winter = field(default_factory=Winter)
    origin: dict[str, float] = field(default_factory=lambda: {DEFAULT_ORIGIN: 1.0})
    recovery: Recovery = field(default_factory=Recovery)
    channels: dict[str, Channel] = field(default_factory=dict)
    returns: dict[str, Return] = field(default_factory=dict)
    places: dict[str, PlacePool] = field(default_factory=dict)
    homeless: Homeless = field(default_factory=Homeless)
    outside_region: str = "elsewhere"  # the origin that stands for outside the region or unknown
    budgets: dict[str, Budget] = field(default_factory=dict)
    name: str = "model"
    description: str = ""
    source: str = field(default="", compare=False)


def complete(model: Model) -> Model:
    """The model with what a file may leave out filled in from the rest of it: a group's
    decision (the model's only route), a facility's name, first regime and room type (the
    model's only ones) and ``report_as`` (:func:`sim.components.shelters.complete_facilities`).
    What cannot be filled in is left for :func:`validate` to name."""
    groups = {gid: dataclasses.replace(g, decision={next(iter(model.routes)): 1.0})
              if not g.decision and len(model.routes) == 1 else g for gid, g in model.groups.items()}
    return dataclasses.replace(model, groups=groups,
                               facilities=complete_facilities(model.facilities, model.recovery))


def validate(model: Model, file: str) -> None:
    """Cross-check a built model; raise :class:`InputError` on the first problem."""
    _validate_simulation(model.simulation, file)
    distribution(model.origin, file, "origin")
    validate_shelters(model.facilities, model.routes, model.recovery, model.winter, file)
    for outcome in model.routes:
        if outcome in NON_SHELTER_OUTCOMES:
            raise InputError(file, f"routes.{outcome}", "a non-shelter outcome cannot have a route")
    validate_channels(model.channels, model.origin, file)
    for gid, group in model.groups.items():
        validate_group(group, f"groups.{gid}", file, model.origin, model.routes, model.channels,
                       model.simulation.demand_path)
    valid_exits = set(model.channels) | set(EXIT_REASONS)
    for name, ret in model.returns.items():
        key = f"returns.{name}"
        if name not in valid_exits:
            raise InputError(file, key, f"unknown exit; expected one of {', '.join(sorted(valid_exits))}"
                             f"{did_you_mean(name, valid_exits)}")
        probability(ret.probability, file, f"{key}.probability")
        positive(ret.mean_days, file, f"{key}.mean_days")
    for gid, group in model.groups.items():
        if group.report is not None and group.report.regime not in model.recovery.regime:
            regimes = list(model.recovery.regime)
            raise InputError(file, f"groups.{gid}.report.regime", f"expected a regime of "
                             f"recovery.regime: {', '.join(regimes)}"
                             f"{did_you_mean(group.report.regime, regimes)}")
    validate_places(model.places, file)
    validate_homeless(model.homeless, file)
    for line, budget in model.budgets.items():
        for table in ("income", "other_costs"):
            for when, euro in getattr(budget, table).items():
                year(when, file, f"budgets.{line}.{table}.{when}")
                non_negative(euro, file, f"budgets.{line}.{table}.{when}")
    if not any(p.indication_days is not None for p in model.places.values()):
        for gid, group in model.groups.items():
            if group.bw_indication_share > 0:
                raise InputError(file, f"groups.{gid}.bw_indication_share",
                                 "expected 0: no pool of [places] has indication_days")


def _validate_simulation(sim: Simulation, file: str) -> None:
    if not 1900 <= sim.start.year <= YEAR_MAX:
        raise InputError(file, "simulation.start", f"expected a date from 1900 to {YEAR_MAX}")
    if not sim.start.year <= sim.end_year <= YEAR_MAX:
        raise InputError(file, "simulation.end_year",
                         f"expected a year from {sim.start.year} to {YEAR_MAX}, got {sim.end_year}")
    if not 0 <= sim.warmup_years <= WARMUP_YEARS_MAX:
        raise InputError(file, "simulation.warmup_years",
                         f"expected a number of years from 0 to {WARMUP_YEARS_MAX}, got {sim.warmup_years}")
