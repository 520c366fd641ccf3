"""Rewrite the saved reference run that tests/test_reference.py compares against.

Run this only when a change of the model's behaviour is intended, and say why in the commit:
    python scripts/update_reference.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from reference import REFERENCE_FILE, reference_annual  # noqa: E402


def main() -> None:
    table = reference_annual()
    table.to_csv(REFERENCE_FILE, index=False, float_format="%.9g")
    print(f"wrote {len(table)} rows to {REFERENCE_FILE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
