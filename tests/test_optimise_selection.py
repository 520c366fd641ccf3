"""The KN selection procedure on synthetic normal problems with a known best (no simulation).

500 macro-replications each: the probability of correct selection in the slippage
configuration (the best exactly delta better than nine others, common random numbers) must not
be below 1 - alpha beyond its binomial 95 % interval; likewise the probability of a good
selection (within delta of the best) with several candidates inside the zone.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.study.optimise.selection import constants, kn_select

MACRO = 500
ALPHA = 0.05
DELTA = 0.5


def _problem(means: np.ndarray, rho: float, seed: int):
    """Normal outputs with unit variance; replication r shares a common term (CRN) across
    candidates with correlation ``rho``. Returns (first stage, more)."""
    rng = np.random.default_rng(seed)
    k = len(means)

    def rows(n: int) -> np.ndarray:
        common = rng.standard_normal((n, 1))
        own = rng.standard_normal((n, k))
        return means + np.sqrt(rho) * common + np.sqrt(1 - rho) * own

    block = rows(2000)

    def more(columns: list[int], start: int, stop: int) -> np.ndarray:
        return block[start:stop][:, columns]

    return block[:10], more


def _upper(successes: int, n: int) -> float:
    """The upper end of the exact (Clopper-Pearson) 95 % interval of a proportion."""
    return 1.0 if successes == n else float(stats.beta.ppf(0.975, successes + 1, n - successes))


@pytest.mark.parametrize("rho", [0.0, 0.7])
def test_probability_of_correct_selection_in_the_slippage_configuration(rho: float) -> None:
    means = np.zeros(10)
    means[3] = -DELTA  # minimising: candidate 3 is best by exactly delta
    correct = 0
    for seed in range(MACRO):
        first, more = _problem(means, rho, seed)
        result = kn_select(first, more, delta=DELTA, alpha=ALPHA, max_replications=2000, batch=7)
        assert not result.truncated
        correct += result.selected == 3
    pcs = correct / MACRO
    print(f"rho {rho}: PCS {pcs:.3f} over {MACRO} macro-replications")
    assert _upper(correct, MACRO) >= 1 - ALPHA


def test_probability_of_good_selection_with_several_inside_the_zone() -> None:
    means = np.array([0.0, 0.1, 0.3, 0.45, 0.6, 0.8, 1.0, 1.2])  # minimising: 0 best; 0.1-0.45 good
    good = 0
    for seed in range(MACRO):
        first, more = _problem(means, 0.5, 10_000 + seed)
        result = kn_select(first, more, delta=DELTA, alpha=ALPHA, max_replications=2000, batch=5)
        good += means[result.selected] - means.min() < DELTA
    print(f"PGS {good / MACRO:.3f} over {MACRO} macro-replications")
    assert _upper(good, MACRO) >= 1 - ALPHA


def test_batches_give_the_decisions_of_one_at_a_time() -> None:
    means = np.array([0.0, 0.2, 0.3, 0.9])
    for seed in range(20):
        first, more = _problem(means, 0.3, seed)
        one = kn_select(first, more, delta=DELTA, batch=1)
        ten = kn_select(first, more, delta=DELTA, batch=10)
        assert (one.selected, one.eliminated_at, one.replications) == \
            (ten.selected, ten.eliminated_at, ten.replications)


def test_common_random_numbers_need_fewer_replications() -> None:
    means = np.array([0.0, 0.5, 0.6, 0.7])
    used = {}
    for rho in (0.0, 0.9):
        used[rho] = sum(sum(kn_select(*_problem(means, rho, s), delta=DELTA).replications)
                        for s in range(50))
    assert used[0.9] < used[0.0] / 2  # with rho 0.9 nearly all stop at the first stage


def test_truncation_is_reported_and_constants_match_the_paper() -> None:
    first, more = _problem(np.array([0.0, 0.01, 0.02]), 0.0, 1)
    result = kn_select(first, more, delta=0.01, max_replications=30, batch=10)
    assert result.truncated and not result.guarantee and max(result.replications) == 30
    eta, h2 = constants(k=2, n0=10, alpha=0.05)
    assert eta == pytest.approx(0.5 * (0.1 ** (-2 / 9) - 1)) and h2 == pytest.approx(18 * eta)
