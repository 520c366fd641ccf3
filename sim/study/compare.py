"""Compare the scenarios of a sweep: the main indicators per scenario, and paired differences
against the baseline.

Each replication gives one value per indicator: its yearly mean over the chosen years. Over
the replications (and, with a posterior, over the parameter draws) a scenario is described by
its median and 2.5-97.5 % quantiles, which is what to quote: the figures are skewed (waits,
nights without a bed). The mean with its 95 % t interval is given beside them, for the
precision of the estimate. A paired difference subtracts the baseline's value of the same
replication (common random numbers make it precise).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.measure.indicators import KEY_INDICATORS, Indicators, select

COLUMNS = ["metric", "group", "scenario"]


def per_replication(annual: pd.DataFrame, years: tuple[int, int] | None = None,
                    indicators: Indicators = KEY_INDICATORS) -> pd.DataFrame:
    """The indicators (default the key ones) per scenario and replication, as yearly means
    over ``years``.

    Rows come in the order of ``indicators``, then group, then scenario as in ``annual``.
    """
    if years is not None:
        annual = annual[annual["year"].between(*years)]
    chosen = select(annual, indicators)
    out = chosen.groupby([*COLUMNS, "replication"], sort=False, observed=True)["value"].mean()
    return out.reset_index()


def intervals(values: pd.DataFrame) -> pd.DataFrame:
    """Median, 2.5-97.5 % quantiles and mean with its 95 % t interval over replications, per
    indicator and scenario."""
    return (values.groupby(COLUMNS, sort=False, observed=True)["value"]
            .apply(_describe).unstack().reset_index())


def paired_differences(values: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Scenario minus baseline, replication by replication, described as :func:`intervals`."""
    base = values[values["scenario"] == baseline].drop(columns="scenario")
    others = values[values["scenario"] != baseline]
    paired = others.merge(base, on=["metric", "group", "replication"], suffixes=("", "_base"))
    paired["value"] = paired["value"] - paired["value_base"]
    out = intervals(paired.drop(columns="value_base"))
    base_median = base.groupby(["metric", "group"], observed=True)["value"].median().rename("base")
    out = out.merge(base_median.reset_index(), on=["metric", "group"], how="left")
    out["relative"] = out["median"] / out["base"].where(out["base"] != 0)
    out["n_for_10pct"] = replications_for(out)
    return out.drop(columns="base")


def replications_for(table: pd.DataFrame, share: float = 0.10) -> pd.Series:
    """Replications with which the mean's 95 % half-width would be ``share`` of its size.

    From the observed spread: the half-width shrinks as one over the square root of the number
    of replications. Missing where the mean is zero or the spread unknown.
    """
    half = (table["mean_hi95"] - table["mean_lo95"]) / 2
    need = table["n"] * (half / (share * table["mean"].abs().where(table["mean"] != 0))) ** 2
    need = need.where(np.isfinite(need) & (need < 1e12))  # zero spread over a tiny mean: unknown
    return np.ceil(need).astype("Int64")


def _describe(x: pd.Series) -> pd.Series:
    values = x.dropna().to_numpy(dtype=float)
    n = len(values)
    if n == 0:
        return pd.Series({"n": 0, "median": np.nan, "p2.5": np.nan, "p97.5": np.nan,
                          "mean": np.nan, "mean_lo95": np.nan, "mean_hi95": np.nan})
    from scipy import stats  # imported here: the summaries are the only users

    mean = values.mean()
    half = stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
    return pd.Series({"n": n, "median": np.median(values), "p2.5": np.quantile(values, 0.025),
                      "p97.5": np.quantile(values, 0.975), "mean": mean,
                      "mean_lo95": mean - half, "mean_hi95": mean + half})


def format_frame(table: pd.DataFrame) -> str:
    """Plain text, numbers rounded for reading."""
    shown = table.copy()
    for column in ("median", "p2.5", "p97.5", "mean", "mean_lo95", "mean_hi95"):
        shown[column] = shown[column].map(lambda x: "" if pd.isna(x) else f"{x:,.1f}")
    shown["n"] = shown["n"].astype(int)
    if "n_for_10pct" in shown:
        shown["n_for_10pct"] = shown["n_for_10pct"].map(lambda x: "" if pd.isna(x) else f"{int(x)}")
    if "relative" in shown:
        shown["relative"] = shown["relative"].map(lambda x: "" if pd.isna(x) else f"{x:+.1%}")
    return shown.to_string(index=False)
