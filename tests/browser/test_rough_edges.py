"""The rough edges a walkthrough found (issue 14, "Why"), each fixed and checked at desktop
(1280×800) and phone (390×844) widths in Debian's chromium.

Two real servers. `seeded` is ``onegin web`` with sign-in required, no GPU worker, a token
with its own limits, and one cancelled job whose trials are written into its records as
the orchestrator writes them (completed, at chance, failed and re-run, pruned above the
best, cancelled), so every trial state is on the page at once without training. `trained`
is one real job on the shared `dashboard` server (really trained on digits, swish
activation, plots), watched live by a desktop and a phone page from before it trains.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from onegin.job_config import OptimizationConfig
from onegin.records import RecordStore
from tests.browser.conftest import Dashboard, onegin_web, watch_errors
from tests.browser.seeding import make_token

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")

VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}
JOB_TIMEOUT_MS = 300_000  # the trained job really trains
LIMITS = {"max_trials": 5, "max_epochs": 2, "max_concurrency": 1}
SWISH_PARAMS = {"conv_layers": 1, "filters": 16, "dense_units": 64, "batch_size": 32,
                "optimizer": "adam", "learning_rate": 0.01, "activation": "swish"}
AFTER_TRAINING = ("Evaluating", "Computing health", "Plotting", "Saving", "Uploading")

# Every (phase, epoch) text pair a trial card shows, in order, per card: the phases after
# training last a moment, so they are recorded as they happen, not looked for later.
RECORD_LABELS = """document.addEventListener("DOMContentLoaded", () => {
  window.__labels = {};
  const read = () => {
    for (const card of document.querySelectorAll("#gallery .card")) {
      const text = (selector) => card.querySelector(selector).textContent;
      const pair = [text(".phase"), text(".epoch")];
      const seen = (window.__labels[card.dataset.number] ??= []);
      const last = seen[seen.length - 1];
      if (!last || last[0] !== pair[0] || last[1] !== pair[1]) seen.push(pair);
    }
  };
  new MutationObserver(read).observe(document.querySelector("#gallery"),
    {subtree: true, childList: true, characterData: true});
});"""


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass
class Seeded:
    url: str
    token: str  # the secret of a token with LIMITS
    job: str  # the cancelled job with a trial in every state


def _seed_states_job(records: RecordStore, owner: str) -> str:
    """A cancelled 6-trial job as its records read afterwards: #0 completed (the best),
    #1 completed at chance, #2 failed (worker lost) and re-run as #3 (which early stopping
    ended in epoch 2 of 3), #4 pruned after
    scoring above #0, #5 pruned at chance, #6 cancelled. 3 completed + 2 pruned spend 5
    of the 6 trials; counting every finished trial made it "7 / 6"."""
    config = OptimizationConfig(dataset="digits", trials=6, epochs=3, concurrency=2,
                                plot_mode="none", seed=1).to_dict()
    job = records.create_job(config, owner=owner)
    start = datetime.now(UTC) - timedelta(minutes=5)
    dataset = {"dataset": "digits", "num_classes": 10, "chance": 0.11}
    health = dict.fromkeys(("neuron_utilization", "parameter_efficiency", "training_stability",
                            "gradient_health", "convergence_quality", "accuracy_consistency"),
                           0.7)

    def trial(number: int, status: str, **fields: Any) -> None:
        records.upsert_trial(job.id, number, status=status,
                             params=fields.pop("params", SWISH_PARAMS),
                             started_at=start + timedelta(seconds=10 * number),
                             finished_at=start + timedelta(seconds=10 * number + 8), **fields)

    trial(0, "completed", origin="warm_start", val_accuracy=0.8, total_score=0.77,
          health=health, health_score=0.7, architecture_summary="Conv2D → Dense (9,000 params)",
          metrics={"epochs_run": 2, "dataset": dataset, "plots": []})
    trial(1, "completed", val_accuracy=0.115, total_score=0.1, health=health, health_score=0.05,
          metrics={"epochs_run": 2, "dataset": dataset, "plots": []})
    trial(2, "failed", error="worker lost: no heartbeat for 30 s")
    trial(3, "completed", retry_of=2, origin="retry", val_accuracy=0.7, total_score=0.7,
          health=health, health_score=0.7,
          params=SWISH_PARAMS | {"early_stopping": True, "early_stopping_patience": 1},
          metrics={"epochs_run": 2, "stopped_epoch": 2, "dataset": dataset})
    trial(4, "pruned", val_accuracy=0.9, total_score=0.9,
          metrics={"epochs_run": 1, "pruned_at_epoch": 1, "prune_reason": "pruner",
                   "dataset": dataset})
    trial(5, "pruned", val_accuracy=0.1, total_score=0.1,
          metrics={"epochs_run": 1, "pruned_at_epoch": 1, "prune_reason": "chance",
                   "dataset": dataset})
    trial(6, "cancelled")
    records.update_job(job.id, status="running")
    records.update_job(job.id, status="cancelling")
    records.update_job(job.id, status="cancelled", best_trial_number=0, best_score=0.77,
                       best_accuracy=0.8)
    return job.id


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    home = tmp_path_factory.mktemp("rough-edges")
    secret, owner = make_token(home, "limited", "--max-trials", str(LIMITS["max_trials"]),
                               "--max-epochs", str(LIMITS["max_epochs"]),
                               "--max-concurrency", str(LIMITS["max_concurrency"]))
    records = RecordStore(f"sqlite:///{home}/onegin.db")
    try:
        job_id = _seed_states_job(records, owner)
    finally:
        records.close()
    with onegin_web(home, workers=0, ONEGIN_AUTH="required") as url:
        yield Seeded(url, secret, job_id)


def _page(browser: Any, url: str, viewport: str) -> Any:
    width, height = VIEWPORTS[viewport]
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=url)
    context.set_default_timeout(20_000)
    return context.new_page()


@pytest.fixture
def signed_in(browser: Any, seeded: Seeded, viewport: str) -> Iterator[Any]:
    """A page of `seeded` at ``viewport``, signed in with the limited token."""
    page = _page(browser, seeded.url, viewport)
    errors = watch_errors(page)
    assert page.request.post("/api/v1/session", data={"token": seeded.token}).ok
    yield page
    page.context.close()
    assert not errors, "\n".join(errors)


def _open(page: Any, hash_: str = "") -> None:
    page.goto(f"/{hash_}")
    page.wait_for_selector("#app-view:not([hidden])")
    page.wait_for_function("() => document.querySelectorAll('#dataset option').length > 0")


def _open_job(page: Any, job_id: str) -> None:
    _open(page, f"#/jobs/{job_id}")
    page.wait_for_function("() => document.querySelectorAll('#gallery .card').length === 7")


def _in_view(page: Any, selector: str) -> dict[str, float]:
    """The element's box against the viewport, and whether it is the one hit at its centre."""
    return page.eval_on_selector(selector, """el => {
        const r = el.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return {top: r.top, bottom: r.bottom, height: innerHeight,
                hit: el === hit || el.contains(hit)};
    }""")


