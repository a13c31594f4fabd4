"""Check real responses against the OpenAPI document's schemas (documented = served)."""

from __future__ import annotations

from functools import cache
from typing import Any

from openapi_schema_validator import OAS31Validator

from webapp.openapi import document


@cache
def _document() -> dict[str, Any]:
    return document()


def assert_documented(path: str, method: str, status: int, data: Any) -> None:
    """``data`` (a JSON body) matches what the document says ``method path`` answers."""
    doc = _document()
    responses = doc["paths"][path][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {path} does not document {status}"
    response = responses[str(status)]
    if "$ref" in response:
        response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema = response["content"]["application/json"]["schema"]
    root = {"allOf": [schema], "components": doc["components"]}  # so '#/components/…' resolves
    OAS31Validator(root).validate(data)
