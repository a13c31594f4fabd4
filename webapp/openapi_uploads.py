"""The uploaded datasets' part of the OpenAPI document (webapp/api/uploads.py).

Kept apart from webapp/openapi.py, which merges it in, so the upload endpoints are
described in one place beside the others' helpers.
"""

from __future__ import annotations

from onegin.uploads.catalogue import MAX_NAME, UPLOAD_ID
from webapp.openapi import API, Schema, _error, _file, _json, _object, _op, _ref

TAG = "Uploads"
_ID = ("UploadId",)
_UNSAFE = ("CsrfToken",)


def upload_paths() -> dict[str, Schema]:
    too_large = _json(_ref("Error"), "over upload_max_bytes (the body has limit_bytes), or "
                      "past the token's upload quota (quota_bytes, used_bytes)")
    return {
        f"{API}/uploads": {
            "get": _op("The caller's uploaded datasets, newest first, and its quota",
                       {"200": _json(_ref("UploadPage"), "one page of uploads"),
                        "422": _error("ValidationFailed")},
                       params=("Page", "PerPage"), tag=TAG),
            "post": {**_op(
                "Upload a dataset: a zip of one folder of images per class, or a "
                "label<TAB>text / label,text file",
                {"201": {**_json(_ref("Upload"), "stored; a job names it by `dataset`"),
                         "headers": {"Location": {"schema": {"type": "string"}}}},
                 "403": _error("Forbidden"), "413": too_large,
                 "422": _error("ValidationFailed"), "503": _error("Unavailable")},
                params=("UploadName", *_UNSAFE), tag=TAG,
                description="The body is the file itself (a multipart form with parts "
                            "`file` and `name` is accepted too). It is checked whole before "
                            "anything is stored: every bad file or line is named in "
                            "`fields` (422), and nothing of a refused upload is kept."),
                "requestBody": {"required": True, "content": {
                    "application/octet-stream": {"schema": {"type": "string",
                                                            "format": "binary"}}}}},
        },
        f"{API}/uploads/{{upload_id}}": {
            "get": _op("One uploaded dataset", {"200": _json(_ref("Upload"), "the upload"),
                                                "404": _error("NotFound")},
                       params=_ID, tag=TAG),
            "delete": _op("Delete an uploaded dataset (jobs still to load it fail)",
                          {"204": {"description": "deleted"}, "403": _error("Forbidden"),
                           "404": _error("NotFound")},
                          params=(*_ID, *_UNSAFE), tag=TAG),
        },
        f"{API}/uploads/{{upload_id}}/preview/{{number}}.png": {"get": _op(
            "One preview thumbnail of an image upload (64 px)",
            {"200": _file("image/png", "the thumbnail"), "404": _error("NotFound")},
            params=(*_ID, "PreviewNumber"), tag=TAG)},
    }


def upload_schemas() -> dict[str, Schema]:
    text = {"type": "string"}
    count = {"type": "integer", "minimum": 0}
    upload = _object({
        "id": text, "name": text,
        "dataset": {**text, "description": "what a job's `dataset` names: upload:<id>"},
        "kind": {"enum": ["images", "text"]}, "modality": {"enum": ["image", "text"]},
        "title": text, "description": text,
        "classes": {"type": "array", "items": _object(
            {"name": text, "samples": count}, required=["name", "samples"])},
        "num_classes": count, "samples": count,
        "input_shape": {"type": "array", "items": {"type": "integer"},
                        "description": "what a model sees (images are resized to 32x32)"},
        "bytes": {**count, "description": "stored size (counts against the quota)"},
        "sha256": text, "created_at": {"type": "string", "format": "date-time"},
        "preview": _object({
            "images": {"type": "array", "items": _object(
                {"label": text, "url": text}, required=["label", "url"])},
            "lines": {"type": "array", "items": _object(
                {"label": text, "text": text}, required=["label", "text"])},
        }, required=["images", "lines"]),
    }, required=["id", "name", "dataset", "kind", "modality", "title", "description",
                 "classes", "num_classes", "input_shape", "samples", "bytes", "sha256",
                 "created_at", "preview"])
    page = _object({
        "uploads": {"type": "array", "items": _ref("Upload")},
        "total": {"type": "integer"}, "page": {"type": "integer"},
        "per_page": {"type": "integer"},
        "quota": _object({"bytes": count, "used": count}, required=["bytes", "used"]),
    }, required=["uploads", "total", "page", "per_page", "quota"])
    return {"Upload": upload, "UploadPage": page}


def upload_parameters() -> dict[str, Schema]:
    return {
        "UploadId": {"name": "upload_id", "in": "path", "required": True,
                     "schema": {"type": "string"},
                     "description": f"{UPLOAD_ID.pattern} (another's is 404)"},
        "PreviewNumber": {"name": "number", "in": "path", "required": True,
                          "schema": {"type": "integer", "minimum": 0}},
        "UploadName": {"name": "name", "in": "query", "required": True,
                       "schema": {"type": "string", "minLength": 1, "maxLength": MAX_NAME,
                                  "pattern": "^[^\\u0000-\\u001f\\u007f]*[^\\s\\u0000-"
                                             "\\u001f\\u007f][^\\u0000-\\u001f\\u007f]*$"},
                       "description": "shown in lists; not blank, no control characters"},
    }