def _card(page: Any, number: int) -> Any:
    return page.locator(f'#gallery .card[data-number="{number}"]')


def _post_json(url: str, path: str, data: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(f"{url}{path}", data=json.dumps(data).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return dict(json.load(reply))


# ---- 1 and 6: the form keeps to the token's limits; Start brings the new job into view

def test_form_keeps_to_the_tokens_limits_and_start_shows_the_new_job(
        signed_in: Any, viewport: str, screenshots: Path) -> None:
    page = signed_in
    _open(page)
    for field, key in (("trials", "max_trials"), ("epochs", "max_epochs"),
                       ("concurrency", "max_concurrency")):
        limit = str(LIMITS[key])
        assert page.get_attribute(f"#{field}", "max") == limit
        assert page.input_value(f"#{field}") == limit  # the defaults (8, 3, 2) came down
        assert page.inner_text(f"#limit-{field}") == f"At most {limit}."
    page.fill("#trials", "9")  # over the limit: said at once, nothing sent
    requests: list[str] = []
    page.on("request", lambda r: r.method == "POST" and requests.append(r.url))
    page.click("#start-button")
    assert page.inner_text("#err-trials") == "must be at most 5, your limit"
    assert requests == []
    page.fill("#trials", "1")
    page.select_option("#plot_mode", "none")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/jobs")) as created:
        page.click("#start-button")
    assert created.value.status == 201, created.value.text()
    job_id = created.value.json()["id"]
    page.wait_for_function(f"() => location.hash === '#/jobs/{job_id}'")
    page.wait_for_selector("#job-content:not([hidden])")
    box = _in_view(page, "#job-title")
    assert box["top"] >= 0 and box["bottom"] <= box["height"], box
    assert page.evaluate("document.activeElement.id") == "job-title"
    page.screenshot(path=str(screenshots / f"{viewport}-after-start.png"))
    # no worker here: it would wait for ever; the cancel accepted is enough (its
    # orchestrator ends the job later)
    with page.expect_response(lambda r: r.url.endswith(f"/api/v1/jobs/{job_id}/cancel")) as done:
        page.click("#cancel-button")
    assert done.value.status in (200, 202), done.value.text()


# ---- 9: Start is in view without scrolling

def test_start_button_is_visible_without_scrolling(signed_in: Any) -> None:
    page = signed_in
    _open(page)
    box = _in_view(page, "#start-button")
    assert box["top"] >= 0 and box["bottom"] <= box["height"] and box["hit"], box
    page.focus("#w-accuracy_consistency")  # focus scrolls a slider clear of the Start bar
    assert _in_view(page, "#w-accuracy_consistency")["hit"]


# ---- 2: the Jobs tab shows the list first

def test_jobs_tab_shows_the_list_not_the_form(signed_in: Any, seeded: Seeded, viewport: str,
                                              screenshots: Path) -> None:
    page = signed_in
    _open(page)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # the user was down below
    page.evaluate("location.hash = '#/jobs'")  # as the Jobs tab does (a click would scroll up)
    page.wait_for_selector(f'#jobs-list a[href="#/jobs/{seeded.job}"]')
    box = _in_view(page, "#jobs-title")
    assert box["top"] >= 0 and box["bottom"] <= box["height"], box
    list_top = page.eval_on_selector("#jobs-view", "el => el.getBoundingClientRect().top")
    form_top = page.eval_on_selector("#config-panel", "el => el.getBoundingClientRect().top")
    if viewport == "phone":  # one column: the list comes first
        assert list_top < form_top
    page.screenshot(path=str(screenshots / f"{viewport}-jobs-tab.png"))


# ---- 3: a job that does not exist

def test_a_missing_job_says_so_and_nothing_else(signed_in: Any, viewport: str,
                                                screenshots: Path) -> None:
    page = signed_in
    _open(page, "#/jobs/doesnotexist")
    page.wait_for_selector("#job-missing:not([hidden])")
    assert page.inner_text("#job-missing-title") == "Job not found"
    assert "doesnotexist" in page.inner_text("#job-missing-text")
    page.wait_for_load_state("networkidle")  # the socket would have said "Live" by now
    assert not page.get_by_text("Live", exact=True).is_visible()
    assert not page.is_visible("#cancel-button")
    assert not page.get_by_text("Loading trials…").is_visible()
    assert page.title() == "Job not found — Onegin"
    page.screenshot(path=str(screenshots / f"{viewport}-job-not-found.png"))


# ---- 5: counts split by state; cancelled trials look cancelled

def test_counts_are_split_by_state_and_a_rerun_does_not_overflow(
        signed_in: Any, seeded: Seeded, viewport: str, screenshots: Path) -> None:
    page = signed_in
    _open_job(page, seeded.job)
    assert page.inner_text("#tile-done") == "5 / 6"
    assert page.inner_text("#tile-split") == "3 completed · 2 pruned · 1 failed · 1 cancelled"
    cancelled = _card(page, 6)
    assert cancelled.get_attribute("data-status") == "cancelled"
    assert cancelled.locator(".phase").inner_text() == "Cancelled"
    assert cancelled.evaluate("c => getComputedStyle(c).borderTopStyle") == "dashed"
    completed = _card(page, 0)
    assert completed.evaluate("c => getComputedStyle(c).borderTopStyle") == "solid"
    cancelled.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / f"{viewport}-trial-states.png"), full_page=True)
    page.click('[data-nav="jobs"]')
    row = page.locator("#jobs-list tr", has=page.locator(f'a[href="#/jobs/{seeded.job}"]'))
    row.wait_for()
    assert "5 / 6" in row.inner_text() and "1 cancelled" in row.inner_text()


