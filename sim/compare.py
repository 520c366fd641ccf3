"""Compare the scenarios of a sweep: main indicators with 95 % confidence intervals, and
paired differences against the baseline.

Each replication gives one value per indicator: its yearly mean over the chosen years. The
interval is the t interval of the mean over replications. A paired difference subtracts
the baseline's value of the same replication (common random numbers make it precise).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from sim.indicators import select

COLUMNS = ["metric", "group", "scenario"]


def per_replication(annual: pd.DataFrame, years: tuple[int, int] | None = None) -> pd.DataFrame:
    """The main indicators per scenario and replication, as yearly means over ``years``.

    Rows come in the order of :data:`sim.indicators.KEY_INDICATORS`, then group, then
    scenario as in ``annual``.
    """
    if years is not None:
        annual = annual[annual["year"].between(*years)]
    chosen = select(annual)
    out = chosen.groupby([*COLUMNS, "replication"], sort=False, observed=True)["value"].mean()
    return out.reset_index()


def intervals(values: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95 % t interval over replications, per indicator and scenario."""
    return (values.groupby(COLUMNS, sort=False, observed=True)["value"]
            .apply(_t_interval).unstack().reset_index())


def paired_differences(values: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Scenario minus baseline, replication by replication, with a 95 % t interval."""
    base = values[values["scenario"] == baseline].drop(columns="scenario")
    others = values[values["scenario"] != baseline]
    paired = others.merge(base, on=["metric", "group", "replication"], suffixes=("", "_base"))
    paired["value"] = paired["value"] - paired["value_base"]
    out = intervals(paired.drop(columns="value_base"))
    base_mean = base.groupby(["metric", "group"], observed=True)["value"].mean().rename("base")
    out = out.merge(base_mean.reset_index(), on=["metric", "group"], how="left")
    out["relative"] = out["mean"] / out["base"].where(out["base"] != 0)
    out["n_for_10pct"] = replications_for(out)
    return out.drop(columns="base")


def replications_for(table: pd.DataFrame, share: float = 0.10) -> pd.Series:
    """Replications with which the 95 % half-width would be ``share`` of the mean's size.

    From the observed spread: the half-width shrinks as one over the square root of the number
    of replications. Missing where the mean is zero or the spread unknown.
    """
    half = (table["hi95"] - table["lo95"]) / 2
    need = table["n"] * (half / (share * table["mean"].abs().where(table["mean"] != 0))) ** 2
    need = need.where(np.isfinite(need) & (need < 1e12))  # zero spread over a tiny mean: unknown
    return np.ceil(need).astype("Int64")


def _t_interval(x: pd.Series) -> pd.Series:
    values = x.dropna().to_numpy(dtype=float)
    n = len(values)
    mean = values.mean() if n else np.nan
    half = (stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
    return pd.Series({"n": n, "mean": mean, "lo95": mean - half, "hi95": mean + half})


def format_frame(table: pd.DataFrame) -> str:
    """Plain text, numbers rounded for reading."""
    shown = table.copy()
    for column in ("mean", "lo95", "hi95"):
        shown[column] = shown[column].map(lambda x: "" if pd.isna(x) else f"{x:,.1f}")
    shown["n"] = shown["n"].astype(int)
    if "n_for_10pct" in shown:
        shown["n_for_10pct"] = shown["n_for_10pct"].map(lambda x: "" if pd.isna(x) else f"{int(x)}")
    if "relative" in shown:
        shown["relative"] = shown["relative"].map(lambda x: "" if pd.isna(x) else f"{x:+.1%}")
    return shown.to_string(index=False)
