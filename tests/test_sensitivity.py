"""Global sensitivity: a Morris screening of twelve factors runs through ``opvang sweep`` and
``opvang sensitivity`` ranks them, reproducibly; resume, two workers and Dask give the same
dataset; the indices of Morris, Sobol' and Latin samples rank a known function right.

The screening simulates 2019 only, so factors dated later (a 2021 schedule entry, a 2023
channel change, the 2021-10 regular rate) cannot act: under common random numbers their
elementary effects are exactly zero. That pins the mapping from points to results.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_runner import cli

from sim.input.errors import InputError
from sim.study.experiment import read_experiment
from sim.study.results import load
from sim.study.sampling import Design, Factor, unit_sample
from sim.study.sensitivity import INDICES, indices

pytestmark = pytest.mark.slow  # sampled sweeps, Dask and resume

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "haarlem.toml"
LATER = ("channels.regular.dated.2021-10-01.rate_per_year",
         "facilities.velserpoort.schedule.2021-01-01.places",
         "channels.housing_first.dated.2023-05-01.haarlem")
RANGES = {  # parameter: low, high, scale
    "groups.wmo.patience_days": (7.0, 120.0, "log"),
    "groups.wmo.recovery_days": (60.0, 400.0, "log"),
    "groups.wmo.departure_per_year": (0.2, 6.0, "log"),
    "groups.wmo.bw_indication_share": (0.1, 0.4, "linear"),
    "groups.economic.patience_days": (7.0, 120.0, "log"),
    "recovery.regime.24-uurs": (1.0, 2.0, "linear"),
    "recovery.room_type.two-person": (1.0, 1.4, "linear"),
    "places.bw.indication_days": (14.0, 180.0, "log"),
    "returns.gave_up.probability": (0.2, 0.8, "linear"),
    LATER[0]: (0.05, 2.0, "log"),
}


def experiment_text(seed: int = 31, n: int = 2) -> str:
    lines = [f"model = {json.dumps(str(MODEL))}", "replications = 1", "seed = 8", 'tables = ["annual"]',
             "[horizon]", "end_year = 2019", "warmup_years = 1",
             "[sample]", 'method = "morris"', f"n = {n}", f"seed = {seed}"]
    for key, (low, high, scale) in RANGES.items():
        lines += [f'[parameters."{key}"]', f"low = {low}", f"high = {high}", f'scale = "{scale}"']
    lines += ['[parameters."groups.wmo.decision.regional_mo"]', "low = 0.5", "high = 0.9",
              'complement = "groups.wmo.decision.leaves"']
    lines += [f'[levers."{LATER[1]}"]', "low = 28", "high = 56", "integer = true",
              f'[levers."{LATER[2]}"]', "low = 5", "high = 40", "integer = true"]
    return "\n".join(lines) + "\n"


def parquet_files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The screening experiment (11 parameters, 2 levers, 2 trajectories: 28 points), swept
    in this process; its file and results folder."""
    folder = tmp_path_factory.mktemp("screen")
    path = folder / "screen.toml"
    path.write_text(experiment_text())
    result = cli(["sweep", str(path), "--out", str(folder / "out"), "--workers", "1", "--quiet"], folder)
    assert result.code == 0, result.err
    assert "28 tasks" in result.out
    return path, folder / "out"


