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
from pathlib import Path

import pandas as pd

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
