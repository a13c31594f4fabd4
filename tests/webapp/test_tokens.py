"""The record store's API tokens and browser sessions, on SQLite and on PostgreSQL alike,
and the pure helpers behind them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from onegin.records import (
    TOKEN_LISTED,
    InvalidField,
    RecordNotFound,
    RecordStore,
    TokenRecord,
    hash_secret,
    resolve_token,
)
from onegin.records.tokens import USE_GRANULARITY, use_is_stale

HOUR = timedelta(hours=1)


@pytest.fixture
def store(records_db_url: str) -> Iterator[RecordStore]:
    records = RecordStore(records_db_url, upgrade=True)
    yield records
    records.close()


def test_create_find_list_revoke(store: RecordStore) -> None:
    token, secret = store.create_token("  alice ", max_trials=10)
    assert token.name == "alice" and token.active
    assert (token.max_trials, token.max_epochs, token.max_concurrency) == (10, None, None)
    assert store.find_token(secret) == token
    assert store.find_token(secret + "x") is None and store.find_token("") is None
    assert store.get_token(token.id) == token
    other, other_secret = store.create_token("bob")
    assert other_secret != secret and hash_secret(other_secret) != hash_secret(secret)
    assert [t.id for t in store.list_tokens()] == [token.id, other.id]
    revoked = store.revoke_token(token.id)
    assert not revoked.active and revoked.revoked_at is not None
    assert store.revoke_token(token.id).revoked_at == revoked.revoked_at  # idempotent
    assert store.find_token(secret) is None
    assert store.get_token(token.id) == revoked
    assert store.find_token(other_secret) == other


@pytest.mark.parametrize(("name", "limits", "field"), [
    ("", {}, "name"), ("x" * 256, {}, "name"), ("ok", {"max_trials": 0}, "max_trials"),
    ("ok", {"max_epochs": True}, "max_epochs"), ("ok", {"max_gpus": 1}, "max_gpus"),
])
def test_bad_tokens_are_refused(store: RecordStore, name: str, limits: dict[str, int],
                                field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        store.create_token(name, **limits)
    assert caught.value.field == field
    assert store.list_tokens() == []


def test_missing_tokens(store: RecordStore) -> None:
    with pytest.raises(RecordNotFound):
        store.get_token("nope")
    with pytest.raises(RecordNotFound):
        store.revoke_token("nope")


def test_counts_for_pages_and_totals(store: RecordStore) -> None:
    a = store.create_job({"trials": 2}).id
    b = store.create_job({"trials": 2}).id
    store.upsert_trial(a, 0, status="completed")
    store.upsert_trial(a, 1, status="running")
    store.upsert_trial(b, 0, status="completed")
    counts = store.trial_counts_for([a, b, "missing"])
    assert counts[a]["completed"] == 1 and counts[a]["running"] == 1
    assert counts[b]["completed"] == 1 and sum(counts["missing"].values()) == 0
    assert store.trial_counts_for([]) == {}
    jobs, trials = store.status_totals()
    assert jobs["queued"] == 2 and trials == {**dict.fromkeys(trials, 0), "completed": 2,
                                              "running": 1}


def test_admin_flag_and_listing(store: RecordStore) -> None:
    admin, _ = store.create_token("ops", admin=True)
    plain, _ = store.create_token("ci")
    assert admin.admin and not plain.admin
    assert store.get_token(admin.id).admin
    listed = store.list_tokens()[0].listing()
    assert tuple(listed) == TOKEN_LISTED
    assert listed["id"] == admin.id and listed["admin"] is True
    assert listed["last_used_at"] is None and listed["revoked_at"] is None
    with pytest.raises(InvalidField) as caught:
        store.create_token("x", admin="yes")  # type: ignore[arg-type]
    assert caught.value.field == "admin"


def test_last_use_is_written_at_most_once_a_minute(store: RecordStore) -> None:
    token, _ = store.create_token("ci")
    store.note_token_use(token)
    first = store.get_token(token.id).last_used_at
    assert first is not None and abs(datetime.now(UTC) - first) < HOUR
    store.note_token_use(store.get_token(token.id))  # within the minute: not rewritten
    assert store.get_token(token.id).last_used_at == first


def test_sessions_live_until_signed_out(store: RecordStore) -> None:
    token, _ = store.create_token("browser")
    one = store.create_session(token.id, HOUR)
    two = store.create_session(token.id, HOUR)
    assert one != two and len(one) >= 40
    assert store.session_token(one) == token and store.session_token(two) == token
    assert store.live_sessions([one, two, "nope", ""]) == {one, two}
    store.end_session(one)
    store.end_session(one)  # idempotent
    store.end_session("unknown")  # nothing to end: no error
    assert store.session_token(one) is None and store.session_token(two) == token
    assert store.live_sessions([one, two]) == {two}
    assert store.session_token("") is None and store.live_sessions([]) == set()


def test_sessions_store_only_a_hash(store: RecordStore, records_db_url: str) -> None:
    token, _ = store.create_token("browser")
    secret = store.create_session(token.id, HOUR)
    engine = sa.create_engine(records_db_url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT id FROM onegin_sessions")).scalars().all()
    finally:
        engine.dispose()
    assert stored == [hash_secret(secret)]


def test_expired_sessions_end_and_are_swept(store: RecordStore, records_db_url: str) -> None:
    token, _ = store.create_token("browser")
    expired = store.create_session(token.id, timedelta(0))
    assert store.session_token(expired) is None and store.live_sessions([expired]) == set()
    live = store.create_session(token.id, HOUR)  # a sign-in deletes expired sessions
    engine = sa.create_engine(records_db_url)
    try:
        with engine.connect() as conn:
            kept = conn.execute(sa.text("SELECT id FROM onegin_sessions")).scalars().all()
    finally:
        engine.dispose()
    assert kept == [hash_secret(live)]


def test_revoking_a_token_ends_its_sessions_only(store: RecordStore) -> None:
    token, _ = store.create_token("alice")
    other, _ = store.create_token("bob")
    mine = store.create_session(token.id, HOUR)
    theirs = store.create_session(other.id, HOUR)
    store.revoke_token(token.id)
    assert store.session_token(mine) is None
    assert store.live_sessions([mine, theirs]) == {theirs}
    assert store.active_token_ids([token.id, other.id, "nope"]) == {other.id}
    assert store.active_token_ids([]) == set()
    with pytest.raises(RecordNotFound):  # no new session for a revoked or unknown token
        store.create_session(token.id, HOUR)
    with pytest.raises(RecordNotFound):
        store.create_session("nope", HOUR)


# -- pure helpers ---------------------------------------------------------------------------

def test_use_is_stale() -> None:
    now = datetime.now(UTC)
    assert use_is_stale(None, now)
    assert not use_is_stale(now - USE_GRANULARITY + timedelta(seconds=1), now)
    assert use_is_stale(now - USE_GRANULARITY, now)


def _record(token_id: str, name: str, *, revoked: bool = False) -> TokenRecord:
    now = datetime.now(UTC)
    return TokenRecord(id=token_id, name=name, created_at=now,
                       revoked_at=now if revoked else None, max_trials=None,
                       max_epochs=None, max_concurrency=None)


def test_resolve_token_by_id_or_name() -> None:
    tokens = [_record("a1", "alice"), _record("b1", "bob", revoked=True), _record("b2", "bob"),
              _record("c1", "carol"), _record("c2", "carol"), _record("d1", "a1")]
    assert resolve_token(tokens, "a1").id == "a1"  # an id wins over a name
    assert resolve_token(tokens, " alice ").id == "a1"
    assert resolve_token(tokens, "bob").id == "b2"  # the one active token of that name
    with pytest.raises(InvalidField) as caught:
        resolve_token(tokens, "carol")
    assert "c1, c2" in caught.value.reason and "give the id" in caught.value.reason
    with pytest.raises(RecordNotFound):
        resolve_token(tokens, "dave")
