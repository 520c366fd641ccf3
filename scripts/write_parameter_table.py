"""Write the free-parameter table of calibration/README.md from the committed fit.

Prior ranges and reasons come from calibration/priors.toml, the posterior medians, 95 % intervals
and widths from calibration/fitted/identifiability.csv; the table goes between the README's
`<!-- parameter table -->` markers.

Usage: python scripts/write_parameter_table.py
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from sim.study.calibration.parameters import load_priors

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "calibration" / "README.md"
START, END = "<!-- parameter table -->", "<!-- end parameter table -->"


def _number(value: float, integer: bool = False) -> str:
    """Three significant figures (whole numbers for integer parameters), thousands separated."""
    if integer:
        return f"{round(value):,d}"
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{round(value, digits):,.{digits}f}" if digits else f"{round(value):,.0f}"


def table() -> str:
    """The Markdown table of every free parameter of the committed fit."""
    priors = load_priors(ROOT / "calibration" / "priors.toml", ROOT / "models" / "haarlem.toml")
    ident = pd.read_csv(ROOT / "calibration" / "fitted" / "identifiability.csv").set_index("parameter")
    posterior = ident.to_dict("index")
    lines = [
        "| parameter | prior | posterior median [95 %] | width | why it is free |",
        "| --- | --- | --- | --- | --- |",
    ]
    for key, prior in priors.parameters.items():
        scale = " (log)" if prior.scale == "log" else ""
        median, lo, hi = (
            _number(float(posterior[key][column]), prior.integer)
            for column in ("posterior_median", "posterior_lo95", "posterior_hi95")
        )
        lines.append(
            f"| `{key}` | {prior.low:,g}\N{EN DASH}{prior.high:,g}{scale} | {median} [{lo}, {hi}] "
            f"| {float(posterior[key]['width_ratio']):.2f} | {prior.why} |"
        )
    return "\n".join(lines)


def with_table(text: str) -> str:
    """The README text with the table between its markers replaced."""
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"{README}: markers {START} ... {END} not found")
    return pattern.sub(lambda _: f"{START}\n{table()}\n{END}", text)


if __name__ == "__main__":
    README.write_text(with_table(README.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote the parameter table of {README}")
