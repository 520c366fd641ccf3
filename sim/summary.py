"""Summaries over replications: mean and 95 % interval beside the observed value."""

from __future__ import annotations

import pandas as pd

KEY_INDICATORS: tuple[tuple[str, str], ...] = (
    ("rough_sleeper_nights", "total"),
    ("mean_wait_for_bed_days", "total"),
    ("stays_over_9_months", "total"),
    ("mean_stay_days", "total"),
    ("bw_waiting_list", "total"),
    ("mean_wait_bw_days", "total"),
    ("bct_returns", "total"),
    ("pact_placements", "total"),
    ("outflow", "departed"),
    ("cost_eur", "opvang"),
)


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
    """The main indicators per year."""
    sim = interval(annual)
    keys = pd.DataFrame(KEY_INDICATORS, columns=["metric", "group"])
    return keys.merge(sim, on=["metric", "group"], how="left")[
        ["metric", "group", "year", "mean", "lo95", "hi95"]]


def format_table(table: pd.DataFrame) -> str:
    """Plain text with numbers rounded for reading."""
    shown = table.copy()
    for column in ("observed", "mean", "lo95", "hi95"):
        if column in shown:
            shown[column] = shown[column].map(lambda x: "" if pd.isna(x) else f"{x:,.1f}")
    return shown.to_string(index=False)
