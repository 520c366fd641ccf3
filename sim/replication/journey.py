"""The client journey: arrivals, BCT decision, shelter, place pools and outflow, on SimPy.

A visit to the BCT is known in advance (the report, the assessment, the decision drawn for
the client): it is recorded when it is scheduled, and only a decision for a shelter route is
an event (group arrivals are fed into the schedule a month ahead, in the order they come; a
return is scheduled when the client leaves). A client sent to a shelter gets a process for
that episode, and a client of a place pool one for their stay (:class:`sim.engine.processes.Light`:
no start or end event). A client waits on a single ``wake`` event
(:class:`sim.engine.processes.Wake`) that either its own timer (patience, departure, a hazard
channel, a stay) or a component (a freed bed, a place, a home: the component succeeds it,
see :mod:`sim.engine.queues`) triggers, whichever comes first.

The journey reads SimPy's clock as ``env._now``: ``env.now`` is a property, a Python call
each time, and the journey reads the clock some 60,000 times a replication (~2 % of it).

Personal variates come from the client's own row of its group's draws
(:class:`sim.replication.variates.GroupDraws`): the k-th arrival of a group gets the same row in every
scenario of an experiment.
"""

from __future__ import annotations

import itertools
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from sim.components.housing import HomeSearch, Housing
from sim.components.intake import NON_SHELTER_OUTCOMES, Segment, initial_outcome, initial_segments
from sim.components.places import AMBULANT, CUT, PLACE, Places
from sim.components.shelters import Pool, RouteKey, Shelters
from sim.engine.calendar import Calendar
from sim.engine.client import (
    ASSESS,
    AVOID,
    DECISION,
    DEPART,
    HAZARD,
    HAZARD_PICK,
    INDICATION,
    INF,
    PATIENCE,
    RETURN,
    RETURN_DELAY,
    SEGMENT,
    SEGMENTS,
    SPELL,
    WORK,
    Client,
    exponential,
    pick,
    pool_columns,
    spell_uniform,
)
from sim.engine.log import BCT, BUITEN, KLAAR, NO_FACILITY, OPVANG, UIT, WACHT, WEG, Recorder, pool_stages
from sim.engine.processes import Environment, Light, Wake
from sim.engine.streams import Streams
from sim.model.root import Model
from sim.replication.variates import GroupDraws

Process = Generator[Any, Any, None]
FEED_DAYS = 30.0  # arrivals are registered and scheduled this long ahead
AWAY = "away"  # a night-shelter user's spell in a bed ends: nights elsewhere
BACK = "back"  # ... and they are back for a bed
END = "end"  # a stay in a place ends
TRANSFER = "wlz_transfer"  # a place pool's occupant moves to the Wlz


class SpellEnds(Exception):  # noqa: N818  (an event, not an error)
    """A night-shelter user's spell in a bed ends before anything else happens there."""


class Stay:
    """A client's shelter episode as it stands, so that it can go on in another bed, or
    after nights without one.

    Clocks in units that do not depend on the bed: recovery work left (days at speed 1), the
    departure clock left (days at departure multiplier 1), days until the indication, and the
    days spent ready (waiting for a home), each brought up to date by :meth:`elapse`; they
    stand still while the client has no bed. ``listed``: when the client joined the list of
    the stage they are in (a home, a place), so that they keep their place there. ``spells``
    counts the client's spells in a night-shelter bed; ``spell_end``: when the one in the bed
    now ends (infinity in a bed used every night), ``spell_away``: the mean nights elsewhere
    after it.
    """

    __slots__ = ("depart", "departure", "in_bed", "indication", "key", "listed", "ready_for",
                 "since", "speed", "spell_away", "spell_end", "spells", "stage", "work")

    def __init__(self, key: RouteKey, stage: int, work: float, depart: float,
                 indication: float) -> None:
        self.key = key
        self.stage = stage
        self.work = work
        self.depart = depart
        self.indication = indication
        self.ready_for = 0.0
        self.since = 0.0
        self.in_bed = False
        self.speed = self.departure = 1.0  # of the bed, as it was when the client took it
        self.listed: float | None = None
        self.spells = 0
        self.spell_end = INF
        self.spell_away = 0.0

    def enter(self, stage: int, now: float, pool: Pool | None) -> None:
        """From ``now`` the client is in ``stage`` in ``pool`` (None: without a bed)."""
        self.elapse(now)
        if stage != self.stage:
            self.listed = None  # a new stage's list is a new wait
        self.stage = stage
        if pool is None:
            self.in_bed = False
        elif not self.in_bed:  # a bed's setting holds for the client who took it
            self.in_bed, self.speed, self.departure = True, pool.speed, pool.departure

    def elapse(self, now: float) -> None:
        """Bring the clocks up to ``now``."""
        days, self.since = now - self.since, now
        if not self.in_bed:
            return
        self.depart -= days * self.departure
        if self.stage == OPVANG:
            self.work -= days * self.speed
            self.indication -= days
        elif self.stage == KLAAR:
            self.ready_for += days


