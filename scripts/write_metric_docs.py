"""Write docs/metrics.md from the data dictionary in sim/measure/dictionary.py.

Usage: python scripts/write_metric_docs.py
"""

from __future__ import annotations

from pathlib import Path

from sim.measure.dictionary import markdown

DOCS = Path(__file__).resolve().parent.parent / "docs" / "metrics.md"

if __name__ == "__main__":
    DOCS.write_text(markdown() + "\n", encoding="utf-8")
    print(f"wrote {DOCS}")
