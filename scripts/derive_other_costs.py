"""The MO spending the model does not simulate, from the reported spending of 2022-2024.

The model prices what it simulates: beds, places, hotel nights, support at home
(``scripts/derive_day_rates.py`` sets the day rates so that 2021 is the reported spending).
The MO line's reported spending grows beyond that from 2022 (the BCT, trajectbegeleiding,
day activities, prices since 2021). This script runs the baseline over the calibration
posterior on the central demand path, takes the median of the simulated MO spending without
those costs per year, and sets ``[budgets.maatschappelijke_opvang.other_costs]`` to the
reported spending minus it:

- 2022: 14.3 M, of which about 1.35 M Joops Hotel (simulated as a facility);
- 2023: 14.8 M planned, of which 1.1 M Joops Hotel;
- 2024 and after: "Vanaf 2024 is de verwachting € 13,4 miljoen structureel (excl. evt.
  verlenging Joops hotel)" (000 l.1367-1371).

Usage: python scripts/derive_other_costs.py [--replications N] [--write]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from sim.batch.runner import run
from sim.batch.tasks import Variant
from sim.model.files import load, resolve
from sim.model.posterior import read_posterior

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "haarlem.toml"
POSTERIOR = ROOT / "calibration" / "fitted" / "haarlem_posterior.parquet"
LINE = "maatschappelijke_opvang"
REPORTED = {2022: 14_300_000, 2023: 14_800_000, 2024: 13_400_000}  # 000 l.1343-1371
SEED = 20240101


def simulated_without_other(replications: int) -> dict[int, float]:
    """The median over posterior draws of the MO spending without its other costs, a year."""
    post = read_posterior(POSTERIOR)
    base = resolve(MODEL)
    sets = [Variant(base, MODEL.as_posix(), post.overrides(post.draw(SEED, r)))
            for r in range(replications)]
    results = run(load(MODEL), replications, SEED, until_year=max(REPORTED), parameter_sets=sets,
                  workers=2)
    annual = results.tables["annual"]
    rows = annual[annual["group"] == LINE]
    cost = rows[rows["metric"] == "cost_eur"].set_index(["replication", "year"])["value"]
    other = rows[rows["metric"] == "other_costs_eur"].set_index(["replication", "year"])["value"]
    simulated = (cost - other.reindex(cost.index).fillna(0.0)).groupby(level="year").median()
    return {year: float(simulated.loc[year]) for year in REPORTED}


def rewrite(text: str, year: int, euro: float) -> str:
    """The model file's text with one year's other costs replaced (its comment stays)."""
    header = re.search(rf"^\[budgets\.{LINE}\.other_costs\]$", text, re.M)
    assert header is not None, "[budgets.maatschappelijke_opvang.other_costs] not found"
    head, rest = text[:header.end()], text[header.end():]
    return head + re.sub(rf"^({year} = )[0-9]+", rf"\g<1>{round(euro, -4):.0f}", rest, count=1,
                         flags=re.M)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replications", type=int, default=40)
    parser.add_argument("--write", action="store_true", help="rewrite the values in the model file")
    args = parser.parse_args()
    text = MODEL.read_text(encoding="utf-8")
    simulated = simulated_without_other(args.replications)
    for year, reported in REPORTED.items():
        other = max(reported - simulated[year], 0.0)
        print(f"{year}: reported {reported / 1e6:.2f} M, simulated without other costs (median of "
              f"{args.replications} posterior draws) {simulated[year] / 1e6:.2f} M -> other costs "
              f"{other / 1e6:.2f} M")
        text = rewrite(text, year, other)
    if args.write:
        MODEL.write_text(text, encoding="utf-8")
        print(f"wrote {MODEL}")


if __name__ == "__main__":
    main()
