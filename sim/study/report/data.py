"""What a report shows, computed from a results folder (a run's or a sweep's).

Every figure is described over the replications (with a posterior, over the parameter draws
as well): the median and the 2.5-97.5 % quantiles of each replication's value; a scenario
against the baseline by the paired difference, replication by replication. The headline
figures are named in one place, :data:`HEADLINE`; one that the results do not hold is listed
as missing, never filled in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.batch.dataset import read_manifest
from sim.components.homeless import STATES
from sim.input.errors import InputError
from sim.measure.indicators import Indicators
from sim.study.compare import intervals, paired_differences, per_replication
from sim.study.results import load

# The headline figures, in the order of the report: (metric, group); group None: every group
# of the metric (cost_eur: one row per budget line).
HEADLINE: Indicators = (
    ("people_without_a_bed", "total"),
    ("people_sheltered", "total"),
    ("nights_without_a_bed", "total"),
    ("nights_after_leaving", "total"),
    ("shelter_placements", "total"),
    ("cost_eur", None),
)
STATE_METRIC = "nights_without_a_bed"  # by state: its groups are the states
STATE_FALLBACK = "{state}_nights"  # results without it: one metric per state, group total
COST, GAP = "cost_eur", "budget_gap_eur"
FAN_MOST = 6  # scenarios drawn in a fan chart (the baseline first)
PREDICTIVE_CHECK = Path("calibration/fitted/predictive_check.csv")
SENSITIVITY = "sensitivity.csv"
ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Report:
    """The numbers of a report; each part is empty (or None) where the results lack it."""

    results: Path
    name: str
    kind: str  # run or sweep
    scenarios: list[str]
    baseline: str
    years: tuple[int, int]
    replications: int  # the fewest of any scenario
    posterior: bool  # the replications drew the parameters from a posterior
    headline: pd.DataFrame  # intervals of the headline figures present, per scenario
    differences: pd.DataFrame | None  # paired differences to the baseline (one scenario: None)
    missing: list[tuple[str, str]]  # headline figures not in these results
    yearly: pd.DataFrame  # per year: quantiles over replications (fan charts)
    states: pd.DataFrame  # nights without a bed by state, per scenario
    state_metric: str  # the metric the states come from
    budget: pd.DataFrame  # cost per budget line and year, with the national budget
    occupancy: pd.DataFrame | None  # monthly occupancy and capacity per facility (daily table)
    calibration: pd.DataFrame | None  # the predictive check per target row
    calibration_source: str  # where it was read, or why there is none
    sensitivity: pd.DataFrame | None  # sensitivity.csv of the folder
    manifest: dict[str, Any] = field(default_factory=dict, repr=False)


def build(results: str | Path, years: tuple[int, int] | None = None,
          baseline: str | None = None) -> Report:
    """Read a results folder and compute everything a report shows."""
    root = Path(results)
    annual = load(root, "annual", overrides=False)
    return compute(annual, read_manifest(root) or {}, root, years, baseline)


def compute(annual: pd.DataFrame, manifest: dict[str, Any], root: Path | None,
            years: tuple[int, int] | None = None, baseline: str | None = None) -> Report:
    """Everything a report shows, from an annual table (``root``: the results folder, for the
    daily table and the calibration check; None: without them)."""
    scenarios = [str(s) for s in annual["scenario"].cat.categories]
    baseline = baseline or manifest.get("baseline") or scenarios[0]
    if baseline not in scenarios:
        raise InputError("--baseline", "", f"expected one of the scenarios: {', '.join(scenarios)}")
    years = years or (int(annual["year"].min()), int(annual["year"].max()))
    chosen = annual[annual["year"].between(*years)]
    if chosen.empty:
        raise InputError("--years", "", f"no results in {years[0]}-{years[1]}")
    present = headline_present(annual)
    values = per_replication(chosen, years, present)
    states, state_metric = by_state(chosen, years)
    calibration, source = (None, "") if root is None else calibration_check(root, manifest)
    reps = chosen.groupby("scenario", observed=True)["replication"].nunique()
    return Report(
        results=root or Path("."), name=str(manifest.get("experiment") or (root or Path(".")).name),
        kind=str(manifest.get("kind") or "run"), scenarios=scenarios, baseline=baseline,
        years=years, replications=int(reps.min()), posterior=bool(manifest.get("posterior")),
        headline=intervals(values),
        missing=[(m, g or "") for m, g in HEADLINE if (m, g) not in present],
        differences=paired_differences(values, baseline) if len(scenarios) > 1 else None,
        yearly=yearly(chosen, present), states=states, state_metric=state_metric,
        budget=budget(chosen),
        occupancy=None if root is None else occupancy(root, baseline, scenarios, years),
        calibration=calibration, calibration_source=source,
        sensitivity=None if root is None else _sensitivity(root), manifest=manifest)


def headline_present(annual: pd.DataFrame) -> Indicators:
    """The headline figures the results hold (a figure by every group: when the metric is there)."""
    pairs = set(zip(annual["metric"], annual["group"], strict=True))
    metrics = {m for m, _ in pairs}
    return tuple((m, g) for m, g in HEADLINE if (m in metrics if g is None else (m, g) in pairs))


def yearly(annual: pd.DataFrame, indicators: Indicators) -> pd.DataFrame:
    """Per scenario, figure and year: median, 50 % and 95 % ranges over replications."""
    rows = per_year(annual, indicators)
    grouped = rows.groupby(["scenario", "metric", "group", "year"], observed=True, sort=False)["value"]
    out = grouped.quantile(np.array([0.025, 0.25, 0.5, 0.75, 0.975])).unstack()
    out.columns = ["p2.5", "p25", "median", "p75", "p97.5"]
    return out.reset_index()


def per_year(annual: pd.DataFrame, indicators: Indicators) -> pd.DataFrame:
    """The rows of ``indicators``: scenario, replication, year, metric, group, value."""
    keep = pd.Series(False, index=annual.index)
    for metric, group in indicators:
        keep |= (annual["metric"] == metric) & (True if group is None else annual["group"] == group)
    return annual.loc[keep, ["scenario", "replication", "year", "metric", "group", "value"]]


def by_state(annual: pd.DataFrame, years: tuple[int, int]) -> tuple[pd.DataFrame, str]:
    """Nights without a bed per state (street, with others, hotel, out of sight), described over
    replications per scenario; from the metric :data:`STATE_METRIC` by state, else from the
    older metrics ``<state>_nights``."""
    metrics = set(annual["metric"].unique())
    if STATE_METRIC in metrics:
        wanted = tuple((STATE_METRIC, s) for s in STATES)
        values = per_replication(annual, years, wanted).rename(columns={"group": "state"})
        source = STATE_METRIC
    else:
        wanted = tuple((STATE_FALLBACK.format(state=s), "total") for s in STATES)
        values = per_replication(annual, years, wanted)
        values["state"] = values["metric"].str.removesuffix("_nights")
        source = STATE_FALLBACK
    if values.empty:
        return pd.DataFrame(columns=["scenario", "state", "median", "p2.5", "p97.5"]), source
    values = values.assign(metric=source, group=values["state"])
    table = intervals(values[["metric", "group", "scenario", "replication", "value"]])
    return table.rename(columns={"group": "state"}), source


def budget(annual: pd.DataFrame) -> pd.DataFrame:
    """Cost per budget line, year and scenario over replications, beside the national budget
    (spending minus the gap: the same every replication; missing where the model has none)."""
    cost = annual[annual["metric"] == COST]
    if cost.empty:
        return pd.DataFrame(columns=["scenario", "line", "year", "median", "p2.5", "p97.5", "budget"])
    keys = ["scenario", "replication", "year", "group"]
    gap = annual.loc[annual["metric"] == GAP, [*keys, "value"]].rename(columns={"value": "gap"})
    rows = cost[[*keys, "value"]].merge(gap, on=keys, how="left")
    rows["budget"] = rows["value"] - rows["gap"]
    grouped = rows.groupby(["scenario", "group", "year"], observed=True, sort=False)
    out = grouped["value"].quantile(np.array([0.5, 0.025, 0.975])).unstack()
    out.columns = ["median", "p2.5", "p97.5"]
    out["budget"] = grouped["budget"].median()
    return out.reset_index().rename(columns={"group": "line"})


def occupancy(root: Path, baseline: str, scenarios: list[str],
              years: tuple[int, int]) -> pd.DataFrame | None:
    """Per facility (and place pool) and month: the mean occupied places and capacity, median
    and 95 % range over replications, for the baseline and the first other scenario. None when
    the results have no daily table."""
    if not (root / "daily").is_dir():
        return None
    shown = [baseline, *[s for s in scenarios if s != baseline][:1]]
    daily = load(root, "daily", overrides=False, scenarios=shown,
                 columns=["date", "facility", "occupancy", "capacity"])
    daily = daily[daily["capacity"].notna() & daily["date"].dt.year.between(*years)]
    if daily.empty:
        return None
    daily = daily.assign(month=daily["date"].dt.to_period("M").dt.to_timestamp())
    monthly = daily.groupby(["scenario", "facility", "replication", "month"], observed=True)[
        ["occupancy", "capacity"]].mean().reset_index()
    grouped = monthly.groupby(["scenario", "facility", "month"], observed=True, sort=False)
    out = grouped["occupancy"].quantile(np.array([0.5, 0.025, 0.975])).unstack()
    out.columns = ["median", "p2.5", "p97.5"]
    out["capacity"] = grouped["capacity"].median()
    return out.reset_index()


def calibration_check(root: Path, manifest: dict[str, Any]) -> tuple[pd.DataFrame | None, str]:
    """The calibration's posterior predictive check (observed against the predictive interval
    per target row) of the results' model: found from the model file's folder upward, then from
    the results folder upward, then in this package's project; and where it came from."""
    model_file = manifest.get("model_file")
    starts = ([Path(model_file).resolve().parent] if model_file else []) + [root.resolve()]
    for start in starts:
        for folder in [start, *start.parents]:
            if (folder / PREDICTIVE_CHECK).is_file():
                return _read_check(folder / PREDICTIVE_CHECK), str(folder / PREDICTIVE_CHECK)
    if (ROOT / PREDICTIVE_CHECK).is_file():
        return _read_check(ROOT / PREDICTIVE_CHECK), str(ROOT / PREDICTIVE_CHECK)
    return None, "no calibration/fitted/predictive_check.csv found"


def _read_check(path: Path) -> pd.DataFrame:
    table = pd.read_csv(path)
    needed = {"year", "metric", "group", "observed", "lo95", "median", "hi95", "inside95"}
    if not needed <= set(table.columns):
        raise InputError(str(path), sorted(needed - set(table.columns))[0], "missing column of a "
                         "predictive check (opvang calibrate writes it)")
    return table[np.isfinite(table["observed"].astype(float))]


def _sensitivity(root: Path) -> pd.DataFrame | None:
    path = root / SENSITIVITY
    return pd.read_csv(path) if path.is_file() else None
