"""Sensitivity indices of a sampled sweep (``opvang sensitivity RESULTS``), computed by SALib.

The sweep of an experiment with a ``[sample]`` (:mod:`sim.study.sampling`) keeps its design in the
manifest: the method, the seed, the factors with their ranges and every point in the unit
cube. For each outcome (a metric and group of the annual table), a point's value is the
yearly mean over the chosen years, averaged over the point's replications (common random
numbers: every point ran the same seeds). SALib then computes, per factor:

- ``morris``: ``mu_star`` (the mean absolute elementary effect: the change of the outcome,
  in its own units, when the factor moves one step of the grid, 2/3 of its range with 4
  levels), its 95 % bootstrap interval ``mu_star_conf``, ``mu`` (the signed mean: direction)
  and ``sigma`` (spread of the effects: interaction or non-linearity). Ranked by ``mu_star``.
- ``sobol``: first-order ``S1`` and total ``ST`` shares of the outcome's variance, with their
  95 % intervals. Ranked by ``ST``.
- ``latin``: RBD-FAST's first-order ``S1`` with its interval (10 harmonics from 100 points,
  4 below; at least 9 points, and a few hundred to tell small effects from noise: with few
  points S1 is biased upward). Ranked by ``S1``.

Rank 1 is the most influential factor. The bootstrap intervals use a generator seeded from
the sample's seed, so the table is a function of the results: the same seed gives the same
sample, the same results and the same ranking. ``sensitivity.csv`` holds the table and
``sensitivity.png`` one panel per outcome (factors by rank, bars coloured by parameter or
lever, with the interval).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.batch.dataset import read_manifest, write_atomic
from sim.input.errors import InputError, did_you_mean
from sim.study.sampling import Design, from_record

DEFAULT_OUTCOMES: tuple[tuple[str, str], ...] = (
    ("people_without_a_bed", "total"),
    ("nights_without_a_bed", "total"),
    ("stays_over_9_months", "total"),
    ("bw_waiting_list", "total"),
    ("mean_wait_for_bed_days", "total"),
)
INDICES = {  # method: (the index that ranks, its interval, the other columns)
    "morris": ("mu_star", "mu_star_conf", ("mu", "sigma")),
    "sobol": ("ST", "ST_conf", ("S1", "S1_conf")),
    "latin": ("S1", "S1_conf", ()),
}
LATIN_FULL = 100  # points from which RBD-FAST sums 10 harmonics (4 below)
CSV = "sensitivity.csv"
PNG = "sensitivity.png"


@dataclass(frozen=True)
class Analysis:
    """Indices of every outcome, and what they were computed from."""

    experiment: str
    design: Design
    years: tuple[int, int]
    replications: int  # per point (the least, when points differ)
    table: pd.DataFrame  # one row per outcome and factor
    skipped: dict[str, str]  # outcome -> why it has no indices


def parse_outcome(text: str) -> tuple[str, str]:
    """``METRIC`` or ``METRIC:GROUP`` (group ``total`` when not given)."""
    metric, _, group = text.partition(":")
    return metric.strip(), (group.strip() or "total")


def design_of(results: Path) -> tuple[Design, dict[str, Any]]:
    """The sampled design recorded in a sweep's manifest, and the manifest."""
    manifest = read_manifest(results) if results.is_dir() else None
    if manifest is None:
        raise InputError(str(results), "", "no sweep here (no manifest.json); expected the "
                         "results folder of `opvang sweep` of an experiment with a [sample]")
    record = (manifest.get("definition") or {}).get("sample")
    if record is None:
        raise InputError(str(results), "", f"experiment {manifest.get('experiment')} has no "
                         "[sample]: sensitivity indices need a sampled design (see sim.study.sampling)")
    return from_record(record), manifest


