"""Uploading datasets over the REST API: checked, stored whole or not at all, within the
size limit and the token's quota, and private to the token that uploaded them."""

from __future__ import annotations

from typing import Any

from onegin.uploads.checked import check_upload
from tests.fixtures.upload_files import COLOURS, class_zip, labelled_lines, png_bytes, zip_bytes
from tests.webapp.conftest import Web, WebFactory, body

UPLOADS = "/api/v1/uploads"


def upload(web: Web, secret: str, data: bytes, name: str = "mine") -> Any:
    return web.client.post(f"{UPLOADS}?name={name}", data=data, headers=web.bearer(secret),
                           content_type="application/octet-stream")


def stored_keys(web: Web) -> list[str]:
    return [info.key for info in web.services.artifacts.list("")]


def test_an_image_zip_is_listed_with_classes_sizes_and_a_preview(web: Web) -> None:
    _, secret = web.token()
    data = class_zip(per_class=3)
    created = upload(web, secret, data, name="colours")
    assert created.status_code == 201, created.get_json()
    made = body(created)
    assert created.headers["Location"] == f"{UPLOADS}/{made['id']}"
    assert made["dataset"] == f"upload:{made['id']}" and made["kind"] == "images"
    assert made["classes"] == [{"name": "blue", "samples": 3}, {"name": "red", "samples": 3}]
    assert made["samples"] == 6 and made["bytes"] > 0 and made["modality"] == "image"
    listed = body(web.client.get(UPLOADS, headers=web.bearer(secret)))
    assert [u["id"] for u in listed["uploads"]] == [made["id"]] and listed["total"] == 1
    assert listed["quota"]["used"] == made["bytes"]
    thumb = web.client.get(made["preview"]["images"][0]["url"], headers=web.bearer(secret))
    assert thumb.status_code == 200 and thumb.content_type == "image/png"
    assert thumb.get_data().startswith(b"\x89PNG")


def test_a_multipart_text_upload_shows_its_first_lines(web: Web) -> None:
    _, secret = web.token()
    import io

    response = web.client.post(UPLOADS, headers=web.bearer(secret), data={
        "file": (io.BytesIO(labelled_lines(4)), "sms.tsv"), "name": "sms"},
        content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    made = body(response)
    assert made["name"] == "sms" and made["kind"] == "text" and made["samples"] == 8
    assert made["preview"]["lines"][0]["label"] == "spam"


def test_a_bad_zip_names_every_bad_file_and_stores_nothing(web: Web) -> None:
    _, secret = web.token()
    bad = zip_bytes({"red/0.png": png_bytes(COLOURS["red"]), "red/x.txt": b"text",
                     "blue/": None, "../up.png": png_bytes(COLOURS["red"])})
    response = upload(web, secret, bad)
    assert response.status_code == 422
    assert set(body(response)["fields"]) == {"red/x.txt", "blue/", "../up.png", "file"}
    assert stored_keys(web) == []
    assert body(web.client.get(UPLOADS, headers=web.bearer(secret)))["uploads"] == []


def test_an_upload_over_the_size_limit_is_refused_with_413(web_factory: WebFactory) -> None:
    web = web_factory(upload_max_bytes=2000)
    _, secret = web.token()
    response = upload(web, secret, class_zip(per_class=20))
    assert response.status_code == 413
    assert body(response)["limit_bytes"] == 2000
    assert stored_keys(web) == []


def test_the_token_quota_is_named_when_an_upload_would_pass_it(web_factory: WebFactory) -> None:
    data = class_zip(per_class=3)
    quota = int(len(check_upload(data, max_unpacked_bytes=10**7).data) * 1.5)
    web = web_factory(upload_quota_bytes=quota)
    _, secret = web.token()
    assert upload(web, secret, data).status_code == 201
    before = stored_keys(web)
    response = upload(web, secret, class_zip(per_class=3, classes=("red", "green")))
    assert response.status_code == 413
    error = body(response)
    assert "quota" in error["error"] and error["quota_bytes"] == quota
    assert stored_keys(web) == before
    _, other = web.token("other")  # the quota is per token
    assert upload(web, other, data).status_code == 201


def test_another_token_can_neither_see_nor_use_an_upload(web: Web) -> None:
    _, owner = web.token("owner")
    _, other = web.token("other")
    made = body(upload(web, owner, labelled_lines(10)))
    path = f"{UPLOADS}/{made['id']}"
    assert web.client.get(path, headers=web.bearer(other)).status_code == 404
    assert web.client.delete(path, headers=web.bearer(other)).status_code == 404
    assert web.client.get(f"{path}/preview/0.png", headers=web.bearer(other)).status_code == 404
    assert body(web.client.get(UPLOADS, headers=web.bearer(other)))["uploads"] == []
    job = {"dataset": made["dataset"], "trials": 1, "epochs": 1}
    refused = web.client.post("/api/v1/jobs", json=job, headers=web.bearer(other))
    assert refused.status_code == 422
    assert "no uploaded dataset" in body(refused)["fields"]["dataset"]
    assert web.submit(owner, **job)["config"]["dataset"] == made["dataset"]


def test_deleting_an_upload_removes_it_from_the_store(web: Web) -> None:
    _, secret = web.token()
    path = f"{UPLOADS}/{body(upload(web, secret, class_zip()))['id']}"
    assert web.client.delete(path, headers=web.bearer(secret)).status_code == 204
    assert stored_keys(web) == []
    assert web.client.get(path, headers=web.bearer(secret)).status_code == 404


def test_an_upload_needs_a_name_and_no_unknown_parameters(web: Web) -> None:
    _, secret = web.token()
    response = web.client.post(UPLOADS, data=class_zip(), headers=web.bearer(secret))
    assert response.status_code == 422 and "name" in body(response)["fields"]
    response = web.client.post(f"{UPLOADS}?name=a&nme=b", data=class_zip(),
                               headers=web.bearer(secret))
    assert response.status_code == 422 and "nme" in body(response)["fields"]
