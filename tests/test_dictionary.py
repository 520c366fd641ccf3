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


def test_the_indicators_that_lists_name_exist_in_the_baseline() -> None:
    """The key indicators, the sensitivity defaults and the report's headline name rows of the
    baseline's yearly table (a metric built from a pool's or state's name would otherwise drop
    out silently when the model renames it)."""
    from sim.measure.indicators import KEY_INDICATORS
    from sim.study.report.data import HEADLINE
    from sim.study.sensitivity import DEFAULT_OUTCOMES

    _, rep = run(short(haarlem_raw(), end_year=2019, warmup=0))
    rows = set(zip(rep.annual["metric"], rep.annual["group"], strict=True))
    metrics = {m for m, _ in rows}
    for metric, group in (*KEY_INDICATORS, *DEFAULT_OUTCOMES, *HEADLINE):
        assert (metric, group) in rows if group is not None else metric in metrics, (metric, group)
