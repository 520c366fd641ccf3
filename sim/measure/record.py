"""What one replication recorded, as arrays, and its daily stocks: the input of the indicators."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.components.homeless import Homeless
from sim.components.housing import HousingRecord
from sim.components.intake import IntakeRecord
from sim.components.places import PoolRecord
from sim.components.shelters import ShelterRecord
from sim.engine.log import LogRecord
from sim.model.root import Budget


@dataclass(frozen=True)
class BudgetRecord:
    """The budget lines: the national budget and the costs not simulated, by year."""

    income: dict[str, dict[int, float]]  # budget line -> year -> national budget
    other: dict[str, dict[int, float]]  # budget line -> year -> costs not simulated

    @classmethod
    def of(cls, budgets: Mapping[str, Budget]) -> BudgetRecord:
        return cls({line: {int(y): e for y, e in b.income.items()} for line, b in budgets.items()},
                   {line: {int(y): e for y, e in b.other_costs.items()}
                    for line, b in budgets.items() if b.other_costs})


@dataclass(frozen=True)
class RunRecord:
    """Everything one replication recorded: a slice from each component that owns it (the
    event log, the shelters, each place pool, the channels, the intake, the rules for people
    without a bed), the budget lines, and the reported years."""

    log: LogRecord
    shelters: ShelterRecord
    pools: list[PoolRecord]
    housing: HousingRecord
    intake: IntakeRecord
    homeless: Homeless
    budgets: BudgetRecord
    start: dt.date
    years: list[int]
    year_edges: np.ndarray  # model times of 1 January of each year and the year after
    horizon: float
    absent: frozenset[tuple[str, str]] = frozenset()  # rows that cannot occur (sim.measure.possible)


@dataclass(frozen=True)
class Daily:
    """Stocks at the start of each reported day: facility or stage -> kind -> values."""

    days: np.ndarray
    values: dict[str, dict[str, np.ndarray]]

    def table(self, start: dt.date) -> pd.DataFrame:
        """Long table: day, date, facility (or stage), occupancy, capacity, queue."""
        n, names = len(self.days), list(self.values)
        nan = np.full(n, np.nan)

        def column(kind: str) -> np.ndarray:
            return np.concatenate([self.values[name].get(kind, nan) for name in names],
                                  dtype=np.float64)

        day = np.tile(self.days.astype(np.int32), len(names))
        origin = np.datetime64(start.isoformat(), "D")
        return pd.DataFrame({
            "day": day,
            "date": origin + day.astype("timedelta64[D]"),
            "facility": pd.Categorical.from_codes(np.repeat(np.arange(len(names)), n),
                                                  pd.Index(names)),
            "occupancy": column("occupancy"),
            "capacity": column("capacity"),
            "queue": column("queue"),
        }, copy=False)  # fresh arrays: pandas need not copy them into one block