def analyse(results: str | Path, annual: pd.DataFrame,
            outcomes: Sequence[tuple[str, str]] = DEFAULT_OUTCOMES,
            years: tuple[int, int] | None = None) -> Analysis:
    """The indices of ``outcomes`` from the annual table of a sampled sweep."""
    results = Path(results)
    design, manifest = design_of(results)
    years = years or (int(annual["year"].min()), int(annual["year"].max()))
    values, replications = point_values(annual, design, outcomes, years, str(results))
    rows, skipped = [], {}
    for (metric, group), y in values.items():
        label = f"{metric}:{group}"
        if y.isna().any():
            skipped[label] = f"no value at {int(y.isna().sum())} of {len(y)} points in {years[0]}-{years[1]}"
            continue
        rows.append(indices(design, y.to_numpy(dtype=float)).assign(metric=metric, group=group))
    if not rows:
        raise InputError("--outcome", "", "no outcome has a value at every point: "
                         + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    table = pd.concat(rows, ignore_index=True)
    table.insert(0, "experiment", manifest.get("experiment") or results.name)
    table.insert(1, "method", design.method)
    table["first_year"], table["last_year"] = years
    first = ["experiment", "method", "metric", "group", "rank", "factor", "kind"]
    table = table[first + [c for c in table if c not in first]]
    return Analysis(str(table["experiment"].iloc[0]), design, years, replications, table, skipped)


def point_values(annual: pd.DataFrame, design: Design, outcomes: Sequence[tuple[str, str]],
                 years: tuple[int, int], where: str = "results"
                 ) -> tuple[dict[tuple[str, str], pd.Series], int]:
    """Per outcome, the value of each point in design order: the yearly mean over ``years``,
    averaged over the point's replications. Points without results are an error."""
    names = design.names
    have = annual.loc[annual["scenario"].isin(names), ["scenario", "replication"]].drop_duplicates()
    counts = have.groupby("scenario", observed=True).size().reindex(names, fill_value=0)
    missing = counts[counts == 0]
    if len(missing):
        raise InputError(where, "", f"{len(missing)} of {len(names)} sample points have no "
                         f"results yet (first: {missing.index[0]}); run `opvang sweep` again to finish")
    known = set(zip(annual["metric"], annual["group"], strict=True))
    for metric, group in outcomes:
        if (metric, group) not in known:
            near = (did_you_mean(group, sorted({g for m, g in known if m == metric}), f"{metric}:{{}}")
                    if metric in {m for m, _ in known} else did_you_mean(metric, {m for m, _ in known}))
            raise InputError("--outcome", f"{metric}:{group}", "not in the annual table; expected "
                             f"METRIC or METRIC:GROUP, e.g. street_nights or outflow:pact{near}")
    chosen = annual[annual["year"].between(*years) & annual["scenario"].isin(names)]
    out = {}
    for metric, group in outcomes:
        rows = chosen[(chosen["metric"] == metric) & (chosen["group"] == group)]
        yearly = rows.groupby(["scenario", "replication"], observed=True)["value"].mean()
        out[(metric, group)] = yearly.groupby(level="scenario", observed=True).mean().reindex(names)
    return out, int(counts.min())


def indices(design: Design, y: np.ndarray) -> pd.DataFrame:
    """SALib's indices of one outcome, one row per factor, ranked (1: most influential)."""
    from SALib.analyze import morris, rbd_fast, sobol  # imported here: only this command needs it

    problem = design.problem()
    x = np.asarray(design.unit, dtype=float)
    rng = np.random.default_rng(design.seed)  # bootstrap intervals, no global random state
    if design.method == "morris":
        result = morris.analyze(problem, x, y, num_levels=design.levels or 4, seed=rng)
    elif design.method == "sobol":
        result = sobol.analyze(problem, y, calc_second_order=False, seed=rng)
    else:
        harmonics = 10 if len(y) >= LATIN_FULL else 4  # SALib's 10 needs many points
        if len(y) < 2 * harmonics + 1:
            raise InputError("sample.n", "", f"{len(y)} points are too few for RBD-FAST (at least "
                             f"{2 * harmonics + 1}; a few hundred to tell small effects from noise)")
        result = rbd_fast.analyze(problem, x, y, M=harmonics, seed=rng)
    main, conf, others = INDICES[design.method]
    table = pd.DataFrame({"factor": list(design.factors),
                          "kind": [design.kinds[k] for k in design.factors]})
    for column in (main, conf, *others):
        table[column] = np.asarray(result[column], dtype=float)
    table["rank"] = table[main].rank(ascending=False, method="min").astype(int)
    for column in ("low", "high", "scale"):
        table[column] = [getattr(design.factors[k], column) for k in design.factors]
    return table.sort_values(["rank", "factor"], kind="stable").reset_index(drop=True)


def write(analysis: Analysis, out: Path) -> tuple[Path, Path]:
    """``sensitivity.csv`` and ``sensitivity.png`` in ``out``, each written atomically."""
    out.mkdir(parents=True, exist_ok=True)
    csv, png = out / CSV, out / PNG
    write_atomic(csv, analysis.table.to_csv(index=False).encode())
    buffer = io.BytesIO()
    figure(analysis).savefig(buffer, format="png", dpi=110)
    write_atomic(png, buffer.getvalue())
    return csv, png


def figure(analysis: Analysis) -> Any:
    """One panel per outcome: each factor's ranking index with its interval, by rank."""
    import seaborn as sns
    from matplotlib.figure import Figure  # no pyplot: no display and no global figure state

    main, conf, _ = INDICES[analysis.design.method]
    table = analysis.table
    outcomes = list(dict.fromkeys(zip(table["metric"], table["group"], strict=True)))
    cols = min(2, len(outcomes))
    rows = -(-len(outcomes) // cols)
    height = 0.9 + 0.28 * len(analysis.design.factors)
    fig = Figure(figsize=(6.8 * cols, height * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    palette = {"parameter": "C0", "lever": "C1"}
    for ax, (metric, group) in zip(axes.flat, outcomes, strict=False):
        part = table[(table["metric"] == metric) & (table["group"] == group)]
        sns.barplot(data=part, x=main, y="factor", hue="kind", palette=palette, dodge=False,
                    ax=ax, legend=ax is axes.flat[0])
        ax.errorbar(part[main], np.arange(len(part)), xerr=part[conf].fillna(0).to_numpy(),
                    fmt="none", ecolor="black", elinewidth=0.8, capsize=2)
        ax.set_title(metric if group == "total" else f"{metric} ({group})", fontsize=9)
        ax.set_ylabel("")
        ax.tick_params(axis="y", labelsize=7)
    for ax in list(axes.flat)[len(outcomes):]:
        ax.set_visible(False)
    reps = analysis.replications
    fig.suptitle(f"{analysis.experiment}: {analysis.design.method} {main} with 95 % interval; yearly "
                 f"means {_years(analysis.years)}, mean of {reps} replication{'s' if reps > 1 else ''} "
                 "per point", fontsize=10)
    return fig


def _years(years: tuple[int, int]) -> str:
    return str(years[0]) if years[0] == years[1] else f"{years[0]}-{years[1]}"


def format_analysis(analysis: Analysis) -> str:
    """The ranking of each outcome as plain text."""
    main, conf, others = INDICES[analysis.design.method]
    blocks = []
    for (metric, group), part in analysis.table.groupby(["metric", "group"], sort=False):
        shown = part[["rank", "factor", "kind", main, conf, *others]].copy()
        for column in (main, conf, *others):
            shown[column] = shown[column].map(lambda x: "" if pd.isna(x) else f"{x:,.3g}")
        blocks.append(f"{metric} ({group}):\n{shown.to_string(index=False)}")
    for label, why in analysis.skipped.items():
        blocks.append(f"{label}: skipped ({why})")
    return "\n\n".join(blocks)
