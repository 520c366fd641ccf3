"""Summaries over replications: mean and 95 % interval beside the observed value."""

from __future__ import annotations

import pandas as pd

from sim.indicators import select


def interval(annual: pd.DataFrame) -> pd.DataFrame:
    """Mean and the 2.5-97.5 % range of the replications, per year, metric and group."""
    grouped = annual.groupby(["year", "metric", "group"], sort=True)["value"]
    out = pd.DataFrame({
        "mean": grouped.mean(),
        "lo95": grouped.quantile(0.025),
        "hi95": grouped.quantile(0.975),
        "replications": grouped.count(),
    })
    return out.reset_index()


def against_targets(annual: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """Every target row with the simulated statistic of the same definition."""
    sim = interval(annual)
    obs = targets[["year", "metric", "group", "value"]].rename(columns={"value": "observed"})
    out = obs.merge(sim, on=["year", "metric", "group"], how="left")
    out["inside95"] = (out["observed"] >= out["lo95"]) & (out["observed"] <= out["hi95"])
    return out


def key_indicators(annual: pd.DataFrame) -> pd.DataFrame:
    """The main indicators (:data:`sim.indicators.KEY_INDICATORS`) per year."""
    chosen = select(annual)
    order = chosen[["metric", "group"]].drop_duplicates()
    return order.merge(interval(chosen), on=["metric", "group"], how="left")[
        ["metric", "group", "year", "mean", "lo95", "hi95"]]


def format_table(table: pd.DataFrame) -> str:
    """Plain text with numbers rounded for reading."""
    shown = table.copy()
    for column in ("observed", "mean", "lo95", "hi95"):
        if column in shown:
            shown[column] = shown[column].map(lambda x: "" if pd.isna(x) else f"{x:,.1f}")
    return shown.to_string(index=False)
