"""What a search leaves: the candidates table, the front, the selected mix, and figures.

Under ``RESULTS/optimisation/``: ``candidates.parquet`` and ``.csv`` (every distinct candidate:
decision values, each measure's mean with its 95 % t interval and median with 2.5-97.5 %
quantiles over the search's replications, feasibility, front membership, the selection
stage's replications and outcome), ``front.csv``, ``selection.json`` (the selected mix, its
guarantee in words, and its paired differences against the baseline), ``front.png`` and
``selected_vs_baseline.png``. :func:`figures` returns the figures from a results folder (for
``opvang report``).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure  # no pyplot: no display and no global figure state

from sim.batch.dataset import write_atomic
from sim.study.compare import intervals
from sim.study.optimise.spec import Optimise

FOLDER = "optimisation"
STATS = ("mean", "mean_lo95", "mean_hi95", "median", "p2.5", "p97.5")


def labels(spec: Optimise) -> list[str]:
    """A column label per measure: ``metric:group``, with the years where two differ only in
    them (the same measure twice, e.g. objective and constraint, has one label)."""
    plain = [m.name for m in spec.measures]
    clash = {p for p in plain if len({m.years for q, m in zip(plain, spec.measures, strict=True)
                                       if q == p}) > 1}
    return [f"{p}@{m.years[0]}-{m.years[1]}" if p in clash else p
            for p, m in zip(plain, spec.measures, strict=True)]


def distinct(spec: Optimise) -> dict[str, int]:
    """Each distinct label and the first measure it stands for."""
    out: dict[str, int] = {}
    for j, name in enumerate(labels(spec)):
        out.setdefault(name, j)
    return out


def described(values: dict[str, np.ndarray], spec: Optimise, baseline: str) -> pd.DataFrame:
    """Each candidate's measures (rows: replications) described over replications, one row each,
    then each measure's paired difference against ``baseline`` (mean and 95 % t interval)."""
    table = _described(values, spec)
    paired = _described({c: rows - values[baseline] for c, rows in values.items()}, spec)
    for name in distinct(spec):
        for stat in STATS[:3]:
            table[f"{name} vs baseline {stat}"] = paired[f"{name} {stat}"]
    return table


def _described(values: dict[str, np.ndarray], spec: Optimise) -> pd.DataFrame:
    names = distinct(spec)
    long = pd.DataFrame([{"metric": name, "group": "", "scenario": c, "replication": r, "value": row[j]}
                         for c, rows in values.items() for r, row in enumerate(rows)
                         for name, j in names.items()])
    table = intervals(long)
    wide = table.pivot(index="scenario", columns="metric", values=list(STATS))
    wide.columns = [f"{pair[1]} {pair[0]}" for pair in wide.columns.to_flat_index()]
    ordered = [f"{n} {s}" for n in names for s in STATS]
    return wide[ordered].reindex(list(values)).rename_axis("candidate").reset_index()


def pareto(means: np.ndarray, senses: list[str]) -> np.ndarray:
    """Whether each row is on the front (no other row at least as good everywhere and better once)."""
    x = np.where(np.array(senses) == "maximise", -means, means)
    n = len(x)
    front = np.ones(n, dtype=bool)
    for i in range(n):
        better_eq = (x <= x[i]).all(axis=1)
        strictly = (x < x[i]).any(axis=1)
        front[i] = not (better_eq & strictly).any()
    return front


def write_outputs(out: Path, table: pd.DataFrame, selection: dict[str, Any]) -> Path:
    """Write the tables, the selection and the figures atomically; the folder."""
    folder = out / FOLDER
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    write_atomic(folder / "candidates.parquet", buffer.getvalue())
    write_atomic(folder / "candidates.csv", table.to_csv(index=False).encode())
    write_atomic(folder / "front.csv", table[table["on_front"]].to_csv(index=False).encode())
    write_atomic(folder / "selection.json", json.dumps(selection, indent=2, sort_keys=True).encode())
    for name, fig in _figures(table, selection).items():
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
        write_atomic(folder / f"{name}.png", buffer.getvalue())
    return folder


def figures(results: str | Path) -> dict[str, Figure]:
    """The search's figures, from its results folder alone (from any working directory):
    ``front`` and ``selected_vs_baseline``."""
    folder = Path(results) / FOLDER
    table = pd.read_parquet(folder / "candidates.parquet")
    selection = json.loads((folder / "selection.json").read_text())
    return _figures(table, selection)


def _figures(table: pd.DataFrame, selection: dict[str, Any]) -> dict[str, Figure]:
    return {"front": _front(table, selection),
            "selected_vs_baseline": _against_baseline(selection)}


def _front(table: pd.DataFrame, selection: dict[str, Any]) -> Figure:
    names = selection["measures"]
    x_name = names[1] if len(names) > 1 else names[0]
    y_name = names[0]
    fig = Figure(figsize=(7, 5))
    ax = fig.subplots()
    groups = ((table[~table["feasible"]], "0.75", "infeasible (mean)"),
              (table[table["feasible"] & ~table["on_front"]], "C0", "feasible"),
              (table[table["on_front"]], "C3", "front"))
    for subset, color, label in groups:
        if subset.empty:
            continue
        ax.errorbar(subset[f"{x_name} vs baseline mean"], subset[f"{y_name} vs baseline mean"],
                    xerr=_err(subset, f"{x_name} vs baseline"), yerr=_err(subset, f"{y_name} vs baseline"),
                    fmt="o", ms=4, capsize=2, lw=0.8, color=color, label=label)
    for name, marker, text in ((selection["baseline"], "*", "baseline"),
                               (selection["selected"], "D", "selected")):
        row = table[table["candidate"] == name]
        if not row.empty:
            ax.scatter(row[f"{x_name} vs baseline mean"], row[f"{y_name} vs baseline mean"],
                       marker=marker, s=160, facecolors="none", edgecolors="k", zorder=5, label=text)
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_xlabel(f"{x_name}: minus baseline")
    ax.set_ylabel(f"{y_name}: minus baseline")
    ax.set_title("Candidates against the baseline: paired mean difference over the posterior\n"
                 "draws, with its 95 % interval (common random numbers)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _err(rows: pd.DataFrame, name: str) -> np.ndarray:
    mean = rows[f"{name} mean"].to_numpy()
    low, high = rows[f"{name} mean_lo95"].to_numpy(), rows[f"{name} mean_hi95"].to_numpy()
    return np.vstack([mean - low, high - mean])


def _against_baseline(selection: dict[str, Any]) -> Figure:
    paired = selection["against_baseline"]
    fig = Figure(figsize=(3.2 * len(paired), 4))
    axes = fig.subplots(1, len(paired), squeeze=False)
    for ax, (name, item) in zip(axes[0], paired.items(), strict=True):
        values = np.asarray(item["per_replication"], dtype=float)
        jitter = np.linspace(-0.15, 0.15, len(values))
        ax.scatter(jitter, values, s=8, color="0.5")
        ax.errorbar([0.35], [item["median"]], yerr=[[item["median"] - item["p2.5"]],
                    [item["p97.5"] - item["median"]]], fmt="o", color="C3", capsize=4)
        ax.axhline(0, color="k", lw=0.6)
        ax.set_xticks([])
        ax.set_title(name, fontsize=9)
    axes[0][0].set_ylabel("selected minus baseline, per replication\n(median, 2.5-97.5 %)")
    fig.suptitle(f"{selection['selected']} against {selection['baseline']} (paired, "
                 f"{selection['against_baseline_replications']} replications)", fontsize=10)
    fig.tight_layout()
    return fig
