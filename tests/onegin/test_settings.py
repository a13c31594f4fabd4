"""Settings: the layers' order, validation that names the source, redaction, the docs."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from onegin.errors import ConfigError
from onegin.settings import (
    Settings,
    format_reference_table,
    load_settings,
    redact_url,
    settings_reference,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def _file(tmp_path: Path, data: Any, name: str = "onegin.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def test_defaults_live_under_an_absolute_home(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={})
    home = tmp_path / ".onegin"
    assert settings.home == home and settings.home.is_absolute()
    assert settings.database_url == f"sqlite:///{home}/onegin.db"
    assert settings.broker_url == "filesystem://" and settings.embedded
    assert settings.events_url == f"local://{home}/events"
    assert settings.artifacts_url == f"file://{home}/artifacts"
    assert (settings.s3_endpoint_url, settings.s3_region) == (None, "us-east-1")
    assert (settings.data_dir, settings.offline, settings.tf_threads) == (None, False, None)
    assert (settings.heartbeat_interval, settings.heartbeat_timeout) == (2.0, 30.0)


def test_each_layer_beats_the_one_before(tmp_path: Path) -> None:
    path = _file(tmp_path, {"heartbeat_timeout": 40, "s3_region": "eu-west-1",
                            "tf_threads": 2, "offline": True})
    env = {"ONEGIN_HEARTBEAT_TIMEOUT": "50", "ONEGIN_TF_THREADS": "3"}
    settings = load_settings(path, env=env, overrides={"heartbeat_timeout": 60})
    assert settings.heartbeat_timeout == 60  # override > env > file > default
    assert settings.tf_threads == 3  # env > file
    assert settings.s3_region == "eu-west-1" and settings.offline  # file > default
    assert settings.heartbeat_interval == 2.0  # default
    assert load_settings(path, env=env).heartbeat_timeout == 50
    assert load_settings(path, env={}).heartbeat_timeout == 40


def test_home_moves_the_derived_defaults_but_not_explicit_urls(tmp_path: Path) -> None:
    settings = load_settings(env={"ONEGIN_HOME": str(tmp_path / "h")})
    assert settings.database_url == f"sqlite:///{tmp_path}/h/onegin.db"
    assert settings.artifacts_url == f"file://{tmp_path}/h/artifacts"
    path = _file(tmp_path, {"home": str(tmp_path / "f"), "artifacts_url": "s3://bucket/runs"})
    settings = load_settings(path, env={}, overrides={"home": tmp_path / "o"})
    assert settings.home == tmp_path / "o"
    assert settings.events_url == f"local://{tmp_path}/o/events"
    assert settings.artifacts_url == "s3://bucket/runs"


def test_config_file_from_env_and_argument(tmp_path: Path) -> None:
    from_env = _file(tmp_path, {"s3_region": "ap-south-1"}, "env.yaml")
    from_arg = _file(tmp_path, {"s3_region": "sa-east-1"}, "arg.yaml")
    assert load_settings(env={"ONEGIN_CONFIG": str(from_env)}).s3_region == "ap-south-1"
    assert load_settings(from_arg, env={"ONEGIN_CONFIG": str(from_env)}).s3_region == "sa-east-1"
    assert load_settings(_file(tmp_path, "", "empty.yaml"), env={}).s3_region == "us-east-1"


def test_none_overrides_mean_not_given() -> None:
    settings = load_settings(env={"ONEGIN_S3_REGION": "eu-north-1"},
                             overrides={"s3_region": None, "tf_threads": None})
    assert settings.s3_region == "eu-north-1"


def test_distributed_urls_are_accepted() -> None:
    settings = load_settings(env={
        "ONEGIN_DATABASE_URL": "postgresql+psycopg2://onegin:pw@db:5432/onegin",
        "ONEGIN_BROKER_URL": "redis://:pw@redis:6379/0",
        "ONEGIN_EVENTS_URL": "rediss://redis:6380/1",
        "ONEGIN_ARTIFACTS_URL": "s3://onegin-artifacts/prod",
        "ONEGIN_S3_ENDPOINT_URL": "http://minio:9000",
        "ONEGIN_OFFLINE": "yes",
        "ONEGIN_DATA_DIR": "/data",
        "ONEGIN_TEST_POSTGRES_URL": "ignored", "ONEGIN_REQUIRE_SERVICES": "1",
        "PATH": "/usr/bin",
    })
    assert not settings.embedded
    assert (settings.offline, settings.data_dir) == (True, "/data")
    assert settings.s3_endpoint_url == "http://minio:9000"


@pytest.mark.parametrize(("name", "value", "reason"), [
    ("heartbeat_timeout", "abc", "must be a positive number, got 'abc'"),
    ("heartbeat_interval", "-1", "must be a positive number"),
    ("heartbeat_interval", "nan", "must be a positive number"),
    ("tf_threads", "0", "must be a positive integer, got '0'"),
    ("tf_threads", "1.5", "must be a positive integer"),
    ("offline", "maybe", "must be true or false"),
    ("database_url", "mysql://db/onegin", "must be a URL starting with one of sqlite://"),
    ("database_url", "sqlite://", "must name a path"),
    ("database_url", "postgresql+psycopg2:///onegin", "must name a host"),
    ("broker_url", "amqp://rabbit", "filesystem://, memory://, redis://, rediss://"),
    ("broker_url", "redis://", "must name a host"),
    ("events_url", "http://relay", "local://, redis://, rediss://"),
    ("artifacts_url", "s3://", "must name a bucket"),
    ("artifacts_url", "gs://bucket", "file://, s3://"),
    ("artifacts_url", "/plain/path", "must be a URL"),
    ("s3_endpoint_url", "ftp://minio", "http://, https://"),
    ("s3_region", " ", "must be a non-empty string"),
    ("home", "", "must be a non-empty string"),
])
def test_bad_values_name_where_they_came_from(tmp_path: Path, name: str, value: str,
                                              reason: str) -> None:
    env_var = f"ONEGIN_{name.upper()}"
    with pytest.raises(ConfigError, match=reason) as caught:
        load_settings(env={env_var: value})
    assert caught.value.field == env_var
    path = _file(tmp_path, {name: value})
    with pytest.raises(ConfigError, match=reason) as caught:
        load_settings(path, env={})
    assert caught.value.field == name and str(path) in caught.value.reason
    with pytest.raises(ConfigError, match=reason) as caught:
        load_settings(env={}, overrides={name: value})
    assert caught.value.field == name


@pytest.mark.parametrize(("name", "value"), [
    ("heartbeat_interval", True), ("tf_threads", 2.5), ("offline", 2), ("database_url", 5),
])
def test_typed_values_of_the_wrong_type_are_rejected(name: str, value: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env={}, overrides={name: value})
    assert caught.value.field == name


def test_heartbeat_timeout_must_exceed_the_interval(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"heartbeat_timeout \(2s\) must be greater") as caught:
        load_settings(env={"ONEGIN_HEARTBEAT_TIMEOUT": "2"})
    assert caught.value.field == "ONEGIN_HEARTBEAT_TIMEOUT"
    with pytest.raises(ConfigError) as caught:
        load_settings(env={}, overrides={"heartbeat_interval": 45})
    assert caught.value.field == "heartbeat_interval"


def test_unknown_names_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean ONEGIN_DATABASE_URL") as caught:
        load_settings(env={"ONEGIN_DATABSE_URL": "sqlite:///x.db"})
    assert caught.value.field == "ONEGIN_DATABSE_URL"
    with pytest.raises(ConfigError, match="unknown setting") as caught:
        load_settings(_file(tmp_path, {"brokr_url": "redis://r"}), env={})
    assert caught.value.field == "brokr_url"
    with pytest.raises(ConfigError, match="unknown setting") as caught:
        load_settings(env={}, overrides={"api_port": 8000})
    assert caught.value.field == "api_port"


@pytest.mark.parametrize(("content", "reason"), [
    ("- a\n- b\n", "must hold a mapping"),
    ("home: [unclosed\n", "is not valid YAML"),
])
def test_bad_files_are_rejected(tmp_path: Path, content: str, reason: str) -> None:
    path = _file(tmp_path, content)
    with pytest.raises(ConfigError, match=reason) as caught:
        load_settings(env={"ONEGIN_CONFIG": str(path)})
    assert caught.value.field == "ONEGIN_CONFIG"


def test_missing_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file") as caught:
        load_settings(tmp_path / "absent.yaml", env={})
    assert caught.value.field == "config_file"


def test_credentials_are_redacted() -> None:
    settings = load_settings(env={
        "ONEGIN_DATABASE_URL": "postgresql+psycopg2://onegin:s3cret@db/onegin",
        "ONEGIN_BROKER_URL": "redis://:hunter2@redis:6379/0",
        "ONEGIN_EVENTS_URL": "redis://redis:6379/1?password=tok3n",
    })
    shown = settings.redacted()
    assert shown["database_url"] == "postgresql+psycopg2://onegin:***@db/onegin"
    assert shown["broker_url"] == "redis://:***@redis:6379/0"
    assert shown["events_url"] == "redis://redis:6379/1?password=***"
    assert isinstance(shown["home"], str)
    for text in (str(shown), repr(settings), str(settings)):
        assert not any(secret in text for secret in ("s3cret", "hunter2", "tok3n"))
    assert settings.database_url.endswith(":s3cret@db/onegin")  # the real value is intact


@pytest.mark.parametrize("url", ["sqlite:////abs/onegin.db", "file:///srv/artifacts",
                                 "s3://bucket/prefix", "filesystem://", "redis://r:6379/0"])
def test_urls_without_credentials_pass_unchanged(url: str) -> None:
    assert redact_url(url) == url


def test_settings_are_frozen() -> None:
    settings = load_settings(env={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.offline = True  # type: ignore[misc]


def test_reference_covers_every_field_in_order() -> None:
    reference = settings_reference()
    assert [item["name"] for item in reference] == [f.name for f in dataclasses.fields(Settings)]
    for item in reference:
        assert set(item) == {"name", "env", "default", "description"}
        assert item["env"] == f"ONEGIN_{item['name'].upper()}" and item["description"]


def test_the_doc_lists_every_setting() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for item in settings_reference():
        assert f"`{item['name']}`" in doc and f"`{item['env']}`" in doc
    assert format_reference_table() in doc, (
        "docs/configuration.md is out of date: paste the output of "
        "`python -m onegin.settings` into its table")
