"""The summary of a sweep as a table for a spreadsheet (CSV) or a document (Markdown).

``opvang summary RESULTS --format csv > summary.csv`` writes one tidy table: a row per
indicator and scenario (``table = scenarios``), then a row per indicator and scenario
against the baseline (``table = differences``, paired by replication), the numbers unrounded
(``relative`` as a fraction). ``--format markdown`` writes the same two tables rounded for
reading, with the experiment and the years above them.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

NUMBERS = ("n", "median", "p2.5", "p97.5", "mean", "mean_lo95", "mean_hi95", "relative", "n_for_10pct")
FORMATS = ("text", "csv", "markdown")


def summary_csv(scenarios: pd.DataFrame, differences: pd.DataFrame | None, baseline: str,
                years: tuple[int, int]) -> str:
    """Both tables as one CSV text, with columns ``table, baseline, first_year, last_year``."""
    parts = [scenarios.assign(table="scenarios", baseline="")]
    if differences is not None:
        parts.append(differences.assign(table="differences", baseline=baseline))
    frame = pd.concat(parts, ignore_index=True)
    frame["first_year"], frame["last_year"] = years
    for column in ("n", "n_for_10pct"):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column]).round().astype("Int64")
    first = ["table", "metric", "group", "scenario", "baseline"]
    frame = frame[first + [c for c in frame if c not in first]]
    return str(frame.to_csv(index=False, lineterminator="\n"))


def markdown_table(table: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table; numbers rounded and right-aligned."""
    shown = table.copy()
    numeric = [c for c in shown if c in NUMBERS]
    for column in numeric:
        shown[column] = shown[column].map(lambda x, c=column: _number(x, c))
    header = [str(c) for c in shown]
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join("---:" if c in numeric else "---" for c in header) + " |"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in shown.itertuples(index=False)]
    return "\n".join(lines)


def markdown_document(title: str, note: str, sections: Sequence[tuple[str, str, pd.DataFrame]]) -> str:
    """A title and a paragraph, then under each heading a paragraph and a table."""
    out = [f"# {title}", "", note, ""]
    for heading, text, table in sections:
        out += [f"## {heading}", "", text, "", markdown_table(table), ""]
    return "\n".join(out)


def _number(x: object, column: str) -> str:
    if x is None or pd.isna(x):  # type: ignore[call-overload]
        return ""
    value = float(x)  # type: ignore[arg-type]
    if column == "relative":
        return f"{value:+.1%}"
    if column in ("n", "n_for_10pct"):
        return f"{int(value)}"
    return f"{value:,.1f}"


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|")
