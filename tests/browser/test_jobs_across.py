"""Across jobs, and every trial opened (issue 14, parts 3 and 4), in Debian's chromium at
desktop (1280×800) and phone (390×844) widths, with screenshots of each.

One real `onegin web` (open on loopback, local records, events and artifacts, and an
in-memory broker that no orchestrator consumes) whose records and artifacts are written
as the orchestrator writes them: a finished health-aware search
with a trial in every stopped state (pruned by the median pruner, at chance, failed by
itself, lost and re-run, cancelled in an epoch), a finished accuracy-only search, a
running search whose trial trains (its progress published on the job's real event bus,
as a worker publishes it), a queued Pareto search on MNIST and a finished comparison with
its report. Jobs the tests start wait for an orchestrator that never comes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from onegin.events import make_event
from onegin.events.resolve import open_event_bus
from tests.browser.conftest import onegin_web, watch_errors
from tests.browser.seeding import ADAM, DATASET, SGD, Seeder, dense_architecture

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")

VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}
CELLS = "rows => rows.map(r => [...r.cells].map(c => c.textContent))"  # a table's text
LIVE = "() => document.querySelector('#connection').dataset.state === 'live'"
REPORT = b"<!doctype html><title>Comparison report</title><h1>Does health help?</h1>"


@dataclass
class Seeded:
    url: str
    night: str  # health-aware, completed, a trial in every stopped state; seed 1234
    day: str  # accuracy-only, completed; seed 99
    live: str  # running, its trial 0 training
    pareto: str  # queued, on mnist
    comparison: str  # completed, with its report
    events: Any  # the server's event bus


def _seed(seeder: Seeder) -> dict[str, str]:
    night = seeder.job("running completed", dataset="digits", trials=6, epochs=3,
                       name="Night search", seed=1234, pruner="hyperband")
    seeder.completed(night, 0, ADAM, 0.80, origin="warm_start")
    seeder.trial(night, 1, "pruned", SGD, val_accuracy=0.41, total_score=0.41, metrics={
        "epochs_run": 3, "pruned_at_epoch": 3, "prune_reason": "pruner", "dataset": DATASET,
        "prune_evidence": {"epoch": 3, "batch": 2, "rule": "median", "judged_epoch": 2,
                           "value": 0.41, "threshold": 0.71, "peers": 5}})
    seeder.completed(night, 2, ADAM | {"filters": 64}, 0.93, total_score=0.9)
    seeder.trial(night, 3, "failed", SGD, error="out of memory: OOM when allocating tensor",
                 metrics={"failure": {"cause": "out of memory", "infrastructure": False,
                                      "rerun": False},
                          "last_progress": {"phase": "training", "epoch": 1, "epochs": 3,
                                            "epoch_fraction": 0.4, "fraction": 0.13}})
    seeder.trial(night, 4, "lost", ADAM, error="no heartbeat from gpu-2 for over 30s",
                 metrics={"failure": {"cause": "lost", "infrastructure": True, "rerun": True},
                          "last_progress": {"phase": "training", "epoch": 2, "epochs": 3,
                                            "epoch_fraction": 0.5, "fraction": 0.5}})
    seeder.completed(night, 5, ADAM, 0.85, retry_of=4, origin="retry")
    seeder.trial(night, 6, "pruned", SGD, val_accuracy=0.11, total_score=0.11, metrics={
        "epochs_run": 1, "pruned_at_epoch": 1, "prune_reason": "chance", "dataset": DATASET,
        "prune_evidence": {"val_accuracy": 0.11, "chance": 0.107, "accuracy_limit": 0.117,
                           "val_loss": 2.31, "prior_loss": 2.302, "loss_limit": 2.233,
                           "loss": 2.3, "epoch": 1}})
    seeder.trial(night, 7, "cancelled", ADAM, metrics={"last_progress": {
        "phase": "training", "epoch": 2, "epochs": 3, "epoch_fraction": 0.25, "fraction": 0.42}})
    seeder.best(night, 2, 0.93, 0.9, dense_architecture(4, 52_000))

    day = seeder.job("running completed", dataset="digits", trials=4, epochs=3,
                     objective="simple", name="Day search", seed=99)
    for number, accuracy in enumerate((0.7, 0.88, 0.86, 0.95)):
        seeder.completed(day, number, SGD | {"filters": 16 * (number + 1)}, accuracy)
    seeder.best(day, 3, 0.95, 0.95, dense_architecture(3, 21_000))

    live = seeder.job("running", dataset="digits", trials=3, epochs=3, name="Live search")
    seeder.trial(live, 0, "running", ADAM, worker="gpu-1")
    pareto = seeder.job("", dataset="mnist", objective="pareto", pruner="none",
                        name="Pareto on MNIST")
    comparison = seeder.comparison("Health?", REPORT)
    return {"night": night, "day": day, "live": live, "pareto": pareto,
            "comparison": comparison}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    home = tmp_path_factory.mktemp("jobs-across")
    seeder = Seeder(home)
    try:
        ids = _seed(seeder)
    finally:
        seeder.records.close()
    # a broker nothing consumes: no orchestrator resumes the running and queued jobs
    with onegin_web(home, workers=0, ONEGIN_BROKER_URL="memory://") as url:
        yield Seeded(url, events=open_event_bus(f"local://{home}/events"), **ids)


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def page(browser: Any, seeded: Seeded, viewport: str) -> Iterator[Any]:
    width, height = VIEWPORTS[viewport]
    context = browser.new_context(viewport={"width": width, "height": height},
                                  base_url=seeded.url)
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors = watch_errors(page)
    yield page
    context.close()
    assert not errors, "\n".join(errors)


def _open(page: Any, hash_: str = "") -> None:
    page.goto(f"/{hash_}")
    page.wait_for_selector("#app-view:not([hidden])")
    page.wait_for_function("() => document.querySelectorAll('#dataset option').length > 0")


def _details(page: Any, number: int) -> dict[str, str]:
    """Open trial ``number``'s details; the rows of its "why and when" table."""
    page.locator(f'#gallery .card[data-number="{number}"] button.details').click()
    page.wait_for_selector("#trial-dialog[open]")
    return dict(page.eval_on_selector_all(".dialog-stop tr", CELLS))


