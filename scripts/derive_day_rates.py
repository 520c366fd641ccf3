"""Day rates per budget line from the reported spending of one year.

The sources give spending per budget line, not tariffs (haarlem_owh_2023_2027, l.1343-1444).
The model's cost_per_day of each facility and place pool (and the hotel's cost_per_night) are
assumptions whose ratios within a line are kept; this script scales all of a line's rates by
one factor so that the fit's simulated spending of ``--year`` (the median of the posterior
predictive check, ``calibration/fitted/predictive_check.csv``) equals the reported spending
(``calibration/targets.csv``, metric ``cost_eur``), and prints how the other reported years
then compare (with the simulated spending scaled; rerun the check for the exact figure).
Rates a source gives (``KEEP``) are not scaled. ``--write`` rewrites the numbers in the model
file (its comments stay).

Usage: python scripts/derive_day_rates.py [--year 2021] [--write]
"""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "haarlem.toml"
CHECK = ROOT / "calibration" / "fitted" / "predictive_check.csv"
DEFAULT_BUDGET = {"facilities": "maatschappelijke_opvang", "places": "beschermd_wonen"}
KEEP = {  # rates a source gives: not scaled
    ("facilities", "joops_hotel"): "1.35 M in 2022 and 1.1 M in 2023 for 19 places (000 l.1352-1371)",
}


def rates_by_line(model: dict) -> dict[str, list[tuple[str, str, float]]]:
    """{budget line: [(table, name, rate)]} for every facility, place pool and hotel night."""
    lines: dict[str, list[tuple[str, str, float]]] = {}
    for table in ("facilities", "places"):
        for name, spec in model[table].items():
            line = spec.get("budget", DEFAULT_BUDGET[table])
            if line and spec.get("cost_per_day", 0.0) > 0 and (table, name) not in KEEP:
                lines.setdefault(line, []).append((table, name, float(spec["cost_per_day"])))
    homeless = model.get("homeless", {})
    for state, rate in homeless.get("cost_per_night", {}).items():
        line = homeless.get("budget", {}).get(state, "maatschappelijke_opvang")
        lines.setdefault(line, []).append(("homeless", state, float(rate)))
    return lines


def rewrite(text: str, table: str, name: str, rate: float) -> str:
    """The model file's text with one rate replaced (the number only; its comment stays)."""
    if table == "homeless":
        pattern = rf"(cost_per_night = \{{[^}}]*\b{re.escape(name)} = )[0-9.]+"
        return re.sub(pattern, rf"\g<1>{rate:.1f}", text, count=1)
    header = re.search(rf"^\[{table}\.{re.escape(name)}\]$", text, re.M)
    assert header is not None, f"[{table}.{name}] not found"
    head, rest = text[:header.end()], text[header.end():]
    return head + re.sub(r"^(cost_per_day = )[0-9.]+", rf"\g<1>{rate:.1f}", rest, count=1, flags=re.M)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--year", type=int, default=2021)
    parser.add_argument("--write", action="store_true", help="rewrite the rates in the model file")
    args = parser.parse_args()
    text = MODEL.read_text(encoding="utf-8")
    check = pd.read_csv(CHECK)
    cost = check[check["metric"] == "cost_eur"].set_index(["group", "year"])
    for line, rates in rates_by_line(tomllib.loads(text)).items():
        if (line, args.year) not in cost.index:
            print(f"{line}: no reported spending in {args.year}; rates kept")
            continue
        row = cost.loc[(line, args.year)]
        factor = row["observed"] / row["median"]
        print(f"{line}: reported {row['observed'] / 1e6:.2f} M in {args.year}, simulated median "
              f"{row['median'] / 1e6:.2f} M -> factor {factor:.3f}")
        for year, other in cost.loc[line].iterrows():
            if year != args.year:
                print(f"  check {year}: reported {other['observed'] / 1e6:.2f} M, simulated with the "
                      f"derived rates {other['median'] * factor / 1e6:.2f} M "
                      f"(95 %: {other['lo95'] * factor / 1e6:.2f}-{other['hi95'] * factor / 1e6:.2f})")
        for table, name, rate in rates:
            print(f"  {table}.{name}: {rate:.1f} -> {rate * factor:.1f} a day")
            text = rewrite(text, table, name, rate * factor)
    if args.write:
        MODEL.write_text(text, encoding="utf-8")
        print(f"wrote {MODEL}")


if __name__ == "__main__":
    main()
