"""The declarative model: frozen dataclasses read from a TOML model file and validated.

Types are checked by :mod:`sim.schema`; the cross-checks here (probabilities that sum to
one, references that resolve, non-negative rates and capacities) run once at load time.
Reading model files, overrides and hashing are in :mod:`sim.modelfile`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

from sim.errors import InputError

Regime = Literal["nachtopvang", "24-uurs", "vrouwenopvang"]
RoomType = Literal["dormitory", "two-person", "single", "family-unit"]
SEGMENTS: tuple[str, ...] = ("single_adult", "youth", "family")
NON_SHELTER_OUTCOMES: tuple[str, ...] = ("referred", "leaves")
EXIT_REASONS: tuple[str, ...] = ("referred", "leaves", "gave_up", "departed", "wlz")


@dataclass(frozen=True)
class Simulation:
    """Clock and horizon: day 0 is ``start``; warm-up runs before it and is not reported."""

    start: dt.date
    end_year: int
    warmup_years: int = 2


@dataclass(frozen=True)
class ScheduleEntry:
    """A dated change of a facility: only the fields given change."""

    places: int | None = None
    regime: Regime | None = None
    room_type: RoomType | None = None


@dataclass(frozen=True)
class Facility:
    """A shelter pool with a capacity schedule; closed before its first entry."""

    name: str
    task: Literal["regional", "local"]
    target_group: str
    report_as: Literal["nachtopvang", "24-uurs", "vrouwenopvang"]
    schedule: dict[str, ScheduleEntry]
    cost_per_day: float
    winter_places: int = 0


@dataclass(frozen=True)
class Winter:
    """Winter emergency shelter season, as month-day strings (``"12-01"``)."""

    start: str = "12-01"
    end: str = "04-01"


@dataclass(frozen=True)
class Recovery:
    """Recovery speed by setting: regime multiplier times room-type multiplier.

    A client needs ``recovery_days`` of work (drawn per client) at speed 1; in a setting
    with speed ``s`` the stay until ready lasts work / s days. ``departure`` multiplies the
    group's rate of leaving shelter without housing, by regime.
    """

    regime: dict[str, float]
    room_type: dict[str, float]
    departure: dict[str, float]


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
class Channel:
    """An outflow channel that houses waiting clients.

    ``quota``: homes a year per part (e.g. municipality) times a realisation rate,
    released as a Poisson process from ``start``. ``hazard``: each waiting eligible
    client is housed at ``rate_per_year``. ``capacity``: ``homes`` places occupied for
    ``stay_days`` on average, open from ``start``.
    """

    kind: Literal["quota", "hazard", "capacity"]
    tracks: tuple[Literal["shelter", "bw"], ...]
    start: dt.date | None = None
    homes_per_year: dict[str, float] = field(default_factory=dict)
    realisation: dict[str, float] = field(default_factory=dict)
    rate_per_year: float = 0.0
    homes: int = 0
    stay_days: float = 0.0
    only_skaeve: bool = False


@dataclass(frozen=True)
class Return:
    """Chance that a client leaving by this way reports at the BCT again, and when."""

    probability: float
    mean_days: float


@dataclass(frozen=True)
class WlzTransfer:
    """A one-off move of BW occupants to the Wlz."""

    date: dt.date
    share: float


@dataclass(frozen=True)
class BW:
    """Beschermd wonen and beschut wonen: places, waiting list, stays and exits."""

    places: dict[str, int]
    beschut_places: dict[str, int]
    indication_days: float
    direct_applicants_per_year: float
    stay_days: float
    beschut_stay_days: float
    exit: dict[str, float]
    beschut_exit: dict[str, float]
    initial_occupants: int
    initial_beschut: int
    initial_waiting: int
    cost_per_day: float
    beschut_cost_per_day: float
    stay_shape: float
    vacancy_days: float
    wlz_transfer: WlzTransfer | None = None


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
    bw: BW
    name: str = "model"
    description: str = ""
    source: str = field(default="", compare=False)


# --- validation -------------------------------------------------------------------------


def parse_date(text: str, file: str, key: str) -> dt.date:
    """Parse a ``YYYY-MM-DD`` key."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(file, key, f"expected a date YYYY-MM-DD, got {text!r}") from None


