"""The baseline model still gives the saved reference run (scripts/update_reference.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from reference import REFERENCE_FILE, reference_annual


def test_baseline_matches_saved_reference_run() -> None:
    saved = pd.read_csv(REFERENCE_FILE, keep_default_na=False, na_values=[""])
    now = reference_annual()
    keys = ["replication", "year", "metric", "group"]
    assert now[keys].astype(str).equals(saved[keys].astype(str)), "rows differ from the reference"
    np.testing.assert_allclose(now["value"].to_numpy(float), saved["value"].to_numpy(float),
                               rtol=1e-7, atol=1e-9, equal_nan=True)
