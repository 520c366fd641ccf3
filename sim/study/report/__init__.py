"""``opvang report RESULTS``: one self-contained HTML file of a run or a sweep, with its figures.

The parts: :mod:`~sim.study.report.data` computes the numbers (the headline figures are named
once, in ``data.HEADLINE``), :mod:`~sim.study.report.figures` draws them,
:mod:`~sim.study.report.text` and :mod:`~sim.study.report.summary` hold the Dutch and English
words, :mod:`~sim.study.report.html` writes the document. :func:`write` ties them together.
"""

from __future__ import annotations

from pathlib import Path

from sim.batch.dataset import write_atomic
from sim.input.errors import InputError
from sim.study.report.data import HEADLINE, Report, build
from sim.study.report.figures import FIGURES, all_png
from sim.study.report.html import render
from sim.study.report.text import LANGUAGES

__all__ = ["FIGURES", "HEADLINE", "LANGUAGES", "Report", "build", "default_out", "write"]


def default_out(results: Path, lang: str) -> Path:
    """``RESULTS/report-LANG.html``."""
    return results / f"report-{lang}.html"


def write(results: str | Path, out: str | Path | None = None, lang: str = "en",
          years: tuple[int, int] | None = None, baseline: str | None = None) -> tuple[Path, list[Path]]:
    """Write the report of ``results`` to ``out`` (default ``RESULTS/report-LANG.html``) and each
    figure as a PNG file in ``OUT-figures/``; return the HTML file and the PNG files.

    Each file is written whole or not at all (a temporary file renamed into place); a report
    written before at the same place is replaced (it is computed from the results again).
    """
    if lang not in LANGUAGES:
        raise InputError("--lang", "", f"expected one of {', '.join(LANGUAGES)}, got {lang!r}")
    results = Path(results)
    report = build(results, years, baseline)
    figures = all_png(report, lang)
    out = Path(out) if out is not None else default_out(results, lang)
    write_atomic(out, render(report, lang, figures).encode("utf-8"))
    folder = out.with_name(f"{out.stem}-figures")
    pngs = []
    for kind, data in figures.items():
        if data is not None:
            pngs.append(folder / f"{kind}.png")
            write_atomic(pngs[-1], data)
    return out, pngs
