"""The summary in words, written from the numbers of a report (Dutch or English)."""

from __future__ import annotations

import pandas as pd

from sim.study.report.data import COST, Report
from sim.study.report.text import metric_name, quoted

SCENARIOS_MOST = 12  # scenarios named in the summary; the tables have all


def summary(report: Report, lang: str) -> list[str]:
    """Paragraphs: what was run, the baseline's headline figures, each scenario's paired
    differences (on the figures of :func:`_chosen`) and what is missing."""
    paragraphs = [_about(report, lang), _baseline(report, lang)]
    paragraphs += _differences(report, lang)
    if report.missing:
        names = ", ".join(metric_name(lang, m, g) for m, g in report.missing)
        paragraphs.append(f"Niet in deze resultaten: {names}." if lang == "nl"
                          else f"Not in these results: {names}.")
    return [p for p in paragraphs if p]


def _years(report: Report) -> str:
    first, last = report.years
    return str(first) if first == last else f"{first}-{last}"


def _about(report: Report, lang: str) -> str:
    n, reps, years = len(report.scenarios), report.replications, _years(report)
    if lang == "nl":
        plural = "" if n == 1 else "'s"
        text = (f"{report.name}: {n} scenario{plural} x {reps} replicaties, "
                f"jaarlijks gemiddelde over {years}. Elk cijfer is de mediaan met tussen haken het "
                "bereik waarbinnen 95 % van de replicaties valt.")
        return text + (" De replicaties trekken hun parameters uit de kalibratie-posterior."
                       if report.posterior else " Alle replicaties gebruiken één parameterset: "
                       "goed voor een eerste blik, niet om een beleidsantwoord te citeren.")
    text = (f"{report.name}: {n} scenario{'' if n == 1 else 's'} x {reps} replications, yearly "
            f"mean over {years}. Each figure is the median, with in brackets the range that holds "
            "95 % of the replications.")
    return text + (" The replications draw their parameters from the calibration posterior."
                   if report.posterior else " Every replication uses one parameter set: fine for a "
                   "first look, not for quoting a policy answer.")


def _baseline(report: Report, lang: str) -> str:
    rows = report.headline[report.headline["scenario"] == report.baseline]
    parts = [f"{metric_name(lang, r['metric'], r['group'])} {quoted(r, lang, r['metric'])}"
             for _, r in rows.iterrows()]
    if not parts:
        return ""
    head = (f"In {report.baseline} (de basis) per jaar: " if lang == "nl"
            else f"In {report.baseline} (the baseline), a year: ")
    return head + "; ".join(parts) + "."


def _chosen(diffs: pd.DataFrame) -> list[tuple[str, str]]:
    """The figures a scenario's sentence names: the first three headline figures other than
    cost (people without a bed are read with people sheltered), then the budget line whose
    median difference is largest in any scenario."""
    pairs = list(dict.fromkeys(zip(diffs["metric"], diffs["group"], strict=True)))
    chosen = [p for p in pairs if p[0] != COST][:3]
    cost = diffs[diffs["metric"] == COST]
    if not cost.empty:
        largest = cost["median"].abs().to_numpy().argmax()
        chosen.append((COST, str(cost["group"].iloc[largest])))
    return chosen


def _differences(report: Report, lang: str) -> list[str]:
    diffs = report.differences
    if diffs is None or diffs.empty:
        return []
    first = _chosen(diffs)
    out = []
    for scenario in [s for s in report.scenarios if s != report.baseline][:SCENARIOS_MOST]:
        parts = []
        for metric, group in first:
            row = diffs[(diffs["scenario"] == scenario) & (diffs["metric"] == metric)
                        & (diffs["group"] == group)]
            if row.empty:
                continue
            r = row.iloc[0]
            settled = r["p2.5"] > 0 or r["p97.5"] < 0
            word = (("richting vast" if settled else "richting niet vast") if lang == "nl"
                    else ("sign settled" if settled else "sign not settled"))
            parts.append(f"{metric_name(lang, metric, group)} {quoted(r, lang, metric, True)} ({word})")
        if parts:
            head = (f"{scenario} min {report.baseline}, gepaard: " if lang == "nl"
                    else f"{scenario} minus {report.baseline}, paired: ")
            out.append(head + "; ".join(parts) + ".")
    return out
