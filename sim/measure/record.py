"""What one replication recorded, as arrays, and its daily stocks: the input of the indicators."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.components.homeless import Homeless

Schedule = tuple[np.ndarray, np.ndarray]  # (change times, capacity from then on)


@dataclass(frozen=True)
class PoolRecord:
    """A place pool of the run: its name, the label it is reported under, places and cost."""

    name: str
    label: str
    capacity: Schedule
    cost_per_day: float
    budget: str  # the budget line that pays for it ("" for none)


@dataclass(frozen=True)
class RunRecord:
    """Everything one replication recorded, as numpy arrays, plus what names the codes."""

    events: dict[str, np.ndarray]
    reasons: list[str]
    client_group: np.ndarray
    client_origin: np.ndarray
    group_names: list[str]  # the model's groups, then each pool's direct applicants
    groups: list[str]  # the model's client groups
    bct_groups: list[str]  # groups that come in through the BCT
    origin_names: list[str]
    facility_ids: list[str]  # the keys of [facilities]
    facility_names: list[str]
    facility_regime: list[str]  # the regime each facility is reported under
    facility_cost: np.ndarray
    facility_budget: list[str]
    facility_capacity: list[Schedule]
    regimes: list[str]  # every regime of the model
    channel_parts: dict[str, list[str]]  # channel -> its parts reported apart (Pact: municipalities)
    pools: list[PoolRecord]
    homeless: Homeless
    outside_region: str  # the origin that stands for outside the region (or unknown)
    facility_report_group: list[str]  # the group a facility is counted apart under (VO satellites)
    home_channels: list[list[list[tuple[str, float]]]]  # group -> origin -> (queued channel, start)
    beschikking_days: list[float | None]  # model group -> length of its decisions for shelter
    trajectory_from: list[float | None]  # model group -> model time trajectory support starts
    channel_support: dict[str, tuple[float, float, str]]  # channel -> (euro a day, days, budget)
    budget_income: dict[str, dict[int, float]]  # budget line -> year -> national budget
    budget_other: dict[str, dict[int, float]]  # budget line -> year -> costs not simulated
    unused_time: np.ndarray
    unused_reason: np.ndarray
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
