"""The domain checks of the baseline over the calibration posterior, and of a bed cut.

Usage: python scripts/domain_checks.py [--replications N]

Sweeps ``experiments/baseline_posterior.toml`` (the baseline, one posterior draw per
replication, 2019-2030, annual and daily tables) and ``experiments/wilhelminastraat_cut.toml``
into ``results/`` (or reads them when complete), then prints:

- capacity that holds: the most people above capacity on any facility-day or pool-day;
- "bijna altijd vol": the median over replications of each facility's share of open days full,
  2019-2023, and of each regime's share of facility-days full, 2024-2030;
- the share of the Wmo group's 2019 registrants with a night in a shelter bed that year;
- MO spending in 2024 against the 13.4 M of the sources; BW and beschut places in 2022 against
  the 550 of the sources;
- the bed-night balance of Wilhelminastraat 30 -> 15 (:mod:`sim.study.balance`).

Figures are medians and 2.5-97.5 % ranges over the replications.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from sim.study.balance import balance, paired_parts
from sim.study.experiment import read_experiment
from sim.study.results import load
from sim.study.sweep import run_experiment

ROOT = Path(__file__).resolve().parent.parent


def swept(name: str, replications: int | None) -> tuple[Path, str]:
    """The results folder of an experiment, swept when missing, and its baseline."""
    path = ROOT / "experiments" / f"{name}.toml"
    out = ROOT / "results" / (f"{name}-r{replications}" if replications else name)
    run_experiment(path, out, replications=replications)
    return out, read_experiment(path).baseline


def spread(values: pd.Series, digits: int = 2) -> str:
    lo, mid, hi = np.percentile(values.to_numpy(dtype=float), [2.5, 50, 97.5])
    return f"{mid:,.{digits}f} [{lo:,.{digits}f}, {hi:,.{digits}f}]"


def capacity(daily: pd.DataFrame) -> None:
    over = (daily["occupancy"] - daily["capacity"]).dropna()
    days = daily.dropna(subset=["capacity"])
    print(f"capacity holds: at most {over.max():+.0f} people above capacity on "
          f"{len(days):,} facility-days and pool-days ({(over > 0).sum()} days above)")


def full(annual: pd.DataFrame) -> None:
    facility = annual[(annual["metric"] == "facility_share_of_days_full")
                      & annual["year"].between(2019, 2023)]
    table = facility.groupby(["group", "year"])["value"].median().unstack("year")
    print("median share of open days full, per facility, 2019-2023:")
    print(table.round(2).to_string())
    regime = annual[(annual["metric"] == "share_of_facility_days_full")
                    & annual["year"].between(2024, 2030)]
    print("median share of facility-days full, per regime, 2024-2030:")
    print(regime.groupby(["group", "year"])["value"].median().unstack("year").round(2).to_string())


def figures(annual: pd.DataFrame) -> None:
    def one(metric: str, group: str, year: int) -> pd.Series:
        rows = annual[(annual["metric"] == metric) & (annual["group"] == group)
                      & (annual["year"] == year)]
        return rows["value"]

    print(f"Wmo registrants of 2019 with a night in a shelter bed that year: "
          f"{spread(one('share_of_registrants_sheltered', 'wmo', 2019))}")
    mo = one("cost_eur", "maatschappelijke_opvang", 2024) / 1e6
    print(f"MO spending 2024: {spread(mo)} M euro (sources: 13.4 M)")
    places = (one("bw_places", "beschermd_wonen", 2022).to_numpy()
              + one("bw_places", "beschut_wonen", 2022).to_numpy())
    print(f"BW + beschut places at the end of 2022: {spread(pd.Series(places), 0)} (sources: "
          f"'ongeveer 550', 434 + 112)")
    for metric, year in (("nachtopvang_users", 2019), ("nachtopvang_users", 2020)):
        print(f"{metric} {year}: {spread(one(metric, 'total', year), 0)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replications", type=int, default=None)
    args = parser.parse_args()
    out, _ = swept("baseline_posterior", args.replications)
    annual = load(out, "annual")
    capacity(load(out, "daily", columns=["facility", "occupancy", "capacity"]))
    full(annual)
    figures(annual)
    cut, baseline = swept("wilhelminastraat_cut", args.replications)
    table = balance(paired_parts(load(cut, "annual"), baseline, (2025, 2030)))
    print("bed-night balance of Wilhelminastraat 30 -> 15 from 2025 (median a year, 2025-2030):")
    print(table.round(3).to_string())


if __name__ == "__main__":
    main()
