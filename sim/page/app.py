"""The explorer page, built with Panel: the same layout serves a browser (``opvang explore``)
and a notebook (``sim.page.view(FOLDER)`` as a cell's last expression).

Two parts: "Results" offers the finished sweeps under the folder (by name; nothing typed is a
path) and shows the report's headline table and figures for the chosen scenarios; "Try a
lever" sets a scenario, queues it (one run at a time, the replications fixed by the command
line) and shows it against the baseline with progress and an estimate of the time left.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import panel as pn

from sim.batch.dataset import read_manifest
from sim.input.errors import InputError
from sim.model.files import resolve
from sim.page.catalog import finished
from sim.page.levers import Levers, Settings, current
from sim.page.runs import Job, Runner
from sim.study.report.data import compute
from sim.study.report.figures import FIGURES, png
from sim.study.report.html import STYLE, fragment
from sim.study.results import load

ROOM_TYPES = ("dormitory", "two-person", "single", "family-unit")
TICK_MS = 400


def view(folder: str | Path, *, lang: str = "en", runner: Runner | None = None,
         **settings: Any) -> pn.viewable.Viewable:
    """The page for ``folder`` (``settings``: those of :class:`sim.page.levers.Settings`)."""
    runner = runner or Runner(Settings(Path(folder), **settings), lang)
    return Page(runner, lang).layout


class Page:
    """One view of the page (a browser tab or a notebook cell) on a shared runner."""

    def __init__(self, runner: Runner, lang: str) -> None:
        self.runner, self.lang = runner, lang
        self.settings = runner.settings
        self.raw = resolve(self.settings.model)
        self.job: Job | None = None
        self.shown_job = 0
        results = self._results_part()
        levers = self._levers_part()
        self.layout = pn.Column(
            pn.pane.Markdown(f"# opvang explore\nResults under `{self.settings.folder}`; scenarios "
                             f"run with {self.settings.replications} replications, seed "
                             f"{self.settings.seed}" + (", over the posterior" if self.settings.posterior
                                                       else "") + "."),
            pn.Tabs(("Try a lever", levers), ("Results", results), dynamic=False),
            sizing_mode="stretch_width", css_classes=["opvang-explore"])
        self.callback = pn.state.add_periodic_callback(self._tick, period=TICK_MS)

    # --- finished sweeps -------------------------------------------------------------
    def _results_part(self) -> pn.Column:
        self.datasets = finished(self.settings.folder)
        names = list(self.datasets)
        self.dataset = pn.widgets.Select(label="Results", options=names, value=names[0] if names else None,
                                         css_classes=["dataset"])
        self.scenarios = pn.widgets.MultiChoice(label="Scenarios", options=[], css_classes=["scenarios"])
        show = pn.widgets.Button(label="Show", color="primary", css_classes=["show"])
        self.shown = pn.pane.HTML("", css_classes=["shown"], stylesheets=[STYLE],
                                  sizing_mode="stretch_width")
        self.dataset.param.watch(lambda _: self._scenarios_of(), "value")
        show.on_click(lambda _: self._show())
        self._scenarios_of()
        return pn.Column(pn.Row(self.dataset, self.scenarios, show), self.shown)

    def _scenarios_of(self) -> None:
        path = self.datasets.get(self.dataset.value or "")
        if path is None:
            self.scenarios.options = []
            return
        names = sorted(p.name.removeprefix("scenario=") for p in (path / "annual").glob("scenario=*"))
        manifest = read_manifest(path) or {}
        order = [s for s in manifest.get("scenarios") or [] if s in names] or names
        self.scenarios.options = order
        self.scenarios.value = order[:4]

    def _show(self) -> None:
        path = self.datasets.get(self.dataset.value or "")
        if path is None or not self.scenarios.value:
            self.shown.object = "<p>Choose results and at least one scenario.</p>"
            return
        chosen = list(self.scenarios.value)
        manifest = read_manifest(path) or {}
        baseline = manifest.get("baseline") if manifest.get("baseline") in chosen else chosen[0]
        annual = load(path, "annual", overrides=False, scenarios=chosen)
        report = compute(annual, manifest, path, baseline=baseline)
        figures = {k: _png(report, self.lang, k) for k in FIGURES}
        self.shown.object = fragment(report, self.lang, figures)

    # --- levers ---------------------------------------------------------------------
    def _levers_part(self) -> pn.Column:
        self._lever_widgets()
        run = pn.widgets.Button(label="Run over the posterior" if self.settings.posterior else "Run",
                                color="primary", css_classes=["run"])
        run.on_click(lambda _: self._submit())
        self.message = pn.pane.Markdown("", css_classes=["message"])
        self.progress = pn.indicators.Progress(value=0, max=1, width=300, css_classes=["progress"])
        self.status = pn.pane.Markdown("", css_classes=["status"])
        self.answer = pn.pane.HTML("", css_classes=["answer"], stylesheets=[STYLE],
                                   sizing_mode="stretch_width")
        return pn.Column(
            pn.Row(self.name, self.year),
            pn.Row(self.facility, self.places, self.room_type, self.regime),
            pn.Row(self.housing_first, self.pact, self.pact_full),
            pn.Row(self.demand, *self.winter.values()),
            pn.Row(run, self.progress, self.status), self.message, self.answer)

    def _lever_widgets(self) -> None:
        raw = self.raw
        end = self.settings.end_year or int(raw["simulation"]["end_year"])
        w = pn.widgets
        self.name = w.TextInput(label="Name of the scenario", value="my_scenario", css_classes=["lever-name"])
        self.year = w.IntInput(label="From 1 January of", value=min(2025, end), css_classes=["lever-year"])
        facilities = {f"{spec.get('name', key)} ({key})": key for key, spec in raw["facilities"].items()}
        self.facility = w.Select(label="Facility", options={"(none)": "", **facilities}, value="",
                                 css_classes=["lever-facility"])
        self.places = w.IntInput(label="Places", value=None, css_classes=["lever-places"])
        self.room_type = w.Select(label="Room type", options=["", *ROOM_TYPES], css_classes=["lever-room"])
        self.regime = w.Select(label="Regime", options=["", *raw["recovery"]["regime"]],
                               css_classes=["lever-regime"])
        now = current(raw, self.year.value or end)
        self.housing_first = w.IntInput(label="Housing First homes a year (Haarlem)",
                                        value=now["housing_first"], css_classes=["lever-hf"])
        self.pact = w.IntInput(label="Pact homes a year (Haarlem)", value=now["pact"],
                               css_classes=["lever-pact"])
        self.pact_full = w.Checkbox(label="Pact at its full quota (every municipality)")
        paths = list(raw["groups"]["wmo"].get("demand", {}).get("paths", {}) or ["central"])
        self.demand = w.Select(label="Demand path after 2023", options=paths,
                               value=raw["simulation"].get("demand_path", paths[0]),
                               css_classes=["lever-demand"])
        self.winter = {key: w.IntInput(label=f"Winter places {spec.get('name', key)}",
                                       value=spec["winter_places"], css_classes=[f"lever-winter-{key}"])
                       for key, spec in raw["facilities"].items() if "winter_places" in spec}
        self.facility.param.watch(lambda _: self._facility_values(), "value")

    def _facility_values(self) -> None:
        entry = current(self.raw, self.year.value or 0)["facilities"].get(self.facility.value, {})
        self.places.value = entry.get("places")
        self.room_type.value = entry.get("room_type", "")
        self.regime.value = entry.get("regime", "")

    def levers(self) -> Levers:
        """The levers as the widgets show them."""
        return Levers(label=str(self.name.value).strip(), year=int(self.year.value or 0),
                      facility=self.facility.value, places=self.places.value,
                      room_type=self.room_type.value, regime=self.regime.value,
                      housing_first=self.housing_first.value, pact=self.pact.value,
                      pact_full=bool(self.pact_full.value), demand_path=self.demand.value,
                      winter_places={k: v.value for k, v in self.winter.items() if v.value is not None})

    def _submit(self) -> None:
        try:
            self.job = self.runner.submit(self.levers())
        except InputError as err:
            self.message.object = f"**Refused.** {err.key + ': ' if err.key else ''}{err.expected}"
            return
        self.message.object = f"Queued: **{self.job.label}** against the baseline."

    def _tick(self) -> None:
        job = self.job
        if job is None:
            return
        self.progress.max = max(job.total, 1)
        self.progress.value = min(job.done, job.total)
        ahead = self.runner.ahead(job)
        waiting = f", {ahead} run(s) ahead" if job.state == "queued" and ahead else ""
        self.status.object = (f"{job.label}: {job.state}{waiting}; {job.done} of {job.total} tasks; "
                              f"{self.runner.estimate(job)}".rstrip("; "))
        if job.state == "failed" and self.shown_job != job.id:
            self.shown_job = job.id
            self.message.object = f"**Failed.** {job.error}"
        if job.state == "done" and self.shown_job != job.id:
            self.shown_job = job.id
            self.answer.object = job.html
            read = "computed now" if job.computed else "read back: computed before"
            self.message.object = f"Done: **{job.label}** against the baseline ({read})."


def _png(report: Any, lang: str, kind: str) -> bytes | None:
    fig = FIGURES[kind](report, lang)
    return None if fig is None else png(fig)
