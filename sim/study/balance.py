"""The bed-night balance of a capacity change: where the nights of the beds removed went.

Every night of every person in the model is in exactly one part of ``person_nights`` (in a
shelter bed, without a bed, after leaving, at the BCT, in a place, waiting for one, housed, in
long-term care, without a decision for shelter), and a scenario sees the same people as its
baseline (common random numbers). So, replication by replication, the changes of the parts
add up to zero: the bed-nights a cut removes are found again as nights without a bed, nights
of people who left, and the rest. ``scripts/bed_night_balance.py`` prints it.
"""

from __future__ import annotations

import pandas as pd

PART = "person_nights"
WITHOUT = "nights_without_a_bed"


def paired_parts(annual: pd.DataFrame, baseline: str, years: tuple[int, int]) -> pd.DataFrame:
    """Each scenario minus the baseline, replication by replication, of every part of
    ``person_nights`` and every state of ``nights_without_a_bed``: the yearly mean over
    ``years`` (first, last). Rows: (scenario, replication); columns: (metric, group)."""
    rows = annual[annual["metric"].isin([PART, WITHOUT]) & annual["year"].between(*years)]
    mean = rows.groupby(["scenario", "replication", "metric", "group"], observed=True)["value"].mean()
    wide = mean.unstack(["metric", "group"])
    base = wide.xs(baseline, level="scenario")
    others = wide.drop(index=baseline, level="scenario")
    return others.sub(base, level="replication")


def balance(paired: pd.DataFrame) -> pd.DataFrame:
    """Per scenario: the median over replications of the bed-nights removed (a year), of where
    they went (nights without a bed by state, nights after leaving, the other parts), of the
    sum of all parts' changes (zero: nothing lost or counted twice), and the share of the
    removed bed-nights found as nights without a bed and as nights after leaving."""
    parts = pd.DataFrame(paired[PART]).drop(columns="total")
    removed = -parts["in_shelter_bed"]
    out = pd.DataFrame({"bed_nights_removed": removed})
    for state in paired[WITHOUT].columns.drop("total"):
        out[f"without_a_bed:{state}"] = paired[(WITHOUT, state)]
    for part in parts.columns.drop("in_shelter_bed"):
        out[part] = parts[part]
    out["sum_of_all_changes"] = parts.sum(axis=1)
    ratio = removed.where(removed > 0)
    out["share_without_a_bed"] = parts["without_a_bed"] / ratio
    out["share_after_leaving"] = parts["after_leaving"] / ratio
    out["share_both"] = (parts["without_a_bed"] + parts["after_leaving"]) / ratio
    return out.groupby(level="scenario", observed=True).median().T
