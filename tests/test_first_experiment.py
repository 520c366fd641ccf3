"""A first experiment without friction: what ``opvang run`` shows, ``opvang keys``, the estimate
before a sweep, choosing scenarios when reading results, the quoting advice, and the README's
Python example (run as written)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import cli

import sim
from sim.input.errors import InputError
from sim.model.files import resolve, with_overrides
from sim.study.keys import comments, leaves, model_keys, parse_tag

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "haarlem.toml"


def test_run_says_what_its_figures_are(tmp_path: Path) -> None:
    result = cli(["run", "-n", "2", "--until", "2019", "--out", str(tmp_path / "a"), "--quiet"])
    assert result.code == 0, result.err
    text = " ".join(result.out.split())
    assert "These figures are the fitted point (calibration/fitted/haarlem.toml)" in text
    assert "opvang run --posterior calibration/fitted/haarlem_posterior.parquet" in text
    assert ("inside95: whether the observed value lies within the 2.5-97.5 % range of these 2 "
            "replications") in text
    assert text.index("inside95:") < text.index("observed (")  # in the header, before the table
    result = cli(["run", "-n", "2", "--until", "2019", "--out", str(tmp_path / "b"), "--quiet",
                  "--posterior", "calibration/fitted/haarlem_posterior.parquet"])
    assert result.code == 0, result.err
    assert "Over the posterior calibration/fitted/haarlem_posterior.parquet" in " ".join(result.out.split())


def test_keys_lists_every_key_an_experiment_can_override() -> None:
    keys = model_keys(MODEL)
    raw = resolve(MODEL)
    assert [k.key for k in keys] == [k for k, _ in leaves(raw)]
    for k in keys:  # each is accepted as an override, as in an experiment file
        with_overrides(raw, {k.key: k.value}, "test", add_entries=False)
    by_key = {k.key: k for k in keys}
    winter = by_key["facilities.wilhelminastraat.winter_places"]
    assert (winter.value, winter.tag, winter.range) == (15, "assumption", "[5, 30]")
    places = by_key["facilities.velserpoort.schedule.2021-01-01.room_type"]  # a field of an inline table
    assert (places.value, places.tag) == ("two-person", "data")
    assert by_key["simulation.end_year"].tag == "data"
    tagged = [k for k in keys if isinstance(k.value, int | float) and not isinstance(k.value, bool)]
    untagged = [k.key for k in tagged if not k.tag]
    assert len(untagged) < 0.05 * len(tagged), untagged  # nearly every number carries its tag

    result = cli(["keys", "--match", "housing_first.dated"])
    assert result.code == 0
    assert re.search(r"channels\.housing_first\.dated\.2023-05-01\.haarlem\s+10\s+assumption \[5, 40\]",
                     result.out)
    fitted = cli(["keys", "calibration/fitted/haarlem.toml", "--match", "groups.wmo.recovery_days"])
    assert re.search(r"groups\.wmo\.recovery_days\s+[\d.]+\s+fitted \[60, 400\]", fitted.out)
    assert cli(["keys", "nope.toml"]).code == 2


def test_the_comment_parser(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[a."b.c"]\nx = "#not" # data: here\n[d]\ne = { f = 1 }  # assumption [0, 2]: why\n')
    assert comments(path) == {'a."b.c".x': "data: here", "d.e": "assumption [0, 2]: why"}
    assert parse_tag("assumption [0, 2]: why") == ("assumption", "[0, 2]", "why")
    assert parse_tag("just a note") == ("", "", "just a note")


def test_a_sweep_prints_its_estimate_before_the_bar(tmp_path: Path) -> None:
    result = cli(["sweep", "experiments/smoke.toml", "--out", str(tmp_path / "s"), "--workers", "1"])
    assert result.code == 0, result.err
    assert "smoke: 6 tasks to compute on 1 worker; an estimate follows the first 2" in result.err
    match = re.search(r"estimate: about [\d.]+ (s|min|h) for 6 tasks, from the pace of the first 2 "
                      "tasks", result.err)
    assert match, result.err
    bar = re.search(r"smoke:\s+\d+%", result.err)
    assert bar and match.start() < bar.start()  # before the progress bar


def test_reading_chosen_scenarios_keeps_only_their_categories(tmp_path: Path) -> None:
    out = tmp_path / "s"
    assert cli(["sweep", "experiments/smoke.toml", "--out", str(out), "--quiet", "--workers", "1"]).code == 0
    one = sim.results.load(out, "annual", scenarios=["fewer_places"])
    assert list(one["scenario"].cat.categories) == ["fewer_places"]
    assert set(one["scenario"]) == {"fewer_places"}
    both = sim.results.load(out, "annual")
    kept = both[both["scenario"] == "fewer_places"]
    assert list(kept["scenario"].cat.remove_unused_categories().cat.categories) == ["fewer_places"]
    daily = sim.results.load(out, "daily", scenarios=["baseline"], columns=["facility", "occupancy"])
    assert {"facility", "occupancy"} <= set(daily.columns) and "capacity" not in daily.columns
    with pytest.raises(InputError, match="no such scenario; found: baseline, fewer_places"):
        sim.results.load(out, "annual", scenarios=["nope"])


def test_metrics_docs_say_how_to_quote() -> None:
    text = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    head = text[: text.index("## `bct_registrations`")]
    for word in ("## How to quote", "**flow**", "**stock**", "**mean**", "**ratio**", "`relative`",
                 "`n_for_10pct`", "not observations"):
        assert word in head


@pytest.mark.slow
def test_the_readme_python_example_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Python"):]
    start = section.index("```python") + len("```python")
    code = section[start: section.index("```", start)]
    assert "sim.results.load(" in code
    for folder in ("models", "experiments", "calibration"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert not namespace["results"].tables["annual"].empty  # type: ignore[attr-defined]
    assert (tmp_path / "results" / "smoke" / "manifest.json").is_file()


@pytest.mark.slow
def test_a_notebook_runs_into_a_new_file(tmp_path: Path) -> None:
    """scripts/run_notebook.py writes the executed copy elsewhere; the notebook is unchanged."""
    nbformat = pytest.importorskip("nbformat")
    notebook = tmp_path / "n.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os\nprint('replications', os.environ['OPVANG_NOTEBOOK_REPLICATIONS'])")])
    nbformat.write(nb, notebook)
    before = notebook.read_bytes()
    script = [sys.executable, str(ROOT / "scripts" / "run_notebook.py"), str(notebook)]
    done = subprocess.run([*script, "--replications", "2", "--out", str(tmp_path / "x.ipynb")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert notebook.read_bytes() == before
    out = nbformat.read(tmp_path / "x.ipynb", as_version=4)
    assert out.cells[0].outputs[0]["text"] == "replications 2\n"
    for target in (notebook, tmp_path / "x.ipynb"):  # itself, or a file that exists: refused
        refused = subprocess.run([*script, "--out", str(target)], capture_output=True, text=True)
        assert refused.returncode == 2 and "give a new file" in refused.stderr
    assert notebook.read_bytes() == before