def direct_group(pool: str) -> str:
    """The pseudo-group of a pool's clients who do not come through the shelters."""
    return f"{pool}_direct"


class Region:
    """All components and client processes of one replication."""

    def __init__(self, model: Model, streams: Streams, recorder: Recorder,
                 env: Environment | None = None) -> None:
        """``env``: an environment to share with other regions (its clock at this region's
        start), whose events then interleave with theirs; each region runs as it would alone
        (``scripts/benchmark_locality.py``). By default the region makes its own."""
        self.model = model
        self.streams = streams
        self.rec = recorder
        sim = model.simulation
        self.calendar = Calendar(sim.start)
        self.first_year = sim.start.year - sim.warmup_years
        start = self.calendar.year_start(self.first_year)
        if env is not None and env.now != start:
            raise ValueError(f"a shared environment's clock is at {env.now}, not at the "
                             f"region's start {start}")
        self.env = Environment(initial_time=start) if env is None else env
        self.horizon = self.calendar.year_start(sim.end_year + 1)
        self.shelters = Shelters(self.env, self.calendar, model.facilities, model.routes,
                                 model.recovery, model.winter)
        self.housing = Housing(self.env, self.calendar, model.channels, recorder)
        self.pools = list(model.places.values())
        self.pool_names = list(model.places)
        self.places = [Places(self.env, pool.vacancy_days, name, pool)
                       for name, pool in model.places.items()]
        self.pool_index = {name: i for i, name in enumerate(self.pool_names)}
        self.entry_pool = next((i for i, p in enumerate(self.pools) if p.indication_days is not None),
                               None)
        self.groups = list(model.groups.values())
        self.group_names = [*model.groups, *map(direct_group, model.places)]
        self.draws: dict[str, GroupDraws] = {}  # personal variates per group, for inspection
        self._outcomes = [g.outcomes() for g in self.groups]
        self._exits = [_categorical(pool.exit) for pool in self.pools]
        self._searches: dict[tuple[int, str, bool, str, int], HomeSearch] = {}
        self._origins = list(model.origin)
        self._reason = recorder.reasons
        self._returns = dict(model.returns)  # by way out; a channel's parts share its entry
        for name, channel in model.channels.items():
            for part in channel.homes_per_year:
                if name in model.returns:
                    self._returns[f"{name}/{part}"] = model.returns[name]

    # --- set-up ---------------------------------------------------------------------

    def start(self) -> None:
        """Start every process: capacity schedules first, so that a dated capacity change
        takes effect before other events of the same day. Processes run at once up to their
        first wait, in this order."""
        self.shelters.start(self.first_year, self.model.simulation.end_year)
        for places, pool in zip(self.places, self.pools, strict=True):
            places.start(self.calendar, pool.places())
        self.housing.start(self.streams, self.horizon,
                           self.model.simulation.initial_stays == "residual")
        for i, pool in enumerate(self.pools):
            if pool.wlz_transfer is not None:
                Light(self.env, self._wlz_transfer(i)).start()
        sim = self.model.simulation
        arrivals = []
        for name, group in self.model.groups.items():
            segments = group.first_report_segments(sim.demand_path, self.first_year, sim.end_year,
                                                   self.calendar)
            times = self._arrival_times(segments, self.streams.get(f"arrivals/{name}"))
            draws = self.draws[name] = GroupDraws(self.model, self.streams, name, len(times), group)
            arrivals.append((times, draws))
        direct = [self._direct(i) for i in range(len(self.pools))]  # every pool's stock first
        for processes, _ in direct:
            for process in processes:
                process.start()
        for process in self._initial_shelter():
            process.start()
        self._arrivals(arrivals, [a for _, applicants in direct for a in applicants])

    def _arrival_times(self, segments: list[Segment], rng: np.random.Generator) -> list[float]:
        """Poisson arrivals whose rate a year is constant or linear in each segment ``(from, to,
        rate at from, rate at to)``: a Poisson number in each, placed by the inverse of the
        rate's integral over sorted uniforms (for a linear rate, the root of a quadratic)."""
        times = [np.zeros(0)]
        for a, b, ra, rb in segments:
            if ra == rb:
                n = rng.poisson(ra * (b - a) / 365.0)
                times.append(a + np.sort(rng.random(n)) * (b - a))
            else:
                n = rng.poisson((ra + rb) / 2.0 * (b - a) / 365.0)
                u = np.sort(rng.random(n))
                root = ra + np.sqrt(ra * ra + (rb * rb - ra * ra) * u)  # > 0 unless ra = u = 0
                share = np.divide((ra + rb) * u, root, out=np.zeros(n), where=root > 0)
                times.append(a + share * (b - a))
        return np.concatenate(times).tolist()

    def _yearly(self, per_year: float) -> list[Segment]:
        """A constant rate a year over the run's years, one segment a year."""
        edges = self.calendar.year_bounds(self.first_year, self.model.simulation.end_year).tolist()
        return [(a, b, per_year, per_year) for a, b in itertools.pairwise(edges)]

    def _arrivals(self, groups: list[tuple[list[float], GroupDraws]],
                  applicants: list[tuple[float, Client, int]]) -> None:
        """Every group's arrivals and the pools' applicants from outside, in the order they
        come; :meth:`_feed` makes their clients and schedules them a month ahead, so that
        clients who have not yet come take no memory."""
        reports: list[float] = []
        for times, _ in groups:
            at = self.env._now
            for t in times:
                at += t - at  # the time a chain of timeouts from now, one per arrival, gets to
                reports.append(at)
        who = [(gi, k, draws) for gi, (times, draws) in enumerate(groups) for k in range(len(times))]
        order = np.argsort(np.array(reports), kind="stable").tolist()
        self._coming = [(reports[i], *who[i]) for i in reversed(order)]  # the next one last
        self._applying = sorted(applicants, key=lambda a: a[0], reverse=True)
        self._feed()

    def _feed(self, _: simpy.Event | None = None) -> None:
        """Register the arrivals of the coming month (their ids are in the order they come),
        schedule their visits to the BCT (:meth:`_report`) and the applicants' processes;
        again in a month."""
        env, until, coming, origins = self.env, self.env._now + FEED_DAYS, self._coming, self._origins
        while coming and coming[-1][0] < until:
            at, gi, k, draws = coming.pop()
            segment, bw, skaeve, origin = draws.attributes
            self._report(Client(self.rec.new_client(gi, origin[k]), gi, SEGMENTS[segment[k]],
                                bw[k], skaeve[k], draws, k, origins[origin[k]]), at)
        applying = self._applying
        while applying and applying[-1][0] < until:
            at, client, i = applying.pop()
            Light(env, self._applicant(client, i)).start(env.at(at))
        if coming or applying:
            env.timeout(FEED_DAYS).callbacks.append(self._feed)

    def _direct(self, i: int) -> tuple[list[Light], list[tuple[float, Client, int]]]:
        """A pool's stock at the start of the run and its applicants from clinics and home:
        the stock recorded; the processes of the stock and of those waiting now, to be
        started; (time, client, pool) of the applicants to come."""
        pool, gi = self.pools[i], len(self.groups) + i
        name = self.group_names[gi]
        times = self._arrival_times(self._yearly(pool.direct_applicants_per_year),
                                    self.streams.get(f"arrivals/{name}"))
        n = pool.initial_occupants + pool.initial_waiting + len(times)
        if n == 0:
            return [], []
        draws = self.draws[name] = GroupDraws(self.model, self.streams, name, n, None)
        origin = draws.attributes.origin
        clients = [Client(self.rec.new_client(gi, origin[k]), gi, "single_adult", True, False,
                          draws, k, self._origins[origin[k]]) for k in range(n)]
        held = min(pool.initial_occupants, self.places[i].capacity)  # the others wait, first
        if self.model.simulation.initial_stays == "residual":  # part-way through their stays
            draws.part_way(pool_columns(i)[0], range(held), pool.stay_duration(),
                           self.streams.get(f"clients/{name}/part_way"))
        _, in_place = pool_stages(i)
        processes, now = [], self.env._now
        for client in clients[:held]:
            self.places[i].occupied += 1
            self.rec.log((client.id, now, BUITEN, in_place, NO_FACILITY, self._reason["initial"]))
            processes.append(Light(self.env, self._place_stay(client, i)))
        coming = []
        arrival = [now] * (pool.initial_occupants - held + pool.initial_waiting) + times
        for client, t in zip(clients[held:], arrival, strict=True):
            if t > now:  # at now + (t - now), as a timeout from now would get there
                coming.append((now + (t - now), client, i))
            else:
                processes.append(Light(self.env, self._applicant(client, i)))
        return processes, coming

    def _initial_shelter(self) -> list[Light]:
        """The groups' people in the shelters at the start (``groups.<g>.initial``): in a bed
        of their facility, recovering (the rest of their work, ``simulation.initial_stays``) or
        ready for a home, or waiting for a bed on their route, first in line in this order;
        who finds no bed in their facility, and who waits, takes a free bed on the route.
        Their segment is drawn among those whose route has the facility. Returns the episodes
        to start (in order: groups, then in_shelter, ready, waiting)."""
        processes = []
        for gi, (name, group) in enumerate(self.model.groups.items()):
            initial = group.initial
            if not initial.people:
                continue
            outcome = initial_outcome(group, self.model.routes)
            places = [*((f, OPVANG) for f, n in initial.in_shelter.items() for _ in range(n)),
                      *((f, KLAAR) for f, n in initial.ready.items() for _ in range(n)),
                      *((None, WACHT) for _ in range(initial.waiting))]
            draws = self.draws[f"{name}/initial"] = GroupDraws(
                self.model, self.streams, f"{name}/initial", len(places), group)
            recovering = sum(initial.in_shelter.values())
            if self.model.simulation.initial_stays == "residual":
                draws.part_way(WORK, range(recovering), group.work(),
                               self.streams.get(f"clients/{name}/initial/part_way"))
            for k, (fid, stage) in enumerate(places):
                client = self._initial_client(gi, draws, k, outcome, fid)
                key = (outcome, client.segment, self.shelters.avoided(client.v[AVOID]))
                v = client.v
                stay = Stay(key, KLAAR if stage == KLAAR else OPVANG, v[WORK], v[DEPART],
                            v[INDICATION])
                pool = self.shelters.take(fid) if fid is not None else None
                pool = pool or self.shelters.place(key)  # else a free bed on the route
                client.process = Light(self.env, self._episode(client, stay, pool, BUITEN,
                                                               self._reason[outcome]))
                processes.append(client.process)
        return processes

    def _initial_client(self, gi: int, draws: GroupDraws, k: int, outcome: str,
                        facility: str | None) -> Client:
        """The k-th of a group's people at the start, of a segment whose route has the
        facility (None: of any segment with a route)."""
        group = self.groups[gi]
        shares = initial_segments(group, self.model.routes[outcome], facility)
        cumulative = list(itertools.accumulate(shares.values()))
        segment = pick(cumulative, list(shares), float(draws.rows[k, 0, SEGMENT]))
        _, bw, skaeve, origin = draws.attributes
        return Client(self.rec.new_client(gi, origin[k]), gi, segment, bw[k], skaeve[k], draws,
                      k, self._origins[origin[k]])

    def _wait(self, client: Client, delay: float, reason: Any) -> Wake:
        """The event a component or, after ``delay`` (with ``reason``), its timer triggers."""
        wake = client.wake = Wake(self.env, delay, reason)
        return wake

    def close(self) -> None:
        """After the run: let reference counting free it (:meth:`Environment.close`; the
        channels refer back to the housing)."""
        self.env.close()
        self.housing.channels.clear()

    # --- the journey through the shelters --------------------------------------------
    # A visit to the BCT is known in advance: the report, the assessment after it and the
    # decision, drawn for the client, which does not depend on the region. So a visit that
    # sends the client away (referred, leaves) is recorded when it is scheduled, with the
    # client's return, and is no event at all; a visit that sends them to a shelter route
    # is one event, at the decision, when the episode's process starts. The log is put in
    # order of time at the end (Recorder.events).

    def _report(self, client: Client, time: float) -> None:
        """The client reports at the BCT at ``time`` (now or later): recorded, with the
        decision after the assessment (scheduled, when it is for a shelter route)."""
        rec, decided = self.rec, time + client.v[ASSESS]
        rec.log((client.id, time, BUITEN, BCT, NO_FACILITY,
                 self._reason["return" if client.episode else "arrival"]))
        outcome = self._outcomes[client.gi][int(client.v[DECISION])]
        if outcome not in NON_SHELTER_OUTCOMES:
            self.env.at(decided, (client, outcome)).callbacks.append(self._decide)
        elif decided < self.horizon:
            rec.log((client.id, decided, BCT, UIT, NO_FACILITY, self._reason[outcome]))
            self._after_exit(client, outcome, decided)

    def _decide(self, event: simpy.Event) -> None:
        """The BCT sends the client the event carries to the shelter route it carries: the
        episode's process starts."""
        client, outcome = event._value  # the value of a processed event
        client.process = Light(self.env, self._shelter(client, outcome)).start()

    def _after_exit(self, client: Client, way_out: str, time: float) -> None:
        """Back to the BCT after a drawn time from leaving at ``time`` (now or later), with
        the probability of this way out, or never."""
        ret = self._returns.get(way_out)
        v = client.v
        if ret is None or client.gi >= len(self.groups) or v[RETURN] >= ret.probability:
            return
        client.episode += 1
        back = time + exponential(ret.mean_days, v[RETURN_DELAY])
        if not client.draws.drawn(client.episode):  # drawn when the client is back, in order
            self.env.at(back, client).callbacks.append(self._return)
        elif back < self.horizon:
            client.v = client.draws.episode_row(client.k, client.episode)
            self._report(client, back)

    def _return(self, event: simpy.Event) -> None:
        """The client the event carries is back at the BCT now, with the variates of their
        next episode."""
        client: Client = event._value  # the value of a processed event
        client.v = client.draws.episode_row(client.k, client.episode)
        self._report(client, self.env._now)

    def _shelter(self, client: Client, outcome: str) -> Process:
        """A shelter episode, from the decision: a bed or a wait outside for one, the stay
        (:meth:`_shelter_stay`), and out."""
        v = client.v
        key = (outcome, client.segment, self.shelters.avoided(v[AVOID]))
        stay = Stay(key, OPVANG, v[WORK], v[DEPART], v[INDICATION])
        yield from self._episode(client, stay, self.shelters.place(key), BCT, self._reason[outcome])

    def _episode(self, client: Client, stay: Stay, pool: Pool | None, src: int,
                 reason: int) -> Process:
        """A shelter episode from its start (from stage ``src``, for ``reason``): in a bed of
        ``pool`` or, when None, waiting outside for one; the stay, and out."""
        env, rec, cid = self.env, self.rec, client.id
        bed: Pool | str
        if pool is None:
            rec.log((cid, env._now, src, WACHT, NO_FACILITY, reason))
            bed = yield from self._without_bed(client, stay)
        else:
            rec.log((cid, env._now, src, stay.stage, pool.index, reason))
            bed = pool
        way_out = bed if isinstance(bed, str) else (yield from self._shelter_stay(client, bed, stay))
        if way_out == PLACE:  # the episode goes on in a place of the entry pool
            assert self.entry_pool is not None
            way_out = yield from self._place_stay(client, self.entry_pool)
        self._after_exit(client, way_out, env._now)

    def _shelter_stay(self, client: Client, pool: Pool, stay: Stay) -> Generator[Any, Any, str]:
        """In shelter beds: recover and wait for a home, or for a place with an indication;
        returns the way out.

        The stay goes on in another bed when a cut takes the client's bed (or outside until one
        is free, :meth:`_lost_bed`), and after the nights away of intermittent use.
        """
        bed: Pool | str = pool
        while not isinstance(bed, str):
            cause = CUT  # given a bed as a cut took it
            if bed.occupied <= bed.capacity:
                try:
                    return (yield from self._in_bed(client, bed, stay))
                except simpy.Interrupt as stop:
                    cause = str(stop.cause)
                except SpellEnds:
                    cause = AWAY
            bed = yield from self._lost_bed(client, bed, stay, cause)
        return bed

    def _in_bed(self, client: Client, pool: Pool, stay: Stay) -> Generator[Any, Any, str]:
        """The stay in one bed, from where ``stay`` stands; returns the way out, or raises
        :class:`SpellEnds` when a night-shelter user's spell in the bed ends first."""
        env, rec = self.env, self.rec
        self.shelters.hold(pool, client)
        stay.enter(stay.stage, env._now, pool)
        if pool.spell_in < INF:  # intermittent use: a spell of nights in the bed, then away
            stay.spells += 1
            u = spell_uniform(client.v[SPELL], 2 * stay.spells)
            stay.spell_end = env._now + exponential(pool.spell_in, u)
            stay.spell_away = pool.spell_away  # the bed's use as it was when the client took it
        else:
            stay.spell_end = INF
        t_depart = max(stay.depart, 0.0) / stay.departure
        if stay.stage == OPVANG:
            entry = self.entry_pool if client.bw else None
            indicated = entry is not None
            t_next = max(stay.indication if indicated else stay.work / stay.speed, 0.0)
            yield from self._in_bed_until(min(t_depart, t_next), stay)
            if t_depart <= t_next:
                return self._leave_shelter(client, pool, OPVANG, "departed")
            t_depart -= t_next
            stage = pool_stages(entry)[0] if entry is not None else KLAAR
            stay.enter(stage, env._now, pool)
            rec.log((client.id, env._now, OPVANG, stage, pool.index,
                     self._reason["indicated" if indicated else "ready"]))
        if stay.stage == KLAAR:
            label = yield from self._wait_for_home(client, "shelter", t_depart, stay)
            return self._leave_shelter(client, pool, KLAAR, label)
        return (yield from self._wait_for_place(client, pool, t_depart, stay))

    def _in_bed_until(self, delay: float, stay: Stay) -> Generator[Any, Any, None]:
        """``delay`` days in the bed, unless the spell in it ends first (:class:`SpellEnds`)."""
        left = stay.spell_end - self.env._now
        if left < delay:
            yield self.env.timeout(left)
            raise SpellEnds
        yield self.env.timeout(delay)

    def _wait_for_place(self, client: Client, pool: Pool, t_depart: float,
                        stay: Stay) -> Generator[Any, Any, str]:
        """In a shelter bed, on the entry pool's waiting list (in the client's place there):
        a place, or leaving without one; returns the way out."""
        i = self.entry_pool
        assert i is not None
        wake = self._wait_in_bed(client, stay, t_depart, None)
        stay.listed = self.places[i].request(client, stay.listed)
        if (yield from self._granted(wake)) is None:
            self.places[i].leave_queue(client)
            return self._leave_shelter(client, pool, stay.stage, "departed")
        self.shelters.release(pool, client)
        self.rec.log((client.id, self.env._now, stay.stage, pool_stages(i)[1], pool.index,
                      self._reason[self.pool_names[i]]))
        return PLACE

    def _wait_in_bed(self, client: Client, stay: Stay, delay: float, reason: Any) -> Wake:
        """A wait in a bed for a component, or ``delay`` (with ``reason``), or the end of the
        spell in the bed (``away``), whichever comes first."""
        left = stay.spell_end - self.env._now
        return self._wait(client, left, AWAY) if left < delay else self._wait(client, delay, reason)

    def _granted(self, wake: Wake) -> Generator[Any, Any, Any]:
        """Wait on ``wake``; when an interrupt comes just as a component has given the client
        what they wait for, the gift wins (the client leaves the bed for it anyway)."""
        try:
            value = yield wake
        except simpy.Interrupt:
            if not wake.early:
                raise
            value = yield wake
        if value is AWAY:
            raise SpellEnds
        return value

    def _lost_bed(self, client: Client, bed: Pool, stay: Stay,
                  cause: str) -> Generator[Any, Any, Pool | str]:
        """The client leaves ``bed`` without leaving the shelter: for nights elsewhere
        (``away``), or because a cut took it, to another bed on the route or outside until one
        is free (:meth:`_without_bed`). Returns the next bed or the way out."""
        rec, now = self.rec, self.env._now
        stay.enter(stay.stage, now, None)  # the clocks stand still without a bed
        if client.queued:  # on the list of a home or a place: the place there is kept
            self._stage_lists(stay).leave_queue(client)
        self.shelters.release(bed, client)
        if cause == AWAY:
            rec.log((client.id, now, stay.stage, WEG, bed.index, self._reason[AWAY]))
            away = exponential(stay.spell_away, spell_uniform(client.v[SPELL], 2 * stay.spells + 1))
            return (yield from self._without_bed(client, stay, away))
        pool = self.shelters.place(stay.key)
        if pool is not None:
            rec.log((client.id, now, stay.stage, stay.stage, pool.index, self._reason["moved"]))
            return pool
        rec.log((client.id, now, stay.stage, WACHT, bed.index, self._reason[CUT]))
        return (yield from self._without_bed(client, stay))

    def _without_bed(self, client: Client, stay: Stay,
                     away: float = 0.0) -> Generator[Any, Any, Pool | str]:
        """Without a bed: ``away`` days elsewhere first (intermittent use), then on the route's
        list for a bed, at most the client's patience; meanwhile on the list of a home or a
        place that the stage of the stay waits for, in the client's place there. Returns the
        bed (the move logged) or the way out (logged)."""
        env, rec, cid = self.env, self.rec, client.id
        if away > 0:
            value = yield from self._wait_beside(client, stay, away, BACK, bed=False)
            if value != BACK:
                return self._served_outside(client, stay, WEG, value)
            pool = self.shelters.place(stay.key)
            if pool is not None:
                rec.log((cid, env._now, WEG, stay.stage, pool.index, self._reason["bed"]))
                return pool
            rec.log((cid, env._now, WEG, WACHT, NO_FACILITY, self._reason[BACK]))
        value = yield from self._wait_beside(client, stay, client.v[PATIENCE], None, bed=True)
        if isinstance(value, Pool):
            rec.log((cid, env._now, WACHT, stay.stage, value.index, self._reason["bed"]))
            return value
        if value is None:
            rec.log((cid, env._now, WACHT, UIT, NO_FACILITY, self._reason["gave_up"]))
            return "gave_up"
        return self._served_outside(client, stay, WACHT, value)

    def _wait_beside(self, client: Client, stay: Stay, delay: float, timeout: Any,
                     bed: bool) -> Generator[Any, Any, Any]:
        """One wait, on the list of a bed (``bed``) and on the list of the stay's stage, with
        a timer of ``delay`` (value ``timeout``); the lists that did not serve are left.
        Returns what ended the wait."""
        wake = self._wait(client, delay, timeout)
        if bed:
            self.shelters.enqueue(client, stay.key)
        listed = self._stage_lists(stay)
        if listed is not None:
            self._rejoin(client, stay)
        value = yield wake
        if bed and not isinstance(value, Pool):
            self.shelters.leave_queue(client)
        if listed is not None and (value == timeout or isinstance(value, Pool)):
            listed.leave_queue(client)
        return value

    def _stage_lists(self, stay: Stay) -> Any:
        """The component whose list the stay's stage waits on (a home, a place), or None."""
        if stay.stage == KLAAR:
            return self.housing
        if stay.stage != OPVANG and self.entry_pool is not None:
            return self.places[self.entry_pool]
        return None

    def _rejoin(self, client: Client, stay: Stay) -> None:
        """Back on the list of the stay's stage, in the client's place there."""
        if stay.stage == KLAAR:
            search = self._search(client, "shelter")
            stay.listed = self.housing.enqueue(client, search.eligibility, stay.listed)
        else:
            assert self.entry_pool is not None
            stay.listed = self.places[self.entry_pool].request(client, stay.listed)

    def _served_outside(self, client: Client, stay: Stay, src: int, value: str) -> str:
        """Given a place or a home while without a bed: into the place (``"place"``: the
        episode goes on there), or housed (the way out)."""
        env, rec = self.env, self.rec
        if value == PLACE:
            i = self.entry_pool
            assert i is not None
            rec.log((client.id, env._now, src, pool_stages(i)[1], NO_FACILITY,
                     self._reason[self.pool_names[i]]))
        else:
            rec.log((client.id, env._now, src, UIT, NO_FACILITY, self._reason[value]))
        return value

    def _search(self, client: Client, track: str) -> HomeSearch:
        """The client's home search from now (one per group, track, need, origin and period of
        the hazard rates)."""
        now = self.env._now
        key = (client.gi, track, client.skaeve, client.origin, self.housing.period(now))
        search = self._searches.get(key)
        if search is None:
            channels = (self.groups[client.gi].channels if client.gi < len(self.groups)
                        else tuple(self.model.channels))
            search = self._searches[key] = self.housing.search(channels, track, client.skaeve,
                                                               client.origin, now)
        return search

    def _wait_for_home(self, client: Client, track: str, t_depart: float,
                       stay: Stay | None = None) -> Generator[Any, Any, str]:
        """Wait on the housing lists (a shelter client in their place there); returns the
        channel label, or 'departed'. A hazard channel's clock goes on from the days the
        client has already been ready."""
        search = self._search(client, track)
        v = client.v
        waited = stay.ready_for if stay is not None else 0.0
        t_hazard = (max(exponential(search.mean_wait, v[HAZARD]) - waited, 0.0)
                    if search.mean_wait < INF else INF)
        reason = (pick(search.cumulative, search.names, v[HAZARD_PICK]) if t_hazard < t_depart
                  else "departed")
        delay = min(t_hazard, t_depart)
        wake = self._wait(client, delay, reason) if stay is None else self._wait_in_bed(
            client, stay, delay, reason)
        listed = self.housing.enqueue(client, search.eligibility,
                                      stay.listed if stay is not None else None)
        if stay is not None:
            stay.listed = listed
        label = yield from self._granted(wake)
        if client.queued or label == CUT:  # a cut took the place the client waited in
            self.housing.leave_queue(client)
        return str(label)

    def _leave_shelter(self, client: Client, pool: Pool, stage: int, reason: str) -> str:
        """Out of a shelter bed without a place: the bed freed, the move recorded; returns
        ``reason``."""
        self.shelters.release(pool, client)
        self.rec.log((client.id, self.env._now, stage, UIT, pool.index, self._reason[reason]))
        return reason

    # --- place pools ------------------------------------------------------------------

    def _applicant(self, client: Client, i: int) -> Process:
        """An applicant from outside the shelters: wait at home or in a clinic for a place."""
        waiting, in_place = pool_stages(i)
        self.rec.log((client.id, self.env._now, BUITEN, waiting, NO_FACILITY,
                      self._reason["indicated"]))
        wake = self._wait(client, INF, None)
        self.places[i].request(client)
        yield wake
        reason = self._reason[self.pool_names[i]]
        self.rec.log((client.id, self.env._now, waiting, in_place, NO_FACILITY, reason))
        yield from self._place_stay(client, i)

    def _place_stay(self, client: Client, i: int,
                    left: float | None = None) -> Generator[Any, Any, str]:
        """A stay in a place of pool ``i`` (``left``: the days left of one a cut broke off),
        then its exit: another pool, a home, or the Wlz; returns the way out."""
        env, cid, places = self.env, client.id, self.places[i]
        stay, exit_u = pool_columns(i)
        waiting, in_place = pool_stages(i)
        days = client.v[stay] if left is None else left
        started = env._now
        wake = self._wait(client, days, END)
        places.hold(client)
        how = yield wake
        if how == CUT:  # the place went: first in line for the next one (Places.trim)
            left = days - (env._now - started)
            self.rec.log((cid, env._now, in_place, waiting, NO_FACILITY, self._reason[CUT]))
            wake = self._wait(client, INF, None)
            places.request(client, -INF)
            yield wake
            self.rec.log((cid, env._now, waiting, in_place, NO_FACILITY,
                          self._reason[self.pool_names[i]]))
            return (yield from self._place_stay(client, i, left))
        if how == END:  # a transfer took the client out of the place itself
            places.vacate(client)
        transfer = self.pools[i].wlz_transfer
        if how == TRANSFER and transfer is not None and transfer.to:  # the place goes along
            j = self.pool_index[transfer.to]
            self.rec.log((cid, env._now, in_place, pool_stages(j)[1], NO_FACILITY,
                          self._reason[TRANSFER]))
            return (yield from self._place_stay(client, j))
        route = TRANSFER if how == TRANSFER else pick(*self._exits[i], client.v[exit_u])
        j = self.pool_index.get(route, i)
        if j != i:
            return (yield from self._next_pool(client, i, j, route))
        label = (yield from self._wait_for_home(client, "place", INF)) if route == AMBULANT else route
        if label != CUT and how != TRANSFER:  # a cut or a transfer took the place itself
            places.release(client)
        self.rec.log((cid, env._now, in_place, UIT, NO_FACILITY, self._reason[label]))
        return label

    def _next_pool(self, client: Client, i: int, j: int, route: str) -> Generator[Any, Any, str]:
        """On pool ``j``'s waiting list, keeping the place of pool ``i`` until a place of ``j``
        is given (or a cut takes it: then at home, in the same place on the list)."""
        env, cid = self.env, client.id
        waiting, next_place = pool_stages(j)
        self.rec.log((cid, env._now, pool_stages(i)[1], waiting, NO_FACILITY,
                      self._reason["indicated"]))
        since, holding = None, True
        while True:
            wake = self._wait(client, INF, None)
            since = self.places[j].request(client, since)
            if (yield wake) != CUT:
                break
            self.places[j].leave_queue(client)
            self.rec.log((cid, env._now, waiting, waiting, NO_FACILITY, self._reason[CUT]))
            holding = False
        if holding:
            self.places[i].release(client)
        self.rec.log((cid, env._now, waiting, next_place, NO_FACILITY, self._reason[route]))
        return (yield from self._place_stay(client, j))

    def _wlz_transfer(self, i: int) -> Process:
        """Move a share of a pool's occupants to the Wlz on one day, with their places: the
        pool's places fall by the number moved (and the receiving pool's rise by it)."""
        transfer = self.pools[i].wlz_transfer
        assert transfer is not None
        yield self.env.timeout(max(self.calendar.day(transfer.date) - self.env._now, 0.0))
        places = self.places[i]
        occupants = list(places.occupants.values())
        name = self.pool_names[i]
        chosen = self.streams.get(f"{name}/wlz_transfer").random(len(occupants)) < transfer.share
        moved = [client for client, moves in zip(occupants, chosen, strict=True) if moves]
        for client in moved:
            places.move_out(client)
        places.set_capacity(places.capacity - len(moved))
        if transfer.to:
            to = self.places[self.pool_index[transfer.to]]
            to.occupied += len(moved)
            to.set_capacity(to.capacity + len(moved))
        for client in moved:
            assert client.wake is not None
            client.wake.succeed(TRANSFER)


def _categorical(probs: dict[str, float]) -> tuple[list[float], list[str]]:
    return list(itertools.accumulate(probs.values())), list(probs)
