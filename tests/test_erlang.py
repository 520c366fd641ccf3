"""A known answer: one 24-hour facility as an M/M/c queue must match Erlang C.

One group of single adults arrives as a Poisson process (rate lambda a day) and is sent to
one facility with c places; a bed is held for an exponential time (the departure rate mu:
the group's rate times the regime's departure multiplier; recovery takes so long that
nobody becomes ready), nobody gives up or returns. The mean
wait for a bed over all placements (zero waits included) is then W_q = C(c, a) / (c mu -
lambda) with a = lambda / mu; the share of days the facility is full at midnight is
P(N >= c) = C(c, a) (Poisson arrivals see time averages, and so does a fixed clock); the
mean occupancy is a.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from simcheck import build, metric, minimal_raw

from sim.replication.replicate import run_replication

C, LAM, MU = 5, 4.0, 1.0  # places; arrivals a day; departures a day per occupant (rho = 0.8)
YEARS, WARMUP, REPLICATIONS, SEED = 4, 1, 30, 314159


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival has to wait in an M/M/c queue with offered load a."""
    rho = a / c
    assert rho < 1
    top = a**c / math.factorial(c) / (1 - rho)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def test_erlang_c_formula() -> None:
    # M/M/1: C = rho; textbook value for c = 2, a = 1: 1/3
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    # and against the Erlang B recursion: C = B / (1 - rho (1 - B))
    b = 1.0
    for k in range(1, C + 1):
        b = (LAM / MU) * b / (k + (LAM / MU) * b)
    rho = LAM / MU / C
    assert erlang_c(C, LAM / MU) == pytest.approx(b / (1 - rho * (1 - b)))


def t_interval(x: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of the t interval over replications."""
    half = stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return float(x.mean()), float(half)


@pytest.fixture(scope="module")
def replications() -> dict[str, np.ndarray]:
    raw = minimal_raw(places=C, arrivals_per_year=LAM * 365.0, end_year=2019 + YEARS - 1,
                      warmup=WARMUP)
    # the group's rate, times the 24-hour regime's departure multiplier, is mu
    raw["recovery"]["departure"]["24-uurs"] = 0.5
    raw["groups"]["g"]["departure_per_year"] = MU * 365.0 / 0.5
    model = build(raw)
    out: dict[str, list[float]] = {"wait": [], "full": [], "occupied": []}
    for r in range(REPLICATIONS):
        rep = run_replication(model, SEED, r)
        # the replication statistic: the mean over its reported years
        out["wait"].append(metric(rep, "mean_wait_for_bed_days").mean())
        out["full"].append(metric(rep, "share_of_days_full", "opvang_24uurs").mean())
        out["occupied"].append(metric(rep, "mean_occupied", "opvang_24uurs").mean())
        assert (metric(rep, "outflow", "departed") > 0).all()
        assert not (metric(rep, "outflow", "gave_up") > 0).any()
    return {k: np.array(v) for k, v in out.items()}


def test_mean_wait_for_a_bed_matches_erlang_c(replications: dict[str, np.ndarray]) -> None:
    a = LAM / MU
    expected = erlang_c(C, a) / (C * MU - LAM)  # 0.554 days
    mean, half = t_interval(replications["wait"])
    assert half < 0.15 * expected, f"interval too wide to test anything: +-{half:.3f}"
    assert abs(mean - expected) <= half, f"W_q {mean:.4f} +- {half:.4f}, Erlang C {expected:.4f}"


def test_share_of_days_full_matches_erlang_c(replications: dict[str, np.ndarray]) -> None:
    # secondary checks at 99 %, so that the three together rarely fail by chance
    expected = erlang_c(C, LAM / MU)  # 0.554
    mean, half = t_interval(replications["full"], 0.99)
    assert half < 0.05
    assert abs(mean - expected) <= half, f"P(full) {mean:.4f} +- {half:.4f}, C {expected:.4f}"


def test_mean_occupancy_is_the_offered_load(replications: dict[str, np.ndarray]) -> None:
    mean, half = t_interval(replications["occupied"], 0.99)
    assert half < 0.05 * LAM / MU
    assert abs(mean - LAM / MU) <= half, f"occupancy {mean:.3f} +- {half:.3f}, a = {LAM / MU}"
