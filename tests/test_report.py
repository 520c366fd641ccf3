"""``opvang report``: one self-contained HTML file whose numbers are those of the Parquet
results (recomputed here independently, with pandas and numpy only), with every figure kind,
in Dutch and English, that loads nothing from a network."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_runner import cli
from test_sensitivity import experiment_text

from sim.study.report import FIGURES, HEADLINE

pytestmark = pytest.mark.slow  # reports of small sweeps, figures drawn

KINDS = set(FIGURES)
URL = re.compile(r"https?://", re.IGNORECASE)


class Cells(HTMLParser):
    """The numeric cells (data-value) of the headline table, the figure sections, the images
    and the rows of missing figures."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str, str, str], float] = {}
        self.sections: dict[str, bool] = {}
        self.missing: list[str] = []
        self._section = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "data-value" in a:
            key = (a["data-stat"], a["data-metric"], a["data-group"], a["data-scenario"])
            self.cells[key] = float(a["data-value"])
        if tag == "section" and "data-kind" in a:
            self._section = a["data-kind"]
            self.sections[self._section] = False
        if tag == "img" and self._section:
            assert a["src"].startswith("data:image/png;base64,")
            self.sections[self._section] = True
        if tag == "tr" and a.get("class") == "missing":
            self.missing.append(a["data-metric"])


def parsed(path: Path) -> Cells:
    parser = Cells()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """experiments/smoke.toml (2 scenarios x 3 replications, annual and daily), swept."""
    out = tmp_path_factory.mktemp("report") / "smoke"
    result = cli(["sweep", "experiments/smoke.toml", "--out", str(out), "--workers", "1", "--quiet"])
    assert result.code == 0, result.err
    return out


def expected(folder: Path) -> tuple[dict[tuple[str, str, str], float], dict[tuple[str, str, str], float]]:
    """Medians over replications of each headline figure's yearly mean, and of the paired
    differences to the baseline, straight from the Parquet files."""
    annual = pd.read_parquet(folder / "annual")
    annual["scenario"] = annual["scenario"].astype(str)
    baseline = json.loads((folder / "manifest.json").read_text()).get("baseline", "")
    medians, differences = {}, {}
    for metric, group in HEADLINE:
        rows = annual[(annual["metric"] == metric) & ((annual["group"] == group) if group else True)]
        means = rows.groupby(["group", "scenario", "replication"])["value"].mean()
        for (g, scenario), values in means.groupby(level=["group", "scenario"]):
            medians[(metric, g, scenario)] = float(np.median(values.to_numpy()))
            if baseline and scenario != baseline:
                base = means.loc[(g, baseline)]
                diff = values.droplevel(["group", "scenario"]) - base
                differences[(metric, g, scenario)] = float(np.median(diff.to_numpy()))
    return medians, differences


def test_the_report_holds_the_numbers_of_the_results(sweep: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = cli(["report", str(sweep), "--out", str(out)])
    assert result.code == 0, result.err
    cells = parsed(out)
    medians, differences = expected(sweep)
    assert medians and differences  # the smoke results hold some headline figures
    for (metric, group, scenario), value in medians.items():
        assert cells.cells[("median", metric, group, scenario)] == pytest.approx(value, rel=1e-12)
    for (metric, group, scenario), value in differences.items():
        assert cells.cells[("difference", metric, group, scenario)] == pytest.approx(value, abs=1e-6)
    shown = {(m, g, s) for stat, m, g, s in cells.cells if stat == "median"}
    assert shown == set(medians)  # nothing shown that the results do not hold
    present = {m for m, _, _ in medians}
    assert sorted(cells.missing) == sorted(m for m, _ in HEADLINE if m not in present)


def test_every_figure_kind_and_no_network(sweep: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert cli(["report", str(sweep), "--out", str(out)]).code == 0
    cells = parsed(out)
    assert set(cells.sections) == KINDS
    drawn = {kind for kind, image in cells.sections.items() if image}
    assert drawn == KINDS - {"sensitivity"}  # the smoke sweep has no sensitivity analysis
    text = out.read_text(encoding="utf-8")
    assert not URL.search(text)
    assert not re.search(r"<(script|link|iframe)\b", text)  # nothing to load
    assert "calibration/fitted/predictive_check.csv" in text  # says where the panel comes from
    pngs = sorted(p.name for p in (tmp_path / "report-figures").glob("*.png"))
    assert pngs == sorted(f"{k}.png" for k in drawn)


def test_dutch_and_english_labels(sweep: Path, tmp_path: Path) -> None:
    english, dutch = tmp_path / "en.html", tmp_path / "nl.html"
    assert cli(["report", str(sweep), "--out", str(english)]).code == 0
    assert cli(["report", str(sweep), "--out", str(dutch), "--lang", "nl"]).code == 0
    en, nl = english.read_text(encoding="utf-8"), dutch.read_text(encoding="utf-8")
    for word in ("Headline figures", "Paired differences against the baseline", "How to quote",
                 "Occupancy against capacity", "not observations"):
        assert word in en and word not in nl
    for word in ("Kerncijfers", "Gepaarde verschillen met de basis", "Hoe deze cijfers te citeren",
                 "Bezetting tegen capaciteit", "geen waarnemingen"):
        assert word in nl and word not in en
    assert '<html lang="nl">' in nl
    assert parsed(english).cells == parsed(dutch).cells  # the same numbers


def test_a_run_a_sample_and_a_missing_daily_table(tmp_path: Path) -> None:
    """A run's results give a report too (one scenario: no differences); a sampled sweep with
    only the annual table gets its sensitivity section and says that occupancy is missing."""
    run = tmp_path / "run"
    assert cli(["run", "models/haarlem.toml", "-n", "2", "--until", "2019", "--out", str(run),
                "--quiet"]).code == 0
    assert cli(["report", str(run)]).code == 0
    cells = parsed(run / "report-en.html")
    assert not [k for k in cells.cells if k[0] == "difference"]
    assert cells.sections["fan"] and not cells.sections["forest"]

    screen = tmp_path / "screen.toml"
    screen.write_text(experiment_text(n=2))
    sample = tmp_path / "sample"
    assert cli(["sweep", str(screen), "--out", str(sample), "--workers", "1", "--quiet"]).code == 0
    assert cli(["sensitivity", str(sample)]).code == 0
    assert cli(["report", str(sample), "--lang", "nl"]).code == 0
    report = sample / "report-nl.html"
    cells = parsed(report)
    assert cells.sections["sensitivity"] and not cells.sections["occupancy"]
    assert "geen dagtabel" in report.read_text(encoding="utf-8")


def test_bad_requests(sweep: Path, tmp_path: Path) -> None:
    result = cli(["report", str(sweep), "--baseline", "nope"])
    assert result.code == 2 and "--baseline" in result.err
    result = cli(["report", str(sweep), "--years", "2040-2041"])
    assert result.code == 2 and "no results in 2040-2041" in result.err
    result = cli(["report", str(tmp_path / "absent")])
    assert result.code == 2 and "no such results folder" in result.err
    copy = tmp_path / "copy"
    shutil.copytree(sweep, copy)
    assert cli(["report", str(copy)]).code == 0
    assert (copy / "report-en.html").is_file()