# ---- 9 and the chance flag: what a card's numbers do not say by themselves

def test_cards_flag_chance_and_explain_a_pruned_trial_above_the_best(
        signed_in: Any, seeded: Seeded) -> None:
    page = signed_in
    _open_job(page, seeded.job)
    page.wait_for_selector('#gallery .card.card--best[data-number="0"]')
    assert _card(page, 1).locator(".trial-note").inner_text().startswith(
        "At chance: no better than always answering the commonest class (11.0%")
    assert _card(page, 0).locator(".trial-note").is_hidden()  # 80% is no chance
    note = _card(page, 4).locator(".trial-note").inner_text()
    assert "above the best (trial #0)" in note and "cannot be the best" in note
    assert _card(page, 5).locator(".trial-note").is_hidden()  # pruned below the best


def test_details_open_for_every_trial_state(signed_in: Any, seeded: Seeded) -> None:
    page = signed_in
    _open_job(page, seeded.job)
    for number, state in enumerate(("completed", "completed", "failed", "completed", "pruned",
                                    "pruned", "cancelled")):
        _card(page, number).locator("button.details").click()
        page.wait_for_selector("#trial-dialog[open]")
        assert page.inner_text("#trial-dialog-title") == f"Trial #{number} details"
        body = page.inner_text("#trial-dialog-body")
        assert "Hyperparameters" in body and "swish" in body
        if state == "failed":
            assert "worker lost: no heartbeat for 30 s" in body
        if state == "pruned":
            assert "Stopped because" in body
        if number == 3:
            assert "Why it stopped early" in body
            assert "validation accuracy had not improved for 1 epoch" in body
            assert "1 epochs" not in body
            assert "Epoch 1's, the best (validation accuracy 70.0%)" in body
        elif state == "completed":
            assert "Why it stopped early" not in body
        page.keyboard.press("Escape")
        page.wait_for_selector("#trial-dialog", state="hidden")


