"""Every documented limit edge runs (issue 20): horizons up to 2200, the largest counts and
rates of :mod:`sim.input.limits`, seeds at both ends.

A number of people or years is never stored in an integer too narrow for it: the client's
municipality of origin was an ``int8``, so ``origin * n_years`` wrapped from 16 simulated
years on and ``opvang run --until 2034`` crashed after simulating. The checks below add up
what the cost section spreads over origins (it is where the wrap showed) and look for
negative counts, which a wrapped key or count gives.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from cli_runner import cli
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from simcheck import build, haarlem_raw

from sim.engine.log import code_type
from sim.input.limits import COUNT_MAX, RATE_MAX, SEED_MAX, WARMUP_YEARS_MAX, YEAR_MAX
from sim.model.files import with_overrides
from sim.replication.replicate import run_replication

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "haarlem.toml"
TARGETS = ROOT / "calibration" / "targets.csv"

COUNTS = [  # every kind of count in the model file
    "facilities.wilhelminastraat.schedule.2019-01-01.places",
    "facilities.wilhelminastraat.winter_places",
    "places.bw.schedule.2019-01-01",
    "places.bw.initial_occupants",
    "places.bw.initial_waiting",
    "channels.skaeve_huse.homes",
]
RATES = [  # every kind of rate a year in the model file
    "groups.wmo.arrivals.2019",
    "channels.pact.homes_per_year.haarlem",
    "channels.onder_de_pannen.dated.2022-01-01.region",
    "places.wlz_ggz.direct_applicants_per_year",
    "channels.regular.rate_per_year",
]


def small(raw: dict[str, Any], share: float = 0.05) -> dict[str, Any]:
    """The baseline model with a twentieth of its arrivals: its rules, few clients."""
    for group in raw["groups"].values():
        group["arrivals"] = {year: rate * share for year, rate in group["arrivals"].items()}
    for pool in raw["places"].values():
        pool["direct_applicants_per_year"] = pool.get("direct_applicants_per_year", 0.0) * share
    return raw


def sane(annual: pd.DataFrame, first: int, last: int) -> None:
    """Every year once per metric and group; no negative count; costs that add up."""
    assert sorted(annual["year"].unique()) == list(range(first, last + 1))
    assert not annual.duplicated(["year", "metric", "group"]).any()
    values = annual.set_index(["metric", "group", "year"])["value"].sort_index()
    signed = values.index.get_level_values("metric") == "budget_gap_eur"
    assert (values[~signed].dropna() >= 0).all(), values[~signed][values[~signed] < 0].head()
    assert np.isfinite(values.dropna()).all()
    for line in annual.loc[annual["metric"] == "cost_eur", "group"].unique():
        total = values.xs(("cost_eur", line)).sort_index()
        by_origin = values.xs(f"cost_eur_{line}").groupby("year").sum().sort_index()
        other = (values.xs(("other_costs_eur", line)).sort_index()  # not split by origin
                 if ("other_costs_eur", line) in values.index.droplevel("year") else 0.0 * total)
        np.testing.assert_allclose(by_origin.to_numpy() + other.to_numpy(), total.to_numpy(),
                                   rtol=1e-9, atol=1e-6)


def test_a_run_of_sixteen_years_and_more_finishes(tmp_path: Path) -> None:
    """It crashed in the cost section (``'list' argument must have no negative elements``)."""
    out = tmp_path / "out"
    result = cli(["run", str(MODEL), "-n", "1", "--until", "2034", "--out", str(out), "--quiet",
                  "--targets", str(TARGETS)])
    assert result.code == 0, result.err
    annual = pd.read_parquet(out / "annual")
    sane(annual, 2019, 2034)


def test_codes_are_stored_in_a_type_that_holds_them() -> None:
    assert code_type(np.array([-1.0, 5.0])) == np.int8
    assert code_type(np.array([127.0])) == np.int8
    assert code_type(np.array([128.0])) == np.int16  # a model with 61 place pools has 128 stages
    assert code_type(np.array([40_000.0])) == np.int32
    assert code_type(np.array([3e9])) == np.int64
    assert code_type(np.zeros(0)) == np.int8


@settings(max_examples=8, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(end_year=st.one_of(st.sampled_from([2019, 2034, 2100, YEAR_MAX]), st.integers(2019, YEAR_MAX)),
       warmup=st.sampled_from([0, 1, WARMUP_YEARS_MAX]),
       seed=st.sampled_from([0, 1, SEED_MAX]),
       count=st.one_of(st.none(), st.sampled_from(COUNTS)))
@example(end_year=YEAR_MAX, warmup=WARMUP_YEARS_MAX, seed=SEED_MAX, count=None)
@example(end_year=YEAR_MAX, warmup=0, seed=0, count="places.bw.initial_waiting")
@pytest.mark.slow
def test_any_horizon_with_any_count_at_its_limit(end_year: int, warmup: int, seed: int,
                                                 count: str | None) -> None:
    raw = small(haarlem_raw())
    changes: dict[str, Any] = {"simulation.end_year": end_year, "simulation.warmup_years": warmup}
    if count is not None:
        changes[count] = COUNT_MAX
    model = build(with_overrides(raw, changes, "<test>"))
    rep = run_replication(model, seed, 0, daily=False)
    sane(rep.annual, 2019, end_year)


@pytest.mark.parametrize("key", RATES)
def test_each_rate_at_its_limit(key: str) -> None:
    raw = small(haarlem_raw())
    model = build(with_overrides(raw, {key: RATE_MAX, "simulation.end_year": 2022,
                                       "simulation.warmup_years": 0}, "<test>"))
    rep = run_replication(model, SEED_MAX, 0, daily=False)
    sane(rep.annual, 2019, 2022)


@pytest.mark.slow
def test_opvang_run_until_2200_finishes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli(["run", str(MODEL), "-n", "1", "--until", str(YEAR_MAX), "--out", str(out),
                  "--quiet", "--targets", str(TARGETS)])
    assert result.code == 0, result.err
    sane(pd.read_parquet(out / "annual"), 2019, YEAR_MAX)


@pytest.mark.slow
def test_a_sweep_to_2100_finishes(tmp_path: Path) -> None:
    experiment = tmp_path / "long.toml"
    experiment.write_text(f"model = {json.dumps(str(MODEL))}\nreplications = 1\nseed = 3\n"
                          "[horizon]\nend_year = 2100\n[scenarios.baseline]\n[scenarios.more_beds]\n"
                          '"facilities.wilhelminastraat.schedule.2019-01-01.places" = 40\n')
    out = tmp_path / "out"
    result = cli(["sweep", str(experiment), "--out", str(out), "--workers", "1", "--quiet"])
    assert result.code == 0, result.err
    sane(pd.read_parquet(out / "annual", filters=[("scenario", "=", "baseline")]), 2019, 2100)
