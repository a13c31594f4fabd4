"""The job view's Analysis area in Debian's chromium on a real `onegin web`: every plot draws
its trials (read back through ECharts' own `getOption`), a point opens its trial, a chart
enlarges, learning curves follow live events, and two to four picked trials compare side by
side; at desktop (1280×800) and phone (390×844) widths, with screenshots.

The jobs are written straight into the server's records, and the health job's study through
the orchestrator's own `open_study` (asked, suggested and told as a job is), so the
importances are fANOVA's over real study trials. The server has no GPU worker.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import pytest

from onegin.events.local import LocalEventBus
from onegin.events.schema import make_event, progress_event
from onegin.job_config import validate_config
from onegin.progress import Progress
from onegin.records import RecordStore
from onegin.scoring import HEALTH_COMPONENTS
from onegin.statuses import JobStatus
from orchestrator.study import open_study
from tests.browser.conftest import onegin_web, watch_errors

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}
TRIALS = 24
OUTCOMES = ("completed", "completed", "pruned", "completed", "failed", "completed")

# The chart of a container, read through ECharts' public API: its series' names and sizes.
CHART = """async (selector) => {
  const echarts = await import("echarts");
  const chart = echarts.getInstanceByDom(document.querySelector(selector));
  if (!chart) return null;
  const option = chart.getOption();
  return {
    width: chart.getWidth(), height: chart.getHeight(),
    series: option.series.map((s) => ({ name: s.name, type: s.type, size: (s.data || []).length,
      numbers: (s.data || []).map((d) => d?.number ?? null), points: s.data })),
    axes: (option.parallelAxis || []).map((a) => a.name),
    grids: (option.grid || []).length,
  };
}"""
# ECharts for the waits below: a wait's predicate must answer at once (Playwright takes a
# promise for a truthy answer), so the module is imported first (`open_page`).
ECHARTS = "async () => { window.echartsModule = await import('echarts'); }"
# Whether a container's chart is wider than a width (it is enlarged), or has drawn.
WIDER = """([selector, width]) => window.echartsModule
  .getInstanceByDom(document.querySelector(selector)).getWidth() > width"""
NARROWER = """([selector, width]) => window.echartsModule
  .getInstanceByDom(document.querySelector(selector)).getWidth() <= width"""
# Whether the curves chart draws `name` with `points` points.
CURVE_DRAWN = """([name, points]) => {
  const chart = window.echartsModule.getInstanceByDom(document.querySelector('#analysis-curves'));
  return chart.getOption().series.some((s) => s.name === name && s.data.length === points);
}"""
RENDERED = "(selector) => Number(document.querySelector(selector)?.dataset.rendered) > 0"
COLUMNS = "(n) => document.querySelectorAll('#compare-trials-table thead th').length === n"
# Where the history chart drew its first completed trial, in page pixels.
HISTORY_POINT = """async () => {
  const echarts = await import("echarts");
  const box = document.querySelector("#analysis-history");
  const chart = echarts.getInstanceByDom(box);
  const first = chart.getOption().series[0].data[0];
  const [x, y] = chart.convertToPixel({ seriesIndex: 0 }, first);
  const rect = box.getBoundingClientRect();
  return { x: rect.left + x, y: rect.top + y, number: first[0] };
}"""


@dataclass
class Seeded:
    url: str
    home: Path
    job_id: str  # a health-aware job with a study
    pareto_id: str  # a pareto job (its front)
    trials: dict[int, dict[str, Any]]  # the health job's records, as the API gives them


def seed_health_job(store: RecordStore, database_url: str, seed: int = 4) -> str:
    """A completed health-aware job of `TRIALS` trials in the records and its study."""
    config = validate_config({"dataset": "digits", "trials": TRIALS, "epochs": 3, "seed": seed})
    job = store.create_job(config.to_dict())
    study = open_study(job.id, config, database_url)
    space = config.space()
    rng = random.Random(seed)
    best = (-1.0, 0)
    for number in range(TRIALS):
        trial = study.ask()
        params = space.suggest(trial)
        status = OUTCOMES[number % len(OUTCOMES)]
        fields: dict[str, Any] = {"status": status, "params": params}
        accuracy = round(rng.uniform(0.3, 0.98), 4)
        epochs = 3 if status == "completed" else 1
        curve = {str(e): round(accuracy * (1 - 0.5 ** e), 4) for e in range(1, epochs + 1)}
        if status == "completed":
            health = {c: round(rng.uniform(0.3, 1.0), 3) for c in HEALTH_COMPONENTS}
            health_score = sum(health.values()) / len(health)
            total = round(0.7 * curve["3"] + 0.3 * health_score, 4)
            fields |= {"val_accuracy": curve["3"], "health": health, "health_score": health_score,
                       "total_score": total, "intermediate": curve, "metrics": {"epochs_run": 3}}
            study.tell(trial, total)
            best = max(best, (total, number))
        elif status == "pruned":
            fields |= {"val_accuracy": curve["1"], "total_score": curve["1"],
                       "intermediate": curve, "metrics": {"epochs_run": 1}}
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            fields["error"] = "bad data: a test's failure"
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        store.upsert_trial(job.id, number, **fields)
    store.update_job(job.id, status=JobStatus.RUNNING)
    store.update_job(job.id, status=JobStatus.COMPLETED, best_trial_number=best[1],
                     best_score=best[0])
    return job.id


def seed_pareto_job(store: RecordStore) -> str:
    """A completed pareto job whose records hold a front of three over five trials."""
    config = validate_config({"dataset": "digits", "trials": 5, "objective": "pareto"})
    job = store.create_job(config.to_dict())
    points = [(0.9, 0.5), (0.8, 0.7), (0.7, 0.6), (0.6, 0.9), (0.5, 0.4)]
    for number, (accuracy, health) in enumerate(points):
        store.upsert_trial(job.id, number, status="completed", params={"filters": 8 + number},
                           val_accuracy=accuracy, health_score=health,
                           total_score=0.7 * accuracy + 0.3 * health)
    store.update_job(job.id, status=JobStatus.RUNNING)
    store.update_job(job.id, status=JobStatus.COMPLETED, best_trial_number=0, best_score=0.78)
    return job.id


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    home = tmp_path_factory.mktemp("onegin-analysis")
    url = f"sqlite:///{home}/onegin.db"
    store = RecordStore(url, upgrade=True)
    job_id = seed_health_job(store, url)
    pareto_id = seed_pareto_job(store)
    trials = {t.number: t.to_dict() for t in store.list_trials(job_id, limit=TRIALS)[0]}
    store.close()
    with onegin_web(home, workers=0) as server:
        yield Seeded(server, home, job_id, pareto_id, trials)


def open_page(browser: Any, seeded: Seeded, width: str, path: str,
              ready: str = "#analysis-section:not([hidden]) #analysis-tabs [role=tab]",
              ) -> tuple[Any, list[str]]:
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h}, base_url=seeded.url)
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(path)
    page.wait_for_selector(ready)
    page.evaluate(ECHARTS)
    return page, errors


def show(page: Any, panel: str) -> dict[str, Any]:
    """Choose the panel's tab and return its chart once drawn."""
    page.click(f"#analysis-tab-{panel}")
    assert page.get_attribute(f"#analysis-tab-{panel}", "aria-selected") == "true"
    page.wait_for_function(RENDERED, arg=f"#analysis-{panel}",
                           timeout=60_000)  # importances: fANOVA in a process it starts
    chart: dict[str, Any] = page.evaluate(CHART, f"#analysis-{panel}")
    return chart