# ---- 8: with Socket.IO blocked, REST polling carries on and the badge says so

def test_blocked_socket_says_updates_come_by_polling(signed_in: Any, seeded: Seeded) -> None:
    page = signed_in
    page.route("**/socket.io/**", lambda route: route.abort())
    page.add_init_script("""document.addEventListener("DOMContentLoaded", () => {
      window.__connection = [];
      const el = document.querySelector("#connection");
      new MutationObserver(() => window.__connection.push(el.textContent))
        .observe(el, {childList: true, characterData: true, subtree: true});
    })""")
    _open_job(page, seeded.job)
    polling = "Live updates unavailable — refreshing every 4 s"
    page.wait_for_function(
        f"() => document.querySelector('#connection').textContent === {polling!r}")
    # the socket keeps retrying and REST keeps polling: neither turns it back
    for _ in range(2):
        with page.expect_event("requestfailed", lambda r: "/socket.io/" in r.url):
            pass
    with page.expect_response(lambda r: f"/api/v1/jobs/{seeded.job}/trials" in r.url):
        pass
    shown = page.evaluate("window.__connection")
    assert shown[-1] == polling
    assert "Reconnecting…" not in shown[shown.index(polling):], shown


# ---- 4, 7, 9: a job really trained, watched from before it trains

@pytest.fixture(scope="module")
def trained(browser: Any, dashboard: Dashboard, screenshots: Path) -> Iterator[dict[str, Any]]:
    """One digits trial (swish, 2 epochs, plots) watched by a desktop and a phone page."""
    pages = {name: _page(browser, dashboard.url, name) for name in VIEWPORTS}
    errors = {name: watch_errors(page) for name, page in pages.items()}
    for page in pages.values():
        page.add_init_script(RECORD_LABELS)
        _open(page)
    job_id = _post_json(dashboard.url, "/api/v1/jobs", {
        "dataset": "digits", "trials": 1, "concurrency": 1, "epochs": 2, "warm_start": False,
        "plot_mode": "all", "params": SWISH_PARAMS, "max_train_samples": 600,
        "max_eval_samples": 200})["id"]
    for page in pages.values():  # the app is loaded: following the job is instant
        page.evaluate(f"location.hash = '#/jobs/{job_id}'")
    labels = {}
    for name, page in pages.items():
        page.wait_for_selector('#job-status .badge[data-status="completed"]',
                               timeout=JOB_TIMEOUT_MS)
        labels[name] = page.evaluate("window.__labels")
        page.context.close()
        assert not errors[name], "\n".join(errors[name])
    yield {"id": job_id, "labels": labels}


def test_epoch_label_after_training_names_the_last_epoch(trained: dict[str, Any],
                                                         viewport: str) -> None:
    seen = trained["labels"][viewport]["0"]
    after = [(phase, epoch) for phase, epoch in seen if phase in AFTER_TRAINING]
    assert after, seen  # the phases after training were on the card
    assert all(epoch == "Epoch 2/2" for _, epoch in after), seen
    assert any(phase == "Training" and epoch.startswith("Epoch 2/2 · ") for phase, epoch in seen)
    assert seen[-1][0] == "Done"


def test_plots_open_full_size(browser: Any, dashboard: Dashboard, trained: dict[str, Any],
                              viewport: str, screenshots: Path) -> None:
    page = _page(browser, dashboard.url, viewport)
    errors = watch_errors(page)
    _open(page, f"#/jobs/{trained['id']}")
    image = page.wait_for_selector("#diag-panel img")
    page.wait_for_function("() => { const i = document.querySelector('#diag-panel img');"
                           " return i.complete && i.naturalWidth > 0; }")
    shown, natural = image.evaluate("i => [i.clientWidth, i.naturalWidth]")
    if viewport == "phone":
        assert shown < natural  # shrunk to the phone: the reason to open it full size
    page.screenshot(path=str(screenshots / f"{viewport}-diagnostics.png"))
    with page.expect_popup() as popup:
        image.click()
    full = popup.value
    full.wait_for_load_state()
    assert full.url.endswith("/best/artifacts/plots/history.png")
    width = full.evaluate("document.images[0].naturalWidth")
    assert width == natural
    page.context.close()
    assert not errors, "\n".join(errors)


