"""The client journey: arrivals, BCT decision, shelter, BW and outflow, as SimPy processes.

Each client episode is one process. A client waits on a single ``wake`` event that either a
personal timer (patience, departure, a hazard channel, a BW stay) or a component (a freed
bed, a BW place, a home: the component succeeds it, see :mod:`sim.queues`) triggers,
whichever comes first.

Personal variates come from the client's own row of its group's draws
(:class:`sim.variates.GroupDraws`): the k-th arrival of a group gets the same row in every
scenario of an experiment.
"""

from __future__ import annotations

import itertools
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from sim.calendar import Calendar
from sim.client import (
    ASSESS,
    BESCHUT_EXIT,
    BESCHUT_STAY,
    BW_EXIT,
    BW_STAY,
    DECISION,
    DEPART,
    HAZARD,
    HAZARD_PICK,
    INDICATION,
    INF,
    PATIENCE,
    RETURN,
    RETURN_DELAY,
    SEGMENTS,
    WORK,
    Client,
    exponential,
    pick,
)
from sim.housing import HomeSearch, Housing
from sim.model import NON_SHELTER_OUTCOMES, Model
from sim.places import Places
from sim.recording import NO_FACILITY, STAGE, Recorder
from sim.shelters import Pool, Shelters
from sim.streams import Streams
from sim.variates import GroupDraws

BW_DIRECT = "bw_direct"  # pseudo-group of BW applicants who do not come through the shelters

BUITEN, BCT, WACHT, OPVANG, KLAAR, BW_WACHT, BW, BESCHUT, UIT = (
    STAGE[s] for s in ("buiten", "bct", "wacht_op_bed", "opvang", "klaar", "bw_wachtlijst",
                       "bw", "beschut", "uitstroom"))


