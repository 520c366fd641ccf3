"""Calibration components: each target row paired with its simulated statistic."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.input.schema import build
from sim.model.files import read_toml
from sim.study.targets import load_targets


@dataclass(frozen=True)
class MetricSettings:
    """Weight and error of the components of one metric."""

    weight: float | None = None
    relative_error: float | None = None
    not_modelled: bool = False


@dataclass(frozen=True)
class Fact:
    """A one-sided component from a statement of the sources, not a count: the simulated
    statistic stays at or above ``at_least`` in each of ``years`` and ``groups``."""

    metric: str
    groups: tuple[str, ...]
    years: tuple[int, ...]
    at_least: float
    scale: float
    source: str
    weight: float = 1.0


@dataclass(frozen=True)
class ComponentSettings:
    """The contents of ``calibration/components.toml``."""

    defaults: MetricSettings
    metrics: dict[str, MetricSettings] = field(default_factory=dict)
    facts: dict[str, Fact] = field(default_factory=dict)


@dataclass(frozen=True)
class Components:
    """Observed values, scales and weights of every target row, in file order."""

    table: pd.DataFrame  # year, metric, group, observed, scale, weight, not_modelled, one_sided

    @property
    def last_year(self) -> int:
        return int(self.table["year"].max())

    def simulated(self, annual: pd.DataFrame) -> np.ndarray:
        """The simulated statistic of each component from one replication's yearly table (NaN
        where the table has no such row). A dict, not a pandas index: it runs once per fit
        simulation, and a MultiIndex cost 3 ms of its 100."""
        rows = zip(annual["year"].tolist(), annual["metric"].tolist(), annual["group"].tolist(),
                   strict=True)
        value = dict(zip(rows, annual["value"].tolist(), strict=True))
        wanted = zip(self.table["year"].tolist(), self.table["metric"].tolist(),
                     self.table["group"].tolist(), strict=True)
        return np.array([value.get(key, np.nan) for key in wanted], dtype=float)

    def discrepancies(self, simulated: np.ndarray) -> np.ndarray:
        """Scaled discrepancy z of each component (NaN where not modelled); a one-sided
        component (a fact) counts only a shortfall below its bound."""
        z = (simulated - self.table["observed"].to_numpy()) / self.table["scale"].to_numpy()
        return np.where(self.table["one_sided"].to_numpy(), np.minimum(z, 0.0), z)

    def distance(self, simulated: np.ndarray) -> float:
        """sqrt(sum w z^2 / sum w) over the weighted components; inf if one is missing."""
        weight = self.table["weight"].to_numpy()
        z = self.discrepancies(simulated)
        used = weight > 0
        if np.isnan(z[used]).any():
            return float("inf")
        return float(np.sqrt(np.sum(weight[used] * z[used] ** 2) / np.sum(weight[used])))


def load_components(targets_path: str | Path, settings_path: str | Path,
                    holdout_years: tuple[int, ...] = ()) -> Components:
    """Pair every target row with its weight and scale, and add the facts' components.

    Rows of the ``holdout_years`` are left out (a fit that is then checked against them).
    """
    targets = load_targets(targets_path)
    targets = targets[~targets["year"].isin(holdout_years)]
    settings = build(ComponentSettings, read_toml(Path(settings_path)), str(settings_path))
    rows = []
    for year, metric, group, value in zip(targets["year"], targets["metric"], targets["group"],
                                          targets["value"], strict=True):
        own = settings.metrics.get(str(metric), MetricSettings())
        weight = _first(own.weight, settings.defaults.weight, 1.0)
        error = _first(own.relative_error, settings.defaults.relative_error, 0.1)
        observed = float(value)
        rows.append({
            "year": int(year), "metric": str(metric), "group": str(group),
            "observed": observed,
            "scale": float(np.sqrt(max(observed, 1.0) + (error * observed) ** 2)),
            "weight": 0.0 if own.not_modelled else weight,
            "not_modelled": own.not_modelled,
            "one_sided": False,
        })
    for fact in settings.facts.values():
        rows += [{"year": year, "metric": fact.metric, "group": group, "observed": fact.at_least,
                  "scale": fact.scale, "weight": fact.weight, "not_modelled": False,
                  "one_sided": True}
                 for year in fact.years if year not in holdout_years for group in fact.groups]
    return Components(pd.DataFrame(rows))


def _first(*values: float | None) -> float:
    return next(float(v) for v in values if v is not None)