def test_activation_is_swish_in_hyperparameters_and_graph(
        browser: Any, dashboard: Dashboard, trained: dict[str, Any], viewport: str) -> None:
    page = _page(browser, dashboard.url, viewport)
    errors = watch_errors(page)
    _open(page, f"#/jobs/{trained['id']}")
    page.wait_for_selector("#layer-table tbody tr", state="attached")
    page.click(".layer-table summary")
    table = page.inner_text("#layer-table")
    assert "swish" in table and "silu" not in table, table
    _card(page, 0).locator("button.details").click()
    body = page.inner_text("#trial-dialog-body")
    assert "swish" in body and "silu" not in body
    page.context.close()
    assert not errors, "\n".join(errors)


# ---- 5: a trial cancelled while it trains stops looking like a training trial

PRIMARY_BLUE = (0x1D, 0x4E, 0xD8)  # --primary in app.css: the training bar's colour


@pytest.fixture(scope="module")
def cancelled_live(browser: Any, dashboard: Dashboard,
                   screenshots: Path) -> Iterator[dict[str, Any]]:
    """A real job cancelled while both pages watch its first trial's bar fill."""
    pages = {name: _page(browser, dashboard.url, name) for name in VIEWPORTS}
    errors = {name: watch_errors(page) for name, page in pages.items()}
    for page in pages.values():
        _open(page)
    job_id = _post_json(dashboard.url, "/api/v1/jobs", {
        "dataset": "digits", "trials": 4, "concurrency": 1, "epochs": 20,
        "plot_mode": "none", "max_train_samples": 1000, "max_eval_samples": 200})["id"]
    for page in pages.values():
        page.evaluate(f"location.hash = '#/jobs/{job_id}'")
    training = ("() => [...document.querySelectorAll('#gallery .card')].find(c =>"
                " c.querySelector('.phase').textContent === 'Training'"
                " && c.querySelector('.bar--epoch').value > 0)?.dataset.number")
    numbers = {name: page.wait_for_function(training, timeout=JOB_TIMEOUT_MS).json_value()
               for name, page in pages.items()}
    before = {name: page.locator(f'#gallery .card[data-number="{numbers[name]}"] .bar--epoch')
              .screenshot() for name, page in pages.items()}
    _post_json(dashboard.url, f"/api/v1/jobs/{job_id}/cancel", {})
    shots = {}
    for name, page in pages.items():
        page.wait_for_selector('#job-status .badge[data-status="cancelled"]',
                               timeout=JOB_TIMEOUT_MS)
        card = page.locator(f'#gallery .card[data-number="{numbers[name]}"]')
        page.wait_for_selector(f'#gallery .card[data-number="{numbers[name]}"]'
                               '[data-status="cancelled"]')
        card.scroll_into_view_if_needed()
        shots[name] = {"phase": card.locator(".phase").inner_text(),
                       "epoch": card.locator(".epoch").inner_text(),
                       "training_bar": before[name],
                       "bar": card.locator(".bar--epoch").screenshot(
                           path=str(screenshots / f"{name}-cancelled-bar.png"))}
        page.context.close()
        assert not errors[name], "\n".join(errors[name])
    yield shots


def _blue_pixels(png: bytes) -> int:
    """Pixels of a screenshot within a few steps of the training bar's blue."""
    import io

    from PIL import Image  # matplotlib's (the plots') imaging library

    colors = Image.open(io.BytesIO(png)).convert("RGB").getcolors(1 << 24) or []
    return sum(count for count, rgb in colors
               if all(abs(a - b) < 24 for a, b in zip(rgb, PRIMARY_BLUE, strict=True)))


def test_a_trial_cancelled_while_training_looks_cancelled(cancelled_live: dict[str, Any],
                                                          viewport: str) -> None:
    shot = cancelled_live[viewport]
    assert shot["phase"] == "Cancelled"
    assert shot["epoch"].startswith("stopped in epoch "), shot["epoch"]
    assert _blue_pixels(shot["training_bar"]) > 0  # while it trained, the bar was blue
    assert _blue_pixels(shot["bar"]) == 0, "the cancelled trial's bar is still training blue"