class Region:
    """All components and client processes of one replication."""

    def __init__(self, model: Model, streams: Streams, recorder: Recorder) -> None:
        self.model = model
        self.streams = streams
        self.rec = recorder
        sim = model.simulation
        self.calendar = Calendar(sim.start)
        self.first_year = sim.start.year - sim.warmup_years
        self.env = simpy.Environment(initial_time=self.calendar.year_start(self.first_year))
        self.horizon = self.calendar.year_start(sim.end_year + 1)
        self.shelters = Shelters(self.env, self.calendar, model.facilities, model.routes,
                                 model.recovery, model.winter)
        self.housing = Housing(self.env, self.calendar, model.channels, recorder)
        self.bw = Places(self.env, model.bw.vacancy_days)
        self.beschut = Places(self.env, model.bw.vacancy_days)
        self.groups = list(model.groups.values())
        self.bw_direct = len(self.groups)  # group index of direct BW applicants
        self.bw_occupants: dict[int, Client] = {}
        self.draws: dict[str, GroupDraws] = {}  # personal variates per group, for inspection
        self._outcomes = [list(g.decision) for g in self.groups]
        self._bw_exit = _categorical(model.bw.exit)
        self._beschut_exit = _categorical(model.bw.beschut_exit)
        self._searches: dict[tuple[int, str, bool], HomeSearch] = {}
        self._reason = recorder.reasons
        self._returns = dict(model.returns)  # by way out; a channel's parts share its entry
        for name, channel in model.channels.items():
            for part in channel.homes_per_year:
                if name in model.returns:
                    self._returns[f"{name}/{part}"] = model.returns[name]

    # --- set-up ---------------------------------------------------------------------

    def start(self) -> None:
        """Start every process: capacity schedules first, so that a dated capacity change
        takes effect before other events of the same day."""
        self.shelters.start(self.first_year, self.model.simulation.end_year)
        self.bw.start(self.calendar, self.model.bw.places)
        self.beschut.start(self.calendar, self.model.bw.beschut_places)
        self.housing.start(self.streams, self.horizon)
        if self.model.bw.wlz_transfer is not None:
            self.env.process(self._wlz_transfer())
        for gi, (name, group) in enumerate(self.model.groups.items()):
            rate = {int(y): r * group.first_report_share for y, r in group.arrivals.items()}
            times = self._arrival_times(rate, group.trend_per_year,
                                        self.streams.get(f"arrivals/{name}"))
            draws = self.draws[name] = GroupDraws(self.model, self.streams, name, len(times), group)
            self.env.process(self._arrivals(gi, times, draws))
        self._start_bw_direct()

    def _arrival_times(self, table: dict[int, float], trend: float,
                       rng: np.random.Generator) -> list[float]:
        """Poisson arrivals with a rate a year that is constant within each calendar year.

        Years before the table take its first rate; years after it its last, changed by
        ``trend`` a year.
        """
        first, last = min(table), max(table)
        times = []
        for year in range(self.first_year, self.model.simulation.end_year + 1):
            if year in table:
                rate = table[year]
            elif year < first:
                rate = table[first]
            else:
                rate = table[last] * (1 + trend) ** (year - last)
            a, b = self.calendar.year_start(year), self.calendar.year_start(year + 1)
            n = rng.poisson(rate * (b - a) / 365.0)
            times.append(a + np.sort(rng.random(n)) * (b - a))
        return np.concatenate(times).tolist()

    def _arrivals(self, gi: int, times: list[float],
                  draws: GroupDraws) -> Generator[Any, Any, None]:
        env, new_client = self.env, self.rec.new_client
        segment, bw, skaeve, origin = draws.attributes
        for k, t in enumerate(times):
            yield env.timeout(t - env.now)
            cid = new_client(gi, origin[k])
            client = Client(cid, gi, SEGMENTS[segment[k]], bw[k], skaeve[k], draws, k)
            env.process(self._episode(client))

    def _start_bw_direct(self) -> None:
        """BW applicants from clinics and home, and the BW stocks at the start of the run."""
        bw = self.model.bw
        times = self._arrival_times({self.first_year: bw.direct_applicants_per_year}, 0.0,
                                    self.streams.get(f"arrivals/{BW_DIRECT}"))
        n_initial = bw.initial_occupants + bw.initial_beschut
        draws = self.draws[BW_DIRECT] = GroupDraws(self.model, self.streams, BW_DIRECT,
                           n_initial + bw.initial_waiting + len(times), None)
        clients = [self._new_bw_client(draws, k) for k in range(draws.rows.shape[0])]
        for client in clients[: bw.initial_occupants]:
            self.bw.occupied += 1
            self.rec.log((client.id, self.env.now, BUITEN, BW, NO_FACILITY, self._reason["initial"]))
            self.env.process(self._bw_stay(client))
        for client in clients[bw.initial_occupants: n_initial]:
            self.beschut.occupied += 1
            self.rec.log((client.id, self.env.now, BUITEN, BESCHUT, NO_FACILITY,
                         self._reason["initial"]))
            self.env.process(self._beschut_stay(client))
        arrival = [self.env.now] * bw.initial_waiting + times
        for client, t in zip(clients[n_initial:], arrival, strict=True):
            self.env.process(self._bw_applicant(client, t))

    def _new_bw_client(self, draws: GroupDraws, k: int) -> Client:
        origin = draws.attributes[3][k]
        cid = self.rec.new_client(self.bw_direct, origin)
        return Client(cid, self.bw_direct, "single_adult", True, False, draws, k)

    def _wait(self, client: Client, delay: float, reason: Any) -> simpy.Event:
        """An event that a component or, after ``delay``, a timer will trigger."""
        wake = client.wake = self.env.event()
        if delay < INF:
            def ring(_: simpy.Event) -> None:
                if not wake.triggered:
                    wake.succeed(reason)

            self.env.timeout(delay).callbacks.append(ring)
        return wake

    # --- the journey ---------------------------------------------------------------

    def _episode(self, client: Client, delay: float = 0.0) -> Generator[Any, Any, None]:
        """One episode: BCT, shelter, and out (to housing, BW or without housing)."""
        env, rec, cid = self.env, self.rec, client.id
        if delay:
            yield env.timeout(delay)
            client.v = client.draws.episode_row(client.k, client.episode)
        v = client.v
        rec.log((cid, env.now, BUITEN, BCT, NO_FACILITY,
                self._reason["return" if client.episode else "arrival"]))
        yield env.timeout(v[ASSESS])
        outcome = self._outcomes[client.gi][int(v[DECISION])]
        if outcome in NON_SHELTER_OUTCOMES:
            rec.log((cid, env.now, BCT, UIT, NO_FACILITY, self._reason[outcome]))
            self._after_exit(client, outcome)
            return
        key = (outcome, client.segment)
        pool = self.shelters.place(key)
        if pool is None:
            rec.log((cid, env.now, BCT, WACHT, NO_FACILITY, self._reason[outcome]))
            wake = self._wait(client, v[PATIENCE], None)
            self.shelters.enqueue(client, key)
            pool = yield wake
            if pool is None:
                self.shelters.leave_queue(client)
                rec.log((cid, env.now, WACHT, UIT, NO_FACILITY, self._reason["gave_up"]))
                self._after_exit(client, "gave_up")
                return
            rec.log((cid, env.now, WACHT, OPVANG, pool.index, self._reason["bed"]))
        else:
            rec.log((cid, env.now, BCT, OPVANG, pool.index, self._reason[outcome]))
        t_depart = v[DEPART] / pool.departure
        if client.bw:
            yield from self._shelter_bw_track(client, pool, t_depart)
            return
        t_ready = v[WORK] / pool.speed
        if t_depart <= t_ready:
            yield env.timeout(t_depart)
            self._leave_shelter(client, pool, OPVANG, "departed")
            return
        yield env.timeout(t_ready)
        rec.log((cid, env.now, OPVANG, KLAAR, pool.index, self._reason["ready"]))
        label = yield from self._wait_for_home(client, "shelter", t_depart - t_ready)
        self._leave_shelter(client, pool, KLAAR, label)

    def _shelter_bw_track(self, client: Client, pool: Pool,
                          t_depart: float) -> Generator[Any, Any, None]:
        """In shelter with a BW indication: wait for a BW place while holding the bed."""
        env = self.env
        t_indication = client.v[INDICATION]
        if t_depart <= t_indication:
            yield env.timeout(t_depart)
            self._leave_shelter(client, pool, OPVANG, "departed")
            return
        yield env.timeout(t_indication)
        self.rec.log((client.id, env.now, OPVANG, BW_WACHT, pool.index, self._reason["indicated"]))
        wake = self._wait(client, t_depart - t_indication, None)
        self.bw.request(client)
        if (yield wake) is None:
            self.bw.leave_queue(client)
            self._leave_shelter(client, pool, BW_WACHT, "departed")
            return
        self.shelters.release(pool)
        self.rec.log((client.id, env.now, BW_WACHT, BW, pool.index, self._reason["bw"]))
        yield from self._bw_stay(client)

    def _wait_for_home(self, client: Client, track: str,
                       t_depart: float) -> Generator[Any, Any, str]:
        """Wait in the housing queue; returns the channel label, or 'departed'."""
        key = (client.gi, track, client.skaeve)
        search = self._searches.get(key)
        if search is None:
            channels = (self.groups[client.gi].channels if client.gi < len(self.groups)
                        else tuple(self.model.channels))
            search = self._searches[key] = self.housing.search(channels, track, client.skaeve)
        v = client.v
        t_hazard = exponential(search.mean_wait, v[HAZARD]) if search.mean_wait < INF else INF
        reason = (pick(search.cumulative, search.names, v[HAZARD_PICK]) if t_hazard < t_depart
                  else "departed")
        wake = self._wait(client, min(t_hazard, t_depart), reason)
        self.housing.enqueue(client, search.eligibility)
        label = yield wake
        if client.queued:
            self.housing.leave_queue(client)
        return str(label)

    def _leave_shelter(self, client: Client, pool: Pool, stage: int, reason: str) -> None:
        self.shelters.release(pool)
        self.rec.log((client.id, self.env.now, stage, UIT, pool.index, self._reason[reason]))
        self._after_exit(client, reason)

    def _after_exit(self, client: Client, reason: str) -> None:
        """Schedule a return to the BCT, with the probability of this way out."""
        ret = self._returns.get(reason)
        v = client.v
        if ret is not None and client.gi != self.bw_direct and v[RETURN] < ret.probability:
            client.episode += 1
            self.env.process(self._episode(client, exponential(ret.mean_days, v[RETURN_DELAY])))

    # --- beschermd wonen -------------------------------------------------------------

    def _bw_applicant(self, client: Client, t: float) -> Generator[Any, Any, None]:
        """A BW applicant from outside the shelters: wait at home or in a clinic."""
        if t > self.env.now:
            yield self.env.timeout(t - self.env.now)
        self.rec.log((client.id, self.env.now, BUITEN, BW_WACHT, NO_FACILITY,
                     self._reason["indicated"]))
        wake = self._wait(client, INF, None)
        self.bw.request(client)
        yield wake
        self.rec.log((client.id, self.env.now, BW_WACHT, BW, NO_FACILITY, self._reason["bw"]))
        yield from self._bw_stay(client)

    def _bw_stay(self, client: Client) -> Generator[Any, Any, None]:
        """A BW stay, then Wlz, beschut wonen, or a home with ambulant support."""
        env, rec, cid, v = self.env, self.rec, client.id, client.v
        wake = self._wait(client, v[BW_STAY], "end")
        self.bw_occupants[cid] = client
        how = yield wake
        del self.bw_occupants[cid]
        route = "wlz_transfer" if how == "wlz_transfer" else pick(*self._bw_exit, v[BW_EXIT])
        if route in ("wlz", "wlz_transfer"):
            self.bw.release()
            rec.log((cid, env.now, BW, UIT, NO_FACILITY, self._reason[route]))
            return
        if route == "beschut_wonen":
            wake = self._wait(client, INF, None)
            self.beschut.request(client)
            yield wake
            self.bw.release()
            rec.log((cid, env.now, BW, BESCHUT, NO_FACILITY, self._reason["beschut_wonen"]))
            yield from self._beschut_stay(client)
            return
        label = yield from self._wait_for_home(client, "bw", INF)
        self.bw.release()
        rec.log((cid, env.now, BW, UIT, NO_FACILITY, self._reason[label]))
        self._after_exit(client, label)

    def _beschut_stay(self, client: Client) -> Generator[Any, Any, None]:
        """A beschut-wonen stay, then Wlz or a home with ambulant support."""
        env, v = self.env, client.v
        yield env.timeout(v[BESCHUT_STAY])
        if pick(*self._beschut_exit, v[BESCHUT_EXIT]) == "wlz":
            label = "wlz"
        else:
            label = yield from self._wait_for_home(client, "bw", INF)
        self.beschut.release()
        self.rec.log((client.id, env.now, BESCHUT, UIT, NO_FACILITY, self._reason[label]))
        self._after_exit(client, label)

    def _wlz_transfer(self) -> Generator[Any, Any, None]:
        """Move a share of the BW occupants to the Wlz on one day (after its capacity change)."""
        transfer = self.model.bw.wlz_transfer
        assert transfer is not None
        yield self.env.timeout(max(self.calendar.day(transfer.date) - self.env.now, 0.0))
        occupants = list(self.bw_occupants.values())
        chosen = self.streams.get("bw/wlz_transfer").random(len(occupants)) < transfer.share
        for client, moves in zip(occupants, chosen, strict=True):
            if moves:
                assert client.wake is not None
                client.wake.succeed("wlz_transfer")


def _categorical(probs: dict[str, float]) -> tuple[list[float], list[str]]:
    return list(itertools.accumulate(probs.values())), list(probs)