def validate(model: Model, file: str) -> None:
    """Cross-check a built model; raise :class:`InputError` on the first problem."""
    sim = model.simulation
    if sim.end_year < sim.start.year:
        raise InputError(file, "simulation.end_year", f"expected >= {sim.start.year}")
    _non_negative(sim.warmup_years, file, "simulation.warmup_years")
    for key in ("start", "end"):
        text = getattr(model.winter, key)
        try:
            dt.date.fromisoformat(f"2001-{text}")  # not a leap year: 02-29 is refused
        except ValueError:
            raise InputError(file, f"winter.{key}", f"expected MM-DD, got {text!r}") from None
    _distribution(model.origin, file, "origin")
    for fid, fac in model.facilities.items():
        _validate_facility(fac, file, f"facilities.{fid}")
    for table in ("regime", "room_type", "departure"):
        speeds = getattr(model.recovery, table)
        for fid, fac in model.facilities.items():
            for d, entry in fac.schedule.items():
                value = getattr(entry, "regime" if table == "departure" else table)
                if value is not None and value not in speeds:
                    raise InputError(file, f"recovery.{table}.{value}",
                                     f"missing: facilities.{fid}.schedule.{d} uses it")
        known = get_args(RoomType if table == "room_type" else Regime)
        for name, speed in speeds.items():
            if name not in known:
                raise InputError(file, f"recovery.{table}.{name}",
                                 f"unknown key; expected one of {', '.join(known)}")
            _positive(speed, file, f"recovery.{table}.{name}")
    for outcome, by_segment in model.routes.items():
        if outcome in NON_SHELTER_OUTCOMES:
            raise InputError(file, f"routes.{outcome}", "a non-shelter outcome cannot have a route")
        for segment, route in by_segment.items():
            key = f"routes.{outcome}.{segment}"
            if segment not in SEGMENTS:
                raise InputError(file, key, f"unknown segment; expected one of {', '.join(SEGMENTS)}")
            if not route:
                raise InputError(file, key, "expected at least one facility")
            for i, fid in enumerate(route):
                if fid not in model.facilities:
                    raise InputError(file, f"{key}[{i}]", f"unknown facility {fid!r}")
    for name, channel in model.channels.items():
        _validate_channel(channel, file, f"channels.{name}")
    for gid, group in model.groups.items():
        _validate_group(model, group, file, f"groups.{gid}")
    valid_exits = set(model.channels) | set(EXIT_REASONS)
    for name, ret in model.returns.items():
        key = f"returns.{name}"
        if name not in valid_exits:
            raise InputError(file, key, f"unknown exit; expected one of {', '.join(sorted(valid_exits))}")
        _probability(ret.probability, file, f"{key}.probability")
        _positive(ret.mean_days, file, f"{key}.mean_days")
    _validate_bw(model.bw, file)


def _validate_facility(fac: Facility, file: str, key: str) -> None:
    _non_negative(fac.winter_places, file, f"{key}.winter_places")
    _non_negative(fac.cost_per_day, file, f"{key}.cost_per_day")
    if not fac.schedule:
        raise InputError(file, f"{key}.schedule", "expected at least one dated entry")
    dates = [parse_date(d, file, f"{key}.schedule.{d}") for d in fac.schedule]
    first = fac.schedule[min(fac.schedule, key=lambda d: dt.date.fromisoformat(d))]
    if first.places is None or first.regime is None or first.room_type is None:
        raise InputError(file, f"{key}.schedule.{min(dates).isoformat()}",
                         "the first entry must give places, regime and room_type")
    for d, entry in fac.schedule.items():
        if entry.places is not None:
            _non_negative(entry.places, file, f"{key}.schedule.{d}.places")


