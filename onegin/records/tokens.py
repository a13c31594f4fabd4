"""API token secrets: made here, shown once, stored only as a hash.

Pure. A secret is 32 random bytes (URL-safe text) behind a recognisable prefix,
so a leaked one is easy to grep for; the database keeps its sha256, which is
enough because the secret itself is random (no dictionary to attack), and a
lookup by hash leaks nothing through timing.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "ogn_"
TOKEN_BYTES = 32
LIMIT_FIELDS: tuple[str, ...] = ("max_trials", "max_epochs", "max_concurrency")


def new_secret() -> str:
    """A fresh token secret, e.g. ``ogn_3q2…``: show it once, store `hash_secret` of it."""
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def hash_secret(secret: str) -> str:
    """The hex sha256 the store keeps and looks tokens up by."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
