"""Posterior predictive check and identifiability of a fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from sim.engine.streams import Streams
from sim.study.calibration.abc import Population, Simulate, weighted_quantile
from sim.study.calibration.components import Components
from sim.study.calibration.parameters import Priors

CHECK_INDEX = 10_000_000  # simulation indices of the check start here, apart from the fit's
QUANTILES = {"lo95": 0.025, "lo50": 0.25, "median": 0.5, "hi50": 0.75, "hi95": 0.975}


def predictive_check(posterior: Population, components: Components, simulate: Simulate, seed: int,
                     draws: int, progress: bool = True) -> pd.DataFrame:
    """Every target beside the simulated median and 50 % and 95 % intervals.

    ``draws`` parameter sets are resampled from the posterior by weight; each is simulated
    once with its own seed, so the intervals carry parameter uncertainty and randomness.
    """
    rng = Streams(seed, 0).get("calibration/check")
    picks = rng.choice(len(posterior.particles), size=draws, p=posterior.weights)
    tasks = [(posterior.particles[i], CHECK_INDEX + j) for j, i in enumerate(picks)]
    simulated = np.vstack([simulate(tasks[k:k + 50]) for k in
                           tqdm(range(0, len(tasks), 50), desc="predictive check",
                                disable=not progress)])
    table = components.table[["year", "metric", "group", "observed", "weight",
                              "not_modelled", "one_sided"]].copy()
    for name, q in QUANTILES.items():
        table[name] = np.quantile(simulated, q, axis=0)
    one_sided = table["one_sided"].to_numpy()  # a fact: a bound the statistic stays above
    table["inside95"] = (table["observed"] <= table["hi95"]) & (
        one_sided | (table["observed"] >= table["lo95"]))
    table["inside50"] = (table["observed"] <= table["hi50"]) & (
        one_sided | (table["observed"] >= table["lo50"]))
    return table


def identifiability(post: Population, priors: Priors) -> pd.DataFrame:
    """How much the data narrowed each parameter: posterior against prior, on the unit scale.

    ``width_ratio`` is the width of the 95 % posterior interval over that of the prior
    (0.95 of the range); ``sd_ratio`` the posterior over the prior standard deviation. A
    parameter counts as constrained when its 95 % interval is less than half the prior's.
    """
    rows = []
    for j, (name, p) in enumerate(priors.parameters.items()):
        u = post.particles[:, j]
        lo, med, hi = (weighted_quantile(u, post.weights, q) for q in (0.025, 0.5, 0.975))
        mean = np.sum(post.weights * u)
        sd = np.sqrt(np.sum(post.weights * (u - mean) ** 2))
        rows.append({
            "parameter": name, "prior_low": p.low, "prior_high": p.high, "scale": p.scale,
            "posterior_median": p.from_unit(med), "posterior_lo95": p.from_unit(lo),
            "posterior_hi95": p.from_unit(hi),
            "width_ratio": (hi - lo) / 0.95, "sd_ratio": sd * np.sqrt(12.0),
        })
    table = pd.DataFrame(rows)
    table["constrained"] = table["width_ratio"] < 0.5
    return table


def write_figure(check: pd.DataFrame, path: Path,
                 title: str = "Posterior predictive check: observed (x) against simulated intervals"
                 ) -> None:
    """Observed values against the simulated 50 % and 95 % intervals, one panel per metric
    (a fact's bound is shown as its observed value)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="paper")
    shown = check[~check["not_modelled"]]
    metrics = list(dict.fromkeys(shown["metric"]))
    cols = 3
    rows = -(-len(metrics) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        part = shown[shown["metric"] == metric].reset_index(drop=True)
        labels = [f"{g}\n{y}" if g != "total" else str(y)
                  for g, y in zip(part["group"], part["year"], strict=True)]
        x = np.arange(len(part))
        ax.vlines(x, part["lo95"], part["hi95"], color="C0", alpha=0.35, lw=6, label="95 %")
        ax.vlines(x, part["lo50"], part["hi50"], color="C0", lw=6, label="50 %")
        ax.scatter(x, part["median"], color="white", edgecolor="C0", zorder=3, s=18,
                   label="median")
        ax.scatter(x, part["observed"], color="C3", marker="x", zorder=4, s=30, label="observed")
        ax.set_title(metric, fontsize=9)
        ax.set_xticks(x, labels, fontsize=6, rotation=90 if len(part) > 6 else 0)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=6, loc="best")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