def _close(page: Any) -> None:
    page.keyboard.press("Escape")
    page.wait_for_selector("#trial-dialog", state="hidden")


# ---- 3: every trial can be opened, with why and when it stopped

def test_every_stopped_trial_says_why_when_and_the_threshold_it_missed(
        page: Any, seeded: Seeded, viewport: str, screenshots: Path) -> None:
    _open(page, f"#/jobs/{seeded.night}")
    page.wait_for_function("() => document.querySelectorAll('#gallery .card').length === 8")
    pruned = _details(page, 1)
    assert pruned["Stopped because"] == "Stopped by the pruner: behind the trials before it"
    assert pruned["Threshold"] == ("Best validation accuracy 41.0% up to epoch 2, below 71.0%: "
                                   "the median of the 5 completed trials at that epoch.")
    assert pruned["Stopped in"] == "epoch 3 of 3, batch 2"
    assert pruned["Stopped at"].endswith("12s after it started")
    page.screenshot(path=str(screenshots / f"{viewport}-trial-pruned.png"))
    _close(page)
    chance = _details(page, 6)
    assert chance["Threshold"].startswith("Validation accuracy 11.0%, at most 11.7% (chance 10.7%")
    _close(page)
    failed = _details(page, 3)
    assert failed["Whose failure"].startswith("Its own (out of memory)")
    assert failed["Re-runs"] == "Not re-run"
    assert failed["Stopped in"] == "epoch 1 of 3, 40% through it"
    assert "out of memory: OOM when allocating tensor" in page.inner_text("#trial-dialog-body")
    _close(page)
    lost = _details(page, 4)
    assert lost["Whose failure"].startswith("The infrastructure's")
    assert lost["Re-runs"] == "Re-run as trial #5"
    page.screenshot(path=str(screenshots / f"{viewport}-trial-lost.png"))
    _close(page)
    cancelled = _details(page, 7)
    assert cancelled["Stopped because"] == "The job was cancelled"
    assert cancelled["Stopped in"] == "epoch 2 of 3, 25% through it"
    _close(page)
    assert _details(page, 2) == {}  # a completed trial has no stop to explain
    _close(page)


