"""The EMA Workbench adapter (sim.study.ema): PRIM scenario discovery on a small run, the same
values as a sweep (common random numbers), EMA's own samplers, and bad input."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from cli_runner import cli

from sim.input.errors import InputError
from sim.study.experiment import read_experiment
from sim.study.results import load
from sim.study.sampling import Factor
from sim.study.sensitivity import point_values

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # "ipyparallel not installed"
    import ema_workbench
    from ema_workbench.analysis import prim

import sim.study.ema

pytestmark = pytest.mark.slow  # the EMA Workbench adapter: sweeps and PRIM

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "haarlem.toml"
VP19 = "facilities.velserpoort.schedule.2019-01-01.places"


def experiment(folder: Path, method: str, n: int, replications: int, end_year: int) -> Path:
    path = folder / f"{method}.toml"
    path.write_text(f"""model = {json.dumps(str(MODEL))}
replications = {replications}
seed = 11
[horizon]
end_year = {end_year}
warmup_years = 1
[sample]
method = "{method}"
n = {n}
[parameters."groups.wmo.patience_days"]
low = 7.0
high = 120.0
scale = "log"
[parameters."groups.wmo.departure_per_year"]
low = 0.2
high = 6.0
scale = "log"
[levers."{VP19}"]
low = 10
high = 60
integer = true
""")
    return path


def test_prim_finds_where_street_nights_rise(tmp_path: Path) -> None:
    """2019-2020, one replication, 24 points of a Latin sample: street nights rise above the
    model's own value where people wait long for a bed and seldom leave a shelter."""
    path = experiment(tmp_path, "latin", 24, 1, 2020)
    model = sim.study.ema.from_experiment(path, ["street_nights"])
    assert [u.name for u in model.uncertainties] == ["groups.wmo.patience_days",
                                                     "groups.wmo.departure_per_year"]
    assert [lever.name for lever in model.levers] == [VP19]
    base = model.function()["street_nights"]  # the model's own values
    scenarios, policies = sim.study.ema.design(path)
    assert len(scenarios) == len(policies) == 24
    experiments, outcomes = ema_workbench.perform_experiments(model, scenarios, policies, combine="sample")
    rise = outcomes["street_nights"] > base
    assert 4 <= rise.sum() <= 20
    box = prim.Prim(sim.study.ema.inputs(experiments), rise, threshold=0.8).find_box()
    limits = box.box_lims[-1]
    stats = box.peeling_trajectory.iloc[-1]
    assert stats["density"] >= 0.8 and stats["coverage"] >= 0.8
    assert limits.loc[0, "groups.wmo.patience_days"] > 7.0 * 1.5  # waiting long
    assert limits.loc[1, "groups.wmo.departure_per_year"] < 6.0 / 1.5  # leaving seldom


def test_the_adapter_gives_the_sweeps_values(tmp_path: Path) -> None:
    """Each experiment runs replications 0..R-1 with the experiment's seed, as every point of
    a sweep does (common random numbers): the outcomes are the sweep's, exactly."""
    path = experiment(tmp_path, "latin", 4, 2, 2019)
    result = cli(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "1", "--quiet"], tmp_path)
    assert result.code == 0, result.err
    design = read_experiment(path).design
    assert design is not None
    outcomes = [("street_nights", "total"), ("outflow", "regular")]
    swept, _ = point_values(load(tmp_path / "out"), design, outcomes, (2019, 2019))
    scenarios, policies = sim.study.ema.design(path)
    model = sim.study.ema.from_experiment(path, ["street_nights", "outflow:regular"])
    _, values = ema_workbench.perform_experiments(model, scenarios, policies, combine="sample")
    assert np.allclose(values["street_nights"], swept[("street_nights", "total")], rtol=1e-12)
    assert np.allclose(values["outflow.regular"], swept[("outflow", "regular")], rtol=1e-12)
    replicated = ema_workbench.ReplicatorModel("replicated", function=model.function)  # EMA's own
    replicated.uncertainties, replicated.levers = model.uncertainties, model.levers
    replicated.replications = [{"replication": r} for r in range(2)]
    replicated.outcomes = [ema_workbench.ScalarOutcome("street_nights", function=np.mean)]
    _, per = ema_workbench.perform_experiments(replicated, scenarios, policies, combine="sample")
    assert np.allclose(per["street_nights"], values["street_nights"], rtol=1e-12)


def test_emas_own_samplers(tmp_path: Path) -> None:
    """EMA samples the uncertainties and levers itself: log ranges as log-uniform
    distributions, integer ones as integers."""
    model = sim.study.ema.ema_model(MODEL, {"groups.wmo.patience_days": Factor(7.0, 120.0, "log")},
                              {VP19: Factor(10, 60, integer=True)}, ["street_nights"], seed=3,
                              overrides={"simulation.end_year": 2019, "simulation.warmup_years": 1})
    experiments, outcomes = ema_workbench.perform_experiments(model, 3, 2)
    assert len(experiments) == 6 and np.isfinite(outcomes["street_nights"]).all()
    assert experiments["groups.wmo.patience_days"].between(7.0, 120.0).all()
    places = experiments[VP19]
    assert places.between(10, 60).all() and (places == places.round()).all()
    patience, places_ = experiments.iloc[0][["groups.wmo.patience_days", VP19]]
    again = model.function(**{"groups.wmo.patience_days": patience, VP19: places_})
    assert again["street_nights"] == outcomes["street_nights"][0]  # a function of its inputs


def test_bad_input_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        sim.study.ema.ema_model(MODEL, {"groups.wmo.patiense_days": Factor(7.0, 120.0)})
    assert err.value.key == "parameters.groups.wmo.patiense_days"
    with pytest.raises(InputError) as err:
        sim.study.ema.ema_model(MODEL, {"groups.wmo.patience_days": Factor(-1.0, 120.0)})
    assert "gives an invalid model" in err.value.expected
    with pytest.raises(InputError) as err:
        sim.study.ema.from_experiment(ROOT / "experiments" / "smoke.toml")
    assert err.value.key == "sample"
