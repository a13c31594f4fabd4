"""Every hyperparameter explained in the dashboard, in Debian's chromium on a real `onegin web`:
the job form lists what the search tunes for an image and for a text dataset (and what a
cloned job's settings fix), a trial's parameter opens its explanation with a slice of the
job's own trials (or says the job has too few), and the importance chart's tooltip and legend
say what each parameter is; at desktop (1280×800) and phone (390×844) widths, with
screenshots. Every text is compared with what ``GET /api/v1/hyperparameters`` serves.

The jobs are written straight into the server's records (the health job's study through the
orchestrator's own `open_study`, as test_analysis seeds it). The server has no GPU worker.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from onegin.job_config import validate_config
from onegin.records import RecordStore
from onegin.statuses import JobStatus
from tests.browser.conftest import onegin_web, watch_errors
from tests.browser.test_analysis import seed_health_job

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}
MIN_SCORED = 8  # hyperparameters.js: completed trials with a score a slice needs
FEW = 3  # the small job's completed trials
# the small job's settings that a clone carries: a narrowed and a fixed parameter
OVERRIDES = {"dropout": {"low": 0.1, "high": 0.3}, "batch_norm": True}

# A wait's predicate answers at once (Playwright takes a promise for a truthy answer), so
# ECharts is imported first (`open_page`).
ECHARTS = "async () => { window.echartsModule = await import('echarts'); }"
RENDERED = "(selector) => Number(document.querySelector(selector)?.dataset.rendered) > 0"
# A chart's series (name and points), read through ECharts' own getOption.
SERIES = """(box) => window.echartsModule.getInstanceByDom(box).getOption().series
  .map((s) => ({ name: s.name, size: s.data.length }))"""
# Where the importance chart drew the middle of `name`'s bar, in page pixels.
BAR = """([name]) => {
  const box = document.querySelector("#analysis-importance");
  const chart = window.echartsModule.getInstanceByDom(box);
  const option = chart.getOption();
  const i = option.yAxis[0].data.indexOf(name);
  const [x, y] = chart.convertToPixel({ seriesIndex: 0 }, [option.series[0].data[i] / 2, i]);
  const rect = box.getBoundingClientRect();
  return { x: rect.left + x, y: rect.top + y };
}"""
# The parameters the form's list explains, in order, are `names`.
LISTED = """(names) => [...document.querySelectorAll('#hp-form li[data-param]')]
  .map((li) => li.dataset.param).join() === names.join()"""
LEGEND_SIZE = """(n) => document.querySelectorAll('#analysis-panel-importance .hp-legend > li')
  .length === n"""
TOOLTIP_SAYS = """(text) => [...document.querySelectorAll("#analysis-importance div")]
  .some((d) => d.offsetParent !== null && d.textContent.includes(text))"""


@dataclass
class Seeded:
    url: str
    job_id: str  # 24 trials, a study: enough for slices and importance
    few_id: str  # FEW completed trials, and parameters a clone carries
    trials: dict[int, dict[str, Any]]  # the big job's, as the API gives them
    texts: dict[str, dict[str, Any]]  # GET /hyperparameters


def seed_few(store: RecordStore) -> str:
    """A completed job of `FEW` trials, each with its own dropout, and `OVERRIDES`."""
    config = validate_config({"dataset": "digits", "trials": FEW, "params": OVERRIDES})
    job = store.create_job(config.to_dict())
    for number in range(FEW):
        store.upsert_trial(job.id, number, status="completed", total_score=0.5 + number / 10,
                           val_accuracy=0.5 + number / 10,
                           params={"dropout": 0.1 + number / 10, "batch_norm": True, "filters": 16})
    store.update_job(job.id, status=JobStatus.RUNNING)
    store.update_job(job.id, status=JobStatus.COMPLETED, best_trial_number=FEW - 1,
                     best_score=0.5 + (FEW - 1) / 10)
    return job.id


def seed_jobs(database_url: str) -> tuple[str, str, dict[int, dict[str, Any]]]:
    """The big job (with its study) and the small one, and the big job's trials (as the API
    gives them)."""
    store = RecordStore(database_url, upgrade=True)
    try:
        job_id = seed_health_job(store, database_url, seed=7)
        trials = {t.number: t.to_dict() for t in store.list_trials(job_id, limit=100)[0]}
        return job_id, seed_few(store), trials
    finally:
        store.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    home = tmp_path_factory.mktemp("onegin-hyperparameters")
    job_id, few_id, trials = seed_jobs(f"sqlite:///{home}/onegin.db")
    with onegin_web(home, workers=0) as server:
        with urllib.request.urlopen(f"{server}/api/v1/hyperparameters") as answer:
            texts = json.load(answer)["hyperparameters"]
        yield Seeded(server, job_id, few_id, trials, texts)


def open_page(browser: Any, seeded: Seeded, width: str, path: str,
              ready: str) -> tuple[Any, list[str]]:
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h}, base_url=seeded.url,
                                  has_touch=width == "phone")
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(path)
    page.wait_for_selector(ready, state="attached")
    page.evaluate(ECHARTS)
    return page, errors


def press(page: Any, locator: Any, width: str) -> None:
    """A person's press: a tap on the phone, Enter from the keyboard on the desktop."""
    if width == "phone":
        locator.tap()
    else:
        locator.focus()
        page.keyboard.press("Enter")