def test_a_running_trial_shows_its_phase_and_epoch_now(page: Any, seeded: Seeded,
                                                       viewport: str, screenshots: Path) -> None:
    _open(page, f"#/jobs/{seeded.live}")
    page.wait_for_selector('#gallery .card[data-number="0"]')
    page.wait_for_function(LIVE)
    seeded.events.publish(make_event(
        "trial_progress", seeded.live, trial=0, phase="training", epoch=2, epochs=3,
        epoch_fraction=0.5, fraction=0.5, metrics={"accuracy": 0.62}))
    page.wait_for_function("() => document.querySelector('#gallery .card[data-number=\"0\"] "
                           ".epoch').textContent.startsWith('Epoch 2/3')")
    now = _details(page, 0)
    assert now["Phase"] == "Training"
    assert now["Where"] == "epoch 2 of 3, 50% through it"
    assert now["Accuracy (this epoch)"] == "62.0%"
    assert page.inner_text(".dialog-stop caption") == "Now"
    page.screenshot(path=str(screenshots / f"{viewport}-trial-running.png"))
    _close(page)


def test_moving_between_jobs_keeps_one_socket_and_the_live_job_still_updates(
        page: Any, seeded: Seeded, viewport: str) -> None:
    """The page's one WebSocket leaves a job's room and joins the next: none is closed
    (a socket closed while the server wrote to it was a console error in chromium)."""
    opened: list[Any] = []
    closed: list[str] = []
    page.on("websocket", lambda ws: (opened.append(ws),
                                    ws.on("close", lambda w: closed.append(w.url))))
    _open(page, f"#/jobs/{seeded.live}")
    page.wait_for_function(LIVE)
    for job, name in ((seeded.night, "Night search"), (seeded.day, "Day search"),
                      (seeded.live, "Live search")):
        page.evaluate(f"location.hash = '#/jobs/{job}'")
        page.wait_for_function(f"() => document.querySelector('#job-title').textContent"
                               f" === {name!r}")  # opened, and following it
        page.wait_for_function(LIVE)
    page.wait_for_selector('#gallery .card[data-number="0"]')
    epoch = 1 if viewport == "desktop" else 3  # neither shown before on this job
    seeded.events.publish(make_event(
        "trial_progress", seeded.live, trial=0, phase="training", epoch=epoch, epochs=3,
        epoch_fraction=0.5, fraction=0.5, metrics={"accuracy": 0.5}))
    page.wait_for_function("() => document.querySelector('#gallery .card[data-number=\"0\"] "
                           f".epoch').textContent.startsWith('Epoch {epoch}/3')")
    assert [ws.url.split("?")[0] for ws in opened] == [
        seeded.url.replace("http", "ws") + "/socket.io/"]
    assert not closed


# ---- 4: across jobs

def _listed(page: Any) -> list[str]:
    page.wait_for_function("() => !document.querySelector('#jobs-list').hasAttribute('aria-busy')")
    return page.eval_on_selector_all("#jobs-list tbody tr", "rows => rows.map(r => r.dataset.id)")


def _filtered(page: Any, action: Any) -> list[str]:
    """The rows after ``action`` changed the filters (and the list was read again)."""
    with page.expect_response(lambda r: "/api/v1/jobs?" in r.url and r.ok):
        action()
    return _listed(page)


