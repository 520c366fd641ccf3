"""The data dictionary covers every metric a run reports, and docs/metrics.md is up to date."""

from __future__ import annotations

from pathlib import Path

from simcheck import haarlem_raw, run, short

from sim.measure.dictionary import expanded, markdown

ROOT = Path(__file__).resolve().parent.parent


def test_every_metric_of_a_run_has_an_entry() -> None:
    model, rep = run(short(haarlem_raw(), end_year=2020, warmup=1), 3)
    known = expanded(model)
    reported = set(rep.annual["metric"])
    missing = sorted(reported - set(known))
    assert not missing, f"metrics without an entry in sim/measure/dictionary.py: {missing}"
    stale = sorted(name for name in known if name not in reported)
    assert not stale, f"entries of sim/measure/dictionary.py that the run does not report: {stale}"


def test_docs_metrics_md_is_written_from_the_dictionary() -> None:
    written = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert written == markdown() + "\n", "run: python scripts/write_metric_docs.py"
