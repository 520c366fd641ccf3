"""Helpers for the analysis notebooks: run or read an experiment's sweep, and describe it.

A notebook asks a question of an experiment file (``experiments/NAME.toml``). It calls
:func:`results_of` to get the sweep's results folder (running the sweep there, resuming, when
it is incomplete), :func:`indicators` for yearly means per scenario and replication, and
:func:`sim.study.compare.intervals` and :func:`sim.study.compare.paired_differences` to describe them.
Environment: ``OPVANG_NOTEBOOK_REPLICATIONS=N`` runs every sweep with N replications (into
``results/NAME-rN``; the tests use 2), ``OPVANG_NOTEBOOK_RESULTS=DIR`` puts results under DIR.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.measure.dictionary import METRICS as DICTIONARY
from sim.study.compare import per_replication
from sim.study.optimise.run import run_optimise
from sim.study.sweep import run_experiment

ROOT = Path(__file__).resolve().parents[2]


def replications_override() -> int | None:
    """The small number of replications the tests ask for, or None (the file's own)."""
    return int(os.environ.get("OPVANG_NOTEBOOK_REPLICATIONS", "0") or 0) or None


def results_of(name: str, root: Path = ROOT) -> Path:
    """The results folder of ``experiments/NAME.toml``; the sweep runs (or resumes) there
    unless it is complete."""
    small = replications_override()
    base = Path(os.environ.get("OPVANG_NOTEBOOK_RESULTS", root / "results"))
    out = base / (f"{name}-r{small}" if small else name)
    manifest = out / "manifest.json"
    if not (manifest.exists() and json.loads(manifest.read_text())["status"] == "complete"):
        run_experiment(root / "experiments" / f"{name}.toml", out, replications=small,
                       progress=False)
    return out


def optimisation_of(name: str, root: Path = ROOT) -> Path:
    """The results folder of ``opvang optimise experiments/NAME.toml`` (``results/NAME-optimise``);
    the search runs (or resumes) there unless it is complete. With
    ``OPVANG_NOTEBOOK_REPLICATIONS=N`` each candidate gets N draws, the search at most 4N trials
    and the selection at most 2N replications (into ``results/NAME-optimise-rN``)."""
    small = replications_override()
    base = Path(os.environ.get("OPVANG_NOTEBOOK_RESULTS", root / "results"))
    out = base / (f"{name}-optimise-r{small}" if small else f"{name}-optimise")
    manifest = out / "manifest.json"
    if not (manifest.exists() and json.loads(manifest.read_text())["status"] == "complete"):
        path = root / "experiments" / f"{name}.toml"
        if small:
            run_optimise(path, out, replications=max(small, 2), trials=4 * max(small, 2),
                         max_replications=2 * max(small, 2), progress=False)
        else:
            run_optimise(path, out, progress=False)
    return out


def indicators(annual: pd.DataFrame, named: dict[str, tuple[str, str | None]],
               years: tuple[int, int]) -> pd.DataFrame:
    """Yearly means over ``years`` per scenario and replication of the named indicators
    ({label: (metric, group)}; group None: the sum over every group but ``total``)."""
    parts = []
    for label, (metric, group) in named.items():
        rows = annual[annual["metric"] == metric]
        if group is None:
            summed = rows[rows["group"] != "total"].groupby(
                ["scenario", "replication", "year"], observed=True)["value"].sum()
            rows = summed.reset_index().assign(metric=metric, group="all")
        values = per_replication(rows, years, ((metric, group or "all"),))
        parts.append(values.assign(metric=label))
    return pd.concat(parts, ignore_index=True)


def quote(row: pd.Series, digits: int = 0) -> str:
    """A described figure as it is quoted: median [2.5 %, 97.5 %]."""
    f = f"{{:,.{digits}f}}"
    return f"{f.format(row['median'])} [{f.format(row['p2.5'])}, {f.format(row['p97.5'])}]"


def paired_values(values: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Scenario minus baseline per replication: columns metric, scenario, replication, value."""
    base = values[values["scenario"] == baseline].drop(columns=["scenario", "group"])
    others = values[values["scenario"] != baseline]
    paired = others.merge(base, on=["metric", "replication"], suffixes=("", "_base"))
    paired["value"] = paired["value"] - paired["value_base"]
    return paired[["metric", "scenario", "replication", "value"]]


def drivers(out: Path, paired: pd.DataFrame, top: int = 6) -> pd.DataFrame:
    """Which posterior parameters a difference depends on: the rank correlation (Spearman), over
    replications, of each paired difference with each parameter of the replication's posterior
    draw (the sweep's manifest records them). Empty without a posterior."""
    manifest = json.loads((out / "manifest.json").read_text())
    draws = (manifest.get("posterior") or {}).get("draws") or []
    if not draws:
        return pd.DataFrame(columns=["metric", "scenario", "parameter", "spearman"])
    params = pd.DataFrame([{"replication": d["replication"], **d["values"]} for d in draws])
    params = params.loc[:, params.nunique() > 1]  # fixed keys (complements of fixed ones) say nothing
    rows = []
    for (metric, scenario), part in paired.groupby(["metric", "scenario"], sort=False):
        joined = part.merge(params, on="replication")
        corr = joined.drop(columns=["metric", "scenario", "replication"]).corr(method="spearman")["value"]
        corr = corr.drop("value").dropna()
        best = corr.reindex(corr.abs().sort_values(ascending=False).index)[:top]
        rows += [{"metric": metric, "scenario": scenario, "parameter": p, "spearman": r}
                 for p, r in best.items()]
    return pd.DataFrame(rows)


# --- the answer in words, written from the numbers of the run -------------------------------

# The headline of every policy notebook ({label: (metric, group)}, for :func:`indicators`):
# people sheltered and people without a bed, then the nights without a bed with their
# decomposition by state (street nights are one line of it), and the nights after leaving.
HEADLINE: dict[str, tuple[str, str]] = {
    "people sheltered": ("people_sheltered", "total"),
    "people without a bed": ("people_without_a_bed", "total"),
    "nights without a bed": ("nights_without_a_bed", "total"),
    "nights without a bed: street": ("nights_without_a_bed", "street"),
    "nights without a bed: with others": ("nights_without_a_bed", "with_others"),
    "nights without a bed: in a hotel": ("nights_without_a_bed", "in_hotel"),
    "nights without a bed: out of sight": ("nights_without_a_bed", "out_of_sight"),
    "nights after leaving": ("nights_after_leaving", "total"),
}
FEW_REPLICATIONS = 20  # below this, the 2.5-97.5 % range is little more than the spread of a few values

Item = tuple[str, str, str]  # (label in the table, metric, group)


def items_of(named: Mapping[str, tuple[str, str | None]], labels: Sequence[str] | None = None) -> list[Item]:
    """(label, metric, group) of named indicators ({label: (metric, group)}, as for
    :func:`indicators`; ``labels``: these only, in this order), for the answer helpers below; group
    None (a sum over groups) becomes ``all``."""
    return [(label, named[label][0], named[label][1] or "all") for label in (labels or list(named))]


PEOPLE = items_of(HEADLINE, ["people sheltered", "people without a bed"])
NIGHTS = items_of(HEADLINE, ["nights without a bed"])
# a paired difference only: its level grows over the years (everyone who ever left)
AFTER = items_of(HEADLINE, ["nights after leaving"])
STATES = [item for item in items_of(HEADLINE) if item[1] == "nights_without_a_bed" and item[2] != "total"]


def unit_of(metric: str) -> str:
    """The unit of a metric of the yearly table (``docs/metrics.md``); a family's name
    (``{regime}_users``) matches each of its metrics. Empty when the metric is not there."""
    for entry in DICTIONARY:
        pattern = re.escape(entry.name)
        pattern = re.sub(r"\\\{[a-z_]+\\\}", ".+", pattern)
        if re.fullmatch(pattern, metric):
            return entry.unit
    return ""


def number(value: float, metric: str, difference: bool = False, digits: int | None = None) -> str:
    """A value as it is read in a sentence, without its unit: money in millions, a
    share in per cent (a difference of shares in percentage points), counts of 10 and more
    whole; a difference with its sign."""
    if pd.isna(value):
        return "n/a"
    unit = unit_of(metric)
    x = float(value)
    if unit.startswith("euro"):
        text = f"{x / 1e6:,.2f}"
    elif unit == "share":
        text = f"{100 * x:,.{1 if digits is None else digits}f}"
    else:
        text = f"{x:,.{(0 if abs(x) >= 10 else 1) if digits is None else digits}f}"
    if difference and not text.startswith("-") and x != 0:
        text = "+" + text
    return text


def unit_words(metric: str, difference: bool = False) -> str:
    """The unit of a metric in words: ``persons a year``, ``nights a year``, ``M euro a year``,
    ``%`` (a difference: ``percentage points``), ``days``."""
    unit = unit_of(metric)
    if unit == "share":
        return "percentage points" if difference else "%"
    if unit == "person-nights/year":
        return "nights a year"
    if unit == "euro/year":
        return "M euro a year"
    if unit.endswith("/year"):
        return unit.removesuffix("/year") + " a year"
    return unit


def quoted(row: pd.Series, metric: str, difference: bool = False, unit: bool = True) -> str:
    """A described figure in words: ``+12 [3, 25] persons a year`` (``unit`` False: without
    the unit); counts with one number of decimals for the three (none when any is 10 or more)."""
    values = [float(row[k]) for k in ("median", "p2.5", "p97.5")]
    digits = None
    if unit_of(metric) != "share" and not unit_of(metric).startswith("euro"):
        digits = 0 if max((abs(v) for v in values if not pd.isna(v)), default=0) >= 10 else 1
    med, lo, hi = (number(v, metric, difference, digits) for v in values)
    words = unit_words(metric, difference) if unit else ""
    return f"{med} [{lo}, {hi}]" + (f" {words}" if words else "")


def direction(row: pd.Series) -> int:
    """+1 when the whole 2.5-97.5 % range is above 0, -1 when it is below, 0 when it holds 0
    (the direction is not settled)."""
    if row["p2.5"] > 0:
        return 1
    if row["p97.5"] < 0:
        return -1
    return 0


def pick(row: pd.Series, up: str, down: str, unsettled: str) -> str:
    """One of three sentences, by the sign the paired difference's range settles (or not)."""
    return {1: up, -1: down, 0: unsettled}[direction(row)]


def row_of(table: pd.DataFrame, label: str, scenario: str, group: str | None = None) -> pd.Series:
    """The row of an :func:`indicators` label (and group) for a scenario in a described table
    (:func:`sim.study.compare.intervals` or :func:`sim.study.compare.paired_differences`)."""
    match = (table["metric"] == label) & (table["scenario"] == scenario)
    if group is not None:
        match &= table["group"] == group
    rows = table[match]
    if len(rows) != 1:
        raise KeyError(f"{len(rows)} rows for {label!r} ({group or 'any group'}) in {scenario!r}")
    return rows.iloc[0]


def plain(label: str) -> str:
    """A label as a sentence names it: without a unit in brackets at its end."""
    return re.sub(r"\s*\([^)]*\)$", "", label.strip())


def change(row: pd.Series, label: str, metric: str) -> str:
    """A paired difference in words: its label (without a unit in brackets), median and range
    with sign and unit, the relative change against the baseline where known, and whether its
    range settles the sign; ``unchanged`` when it is 0 in every replication."""
    name = plain(label)
    if row["p2.5"] == 0 and row["p97.5"] == 0:
        return f"{name} unchanged (0 in every replication)"
    notes = []
    relative = row.get("relative")
    if relative is not None and not pd.isna(relative) and np.isfinite(relative) and round(100 * relative):
        notes.append(f"{100 * relative:+.0f} %")
    if direction(row) == 0:
        notes.append("the range holds 0: direction not settled")
    return f"{name} {quoted(row, metric, difference=True)}" + (f" ({'; '.join(notes)})" if notes else "")


def changes(diff: pd.DataFrame, scenario: str, items: Sequence[Item]) -> str:
    """The items' paired differences in a scenario (:func:`change`), joined by semicolons."""
    return "; ".join(change(row_of(diff, label, scenario, group), label, metric)
                     for label, metric, group in items)


def part_name(label: str) -> str:
    """The part of a decomposition's label after its figure's name: ``street`` of
    ``nights without a bed: street``."""
    return label.rsplit(": ", 1)[-1]


def difference_lines(diff: pd.DataFrame, scenarios: Sequence[str], items: Sequence[Item],
                     names: Mapping[str, str] | None = None,
                     details: Sequence[Item] = ()) -> list[str]:
    """Markdown bullets, one per scenario: each item's paired difference (:func:`change`), from
    a :func:`sim.study.compare.paired_differences` table of :func:`indicators` values;
    ``details`` (e.g. :data:`STATES`, the nights by state) on an indented line below, each by
    the part of its label after the colon."""
    lines = []
    for scenario in scenarios:
        lines.append(f"* **{(names or {}).get(scenario, scenario)}**: {changes(diff, scenario, items)}.")
        if details:
            shown = "; ".join(change(row_of(diff, label, scenario, group), part_name(label), metric)
                              for label, metric, group in details)
            lines.append(f"  * of which {shown}.")
    return lines


def difference_table(diff: pd.DataFrame, scenarios: Sequence[str], items: Sequence[Item],
                     first: str = "scenario") -> str:
    """A Markdown table of paired differences: one row per scenario, one column per item
    (median [2.5 %, 97.5 %], the unit in the column's head)."""
    head = [first] + [f"{plain(label)} ({unit_words(metric, True)})" for label, metric, _ in items]
    rows = [[scenario] + [quoted(row_of(diff, label, scenario, group), metric, True, unit=False)
                          for label, metric, group in items] for scenario in scenarios]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def level_line(level: pd.DataFrame, scenario: str, items: Sequence[Item]) -> str:
    """The items' levels in a scenario, as quoted: ``people without a bed 480 [400, 560]
    persons a year; ...`` (from an :func:`sim.study.compare.intervals` table)."""
    return "; ".join(f"{plain(label)} {quoted(row_of(level, label, scenario, group), metric)}"
                     for label, metric, group in items)


def about_run(n: int, years: tuple[int, int], against: str) -> str:
    """The opening of a generated answer: how many paired replications, which years, against
    what; with few replications, a warning that the ranges are those of a few values."""
    text = (f"Over {n} paired replications (each its own posterior draw and clients), yearly means "
            f"{years[0]}-{years[1]}; each scenario minus {against}, median [2.5 %, 97.5 %] of the "
            "paired differences.")
    if n < FEW_REPLICATIONS:
        text += (f" *With {n} replications these ranges are the spread of {n} values, not a 95 % "
                 "range: run the experiment's own number of replications before quoting them.*")
    return text


def driver_phrase(driven: pd.DataFrame, label: str, scenario: str, n: int) -> str:
    """The posterior parameter a paired difference goes with most (Spearman over replications),
    or why none is named (too few replications, no posterior)."""
    if n < FEW_REPLICATIONS:
        return f"with {n} replications no rank correlation means anything"
    part = driven[(driven["metric"] == label) & (driven["scenario"] == scenario)]
    if part.empty:
        return "no posterior parameter (no draws)"
    best = part.iloc[part["spearman"].abs().to_numpy().argmax()]
    if abs(best["spearman"]) < 0.3:
        return (f"no parameter clearly (the strongest, `{best['parameter']}`, Spearman "
                f"{best['spearman']:+.2f})")
    return f"`{best['parameter']}` (Spearman {best['spearman']:+.2f})"


@dataclass(frozen=True)
class BreakEven:
    """Where a paired difference crosses 0 along a swept effect size, if it does."""

    value: float | None  # the size where the median crosses 0 (linear interpolation)
    kind: str  # crossing; open (the range holds 0 at every size); above or below (0 at every size)
    settled: bool  # crossing: tested sizes on either side have a range that excludes 0
    text: str  # the finding in words


def break_even(curve: pd.DataFrame) -> BreakEven:
    """The break-even size of a swept effect: ``curve`` has one row per tested size (columns
    value, median, p2.5, p97.5 of the paired difference). None where the range holds 0 at every
    tested size, or where the median keeps one sign over the tested range: then there is none
    to give."""
    part = curve.sort_values("value")
    x, y = part["value"].to_numpy(float), part["median"].to_numpy(float)
    signs = [direction(r) for _, r in part.iterrows()]
    span = f"{x.min():g} to {x.max():g}"
    if not any(signs):
        return BreakEven(None, "open", False, f"none: the range holds 0 at every tested size ({span})")
    for i in range(len(x) - 1):
        if y[i] * y[i + 1] <= 0 and (y[i], y[i + 1]) != (0, 0):
            at = float(x[i] + (x[i + 1] - x[i]) * y[i] / (y[i] - y[i + 1]))
            if 1 in signs and -1 in signs:
                return BreakEven(at, "crossing", True,
                                 f"about {at:.3g} (tested sizes on either side settle the sign)")
            return BreakEven(at, "crossing", False, f"about {at:.3g}, uncertain: on one side of it "
                             "the range holds 0 at every tested size")
    side = "above" if (y > 0).all() else "below"
    return BreakEven(None, side, False, f"none within {span}: the median is {side} 0 at every tested size")