def most_varied(trials: list[dict[str, Any]]) -> str:
    """The parameter with the most distinct values among ``trials``."""
    names = {n for t in trials for n in t["params"]}
    return max(sorted(names), key=lambda n: len({str(t["params"].get(n)) for t in trials}))


@pytest.mark.parametrize("width", WIDTHS)
def test_the_form_explains_what_the_search_tunes(browser: Any, seeded: Seeded, screenshots: Path,
                                                 width: str) -> None:
    page, errors = open_page(browser, seeded, width, "/", "#hp-form li[data-param]")
    page.click("#hp-form summary")
    for dataset, modality in (("digits", "image"), ("imdb", "text")):
        page.select_option("#dataset", dataset)
        expected = [n for n, t in seeded.texts.items() if modality in t["searched"]]
        page.wait_for_function(LISTED, arg=expected)
        for name in expected:
            item = page.locator(f"#hp-form li[data-param='{name}']")
            text = seeded.texts[name]
            shown = item.inner_text()
            for part in (text["title"], text["what"], text["effect"], text["typical"],
                         text["searched"][modality]):
                assert part in shown, (name, part)
        said = f"For {modality} datasets the search tunes these {len(expected)} parameters."
        assert said in page.inner_text("#hp-form")
        page.locator("#hp-form").screenshot(path=str(screenshots / f"{width}-form-{modality}.png"))
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTHS[width][0]

    # a clone carries the job's parameter settings: the form says what they set, beside each
    page.goto(f"/#/jobs/{seeded.few_id}")
    page.wait_for_selector("#job-status .badge")  # the job has loaded: its clone can start
    page.click("#reuse-button")
    page.wait_for_selector("#form-origin:not([hidden])")
    assert page.input_value("#dataset") == "digits"
    assert "(2 set by the copied job)" in page.inner_text("#hp-form summary")
    if not page.eval_on_selector("#hp-form", "(details) => details.open"):
        page.click("#hp-form summary")
    assert page.inner_text("#hp-form li[data-param='dropout'] .hp-override") == \
        "The copied job's settings: dropout narrowed to 0.1–0.3."
    assert page.inner_text("#hp-form li[data-param='batch_norm'] .hp-override") == \
        "The copied job's settings: batch norm fixed to true."
    page.locator("#hp-form li[data-param='dropout']").screenshot(
        path=str(screenshots / f"{width}-form-cloned-override.png"))
    page.click("#form-origin-forget")
    assert page.locator("#hp-form .hp-override").count() == 0
    page.context.close()
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_trial_s_parameter_opens_its_explanation_and_the_job_s_slice(
        browser: Any, seeded: Seeded, screenshots: Path, width: str) -> None:
    trials = list(seeded.trials.values())
    completed = [t for t in trials if t["status"] == "completed"]
    pruned = [t for t in trials if t["status"] == "pruned"]
    name = most_varied(completed)
    number = completed[-1]["number"]
    page, errors = open_page(browser, seeded, width, f"/#/jobs/{seeded.job_id}",
                             f".card[data-number='{number}'] .details")
    page.click(f".card[data-number='{number}'] .details")
    page.wait_for_selector("#trial-dialog[open]")
    toggle = page.locator(f"#trial-dialog tr[data-param='{name}'] .hp-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    panel = page.locator(f"#{toggle.get_attribute('aria-controls')}")
    assert panel.is_hidden()
    press(page, toggle, width)
    assert toggle.get_attribute("aria-expanded") == "true"
    text = seeded.texts[name]
    panel.locator(".hp-explain").wait_for()
    for part in (text["title"], text["what"], text["effect"], text["typical"]):
        assert part in panel.inner_text()

    # the job's own trials, parameter against score: every scored trial that has it
    box = panel.locator(".chart-box")
    page.wait_for_function(RENDERED, arg=f"#{box.get_attribute('id')}")
    series = {s["name"]: s["size"] for s in box.evaluate(SERIES)}
    assert series == {"Completed": sum(name in t["params"] for t in completed),
                      "Pruned": sum(name in t["params"] for t in pruned)}
    assert series["Completed"] >= MIN_SCORED
    assert "Each dot is one of this job's trials" in panel.inner_text()
    panel.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / f"{width}-trial-parameter-slice.png"))
    w, _ = WIDTHS[width]
    assert page.evaluate("() => document.querySelector('#trial-dialog').scrollWidth") <= w

    press(page, toggle, width)  # and closes again
    assert toggle.get_attribute("aria-expanded") == "false"
    assert panel.is_hidden()

    # what the search tries is digits' (image) range alone, for a parameter text searches too
    both = next(n for n, t in seeded.texts.items()
                if {"image", "text"} <= set(t["searched"]) and n in completed[-1]["params"])
    toggle = page.locator(f"#trial-dialog tr[data-param='{both}'] .hp-toggle")
    press(page, toggle, width)
    panel = page.locator(f"#{toggle.get_attribute('aria-controls')}")
    panel.locator(".hp-explain").wait_for()
    tries = panel.locator("dt:has-text('The search tries') + dd").inner_text()
    assert tries == seeded.texts[both]["searched"]["image"], tries
    page.click("#trial-dialog-close")

    # a job with too few trials says so instead of drawing noise
    page.goto(f"/#/jobs/{seeded.few_id}")
    page.click(".card[data-number='0'] .details")
    page.wait_for_selector("#trial-dialog[open]")
    toggle = page.locator("#trial-dialog tr[data-param='dropout'] .hp-toggle")
    press(page, toggle, width)
    note = page.locator("#trial-dialog .hp-evidence--few .hp-evidence-note")
    note.wait_for()
    assert note.inner_text() == (
        "Not enough of this job's trials yet to show what dropout does here: a slice needs "
        f"{MIN_SCORED} completed trials with a score and at least 2 values of dropout among them; "
        f"this job has {FEW} trials ({FEW} values).")
    assert page.locator("#trial-dialog .hp-evidence .chart-box").count() == 0
    note.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / f"{width}-trial-parameter-few.png"))
    page.context.close()
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_importance_chart_says_what_each_parameter_is(browser: Any, seeded: Seeded,
                                                          screenshots: Path, width: str) -> None:
    page, errors = open_page(browser, seeded, width, f"/#/jobs/{seeded.job_id}",
                             "#analysis-section:not([hidden]) #analysis-tab-importance")
    page.click("#analysis-tab-importance")
    page.wait_for_function(RENDERED, arg="#analysis-importance", timeout=60_000)  # fANOVA
    study = page.request.get(f"/api/v1/jobs/{seeded.job_id}/study").json()
    ranked = [n for n, _ in sorted(study["importances"].items(), key=lambda kv: -kv[1])]
    legend = page.locator("#analysis-panel-importance .hp-legend > li")
    page.wait_for_function(LEGEND_SIZE, arg=len(ranked))
    assert [li.get_attribute("data-param") for li in legend.all()] == ranked

    # a bar's tooltip: the parameter's title and what it is
    top = ranked[0]
    text = seeded.texts[top]
    page.locator("#analysis-importance").scroll_into_view_if_needed()
    point = page.evaluate(BAR, [top])
    if width == "phone":
        page.touchscreen.tap(point["x"], point["y"])
    else:
        page.mouse.move(point["x"], point["y"])
    page.wait_for_function(TOOLTIP_SAYS, arg=text["what"])
    assert page.evaluate(TOOLTIP_SAYS, f"{text['title']} ({top})")
    page.locator("#analysis-panel-importance").screenshot(
        path=str(screenshots / f"{width}-importance-tooltip.png"))

    # the legend opens the full explanation and the job's slice, by keyboard or touch
    toggle = legend.locator(f".hp-toggle[data-param='{top}']")
    assert text["title"] in toggle.inner_text()
    press(page, toggle, width)
    assert toggle.get_attribute("aria-expanded") == "true"
    panel = page.locator(f"#{toggle.get_attribute('aria-controls')}")
    panel.locator(".hp-explain").wait_for()
    assert text["effect"] in panel.inner_text() and text["typical"] in panel.inner_text()
    box = panel.locator(".chart-box")
    page.wait_for_function(RENDERED, arg=f"#{box.get_attribute('id')}")
    panel.scroll_into_view_if_needed()
    page.locator("#analysis-panel-importance").screenshot(
        path=str(screenshots / f"{width}-importance-legend.png"))
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTHS[width][0]

    press(page, panel.locator(".hp-see-all"), width)  # every slice, in the Analysis area
    assert page.get_attribute("#analysis-tab-slices", "aria-selected") == "true"
    assert page.evaluate("() => document.activeElement.id") == "analysis-tab-slices"
    page.context.close()
    assert not errors, "\n".join(errors)
