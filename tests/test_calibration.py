"""Calibration: components, priors, parameter recovery and the quick fit through the CLI."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.input.errors import InputError
from sim.model.files import load, read_toml
from sim.model.posterior import read_posterior
from sim.replication.replicate import run_replication
from sim.study.calibration.components import Components, load_components
from sim.study.calibration.fit import FitSettings, fit, write_fit
from sim.study.calibration.parameters import Parameter, load_priors

pytestmark = pytest.mark.slow  # fits and their parameter recovery, each several seconds

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "haarlem.toml"
TARGETS = ROOT / "calibration" / "targets.csv"
COMPONENTS = ROOT / "calibration" / "components.toml"
PRIORS = ROOT / "calibration" / "priors.toml"


# --- components compute what they claim -----------------------------------------------

@pytest.fixture(scope="module")
def replication():
    model = load(MODEL, {"simulation.end_year": 2022})
    return run_replication(model, seed=5, replication=0, events=True)


def test_every_target_row_is_a_component_with_its_statistic(replication) -> None:
    """Every row of targets.csv, and each fact for each of its years and groups, has a simulated
    statistic (the 2023 rows need a run to 2023)."""
    components = load_components(TARGETS, COMPONENTS)
    targets = pd.read_csv(TARGETS)
    facts = components.table["one_sided"].to_numpy()
    assert (~facts).sum() == len(targets)
    # almost always full: ten facilities open 2019-2023, one 2019-2021 (the temporary night
    # places), one from 2021 and two from 2022; and the Wmo registrants with a bed, 2019-2021
    assert facts.sum() == 10 * 5 + 3 + 3 + 2 * 2 + 3
    simulated = components.simulated(replication.annual)
    up_to_2022 = components.table["year"].to_numpy() <= 2022
    assert np.isfinite(simulated[up_to_2022]).all()
    assert not components.table["not_modelled"].any()


def test_a_fact_counts_only_a_shortfall() -> None:
    components = load_components(TARGETS, COMPONENTS)
    facts = components.table["one_sided"].to_numpy()
    values = components.table["observed"].to_numpy().copy()
    values[facts] = 1.0  # always full: above the bound
    assert components.distance(values) == 0.0
    table = components.table
    values[facts] = (table["observed"] - 2 * table["scale"]).to_numpy()[facts]  # two scales short
    z = components.discrepancies(values)
    np.testing.assert_allclose(z[facts], -2.0)


def test_holdout_years_leave_their_rows_and_facts_out() -> None:
    held = load_components(TARGETS, COMPONENTS, holdout_years=(2023,))
    assert 2023 not in set(held.table["year"])
    assert held.last_year == 2022


def test_registrations_are_unique_persons_per_year_and_group(replication) -> None:
    ev, annual = replication.events, replication.annual.set_index(["year", "metric", "group"])
    reg = ev[ev["to"] == "bct"].copy()
    edges = [0.0, 365.0, 731.0, 1096.0, 1461.0]  # 2019..2022 (2020 is a leap year)
    reg["year"] = 2019 + np.searchsorted(edges, reg["time"], side="right") - 1
    reg = reg[(reg["time"] >= 0) & (reg["year"] <= 2022)]
    reg = reg[reg["group"] != "vrouwenopvang"]  # its own entry, not via the BCT
    unique = reg.groupby(["year", "group"])["client"].nunique()
    for (year, group), n in unique.items():
        assert annual.loc[(year, "bct_registrations", group), "value"] == n
    total = reg.groupby("year")["client"].nunique()
    for year, n in total.items():
        assert annual.loc[(year, "bct_registrations", "total"), "value"] == n


def test_night_shelter_nights_and_users_follow_the_source_definition(replication) -> None:
    """Nights = bed-days in the facilities the source counts; users = unique persons."""
    model = load(MODEL)
    counted = {f.name for f in model.facilities.values() if f.report_as == "nachtopvang"}
    daily = replication.daily
    annual = replication.annual.set_index(["year", "metric", "group"])["value"]
    nights = daily[daily["facility"].isin(counted)].groupby(daily["date"].dt.year)["occupancy"].sum()
    for year, n in nights.items():
        # daily counts at the start of each day against exact overlaps: within 1 %
        assert annual[(year, "nachtopvang_nights", "total")] == pytest.approx(n, rel=0.01)
    ev = replication.events
    in_counted = ev[ev["facility"].isin(counted)]
    placed_2021 = in_counted[(in_counted["to"] == "opvang")
                             & (in_counted["time"].between(731, 1096))]["client"].nunique()
    users_2021 = annual[(2021, "nachtopvang_users", "total")]
    assert users_2021 >= placed_2021  # everyone placed in 2021 used it in 2021, plus stayers


def test_bw_stocks_are_year_end_and_mean_of_days(replication) -> None:
    daily = replication.daily
    bw = daily[daily["facility"] == "bw"].set_index("date")
    annual = replication.annual.set_index(["year", "metric", "group"])["value"]
    mean_2022 = bw.loc["2022", "occupancy"].mean()
    assert annual[(2022, "bw_occupancy", "beschermd_wonen")] == pytest.approx(mean_2022)
    assert annual[(2022, "bw_places", "beschermd_wonen")] == 434
    assert annual[(2021, "bw_waiting_list", "total")] == bw.loc["2022-01-01", "queue"]


def test_distance_is_zero_at_the_observations_and_ignores_zero_weights() -> None:
    components = load_components(TARGETS, COMPONENTS)
    observed = components.table["observed"].to_numpy().copy()
    assert components.distance(observed) == 0.0
    unweighted = components.table["weight"].to_numpy() == 0
    observed[unweighted] = np.nan  # not modelled or inputs: no effect
    assert components.distance(observed) == 0.0
    shifted = components.table["observed"].to_numpy() * 1.2
    assert components.distance(shifted) > 1.0
    missing = components.table["observed"].to_numpy().copy()
    missing[np.flatnonzero(~unweighted)[0]] = np.nan
    assert math.isinf(components.distance(missing))


def test_a_new_year_of_counts_is_just_a_new_row(tmp_path: Path) -> None:
    targets = tmp_path / "targets.csv"
    text = TARGETS.read_text()
    targets.write_text(text + "2024,nachtopvang_nights,total,40000,nights/year,test,\n")
    components = load_components(targets, COMPONENTS)
    assert components.last_year == 2024
    rows = ~components.table["one_sided"]
    assert rows.sum() == len(text.strip().splitlines())  # header replaced by the new row


# --- priors ----------------------------------------------------------------------------

def test_prior_maps_unit_cube_to_range_and_back() -> None:
    log = Parameter(low=0.1, high=10.0, why="", scale="log")
    assert log.from_unit(0.5) == pytest.approx(1.0)
    assert log.to_unit(log.from_unit(0.3)) == pytest.approx(0.3)
    places = Parameter(low=10, high=50, why="", integer=True)
    assert places.from_unit(0.51) == 30.0


def test_complement_keeps_probabilities_summing_to_one() -> None:
    priors = load_priors(PRIORS, MODEL)
    base = read_toml(MODEL)
    overrides = priors.overrides({n: p.from_unit(0.9) for n, p in priors.parameters.items()},
                                 base)
    wmo = overrides["groups.wmo.decision.regional_mo"] + overrides["groups.wmo.decision.leaves"]
    assert wmo == pytest.approx(1.0)
    haarlem = base["groups"]["economic"]["decision_by_origin"]["haarlem"]
    economic = (overrides["groups.economic.decision_by_origin.haarlem.local_economic"]
                + overrides["groups.economic.decision_by_origin.haarlem.leaves"]
                + haarlem["referred"])
    assert economic == pytest.approx(1.0)
    origin = sum(overrides.get(f"origin.{name}", share) for name, share in base["origin"].items())
    assert origin == pytest.approx(1.0)  # two parameters share one complement


@pytest.mark.parametrize(("text", "key"), [
    ('[parameters."groups.wmo.nonsense"]\nlow = 0\nhigh = 1\nwhy = ""\n',
     "parameters.groups.wmo.nonsense"),
    ('[parameters."groups.wmo.patience_days"]\nlow = 5\nhigh = 1\nwhy = ""\n',
     "parameters.groups.wmo.patience_days"),
    ('[parameters."groups.wmo.patience_days"]\nlow = 1\nhigh = 5\n',
     "parameters.groups.wmo.patience_days.why"),
])
def test_bad_priors_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "priors.toml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_priors(path, MODEL)
    assert caught.value.file == str(path)
    assert caught.value.key == key


# --- parameter recovery ----------------------------------------------------------------

def test_parameter_recovery(tmp_path: Path) -> None:
    """Counts simulated at known parameters are fitted; the truth lies in the posterior."""
    truth = {"groups.wmo.first_report_share": 0.8,
             "facilities.tijdelijke_nachtopvang.schedule.2020-03-15.places": 20}
    model_file = tmp_path / "short.toml"
    model_file.write_text(f'base = "{MODEL}"\n[overrides]\n"simulation.warmup_years" = 1\n'
                          '"simulation.end_year" = 2020\n')
    observed = run_replication(load(model_file, truth), seed=999, replication=0).annual
    rows = observed[observed["metric"].isin(["bct_registrations", "nachtopvang_nights"])
                    & observed["group"].isin(["total", "wmo"])]
    targets = tmp_path / "targets.csv"
    rows.assign(unit="", source="simulated", note="").to_csv(targets, index=False)
    priors = tmp_path / "priors.toml"
    priors.write_text(
        '[parameters."groups.wmo.first_report_share"]\nlow = 0.5\nhigh = 1.0\nwhy = "test"\n'
        '[parameters."facilities.tijdelijke_nachtopvang.schedule.2020-03-15.places"]\n'
        'low = 0\nhigh = 40\ninteger = true\nwhy = "test"\n')
    components = tmp_path / "components.toml"  # the counts only, no facts
    components.write_text("[defaults]\nweight = 1.0\nrelative_error = 0.1\n")
    settings = FitSettings(model=model_file, priors=priors, targets=targets,
                           components=components, particles=60, generations=3, seed=3,
                           workers=2, check_draws=20)
    result = fit(settings, progress=False)
    summary = write_fit(result, tmp_path / "fit", replace=False, progress=False)
    ident = pd.read_csv(tmp_path / "fit" / "identifiability.csv").set_index("parameter")
    for name, value in truth.items():
        assert ident.loc[name, "posterior_lo95"] <= value <= ident.loc[name, "posterior_hi95"], name
    # the data do narrow the share of first reports (the test has power)
    assert ident.loc["groups.wmo.first_report_share", "width_ratio"] < 0.6
    assert summary["coverage95"]["inside"] >= summary["coverage95"]["of"] - 1


def test_a_fit_is_the_same_for_any_number_of_workers(tmp_path: Path) -> None:
    """Simulations run as tasks in order on the backends: one worker and two give the same fit."""
    model_file = tmp_path / "short.toml"
    model_file.write_text(f'base = "{MODEL}"\n[overrides]\n"simulation.warmup_years" = 1\n'
                          '"simulation.end_year" = 2019\n')
    priors = tmp_path / "priors.toml"
    priors.write_text(
        '[parameters."groups.wmo.first_report_share"]\nlow = 0.5\nhigh = 1.0\nwhy = "test"\n'
        '[parameters."groups.wmo.patience_days"]\nlow = 5\nhigh = 60\nwhy = "test"\n')
    targets = tmp_path / "targets.csv"
    rows = pd.read_csv(TARGETS)
    rows[(rows["year"] == 2019) & rows["metric"].isin(["bct_registrations", "nachtopvang_nights"])].to_csv(
        targets, index=False)
    components = tmp_path / "components.toml"  # the counts only, no facts
    components.write_text("[defaults]\nweight = 1.0\nrelative_error = 0.1\n")
    fits = [fit(FitSettings(model=model_file, priors=priors, targets=targets, components=components,
                            particles=12, generations=2, seed=11, workers=workers, check_draws=4),
                progress=False) for workers in (1, 2)]
    one, two = (f.history for f in fits)
    assert len(one) == len(two) == 2
    for a, b in zip(one, two, strict=True):
        assert a.simulations == b.simulations and a.tolerance == b.tolerance
        np.testing.assert_array_equal(a.particles, b.particles)
        np.testing.assert_array_equal(a.weights, b.weights)
        np.testing.assert_array_equal(a.distances, b.distances)


# --- the quick fit through the command line ----------------------------------------------

def test_quick_calibration_writes_a_usable_fit(tmp_path: Path, capsys) -> None:
    out = tmp_path / "fitted"
    args = ["calibrate", "--quick", "--out", str(out), "--workers", "2", "--quiet",
            "--model", str(MODEL), "--priors", str(PRIORS), "--targets", str(TARGETS),
            "--components", str(COMPONENTS)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "coverage:" in printed and "identifiability" in printed
    for name in ("haarlem.toml", "haarlem_posterior.parquet", "predictive_check.csv",
                 "predictive_check.png", "identifiability.csv", "fit_summary.json"):
        assert (out / name).exists(), name
    fitted = load(out / "haarlem.toml")
    base = load(MODEL)
    assert fitted.groups["wmo"].first_report_share != base.groups["wmo"].first_report_share
    posterior = read_posterior(out / "haarlem_posterior.parquet")
    assert "groups.wmo.decision.leaves" in posterior.columns  # complements are stored too
    assert main(args) == 2  # an existing fit is not replaced silently
    assert (out / "haarlem.toml").exists()
    run_out = tmp_path / "run"
    assert main(["run", str(out / "haarlem.toml"), "--replications", "2", "--until", "2019",
                 "--posterior", str(out / "haarlem_posterior.parquet"), "--out", str(run_out),
                 "--quiet"]) == 0
    assert (run_out / "annual").exists()


def test_components_class_is_tidy() -> None:
    components: Components = load_components(TARGETS, COMPONENTS)
    assert list(components.table.columns) == ["year", "metric", "group", "observed", "scale",
                                              "weight", "not_modelled", "one_sided"]


def test_a_fit_without_a_year_writes_how_it_predicts_that_year(tmp_path: Path) -> None:
    model_file = tmp_path / "short.toml"
    model_file.write_text(f'base = "{MODEL}"\n[overrides]\n"simulation.warmup_years" = 1\n'
                          '"simulation.end_year" = 2020\n')
    priors = tmp_path / "priors.toml"
    priors.write_text('[parameters."groups.wmo.first_report_share"]\nlow = 0.5\nhigh = 1.0\n'
                      'why = "test"\n')
    rows = pd.read_csv(TARGETS)
    targets = tmp_path / "targets.csv"
    rows[rows["year"].isin([2019, 2020]) & (rows["metric"] == "bct_registrations")].to_csv(
        targets, index=False)
    settings = FitSettings(model=model_file, priors=priors, targets=targets, components=COMPONENTS,
                           particles=12, generations=2, seed=5, workers=1, check_draws=8,
                           holdout_years=(2020,))
    result = fit(settings, progress=False)
    assert 2020 not in set(result.components.table["year"])
    summary = write_fit(result, tmp_path / "fit", replace=False, progress=False)
    validation = pd.read_csv(tmp_path / "fit" / "validation_2020.csv")
    assert set(validation["year"]) == {2020}
    assert (~validation["one_sided"]).sum() == 7  # the groups and the total, and the facts
    assert {"observed", "median", "lo95", "hi95", "inside95"} <= set(validation.columns)
    assert (tmp_path / "fit" / "validation_2020.png").exists()
    assert summary["validation95"]["of"] == 7
    check = pd.read_csv(tmp_path / "fit" / "predictive_check.csv")
    assert check.loc[check["year"] == 2020, "held_out"].all()
