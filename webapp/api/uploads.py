"""Uploaded datasets: upload (checked, within the size limit and the token's quota), list,
read, preview, delete.

An upload is the request body itself (``?name=``), or the ``file`` part of a
multipart form (with a ``name`` part). It is checked whole before anything is
stored, so a refusal names every bad file or line, and stored through
`onegin.uploads.catalogue`, so a failure leaves nothing listed. Each upload belongs
to the token that made it: another token gets 404 for it and cannot name it in a
job. The body may be up to ``upload_max_bytes`` (webapp/app.py lets this one view
past ``max_request_bytes``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from onegin.errors import ConfigError, ConfigErrors
from onegin.uploads import catalogue
from onegin.uploads.catalogue import UploadedDataset
from onegin.uploads.checked import check_upload
from onegin.uploads.specs import remember, spec_for
from webapp.auth import current_principal, require_principal
from webapp.errors import ApiError, not_found, validation_failed
from webapp.offload import off_the_loop
from webapp.pagination import parse_page, unknown_parameters
from webapp.state import state

bp = Blueprint("uploads", __name__)
bp.before_request(require_principal)
UPLOAD_ENDPOINT = "uploads.create_upload"
UNPACK_FACTOR = 4
"""A zip may unpack to this many times the upload limit (beyond it: a zip bomb)."""


def upload_json(dataset: UploadedDataset) -> dict[str, Any]:
    spec = spec_for(dataset)
    return {
        "id": dataset.id,
        "name": dataset.name,
        "dataset": dataset.dataset,
        "kind": dataset.kind,
        "modality": spec.modality,
        "title": spec.title,
        "description": spec.description,
        "classes": [{"name": name, "samples": count} for name, count in dataset.classes.items()],
        "num_classes": len(dataset.classes),
        "input_shape": list(spec.input_shape),
        "samples": dataset.samples,
        "bytes": dataset.bytes,
        "sha256": dataset.sha256,
        "created_at": dataset.created_at,
        "preview": {
            "images": [{"label": label, "url": url_for("uploads.preview", upload_id=dataset.id,
                                                       number=n)}
                       for n, label in enumerate(dataset.preview_labels)],
            "lines": [{"label": label, "text": text} for label, text in dataset.preview_lines],
        },
    }


def visible_upload(upload_id: str, owner: str | None) -> UploadedDataset | None:
    """``owner``'s upload with this id (None for a missing one and for another's)."""
    return catalogue.get(state().services.artifacts, upload_id, owner)


def check_job_dataset(dataset: str, owner: str | None) -> str | None:
    """Why a job of ``owner`` may not use ``upload:<id>`` (None: it may, and its spec is
    now known to this process, so the job's config can be checked against it)."""
    found = visible_upload(dataset.partition(":")[2], owner)
    if found is None:
        return f"no uploaded dataset {dataset!r} of yours (see GET /api/v1/uploads)"
    remember(found)
    return None


def _upload_body() -> tuple[bytes, str | None]:
    """The uploaded bytes and the name the request gives them."""
    if request.mimetype == "multipart/form-data":
        part = request.files.get("file")
        if part is None:
            raise validation_failed({"file": "missing: send the data as the form part 'file'"})
        return part.read(), request.form.get("name") or part.filename
    return request.get_data(cache=False), request.args.get("name")


@bp.post("/uploads")
def create_upload() -> tuple[Response, int, dict[str, str]]:
    unknown = unknown_parameters(request.args, ("name",))
    if unknown:
        raise validation_failed(unknown)
    web = state()
    settings = web.settings
    data, name = _upload_body()
    try:
        name = catalogue.check_name(name)
    except ConfigError as exc:
        raise validation_failed({exc.field: exc.reason}) from None
    try:
        checked = off_the_loop(check_upload, data,
                               max_unpacked_bytes=UNPACK_FACTOR * settings.upload_max_bytes)
    except ConfigErrors as exc:
        raise validation_failed(exc.as_dict()) from None
    owner = current_principal().owner
    store = web.services.artifacts
    used = catalogue.bytes_used(store, owner)
    quota = settings.upload_quota_bytes
    if used + len(checked.data) > quota:
        raise ApiError(413, f"this upload ({len(checked.data):,} bytes) would take this "
                            f"token's uploads past its quota of {quota:,} bytes "
                            f"({used:,} used): delete an upload first",
                       quota_bytes=quota, used_bytes=used)
    dataset = catalogue.add(store, checked, name=name, owner=owner)
    location = url_for("uploads.get_upload", upload_id=dataset.id)
    return jsonify(upload_json(dataset)), 201, {"Location": location}


@bp.get("/uploads")
def list_uploads() -> Response:
    page, errors = parse_page(request.args)
    if page is None:
        raise validation_failed(errors)
    store = state().services.artifacts
    owner = current_principal().owner
    found = catalogue.list_uploads(store, owner)
    items = [upload_json(d) for d in found[page.offset:page.offset + page.per_page]]
    body = page.envelope("uploads", items, len(found))
    body["quota"] = {"bytes": state().settings.upload_quota_bytes,
                     "used": sum(d.bytes for d in found if d.owner == owner)}
    return jsonify(body)


@bp.get("/uploads/<upload_id>")
def get_upload(upload_id: str) -> Response:
    found = visible_upload(upload_id, current_principal().owner)
    if found is None:
        raise not_found("upload")
    return jsonify(upload_json(found))


@bp.get("/uploads/<upload_id>/preview/<int:number>.png")
def preview(upload_id: str, number: int) -> Response:
    found = visible_upload(upload_id, current_principal().owner)
    if found is None or number >= len(found.preview_labels):
        raise not_found("preview")
    png = state().services.artifacts.get_bytes(catalogue.preview_key(found.id, number))
    return Response(png, content_type="image/png",
                    headers={"Cache-Control": "private, max-age=86400"})


@bp.delete("/uploads/<upload_id>")
def delete_upload(upload_id: str) -> tuple[str, int]:
    """Jobs that name it and have not loaded it yet fail with "no such upload"."""
    found = visible_upload(upload_id, current_principal().owner)
    if found is None:
        raise not_found("upload")
    catalogue.delete(state().services.artifacts, found)
    return "", 204
