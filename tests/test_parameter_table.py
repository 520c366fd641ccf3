"""The free-parameter table of calibration/README.md is the committed fit's."""

from __future__ import annotations

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_calibration_readme_carries_the_committed_fit_parameter_table() -> None:
    script = runpy.run_path(str(ROOT / "scripts" / "write_parameter_table.py"))
    written = (ROOT / "calibration" / "README.md").read_text(encoding="utf-8")
    assert script["with_table"](written) == written, "run: python scripts/write_parameter_table.py"
    assert script["table"]().count("\n| `") == 46
