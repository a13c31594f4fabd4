"""The web app's pure helpers: pages, limits, bearer headers, job JSON, listings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from onegin.artifacts import ArtifactInfo, content_type_of
from onegin.records import JobRecord, TokenRecord
from onegin.settings import load_settings
from webapp.downloads import bundle_members, listing
from webapp.limits import Limits, check_limits, limits_for
from webapp.pagination import MAX_PAGE, MAX_PER_PAGE, Page, parse_page
from webapp.serialize import job_json


@pytest.mark.parametrize(("args", "page", "errors"), [
    ({}, Page(1, 20), set()),
    ({"page": "3", "per_page": "50"}, Page(3, 50), set()),
    ({"page": str(MAX_PAGE), "per_page": str(MAX_PER_PAGE)}, Page(MAX_PAGE, MAX_PER_PAGE),
     set()),
    ({"page": "", "per_page": " 5"}, None, {"page", "per_page"}),  # an integer, or left out
    ({"page": str(MAX_PAGE + 1)}, None, {"page"}),
    ({"page": "0"}, None, {"page"}),
    ({"page": "x", "per_page": "0"}, None, {"page", "per_page"}),
    ({"per_page": str(MAX_PER_PAGE + 1)}, None, {"per_page"}),
    ({"perpage": "5"}, None, {"perpage"}),  # a typo is refused, not ignored
    ({"page": "2", "status": "done"}, None, {"status"}),  # a filter this list lacks
])
def test_parse_page(args: dict[str, str], page: Page | None, errors: set[str]) -> None:
    parsed, found = parse_page(args)
    assert parsed == page and set(found) == errors


def test_parse_page_takes_the_lists_own_filters_and_names_few_unknowns() -> None:
    assert parse_page({"status": "done"}, also=("status",)) == (Page(1, 20), {})
    _, errors = parse_page({f"x{i}": "" for i in range(100)} | {"y" * 100: ""})
    assert len(errors) == 5 and all("takes page, per_page" in r for r in errors.values())
    _, errors = parse_page({"y" * 100: ""})
    assert list(errors) == ["y" * 40]


def test_page_envelope() -> None:
    page = Page(3, 10)
    assert page.offset == 20
    assert page.envelope("jobs", [1], 21) == {"jobs": [1], "total": 21, "page": 3,
                                              "per_page": 10}


def _token(**limits: int | None) -> TokenRecord:
    values: dict[str, int | None] = {"max_trials": None, "max_epochs": None,
                                     "max_concurrency": None} | limits
    return TokenRecord(id="t1", name="n", created_at=datetime.now(UTC), revoked_at=None,
                       **values)


def test_limits_for_a_token_fall_back_to_the_settings() -> None:
    settings = load_settings(env={}, overrides={"limit_max_trials": 50,
                                                "limit_max_epochs": 9,
                                                "limit_max_concurrency": 3})
    assert limits_for(None, settings) == Limits(50, 9, 3)
    assert limits_for(_token(max_epochs=2), settings) == Limits(50, 2, 3)


def test_check_limits() -> None:
    limits = Limits(10, 5, 2)
    assert check_limits({"trials": 10, "epochs": 5, "concurrency": 2}, limits) == {}
    over = check_limits({"trials": 11, "epochs": "many"}, limits)
    assert set(over) == {"trials"} and over["trials"][1] == 10
    assert check_limits({}, Limits(4, 5, 2))["trials"][0].endswith("(the default is 8)")


def test_job_json_hides_the_owner() -> None:
    now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    job = JobRecord(id="j", owner="secret-owner", config={"trials": 4, "name": "n"},
                    status="queued", created_at=now, started_at=None, finished_at=None,
                    best_trial_number=None, best_score=None, best_accuracy=None, error=None,
                    orchestrator_heartbeat_at=None)
    data = job_json(job, {"completed": 1})
    assert "owner" not in data and data["budget"] == 4 and data["name"] == "n"
    assert data["created_at"] == "2025-01-02T03:04:05+00:00"


def test_listing_bundle_and_content_types() -> None:
    prefix = "jobs/j/best/"
    infos = [ArtifactInfo(prefix + name, 1, None, None) for name in
             ("model.keras", "best_hyperparameters.yaml", "metrics.json", "plots/a.png",
              "tensorboard/x", "notes.txt")]
    assert listing([*infos, ArtifactInfo("jobs/other/x", 1, None, None)], prefix)[0] == \
        {"name": "model.keras", "size": 1}
    assert len(listing(infos, prefix)) == len(infos)
    assert bundle_members(infos, prefix) == {
        name: prefix + name for name in
        ("best_hyperparameters.yaml", "metrics.json", "model.keras", "plots/a.png")}
    assert content_type_of("a/b.yaml") == "application/yaml"
    assert content_type_of("plots/x.png") == "image/png"
    assert content_type_of("model.keras") == "application/octet-stream"


def test_web_settings_are_validated_and_the_secret_key_masked() -> None:
    from onegin.errors import ConfigError

    settings = load_settings(env={"ONEGIN_AUTH": "Required", "ONEGIN_SECRET_KEY": "s3cr3t"})
    assert settings.auth == "required" and settings.secret_key == "s3cr3t"
    assert "s3cr3t" not in repr(settings) and settings.redacted()["secret_key"] == "***"
    for env, reason in ((("ONEGIN_AUTH", "maybe"), "auto, required, off"),
                        (("ONEGIN_WEB_PORT", "70000"), "TCP port"),
                        (("ONEGIN_TRUSTED_PROXIES", "-1"), "non-negative")):
        with pytest.raises(ConfigError) as caught:
            load_settings(env=dict([env]))
        assert caught.value.field == env[0] and reason in caught.value.reason
