"""The dashboard in a real browser (Debian's chromium through Python Playwright).

The server comes from the `dashboard` fixture (tests/browser/conftest.py): the real
``onegin web`` in a subprocess, where jobs really train on ``digits``, or a running server
named by ``ONEGIN_TEST_BROWSER_URL``; pytest's header line says which. That server runs
with auth off (loopback), so `test_sign_in_form` has its own: the real app with auth
required and a token made by ``onegin token create``.

Every page runs under the server's Content-Security-Policy, which allows no
``eval``: Playwright evaluates a bare ``wait_for_function`` expression again on
every poll (refused), a function only once, so every wait here is a function.

Screenshots (desktop 1280×800, phone 375×812) go to ``$ONEGIN_TEST_SCREENSHOTS`` or a
temporary folder. Waits are on DOM changes, never on sleeps.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    VENDOR,
    Dashboard,
    SignInServer,
    ensure_vendor_files,
    watch_errors,
)

playwright_sync = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install -e '.[dev]')")
PlaywrightTimeout = playwright_sync.TimeoutError
TRIALS = 3
# a real job's third trial is TPE's (random) first: it may be stopped as hopeless (pruned)
FINISHED_CARDS = '.card[data-status="completed"], .card[data-status="pruned"]'
JOB_TIMEOUT_MS = 300_000  # jobs really train
HEALTH_SLIDERS = ("neuron_utilization", "parameter_efficiency", "training_stability",
                  "gradient_health", "convergence_quality", "accuracy_consistency")
PLOTS = ("history", "confusion_matrix", "gradient_flow", "weights", "activation_maps",
         "activation_progression")

# Records every change of an epoch bar (value attribute) in window.__progress, so a test
# can wait for "this trial's bar went up" however the events were batched.
RECORD_PROGRESS = """() => {
  window.__progress = [];
  const observer = new MutationObserver((records) => {
    for (const r of records) {
      const bar = r.target;
      if (!(bar instanceof HTMLProgressElement) || !bar.classList.contains("bar--epoch")) continue;
      const card = bar.closest(".card");
      window.__progress.push({n: card ? card.dataset.number : null, v: bar.value});
    }
  });
  observer.observe(document.querySelector("#gallery"),
                   {subtree: true, attributes: true, attributeFilter: ["value"]});
}"""
CAPTION = "document.querySelector('#graph-caption').textContent"
# Whether a container's ECharts chart draws `size` points in its first series (a wait's
# predicate answers at once: Playwright takes a promise for a truthy answer, so ECharts
# is imported first, by ECHARTS).
ECHARTS = "async () => { window.echartsModule = await import('echarts'); }"
FIRST_SERIES_SIZE = """([selector, size]) => {
  const chart = window.echartsModule.getInstanceByDom(document.querySelector(selector));
  return Boolean(chart) && chart.getOption().series[0].data.length === size; }"""
PROGRESS_WENT_UP = """() => {
  const seen = {};
  for (const {n, v} of window.__progress || []) {
    if (n in seen && v > seen[n]) return {trial: n, before: seen[n], after: v};
    if (!(n in seen) || v < seen[n]) seen[n] = v;
  }
  return null;
}"""


def new_page(browser: Any, dashboard: Dashboard, width: int = 1280, height: int = 800) -> Any:
    context = browser.new_context(viewport={"width": width, "height": height},
                                  accept_downloads=True, base_url=dashboard.url)
    context.set_default_timeout(15_000)
    return context.new_page()


def weight_values(page: Any) -> dict[str, int]:
    return page.eval_on_selector_all(
        "#weights input[type=range]",
        "inputs => Object.fromEntries(inputs.map(i => [i.dataset.weight, i.valueAsNumber]))")


def assert_totals(page: Any) -> dict[str, int]:
    values = weight_values(page)
    assert values["accuracy"] + values["health"] == 100, values
    assert sum(values[name] for name in HEALTH_SLIDERS) == 100, values
    assert all(isinstance(v, int) and 0 <= v <= 100 for v in values.values()), values
    assert page.text_content("#balance-total") == "Total 100%"
    assert page.text_content("#health-total") == "Total 100%"
    return values


def open_dashboard(page: Any) -> None:
    page.goto("/")
    page.wait_for_selector("#app-view:not([hidden])")
    page.wait_for_function("() => document.querySelectorAll('#dataset option').length > 0")


def configure(page: Any, *, trials: int, epochs: int = 1, concurrency: int = 2,
              plot_mode: str = "all") -> None:
    page.select_option("#dataset", "digits")
    page.select_option("#objective", "health")
    page.fill("#trials", str(trials))
    page.fill("#epochs", str(epochs))
    page.fill("#concurrency", str(concurrency))
    page.select_option("#plot_mode", plot_mode)


def job_id_from_url(page: Any) -> str:
    page.wait_for_url(re.compile(r".*#/jobs/[^/]+$"))
    return page.url.rsplit("/", 1)[-1]


@pytest.fixture(scope="module")
def finished_job(browser: Any, dashboard: Dashboard, screenshots: Path) -> dict[str, Any]:
    """Start a small digits job from the dashboard, watch it live, wait until it is done."""
    page = new_page(browser, dashboard)
    errors = watch_errors(page)
    open_dashboard(page)
    configure(page, trials=TRIALS)
    page.click("#start-button")
    job_id = job_id_from_url(page)
    page.wait_for_selector("#job-content:not([hidden])")
    page.evaluate(RECORD_PROGRESS)
    page.wait_for_selector("#job-status .badge")
    went_up = page.wait_for_function(PROGRESS_WENT_UP, timeout=JOB_TIMEOUT_MS).json_value()
    page.screenshot(path=str(screenshots / "desktop-job-running.png"), full_page=True)
    page.wait_for_function(
        f"""() => document.querySelectorAll({FINISHED_CARDS!r}).length === {TRIALS}
              && document.querySelector('#job-status .badge')?.dataset.status === 'completed'""",
        timeout=JOB_TIMEOUT_MS)
    page.wait_for_selector("#best-section:not([hidden])", timeout=60_000)
    tiles = {name: page.text_content(f"#tile-{name}")
             for name in ("done", "accuracy", "score", "avg", "eta")}
    page.context.close()
    assert not errors, "\n".join(errors)
    return {"id": job_id, "went_up": went_up, "tiles": tiles}


def test_start_job_shows_progress_and_completes(finished_job: dict[str, Any]) -> None:
    went_up = finished_job["went_up"]
    assert went_up["after"] > went_up["before"], went_up
    tiles = finished_job["tiles"]
    assert tiles["done"] == f"{TRIALS} / {TRIALS}"
    assert tiles["accuracy"].endswith("%")
    assert re.fullmatch(r"\d\.\d{4}", tiles["score"]), tiles
    assert tiles["eta"] == "Done"


def test_weight_sliders_always_total_100(page: Any) -> None:
    open_dashboard(page)
    assert_totals(page)
    before = weight_values(page)
    page.focus("#w-accuracy")
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    values = assert_totals(page)
    assert values["accuracy"] == before["accuracy"] + 10
    page.focus("#w-neuron_utilization")
    page.keyboard.press("End")
    values = assert_totals(page)
    assert values["neuron_utilization"] == 100
    assert all(values[n] == 0 for n in HEALTH_SLIDERS if n != "neuron_utilization")
    page.keyboard.press("Home")  # all others were 0: they share the 100 equally
    values = assert_totals(page)
    assert values["neuron_utilization"] == 0
    for name in ("gradient_health", "training_stability", "accuracy_consistency"):
        page.focus(f"#w-{name}")
        for _ in range(7):
            page.keyboard.press("ArrowRight")
        assert_totals(page)
    # A drag (one input event per pointer move) keeps the total too.
    box = page.locator("#w-parameter_efficiency").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] / 2)
    page.mouse.down()
    for fraction in (0.35, 0.6, 0.8):
        page.mouse.move(box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2)
        assert_totals(page)
    page.mouse.up()
    assert weight_values(page)["parameter_efficiency"] >= 70
    assert_totals(page)


def test_every_control_has_a_label_and_focus_is_visible(page: Any) -> None:
    open_dashboard(page)
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, button')]
        .filter(el => el.offsetParent !== null)
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                      && !el.getAttribute('aria-labelledby') && !el.textContent.trim())
        .map(el => el.outerHTML.slice(0, 80))""")
    assert unlabelled == []
    page.focus("#trials")
    outline = page.eval_on_selector("#trials", "el => getComputedStyle(el).outlineStyle")
    page.keyboard.press("Tab")  # keyboard focus shows the ring
    focused = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
        return [document.activeElement.id, s.outlineStyle, s.outlineWidth]; }""")
    assert focused[0] == "epochs" and focused[1] == "solid" and focused[2] != "0px", (
        outline, focused)
    assert page.get_attribute("#announcer", "aria-live") == "polite"


def test_accuracy_only_disables_weights(page: Any) -> None:
    open_dashboard(page)
    page.select_option("#objective", "simple")
    assert page.is_disabled("#w-accuracy")
    assert page.is_disabled("#w-gradient_health")
    assert page.is_visible("#weights-disabled-note")
    page.select_option("#objective", "health")
    assert page.is_enabled("#w-accuracy")


def test_tooltips_list_datasets_and_objectives(page: Any) -> None:
    open_dashboard(page)
    page.click("button[aria-controls=dataset-tip]")
    assert page.get_attribute("button[aria-controls=dataset-tip]", "aria-expanded") == "true"
    links = page.locator("#dataset-tip a")
    assert links.count() >= 2
    assert links.first.get_attribute("href").startswith("http")
    page.keyboard.press("Escape")
    assert page.get_attribute("button[aria-controls=dataset-tip]", "aria-expanded") == "false"
    page.focus("button[aria-controls=objective-tip]")
    assert "Accuracy only" in page.inner_text("#objective-tip")


def test_invalid_fields_are_shown_next_to_their_controls(page: Any) -> None:
    open_dashboard(page)
    page.fill("#trials", "0")
    page.fill("#epochs", "-2")
    page.click("#start-button")
    page.wait_for_function("() => document.querySelector('#err-trials').textContent.length > 0")
    assert page.get_attribute("#trials", "aria-invalid") == "true"
    assert page.text_content("#err-epochs")
    assert "jobs" not in page.url


def test_trials_and_best_trial_are_shown(page: Any, finished_job: dict[str, Any]) -> None:
    page.goto(f"/#/jobs/{finished_job['id']}")
    page.wait_for_function(
        f"() => document.querySelectorAll({FINISHED_CARDS!r}).length === {TRIALS}")
    # the job starts from the modality's known-good models
    assert page.locator(".card .params", has_text="Warm start ·").count() >= 1
    assert "seed " in page.inner_text("#job-meta")
    assert page.locator(".card.card--best").count() == 1
    best = page.locator(".card.card--best")
    assert best.locator(".best-flag").is_visible()
    assert best.locator(".health-bars li").count() == 6
    assert best.locator(".arch").inner_text().strip()
    assert page.locator(".card .bar--epoch").first.evaluate("bar => bar.value") == 1
    page.click("button[aria-controls=score-tip]")
    tip = page.inner_text("#score-tip")
    assert "accuracy" in tip and "Neuron utilization" in tip


def test_trial_details_dialog(page: Any, finished_job: dict[str, Any], screenshots: Path) -> None:
    page.goto(f"/#/jobs/{finished_job['id']}")
    button = page.locator('.card[data-status="completed"] button.details').first
    button.wait_for()
    assert button.is_enabled()
    button.click()
    dialog = page.locator("#trial-dialog")
    dialog.wait_for(state="visible")
    assert page.evaluate("document.activeElement.id") == "trial-dialog-close"
    page.wait_for_function("""() => {
        const images = [...document.querySelectorAll('#trial-dialog .plot img')];
        return images.length > 0 && images.every(i => i.complete && i.naturalWidth > 0);
    }""")
    assert "Validation accuracy" in dialog.inner_text()
    for _ in range(25):  # focus stays inside the dialog
        page.keyboard.press("Tab")
        assert page.evaluate(
            "document.querySelector('#trial-dialog').contains(document.activeElement)")
    page.screenshot(path=str(screenshots / "desktop-trial-dialog.png"))
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.classList.contains('details')")
    button.click()  # and the ✕ closes it too
    dialog.wait_for(state="visible")
    page.click("#trial-dialog-close")
    dialog.wait_for(state="hidden")


def test_a_holdout_trial_shows_its_holdout_report(page: Any) -> None:
    open_dashboard(page)
    created = page.request.post("/api/v1/jobs", data={
        "dataset": "digits", "trials": 1, "concurrency": 1, "epochs": 1, "holdout": True,
        "max_train_samples": 300, "max_eval_samples": 150, "plot_mode": "none",
        "params": {"conv_layers": 1, "filters": 16, "dense_units": 64, "batch_size": 32,
                   "optimizer": "adam", "learning_rate": 0.01}})
    assert created.ok, created.text()
    page.goto(f"/#/jobs/{created.json()['id']}")
    button = page.locator('.card[data-status="completed"] button.details').first
    button.wait_for(timeout=JOB_TIMEOUT_MS)
    button.click()
    table = page.locator("#trial-dialog table", has_text="Holdout (150 examples)")
    table.wait_for()
    text = table.inner_text()
    for row in ("Worst class", "Calibration error (ECE)", "Brier score",
                "Gaussian noise (severity 1 · 2 · 3)", "Robustness (mean)", "Latency per 256"):
        assert row in text
    assert re.search(r"Blur \(severity 1 · 2 · 3\)\s+\d+% · \d+% · \d+%", text), text


def test_best_model_graph_tabs_and_charts(page: Any, finished_job: dict[str, Any],
                                          screenshots: Path) -> None:
    page.goto(f"/#/jobs/{finished_job['id']}")
    page.wait_for_selector("#best-section:not([hidden])")
    page.wait_for_selector("#graph canvas")
    assert page.locator("#graph-legend li").count() >= 2
    assert page.locator("#layer-table tbody tr").count() >= 3
    page.click("#animate-forward")
    page.wait_for_function(f"() => {CAPTION}.includes('Forward pass')")
    page.click("#animate-backward")
    page.wait_for_function(f"() => {CAPTION}.includes('Backward pass')")
    tabs = page.locator("#diag-tabs [role=tab]")
    assert tabs.count() == len(PLOTS)
    for index, name in enumerate(PLOTS):
        tabs.nth(index).click()
        assert tabs.nth(index).get_attribute("aria-selected") == "true"
        page.wait_for_function(
            f"() => document.querySelector('#diag-panel').dataset.plot === '{name}'")
        image = page.locator("#diag-panel img")
        if image.count():
            assert image.get_attribute("src").endswith(f"/plots/{name}.png")
            page.wait_for_function(
                "() => { const i = document.querySelector('#diag-panel img');"
                " return i && i.complete && i.naturalWidth > 0; }")
            assert page.locator("#diag-panel a[download]").count() == 1
    tabs.nth(len(PLOTS) - 1).focus()
    page.keyboard.press("ArrowRight")  # wraps around to the first tab
    assert tabs.nth(0).get_attribute("aria-selected") == "true"
    # the study's charts are the Analysis area's (tests/browser/test_analysis.py checks them all)
    api = f"/api/v1/jobs/{finished_job['id']}"
    history = page.request.get(f"{api}/analysis").json()["history"]
    completed = sum(status == "completed" for _, status, _ in history)
    page.evaluate(ECHARTS)
    page.wait_for_function(FIRST_SERIES_SIZE, arg=["#analysis-history", completed])
    importances = page.request.get(f"{api}/study").json()["importances"]
    page.click("#analysis-tab-importance")
    if importances:  # two completed trials or more
        page.wait_for_function(FIRST_SERIES_SIZE, arg=["#analysis-importance", len(importances)])
    page.locator("#best-section").screenshot(path=str(screenshots / "desktop-best-model.png"))


def test_downloads(page: Any, finished_job: dict[str, Any]) -> None:
    page.goto(f"/#/jobs/{finished_job['id']}")
    page.wait_for_selector("#best-section:not([hidden])")
    for selector in ("#download-model", "#download-yaml", "#download-bundle", "#graph-png"):
        if selector == "#graph-png":
            page.wait_for_selector("#graph canvas")
        with page.expect_download() as info:
            page.click(selector)
        download = info.value
        path = download.path()
        assert path is not None and Path(path).stat().st_size > 0, selector
        if selector == "#download-model":
            assert download.suggested_filename.endswith(".keras")
        if selector == "#graph-png":
            assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_jobs_page_reopens_a_job(page: Any, finished_job: dict[str, Any]) -> None:
    page.goto("/#/jobs")
    link = page.locator(f'#jobs-list a[href="#/jobs/{finished_job["id"]}"]')
    link.wait_for()
    assert page.get_attribute('[data-nav="jobs"]', "aria-current") == "page"
    link.click()
    page.wait_for_url(re.compile(f".*#/jobs/{finished_job['id']}$"))
    page.wait_for_selector('#job-status .badge[data-status="completed"]')


def test_cancel_a_running_job(page: Any) -> None:
    open_dashboard(page)
    configure(page, trials=40, epochs=1, concurrency=1, plot_mode="none")
    page.click("#start-button")
    job_id = job_id_from_url(page)
    # Cancel once a trial runs. (Cancelling in the instant between the orchestrator reading a
    # queued job and marking it running used to crash run_job: "cannot go from cancelling to
    # running", leaving the job cancelling for ever; that race is the orchestrator's to fix.)
    page.wait_for_selector('.card[data-status="running"]', timeout=JOB_TIMEOUT_MS)
    page.click("#cancel-button")
    try:
        page.wait_for_selector('#job-status .badge[data-status="cancelled"]',
                               timeout=JOB_TIMEOUT_MS)
    except PlaywrightTimeout:
        server_view = page.request.get(f"/api/v1/jobs/{job_id}").json()
        pytest.fail(f"the badge says {page.inner_text('#job-status')!r}; "
                    f"the server says {server_view}")
    assert page.is_disabled("#cancel-button")
    assert "Cancelled" in page.inner_text("#job-status")


def test_phone_width(browser: Any, dashboard: Dashboard, finished_job: dict[str, Any],
                     screenshots: Path) -> None:
    page = new_page(browser, dashboard, width=375, height=812)
    errors = watch_errors(page)
    open_dashboard(page)
    page.screenshot(path=str(screenshots / "phone-form.png"), full_page=True)
    page.goto(f"/#/jobs/{finished_job['id']}")
    page.wait_for_selector("#best-section:not([hidden])")
    page.wait_for_selector("#graph canvas")
    page.wait_for_selector('.card[data-status="completed"]')
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 375, f"the page is {overflow}px wide at 375px"
    page.screenshot(path=str(screenshots / "phone-job.png"), full_page=True)
    page.locator('.card[data-status="completed"] button.details').first.click()
    page.wait_for_selector("#trial-dialog[open]")
    page.screenshot(path=str(screenshots / "phone-trial-dialog.png"))
    page.keyboard.press("Escape")
    page.context.close()
    assert not errors, "\n".join(errors)


def test_desktop_screenshots(page: Any, finished_job: dict[str, Any], screenshots: Path) -> None:
    open_dashboard(page)
    page.screenshot(path=str(screenshots / "desktop-form.png"), full_page=True)
    page.goto(f"/#/jobs/{finished_job['id']}")
    page.wait_for_selector("#graph canvas")
    page.wait_for_selector('.card[data-status="completed"]')
    page.wait_for_function(
        "() => { const i = document.querySelector('#diag-panel img');"
        " return !i || (i.complete && i.naturalWidth > 0); }")
    page.screenshot(path=str(screenshots / "desktop-job-finished.png"), full_page=True)
    page.goto("/#/jobs")
    page.wait_for_selector("#jobs-list table")
    page.screenshot(path=str(screenshots / "desktop-jobs.png"), full_page=True)
    assert len(list(screenshots.glob("*.png"))) >= 4


def test_the_dashboard_runs_under_its_csp_and_cannot_be_framed(
        browser: Any, dashboard: Dashboard) -> None:
    """Every page test runs under the real CSP and fails on any violation (`watch_errors`);
    this one checks that the policy is really there, and that framing is refused."""
    context = browser.new_context(base_url=dashboard.url)
    page = context.new_page()
    errors = watch_errors(page)
    response = page.goto("/")
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "'unsafe-inline'" not in policy
    assert response.headers["x-frame-options"] == "DENY"
    page.wait_for_selector("#app-view:not([hidden]), #signin-view:not([hidden])")
    assert page.evaluate("document.querySelector('script[type=importmap]').nonce") != ""
    assert not errors, "\n".join(errors)

    framer = context.new_page()  # a page of another origin (about:blank) framing it
    with framer.expect_console_message(lambda m: "frame-ancestors" in m.text):
        framer.set_content(f'<iframe src="{dashboard.url}/"></iframe>')
    framed = framer.frames[1]
    framed.wait_for_load_state()
    assert framed.url.startswith("chrome-error://"), framed.url
    context.close()


def test_cytoscape_still_injects_the_stylesheet_the_csp_allows() -> None:
    """`webapp.headers` allows Cytoscape's one injected <style> by the hash of its text (a
    browser test that draws the graph fails on the violation; this names the cause)."""
    from webapp.headers import CYTOSCAPE_STYLESHEET

    ensure_vendor_files()
    source = (VENDOR / "cytoscape.esm.min.js").read_text(encoding="utf-8")
    css_class, rule = CYTOSCAPE_STYLESHEET[1:].split(" ", 1)
    assert f'"{css_class}"' in source and f'" {rule}"' in source


def test_sign_in_form(browser: Any, signin_server: SignInServer, screenshots: Path) -> None:
    """Sign in with a real token over the form, then sign out: the server forgets the session."""
    context = browser.new_context(viewport={"width": 1280, "height": 800},
                                  base_url=signin_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors = watch_errors(page)
    page.goto("/")
    page.wait_for_selector("#signin-view:not([hidden])")
    assert page.is_hidden("#app-view")
    page.fill("#signin-token", "wrong")
    page.click("#signin-form button[type=submit]")
    page.wait_for_function("() => document.querySelector('#signin-error').textContent.length > 0")
    page.screenshot(path=str(screenshots / "desktop-signin.png"))
    page.fill("#signin-token", signin_server.token)
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#app-view:not([hidden])")
    page.wait_for_function("() => document.querySelectorAll('#dataset option').length > 0")
    assert page.inner_text("#user-name") == signin_server.token_name
    assert page.request.get("/api/v1/session").ok  # the cookie session is the server's
    page.click("#sign-out")
    page.wait_for_selector("#signin-view:not([hidden])")
    assert page.request.get("/api/v1/session").status == 401
    context.close()
    assert not [e for e in errors if "401" not in e], "\n".join(errors)


def test_a_comparison_lists_its_runs_and_is_cancelled_with_them(page: Any) -> None:
    response = page.request.post("/api/v1/comparisons", data={
        "dataset": "digits", "trials": 40, "seeds": 1, "epochs": 1, "concurrency": 1,
        "plot_mode": "none", "retrain_seeds": 0})
    assert response.status == 201, response.text()
    comparison_id = response.json()["job"]["id"]
    open_dashboard(page)
    page.goto(f"/#/jobs/{comparison_id}")
    page.wait_for_selector("#compare-section:not([hidden])")
    page.wait_for_function("() => document.querySelectorAll('#compare-runs li').length === 2",
                           timeout=JOB_TIMEOUT_MS)
    runs = sorted(page.locator("#compare-runs a").all_inner_texts())
    assert [r.split(", ")[0] for r in runs] == ["accuracy arm", "health arm"]
    assert len({r.split(", ")[1] for r in runs}) == 1  # both arms search one seed's split
    assert page.is_hidden("#compare-html")  # no report before the runs have ended
    page.click("#cancel-button")
    page.wait_for_selector('#job-status .badge[data-status="cancelled"]', timeout=JOB_TIMEOUT_MS)
    statuses = {run["status"] for run in page.request.get(
        f"/api/v1/comparisons/{comparison_id}").json()["runs"]}
    assert statuses == {"cancelled"}