def series(chart: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [s for s in chart["series"] if s["name"] == name]


def varying(trials: dict[int, dict[str, Any]]) -> set[str]:
    names = {n for t in trials.values() for n in t["params"]}
    return {n for n in names if len({str(t["params"].get(n)) for t in trials.values()}) > 1}


@pytest.mark.parametrize("width", WIDTHS)
def test_every_plot_draws_the_job_s_trials(browser: Any, seeded: Seeded, screenshots: Path,
                                           width: str) -> None:
    page, errors = open_page(browser, seeded, width, f"/#/jobs/{seeded.job_id}")
    trials = seeded.trials
    completed = sorted(n for n, t in trials.items() if t["status"] == "completed")
    pruned = sorted(n for n, t in trials.items() if t["status"] == "pruned")
    shot = lambda name: page.locator("#analysis-section").screenshot(  # noqa: E731
        path=str(screenshots / f"{width}-analysis-{name}.png"))
    assert page.is_hidden("#analysis-tab-front")  # not a pareto job

    history = show(page, "history")
    assert sorted(p[0] for p in series(history, "Completed")[0]["points"]) == completed
    assert sorted(p[0] for p in series(history, "Pruned")[0]["points"]) == pruned
    assert series(history, "Best so far")[0]["size"] >= 2
    shot("history")

    importance = show(page, "importance")
    study = page.request.get(f"/api/v1/jobs/{seeded.job_id}/study").json()
    assert importance["series"][0]["size"] == len(study["importances"]) > 0
    shot("importance")

    slices = show(page, "slices")
    params = varying({n: trials[n] for n in completed + pruned})
    assert slices["grids"] == len(params) and len(slices["series"]) == 2 * len(params)
    assert {s["size"] for s in series(slices, "Completed")} == {len(completed)}
    assert {s["size"] for s in series(slices, "Pruned")} == {len(pruned)}
    shot("slices")

    parallel = show(page, "parallel")
    assert set(parallel["axes"][:-1]) == params and parallel["axes"][-1] == "Total score"
    assert sorted(series(parallel, "Completed")[0]["numbers"]) == completed
    assert sorted(series(parallel, "Pruned")[0]["numbers"]) == pruned
    shot("parallel")

    curves = show(page, "curves")
    assert sorted(s["name"] for s in curves["series"]) == sorted(
        f"Trial #{n}" for n in completed + pruned)
    assert {s["size"] for s in curves["series"]} == {1, 3}  # pruned after 1 epoch, completed 3
    shot("curves")

    radar = show(page, "radar")
    offered, median = radar["series"]
    assert offered["size"] == min(8, len(completed))
    best = sorted(completed, key=lambda n: -trials[n]["total_score"])
    assert offered["numbers"] == best[:offered["size"]]
    assert median["name"] == f"Median of {len(completed)} completed"
    shot("radar")

    # the tabs are reachable by keyboard: arrows move along them
    page.focus("#analysis-tab-radar")
    page.keyboard.press("ArrowLeft")
    assert page.get_attribute("#analysis-tab-curves", "aria-selected") == "true"
    assert page.evaluate("() => document.activeElement.id") == "analysis-tab-curves"

    # a chart enlarges over the window and shrinks back with Escape
    show(page, "history")
    page.click("#analysis-panel-history .chart-enlarge")
    w, _ = WIDTHS[width]
    page.wait_for_function(WIDER, arg=["#analysis-history", w - 40])
    assert page.get_attribute("#analysis-panel-history .chart-enlarge", "aria-pressed") == "true"
    page.screenshot(path=str(screenshots / f"{width}-analysis-enlarged.png"))
    page.keyboard.press("Escape")
    page.wait_for_function(NARROWER, arg=["#analysis-history", w - 40])
    assert page.evaluate("() => document.documentElement.scrollWidth") <= w

    if width == "desktop":  # a point opens its trial's details
        page.locator("#analysis-history").scroll_into_view_if_needed()
        point = page.evaluate(HISTORY_POINT)
        page.mouse.click(point["x"], point["y"])
        page.wait_for_selector("#trial-dialog[open]")
        assert page.text_content("#trial-dialog-title") == f"Trial #{point['number']} details"
        page.click("#trial-dialog-close")
    page.context.close()
    assert not errors, "\n".join(errors)


def test_learning_curves_follow_live_events(browser: Any, seeded: Seeded,
                                            screenshots: Path) -> None:
    page, errors = open_page(browser, seeded, "desktop", f"/#/jobs/{seeded.job_id}")
    page.wait_for_selector("#connection[data-state=live]")
    before = show(page, "curves")
    bus = LocalEventBus(seeded.home / "events")
    number = TRIALS  # a new trial, as the next one would be
    bus.publish(make_event("trial_started", seeded.job_id, trial=number, params={}, worker="w1"))
    for epoch, accuracy in ((1, 0.41), (2, 0.66)):
        bus.publish(progress_event(seeded.job_id, number, Progress(
            "training", epoch, 3, 1.0, {"val_accuracy": accuracy, "loss": 1.0})))
    page.wait_for_function(CURVE_DRAWN, arg=[f"Trial #{number}", 2])
    after = page.evaluate(CHART, "#analysis-curves")
    assert ({s["name"] for s in after["series"]} - {s["name"] for s in before["series"]}
            == {f"Trial #{number}"})
    page.locator("#analysis-section").screenshot(
        path=str(screenshots / "desktop-analysis-live-curves.png"))
    page.context.close()
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("width", WIDTHS)
def test_picked_trials_compare_side_by_side(browser: Any, seeded: Seeded, screenshots: Path,
                                            width: str) -> None:
    trials = seeded.trials
    completed = [n for n, t in trials.items() if t["status"] == "completed"]
    pruned = [n for n, t in trials.items() if t["status"] == "pruned"]
    picked = [completed[-1], completed[-2], pruned[-1]]
    page, errors = open_page(browser, seeded, width, f"/#/jobs/{seeded.job_id}/trials",
                             ready="#trials-table tbody tr[data-number]")
    for number in picked[:2]:  # two from the table (a box click does not open the details)
        page.check(f"#trials-table tr[data-number='{number}'] input[data-compare-trial]")
    assert page.is_hidden("#trial-dialog[open]")
    page.click("#trials-table-compare")
    page.wait_for_selector("#compare-trials-table")
    page.check(f".card[data-number='{picked[2]}'] input[data-compare-trial]")  # one from a card
    page.wait_for_function(COLUMNS, arg=4)
    assert page.locator("#compare-trials-bar .chip").count() == 3
    head = page.eval_on_selector_all("#compare-trials-table thead th",
                                     "ths => ths.map(t => t.textContent)")
    assert [int(t.split("#")[1].split()[0]) for t in head[1:]] == picked

    rows = page.eval_on_selector_all("#compare-trials-table tbody tr[data-name]",
                                      "rs => rs.map(r => [r.dataset.name, r.className])")
    differs = {name for name, cls in rows if cls == "differs"}
    params = {n for t in picked for n in trials[t]["params"]}
    expected = {n for n in params if len({str(trials[t]["params"].get(n)) for t in picked}) > 1}
    assert differs & params == expected and "Status" in differs
    page.check("#compare-trials-only-differences")
    assert page.locator("#compare-trials-table tbody tr.same").first.is_hidden()

    page.wait_for_function(RENDERED, arg="#compare-trials-curves")
    curves = page.evaluate(CHART, "#compare-trials-curves")
    assert [s["name"] for s in curves["series"]] == [f"Trial #{n}" for n in picked]
    radar = page.evaluate(CHART, "#compare-trials-radar")
    assert radar["series"][0]["numbers"] == picked[:2]  # the pruned trial has no health
    page.locator("#analysis-section").screenshot(
        path=str(screenshots / f"{width}-analysis-compare.png"))
    w, _ = WIDTHS[width]
    assert page.evaluate("() => document.documentElement.scrollWidth") <= w

    # a trial taken out of the comparison leaves it, and the address follows
    page.click(f"#compare-trials-table thead "
               f"[aria-label='Remove trial {picked[2]} from the comparison']")
    page.wait_for_function(COLUMNS, arg=3)
    assert page.evaluate("() => location.hash").endswith(f"/compare/{picked[0]},{picked[1]}")
    page.reload()  # the address alone opens the comparison
    page.wait_for_function(COLUMNS, arg=3)
    assert page.get_attribute("#analysis-tab-compare", "aria-selected") == "true"
    page.context.close()
    assert not errors, "\n".join(errors)


def test_a_pareto_job_shows_its_front_first(browser: Any, seeded: Seeded,
                                            screenshots: Path) -> None:
    page, errors = open_page(browser, seeded, "phone", f"/#/jobs/{seeded.pareto_id}")
    page.wait_for_function("() => document.querySelector('#analysis-tab-front')"
                           ".getAttribute('aria-selected') === 'true'")
    page.wait_for_function(RENDERED, arg="#front-chart")
    front = page.evaluate(CHART, "#front-chart")
    assert series(front, "Pareto front")[0]["numbers"] == [0, 1, 3]
    assert series(front, "Dominated trials")[0]["numbers"] == [2, 4]
    page.locator("#analysis-section").screenshot(path=str(screenshots / "phone-analysis-front.png"))
    history = show(page, "history")  # a pareto job's history: its total scores
    assert sorted(p[0] for p in series(history, "Completed")[0]["points"]) == [0, 1, 2, 3, 4]
    page.context.close()
    assert not errors, "\n".join(errors)