def test_the_jobs_list_searches_and_filters_on_the_server(page: Any, seeded: Seeded,
                                                          viewport: str,
                                                          screenshots: Path) -> None:
    _open(page, "#/jobs")
    page.wait_for_selector(f'#jobs-list tr[data-id="{seeded.night}"]')
    every = set(_listed(page))
    assert {seeded.night, seeded.day, seeded.live, seeded.pareto, seeded.comparison} <= every
    assert _filtered(page, lambda: page.fill("#jobs-q", "night")) == [seeded.night]
    page.screenshot(path=str(screenshots / f"{viewport}-jobs-search.png"))
    assert _filtered(page, lambda: page.fill("#jobs-q", seeded.day[:6])) == [seeded.day]
    assert _filtered(page, lambda: page.fill("#jobs-q", "")) != []
    assert _filtered(page, lambda: page.select_option("#jobs-status", "running")) == [seeded.live]
    assert _filtered(page, lambda: page.select_option("#jobs-status", "")) != []
    assert _filtered(page, lambda: page.select_option("#jobs-dataset", "mnist")) == [seeded.pareto]
    assert _filtered(page, lambda: page.select_option("#jobs-objective", "pareto")) \
        == [seeded.pareto]
    assert _filtered(page, lambda: page.click("#jobs-clear")) != []
    assert _filtered(page, lambda: page.select_option("#jobs-kind", "compare")) \
        == [seeded.comparison]
    assert "Comparison" in page.inner_text(f'#jobs-list tr[data-id="{seeded.comparison}"]')
    assert _filtered(page, lambda: page.select_option("#jobs-objective", "simple")) == []
    assert page.inner_text("#jobs-list") == "No job matches the search and filters."
    assert page.inner_text("#jobs-page").endswith("0 jobs found")
    page.screenshot(path=str(screenshots / f"{viewport}-jobs-filtered.png"))
    assert set(_filtered(page, lambda: page.click("#jobs-clear"))) == every


def test_two_jobs_compare_curves_and_best_models(page: Any, seeded: Seeded, viewport: str,
                                                 screenshots: Path) -> None:
    _open(page, "#/jobs")
    page.wait_for_selector(f'#jobs-list tr[data-id="{seeded.night}"]')
    assert page.is_disabled("#jobs-compare")
    assert not page.locator(f'#jobs-list tr[data-id="{seeded.comparison}"] .job-pick').count()
    page.check(f'#jobs-list tr[data-id="{seeded.night}"] .job-pick')
    assert page.inner_text("#jobs-selection") == "Night search picked: pick one more to compare."
    page.check(f'#jobs-list tr[data-id="{seeded.day}"] .job-pick')
    assert page.is_disabled(f'#jobs-list tr[data-id="{seeded.live}"] .job-pick')  # two at most
    page.click("#jobs-compare")
    page.wait_for_function(f"() => location.hash === '#/compare/{seeded.night}/{seeded.day}'")
    page.wait_for_selector("#compare-jobs-chart[data-rendered]")
    assert page.inner_text("#compare-jobs-title") == "Night search vs Day search"
    # accuracy-only against health-aware: the curves follow validation accuracy
    assert page.input_value("#compare-jobs-metric") == "val_accuracy"
    # a point at each new best and at the last completed trial
    assert page.get_attribute("#compare-jobs-chart", "data-points") == "3,3"
    assert page.locator("#compare-jobs-chart canvas").count() == 1
    jobs = page.inner_text("#compare-jobs-list")
    assert "seed 1234" in jobs and "seed 99" in jobs
    curves = page.eval_on_selector_all(
        "#compare-jobs-chart-table table:first-of-type tbody tr", CELLS)
    assert curves == [["#0", "80.0%"], ["#2", "93.0%"], ["#5", "93.0%"]]
    models = _rows(page, "#compare-jobs-models table:first-of-type")
    assert models["Trial"] == ["#2", "#3", "differs"]
    assert models["Validation accuracy"] == ["93.00%", "95.00%", "differs"]
    assert models["Parameters"] == ["52,000", "21,000", "differs"]
    assert models["Neuron utilization"] == ["0.700", "0.700", ""]
    params = _rows(page, "#compare-jobs-models .table-wrap:nth-of-type(2) table")
    assert params["optimizer"] == ["adam", "sgd", "differs"]
    assert params["activation"] == ["relu", "relu", ""]
    page.screenshot(path=str(screenshots / f"{viewport}-compare.png"), full_page=True)
    page.select_option("#compare-jobs-metric", "total_score")
    page.wait_for_function("() => document.querySelector('#compare-jobs-chart-table caption')"
                           ".textContent.includes('total score')")
    page.evaluate(f"location.hash = '#/compare/doesnotexist/{seeded.day}'")
    page.wait_for_selector("#compare-jobs-error:has-text('does not exist')")


