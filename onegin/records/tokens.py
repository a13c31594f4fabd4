"""API token and browser-session secrets: made here, shown once, stored only as a hash.

Pure. A secret is 32 random bytes (URL-safe text) behind a recognisable prefix,
so a leaked one is easy to grep for; the database keeps its sha256, which is
enough because the secret itself is random (no dictionary to attack), and a
lookup by hash leaks nothing through timing. Session secrets live only in the
signed session cookie and are stored hashed the same way.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from onegin.records.errors import InvalidField, RecordNotFound
from onegin.records.values import TokenRecord

TOKEN_PREFIX = "ogn_"
TOKEN_BYTES = 32
SESSION_BYTES = 32
LIMIT_FIELDS: tuple[str, ...] = ("max_trials", "max_epochs", "max_concurrency")
# A token's last use is written at most once per this long: one write per request
# would make every read a write.
USE_GRANULARITY = timedelta(minutes=1)


def new_secret() -> str:
    """A fresh token secret, e.g. ``ogn_3q2…``: show it once, store `hash_secret` of it."""
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def hash_secret(secret: str) -> str:
    """The hex sha256 the store keeps and looks tokens up by."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_session_secret() -> str:
    """A fresh browser-session secret (kept in the signed cookie; the store keeps its hash)."""
    return secrets.token_urlsafe(SESSION_BYTES)


def use_is_stale(last_used_at: datetime | None, now: datetime) -> bool:
    """Should a use at ``now`` be written down (the last one written is a minute old)?"""
    return last_used_at is None or now - last_used_at >= USE_GRANULARITY


def resolve_token(tokens: Sequence[TokenRecord], key: str) -> TokenRecord:
    """The token ``key`` names: its id, else its name (names need not be unique).

    A name shared by several tokens names the one active token among them; otherwise
    it is ambiguous and `InvalidField` lists their ids, so a revoke never guesses.
    """
    key = key.strip()
    for token in tokens:
        if token.id == key:
            return token
    named = [t for t in tokens if t.name == key]
    if len(named) > 1:
        named = [t for t in named if t.active] or named
    if not named:
        raise RecordNotFound("token", key)
    if len(named) > 1:
        ids = ", ".join(t.id for t in named)
        raise InvalidField("token", f"the name {key!r} is shared by tokens {ids}; give the id")
    return named[0]
