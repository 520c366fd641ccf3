"""The notebooks run: each is executed on a small configuration (2 replications per scenario,
results in a temporary folder), so that they never rot, and the policy notebooks end with an
answer that a code cell writes from the numbers of the run (sim.study.analysis). This test does
not touch the committed notebooks."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
FROM_THE_FIT = "01_calibration.ipynb"  # its answer is written from the committed fit's files, not a run


def generated_answer(nb: nbformat.NotebookNode) -> str:
    """The Markdown the last cell displayed, or empty."""
    outputs = nb.cells[-1].get("outputs", [])
    shown = [o["data"] for o in outputs if o.get("output_type") in ("display_data", "execute_result")]
    return "".join(data["text/markdown"] for data in shown if "text/markdown" in data)


def test_the_notebooks_are_there() -> None:
    assert NAMES == ["01_calibration.ipynb", "02_baseline_projection.ipynb",
                     "03_single_rooms.ipynb", "04_outflow_levers.ipynb",
                     "05_velserpoort_pilot.ipynb", "06_joops_hotel.ipynb",
                     "07_demand_and_levers.ipynb", "08_access_policy.ipynb",
                     "09_sensitivity.ipynb", "10_budget_choice.ipynb"]


@pytest.mark.parametrize("name", NAMES)
def test_notebook_begins_with_the_question_and_ends_with_the_answer(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    first, last = nb.cells[0], nb.cells[-1]
    assert first.cell_type == "markdown" and "**Question.**" in first.source
    # the answer is written by code from the numbers the notebook reads
    assert last.cell_type == "code" and "**Answer.**" in last.source
    assert "display(Markdown(" in last.source


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_on_a_small_configuration(name: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPVANG_NOTEBOOK_REPLICATIONS", "2")
    monkeypatch.setenv("OPVANG_NOTEBOOK_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()  # raises CellExecutionError, naming the cell, when a cell fails
    errors = [out for cell in nb.cells if cell.cell_type == "code"
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not errors
    answer = generated_answer(nb)
    assert answer.startswith("**Answer.**")
    if name != FROM_THE_FIT:
        assert re.search(r"[Ww]ith \d+ (replications|draws)", answer), "it must say how few it rests on"
