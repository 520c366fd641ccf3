"""Validation of opvang optimise on a problem small enough for an exhaustive grid (issue 22).

Usage: python scripts/validate_optimise.py [--workers 2] [--seeds 5]

The problem: from 2025, Wilhelminastraat's places (20-50 in steps of 5) and room type
(dormitory or single) and Housing First homes a year for Haarlem (10-40 in steps of 10): 56
mixes. Minimise the nights outside (street_nights, total, yearly mean 2025-2026) while the MO
spending stays at most the region's as now (cost_eur maatschappelijke_opvang, the same years):
"within today's budget". Over the calibration posterior, 8 draws per evaluation.

The grid is an ordinary sweep of the 56 mixes and the baseline (8 draws each); its best is the
feasible mix with the fewest nights outside on those 8 draws. The optimiser (TPE, 16 trials, then
KN among its best 4 with delta = 100 nights) runs with several search seeds. Because every
evaluation uses the same draws and seeds (common random numbers), a mix the optimiser evaluates
has exactly the grid's value on the first 8 draws; the script reports, per seed, the gap
between the grid's value of the optimiser's pick and the grid's best, whether it is within delta,
and the simulations the optimiser used against the grid's.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from sim.study.experiment import read_experiment
from sim.study.optimise.run import run_optimise
from sim.study.results import load
from sim.study.sweep import sweep

ROOT = Path(__file__).resolve().parents[1]
PLACES = "facilities.wilhelminastraat.schedule.2025-01-01.places"
ROOM = "facilities.wilhelminastraat.schedule.2025-01-01.room_type"
HF = "channels.housing_first.dated.2025-01-01.haarlem"
DELTA = 100.0
EXPERIMENT = f"""
description = "Validation of opvang optimise against an exhaustive grid"
model = "{ROOT / 'models' / 'haarlem.toml'}"
posterior = "{ROOT / 'calibration' / 'fitted' / 'haarlem_posterior.parquet'}"
baseline = "as_now"
replications = 8
seed = 20250302
tables = ["annual"]
[horizon]
end_year = 2026
[scenarios.as_now]
[grids.all]
"{PLACES}" = [20, 25, 30, 35, 40, 45, 50]
"{ROOM}" = ["dormitory", "single"]
"{HF}" = [10, 20, 30, 40]
[optimise]
trials = 16
batch = 4
sampler = "tpe"
seed = SEED
years = [2025, 2026]
select = {{ best = 4, delta = {DELTA}, max_replications = 60, batch = 4 }}
[optimise.variables."{PLACES}"]
low = 20
high = 50
step = 5
[optimise.variables."{ROOM}"]
choices = ["dormitory", "single"]
[optimise.variables."{HF}"]
low = 10
high = 40
step = 10
[[optimise.objectives]]
metric = "street_nights"
[[optimise.constraints]]
metric = "cost_eur"
group = "maatschappelijke_opvang"
at_most = 0
relative_to = "baseline"
"""


def grid_table(out: Path) -> pd.DataFrame:
    """Per mix: mean nights outside and MO spending over the draws, 2025-2026, and feasibility."""
    annual = load(out, "annual")
    annual = annual[annual["year"].between(2025, 2026)]
    rows = []
    for (metric, group), name in ((("street_nights", "total"), "nights"),
                                  (("cost_eur", "maatschappelijke_opvang"), "cost")):
        part = annual[(annual["metric"] == metric) & (annual["group"] == group)]
        rows.append(part.groupby(["scenario", "replication"], observed=True)["value"].mean()
                    .groupby("scenario", observed=True).mean().rename(name))
    table = pd.concat(rows, axis=1)
    keys = annual.drop_duplicates("scenario").set_index("scenario")[[PLACES, ROOM, HF]]
    table = table.join(keys)
    table["feasible"] = table["cost"] <= table.loc["as_now", "cost"]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "validate.toml"
        path.write_text(EXPERIMENT.replace("SEED", "1"))
        exp = read_experiment(path)
        started = time.perf_counter()
        report = sweep(exp, Path(folder) / "grid", workers=args.workers, progress=False)
        grid_seconds = time.perf_counter() - started
        table = grid_table(Path(folder) / "grid")
        mixes = table.drop(index="as_now")
        best = mixes[mixes["feasible"]].sort_values("nights").iloc[0]
        grid_sims = len(mixes) * exp.replications
        print(f"grid: {len(mixes)} mixes x {exp.replications} draws = {grid_sims} simulations "
              f"({report.total} with the baseline) in {grid_seconds:.0f} s; {int(mixes['feasible'].sum())} "
              f"feasible; best {best.name}: {best[PLACES]:g} places, {best[ROOM]}, Housing First "
              f"{best[HF]:g}: {best['nights']:,.0f} nights outside a year "
              f"(as now {table.loc['as_now', 'nights']:,.0f})")
        within = 0
        for seed in range(1, args.seeds + 1):
            path.write_text(EXPERIMENT.replace("SEED", str(seed)))
            started = time.perf_counter()
            result = run_optimise(path, Path(folder) / f"opt-{seed}", workers=args.workers, progress=False)
            seconds = time.perf_counter() - started
            sel = result.selection
            pick = sel["overrides"]
            same = (mixes[PLACES] == pick[PLACES]) & (mixes[ROOM] == pick[ROOM]) & (mixes[HF] == pick[HF])
            match = mixes[same]
            gap = float(match["nights"].iloc[0] - best["nights"])
            within += gap <= DELTA
            sims = sel["simulations"]["total"]
            print(f"seed {seed}: picked {pick[PLACES]:g} places, {pick[ROOM]}, Housing First {pick[HF]:g}: "
                  f"{match['nights'].iloc[0]:,.0f} on the grid's draws, {gap:+,.0f} from the grid's best "
                  f"({'within' if gap <= DELTA else 'NOT within'} delta {DELTA:g}); {sims} simulations "
                  f"({sel['simulations']['search']} search), grid/optimiser {grid_sims / sims:.2f}, "
                  f"{sel['search']['distinct_candidates']} distinct candidates, {seconds:.0f} s")
        print(json.dumps({"within_delta": within, "seeds": args.seeds}))


if __name__ == "__main__":
    main()
