"""Outflow channels: their schema, the kinds of channel, and the waiting lists for a home.

The slice of the model file this component owns: ``[channels.*]``. Every channel has a
``kind``, a class below with one contract (:class:`Kind`):

- ``quota``: homes a year per part (e.g. municipality) times a realisation rate, released as
  a Poisson process from ``start``; each goes to the longest-waiting eligible client, and a
  home nobody eligible waits for is recorded as unused.
- ``capacity``: ``homes`` places (Skaeve Huse), each occupied for a drawn stay and then
  offered again; ``dated`` changes the number of homes from a date.
- ``hazard``: no waiting list; each waiting eligible client is housed at ``rate_per_year``,
  through a personal timer (the journey draws it from :meth:`Housing.search`).

Clients ready to move on (from shelter or a place pool) wait on one list per set of
queue-served channels they may use.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
from collections.abc import Collection, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import simpy

from sim.components.durations import Duration, validate_duration
from sim.engine.calendar import Calendar
from sim.engine.client import HOME_STAY, Client, exponential
from sim.engine.log import Recorder
from sim.engine.processes import Light
from sim.engine.queues import WaitingLists
from sim.engine.streams import Streams
from sim.input.checks import count, non_negative, parse_date, positive, probability, rate
from sim.input.errors import InputError, did_you_mean

Eligibility = tuple[str, ...]  # the lines a client may be housed from: queue-served channels,
# or for a channel ``by_origin`` its part for the client's municipality (``pact/haarlem``)
Track = Literal["shelter", "place"]  # ready in a shelter bed, or in a place of a pool


@dataclass(frozen=True)
class Channel:
    """An outflow channel (the fields a kind does not use keep their defaults)."""

    kind: str
    tracks: tuple[Track, ...]
    start: dt.date | None = None
    homes_per_year: dict[str, float] = field(default_factory=dict)
    realisation: dict[str, float] = field(default_factory=dict)
    rate_per_year: float = 0.0
    homes: int = 0
    stay_days: float = 0.0  # a capacity channel's stay: exponential of this mean ...
    stay: Duration | None = None  # ... or any distribution
    initial_occupants: int = 0  # a capacity channel's homes lived in when it opens
    only_skaeve: bool = False
    origins: tuple[str, ...] = ()  # municipalities of origin it houses (empty: every one)
    by_origin: bool = False  # a part's homes go to clients from that municipality only
    support_cost_per_day: float = 0.0  # support at home after a placement (Housing First) ...
    support_days: float = 0.0  # ... for this long, unless the client comes back earlier
    budget: str = ""  # the budget line that pays for the support
    dated: dict[str, dict[str, float]] = field(default_factory=dict)  # date -> what changes
    # (quota: homes_per_year of some parts; hazard: rate_per_year; capacity: homes)

    def open_to(self, track: str, skaeve: bool, origin: str) -> bool:
        """Whether a client on ``track`` (needing Skaeve Huse or not, from ``origin``) may use it."""
        return (track in self.tracks and self.only_skaeve == skaeve
                and (not self.origins or origin in self.origins)
                and (not self.by_origin or origin in self.homes_per_year))

    @property
    def parts(self) -> list[str]:
        """The parts reported apart (a quota's municipalities); none for a single part."""
        return list(self.homes_per_year) if len(self.homes_per_year) > 1 or self.by_origin else []


def validate_channels(channels: dict[str, Channel], origins: Collection[str], file: str) -> None:
    """Check every channel against its kind, and the municipalities it names."""
    for name, ch in channels.items():
        key = f"channels.{name}"
        if ch.kind not in KINDS:
            raise InputError(file, f"{key}.kind", f"expected one of {', '.join(KINDS)}, got {ch.kind!r}"
                             f"{did_you_mean(ch.kind, KINDS)}")
        if not ch.tracks:
            raise InputError(file, f"{key}.tracks", "expected at least one of 'shelter', 'place'")
        for name_ in ("stay", "initial_occupants"):
            if ch.kind != "capacity" and getattr(ch, name_):
                raise InputError(file, f"{key}.{name_}", "only a capacity channel has it")
        non_negative(ch.support_cost_per_day, file, f"{key}.support_cost_per_day")
        non_negative(ch.support_days, file, f"{key}.support_days")
        if ch.support_cost_per_day > 0 and not ch.budget:
            raise InputError(file, f"{key}.budget", "missing: a support cost needs a budget line")
        for i, origin in enumerate(ch.origins):
            if origin not in origins:
                raise InputError(file, f"{key}.origins[{i}]", "unknown municipality; expected one of "
                                 f"{', '.join(origins)}{did_you_mean(origin, origins)}")
        if ch.by_origin:
            if ch.kind != "quota":
                raise InputError(file, f"{key}.by_origin", "only a quota channel has parts by origin")
            for part in ch.homes_per_year:
                if part not in origins:
                    raise InputError(file, f"{key}.homes_per_year.{part}",
                                     f"by_origin: expected a municipality of origin, one of "
                                     f"{', '.join(origins)}{did_you_mean(part, origins)}")
        _unused_fields(ch, file, key)
        KINDS[ch.kind].validate(ch, file, key)


KIND_FIELDS = ("homes_per_year", "realisation", "rate_per_year", "homes", "stay_days", "dated")


def _unused_fields(ch: Channel, file: str, key: str) -> None:
    """Refuse a field the channel's kind does not use (it would be silently ignored: a
    capacity channel's ``dated`` homes were)."""
    kind = KINDS[ch.kind]
    defaults = Channel(kind=ch.kind, tracks=ch.tracks)
    for name in KIND_FIELDS:
        if name not in kind.fields and getattr(ch, name) != getattr(defaults, name):
            used = [k for k, cls in KINDS.items() if name in cls.fields]
            raise InputError(file, f"{key}.{name}", f"not used by a channel of kind {ch.kind!r} "
                             f"(only by kind {' or '.join(map(repr, used))}); remove it")


@dataclass(frozen=True)
class HomeSearch:
    """What a client of one group and track may get: queue-served channels and hazards."""

    eligibility: Eligibility
    mean_wait: float  # mean days until the first hazard channel houses the client
    cumulative: list[float]  # which hazard channel it is: inverse CDF over ...
    names: list[str]  # ... these channels


@dataclass(frozen=True)
class HousingRecord:
    """The channels of a run, for the figures: each channel's parts reported apart (a quota's
    municipalities), the support at home after a placement (channel -> euro a day, days, budget
    line), and for each client group (in model order) and municipality of origin (in model
    order) the channels with a waiting list a ready shelter client may use, with the model
    time each opens, in the group's order."""

    parts: dict[str, list[str]]
    support: dict[str, tuple[float, float, str]]
    home_channels: list[list[list[tuple[str, float]]]]


class Housing:
    """The channels of a run, their waiting lists and the homes they release."""

    def __init__(self, env: simpy.Environment, calendar: Calendar, channels: dict[str, Channel],
                 recorder: Recorder) -> None:
        self.env = env
        self.calendar = calendar
        self.recorder = recorder
        self.part_way = True  # homes lived in when a capacity channel opens: part-way (start)
        self.lists: WaitingLists[Eligibility] = WaitingLists(env)
        self.by_channel: dict[str, list[Eligibility]] = {  # a line: a channel, or its part
            line: [] for n, ch in channels.items()
            for line in ([f"{n}/{part}" for part in ch.homes_per_year] if ch.by_origin else [n])}
        self.channels = {name: KINDS[ch.kind](name, ch, self) for name, ch in channels.items()}
        self.rate_changes = sorted({t for c in self.channels.values() if isinstance(c, Hazard)
                                    for t in c.changes})

    def record(self, groups: Sequence[tuple[str, ...]], origins: Sequence[str]) -> HousingRecord:
        """The channels as the figures need them; ``groups``: each client group's channels."""
        specs = {name: c.spec for name, c in self.channels.items()}
        opens = {name: self.calendar.day(spec.start) if spec.start is not None else -math.inf
                 for name, spec in specs.items()}
        return HousingRecord(
            parts={name: spec.parts for name, spec in specs.items()},
            support={name: (spec.support_cost_per_day, spec.support_days, spec.budget)
                     for name, spec in specs.items() if spec.support_cost_per_day > 0},
            home_channels=[[[(name, opens[name]) for name in channels
                             if self.channels[name].queued
                             and specs[name].open_to("shelter", False, origin)]
                            for origin in origins] for channels in groups])

    def search(self, names: tuple[str, ...], track: str, skaeve: bool, origin: str,
               now: float = 0.0) -> HomeSearch:
        """The home search, from ``now``, of a client from ``origin`` who may use channels
        ``names`` on ``track``."""
        open_ = [self.channels[n] for n in names
                 if self.channels[n].spec.open_to(track, skaeve, origin)]
        rates = [(c.name, c.hazard_per_day(now)) for c in open_]
        hazards = [(name, r) for name, r in rates if r > 0]
        total = sum(r for _, r in hazards)
        return HomeSearch(
            eligibility=tuple(f"{c.name}/{origin}" if c.spec.by_origin else c.name
                              for c in open_ if c.queued),
            mean_wait=1.0 / total if total > 0 else math.inf,
            cumulative=list(itertools.accumulate(r / total for _, r in hazards)) if total > 0 else [],
            names=[n for n, _ in hazards])

    def period(self, now: float) -> int:
        """Which dated hazard rates are in force at ``now`` (a home search depends on it): the
        number of changes of any hazard channel's rate at or before ``now``."""
        return bisect.bisect_right(self.rate_changes, now)

    def start(self, streams: Streams, horizon: float, part_way: bool = True) -> None:
        """Start releasing homes: every channel, in model order. ``part_way``: homes lived in
        when a channel opens are part-way through their stays (else whole stays begin)."""
        self.part_way = part_way
        for channel in self.channels.values():
            begin = self.calendar.day(channel.spec.start) if channel.spec.start else self.env.now
            channel.start(streams, max(begin, self.env.now), horizon)

    def enqueue(self, client: Client, eligibility: Eligibility, since: float | None = None) -> float:
        """Wait for a home; ``client.wake`` succeeds with the channel label (at once when a
        home stands free). ``since``: when the client first joined the list (by default now);
        returns it."""
        now = self.env._now
        for line in eligibility:
            if self.channels[line.split("/")[0]].take_free(client):
                return now if since is None else since
        if eligibility not in self.lists.lists:
            for line in eligibility:
                self.by_channel[line].append(eligibility)
        return self.lists.join(client, eligibility, since)

    def leave_queue(self, client: Client) -> None:
        """A waiting client leaves by another way."""
        self.lists.leave(client)

    def give(self, name: str, label: str) -> bool:
        """Offer a home of channel ``name`` to the longest-waiting eligible client."""
        line = label if self.channels[name].spec.by_origin else name
        client = self.lists.serve(self.by_channel[line], label)
        if client is None:
            return False
        self.channels[name].taken(client, label)
        return True


# --- the kinds of channel -----------------------------------------------------------------


class Kind:
    """The contract of a channel kind."""

    queued: ClassVar[bool] = True  # clients wait on a list for its homes
    fields: ClassVar[frozenset[str]] = frozenset()  # the fields of KIND_FIELDS it uses

    def __init__(self, name: str, spec: Channel, housing: Housing) -> None:
        self.name = name
        self.spec = spec
        self.housing = housing
        self.env = housing.env

    @staticmethod
    def validate(spec: Channel, file: str, key: str) -> None:
        """Check the fields this kind uses."""

    def hazard_per_day(self, now: float) -> float:
        """The rate at which it houses each eligible waiting client from ``now`` (hazard
        kinds only)."""
        return 0.0

    def start(self, streams: Streams, start: float, horizon: float) -> None:
        """Begin releasing homes at model time ``start``."""

    def take_free(self, client: Client) -> bool:
        """Give a home standing free to a client who starts waiting; False if none."""
        return False

    def taken(self, client: Client, label: str) -> None:
        """A client took one of its homes."""


class Hazard(Kind):
    """Houses each waiting eligible client at a constant rate (regular market, doorstroom)."""

    queued = False
    fields = frozenset({"rate_per_year", "dated"})

    def __init__(self, name: str, spec: Channel, housing: Housing) -> None:
        super().__init__(name, spec, housing)
        dated = sorted((housing.calendar.day(dt.date.fromisoformat(d)), c["rate_per_year"])
                       for d, c in spec.dated.items())
        self.changes = [t for t, _ in dated]
        self.rates = [spec.rate_per_year / 365.0, *(r / 365.0 for _, r in dated)]

    @staticmethod
    def validate(spec: Channel, file: str, key: str) -> None:
        rate(spec.rate_per_year, file, f"{key}.rate_per_year")  # a rate per client
        for d, change in spec.dated.items():
            parse_date(d, file, f"{key}.dated.{d}")
            if set(change) != {"rate_per_year"}:
                raise InputError(file, f"{key}.dated.{d}", "expected { rate_per_year = ... }")
            rate(change["rate_per_year"], file, f"{key}.dated.{d}.rate_per_year")

    def hazard_per_day(self, now: float) -> float:
        """The rate in force at ``now`` (a client keeps the rate of the day they start waiting)."""
        return self.rates[bisect.bisect_right(self.changes, now)]


class Quota(Kind):
    """Releases homes a year per part (times a realisation rate) as a Poisson process."""

    fields = frozenset({"homes_per_year", "realisation", "dated"})

    @staticmethod
    def validate(spec: Channel, file: str, key: str) -> None:
        if not spec.homes_per_year:
            raise InputError(file, f"{key}.homes_per_year", "a quota channel needs homes per year")
        if set(spec.realisation) != set(spec.homes_per_year):
            raise InputError(file, f"{key}.realisation",
                             f"expected the same parts as homes_per_year: {', '.join(spec.homes_per_year)}")
        for part, homes in spec.homes_per_year.items():
            rate(homes, file, f"{key}.homes_per_year.{part}")
            probability(spec.realisation[part], file, f"{key}.realisation.{part}")
        for d, change in spec.dated.items():
            parse_date(d, file, f"{key}.dated.{d}")
            for part, homes in change.items():
                if part not in spec.homes_per_year:
                    parts = list(spec.homes_per_year)
                    raise InputError(file, f"{key}.dated.{d}.{part}", "unknown part; expected one of "
                                     f"{', '.join(parts)}{did_you_mean(part, parts)}")
                rate(homes, file, f"{key}.dated.{d}.{part}")

    def start(self, streams: Streams, start: float, horizon: float) -> None:
        times, parts = self._release_times(streams.get(f"channel/{self.name}"), start, horizon)
        Light(self.env, self._release(times, parts)).start()

    def _release_times(self, rng: np.random.Generator, start: float,
                       horizon: float) -> tuple[list[float], list[str]]:
        """Release times of every part: a Poisson process whose rate follows ``dated``."""
        spec, calendar = self.spec, self.housing.calendar
        parts = list(spec.homes_per_year)
        changes = sorted((calendar.day(dt.date.fromisoformat(d)), c) for d, c in spec.dated.items())
        times, labels = [], []
        for i, part in enumerate(parts):
            homes = spec.homes_per_year[part]
            edges = [start, *(max(t, start) for t, _ in changes), horizon]
            rates = [homes] + [homes := c.get(part, homes) for _, c in changes]
            for a, b, per_year in zip(edges[:-1], edges[1:], rates, strict=True):
                span = max(min(b, horizon) - a, 0.0)
                n = rng.poisson(per_year * spec.realisation[part] / 365.0 * span)
                times.append(a + np.sort(rng.random(n)) * span)
                labels.append(np.full(n, i))
        all_times = np.concatenate(times)
        order = np.argsort(all_times, kind="stable")
        label_idx = np.concatenate(labels)[order]
        return all_times[order].tolist(), [parts[i] for i in label_idx]

    def _release(self, times: list[float], parts: list[str]) -> Generator[Any, Any, None]:
        multi = bool(self.spec.parts)
        recorder = self.housing.recorder
        for t, part in zip(times, parts, strict=True):
            yield self.env.timeout(t - self.env.now)
            label = f"{self.name}/{part}" if multi else self.name
            if not self.housing.give(self.name, label):
                recorder.unused_home(self.env.now, recorder.reasons[label])


class Capacity(Kind):
    """A number of homes, each offered again when its occupant's stay ends.

    ``dated`` changes the number of homes (``{ homes = n }``) from a date: more homes are
    offered at once; fewer are taken out as they come free (nobody leaves a home for it).
    ``initial_occupants`` of its homes are lived in when it opens, by people the model does
    not follow; each comes free after the rest of a stay (or a whole one:
    ``simulation.initial_stays``)."""

    fields = frozenset({"homes", "stay_days", "dated"})

    def __init__(self, name: str, spec: Channel, housing: Housing) -> None:
        super().__init__(name, spec, housing)
        self.homes = 0  # the homes there are now
        self.in_use = 0  # ... and those lived in

    @staticmethod
    def validate(spec: Channel, file: str, key: str) -> None:
        count(spec.homes, file, f"{key}.homes")
        count(spec.initial_occupants, file, f"{key}.initial_occupants")
        if spec.initial_occupants > spec.homes:
            raise InputError(file, f"{key}.initial_occupants",
                             f"expected at most the homes ({spec.homes}), got {spec.initial_occupants}")
        if spec.stay is not None:
            if spec.stay_days:
                raise InputError(file, f"{key}.stay_days", "not with stay: give the "
                                 "distribution's parameters there")
            validate_duration(spec.stay, file, f"{key}.stay")
        else:
            positive(spec.stay_days, file, f"{key}.stay_days")
        for d, change in spec.dated.items():
            parse_date(d, file, f"{key}.dated.{d}")
            if set(change) != {"homes"}:
                raise InputError(file, f"{key}.dated.{d}", "expected { homes = ... }")
            if change["homes"] != int(change["homes"]):
                raise InputError(file, f"{key}.dated.{d}.homes",
                                 f"expected a whole number of homes, got {change['homes']}")
            count(change["homes"], file, f"{key}.dated.{d}.homes")

    def start(self, streams: Streams, start: float, horizon: float) -> None:
        calendar = self.housing.calendar
        changes = sorted((max(calendar.day(dt.date.fromisoformat(d)), start), int(c["homes"]))
                         for d, c in self.spec.dated.items())
        Light(self.env, self._open(start, changes, streams)).start()

    def _open(self, start: float, changes: list[tuple[float, int]],
              streams: Streams) -> Generator[Any, Any, None]:
        if start > self.env.now:
            yield self.env.timeout(start - self.env.now)
        if self.spec.initial_occupants:
            stay = self.spec.stay or Duration("exponential", mean=self.spec.stay_days)
            rng, n = streams.get(f"channel/{self.name}/initial"), self.spec.initial_occupants
            days = stay.residual(rng, n) if self.housing.part_way else stay.sample(rng, (n,))
            for d in days.tolist():
                self.in_use += 1
                self.env.timeout(d).callbacks.append(self._vacated)
        self._set_homes(self.spec.homes)
        for t, homes in changes:
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            self._set_homes(homes)

    def _set_homes(self, homes: int) -> None:
        self.homes = homes
        self._offer()

    def _offer(self) -> None:
        """Offer the free homes to the longest-waiting eligible clients."""
        while self.in_use < self.homes and self.housing.give(self.name, self.name):
            pass  # taken() counts the home in use

    def take_free(self, client: Client) -> bool:
        if self.in_use >= self.homes:
            return False
        self.taken(client, self.name)
        assert client.wake is not None
        client.queued = False  # on no list now (a client may be on one for a bed as well)
        client.wake.succeed(self.name)
        return True

    def taken(self, client: Client, label: str) -> None:
        self.in_use += 1
        u = client.v[HOME_STAY]
        days = (exponential(self.spec.stay_days, u) if self.spec.stay is None
                else float(self.spec.stay.ppf(np.array(u))))
        stay = self.env.timeout(days)
        stay.callbacks.append(self._vacated)

    def _vacated(self, _: object) -> None:
        self.in_use -= 1
        self._offer()


KINDS: dict[str, type[Kind]] = {"quota": Quota, "capacity": Capacity, "hazard": Hazard}
