"""How much common random numbers shrink the variance of a paired scenario difference.

Usage: python scripts/crn_variance.py [--experiment FILE] [--scenario NAME] [--replications N]
                                      [--years FIRST-LAST] [--workers W]

For each replication r the baseline runs with (seed, r) and the other scenario twice: with
the same (seed, r), as a sweep does (common random numbers: the same clients arrive with the
same personal draws), and with another seed (independent streams, as if every scenario had
its own seed). For each indicator (yearly mean over the years) it prints the variance of the
replication-by-replication difference both ways, their ratio (how many times more
replications independent seeds need for the same precision) with a 95 % bootstrap interval
over replications, and the mean difference with its 95 % t interval both ways.
"""

from __future__ import annotations

import argparse
import functools
import os

import numpy as np
import pandas as pd
from scipy import stats

from sim.batch.backends import make_backend
from sim.batch.tasks import Task, run_task
from sim.study.experiment import read_experiment

METRICS = ("street_nights", "mean_wait_for_bed_days")
OTHER_SEED = 1  # independent streams: the scenario's seed is the experiment's plus this


def indicators(annual: pd.DataFrame, years: tuple[int, int]) -> dict[str, float]:
    """Yearly means of the metrics (group total) over the years, from one replication's table."""
    chosen = annual[annual["metric"].isin(METRICS) & (annual["group"] == "total")
                    & annual["year"].between(*years)]
    return {m: float(v) for m, v in chosen.groupby("metric")["value"].mean().items()}


def ratio_interval(crn: np.ndarray, independent: np.ndarray, draws: int = 4000) -> tuple[float, float]:
    """95 % bootstrap interval of var(independent) / var(crn), resampling replications."""
    rng = np.random.default_rng(20190101)
    idx = rng.integers(0, len(crn), size=(draws, len(crn)))
    ratios = independent[idx].var(axis=1, ddof=1) / crn[idx].var(axis=1, ddof=1)
    lo, hi = np.quantile(ratios, [0.025, 0.975])
    return float(lo), float(hi)


def t_interval(x: np.ndarray) -> str:
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return f"{x.mean():,.2f} [{x.mean() - half:,.2f}, {x.mean() + half:,.2f}]"


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.4g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--experiment", default="experiments/velserpoort_fewer_places.toml")
    parser.add_argument("--scenario", default=None, help="default: the first that is not the baseline")
    parser.add_argument("--replications", type=int, default=None, help="default: the experiment's")
    parser.add_argument("--years", default="2021-2025")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    exp = read_experiment(args.experiment)
    name = args.scenario or next(s for s in exp.scenarios if s != exp.baseline)
    n = args.replications or exp.replications
    first, last = (int(y) for y in args.years.split("-"))
    base, alt = exp.scenarios[exp.baseline].model, exp.scenarios[name].model
    runs = {"baseline": (base, exp.seed), "crn": (alt, exp.seed), "independent": (alt, exp.seed + OTHER_SEED)}
    statistic = functools.partial(indicators, years=(first, last))
    jobs = [Task(label, r, seed, model, tables=(), statistic=statistic)
            for label, (model, seed) in runs.items() for r in range(n)]
    with make_backend(args.workers) as backend:
        results = [out.statistic for out in backend.map(run_task, jobs, ordered=True)]
    values = {label: pd.DataFrame(results[i * n:(i + 1) * n]) for i, label in enumerate(runs)}

    print(f"{args.experiment}: {name} minus {exp.baseline}, {n} replications, seed {exp.seed} "
          f"(independent: seed {exp.seed + OTHER_SEED} for {name}); yearly means {first}-{last}\n")
    for metric in METRICS:
        crn = (values["crn"][metric] - values["baseline"][metric]).to_numpy()
        ind = (values["independent"][metric] - values["baseline"][metric]).to_numpy()
        var_crn, var_ind = crn.var(ddof=1), ind.var(ddof=1)
        lo, hi = ratio_interval(crn, ind)
        print(f"{metric}")
        print(f"  variance of the paired difference, independent seeds : {_num(var_ind)}")
        print(f"  variance of the paired difference, common numbers    : {_num(var_crn)}")
        print(f"  reduction factor (independent / common)              : {var_ind / var_crn:,.1f} "
              f"[95 % bootstrap {lo:,.1f}, {hi:,.1f}]  ({1 - var_crn / var_ind:.0%} less variance)")
        print(f"  mean difference, common numbers (95 % t)             : {t_interval(crn)}")
        print(f"  mean difference, independent seeds (95 % t)          : {t_interval(ind)}\n")


if __name__ == "__main__":
    main()
