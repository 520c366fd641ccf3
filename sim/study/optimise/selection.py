"""Ranking and selection among the best candidates: the KN procedure with common random numbers.

Kim, S.-H. and Nelson, B. L. (2001). A fully sequential procedure for indifference-zone
selection in simulation. ACM Transactions on Modeling and Computer Simulation 11(3), 251-273.

Every candidate gets ``n0`` replications; replication ``r`` of every candidate uses the same
seed and posterior draw (common random numbers), so the procedure works on the variance of
each pairwise *difference* ``S_il^2`` (CRN makes it small). With
``eta = ((2 alpha / (k - 1)) ** (-2 / (n0 - 1)) - 1) / 2`` and ``h^2 = 2 eta (n0 - 1)``, the
candidates still in contest get one replication more at a time; after each, candidate ``i``
is eliminated when its mean is worse than another's by more than
``W_il(r) = max(0, delta / (2 r) * (h^2 S_il^2 / delta^2 - r))``. It stops when one is left,
or after ``N + 1 = max floor(h^2 S_il^2 / delta^2) + 1`` replications (then the best mean).

The guarantee (Kim and Nelson 2001, Theorem 1, for normal outputs, with or without common
random numbers): when the best mean is at least ``delta`` better than every other, it is
selected with probability at least ``1 - alpha``. Where other candidates lie within ``delta``
of the best the procedure may pick one of them, which is what "within delta of the best"
allows; ``tests/test_optimise_selection.py`` measures both the probability of correct
selection in the slippage configuration and that of a good selection (within ``delta``) with
several candidates inside the zone. A candidate's output here is its yearly mean over the
objective's years, a mean of many days per replication (near normal across replications).

Replications are added in batches (``batch`` at a time, for the workers), but the decisions
are those of the one-at-a-time procedure: the screening runs after each replication of the
batch in order, and a candidate eliminated inside a batch keeps its extra replications unused.
When ``max_replications`` cuts the procedure short of ``N + 1`` the best mean among those
left is taken and the result says that the guarantee does not hold (``truncated``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class KNResult:
    """What the procedure chose and how."""

    selected: int  # column of the chosen candidate
    replications: list[int]  # replications used per candidate (decisions; extra ones unused)
    eliminated_at: list[int | None]  # the replication count at which each was eliminated
    means: list[float]  # each candidate's mean over the replications it used
    h2: float
    bound: int  # KN's N + 1: the most replications the procedure can need
    truncated: bool  # stopped by max_replications before the procedure's own end
    alpha: float
    delta: float
    history: list[int] = field(default_factory=list)  # candidates left after each screening

    @property
    def guarantee(self) -> bool:
        """Whether the stated probability holds (the procedure ran to its own end)."""
        return not self.truncated


def constants(k: int, n0: int, alpha: float) -> tuple[float, float]:
    """KN's ``eta`` and ``h^2`` for ``k`` candidates and ``n0`` first-stage replications."""
    eta = 0.5 * ((2 * alpha / (k - 1)) ** (-2 / (n0 - 1)) - 1)
    return eta, 2 * eta * (n0 - 1)


def kn_select(first: np.ndarray, more: Callable[[list[int], int, int], np.ndarray], *, delta: float,
              alpha: float = 0.05, max_replications: int = 10_000, batch: int = 1,
              minimise: bool = True) -> KNResult:
    """Select the best column of ``first`` (``n0`` replications x ``k`` candidates, rows paired).

    ``more(columns, start, stop)`` returns replications ``start..stop-1`` of those columns
    (``stop - start`` rows); it is called with a batch of at most ``batch`` replications.
    """
    n0, k = first.shape
    if k == 1:
        return KNResult(0, [n0], [None], [float(first[:, 0].mean())], 0.0, n0, False, alpha, delta)
    if n0 < 2:
        raise ValueError("KN needs at least two first-stage replications")
    sign = -1.0 if minimise else 1.0
    x = np.full((max(n0, max_replications), k), np.nan)
    x[:n0] = sign * first
    _, h2 = constants(k, n0, alpha)
    diff = x[:n0, :, None] - x[:n0, None, :]
    s2 = diff.var(axis=0, ddof=1)
    bound = int(np.floor(h2 * s2 / delta**2).max()) + 1
    alive = list(range(k))
    eliminated: list[int | None] = [None] * k
    have = n0  # rows filled for the candidates alive
    r, history = n0, []
    while True:
        alive = _screen(x[:r], alive, s2, h2, delta, r)
        history.append(len(alive))
        for i in set(range(k)) - set(alive):
            eliminated[i] = r if eliminated[i] is None else eliminated[i]
        if len(alive) == 1 or r >= bound or r >= max_replications:
            break
        if r == have:
            stop = min(have + batch, bound, max_replications)
            x[have:stop, alive] = sign * more(list(alive), have, stop)
            have = stop
        r += 1
    means = x[:r].mean(axis=0) if len(alive) == k else _means(x, eliminated, r)
    best = max(alive, key=lambda i: (means[i], -i))
    used = [r if e is None else e for e in eliminated]
    truncated = len(alive) > 1 and r < bound
    return KNResult(best, used, eliminated, [float(sign * m) for m in means], h2,
                    bound, truncated, alpha, delta, history)


def _screen(x: np.ndarray, alive: list[int], s2: np.ndarray, h2: float, delta: float,
            r: int) -> list[int]:
    """KN's screening after ``r`` replications: who is not clearly worse than another alive."""
    mean = x[:, alive].mean(axis=0)
    sub = s2[np.ix_(alive, alive)]
    w = np.maximum(0.0, delta / (2 * r) * (h2 * sub / delta**2 - r))
    keep = (mean[:, None] >= mean[None, :] - w) | np.eye(len(alive), dtype=bool)
    return [alive[i] for i in np.flatnonzero(keep.all(axis=1))]


def _means(x: np.ndarray, eliminated: list[int | None], r: int) -> np.ndarray:
    """Each candidate's mean over the replications its decisions used."""
    return np.array([np.nanmean(x[: (r if e is None else e), i]) for i, e in enumerate(eliminated)])
