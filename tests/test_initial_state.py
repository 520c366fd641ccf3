"""A model that starts from a known state (``groups.<g>.initial``, ``simulation.initial_stays``).

1. One queue against its exact transient: a facility with c beds, Poisson arrivals (lambda a
   day), exponential stays (the departure rate mu: nobody becomes ready) and exponential
   patience (theta: an M/M/c+M queue) started with N in beds and Q waiting. The number in the
   system is a birth-death chain; its distribution at time t is the row of ``expm(Q t)`` of the
   start state (truncated far above where any mass lies). The engine, observed at several
   times over many replications, must match it: the mean within its 95 % interval (Bonferroni
   over the times), the distribution by a chi-square test at the same level.
2. Someone part-way through a stay at the start has the rest of it drawn from the equilibrium
   residual of the stay's distribution, density (1 - F(x)) / mean: the recovery work left of
   the people in beds, the stay left of a pool's stock and of a capacity channel's homes are
   compared with it by Kolmogorov-Smirnov (computed here with scipy, independently of
   :mod:`sim.components.durations`), and with a whole stay when ``initial_stays = "full"``.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats
from scipy.linalg import expm
from simcheck import (
    Log,
    check_chains,
    check_daily_never_over,
    check_facility_column,
    check_no_idle_place,
    check_stocks_match_daily,
    counts_at,
    horizon,
    run,
    run_region,
)
from test_invariants import SETTINGS, variants

from sim.engine.log import KLAAR, UIT, Recorder, pool_stages
from sim.engine.streams import Streams
from sim.model.files import from_mapping
from sim.model.root import Model
from sim.replication.journey import Region
from sim.replication.replicate import run_replication

pytestmark = pytest.mark.slow  # thousands of replications against the exact transient

C, LAM, MU, THETA = 5, 2.0, 0.25, 0.2  # beds; arrivals, departures (per occupant) and
N0, Q0 = 5, 12  # ... giving up (per waiting client) a day; in beds and waiting at the start
TIMES = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)  # days after the start
REPLICATIONS, SEED = 2000, 4242
TRUNCATE = 80  # states of the chain: P(N(t) = 80) is below 1e-30 at every time here


def queue_model(n0: int = N0, q0: int = Q0, places: int = C) -> dict[str, Any]:
    """The M/M/c+M queue as a model file: no Haarlem table, no warm-up."""
    return {
        "simulation": {"start": dt.date(2025, 1, 1), "end_year": 2025, "warmup_years": 0},
        "facilities": {"f": {"schedule": {"2025-01-01": {"places": places}}}},
        "routes": {"shelter": {"single_adult": ["f"]}},
        "groups": {"g": {"arrivals": {"2025": LAM * 365.0}, "recovery_days": 1e9,
                         "departure_per_year": MU * 365.0, "patience_days": 1.0 / THETA,
                         "initial": {"in_shelter": {"f": n0}, "waiting": q0}}},
    }


@functools.cache
def exact(start: int, t: float) -> np.ndarray:
    """P(N(t) = n) of the birth-death chain started in ``start``."""
    q = np.zeros((TRUNCATE + 1, TRUNCATE + 1))
    for n in range(TRUNCATE + 1):
        if n < TRUNCATE:
            q[n, n + 1] = LAM
        if n > 0:
            q[n, n - 1] = min(n, C) * MU + max(n - C, 0) * THETA
        q[n, n] = -q[n].sum()
    p0 = np.zeros(TRUNCATE + 1)
    p0[start] = 1.0
    return np.clip(p0 @ expm(q * t), 0.0, None)


@pytest.fixture(scope="module")
def in_system() -> np.ndarray:
    """People in a bed or waiting for one at each of TIMES, one row per replication (the
    engine's own state: beds taken and clients on the list)."""
    model = from_mapping(queue_model(), "<queue>")
    out = np.zeros((REPLICATIONS, len(TIMES)), dtype=int)
    for r in range(REPLICATIONS):
        region = Region(model, Streams(SEED, r), Recorder())
        region.start()
        for j, t in enumerate(TIMES):
            region.env.run(until=t)
            out[r, j] = region.shelters.pools[0].occupied + region.shelters.lists.waiting
        region.close()
    return out


def test_the_start_is_the_state_given() -> None:
    rep = run_replication(from_mapping(queue_model(), "<queue>"), SEED, 0)
    day0 = rep.daily[rep.daily["day"] == 0].set_index("facility")
    assert day0.loc["f", "occupancy"] == N0
    assert day0.loc["wacht_op_bed", "queue"] == Q0
    # more people in a facility than beds: the others wait first in line
    rep = run_replication(from_mapping(queue_model(n0=C + 3, q0=0), "<queue>"), SEED, 0)
    day0 = rep.daily[rep.daily["day"] == 0].set_index("facility")
    assert day0.loc["f", "occupancy"] == C
    assert day0.loc["wacht_op_bed", "queue"] == 3


def test_mean_in_system_matches_the_exact_transient(in_system: np.ndarray) -> None:
    level = 1 - 0.05 / len(TIMES)  # 95 % for all times together
    for j, t in enumerate(TIMES):
        x = in_system[:, j]
        half = stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
        expected = float(exact(N0 + Q0, t) @ np.arange(TRUNCATE + 1))
        assert abs(x.mean() - expected) <= half, f"t={t}: {x.mean():.3f} +- {half:.3f}, exact {expected:.3f}"
        if t <= 4.0:  # the test sees the initial state: from empty, the mean is far outside
            from_empty = float(exact(0, t) @ np.arange(TRUNCATE + 1))
            assert abs(from_empty - expected) > 5 * half


def test_distribution_in_system_matches_the_exact_transient(in_system: np.ndarray) -> None:
    for j, t in enumerate(TIMES):
        p = exact(N0 + Q0, t)
        observed = np.bincount(in_system[:, j], minlength=TRUNCATE + 1)[: TRUNCATE + 1]
        expected = p * REPLICATIONS
        # merge the tails into bins of at least 5 expected
        edges = _bins(expected)
        obs = np.add.reduceat(observed, edges)
        exp = np.add.reduceat(expected, edges)
        exp *= obs.sum() / exp.sum()
        pvalue = stats.chisquare(obs, exp, ddof=0).pvalue
        assert pvalue > 0.05 / len(TIMES), f"t={t}: chi-square p = {pvalue:.2g} over {len(obs)} bins"


def _bins(expected: np.ndarray, least: float = 5.0) -> np.ndarray:
    """Start indices of bins of consecutive states with at least ``least`` expected each."""
    starts, acc = [0], 0.0
    for n, e in enumerate(expected):
        acc += e
        if acc >= least and n + 1 < len(expected):
            starts.append(n + 1)
            acc = 0.0
    if acc < least and len(starts) > 1:  # the last bin too small: join it to the one before
        starts.pop()
    return np.array(starts)


# --- the rest of a stay under way --------------------------------------------------------

PEOPLE = 3000
FAMILIES: dict[str, tuple[dict[str, Any], Any]] = {  # the model's table and scipy's distribution
    "gamma": ({"distribution": "gamma", "mean": 30.0, "shape": 3.0},
              stats.gamma(3.0, scale=10.0)),
    "exponential": ({"distribution": "exponential", "mean": 30.0}, stats.expon(scale=30.0)),
    "lognormal": ({"distribution": "lognormal", "mean": 30.0, "sd": 20.0},
                  stats.lognorm(math.sqrt(math.log1p(4 / 9)),
                                scale=30.0 * math.exp(-math.log1p(4 / 9) / 2))),
    "triangular": ({"distribution": "triangular", "low": 5.0, "mode": 20.0, "high": 60.0},
                   stats.triang(15 / 55, loc=5.0, scale=55.0)),
    "empirical": ({"distribution": "empirical", "p": [0.0, 0.5, 0.9, 1.0],
                   "days": [2.0, 20.0, 50.0, 90.0]}, None),
}


def empirical_cdf(x: np.ndarray) -> np.ndarray:
    return np.interp(x, [2.0, 20.0, 50.0, 90.0], [0.0, 0.5, 0.9, 1.0])


def cdfs(family: str) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    """The distribution function of a whole stay and of the rest of one (the equilibrium
    residual F_e(x) = integral_0^x (1 - F) / mean: the integral by the trapezoid rule on a
    fine grid, the mean by quadrature)."""
    dist = FAMILIES[family][1]
    cdf = dist.cdf if dist is not None else empirical_cdf
    top = float(dist.ppf(1 - 1e-12)) if dist is not None else 90.0
    mean = integrate.quad(lambda t: 1 - cdf(t), 0, top, limit=200)[0]
    grid = np.linspace(0.0, top, 400_001)
    table = integrate.cumulative_trapezoid(1 - cdf(grid), grid, initial=0.0) / mean
    return cdf, lambda x: np.interp(x, grid, table)


def sheltered_model(stay: dict[str, Any], initial_stays: str) -> Model:
    """PEOPLE in beds at the start, recovering, with ``stay`` as the recovery work; nobody
    arrives, leaves or is housed, so each becomes ready after the rest of their work."""
    raw = queue_model(n0=PEOPLE, q0=0, places=PEOPLE)
    group = raw["groups"]["g"]
    group.update({"arrivals": {"2025": 0.0}, "recovery": stay, "departure_per_year": 0.0})
    del group["recovery_days"]
    raw["simulation"].update({"end_year": 2030, "initial_stays": initial_stays})
    return from_mapping(raw, "<residual>")


def event_times(model: Model, src: int | None, dst: int) -> np.ndarray:
    region = Region(model, Streams(SEED, 0), Recorder())
    region.start()
    region.env.run(until=region.horizon)
    ev = region.rec.events()
    mine = (ev["dst"] == dst) & ((ev["src"] == src) if src is not None else True)
    return ev["time"][mine]


@pytest.mark.parametrize("family", list(FAMILIES))
def test_people_in_beds_at_the_start_have_the_residual_of_their_work(family: str) -> None:
    cdf, residual = cdfs(family)
    ready = event_times(sheltered_model(FAMILIES[family][0], "residual"), None, KLAAR)
    assert len(ready) == PEOPLE
    assert stats.kstest(ready, residual).pvalue > 0.01
    if family != "exponential":  # memoryless: the rest of a stay is a whole one
        assert stats.kstest(ready, cdf).pvalue < 1e-6, "the residual is not a whole stay"
    whole = event_times(sheltered_model(FAMILIES[family][0], "full"), None, KLAAR)
    assert stats.kstest(whole, cdf).pvalue > 0.01


def pool_model(stay: dict[str, Any]) -> Model:
    """A place pool with PEOPLE in its places at the start and no way in: each leaves (to the
    Wlz) after the rest of their stay."""
    raw = queue_model(n0=0, q0=0)
    raw["groups"]["g"]["arrivals"] = {"2025": 0.0}
    raw["simulation"]["end_year"] = 2030
    raw["places"] = {"p": {"label": "p", "schedule": {"2025-01-01": PEOPLE}, "exit": {"wlz": 1.0},
                           "stay": stay, "initial_occupants": PEOPLE}}
    return from_mapping(raw, "<pool>")


@pytest.mark.parametrize("family", ["gamma", "triangular", "empirical"])
def test_a_pools_stock_at_the_start_has_the_residual_of_its_stays(family: str) -> None:
    _, residual = cdfs(family)
    left = event_times(pool_model(FAMILIES[family][0]), pool_stages(0)[1], UIT)
    assert len(left) == PEOPLE
    assert stats.kstest(left, residual).pvalue > 0.01


def test_homes_lived_in_at_the_start_come_free_after_the_rest_of_a_stay() -> None:
    """A capacity channel whose homes are all lived in when the run starts, and a queue of
    people ready for a home: each home goes to the queue when its stay ends."""
    _, residual = cdfs("triangular")
    raw = queue_model(n0=0, q0=0, places=PEOPLE)
    group = raw["groups"]["g"]
    group.update({"arrivals": {"2025": 0.0}, "channels": ["homes"], "departure_per_year": 0.0,
                  "initial": {"ready": {"f": PEOPLE}}})
    raw["simulation"]["end_year"] = 2030
    raw["channels"] = {"homes": {"kind": "capacity", "tracks": ["shelter"], "homes": 1000,
                                 "initial_occupants": 1000, "stay": FAMILIES["triangular"][0]}}
    housed = event_times(from_mapping(raw, "<homes>"), KLAAR, UIT)
    assert housed.min() > 0.0  # no home was free at the start
    # a stay is at least 5 days (the triangular's low): the homes housing someone in the first
    # 5 days are homes lived in at the start, freed after the rest of their stays
    early = housed[housed < 5.0]
    assert len(early) > 100
    assert stats.kstest(early, lambda x: residual(x) / residual(np.array([5.0]))[0]).pvalue > 0.01


# --- the independent checks of the event log, from a known state --------------------------


@settings(SETTINGS, max_examples=12)
@given(variants(), st.data())
def test_the_log_and_the_counters_agree_from_a_known_state(case: Any, data: st.DataObject) -> None:
    """Variants of the Haarlem model (tests/test_invariants.py) with people in beds, ready
    and waiting at the start: unbroken chains of legal moves, one bed at a time, the daily
    stocks recomputed from the log, capacity never exceeded, nobody waiting while a bed on
    their route is free, and the engine's counters equal the log's at the end."""
    raw, seed = case
    raw["simulation"]["initial_stays"] = data.draw(st.sampled_from(["residual", "full"]))
    for name in ("wmo", "vrouwenopvang"):
        group = raw["groups"][name]
        facility = {"wmo": "gezinsopvang" if group["family_share"] > 0 else "wilhelminastraat",
                    "vrouwenopvang": "vrouwenopvang"}[name]
        group["initial"] = {"in_shelter": {facility: data.draw(st.integers(0, 40))},
                            "ready": {facility: data.draw(st.integers(0, 10))},
                            "waiting": data.draw(st.integers(0, 60))}
    model, rep = run(raw, seed)
    assert rep.events is not None
    log = Log(rep.events)
    check_chains(log)
    check_facility_column(log)
    names = [f.name for f in model.facilities.values()]
    assert check_stocks_match_daily(log, rep.daily, names) >= 0.9 * rep.daily["day"].nunique()
    check_daily_never_over(model, rep.daily)
    region, events = run_region(model, seed, probe=check_no_idle_place)
    log = Log(events)
    end = np.array([horizon(model)])
    in_bed = np.isin(log.dst, log.shelter) & (log.facility != "")
    for pool in region.shelters.pools:
        assert pool.occupied == counts_at(log, in_bed & (log.facility == pool.name), end)[0]
    assert region.shelters.lists.waiting == counts_at(log, log.dst == "wacht_op_bed", end)[0]
