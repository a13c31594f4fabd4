"""The job view's TensorBoard panel (Debian's chromium, a real `onegin web` without workers):
the `onegin tensorboard` command for the job or the trials typed, copied to the clipboard,
and the same trials' logs downloaded as a zip, at desktop and phone widths.

The job's trials are written straight into the server's records and their logs into its
artifact folder, where a GPU worker would have put them.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onegin.artifacts import open_artifact_store
from onegin.records import RecordStore
from tests.browser.conftest import onegin_web, watch_errors
from tests.fixtures.tensorboard_logs import event_files, store_logs

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
PARAMS = {0: {"filters": 16, "dropout": 0.25}, 1: {"filters": 32, "dropout": 0.25},
          2: {"filters": 64, "dropout": 0.5}}


@pytest.fixture(scope="module")
def logged_job(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A server without workers and a completed job of 3 trials with logs."""
    home = tmp_path_factory.mktemp("onegin-tensorboard")
    records = RecordStore(f"sqlite:///{home}/onegin.db", upgrade=True)
    job = records.create_job({"dataset": "digits", "trials": 3, "epochs": 1})
    records.update_job(job.id, status="running")
    for number, params in PARAMS.items():
        records.upsert_trial(job.id, number, status="completed", params=params)
    records.update_job(job.id, status="completed")
    store_logs(open_artifact_store(f"file://{home}/artifacts"), job.id,
               event_files({0: [1.0], 1: [0.5], 2: [0.25]}))
    with onegin_web(home, workers=0) as url:
        yield url, job.id
    records.close()


@pytest.mark.parametrize("width, height", [(1280, 800), (390, 844)])
def test_the_panel_gives_the_command_and_the_logs(
        browser: Any, logged_job: tuple[str, str], screenshots: Path, width: int,
        height: int) -> None:
    url, job_id = logged_job
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=url,
                                  accept_downloads=True,
                                  permissions=["clipboard-read", "clipboard-write"])
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(f"/#/jobs/{job_id}")
    command = page.locator("#tensorboard-command")
    command.wait_for()
    assert command.text_content() == f"onegin tensorboard {job_id}"

    page.fill("#tensorboard-trials", "2, 0")
    assert command.text_content() == f"onegin tensorboard {job_id} 0 2"
    page.click("#tensorboard-copy")
    # the clipboard's write settles after the click: the status follows it
    page.wait_for_function(
        "document.getElementById('tensorboard-status').textContent !== ''")
    assert page.text_content("#tensorboard-status") == "Command copied."
    assert page.evaluate("navigator.clipboard.readText()") == f"onegin tensorboard {job_id} 0 2"
    with page.expect_download() as download:
        page.click("#tensorboard-zip")
    assert download.value.suggested_filename == f"onegin-{job_id}-tensorboard.zip"
    with zipfile.ZipFile(download.value.path()) as archive:
        assert sorted({name.split("/")[0] for name in archive.namelist()}) == [
            "trial-000 · dropout=0.25 filters=16", "trial-002 · dropout=0.5 filters=64"]
    page.locator("#tensorboard-section").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / f"tensorboard-panel-{width}.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.fill("#tensorboard-trials", "1, 5")
    assert page.text_content("#tensorboard-trials-error") == \
        "This job has no trial 5 (its trials are 0–2)."
    assert page.get_attribute("#tensorboard-trials", "aria-invalid") == "true"
    assert page.is_disabled("#tensorboard-copy")
    assert page.get_attribute("#tensorboard-zip", "href") is None
    context.close()
    assert not errors, "\n".join(errors)
