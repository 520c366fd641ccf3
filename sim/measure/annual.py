"""The yearly table under construction, and what its sections share (:mod:`sim.measure.metrics`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.components.intake import NON_SHELTER_OUTCOMES
from sim.engine.log import UIT
from sim.engine.spans import Intervals, StageSpans, member, next_event
from sim.measure.record import Daily, RunRecord
from sim.model.root import EXIT_REASONS

LONG_STAY_DAYS = 270.0  # "verblijven langer dan 9 maanden" (the municipality's indicators)


def regime_metric(regime: str) -> str:
    """The metric prefix of a regime: ``nachtopvang``, ``24-uurs`` -> ``opvang_24uurs``."""
    name = "".join(c if c.isalnum() else "_" for c in regime.replace("-", ""))
    return f"opvang_{name}" if name[:1].isdigit() else name


class Annual:
    """Collects (year, metric, group, value) rows: one value per year for each metric and
    group, in the order added."""

    def __init__(self, years: list[int], edges: np.ndarray,
                 absent: frozenset[tuple[str, str]] = frozenset()) -> None:
        self.years = years
        self.edges = edges
        self.absent = absent  # rows that cannot occur in the model (group "*": all), not written
        self.keys: list[tuple[str, str]] = []
        self.values: list[np.ndarray] = []

    def add(self, metric: str, group: str, values: np.ndarray) -> None:
        """One value per year (nothing for a row that cannot occur in the model)."""
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (len(self.years),):
            raise ValueError(f"{metric}/{group}: {values.shape} values for {len(self.years)} years")
        if (metric, group) in self.absent or (metric, "*") in self.absent:
            return
        self.keys.append((metric, group))
        self.values.append(values)

    def count(self, metric: str, group: str, times: np.ndarray) -> None:
        """Events per year."""
        self.add(metric, group, self.per_year(times))

    def per_year(self, times: np.ndarray) -> np.ndarray:
        """How many of ``times`` fall in each year (as ``np.histogram`` over the year edges
        counts them: the last year includes its end)."""
        edges = self.edges
        year = np.searchsorted(edges, times, side="right") - 1
        year[times == edges[-1]] = len(edges) - 2
        return np.bincount(year[(year >= 0) & (year < len(edges) - 1)], minlength=len(edges) - 1)

    def mean_length(self, metric: str, group: str, spans: Intervals, ended: np.ndarray) -> None:
        """Mean length of the ``ended`` spans, by the year they end."""
        end, length = spans.end[ended], spans.length[ended]
        self.add(metric, group, ratio(np.histogram(end, self.edges, weights=length)[0],
                                       self.per_year(end)))

    def table(self) -> pd.DataFrame:
        """The long table: year, metric, group, value."""
        n, keys = len(self.years), np.array(self.keys, dtype=object).reshape(-1, 2)
        return pd.DataFrame({
            "year": np.tile(np.array(self.years, dtype=np.int64), len(keys)),
            "metric": np.repeat(keys[:, 0], n),
            "group": np.repeat(keys[:, 1], n),
            "value": np.concatenate(self.values) if self.values else np.zeros(0),
        })


class Context:
    """What the sections share: the record, its spans and daily stocks, and event columns.

    ``states``: the spans of every state of people without a bed or home; ``left``: the
    window after each way out without housing (:func:`sim.components.homeless.out_of_sight`);
    ``without_bed``: the states' spans of people with a decision for shelter only;
    ``after_leaving``: their nights after the window, until they report again.
    """

    def __init__(self, rec: RunRecord, spans: StageSpans, daily: Daily,
                 states: dict[str, Intervals], left: Intervals,
                 without_bed: dict[str, Intervals]) -> None:
        self.rec, self.spans, self.daily, self.states = rec, spans, daily, states
        self.left, self.without_bed = left, without_bed
        ev = rec.log.events
        self.client, self.time, self.src, self.dst = ev["client"], ev["time"], ev["src"], ev["dst"]
        self.reason = ev["reason"]
        self.code = {name: i for i, name in enumerate(rec.log.reasons)}
        base = [r.split("/")[0] for r in rec.log.reasons] or [""]  # a channel part's channel
        self.base_code = {name: i for i, name in enumerate(dict.fromkeys(base))}
        self.reason_base = np.array([self.base_code[b] for b in base])
        self.event_base = self.reason_base[self.reason]
        self.n_years = len(rec.years)
        self.day_year = np.searchsorted(rec.year_edges, daily.days, side="right") - 1
        self.exits = sorted({*rec.housing.parts, *EXIT_REASONS, "wlz_transfer"})
        self.bct_gi = [rec.intake.group_names.index(g) for g in rec.intake.bct_groups]
        self.after_leaving = self._after_window()

    def after_exit(self, ways_out: list[str]) -> Intervals:
        """From each way out of the system by one of ``ways_out`` (a channel: any of its
        parts) to the client's next event (their next report), or the end."""
        rows = np.flatnonzero((self.dst == UIT) & member(
            self.event_base, [self.base_code.get(n, -2) for n in ways_out]))
        return self._until_next(rows, self.time[rows])

    def _until_next(self, rows: np.ndarray, start: np.ndarray) -> Intervals:
        nxt = next_event(self.client, rows, self.spans.order)
        end = np.where(nxt >= 0, self.time[np.maximum(nxt, 0)], self.rec.horizon)
        return Intervals(self.client[rows], np.minimum(start, end), end,
                         self.rec.log.events["facility"][rows], rows, nxt)

    def _after_window(self) -> Intervals:
        """The nights of people with a decision for shelter after the window in which the
        model follows them once they left without housing, until they report again."""
        positive = ~member(self.reason[self.left.opened_by], self.no_shelter)
        gone = positive & (self.left.closed_by == -2)  # the window ended, not a report
        return self._until_next(self.left.opened_by[gone], self.left.end[gone])

    @property
    def no_shelter(self) -> list[int]:
        """The reason codes of the BCT's decisions without shelter (referred, leaves)."""
        return [self.code[r] for r in NON_SHELTER_OUTCOMES if r in self.code]

    def is_base(self, name: str) -> np.ndarray:
        """Events whose reason is ``name`` (a channel: any of its parts)."""
        return self.event_base == self.base_code.get(name, -2)

    def by_year(self, x: np.ndarray, mean: bool = False) -> np.ndarray:
        """Daily values summed (or averaged) per reported year."""
        ok = (self.day_year >= 0) & (self.day_year < self.n_years)
        total = np.bincount(self.day_year[ok], x[ok], self.n_years)
        return ratio(total, np.bincount(self.day_year[ok], minlength=self.n_years)) if mean else total


def unique_per_year(client: np.ndarray, overlap: np.ndarray) -> np.ndarray:
    """Unique clients with positive overlap, per year (overlap: spans x years)."""
    n_years = overlap.shape[1]
    span, year = np.nonzero(overlap > 0)
    pairs = np.unique(client[span] * n_years + year)
    return np.bincount(pairs % n_years, minlength=n_years)


# --- sections ---------------------------------------------------------------------------


def closed_into(spans: Intervals, dst: np.ndarray, stage: int) -> np.ndarray:
    """Which spans ended by a move into ``stage``."""
    return (spans.closed_by >= 0) & (dst[np.maximum(spans.closed_by, 0)] == stage)


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.full(len(num), np.nan), where=den > 0)
