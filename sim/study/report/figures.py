"""The figures of a report, each a matplotlib Figure (no pyplot: no display, no global state),
or None where the results lack what it shows."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from sim.study.report.data import COST, FAN_MOST, Report
from sim.study.report.text import STATES, label, metric_name
from sim.study.sensitivity import INDICES

TOP_FACTORS = 8
FOREST_MOST = 40  # scenarios in the forest plot (a sampled design has hundreds; the table has all)


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96, metadata={"Software": None})  # no address in it
    return buffer.getvalue()


def _shown(report: Report, most: int = FAN_MOST) -> list[str]:
    """The baseline first, then the other scenarios, ``most`` in all."""
    return [report.baseline, *[s for s in report.scenarios if s != report.baseline]][:most]


def _grid(n: int, cols: int, width: float, height: float, title: str) -> tuple[Figure, list[Any]]:
    cols = max(1, min(cols, n))
    rows = -(-n // cols)
    fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
    axes = list(fig.subplots(rows, cols, squeeze=False).flat)
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=11)
    return fig, axes[:n]


def fan(report: Report, lang: str) -> Figure | None:
    """Each headline figure by year: the median over replications with its 50 % and 95 % bands,
    per scenario."""
    table = report.yearly[report.yearly["metric"] != COST]
    outcomes = list(dict.fromkeys(zip(table["metric"], table["group"], strict=True)))
    if not outcomes:
        return None
    fig, axes = _grid(len(outcomes), 2, 5.6, 3.4, label(lang, "fan"))
    for ax, (metric, group) in zip(axes, outcomes, strict=True):
        for i, scenario in enumerate(_shown(report)):
            rows = table[(table["metric"] == metric) & (table["group"] == group)
                         & (table["scenario"] == scenario)].sort_values("year")
            color = f"C{i}"
            ax.fill_between(rows["year"], rows["p2.5"], rows["p97.5"], color=color, alpha=0.12, lw=0)
            ax.fill_between(rows["year"], rows["p25"], rows["p75"], color=color, alpha=0.25, lw=0)
            ax.plot(rows["year"], rows["median"], marker="o", ms=3, color=color, label=scenario)
        ax.set_title(metric_name(lang, metric, group), fontsize=9)
        ax.set_xlabel(label(lang, "year"))
        _years_axis(ax, report.years)
    axes[0].legend(fontsize=7)
    return fig


def _years_axis(ax: Any, years: tuple[int, int]) -> None:
    """Whole years on the x axis, also when there is one."""
    ax.set_xlim(years[0] - 0.5, years[1] + 0.5)
    step = max(1, -(-(years[1] - years[0] + 1) // 12))
    ax.set_xticks(range(years[0], years[1] + 1, step))


def forest(report: Report, lang: str) -> Figure | None:
    """Paired differences to the baseline: median and 2.5-97.5 % per scenario and figure."""
    diffs = report.differences
    if diffs is None or diffs.empty:
        return None
    outcomes = list(dict.fromkeys(zip(diffs["metric"], diffs["group"], strict=True)))
    every = [s for s in report.scenarios if s != report.baseline]
    others = every[:FOREST_MOST]
    shown = "" if len(others) == len(every) else f"; {len(others)} of {len(every)} scenarios"
    fig, axes = _grid(len(outcomes), 2, 5.6, 0.9 + 0.32 * len(others),
                      f"{label(lang, 'forest')} ({report.baseline}{shown})")
    for ax, (metric, group) in zip(axes, outcomes, strict=True):
        rows = diffs[(diffs["metric"] == metric) & (diffs["group"] == group)]
        rows = rows.set_index("scenario").reindex(others)
        y = np.arange(len(rows))
        scale = 1e6 if metric.startswith("cost") else 1.0
        mid = rows["median"].to_numpy(float) / scale
        err = np.vstack([mid - rows["p2.5"].to_numpy(float) / scale,
                         rows["p97.5"].to_numpy(float) / scale - mid])
        ax.errorbar(mid, y, xerr=err, fmt="o", color="C0", ecolor="C0", capsize=3)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(y, list(rows.index), fontsize=7)
        ax.invert_yaxis()
        unit = f" ({label(lang, 'euro_m')})" if scale > 1 else ""
        ax.set_title(metric_name(lang, metric, group) + unit, fontsize=9)
    return fig


def states(report: Report, lang: str) -> Figure | None:
    """Nights without a bed by state, a panel per state (each on its own scale): median and
    2.5-97.5 % per scenario."""
    table = report.states
    if table.empty:
        return None
    shown = _shown(report, 12)
    names = [s for s in STATES[lang] if s in set(table["state"])]
    source = report.state_metric.replace("{state}", "<state>")
    fig, axes = _grid(len(names), 2, 5.2, 0.9 + 0.3 * len(shown), f"{label(lang, 'states')} ({source})")
    for j, (ax, state) in enumerate(zip(axes, names, strict=True)):
        rows = table[table["state"] == state].set_index("scenario").reindex(shown)
        mid = rows["median"].to_numpy(float)
        err = np.vstack([mid - rows["p2.5"].to_numpy(float), rows["p97.5"].to_numpy(float) - mid])
        ax.barh(np.arange(len(shown)), mid, xerr=np.nan_to_num(err), color=f"C{j}", capsize=2)
        ax.set_yticks(np.arange(len(shown)), shown, fontsize=7)
        ax.invert_yaxis()
        ax.set_title(f"{STATES[lang][state]} ({label(lang, 'nights_per_year')})", fontsize=9)
    return fig


def occupancy(report: Report, lang: str) -> Figure | None:
    """Per facility and month: occupied places (median, 95 % band) against the capacity."""
    table = report.occupancy
    if table is None or table.empty:
        return None
    opened = table.groupby(table["facility"].astype(str))["capacity"].max()
    facilities = [f for f in dict.fromkeys(table["facility"].astype(str)) if opened[f] > 0]
    if not facilities:
        return None
    fig, axes = _grid(len(facilities), 4, 3.6, 2.3, label(lang, "occupancy"))
    for ax, facility in zip(axes, facilities, strict=True):
        for i, scenario in enumerate(dict.fromkeys(table["scenario"].astype(str))):
            rows = table[(table["facility"].astype(str) == facility)
                         & (table["scenario"].astype(str) == scenario)].sort_values("month")
            color = f"C{i}"
            ax.fill_between(rows["month"], rows["p2.5"], rows["p97.5"], color=color, alpha=0.2, lw=0)
            ax.plot(rows["month"], rows["median"], color=color, lw=1, label=f"{scenario}: "
                    f"{label(lang, 'occupied')}")
            ax.step(rows["month"], rows["capacity"], where="post", color=color, ls="--", lw=0.9,
                    label=f"{scenario}: {label(lang, 'capacity')}")
        ax.set_title(facility[:38], fontsize=8)
        locator = AutoDateLocator(minticks=3, maxticks=7)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        ax.tick_params(labelsize=6)
        ax.set_ylim(bottom=0)
    axes[0].legend(fontsize=5)
    return fig


def budget(report: Report, lang: str) -> Figure | None:
    """Spending per budget line by year (median, 95 % band) against the national budget."""
    table = report.budget
    if table.empty:
        return None
    lines = list(dict.fromkeys(table["line"]))
    fig, axes = _grid(len(lines), 2, 5.2, 3.0, label(lang, "budget"))
    for ax, line in zip(axes, lines, strict=True):
        for i, scenario in enumerate(_shown(report, 3)):
            rows = table[(table["line"] == line) & (table["scenario"] == scenario)].sort_values("year")
            color = f"C{i}"
            ax.fill_between(rows["year"], rows["p2.5"] / 1e6, rows["p97.5"] / 1e6, color=color,
                            alpha=0.15, lw=0)
            ax.plot(rows["year"], rows["median"] / 1e6, marker="o", ms=3, color=color,
                    label=f"{scenario}: {label(lang, 'cost')}")
            if i == 0:
                ax.plot(rows["year"], rows["budget"] / 1e6, color="black", ls="--", marker="_",
                        label=label(lang, "budget_line"))
        ax.set_title(f"{line.replace('_', ' ')} ({label(lang, 'euro_m')})", fontsize=9)
        _years_axis(ax, report.years)
    axes[0].legend(fontsize=7)
    return fig


def calibration(report: Report, lang: str) -> Figure | None:
    """Every target row: the predictive 95 % interval and median divided by the observed value
    (1: on the mark), coloured by whether the observed value is inside."""
    table = report.calibration
    if table is None:
        return None
    table = table[table["observed"] != 0].reset_index(drop=True)
    if table.empty:
        return None
    fig = Figure(figsize=(8, 1.0 + 0.16 * len(table)), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(table))
    obs = table["observed"].to_numpy(float)
    inside = table["inside95"].astype(bool).to_numpy()
    for mask, color, key in ((inside, "C0", "inside"), (~inside, "C3", "outside")):
        ax.hlines(y[mask], table["lo95"][mask] / obs[mask], table["hi95"][mask] / obs[mask],
                  color=color, lw=2, label=f"{label(lang, 'predicted')}: {label(lang, key)}")
        ax.plot(table["median"][mask] / obs[mask], y[mask], "|", color="black", ms=6)
    ax.axvline(1, color="grey", lw=0.8)
    ax.set_xscale("log")
    ticks = [t for t in (0.125, 0.25, 0.5, 1, 2, 4, 8) if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    names = [f"{r.year} {r.metric} {r.group}" for r in table.itertuples()]
    ax.set_yticks(y, names, fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel(label(lang, "simulated_over_observed"))
    ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(f"{label(lang, 'calibration')}: {int(inside.sum())} / {len(table)} "
                 f"{label(lang, 'inside')}", fontsize=11)
    return fig


def sensitivity(report: Report, lang: str) -> Figure | None:
    """The factors that drive each outcome most (the sensitivity.csv of the folder)."""
    table = report.sensitivity
    if table is None or table.empty:
        return None
    main = INDICES[str(table["method"].iloc[0])][0]
    outcomes = list(dict.fromkeys(zip(table["metric"], table["group"], strict=True)))
    fig, axes = _grid(len(outcomes), 2, 5.4, 0.8 + 0.3 * TOP_FACTORS, label(lang, "sensitivity"))
    for ax, (metric, group) in zip(axes, outcomes, strict=True):
        rows = table[(table["metric"] == metric) & (table["group"] == group)].nsmallest(TOP_FACTORS, "rank")
        colors = ["C1" if k == "lever" else "C0" for k in rows["kind"]]
        ax.barh(np.arange(len(rows)), rows[main], color=colors)
        ax.set_yticks(np.arange(len(rows)), list(rows["factor"]), fontsize=6)
        ax.invert_yaxis()
        ax.set_title(f"{metric_name(lang, metric, group)} ({main})", fontsize=9)
    return fig


FIGURES: dict[str, Callable[[Report, str], Figure | None]] = {
    "fan": fan, "forest": forest, "states": states, "occupancy": occupancy, "budget": budget,
    "calibration": calibration, "sensitivity": sensitivity,
}


def all_png(report: Report, lang: str) -> dict[str, bytes | None]:
    """Every figure kind as PNG bytes (None where the results lack it)."""
    out: dict[str, bytes | None] = {}
    for kind, draw in FIGURES.items():
        fig = draw(report, lang)
        out[kind] = None if fig is None else png(fig)
    return out
