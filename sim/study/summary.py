"""Summaries over replications: median and 2.5-97.5 % quantiles beside the observed value.

The yearly figures are skewed (nights without a bed, waits, long stays): the median and the
quantiles describe them, the mean is given beside them.
"""

from __future__ import annotations

import pandas as pd

from sim.measure.indicators import select


def interval(annual: pd.DataFrame) -> pd.DataFrame:
    """Median, 2.5 and 97.5 % quantiles and mean of the replications, per year, metric and group."""
    grouped = annual.groupby(["year", "metric", "group"], sort=True)["value"]
    out = pd.DataFrame({
        "median": grouped.median(),
        "p2.5": grouped.quantile(0.025),
        "p97.5": grouped.quantile(0.975),
        "mean": grouped.mean(),
        "replications": grouped.count(),
    })
    return out.reset_index()


def against_targets(annual: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """Every target row with the simulated statistic of the same definition."""
    sim = interval(annual)
    obs = targets[["year", "metric", "group", "value"]].rename(columns={"value": "observed"})
    out = obs.merge(sim, on=["year", "metric", "group"], how="left")
    out["inside95"] = (out["observed"] >= out["p2.5"]) & (out["observed"] <= out["p97.5"])
    return out


def key_indicators(annual: pd.DataFrame) -> pd.DataFrame:
    """The main indicators (:data:`sim.measure.indicators.KEY_INDICATORS`) per year."""
    chosen = select(annual)
    order = chosen[["metric", "group"]].drop_duplicates()
    return order.merge(interval(chosen), on=["metric", "group"], how="left")[
        ["metric", "group", "year", "median", "p2.5", "p97.5", "mean"]]


def format_table(table: pd.DataFrame) -> str:
    """Plain text with numbers rounded for reading."""
    shown = table.copy()
    for column in ("observed", "median", "p2.5", "p97.5", "mean"):
        if column in shown:
            shown[column] = shown[column].map(lambda x: "" if pd.isna(x) else f"{x:,.1f}")
    return shown.to_string(index=False)
