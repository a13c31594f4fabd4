"""Accessibility of the whole dashboard (issue 14, part 6) in Debian's chromium at desktop
(1280×800) and phone (390×844) widths: axe-core finds no serious or critical violation in
any view or state, and the main flows work with the keyboard alone, with a visible focus.

One real `onegin web` with sign-in required (a token made by `onegin token create`), no GPU
worker and a broker nothing consumes, on a home whose records and artifacts are written as
the orchestrator leaves them (tests/browser/seeding.py): a finished health-aware search with
a completed, a pruned and a failed trial (learning curves for the Analysis area's charts),
its best model's architecture and a plot; an accuracy-only search to compare it with; a
running search whose trial trains (its progress published on the server's event bus); a
finished Pareto search; a finished comparison with its report; and an uploaded dataset.
Nothing trains. Chromium draws WebGL in software (SwiftShader), so the 3D view is checked
too. A screenshot of every state goes to the test output folder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from onegin.artifacts import best_prefix, trial_prefix
from onegin.events import make_event
from onegin.events.resolve import open_event_bus
from onegin.uploads import catalogue
from onegin.uploads.checked import check_upload
from tests.browser.axe import assert_accessible
from tests.browser.conftest import CHROMIUM, onegin_web, watch_errors
from tests.browser.focus import Keyboard
from tests.browser.seeding import ADAM, DATASET, SGD, Seeder, dense_architecture, make_token
from tests.browser.test_architecture_3d import WEBGL_ARGS
from tests.fixtures.upload_files import COLOURS, class_zip, png_bytes, zip_bytes

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")

VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}
REPORT = b"<!doctype html><html lang='en'><title>Report</title><h1>Does health help?</h1>"


@dataclass
class Seeded:
    url: str
    token: str  # the secret of the token that owns every job
    night: str  # health-aware, completed: #0 completed (best, with a plot), #1 pruned, #2 failed
    day: str  # accuracy-only, completed
    live: str  # running, its trial 0 training
    pareto: str  # Pareto, completed, a front of two and one dominated trial
    comparison: str  # a finished comparison with its report
    events: Any  # the server's event bus


def _seed(seeder: Seeder) -> dict[str, str]:
    night = seeder.job("running completed", dataset="digits", trials=3, epochs=3,
                       name="Night search", seed=1234)
    seeder.completed(night, 0, ADAM, 0.93, total_score=0.9,
                     intermediate={"1": 0.7, "2": 0.88, "3": 0.93},
                     metrics={"plots": ["history"], "param_count": 52_000})
    plot = png_bytes(COLOURS["blue"], size=64)
    seeder.artifacts.put_bytes(trial_prefix(night, 0) + "plots/history.png", plot)
    seeder.trial(night, 1, "pruned", SGD, val_accuracy=0.41, total_score=0.41,
                 intermediate={"1": 0.3, "2": 0.41}, metrics={
        "epochs_run": 2, "pruned_at_epoch": 2, "prune_reason": "pruner", "dataset": DATASET,
        "prune_evidence": {"epoch": 2, "batch": 4, "rule": "median", "judged_epoch": 2,
                           "value": 0.41, "threshold": 0.71, "peers": 3}})
    seeder.trial(night, 2, "failed", SGD, error="out of memory: OOM when allocating tensor",
                 metrics={"failure": {"cause": "out of memory", "infrastructure": False,
                                      "rerun": False}})
    seeder.best(night, 0, 0.93, 0.9, dense_architecture(4, 52_000))
    seeder.artifacts.put_bytes(best_prefix(night) + "plots/history.png", plot)

    day = seeder.job("running completed", dataset="digits", trials=2, epochs=3,
                     objective="simple", name="Day search", seed=99)
    for number, accuracy in enumerate((0.88, 0.95)):
        seeder.completed(day, number, SGD | {"filters": 16 * (number + 1)}, accuracy)
    seeder.best(day, 1, 0.95, 0.95, dense_architecture(3, 21_000))

    live = seeder.job("running", dataset="digits", trials=3, epochs=3, name="Live search")
    seeder.trial(live, 0, "running", ADAM, worker="gpu-1")

    pareto = seeder.job("running completed", dataset="digits", trials=3, objective="pareto",
                        pruner="none", name="Pareto search")
    for number, (accuracy, health) in enumerate(((0.95, 0.6), (0.85, 0.8), (0.8, 0.55))):
        seeder.completed(pareto, number, ADAM | {"filters": 16 * (number + 1)}, accuracy,
                         health_score=health, total_score=0.7 * accuracy + 0.3 * health)
    seeder.best(pareto, 0, 0.95, 0.845, dense_architecture(3, 30_000))

    comparison = seeder.comparison("Health?", REPORT)
    return {"night": night, "day": day, "live": live, "pareto": pareto,
            "comparison": comparison}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    home = tmp_path_factory.mktemp("accessibility")
    secret, owner = make_token(home, "reader")
    seeder = Seeder(home, owner=owner)
    try:
        ids = _seed(seeder)
        catalogue.add(seeder.artifacts, check_upload(class_zip(per_class=4),
                                                     max_unpacked_bytes=10**6),
                      name="Colours", owner=owner)
    finally:
        seeder.records.close()
    # a broker nothing consumes: no orchestrator resumes the running job or starts new ones
    with onegin_web(home, workers=0, ONEGIN_AUTH="required",
                    ONEGIN_BROKER_URL="memory://") as url:
        yield Seeded(url, secret, events=open_event_bus(f"local://{home}/events"), **ids)


@pytest.fixture(scope="module")
def webgl_browser(browser: Any) -> Iterator[Any]:
    """Chromium with software WebGL, for the 3D view (the other views need none)."""
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, args=WEBGL_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _pages(chromium: Any, seeded: Seeded, viewport: str, *, signed_in: bool) -> Iterator[Any]:
    """A page at ``viewport``, signed in with the token that owns every job or not at all;
    afterwards, no JavaScript error or CSP violation on it."""
    width, height = VIEWPORTS[viewport]
    context = chromium.new_context(viewport={"width": width, "height": height},
                                   base_url=seeded.url)
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors = watch_errors(page)
    if signed_in:
        assert page.request.post("/api/v1/session", data={"token": seeded.token}).ok
    yield page
    context.close()
    assert not errors, "\n".join(errors)


@pytest.fixture
def visitor(browser: Any, seeded: Seeded, viewport: str) -> Iterator[Any]:
    yield from _pages(browser, seeded, viewport, signed_in=False)


@pytest.fixture
def page(browser: Any, seeded: Seeded, viewport: str) -> Iterator[Any]:
    yield from _pages(browser, seeded, viewport, signed_in=True)


@pytest.fixture
def page_3d(webgl_browser: Any, seeded: Seeded, viewport: str) -> Iterator[Any]:
    yield from _pages(webgl_browser, seeded, viewport, signed_in=True)


def _open(page: Any, hash_: str = "") -> None:
    page.goto(f"/{hash_}")
    page.wait_for_selector("#app-view:not([hidden])")
    page.wait_for_function("() => document.querySelectorAll('#dataset option').length > 0")


def _open_job(page: Any, job_id: str, cards: int) -> None:
    _open(page, f"#/jobs/{job_id}")
    page.wait_for_function(f"() => document.querySelectorAll('#gallery .card').length === {cards}")


def _details(page: Any, seeded: Seeded, number: int) -> None:
    _open_job(page, seeded.night, 3)
    page.locator(f'#gallery .card[data-number="{number}"] button.details').click()
    page.wait_for_selector("#trial-dialog[open]")


def _best(page: Any, seeded: Seeded) -> None:
    _open_job(page, seeded.night, 3)
    page.wait_for_selector("#best-section:not([hidden])")
    page.wait_for_selector("#graph canvas")
    page.wait_for_selector("#diag-panel img")
    page.click(".layer-table summary")


# ---- every view and state -------------------------------------------------------------

def _signin(page: Any) -> None:
    page.goto("/")
    page.wait_for_selector("#signin-view:not([hidden])")
    page.click("#signin-form button[type=submit]")  # no token: the field says so
    page.wait_for_selector("#signin-error:has-text('Enter your access token')")


def _jobs(page: Any, seeded: Seeded) -> None:
    _open(page, "#/jobs")
    page.wait_for_selector(f'#jobs-list tr[data-id="{seeded.night}"]')
    page.check(f'#jobs-list tr[data-id="{seeded.night}"] .job-pick')
    page.wait_for_selector("#jobs-selection:has-text('pick one more')")


def _form(page: Any, seeded: Seeded) -> None:
    _open(page)
    page.click(".advanced summary")
    page.focus("#w-accuracy")
    page.keyboard.press("ArrowLeft")  # the sliders rebalance
    page.wait_for_selector("#balance-group output:has-text('69%')")
    page.click("#hp-form summary")  # what each hyperparameter is
    page.wait_for_selector("#hp-form li[data-param] .hp-explain")
    page.click("[aria-controls='dataset-tip']")  # the datasets' tooltip, open
    page.wait_for_selector("#dataset-tip.open")


def _form_errors(page: Any, seeded: Seeded) -> None:
    _open(page)
    page.fill("#trials", "0")
    page.click("#start-button")
    page.wait_for_selector("#err-trials:not(:empty)")


def _uploads(page: Any, seeded: Seeded) -> None:
    _open(page)
    page.wait_for_selector("#uploads-list li.upload img")
    page.set_input_files("#upload-file", files=[{
        "name": "bad.zip", "mimeType": "application/zip",
        "buffer": zip_bytes({"red/0.png": png_bytes(COLOURS["red"]), "red/notes.txt": b"x"})}])
    page.click("#upload-button")
    page.wait_for_selector("#upload-errors li")
    page.locator("#uploads-section").scroll_into_view_if_needed()


def _running(page: Any, seeded: Seeded) -> None:
    _open_job(page, seeded.live, 1)
    page.wait_for_function("() => document.querySelector('#connection').dataset.state === 'live'")
    seeded.events.publish(make_event(
        "trial_progress", seeded.live, trial=0, phase="training", epoch=2, epochs=3,
        epoch_fraction=0.5, fraction=0.5, metrics={"accuracy": 0.62}))
    page.wait_for_selector('#gallery .card[data-number="0"] .epoch:has-text("Epoch 2/3")')


def _details_completed(page: Any, seeded: Seeded) -> None:
    _details(page, seeded, 0)
    page.wait_for_selector("#trial-dialog .plot img")
    page.click("#trial-dialog tr[data-param='optimizer'] .hp-toggle")  # what it is, opened
    page.wait_for_selector("#trial-dialog .hp-explain")


def _details_pruned(page: Any, seeded: Seeded) -> None:
    _details(page, seeded, 1)
    page.wait_for_selector("#trial-dialog .dialog-stop")


def _tensorboard(page: Any, seeded: Seeded) -> None:
    _open_job(page, seeded.night, 3)
    page.fill("#tensorboard-trials", "99")  # no such trial: the field says so
    page.wait_for_selector("#tensorboard-trials-error:has-text('no trial 99')")


def _trials_table(page: Any, seeded: Seeded) -> None:
    _open(page, f"#/jobs/{seeded.night}/trials")
    page.wait_for_selector("#trials-table[data-rendered]")
    page.click("#trials-table th button[data-column='total_score']")
    page.wait_for_selector("#trials-table th:has(button[data-column='total_score'])"
                           "[aria-sort='ascending']")


def _comparison(page: Any, seeded: Seeded) -> None:
    _open(page, f"#/jobs/{seeded.comparison}")
    page.wait_for_selector("#compare-html:not([hidden])")


def _front(page: Any, seeded: Seeded) -> None:
    _open(page, f"#/jobs/{seeded.pareto}")
    page.click("#analysis-tab-front")
    page.wait_for_selector("#front-chart[data-rendered] canvas")
    assert page.get_attribute("#front-chart", "aria-label").startswith("Pareto front: 2 trials")


def _compare_two(page: Any, seeded: Seeded) -> None:
    _open(page, f"#/compare/{seeded.night}/{seeded.day}")
    page.wait_for_selector("#compare-jobs-chart[data-rendered]")
    page.wait_for_selector("#compare-jobs-models table")
    page.click(".curve-table summary")
    # the chart is an image described in words (ECharts' aria option)
    assert page.get_attribute("#compare-jobs-chart", "role") == "img"
    assert page.get_attribute("#compare-jobs-chart", "aria-label").startswith(
        "Best validation accuracy so far by trial number: Night search 93.0%")


def _compare_trials(page: Any, seeded: Seeded) -> None:
    _open(page, f"#/jobs/{seeded.night}/compare/0,1")
    page.wait_for_selector("#compare-trials-table")
    page.wait_for_selector("#compare-trials-curves[data-rendered]")


def _missing_job(page: Any, seeded: Seeded) -> None:
    _open(page, "#/jobs/000000000000")
    page.wait_for_selector("#job-missing:not([hidden])")


STATES: dict[str, Callable[[Any, Seeded], None]] = {
    "jobs-list": _jobs, "form": _form, "form-errors": _form_errors, "uploads": _uploads,
    "running-job": _running, "details-completed": _details_completed,
    "details-pruned": _details_pruned, "architecture-2d": _best,
    "tensorboard-error": _tensorboard, "trials-table": _trials_table,
    "comparison-job": _comparison, "pareto-front": _front, "compare-trials": _compare_trials,
    "compare-two-jobs": _compare_two, "missing-job": _missing_job,
}


def test_the_sign_in_page_has_no_serious_violation(visitor: Any, viewport: str,
                                                   screenshots: Path) -> None:
    _signin(visitor)
    visitor.screenshot(path=str(screenshots / f"a11y-{viewport}-sign-in.png"))
    assert_accessible(visitor, f"the sign-in page ({viewport})")


@pytest.mark.parametrize("state", list(STATES))
def test_every_view_has_no_serious_violation(page: Any, seeded: Seeded, viewport: str,
                                             state: str, screenshots: Path) -> None:
    STATES[state](page, seeded)
    page.screenshot(path=str(screenshots / f"a11y-{viewport}-{state}.png"), full_page=True)
    assert_accessible(page, f"{state} ({viewport})")


# The Analysis area's tabs, and the element each one draws into (a chart, or its frame's note
# where there is nothing to draw, such as importances without a study).
ANALYSIS_TABS = ["history", "importance", "slices", "parallel", "curves", "radar"]
PANEL_DRAWN = """(key) => { const box = document.querySelector(`#analysis-${key}`);
  return box !== null && (Boolean(box.dataset.rendered) || box.hidden); }"""


def test_every_analysis_chart_has_no_serious_violation(page: Any, seeded: Seeded, viewport: str,
                                                       screenshots: Path) -> None:
    _open_job(page, seeded.night, 3)
    for key in ANALYSIS_TABS:
        page.click(f"#analysis-tab-{key}")
        page.wait_for_function(PANEL_DRAWN, arg=key)
        page.locator("#analysis-section").screenshot(
            path=str(screenshots / f"a11y-{viewport}-analysis-{key}.png"))
        assert_accessible(page, f"the analysis tab {key} ({viewport})", "#analysis-section")


def test_the_3d_view_has_no_serious_violation(page_3d: Any, seeded: Seeded, viewport: str,
                                              screenshots: Path) -> None:
    _best(page_3d, seeded)
    page_3d.click("#view-3d")
    page_3d.wait_for_selector("#graph3d[data-layer-count]")
    page_3d.screenshot(path=str(screenshots / f"a11y-{viewport}-architecture-3d.png"))
    assert_accessible(page_3d, f"architecture-3d ({viewport})")


def test_the_live_regions_say_what_changes(page: Any, seeded: Seeded) -> None:
    """The connection badge and the job's status are polite live regions; a trial that ends
    is announced, with its accuracy when it completed."""
    _running(page, seeded)
    assert page.get_attribute("#connection", "aria-live") == "polite"
    assert page.inner_text("#connection") == "Live"
    assert page.get_attribute("#job-status", "role") == "status"
    assert "Running" in page.inner_text("#job-status")
    seeded.events.publish(make_event("trial_finished", seeded.live, trial=0, status="completed",
                                     result={"val_accuracy": 0.9, "total_score": 0.88}))
    page.wait_for_function("() => document.querySelector('#announcer').textContent"
                           " === 'Trial #0 completed, validation accuracy 90.0%.'")
    assert page.get_attribute("#announcer", "aria-live") == "polite"


# ---- the keyboard alone ----------------------------------------------------------------

def _hash(page: Any) -> str:
    return str(page.evaluate("() => location.hash"))


def _active(page: Any, selector: str) -> bool:
    return bool(page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector))


def _focus_moves_to(page: Any, selector: str) -> None:
    """Wait for the focus to land on ``selector`` (a view changes on `hashchange`, a task
    after the address does)."""
    page.wait_for_function("(s) => document.activeElement?.matches(s)", arg=selector)


# A keyboard is a desktop's: the flows once, at 1280×800 (the phone's layout has its axe
# checks above, and its own walks below).
@pytest.mark.parametrize("viewport", ["desktop"])
def test_the_main_flows_work_with_the_keyboard_alone(page_3d: Any, seeded: Seeded,
                                                      viewport: str, screenshots: Path) -> None:
    page, keys = page_3d, Keyboard(page_3d)
    _open(page)
    # the first Tab shows "Skip to content", which focuses the page's main region in place
    keys.press("Tab")
    assert _active(page, ".skip-link")
    assert page.eval_on_selector(".skip-link", "el => el.getBoundingClientRect().top") >= 0
    keys.press("Enter")
    assert _active(page, "main") and _hash(page) == ""

    # fill the form and start a job: numbers typed, a slider moved with the arrows
    keys.tab_to("#trials")
    page.keyboard.press("Control+A")
    page.keyboard.type("2")
    keys.tab_to(".advanced summary")
    keys.press("Space")  # opens "More options"
    keys.tab_to("#name")
    page.keyboard.type(f"Keys {viewport}")
    keys.tab_to("#w-accuracy")
    for _ in range(5):
        keys.press("ArrowLeft")
    assert page.input_value("#w-accuracy") == "65" and page.input_value("#w-health") == "35"
    keys.tab_to("#start-button")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/jobs")
                              and r.request.method == "POST") as created:
        keys.press("Enter")
    assert created.value.status == 201, created.value.text()
    sent = created.value.request.post_data_json
    assert (sent["trials"], sent["name"], sent["weights"]["accuracy"]) == (2, f"Keys {viewport}",
                                                                           0.65)
    page.wait_for_function(f"() => location.hash === '#/jobs/{created.value.json()['id']}'")
    _focus_moves_to(page, "#job-title")

    # open a job from the list: the view's heading takes the focus each time
    keys.tab_to("a[data-nav='jobs']", back=True)
    keys.press("Enter")
    page.wait_for_selector(f'#jobs-list tr[data-id="{seeded.night}"]')
    _focus_moves_to(page, "#jobs-title")
    keys.tab_to(f'#jobs-list tr[data-id="{seeded.night}"] a')
    keys.press("Enter")
    _focus_moves_to(page, "#job-title")
    page.wait_for_selector("#best-section:not([hidden])")

    # a trial's details: focus moves in, stays in, and Escape gives it back to the card
    details = '#gallery .card[data-number="1"] button.details'
    keys.tab_to(details)
    keys.press("Enter")
    page.wait_for_selector("#trial-dialog[open]")
    assert _active(page, "#trial-dialog-close")
    for _ in range(6):
        keys.press("Tab")
        assert page.evaluate("() => document.querySelector('#trial-dialog')"
                             ".contains(document.activeElement)")
    page.screenshot(path=str(screenshots / f"a11y-{viewport}-keyboard-dialog.png"))
    keys.press("Escape")
    page.wait_for_selector("#trial-dialog", state="hidden")
    assert _active(page, details)

    # the diagnostics' tabs: the arrow keys, Home and End choose one
    keys.tab_to("#diag-tabs [aria-selected='true']")
    first = page.evaluate("() => document.activeElement.id")
    keys.press("ArrowRight")
    second = page.evaluate("() => document.activeElement.id")
    assert second != first and page.get_attribute(f"#{second}", "aria-selected") == "true"
    assert page.get_attribute("#diag-panel", "aria-labelledby") == second
    keys.press("End")
    keys.press("Home")
    assert page.evaluate("() => document.activeElement.id") == first

    # the Analysis area's tabs take the arrow keys too; an enlarged chart keeps the focus
    # (the page under it is covered) until Escape gives it back to its Enlarge button
    keys.tab_to("#analysis-tabs [aria-selected='true']", back=True)
    keys.press("ArrowRight")
    assert _active(page, "#analysis-tab-importance")
    assert page.get_attribute("#analysis-tab-importance", "aria-selected") == "true"
    keys.press("ArrowLeft")
    assert _active(page, "#analysis-tab-history") and page.is_visible("#analysis-panel-history")
    enlarge = "#analysis-panel-history .chart-enlarge"
    keys.tab_to(enlarge)
    keys.press("Enter")
    assert page.get_attribute(enlarge, "aria-pressed") == "true"
    for _ in range(3):
        keys.press("Tab")
        assert page.evaluate("() => document.querySelector('#analysis-panel-history "
                             ".chart-frame').contains(document.activeElement)")
    keys.press("Escape")
    assert page.get_attribute(enlarge, "aria-pressed") == "false" and _active(page, enlarge)

    # 2D / 3D: Space presses the toggle; the canvas takes the arrow keys, Tab leaves it
    keys.tab_to("#view-3d")
    keys.press("Space")
    page.wait_for_selector("#graph3d[data-layer-count]")
    assert page.get_attribute("#view-3d", "aria-pressed") == "true"
    keys.tab_to("#graph3d canvas")
    camera = "() => document.querySelector('#graph3d').view3d.camera.position.toArray()"
    before = page.evaluate(camera)
    keys.press("Shift+ArrowLeft")
    assert page.evaluate(camera) != before
    page.screenshot(path=str(screenshots / f"a11y-{viewport}-keyboard-3d.png"))
    keys.press("Tab")
    assert not _active(page, "#graph3d canvas")
    keys.tab_to("#view-2d", back=True)
    keys.press("Enter")
    assert page.get_attribute("#view-2d", "aria-pressed") == "true"

    # the trials table: a header sorts with Enter, then Space, and keeps the focus
    keys.tab_to("#trials-table-link", back=True)
    keys.press("Enter")
    page.wait_for_selector("#trials-table[data-rendered]")
    _focus_moves_to(page, "#trials-table")
    header = "#trials-table th:has(button[data-column='total_score'])"
    keys.tab_to(f"{header} button")
    keys.press("Enter")
    page.wait_for_selector(f"{header}[aria-sort='ascending']")
    keys.press("Space")
    page.wait_for_selector(f"{header}[aria-sort='descending']")
    _focus_moves_to(page, f"{header} button")
    keys.tab_to("#trials-table tbody tr:first-child button.linklike")
    keys.press("Enter")
    page.wait_for_selector("#trial-dialog[open]")
    keys.press("Escape")
    assert _active(page, "#trials-table tbody tr:first-child button.linklike")
    keys.assert_visible()


@pytest.mark.parametrize(("where", "viewport"), [
    ("job", "desktop"), ("job", "phone"), ("jobs-list", "desktop"), ("jobs-list", "phone"),
    ("trials-table", "desktop"), ("compare-two-jobs", "desktop")])
def test_tab_goes_round_every_control_with_a_visible_focus_and_no_trap(
        page: Any, seeded: Seeded, where: str) -> None:
    if where == "job":
        _best(page, seeded)
    elif where == "jobs-list":
        _jobs(page, seeded)
    elif where == "trials-table":
        _trials_table(page, seeded)
    else:
        _compare_two(page, seeded)
    keys = Keyboard(page)
    forward = keys.walk("Tab")
    backward = keys.walk("Shift+Tab")
    # the same controls both ways, except a toggletip's links: its tip opens as its button
    # takes the focus, so Tab goes into it and Shift+Tab passes it by
    assert len(forward) > 5 and set(backward) <= set(forward)
    assert {n for n in set(forward) - set(backward) if not n.startswith("(in a tip)")} == set()
    keys.assert_visible()
