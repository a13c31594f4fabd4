"""Uploading a dataset from the dashboard (Debian's chromium, the real `onegin web`): the
list shows its classes, sizes and thumbnails, a refusal names every bad file, and the
upload trains as a job chosen in the form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Dashboard, watch_errors
from tests.browser.test_dashboard import JOB_TIMEOUT_MS, job_id_from_url, new_page, open_dashboard
from tests.fixtures.upload_files import COLOURS, class_zip, png_bytes, zip_bytes

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")


def choose_file(page: Any, name: str, data: bytes) -> None:
    page.set_input_files("#upload-file", files=[{"name": name, "mimeType": "application/zip",
                                                 "buffer": data}])


@pytest.mark.parametrize("width", [1280, 390])
def test_an_uploaded_zip_is_listed_with_thumbnails_and_trains_from_the_form(
        browser: Any, dashboard: Dashboard, screenshots: Path, width: int) -> None:
    page = new_page(browser, dashboard, width=width, height=844 if width < 500 else 800)
    errors = watch_errors(page)
    open_dashboard(page)
    name = f"colours-{width}"
    choose_file(page, "colours.zip", class_zip(per_class=30))
    page.fill("#upload-name", name)
    page.click("#upload-button")
    item = page.locator("#uploads-list li.upload", has_text=name)
    item.wait_for()
    assert "2 classes, 60 samples" in item.inner_text()
    assert "blue 30 · red 30" in item.locator(".upload-classes").inner_text()
    thumbs = item.locator(".upload-thumbs img")
    assert thumbs.count() == 4
    page.wait_for_function(
        """(id) => [...document.querySelectorAll(`[data-upload="${id}"] img`)]
                   .every((img) => img.complete && img.naturalWidth > 0)""",
        arg=item.get_attribute("data-upload"))
    upload_id = item.get_attribute("data-upload")
    assert page.locator(f'#dataset optgroup[data-uploads] option[value="upload:{upload_id}"]'
                        ).count() == 1
    item.locator("button", has_text="Use").click()
    assert page.input_value("#dataset") == f"upload:{upload_id}"
    assert "60 uploaded images in 2 classes" in page.inner_text("#dataset-desc")
    page.screenshot(path=str(screenshots / f"uploads-listed-{width}.png"), full_page=True)
    if width < 500:  # the phone deletes its upload: gone from the list and the menu
        page.once("dialog", lambda dialog: dialog.accept())
        item.locator("button", has_text="Delete").click()
        item.wait_for(state="detached")
        assert page.locator(f'#dataset option[value="upload:{upload_id}"]').count() == 0
        assert page.request.get(f"/api/v1/uploads/{upload_id}").status == 404
        assert not errors, errors
        return
    page.fill("#trials", "1")
    page.fill("#epochs", "1")
    page.fill("#concurrency", "1")
    page.click("#start-button")
    job_id = job_id_from_url(page)
    page.wait_for_function(
        "() => document.querySelector('#job-status .badge')?.dataset.status === 'completed'",
        timeout=JOB_TIMEOUT_MS)
    job = page.request.get(f"/api/v1/jobs/{job_id}").json()
    assert job["config"]["dataset"] == f"upload:{upload_id}"
    assert job["counts"]["completed"] + job["counts"]["pruned"] == 1, job  # trained on it
    assert not errors, errors


def test_a_refused_upload_names_every_bad_file_and_is_not_listed(
        browser: Any, dashboard: Dashboard, screenshots: Path) -> None:
    page = new_page(browser, dashboard)
    errors = watch_errors(page)
    open_dashboard(page)
    page.wait_for_selector("#uploads-list:not([aria-busy])")  # the uploads have been read
    before = page.locator("#uploads-list li.upload").count()
    choose_file(page, "bad.zip", zip_bytes({
        "red/0.png": png_bytes(COLOURS["red"]), "red/notes.txt": b"words",
        "blue/": None, "../escape.png": png_bytes(COLOURS["red"])}))
    page.fill("#upload-name", "bad-upload")
    page.click("#upload-button")
    page.wait_for_selector("#upload-errors li")
    problems = page.locator("#upload-errors li").all_inner_texts()
    assert any(p.startswith("red/notes.txt: is not an image") for p in problems), problems
    assert any(p.startswith("blue/: is an empty class folder") for p in problems), problems
    assert any(p.startswith("../escape.png: leaves the archive") for p in problems), problems
    assert page.locator("#uploads-list li.upload").count() == before
    assert page.locator("#uploads-list li.upload", has_text="bad-upload").count() == 0
    page.screenshot(path=str(screenshots / "uploads-refused.png"), full_page=True)
    assert not errors, errors