def test_sensitivity_ranks_the_factors(swept: tuple[Path, Path]) -> None:
    path, out = swept
    result = cli(["sensitivity", str(out)])
    assert result.code == 0, result.err
    assert "morris sample of 13 factors, n 2, seed 31: 28 points x 1 replication" in result.out
    assert f"written: {out / 'sensitivity.csv'}, {out / 'sensitivity.png'}" in result.out
    assert (out / "sensitivity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = pd.read_csv(out / "sensitivity.csv")
    assert list(table.columns[:7]) == ["experiment", "method", "metric", "group", "rank", "factor", "kind"]
    assert set(table["experiment"]) == {"screen"} and set(table["method"]) == {"morris"}
    outcomes = ["people_without_a_bed", "nights_without_a_bed", "stays_over_9_months", "bw_waiting_list",
                "mean_wait_for_bed_days"]
    assert list(dict.fromkeys(table["metric"])) == outcomes
    design = read_experiment(path).design
    assert design is not None
    for metric in outcomes:
        part = table[table["metric"] == metric]
        assert sorted(part["factor"]) == sorted(design.factors)
        assert part["rank"].tolist() == sorted(part["rank"]) and part["rank"].iloc[0] == 1
        assert part["mu_star"].iloc[0] == part["mu_star"].max() > 0
        later = part[part["factor"].isin(LATER)]
        assert later["mu_star"].tolist() == [0.0, 0.0, 0.0]  # cannot act before 2020
        assert (later["rank"] > (part[~part["factor"].isin(LATER)]["rank"].min())).all()
    kinds = dict(zip(table["factor"], table["kind"], strict=False))
    assert kinds[LATER[1]] == kinds[LATER[2]] == "lever" and kinds[LATER[0]] == "parameter"
    for metric in outcomes:
        assert f"{metric} (total):" in result.out


def test_the_ranking_is_reproducible_from_the_seed(swept: tuple[Path, Path], tmp_path: Path) -> None:
    """The same file swept again, on two workers, gives the same files and the same table."""
    path, out = swept
    assert cli(["sensitivity", str(out)]).code == 0
    again = tmp_path / "again"
    result = cli(["sweep", str(path), "--out", str(again), "--workers", "2", "--quiet"], tmp_path)
    assert result.code == 0, result.err
    assert parquet_files(again) == parquet_files(out)
    assert cli(["sensitivity", str(again)]).code == 0
    assert (again / "sensitivity.csv").read_bytes() == (out / "sensitivity.csv").read_bytes()
    other = tmp_path / "other.toml"
    other.write_text(experiment_text(seed=32))
    first, second = read_experiment(path).design, read_experiment(other).design
    assert first is not None and second is not None and first.unit != second.unit


def test_a_dask_cluster_gives_the_same_dataset(swept: tuple[Path, Path], tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    path, out = swept
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  protocol="tcp://", dashboard_address=None) as cluster:
        result = cli(["sweep", str(path), "--scheduler", cluster.scheduler_address,
                      "--out", str(tmp_path / "dask"), "--quiet"], tmp_path)
    assert result.code == 0, result.err
    assert parquet_files(tmp_path / "dask") == parquet_files(out)


def test_an_unfinished_sweep_resumes_to_the_same_indices(swept: tuple[Path, Path], tmp_path: Path) -> None:
    path, out = swept
    cli(["sensitivity", str(out)])
    part = tmp_path / "part"
    shutil.copytree(out, part)
    names = ("sample-00003", "sample-00017", "sample-00028")
    for name in names:  # never written, as in a sweep stopped before them: no checksum either
        (part / "annual" / f"scenario={name}" / "rep-00000.parquet").unlink()
    sums = part / "checksums.sha256"
    sums.write_text("".join(line for line in sums.read_text().splitlines(keepends=True)
                            if not any(f"scenario={name}/" in line for name in names)))
    result = cli(["sensitivity", str(part)])
    assert result.code == 2
    assert result.err == (f"error: {part}: 3 of 28 sample points have no results yet (first: "
                          "sample-00003); run `opvang sweep` again to finish\n")
    result = cli(["sweep", str(path), "--out", str(part), "--workers", "1", "--quiet"], tmp_path)
    assert result.code == 0, result.err
    assert "(3 computed now, 25 already there)" in result.out
    assert cli(["sensitivity", str(part)]).code == 0
    assert (part / "sensitivity.csv").read_bytes() == (out / "sensitivity.csv").read_bytes()


def test_results_carry_the_factors_as_columns(swept: tuple[Path, Path]) -> None:
    path, out = swept
    design = read_experiment(path).design
    assert design is not None
    annual = load(out, "annual")
    added = sorted([*design.factors, "groups.wmo.decision.leaves"])
    assert list(annual.columns[:4 + len(added)]) == ["experiment", "scenario", "replication", "seed", *added]
    rows = annual.drop_duplicates("scenario").set_index("scenario")
    for i, name in enumerate(design.names):
        for key, value in design.values(i).items():
            assert rows.loc[name, key] == value
        assert rows.loc[name, "groups.wmo.decision.leaves"] == pytest.approx(
            1 - rows.loc[name, "groups.wmo.decision.regional_mo"])
    assert annual[LATER[1]].dtype == np.int64
    assert list(load(out, "annual", overrides=False).columns[:5]) == [
        "experiment", "scenario", "replication", "seed", "year"]


def test_chosen_outcomes_years_and_folder(swept: tuple[Path, Path], tmp_path: Path) -> None:
    _, out = swept
    result = cli(["sensitivity", str(out), "--outcome", "outflow:pact", "--outcome", "bct_registrations:wmo",
                  "--years", "2019", "--out", str(tmp_path / "indices")])
    assert result.code == 0, result.err
    table = pd.read_csv(tmp_path / "indices" / "sensitivity.csv")
    assert list(dict.fromkeys(zip(table["metric"], table["group"], strict=True))) == [
        ("outflow", "pact"), ("bct_registrations", "wmo")]
    assert set(table["first_year"]) == set(table["last_year"]) == {2019}
    assert sorted(p.name for p in (tmp_path / "indices").iterdir()) == ["sensitivity.csv", "sensitivity.png"]


def test_bad_requests(swept: tuple[Path, Path], tmp_path: Path) -> None:
    _, out = swept
    result = cli(["sensitivity", str(out), "--outcome", "street_night"])
    assert (result.code, result.err) == (2, "error: --outcome: street_night:total: not in the annual "
                                            "table; expected METRIC or METRIC:GROUP, e.g. street_nights "
                                            "or outflow:pact; did you mean 'street_nights'?\n")
    result = cli(["sensitivity", str(out), "--years", "2030"])
    assert result.code == 2 and "no outcome has a value at every point" in result.err
    result = cli(["sensitivity", str(tmp_path)])
    assert result.code == 2 and result.err.startswith(f"error: {tmp_path}: no sweep here")
    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "sweep", "experiment": "smoke",
                                                        "definition": {}}))
    result = cli(["sensitivity", str(tmp_path)])
    assert result.code == 2 and "experiment smoke has no [sample]" in result.err


