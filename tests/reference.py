"""The saved reference run: its definition, shared by the test and the update script."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.batch.runner import run
from sim.model.files import load

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_FILE = ROOT / "tests" / "data" / "reference_annual.csv"
SEED, REPLICATIONS, UNTIL = 20190101, 2, 2022


def reference_annual() -> pd.DataFrame:
    """The baseline model, two replications, 2019-2022: the yearly table."""
    results = run(load(ROOT / "models" / "haarlem.toml"), REPLICATIONS, SEED, until_year=UNTIL,
                  progress=False)
    table = results.tables["annual"]
    return table[["replication", "year", "metric", "group", "value"]].reset_index(drop=True)
