"""Early stopping of a sweep (``opvang sweep --precision``): batches of replications until every
paired difference is as precise as asked; the same stop on 1 and 2 workers and after a resume."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_runner import cli
from scipy import stats

import sim.study.sweep
from sim.input.errors import InputError
from sim.study.experiment import read_experiment
from sim.study.precision import Goal, Precision, parse_goal
from sim.study.results import load
from sim.study.sweep import SweepStoppedError, sweep

pytestmark = pytest.mark.slow  # sweeps in batches on worker processes

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "experiments" / "smoke.toml"
GOAL = Goal("street_nights", "total", 0.0)


def experiment(folder: Path) -> Path:
    model = json.dumps(str(ROOT / "models" / "haarlem.toml"))
    text = SMOKE.read_text().replace('"../models/haarlem.toml"', model)
    text = text.replace("replications = 3", "replications = 12").replace('["annual", "daily"]', '["annual"]')
    path = folder / "smoke12.toml"
    path.write_text(text)
    return path


def halfwidth(out: Path, n: int) -> float:
    """The paired difference's 95 % half-width over replications 0..n-1, from the files."""
    annual = load(out, "annual", overrides=False)
    rows = annual[(annual["metric"] == "street_nights") & (annual["group"] == "total")]
    by = rows.pivot_table(index="replication", columns="scenario", values="value", observed=True)
    diff = (by["fewer_places"] - by["baseline"]).to_numpy()[:n]
    return float(stats.t.ppf(0.975, n - 1) * diff.std(ddof=1) / np.sqrt(n))


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("precision")
    out = folder / "full"
    sweep(read_experiment(experiment(folder)), out, workers=1, progress=False)
    return out


def test_it_stops_after_the_first_batch_where_every_half_width_is_reached(full: Path, tmp_path: Path) -> None:
    widths = {n: halfwidth(full, n) for n in (3, 6, 9)}
    target = widths[6] * 1.0001
    stop_at = next(n for n in (3, 6, 9) if widths[n] <= target)
    precision = Precision((Goal("street_nights", "total", target),), batch=3)
    report = sweep(read_experiment(experiment(tmp_path)), tmp_path / "early", workers=1, progress=False,
                   precision=precision)
    assert report.stopped_early is not None
    assert report.stopped_early["after_replications"] == stop_at
    assert report.computed == 2 * stop_at
    manifest = json.loads((tmp_path / "early" / "manifest.json").read_text())
    assert manifest["status"] == "stopped_early"
    assert manifest["stopped_early"]["halfwidths"]["street_nights:total"]["fewer_places"] == \
        pytest.approx(widths[stop_at])
    for path in (tmp_path / "early" / "annual").rglob("*.parquet"):  # the same files as a full sweep's
        assert path.read_bytes() == (full / path.relative_to(tmp_path / "early")).read_bytes()


def test_same_stop_on_two_workers_and_after_an_interruption(full: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    precision = Precision((Goal("street_nights", "total", halfwidth(full, 9) * 1.0001),), batch=3)
    exp = read_experiment(experiment(tmp_path))
    two = sweep(exp, tmp_path / "two", workers=2, progress=False, precision=precision)
    real, calls = sim.study.sweep.write_atomic, []

    def cut(path: Path, data: bytes) -> None:
        calls.append(path)
        if len(calls) == 9:
            raise KeyboardInterrupt
        real(path, data)

    monkeypatch.setattr(sim.study.sweep, "write_atomic", cut)
    with pytest.raises(SweepStoppedError):
        sweep(exp, tmp_path / "cut", workers=1, progress=False, precision=precision)
    monkeypatch.setattr(sim.study.sweep, "write_atomic", real)
    resumed = sweep(exp, tmp_path / "cut", workers=1, progress=False, precision=precision)
    assert two.stopped_early is not None and resumed.stopped_early is not None
    assert resumed.stopped_early["after_replications"] == two.stopped_early["after_replications"]
    assert resumed.stopped_early["halfwidths"] == two.stopped_early["halfwidths"]
    files = sorted(p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*.parquet"))
    assert files == sorted(p.relative_to(tmp_path / "cut") for p in (tmp_path / "cut").rglob("*.parquet"))


def test_an_unreachable_precision_runs_every_replication(full: Path, tmp_path: Path) -> None:
    result = cli(["sweep", str(experiment(tmp_path)), "--out", str(tmp_path / "all"), "-j", "1", "--quiet",
                  "--precision", "street_nights=1e-9", "--batch", "4"])
    assert result.code == 0, result.err
    assert "stopped early" not in result.out
    assert json.loads((tmp_path / "all" / "manifest.json").read_text())["status"] == "complete"


def test_the_command_line_stops_early_and_summary_says_so(tmp_path: Path) -> None:
    result = cli(["sweep", str(experiment(tmp_path)), "--out", str(tmp_path / "big"), "-j", "1", "--quiet",
                  "--precision", "street_nights:total=1e9", "--batch", "4"])
    assert result.code == 0, result.err
    assert "stopped early after 4 of 12 replications" in result.out
    summary = cli(["summary", str(tmp_path / "big")])
    assert "stopped early after 4 of 12" in summary.out and "warning" not in summary.out


@pytest.mark.parametrize("text", ["street_nights", "street_nights=-1", "street nights=3", "x:y=abc"])
def test_bad_goals_are_refused(text: str) -> None:
    with pytest.raises(InputError, match="--precision"):
        parse_goal(text)


def test_an_unknown_metric_is_refused(tmp_path: Path) -> None:
    result = cli(["sweep", str(experiment(tmp_path)), "--out", str(tmp_path / "x"), "-j", "1", "--quiet",
                  "--precision", "street_night=5", "--batch", "3"])
    assert result.code == 2 and "no metric street_night" in result.err
