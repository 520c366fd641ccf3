"""The main indicators: one list, printed by ``opvang run`` and compared by ``opvang summary``."""

from __future__ import annotations

import pandas as pd

# (metric, group); group None: every group of the metric (per state, channel, budget line).
# The people first: who gets a bed and who is without one (street nights are one state of
# nights_without_a_bed, never the headline: most people without a bed are not on the street).
KEY_INDICATORS: tuple[tuple[str, str | None], ...] = (
    ("people_without_a_bed", "total"),
    ("people_sheltered", "total"),
    ("nights_without_a_bed", None),
    ("nights_after_leaving", "total"),
    ("shelter_placements", "total"),
    ("mean_wait_for_bed_days", "total"),
    ("stays_over_9_months", "total"),
    ("mean_stay_days", "total"),
    ("bw_waiting_list", "total"),
    ("mean_wait_bw_days", "total"),
    ("bct_returns", "total"),
    ("returning_regularly", "total"),
    ("outflow", None),
    ("cost_eur", None),
)

Indicators = tuple[tuple[str, str | None], ...]


def select(annual: pd.DataFrame, indicators: Indicators = KEY_INDICATORS) -> pd.DataFrame:
    """The rows of the indicators (default the key ones), in their order, then group."""
    rank = pd.Series(-1, index=annual.index)
    for i, (metric, group) in enumerate(indicators):
        match = (annual["metric"] == metric) & (True if group is None else annual["group"] == group)
        rank = rank.mask(match, i)
    chosen = annual.assign(_rank=rank)[rank >= 0]
    return chosen.sort_values(["_rank", "group"], kind="stable").drop(columns="_rank")
