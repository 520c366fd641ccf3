"""Map model time (days since the start date) to dates, years and winter seasons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np


class Calendar:
    """Day 0 is ``start``; negative days are the warm-up."""

    def __init__(self, start: dt.date) -> None:
        self.start = start

    def day(self, date: dt.date) -> float:
        """Model time of a date (midnight)."""
        return float((date - self.start).days)

    def year_start(self, year: int) -> float:
        """Model time of 1 January of ``year``."""
        return self.day(dt.date(year, 1, 1))

    def year_bounds(self, first: int, last: int) -> np.ndarray:
        """Model times of 1 January of ``first`` .. ``last + 1`` (edges of each year)."""
        return np.array([self.year_start(y) for y in range(first, last + 2)])

    def winter_changes(self, first: int, last: int, start_md: str,
                       end_md: str) -> list[tuple[float, bool]]:
        """(time, winter is on) at every season boundary from ``first`` to ``last``."""
        crosses_new_year = end_md <= start_md
        changes = []
        for year in range(first - 1, last + 1):
            on = dt.date.fromisoformat(f"{year}-{start_md}")
            off = dt.date.fromisoformat(f"{year + crosses_new_year}-{end_md}")
            changes += [(self.day(on), True), (self.day(off), False)]
        return sorted(changes)

    def schedule_times(self, dates: Iterable[str], run_start: float) -> list[float]:
        """Model times at which dated schedule entries take effect.

        An entry dated before the run starts takes effect when it starts. The first entry,
        when dated on the start date itself, is in force from ``run_start`` (the beginning
        of the warm-up): a schedule describes the region from the start of the model on, and
        the warm-up runs the region as it was then. Entries dated inside the warm-up take
        effect on their date.
        """
        times = [self.day(dt.date.fromisoformat(d)) for d in dates]
        first = min(times)
        return [run_start if t <= run_start or (t == first == 0.0) else t for t in times]


def ramp_steps(start: dt.date, end: dt.date, a: int, b: int) -> list[tuple[dt.date, int]]:
    """A linear change of a whole number from ``a`` (on ``start``) to ``b`` (on ``end``), day
    by day: on each day ``d`` after ``start`` and before ``end`` the value is
    ``a + (b - a) * (d - start) / (end - start)`` truncated toward ``a`` (a place is added, or
    taken away, once the line has passed it); listed where it changes. ``end`` itself is not
    listed: the entry on that date gives ``b``."""
    days = (end - start).days
    out = []
    value = a
    for k in range(1, days):
        step = abs(b - a) * k // days
        now = a + step if b >= a else a - step
        if now != value:
            out.append((start + dt.timedelta(days=k), now))
            value = now
    return out
