"""``opvang explore`` in a real browser: Debian's chromium driven by playwright's Python API
(never ``playwright install``). The server runs in its own process group, started by a fixture
and stopped by its PID; the browser context refuses every request that is not to the loopback
address, and the tests check that the page asked for none. Skipped only where there is no
/usr/bin/chromium and CI is unset: in CI a missing browser fails."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_runner import cli

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
LOCAL = re.compile(r"^(https?|wss?)://(127\.0\.0\.1|localhost)(:\d+)?/")

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason="no /usr/bin/chromium (apt-get install chromium); in CI this fails instead")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``opvang explore`` on a folder with one finished sweep: 2019 only, 3 replications over
    the posterior. Its URL and folder."""
    folder = tmp_path_factory.mktemp("explore")
    assert cli(["sweep", "experiments/smoke.toml", "--out", str(folder / "smoke"), "--workers", "1",
                "--quiet"]).code == 0
    port = free_port()
    log = (folder / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "sim", "explore", str(folder), "--port", str(port),
                             "--until", "2019", "--warmup", "1", "-n", "3"], cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:
                    assert answer.status == 200
                break
            except OSError:
                assert proc.poll() is None, (folder / "server.log").read_text()
                assert time.monotonic() < deadline, "the page did not come up in 60 s"
                time.sleep(0.3)
        yield url, folder
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # its own group: the server and anything it started
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, served: tuple[str, Path]) -> Iterator[tuple[Any, list[str]]]:
    """A fresh page on the server; the list collects every request refused as not local."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    refused: list[str] = []

    def route(r: Any) -> None:
        url = r.request.url
        if LOCAL.match(url) or url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            refused.append(url)
            r.abort()

    context.route("**/*", route)
    tab = context.new_page()
    tab.goto(served[0])
    tab.wait_for_selector(".lever-name input", timeout=30000)
    yield tab, refused
    context.close()


def text(tab: Any, selector: str) -> str:
    """The visible text of a Panel pane (inside its shadow root, styles left out)."""
    return str(tab.eval_on_selector(selector, """e => [...(e.shadowRoot || e).childNodes]
        .filter(n => !['STYLE', 'LINK'].includes(n.nodeName))
        .map(n => n.innerText || n.textContent).join(' ')"""))


def wait_for(tab: Any, selector: str, pattern: str, seconds: float = 120) -> str:
    deadline = time.monotonic() + seconds
    while not re.search(pattern, seen := text(tab, selector)):
        assert time.monotonic() < deadline, f"{selector}: no {pattern!r} in {seen!r}"
        time.sleep(0.25)
    return seen


def enter(tab: Any, selector: str, value: str) -> None:
    field = tab.locator(f"{selector} input")
    field.fill(value)
    field.press("Enter")


def run(tab: Any, name: str, places: str, expect: str = "") -> str:
    """Set Wilhelminastraat's places, run, and return the message once it says ``expect``
    (default: done with this scenario, or refused, or failed)."""
    enter(tab, ".lever-name", name)
    facility = tab.locator(".lever-facility select")
    if "wilhelminastraat" not in facility.input_value():
        facility.select_option(label="Wilhelminastraat (wilhelminastraat)")
        field = tab.locator(".lever-places input")
        deadline = time.monotonic() + 30
        while field.input_value() != "30":  # its places in 2019 arrive from the server first
            assert time.monotonic() < deadline, field.input_value()
            time.sleep(0.1)
    enter(tab, ".lever-places", places)
    tab.locator(".run button").click()
    return wait_for(tab, ".message", expect or rf"Done: {name}|Refused|Failed")


def without_a_bed(answer: str, name: str) -> float:
    """The paired change of people without a bed that the page's answer states."""
    match = re.search(rf"{name} minus baseline, paired: people without a bed ([+-][\d,.]+)", answer)
    assert match, answer
    return float(match[1].replace(",", ""))


def keep(tab: Any, tmp_path: Path, name: str) -> Path:
    """A full-page screenshot in the test's folder, copied to $OPVANG_ARTEFACTS when set."""
    shot = tmp_path / name
    tab.screenshot(path=str(shot), full_page=True)
    if os.environ.get("OPVANG_ARTEFACTS"):
        target = Path(os.environ["OPVANG_ARTEFACTS"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, target / name)
    return shot


def test_the_page_loads_nothing_from_a_network(page: tuple[Any, list[str]]) -> None:
    tab, refused = page
    assert "opvang explore" in text(tab, ".opvang-explore .markdown") or tab.title() == "opvang explore"
    assert tab.locator(".run button").is_visible()
    assert not refused, refused


def test_a_lever_change_gives_a_new_answer(page: tuple[Any, list[str]], tmp_path: Path) -> None:
    tab, refused = page
    assert "Done: more_beds" in run(tab, "more_beds", "60")
    more = without_a_bed(wait_for(tab, ".answer", "more_beds minus baseline"), "more_beds")
    assert "Done: fewer_beds" in run(tab, "fewer_beds", "10")
    fewer = without_a_bed(wait_for(tab, ".answer", "fewer_beds minus baseline"), "fewer_beds")
    assert more < 0 < fewer  # 60 night places leave fewer people without a bed than 30, 10 more
    assert re.search(r"fewer_beds: done; 6 of 6 tasks", text(tab, ".status"))
    shot = keep(tab, tmp_path, "explore-lever.png")
    assert shot.stat().st_size > 20_000
    assert not refused, refused


def test_a_path_and_an_out_of_range_lever_are_refused(page: tuple[Any, list[str]],
                                                      served: tuple[str, Path], tmp_path: Path) -> None:
    tab, _ = page
    before = sorted((served[1] / "explore").rglob("*"))
    message = run(tab, "../../etc/passwd", "30", "Refused|Done|Failed")
    assert "Refused" in message and "expected a name of letters, digits" in message
    message = run(tab, "huge", "20000", "20000|Done|Failed")
    assert "Refused" in message and "places: expected a number from 0 to 10,000, got 20000" in message
    assert sorted((served[1] / "explore").rglob("*")) == before  # nothing written
    keep(tab, tmp_path, "explore-refused.png")


def test_the_results_of_a_finished_sweep(page: tuple[Any, list[str]], tmp_path: Path) -> None:
    tab, refused = page
    tab.locator(".bk-tab", has_text="Results").click()
    assert tab.locator(".dataset select").input_value() == "smoke"
    tab.locator(".show button").click()
    shown = wait_for(tab, ".shown", "Headline figures")
    assert "fewer_places minus baseline, paired" in shown
    assert tab.locator(".shown img").count() >= 5
    keep(tab, tmp_path, "explore-results.png")
    assert not refused, refused