def _rows(page: Any, table: str) -> dict[str, list[str]]:
    """A side-by-side table: label -> [a, b, "differs" or ""]."""
    return {label.replace(" (differs)", ""): [a, b, "differs" if differs else ""]
            for label, a, b, differs in page.eval_on_selector_all(
                f"{table} tbody tr", "rows => rows.map(r => [...[...r.cells].map(c => "
                "c.textContent), r.classList.contains('differs')])")}


def _start(page: Any) -> dict[str, Any]:
    """Press Start; the request body sent and the job created."""
    with page.expect_response(lambda r: r.url.endswith("/api/v1/jobs")
                              and r.request.method == "POST") as created:
        page.click("#start-button")
    assert created.value.status == 201, created.value.text()
    return {"sent": created.value.request.post_data_json, "job": created.value.json()}


def test_clone_with_edits_keeps_every_setting_and_continue_submits_a_continuation(
        page: Any, seeded: Seeded, viewport: str, screenshots: Path) -> None:
    _open(page, f"#/jobs/{seeded.night}")
    page.wait_for_selector("#job-meta:has-text('seed 1234')")  # the job's seed, shown
    page.click("#reuse-button")
    page.wait_for_selector("#form-origin:not([hidden])")
    page.locator("#form-origin").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / f"{viewport}-clone-form.png"))
    carried = page.locator("#form-origin-list li").all_inner_texts()
    assert "pruner hyperband" in carried and "seed 1234" in carried
    assert page.input_value("#trials") == "6" and page.input_value("#name") == "Night search"
    page.fill("#trials", "2")
    page.locator("#name").evaluate("el => el.closest('details').open = true")
    page.fill("#name", f"Clone {viewport}")
    clone = _start(page)
    assert clone["sent"]["pruner"] == "hyperband" and clone["sent"]["seed"] == 1234
    assert (clone["job"]["config"]["trials"], clone["job"]["config"]["seed"]) == (2, 1234)
    # the app moves to the new job once the POST's answer is read, after the response the
    # test saw: wait for that, or the test's own navigation below races the app's
    page.wait_for_function(f"() => location.hash === '#/jobs/{clone['job']['id']}'")
    page.wait_for_selector("#form-origin", state="hidden")  # the next job: the form alone

    _open(page, f"#/jobs/{seeded.night}")
    page.wait_for_selector("#continue-button:not([hidden])")
    page.click("#continue-button")
    page.wait_for_selector("#form-origin:not([hidden])")
    page.locator("#form-origin").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / f"{viewport}-continue-form.png"))
    assert page.evaluate("document.activeElement.id") == "trials"
    assert page.is_disabled("#dataset")
    assert page.inner_text("#form-origin-text").startswith("Continues Night search")
    page.fill("#trials", "3")
    page.fill("#name", f"More night {viewport}")
    more = _start(page)
    assert more["sent"]["continue_from"] == seeded.night and "seed" not in more["sent"]
    assert more["job"]["config"]["continue_from"] == seeded.night
    assert more["job"]["config"]["seed"] != 1234  # a fresh seed
    page.wait_for_function(f"() => location.hash === '#/jobs/{more['job']['id']}'")
    page.wait_for_selector(f"#job-meta:has-text('continues job {seeded.night}')")
    assert page.is_hidden("#continue-button")  # queued: nothing to continue yet


def test_a_comparisons_report_opens_from_its_job(page: Any, seeded: Seeded, viewport: str,
                                                  screenshots: Path) -> None:
    _open(page, f"#/jobs/{seeded.comparison}")
    page.wait_for_selector("#compare-html:not([hidden])")
    assert page.is_hidden("#reuse-button") and page.is_hidden("#continue-button")
    page.screenshot(path=str(screenshots / f"{viewport}-comparison-job.png"))
    with page.expect_popup() as popup:
        page.click("#compare-html")
    report = popup.value
    report.wait_for_load_state()
    assert report.url.endswith(f"/comparisons/{seeded.comparison}/report/report.html")
    assert report.inner_text("h1") == "Does health help?"
    pdf = page.request.get(page.get_attribute("#compare-pdf", "href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF")