@pytest.mark.parametrize("method", ["morris", "sobol", "latin"])
def test_indices_rank_a_known_function(method: str) -> None:
    """y = 10 x0 + 3 x1 + 0 x2 on the unit cube: every method ranks x0, x1, x2."""
    n, levels = {"morris": (20, 4), "sobol": (256, None), "latin": (200, None)}[method]
    state = np.random.get_state()[1].copy()
    unit = unit_sample(method, n, 3, seed=4, levels=levels)
    factors = {f"x{i}": Factor(10.0, 20.0) for i in range(3)}
    design = Design(method, n, 4, levels, factors, dict.fromkeys(factors, "parameter"),
                    tuple(tuple(row) for row in unit))
    y = 10 * unit[:, 0] + 3 * unit[:, 1]
    table = indices(design, y)
    assert np.array_equal(np.random.get_state()[1], state)  # seeded generators only
    assert table["factor"].tolist() == ["x0", "x1", "x2"]
    assert table["rank"].tolist() == [1, 2, 3]
    main = INDICES[method][0]
    assert table[main].iloc[2] == pytest.approx(0, abs=0.05 if method != "morris" else 1e-12)
    pd.testing.assert_frame_equal(table, indices(design, y))  # the intervals too


def test_too_few_latin_points_for_rbd_fast() -> None:
    unit = unit_sample("latin", 8, 2, seed=1)
    factors = {"x0": Factor(0.0, 1.0), "x1": Factor(0.0, 1.0)}
    design = Design("latin", 8, 1, None, factors, dict.fromkeys(factors, "parameter"),
                    tuple(tuple(row) for row in unit))
    with pytest.raises(InputError) as err:
        indices(design, unit[:, 0])
    assert "8 points are too few for RBD-FAST (at least 9" in err.value.expected


@pytest.mark.parametrize(("outcome", "near"), [("street_night", "street_nights"),
                                               ("outflow:pakt", "outflow:pact")])
def test_a_misspelt_outcome_gets_a_suggestion(swept: tuple[Path, Path], outcome: str, near: str) -> None:
    result = cli(["sensitivity", str(swept[1]), "--outcome", outcome])
    assert result.code == 2
    assert result.err.startswith(f"error: --outcome: {outcome if ':' in outcome else outcome + ':total'}: "
                                 "not in the annual table")
    assert result.err.endswith(f"; did you mean {near!r}?\n") and result.err.count("\n") == 1
