"""Artifact downloads: path-safe keys, streamed bodies, and zips (the best model's bundle,
a job's TensorBoard logs).

Every name from a URL is joined to a prefix the server chose and checked with
`validate_key(..., within=prefix)`, so ``..``, absolute paths and other jobs'
keys are refused (404) before any store is touched. Responses are sandboxed
(CSP) and never sniffed, so an artifact can never run script in our origin.
"""

from __future__ import annotations

import posixpath
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from typing import IO

from flask import Response, send_file

from onegin.artifacts import (
    ArtifactInfo,
    ArtifactStore,
    InvalidArtifactKey,
    content_type_of,
    validate_key,
)
from webapp.errors import ApiError

BUNDLE_SPOOL_BYTES = 32 * 1024 * 1024  # zip in memory up to this, then on disk
# What the best-model bundle holds: the model, its YAML, the JSON files at the top, plots.
BUNDLE_TOP_LEVEL = (".keras", ".yaml", ".json")


def safe_key(prefix: str, name: str) -> str:
    """``prefix + name`` if it stays inside ``prefix``; otherwise 404, never a 500."""
    try:
        return validate_key(prefix + name, within=prefix)
    except InvalidArtifactKey:
        raise ApiError(404, "artifact not found") from None


def listing(infos: Iterable[ArtifactInfo], prefix: str) -> list[dict[str, object]]:
    """``[{"name", "size"}]`` relative to ``prefix``, skipping anything outside it."""
    return [{"name": info.key[len(prefix):], "size": info.size}
            for info in infos if info.key.startswith(prefix) and len(info.key) > len(prefix)]


SANDBOX = "sandbox; default-src 'none'; img-src 'self'"
# a comparison's report: still no script, but its own inline styles and embedded plots
REPORT_SANDBOX = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"


def _harden(response: Response, policy: str = SANDBOX) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = policy
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


def send_artifact(store: ArtifactStore, key: str, *, attachment: bool = False,
                  download_name: str | None = None, policy: str = SANDBOX) -> Response:
    """Stream ``key`` with the content type of its extension (ArtifactNotFound: 404)
    under the content security ``policy``."""
    stream = store.open(key)
    response = send_file(stream, mimetype=content_type_of(key), as_attachment=attachment,
                         download_name=download_name or posixpath.basename(key),
                         conditional=False, etag=False)
    return _harden(response, policy)


def bundle_members(infos: Iterable[ArtifactInfo], prefix: str) -> dict[str, str]:
    """The bundle's names (relative to ``prefix``) -> keys: top-level model/YAML/JSON files
    and everything under plots/."""
    members = {}
    for info in infos:
        name = info.key[len(prefix):]
        if name.startswith("plots/") or ("/" not in name and name.endswith(BUNDLE_TOP_LEVEL)):
            members[name] = info.key
    return dict(sorted(members.items()))


def send_bundle(store: ArtifactStore, members: Mapping[str, str], download_name: str
                ) -> Response:
    """A zip of ``members`` (name in the zip -> key), spooled so big models do not sit
    in memory; models and PNGs are already compressed, so they are stored."""
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (send_file closes it)
        max_size=BUNDLE_SPOOL_BYTES)
    try:
        with zipfile.ZipFile(spool, "w") as archive:
            for name, key in members.items():
                member = zipfile.ZipInfo(name)
                member.external_attr = 0o644 << 16
                member.compress_type = (zipfile.ZIP_STORED
                                        if member.filename.endswith((".keras", ".png"))
                                        else zipfile.ZIP_DEFLATED)
                with store.open(key) as source, archive.open(member, "w") as target:
                    while chunk := source.read(1 << 20):
                        target.write(chunk)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    response = send_file(spool, mimetype="application/zip", as_attachment=True,
                         download_name=download_name, conditional=False, etag=False)
    return _harden(response)
