"""Who is counted without a bed in a year, scenario against baseline, person by person.

``people_without_a_bed`` counts each person once a year. This script splits the persons of one
year of paired replications (same seed, clients and posterior draw) into: sheltered (a night in
a shelter bed), without a bed and sheltered too (waited at some time, had a bed at another),
without a bed and never sheltered that year, and gone from sight (a night after the model
stopped following them: ``nights_after_leaving``). It shows why a bed cut can lower the count.

Usage: python scripts/who_is_without_a_bed.py [EXPERIMENT] [--scenario NAME] [--year 2027]
       [--replications 6]   (default: experiments/wilhelminastraat_cut.toml, its first scenario
       that is not the baseline)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sim.batch.tasks import Task, task_model
from sim.engine.log import Recorder
from sim.engine.spans import Intervals, joined, overlap_days
from sim.engine.streams import Streams
from sim.measure.annual import Context
from sim.measure.metrics import context_of
from sim.replication.journey import Region
from sim.replication.replicate import run_record
from sim.study.experiment import read_experiment, tasks

ROOT = Path(__file__).resolve().parent.parent


def persons(context: Context, spans: Intervals, year: int) -> set[int]:
    """The persons with at least one night of ``spans`` in ``year``."""
    rec = context.rec
    nights = overlap_days(spans.start, spans.end, rec.year_edges)[:, rec.years.index(year)]
    return set(spans.client[nights > 0].tolist())


def counts(task: Task, year: int) -> dict[str, int]:
    """The persons of each kind in one replication's year."""
    region = Region(task_model(task), Streams(task.seed, task.replication), Recorder())
    region.start()
    region.env.run(until=region.horizon)
    context = context_of(run_record(region))
    region.close()
    bed = persons(context, context.spans.shelter, year)
    without = persons(context, joined(*context.without_bed.values()), year)
    return {"people sheltered": len(bed), "people without a bed": len(without),
            "without a bed, sheltered too": len(without & bed),
            "without a bed, never sheltered": len(without - bed),
            "gone from sight": len(persons(context, context.after_leaving, year))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", nargs="?", default=ROOT / "experiments" / "wilhelminastraat_cut.toml")
    parser.add_argument("--scenario", help="default: the first scenario that is not the baseline")
    parser.add_argument("--year", type=int, default=2027)
    parser.add_argument("--replications", type=int, default=6)
    args = parser.parse_args()
    exp = read_experiment(args.experiment)
    scenario = args.scenario or next(s for s in exp.scenarios if s != exp.baseline)
    by = {(t.scenario, t.replication): t for t in tasks(exp) if t.replication < args.replications}
    rows = []
    for r in range(args.replications):
        base, other = counts(by[exp.baseline, r], args.year), counts(by[scenario, r], args.year)
        rows += [{"replication": r, "kind": k, exp.baseline: base[k], scenario: other[k],
                  "change": other[k] - base[k]} for k in base]
    table = pd.DataFrame(rows)
    print(f"{exp.name}: persons in {args.year}, {scenario} against {exp.baseline}, "
          f"{args.replications} paired replications")
    summary = table.groupby("kind", sort=False)["change"].agg(["min", "median", "max"])
    print(table.pivot(index="kind", columns="replication", values="change").loc[summary.index]
          .assign(**{"min": summary["min"], "max": summary["max"]}).to_string())


if __name__ == "__main__":
    main()
