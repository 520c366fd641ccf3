"""How many replications a paired difference needs for a given precision."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.study.compare import paired_differences, replications_for


def test_replications_for_a_half_width_of_ten_percent() -> None:
    table = pd.DataFrame({"n": [3, 3, 3, 1], "mean": [2.0, 0.0, 1e-300, 1.0],
                          "mean_lo95": [1.0, 0.0, -1.0, np.nan], "mean_hi95": [3.0, 0.0, 1.0, np.nan]})
    # half-width 1 at n = 3 for a mean of 2: 10 % (0.2) needs (1 / 0.2)^2 = 25 times as many
    assert replications_for(table).tolist() == [75, pd.NA, pd.NA, pd.NA]


def test_paired_differences_say_how_many_replications_they_used_and_need() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(100, 10, 50)
    values = pd.DataFrame({
        "metric": "street_nights", "group": "total",
        "scenario": ["baseline"] * 50 + ["fewer"] * 50, "replication": list(range(50)) * 2,
        "value": np.concatenate([base, base + 5 + rng.normal(0, 1, 50)])})
    row = paired_differences(values, "baseline").iloc[0]
    assert row["n"] == 50 and abs(row["mean"] - 5) < 0.5 and abs(row["median"] - 5) < 0.5
    assert row["p2.5"] < row["median"] < row["p97.5"]
    half = (row["mean_hi95"] - row["mean_lo95"]) / 2
    assert row["n_for_10pct"] == int(np.ceil(50 * (half / (0.1 * abs(row["mean"]))) ** 2))
