"""The report as one self-contained HTML file: figures embedded as base64 PNG, the style
inline, nothing loaded from anywhere when it is opened."""

from __future__ import annotations

import base64
import datetime as dt
from html import escape

import pandas as pd

from sim.study.report.data import Report
from sim.study.report.summary import summary
from sim.study.report.text import QUOTING, digits_for, label, metric_name, number, quoted, signed

STYLE = """
body { font-family: sans-serif; max-width: 70em; margin: 1em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border-bottom: 1px solid #ddd; padding: 0.2em 0.6em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; } .note { color: #555; font-size: 0.9em; }
"""


def render(report: Report, lang: str, figures: dict[str, bytes | None]) -> str:
    """The whole document."""
    title = f"{label(lang, 'title')}: {report.name}"
    return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{escape(title)}</h1>\n{_about(report, lang)}\n{fragment(report, lang, figures)}"
            "\n</body>\n</html>\n")


def fragment(report: Report, lang: str, figures: dict[str, bytes | None]) -> str:
    """The summary, the headline table and the figures, as HTML without a page around them
    (the explorer page shows it)."""
    body = [_summary(report, lang), _headline(report, lang)]
    notes = {"forest": label(lang, "no_differences"), "occupancy": label(lang, "no_daily"),
             "sensitivity": label(lang, "no_sensitivity"),
             "calibration": f"{label(lang, 'no_calibration')}: {report.calibration_source}"}
    for kind, data in figures.items():
        extra = _calibration_note(report, lang) if kind == "calibration" and data else ""
        body.append(_figure(kind, lang, data, notes.get(kind, ""), extra))
    return "\n".join(body)


def _about(report: Report, lang: str) -> str:
    when = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    return (f'<p class="note">{escape(label(lang, "generated"))} <code>{escape(str(report.results))}'
            f"</code> ({escape(report.kind)}), {when}.</p>")


def _summary(report: Report, lang: str) -> str:
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in summary(report, lang))
    rules = "".join(f"<li>{escape(rule)}</li>" for rule in QUOTING[lang])
    return (f'<section id="summary"><h2>{escape(label(lang, "summary"))}</h2>{paragraphs}'
            f"<h3>{escape(label(lang, 'quoting'))}</h3><ul>{rules}</ul></section>")


def _cell(value: float, text: str, **keys: str) -> str:
    attrs = " ".join(f'data-{k}="{escape(str(v))}"' for k, v in keys.items())
    return f'<td class="num" {attrs} data-value="{float(value)!r}">{escape(text)}</td>'


def _headline(report: Report, lang: str) -> str:
    """One row per headline figure and scenario: median, range, paired difference."""
    head = [label(lang, "figure"), label(lang, "scenario"), label(lang, "median"),
            label(lang, "range"), label(lang, "difference"), label(lang, "relative")]
    rows = ["<tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"]
    diffs = report.differences if report.differences is not None else pd.DataFrame(
        columns=["metric", "group", "scenario"])
    for _, r in report.headline.iterrows():
        metric, group, scenario = str(r["metric"]), str(r["group"]), str(r["scenario"])
        keys = {"metric": metric, "group": group, "scenario": scenario}
        d = digits_for(r["median"], r["p2.5"], r["p97.5"])
        cells = [f"<td>{escape(metric_name(lang, metric, group))}</td>", f"<td>{escape(scenario)}</td>",
                 _cell(r["median"], number(r["median"], lang, metric, d), stat="median", **keys),
                 f'<td class="num">[{escape(number(r["p2.5"], lang, metric, d))}, '
                 f'{escape(number(r["p97.5"], lang, metric, d))}]</td>']
        match = diffs[(diffs["metric"] == metric) & (diffs["group"] == group)
                      & (diffs["scenario"] == scenario)]
        if match.empty:
            cells += ["<td></td>", "<td></td>"]
        else:
            row = match.iloc[0]
            cells.append(_cell(row["median"], quoted(row, lang, metric, True), stat="difference", **keys))
            relative = "" if pd.isna(row["relative"]) else signed(100 * row["relative"], lang) + " %"
            cells.append(f'<td class="num">{escape(relative)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    for metric, group in report.missing:
        rows.append(f'<tr class="missing" data-metric="{escape(metric)}"><td>'
                    f"{escape(metric_name(lang, metric, group))}</td><td colspan=\"5\">"
                    f"{escape(label(lang, 'missing'))}</td></tr>")
    return (f'<section id="headline"><h2>{escape(label(lang, "headline"))}</h2>'
            f"<table>{''.join(rows)}</table></section>")


def _calibration_note(report: Report, lang: str) -> str:
    table = report.calibration
    inside = 0 if table is None else int(table["inside95"].astype(bool).sum())
    total = 0 if table is None else len(table)
    return (f'<p class="note">{escape(label(lang, "calibration_from"))} '
            f"<code>{escape(report.calibration_source)}</code>: {inside} / {total} "
            f"{escape(label(lang, 'inside'))}.</p>")


def _figure(kind: str, lang: str, data: bytes | None, note: str, extra: str) -> str:
    title = escape(label(lang, kind))
    if data is None:
        return (f'<section id="{kind}" class="figure" data-kind="{kind}"><h2>{title}</h2>'
                f'<p class="note">{escape(note)}</p></section>')
    encoded = base64.b64encode(data).decode("ascii")
    return (f'<section id="{kind}" class="figure" data-kind="{kind}"><h2>{title}</h2>{extra}'
            f'<img alt="{title}" src="data:image/png;base64,{encoded}"></section>')