def _validate_channel(ch: Channel, file: str, key: str) -> None:
    if not ch.tracks:
        raise InputError(file, f"{key}.tracks", "expected at least one of 'shelter', 'bw'")
    if ch.kind == "quota":
        if not ch.homes_per_year:
            raise InputError(file, f"{key}.homes_per_year", "a quota channel needs homes per year")
        if set(ch.realisation) != set(ch.homes_per_year):
            raise InputError(file, f"{key}.realisation",
                             f"expected the same parts as homes_per_year: {', '.join(ch.homes_per_year)}")
        for part, homes in ch.homes_per_year.items():
            _non_negative(homes, file, f"{key}.homes_per_year.{part}")
            _probability(ch.realisation[part], file, f"{key}.realisation.{part}")
    elif ch.kind == "hazard":
        _non_negative(ch.rate_per_year, file, f"{key}.rate_per_year")
    else:
        _non_negative(ch.homes, file, f"{key}.homes")
        _positive(ch.stay_days, file, f"{key}.stay_days")


def _validate_group(model: Model, g: Group, file: str, key: str) -> None:
    if not g.arrivals:
        raise InputError(file, f"{key}.arrivals", "expected yearly rates, e.g. 2019 = 371")
    for year, rate in g.arrivals.items():
        if not year.isdigit():
            raise InputError(file, f"{key}.arrivals.{year}", "expected a year as key")
        _non_negative(rate, file, f"{key}.arrivals.{year}")
    for name in ("first_report_share", "family_share", "youth_share", "bw_indication_share",
                 "skaeve_share"):
        _probability(getattr(g, name), file, f"{key}.{name}")
    if g.family_share + g.youth_share > 1 + 1e-9:
        raise InputError(file, f"{key}.youth_share", "family_share + youth_share must be <= 1")
    if g.trend_per_year <= -1:
        raise InputError(file, f"{key}.trend_per_year", "expected > -1")
    for name in ("recovery_days", "patience_days", "recovery_shape", "assessment_days"):
        _positive(getattr(g, name), file, f"{key}.{name}")
    _non_negative(g.departure_per_year, file, f"{key}.departure_per_year")
    _distribution(g.decision, file, f"{key}.decision")
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


def _validate_bw(bw: BW, file: str) -> None:
    for table in ("places", "beschut_places"):
        entries = getattr(bw, table)
        if not entries:
            raise InputError(file, f"bw.{table}", "expected at least one dated entry")
        for d, n in entries.items():
            parse_date(d, file, f"bw.{table}.{d}")
            _non_negative(n, file, f"bw.{table}.{d}")
    for name in ("indication_days", "stay_days", "beschut_stay_days", "stay_shape"):
        _positive(getattr(bw, name), file, f"bw.{name}")
    for name in ("direct_applicants_per_year", "initial_occupants", "initial_beschut", "vacancy_days",
                 "initial_waiting", "cost_per_day", "beschut_cost_per_day"):
        _non_negative(getattr(bw, name), file, f"bw.{name}")
    _distribution(bw.exit, file, "bw.exit", allowed=("beschut_wonen", "ambulant", "wlz"))
    _distribution(bw.beschut_exit, file, "bw.beschut_exit", allowed=("ambulant", "wlz"))
    if bw.wlz_transfer is not None:
        _probability(bw.wlz_transfer.share, file, "bw.wlz_transfer.share")


def _distribution(probs: Mapping[str, float], file: str, key: str,
                  allowed: tuple[str, ...] | None = None) -> None:
    for name, p in probs.items():
        if allowed is not None and name not in allowed:
            raise InputError(file, f"{key}.{name}", f"unknown key; expected one of {', '.join(allowed)}")
        _probability(p, file, f"{key}.{name}")
    total = sum(probs.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise InputError(file, key, f"probabilities must sum to 1, got {total:.6g}")


def _probability(p: float, file: str, key: str) -> None:
    if not 0.0 <= p <= 1.0:
        raise InputError(file, key, f"expected a probability in [0, 1], got {p}")


def _positive(x: float, file: str, key: str) -> None:
    if not x > 0:
        raise InputError(file, key, f"expected a number > 0, got {x}")


def _non_negative(x: float, file: str, key: str) -> None:
    if not x >= 0:
        raise InputError(file, key, f"expected a number >= 0, got {x}")
