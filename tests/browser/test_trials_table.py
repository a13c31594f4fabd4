"""The trials table in the dashboard (Debian's chromium, a real `onegin web`): a header click
sorts on the server, a filter narrows the rows, the column choice is remembered, the CSV
downloads with the chosen columns, and a row opens its trial's details.

The job's trials are written straight into the server's records (benchmarks/trials_table.py
`seed_job`: every terminal state, parameters from the digits space, some values missing).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.trials_table import seed_job
from onegin.records import RecordStore
from tests.browser.conftest import onegin_web, watch_errors

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
TRIALS = 70  # two pages of 50


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, RecordStore]]:
    """A server without workers, a job of `TRIALS` trials in its records, and the records."""
    home = tmp_path_factory.mktemp("onegin-table")
    store = RecordStore(f"sqlite:///{home}/onegin.db", upgrade=True)
    job_id = seed_job(store, TRIALS, seed=3)
    with onegin_web(home, workers=0) as url:
        yield url, job_id, store
    store.close()


def rendered(page: Any, times: int) -> None:
    page.wait_for_function(f"() => Number(document.querySelector('#trials-table')"
                           f".dataset.rendered || 0) >= {times}")


def shown_numbers(page: Any) -> list[int]:
    return [int(n) for n in page.eval_on_selector_all(
        "#trials-table tbody tr[data-number]", "rows => rows.map(r => r.dataset.number)")]


def api_numbers(page: Any, job_id: str, query: str) -> list[int]:
    data = page.request.get(f"/api/v1/jobs/{job_id}/trials?{query}&per_page=50").json()
    return [t["number"] for t in data["trials"]]


def test_the_table_sorts_filters_pages_exports_and_opens_details(
        browser: Any, seeded: tuple[str, str, RecordStore], screenshots: Path) -> None:
    url, job_id, store = seeded
    context = browser.new_context(viewport={"width": 1280, "height": 800},
                                  accept_downloads=True, base_url=url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(f"/#/jobs/{job_id}")
    page.click("#trials-table-link")
    rendered(page, 1)
    assert page.is_hidden("#job-view") and page.is_hidden("#config-panel")
    assert shown_numbers(page) == list(range(50))
    assert page.text_content("#trials-table-page") == f"Page 1 of 2 · {TRIALS} trials"

    # a header click sorts on the server, ascending then descending, and says so (aria-sort)
    header = page.locator("#trials-table th:has(button[data-column='total_score'])")
    header.locator("button").click()
    rendered(page, 2)
    assert header.get_attribute("aria-sort") == "ascending"
    assert shown_numbers(page) == api_numbers(page, job_id, "sort=total_score")
    page.keyboard.press("Enter")  # the header button keeps the focus: the keyboard flips it
    rendered(page, 3)
    assert header.get_attribute("aria-sort") == "descending"
    trials = store.list_trials(job_id, limit=TRIALS)[0]
    by_score = sorted((t for t in trials if t.total_score is not None),
                      key=lambda t: -(t.total_score or 0))
    assert shown_numbers(page)[:5] == [t.number for t in by_score[:5]]
    page.click("#trials-table-next")
    rendered(page, 4)
    assert shown_numbers(page) == api_numbers(page, job_id, "sort=-total_score&page=2")

    # a filter narrows the rows, on the server: pruned trials, then accuracy at least 0.5
    page.select_option("#trials-filter-column", "status")
    page.select_option("#trials-filter-values", ["pruned"])
    page.click("#trials-filter-form button[type=submit]")
    rendered(page, 5)
    pruned = [t for t in trials if t.status == "pruned"]
    assert set(page.eval_on_selector_all("#trials-table tbody .badge",
                                         "b => b.map(x => x.dataset.status)")) == {"pruned"}
    assert page.text_content("#trials-table-page") == f"Page 1 of 1 · {len(pruned)} trials"
    page.select_option("#trials-filter-column", "val_accuracy")
    page.fill("#trials-filter-min", "0.5")
    page.click("#trials-filter-form button[type=submit]")
    rendered(page, 6)
    chosen = sorted((t for t in pruned if (t.val_accuracy or 0) >= 0.5),
                    key=lambda t: -(t.total_score or 0))
    assert shown_numbers(page) == [t.number for t in chosen]
    page.screenshot(path=str(screenshots / "desktop-trials-table.png"), full_page=True)

    # the column choice: learning rate shown, test accuracy hidden, remembered on reload
    page.click("#trials-table-columns summary")
    page.check("#trials-table-columns input[value='params.learning_rate']")
    page.uncheck("#trials-table-columns input[value='test_accuracy']")
    columns = page.eval_on_selector_all("#trials-table thead button",
                                        "bs => bs.map(b => b.dataset.column)")
    assert "params.learning_rate" in columns and "test_accuracy" not in columns
    page.reload()
    rendered(page, 1)
    assert page.eval_on_selector_all("#trials-table thead button",
                                     "bs => bs.map(b => b.dataset.column)") == columns

    # the CSV: the chosen columns of every trial the filter and sort select
    header.locator("button").click()
    rendered(page, 2)
    with page.expect_download() as download:
        page.click("#trials-table-csv")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0] == columns
    scored = sorted((t for t in trials if t.total_score is not None),
                    key=lambda t: t.total_score or 0)
    unscored = [t for t in trials if t.total_score is None]
    assert [int(r[0]) for r in rows[1:]] == [t.number for t in scored + unscored]

    # a row opens its trial's details; closing them gives the focus back
    first = shown_numbers(page)[0]
    page.click(f"#trials-table tbody tr[data-number='{first}'] td:nth-child(3)")
    page.wait_for_selector("#trial-dialog[open]")
    assert page.text_content("#trial-dialog-title") == f"Trial #{first} details"
    page.click("#trial-dialog-close")
    page.screenshot(path=str(screenshots / "desktop-trials-table-csv.png"))

    # on a phone the table scrolls inside its frame; the page itself stays 390 px wide
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert page.evaluate("() => { const w = document.querySelector('#trials-table .table-wrap');"
                         " return w.scrollWidth > w.clientWidth; }")
    page.screenshot(path=str(screenshots / "mobile-trials-table.png"), full_page=True)
    context.close()
    assert not errors, "\n".join(errors)
