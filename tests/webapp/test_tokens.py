"""The record store's API tokens, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from onegin.records import InvalidField, RecordNotFound, RecordStore, hash_secret


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
