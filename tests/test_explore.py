"""``opvang explore`` without a browser: levers become overrides checked as experiment files are,
runs are queued one at a time and a scenario computed once is read back, the page offers only
the sweeps under its folder, and the view is a Panel layout (as a notebook shows it)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cli_runner import cli

from sim.input.errors import InputError
from sim.model.files import resolve
from sim.page.catalog import finished
from sim.page.levers import BASELINE, Levers, Settings, check, current, overrides
from sim.page.runs import Job, Runner

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "haarlem.toml"


def settings(folder: Path, **kw: object) -> Settings:
    """A tiny configuration: 2019 only, one warm-up year, 2 replications, no posterior."""
    base: dict[str, object] = {"model": MODEL, "posterior": None, "replications": 2, "end_year": 2019,
                               "warmup_years": 1}
    return Settings(folder, **(base | kw))  # type: ignore[arg-type]


def test_levers_are_overrides_of_what_changes() -> None:
    raw = resolve(MODEL)
    assert current(raw, 2021)["facilities"]["velserpoort"]["places"] == 42
    assert current(raw, 2020)["facilities"]["velserpoort"]["room_type"] == "dormitory"
    assert current(raw, 2024)["housing_first"] == 10 and current(raw, 2020)["housing_first"] == 5
    assert overrides(Levers(facility="velserpoort", places=42, room_type="two-person"), raw) == {}
    got = overrides(Levers(year=2026, facility="velserpoort", places=30, room_type="single",
                           housing_first=20, pact=90, demand_path="high",
                           winter_places={"wilhelminastraat": 25, "velserpoort": 15}), raw)
    assert got == {"facilities.velserpoort.schedule.2026-01-01.places": 30,
                   "facilities.velserpoort.schedule.2026-01-01.room_type": "single",
                   "channels.housing_first.dated.2026-01-01.haarlem": 20,
                   "channels.pact.dated.2026-01-01.haarlem": 90,
                   "simulation.demand_path": "high",
                   "facilities.wilhelminastraat.winter_places": 25}
    full = overrides(Levers(pact_full=True), raw)
    assert set(full.values()) == {1.0} and "channels.pact.realisation.haarlem" in full


def test_bad_levers_are_refused_with_the_rule_of_experiment_files(tmp_path: Path) -> None:
    s = settings(tmp_path)
    cases = [
        (Levers(label="../../etc/passwd", year=2019), "expected a name of letters, digits"),
        (Levers(label="x", year=2019, facility="wilhelminastraat", places=20000), "from 0 to 10,000"),
        (Levers(label="x", year=2019, facility="wilhelminastraat", places=-1), "from 0 to 10,000"),
        (Levers(label="x", year=2019, housing_first=-5), "housing_first"),
        (Levers(label="x", year=2030), "expected a year from 2019 to 2019"),
        (Levers(label=BASELINE, year=2019), "the page's own baseline"),
        (Levers(label="x", year=2019, demand_path="extreme"), "demand_path"),
    ]
    for levers, message in cases:
        with pytest.raises(InputError, match=message):
            check(s, levers)
    assert not list((tmp_path / "explore" / "experiments").iterdir())  # nothing left behind
    assert not (tmp_path.parent / "etc").exists()


def wait(job: Job, seconds: float = 120) -> Job:
    deadline = time.monotonic() + seconds
    while job.state in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    return job


@pytest.mark.slow
def test_runs_are_queued_and_never_computed_twice(tmp_path: Path) -> None:
    runner = Runner(settings(tmp_path))
    fewer = Levers(label="fewer", year=2019, facility="wilhelminastraat", places=10)
    more = Levers(label="more", year=2019, facility="wilhelminastraat", places=60)
    first, second = runner.submit(fewer), runner.submit(more)
    dup = runner.submit(fewer)  # the same request: the same job while it waits, else read back
    assert dup is first or (wait(dup).state, dup.computed) == ("done", 0)
    guess = runner.estimate(second)
    assert guess in ("estimate after the first task", "") or "s left" in guess
    wait(first), wait(second)
    assert (first.state, second.state) == ("done", "done"), (first.error, second.error)
    assert first.id < second.id and first.started <= second.started  # one at a time, in order
    assert first.computed == 4 and second.computed == 2  # the baseline once, for both
    assert first.done == first.total == 4
    assert runner.pace is not None and "s left" in runner.estimate(Job(99, "x", [], total=10))
    again = wait(runner.submit(Levers(label="again", year=2019, facility="wilhelminastraat", places=10)))
    assert again.computed == 0 and again.state == "done"  # read back, under another name
    assert again.report is not None and again.report.scenarios == [BASELINE, "again"]
    diff = first.report.differences  # type: ignore[union-attr]
    placements = diff[(diff["metric"] == "shelter_placements") & (diff["group"] == "total")]
    assert placements["median"].iloc[0] < 0  # ten places instead of 45 with winter: fewer placements
    results = sorted(p.name for p in (tmp_path / "explore" / "results").iterdir())
    assert len(results) == 3  # baseline, 10 places, 60 places


def test_the_page_offers_only_the_finished_sweeps_under_its_folder(tmp_path: Path) -> None:
    served, outside = tmp_path / "served", tmp_path / "outside"
    for out in (served / "a" / "smoke", served / "explore" / "results" / "x", outside / "elsewhere"):
        assert cli(["sweep", "experiments/smoke.toml", "--out", str(out), "--workers", "1",
                    "--quiet"]).code == 0
    (served / "empty").mkdir()
    (served / "link").symlink_to(outside / "elsewhere")  # leads out of the folder: not offered
    # the page's own runs (explore/) are not offered either
    assert finished(served) == {"a/smoke": (served / "a" / "smoke").resolve()}


def test_the_view_is_a_panel_layout(tmp_path: Path) -> None:
    pn = pytest.importorskip("panel")
    from sim.page.app import Page

    runner = Runner(settings(tmp_path), "nl")
    page = Page(runner, "nl")
    assert isinstance(page.layout, pn.layout.Panel)
    page.facility.value = "velserpoort"
    assert (page.places.value, page.room_type.value) == (30, "dormitory")  # in 2019
    page.name.value = "a/b"
    page._submit()
    assert "Refused" in page.message.object and "expected a name" in page.message.object
    page.name.value, page.places.value = "kleiner", 20
    page._submit()
    assert page.job is not None
    wait(page.job)
    page._tick()
    assert "kleiner" in page.answer.object and "Kerncijfers" in page.answer.object


@pytest.mark.slow
def test_the_view_renders_in_a_notebook(tmp_path: Path) -> None:
    """A notebook shows the page as a cell's output: executed here by a real kernel."""
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    cells = [
        "import panel as pn\npn.extension()",
        "from pathlib import Path\nimport sim.page.app\n"
        f"page = sim.page.app.view({str(tmp_path)!r}, posterior=None, replications=2, end_year=2019, "
        "warmup_years=1)\npage",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = nb.cells[-1].outputs
    assert not [o for o in outputs if o.get("output_type") == "error"]
    shown = [o["data"] for o in outputs if o.get("output_type") == "execute_result"]
    assert shown and "application/vnd.holoviews_exec.v0+json" in shown[0], outputs  # a Panel view
    html = str(shown[0]["text/html"])
    assert "Try a lever" in html and "Run" in html  # the page's own tabs and button
