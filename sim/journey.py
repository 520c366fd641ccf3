"""The client journey: arrivals, BCT decision, shelter, BW and outflow, as SimPy processes.

Each client episode is one process. A client waits on a single ``wake`` event that either a
personal timer (patience, departure, a hazard channel, a BW stay) or another component (a
freed bed, a BW place, a home) triggers, whichever comes first.

Personal variates come from the client's own row of its group's draws (:class:`GroupDraws`):
the k-th arrival of a group gets the same row in every scenario of an experiment.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from sim.calendar import Calendar
from sim.housing import Eligibility, Housing
from sim.model import NON_SHELTER_OUTCOMES, SEGMENTS, Group, Model
from sim.places import Places
from sim.recording import NO_FACILITY, STAGE, Recorder
from sim.shelters import Pool, Shelters
from sim.streams import Streams, gamma_rows, uniform_rows

# Columns of a client's personal variates (uniforms unless said otherwise).
(SEGMENT, ORIGIN, DECISION, ASSESS, PATIENCE, WORK, DEPART, BW_FLAG, SKAEVE, INDICATION,
 HAZARD, HAZARD_PICK, BW_STAY, BW_EXIT, RETURN, RETURN_DELAY, BESCHUT_STAY, BESCHUT_EXIT,
 HOME_STAY) = range(19)
N_VARIATES = 19
EPISODES = 4  # episodes per client drawn up front; later ones use an overflow stream
BW_DIRECT = "bw_direct"  # pseudo-group of BW applicants who do not come through the shelters

BUITEN, BCT, WACHT, OPVANG, KLAAR, BW_WACHT, BW, BESCHUT, UIT = (
    STAGE[s] for s in ("buiten", "bct", "wacht_op_bed", "opvang", "klaar", "bw_wachtlijst",
                       "bw", "beschut", "uitstroom"))
INF = math.inf


def exponential(mean: float, u: float) -> float:
    """Inverse CDF of the exponential distribution."""
    return -mean * math.log1p(-u)


def pick(cumulative: list[float], names: list[str], u: float) -> str:
    """Inverse CDF of a categorical distribution."""
    return names[min(bisect.bisect_right(cumulative, u), len(names) - 1)]


class Client:
    """A person (or household) at run time."""

    __slots__ = ("bw", "draws", "episode", "gi", "id", "k", "pool", "queued", "segment",
                 "since", "skaeve", "v", "wake")

    def __init__(self, cid: int, gi: int, segment: str, bw: bool, skaeve: bool,
                 draws: GroupDraws, k: int) -> None:
        self.id = cid
        self.gi = gi
        self.segment = segment
        self.bw = bw
        self.skaeve = skaeve
        self.draws = draws
        self.k = k  # this client's row in its group's draws
        self.episode = 0
        self.v: list[float] = draws.episode_row(k, 0)
        self.pool: Pool | None = None
        self.queued = False
        self.since = 0.0
        self.wake: simpy.Event | None = None


class GroupDraws:
    """The personal variates of every client of one group, drawn in fixed-size chunks.

    Uniforms come from the stream ``clients/<group>``; the gamma-distributed recovery work
    and BW stay from streams of their own, so that row k is the same whatever the number
    of clients. Columns whose distribution is known at set-up are turned into natural
    units here, in numpy (times in days, the decision as an outcome index); the others stay
    uniforms and are transformed where the context is known.
    """

    def __init__(self, model: Model, streams: Streams, name: str, n: int,
                 group: Group | None) -> None:
        self.model = model
        self.group = group
        recovery = (group.recovery_days, group.recovery_shape) if group else (1.0, 1.0)
        self.gammas = ((WORK, "work", *recovery),
                       (BW_STAY, "bw_stay", model.bw.stay_days, model.bw.stay_shape))
        rows = uniform_rows(streams.get(f"clients/{name}"), n, (EPISODES, N_VARIATES))
        for col, label, mean, shape in self.gammas:
            rng = streams.get(f"clients/{name}/{label}")
            rows[..., col] = gamma_rows(rng, n, (EPISODES,), shape) * (mean / shape)
        self.attributes = self._attributes(rows[:, 0])
        self._transform(rows)
        self.rows = rows
        self.first: list[list[float]] = rows[:, 0].tolist()
        self.overflow = streams.get(f"clients/{name}/overflow")

    def _attributes(self, u: np.ndarray) -> tuple[list[int], list[bool], list[bool], list[int]]:
        """Segment index, BW indication, Skaeve Huse need and origin index of each client."""
        g = self.group
        origin_cum = np.cumsum(list(self.model.origin.values()))
        origin = np.minimum(np.searchsorted(origin_cum, u[:, ORIGIN], side="right"),
                            len(origin_cum) - 1)
        if g is None:
            n = len(u)
            return [0] * n, [True] * n, [False] * n, origin.tolist()
        segment = np.where(u[:, SEGMENT] < g.family_share, SEGMENTS.index("family"),
                           np.where(u[:, SEGMENT] < g.family_share + g.youth_share,
                                    SEGMENTS.index("youth"), SEGMENTS.index("single_adult")))
        return (segment.tolist(), (u[:, BW_FLAG] < g.bw_indication_share).tolist(),
                (u[:, SKAEVE] < g.skaeve_share).tolist(), origin.tolist())

    def _transform(self, rows: np.ndarray) -> None:
        """Uniforms to natural units for the columns known at set-up (in place)."""
        bw = self.model.bw
        means = [(INDICATION, bw.indication_days), (BESCHUT_STAY, bw.beschut_stay_days)]
        g = self.group
        if g is not None:
            means += [(ASSESS, g.assessment_days), (PATIENCE, g.patience_days),
                      (DEPART, 365.0 / g.departure_per_year if g.departure_per_year > 0
                       else np.inf)]
            cumulative = np.cumsum(list(g.decision.values()))
            rows[..., DECISION] = np.minimum(
                np.searchsorted(cumulative, rows[..., DECISION], side="right"),
                len(cumulative) - 1)
        with np.errstate(over="ignore"):  # a huge mean gives inf: never
            for col, mean in means:
                rows[..., col] = -mean * np.log1p(-rows[..., col])

    def episode_row(self, k: int, episode: int) -> list[float]:
        """Variates of episode ``episode`` of the k-th client of this group."""
        if episode == 0:
            return self.first[k]
        if episode < EPISODES:
            return self.rows[k, episode].tolist()
        row = self.overflow.random((1, N_VARIATES))
        for col, _, mean, shape in self.gammas:
            row[0, col] = self.overflow.standard_gamma(shape) * (mean / shape)
        self._transform(row)
        return row[0].tolist()


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
        self.shelters = Shelters(self.env, model, self.calendar, self._bed_found)
        self.housing = Housing(self.env, model, self.calendar, recorder, self._home_found)
        self.bw = Places(self.env, self._place_found, model.bw.vacancy_days)
        self.beschut = Places(self.env, self._place_found, model.bw.vacancy_days)
        self.groups = list(model.groups.values())
        self.bw_direct = len(self.groups)  # group index of direct BW applicants
        self.bw_occupants: dict[int, Client] = {}
        self.draws: dict[str, GroupDraws] = {}  # personal variates per group, for inspection
        self._outcomes = [list(g.decision) for g in self.groups]
        self._bw_exit = _categorical(model.bw.exit)
        self._beschut_exit = _categorical(model.bw.beschut_exit)
        self._eligibility: dict[tuple[int, str, bool], HomeSearch] = {}
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

    # --- callbacks from components -------------------------------------------------------

    def _wait(self, client: Client, delay: float, reason: Any) -> simpy.Event:
        """An event that a component or, after ``delay``, a timer will trigger."""
        wake = client.wake = self.env.event()
        if delay < INF:
            def ring(_: simpy.Event) -> None:
                if not wake.triggered:
                    wake.succeed(reason)

            self.env.timeout(delay).callbacks.append(ring)
        return wake

    def _bed_found(self, client: Client, pool: Pool) -> None:
        assert client.wake is not None
        client.wake.succeed(pool)

    def _place_found(self, client: Client) -> None:
        assert client.wake is not None
        client.wake.succeed("place")

    def _home_found(self, client: Client, label: str) -> None:
        assert client.wake is not None
        channel = self.model.channels[label.split("/")[0]]
        if channel.kind == "capacity":
            timer = self.env.timeout(exponential(channel.stay_days, client.v[HOME_STAY]))
            timer.callbacks.append(lambda _: self.housing.free_home(label))
        client.wake.succeed(label)

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
            client.since = env.now
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
        client.pool = pool
        t_depart = v[DEPART] / pool.departure
        if client.bw:
            yield from self._shelter_bw_track(client, pool, t_depart)
            return
        t_ready = v[WORK] / pool.speed
        if t_depart <= t_ready:
            yield env.timeout(t_depart)
            self._leave_shelter(client, OPVANG, "departed")
            return
        yield env.timeout(t_ready)
        rec.log((cid, env.now, OPVANG, KLAAR, pool.index, self._reason["ready"]))
        label = yield from self._wait_for_home(client, "shelter", t_depart - t_ready)
        self._leave_shelter(client, KLAAR, label)

    def _shelter_bw_track(self, client: Client, pool: Pool,
                          t_depart: float) -> Generator[Any, Any, None]:
        """In shelter with a BW indication: wait for a BW place while holding the bed."""
        env = self.env
        t_indication = client.v[INDICATION]
        if t_depart <= t_indication:
            yield env.timeout(t_depart)
            self._leave_shelter(client, OPVANG, "departed")
            return
        yield env.timeout(t_indication)
        self.rec.log((client.id, env.now, OPVANG, BW_WACHT, pool.index, self._reason["indicated"]))
        wake = self._wait(client, t_depart - t_indication, None)
        self.bw.request(client)
        if (yield wake) is None:
            self.bw.leave_queue(client)
            self._leave_shelter(client, BW_WACHT, "departed")
            return
        client.pool = None
        self.shelters.release(pool)
        self.rec.log((client.id, env.now, BW_WACHT, BW, pool.index, self._reason["bw"]))
        yield from self._bw_stay(client)

    def _wait_for_home(self, client: Client, track: str,
                       t_depart: float) -> Generator[Any, Any, str]:
        """Wait in the housing queue; returns the channel label, or 'departed'."""
        key = (client.gi, track, client.skaeve)
        search = self._eligibility.get(key)
        if search is None:
            channels = (self.groups[client.gi].channels if client.gi < len(self.groups)
                        else tuple(self.model.channels))
            search = self._eligibility[key] = HomeSearch(
                self.housing.eligibility(channels, track, client.skaeve),
                self.housing.hazard_rates(channels, track, client.skaeve))
        v = client.v
        t_hazard = exponential(search.mean_wait, v[HAZARD]) if search.mean_wait < INF else INF
        reason = (pick(search.cumulative, search.names, v[HAZARD_PICK]) if t_hazard < t_depart
                  else "departed")
        wake = self._wait(client, min(t_hazard, t_depart), reason)
        client.since = self.env.now
        self.housing.enqueue(client, search.eligibility)
        label = yield wake
        if client.queued:
            self.housing.leave_queue(client)
        return str(label)

    def _leave_shelter(self, client: Client, stage: int, reason: str) -> None:
        pool = client.pool
        assert pool is not None
        client.pool = None
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


class HomeSearch:
    """What a client of one group and track may get: queue-served channels and hazards."""

    def __init__(self, eligibility: Eligibility, hazards: list[tuple[str, float]]) -> None:
        self.eligibility = eligibility
        total = sum(rate for _, rate in hazards)
        self.mean_wait = 1.0 / total if total > 0 else INF  # until the first hazard channel
        self.cumulative = list(itertools.accumulate(rate / total for _, rate in hazards)) if total > 0 else []
        self.names = [name for name, _ in hazards]


def _categorical(probs: dict[str, float]) -> tuple[list[float], list[str]]:
    return list(itertools.accumulate(probs.values())), list(probs)
