"""Early stopping of a sweep once every paired difference asked for is as precise as asked.

``opvang sweep EXPERIMENT --precision street_nights:total=50 --precision
mean_wait_for_bed_days=2 [--batch 10] [--years 2025-2030]``: replications run in batches of
``batch`` (every scenario's replications ``b*batch .. (b+1)*batch - 1``); after each complete
batch, for every goal ``METRIC[:GROUP]=HALFWIDTH`` and every scenario, the paired difference
against the baseline (replication by replication: common random numbers) of the yearly mean
over ``years`` gets its 95 % t interval over the replications so far. The sweep stops when every
half-width is at most the one asked for. The decision depends only on the results of complete
batches, so it is the same on any number of workers, in any order of completion, and on a
resumed sweep (which reads the batches already on disk and stops at the same point).

Checking after every batch is a sequential test: the interval's coverage at the stopping point
is somewhat below 95 % (optional stopping); larger batches check less often.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sim.input.errors import InputError

GOAL = re.compile(r"([A-Za-z0-9_]+)(?::([A-Za-z0-9_.+-]+))?=([0-9.eE+-]+)")


@dataclass(frozen=True)
class Goal:
    """A paired difference whose 95 % half-width must be at most ``halfwidth``."""

    metric: str
    group: str
    halfwidth: float

    @property
    def label(self) -> str:
        return f"{self.metric}:{self.group}"


@dataclass(frozen=True)
class Precision:
    """The goals, the batch size and the years the yearly mean is over."""

    goals: tuple[Goal, ...]
    batch: int = 10
    years: tuple[int, int] | None = None  # None: every simulated year

    def record(self) -> dict[str, object]:
        """As written into the manifest."""
        return {"goals": {g.label: g.halfwidth for g in self.goals}, "batch": self.batch,
                "years": None if self.years is None else list(self.years), "confidence": 0.95}


def parse_goal(text: str) -> Goal:
    """``METRIC[:GROUP]=HALFWIDTH`` (group ``total`` when not given)."""
    match = GOAL.fullmatch(text.strip())
    value = float(match[3]) if match and _number(match[3]) else math.nan
    if match is None or not value > 0 or not math.isfinite(value):
        raise InputError("--precision", "", f"expected METRIC[:GROUP]=HALFWIDTH with a positive "
                         f"half-width, e.g. street_nights:total=50, got {text!r}")
    return Goal(match[1], match[2] or "total", value)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def goal_values(annual: pd.DataFrame, goals: tuple[Goal, ...], years: tuple[int, int]) -> list[float]:
    """One replication's yearly mean over ``years`` of each goal's metric (NaN: not in the table).

    Runs in the worker on a fresh replication and in the parent on a file read back: the same
    rows in the same order, so the same numbers."""
    rows = annual[annual["year"].between(*years)]
    out = []
    for g in goals:
        chosen = rows.loc[(rows["metric"] == g.metric) & (rows["group"] == g.group), "value"]
        out.append(float(chosen.mean()) if len(chosen) else math.nan)
    return out


def halfwidths(values: dict[tuple[str, int], list[float]], scenarios: list[str], baseline: str,
               n: int, goals: tuple[Goal, ...]) -> dict[str, dict[str, float]]:
    """The 95 % t half-width of each scenario's paired difference against the baseline, per goal,
    over replications ``0..n-1``."""
    t = float(stats.t.ppf(0.975, n - 1))
    out: dict[str, dict[str, float]] = {}
    for j, goal in enumerate(goals):
        base = np.array([values[(baseline, r)][j] for r in range(n)])
        if np.isnan(base).any():
            raise InputError("--precision", "", f"no metric {goal.metric} with group {goal.group} in "
                             "the yearly table of the chosen years (metrics: docs/metrics.md)")
        out[goal.label] = {}
        for s in scenarios:
            if s != baseline:
                diff = np.array([values[(s, r)][j] for r in range(n)]) - base
                out[goal.label][s] = float(t * diff.std(ddof=1) / math.sqrt(n))
    return out


def reached(widths: dict[str, dict[str, float]], goals: tuple[Goal, ...]) -> bool:
    """Whether every half-width is at most its goal."""
    return all(w <= g.halfwidth for g in goals for w in widths[g.label].values())
