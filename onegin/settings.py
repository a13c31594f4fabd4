"""Layered settings: defaults, then a YAML file, then ``ONEGIN_*`` variables, then overrides.

Every setting is one field of `Settings` whose metadata holds its default, its
description, its environment variable and its parser, so the docs
(`settings_reference`) and the validation cannot drift from the code. A bad value
is rejected at load naming where it came from: the environment variable, the file
key, or the override's field name. Each setting also names the roles (kinds of
process) that read it: a process we start gets only its role's settings
(`role_settings`), so no worker ever holds the web's session key. Pure apart
from reading the file.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import yaml

from onegin.errors import ConfigError
from onegin.outages import DEFAULT_OUTAGE_LIMIT

ENV_PREFIX = "ONEGIN_"
CONFIG_ENV = "ONEGIN_CONFIG"
# ONEGIN_* variables that are not settings: the file's path and test-harness knobs.
NON_SETTING_ENV: frozenset[str] = frozenset({CONFIG_ENV, "ONEGIN_REQUIRE_SERVICES"})
NON_SETTING_ENV_PREFIXES: tuple[str, ...] = ("ONEGIN_TEST_",)
_SECRET_QUERY_KEYS = ("password", "secret", "token", "key")
_MASK = "***"

Parser = Callable[[Any], Any]  # returns the typed value or raises ValueError(reason)


@dataclass(frozen=True)
class FromHome:
    """A default computed from the final ``home``; shown in the docs as its template."""

    template: str

    def resolve(self, home: Path) -> str:
        return self.template.format(home=home)


class Role(StrEnum):
    """A kind of Onegin process (named as deploy/entrypoint.sh names it)."""

    WEB = "web"
    ORCHESTRATOR = "orchestrator"
    GPU_WORKER = "gpu-worker"
    SCALER = "scaler"


WEB, ORCHESTRATOR, GPU_WORKER, SCALER = Role
EVERY = frozenset(Role)


def setting(default: Any, description: str, parse: Parser, *, roles: Collection[Role],
            env: str | None = None, secret: bool = False) -> dict[str, Any]:
    """One setting's metadata; the environment variable defaults to ONEGIN_<NAME>.

    ``roles`` are the processes that read it: an allow-list, so a new setting
    reaches a worker only when it says so. A ``secret`` setting is masked by
    `Settings.redacted` (and so in ``repr``)."""
    return {"default": default, "description": description, "parse": parse, "env": env,
            "secret": secret, "roles": frozenset(roles)}


# -- parsers: each returns the typed value or raises ValueError with the reason ----------

def _got(value: Any) -> str:
    return f"got {value!r}"


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a non-empty string, {_got(value)}")
    return value.strip()


def _path(value: Any) -> Path:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    return Path(os.path.abspath(os.path.expanduser(_text(value))))


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, str | int) else None
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"must be true or false (1/0, yes/no, on/off), {_got(value)}")


def _number(value: Any, kind: type[int] | type[float]) -> int | float:
    if isinstance(value, bool):
        raise ValueError(_got(value))
    if isinstance(value, str):
        try:
            return kind(value.strip())
        except ValueError:
            raise ValueError(_got(value)) from None
    if kind is int and isinstance(value, int):
        return value
    if kind is float and isinstance(value, int | float):
        return float(value)
    raise ValueError(_got(value))


def _positive_int(value: Any) -> int:
    try:
        number = int(_number(value, int))
    except ValueError:
        raise ValueError(f"must be a positive integer, {_got(value)}") from None
    if number < 1:
        raise ValueError(f"must be a positive integer, {_got(value)}")
    return number


def _positive_float(value: Any) -> float:
    try:
        number = float(_number(value, float))
    except ValueError:
        raise ValueError(f"must be a positive number, {_got(value)}") from None
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"must be a positive number, {_got(value)}")
    return number


def _non_negative_int(value: Any) -> int:
    try:
        number = int(_number(value, int))
    except ValueError:
        raise ValueError(f"must be a non-negative integer, {_got(value)}") from None
    if number < 0:
        raise ValueError(f"must be a non-negative integer, {_got(value)}")
    return number


def _non_negative_float(value: Any) -> float:
    try:
        number = float(_number(value, float))
    except ValueError:
        raise ValueError(f"must be a number of 0 or more, {_got(value)}") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"must be a number of 0 or more, {_got(value)}")
    return number


def _port(value: Any) -> int:
    number = _positive_int(value)
    if number > 65535:
        raise ValueError(f"must be a TCP port (1-65535), {_got(value)}")
    return number


def _choice(*choices: str) -> Parser:
    def parse_choice(value: Any) -> str:
        text = value.strip().lower() if isinstance(value, str) else value
        if text not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}, {_got(value)}")
        return str(text)

    return parse_choice


def _optional(parse: Parser) -> Parser:
    """``None`` or an empty string means unset."""

    def parse_optional(value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return parse(value)

    return parse_optional


def _url(**schemes: str | None) -> Parser:
    """A URL whose scheme is one of ``schemes``; each maps to what it needs:
    ``"path"`` (scheme:///a/path), ``"host"`` (scheme://host…), ``"bucket"`` or nothing."""
    spelled = ", ".join(f"{s.replace('_', '+')}://" for s in schemes)

    def parse_url(value: Any) -> str:
        url = _text(value)
        parts = urlsplit(url)
        scheme = parts.scheme.lower().replace("+", "_")
        if "://" not in url or scheme not in schemes:
            raise ValueError(f"must be a URL starting with one of {spelled}; got {url!r}")
        needs = schemes[scheme]
        if needs == "path" and (parts.netloc or parts.path in ("", "/")):
            raise ValueError(f"must name a path as {parts.scheme}:///path, got {url!r}")
        if needs == "host" and not parts.hostname:
            raise ValueError(f"must name a host as {parts.scheme}://host, got {url!r}")
        if needs == "bucket" and not parts.netloc:
            raise ValueError(f"must name a bucket as {parts.scheme}://bucket/prefix, got {url!r}")
        return url

    return parse_url


@dataclass(frozen=True, repr=False)
class Settings:
    """Where everything lives. Build with `load_settings`; print `redacted()`, never URLs."""

    home: Path = field(metadata=setting(
        "./.onegin", "Directory for embedded-mode files (SQLite database, broker folders, "
        "events, artifacts); made absolute at load.", _path,
        roles=EVERY))
    database_url: str = field(metadata=setting(
        FromHome("sqlite:///{home}/onegin.db"),
        "Job/trial records and the Optuna studies: sqlite:///file or "
        "postgresql+psycopg2://user:password@host/db.",
        _url(sqlite="path", postgresql="host", postgresql_psycopg2="host"),
        roles={WEB, ORCHESTRATOR}))
    broker_url: str = field(metadata=setting(
        "filesystem://", "Celery broker: filesystem:// (embedded, folders under home/broker), "
        "redis://, rediss:// or memory:// (one process, tests).",
        _url(filesystem=None, memory=None, redis="host", rediss="host"),
        roles=EVERY))
    events_url: str = field(metadata=setting(
        FromHome("local://{home}/events"),
        "Progress event bus: local:///dir (embedded) or redis:// / rediss://.",
        _url(local="path", redis="host", rediss="host"),
        roles=EVERY))
    artifacts_url: str = field(metadata=setting(
        FromHome("file://{home}/artifacts"),
        "Artifact store: file:///dir or s3://bucket/prefix.",
        _url(file="path", s3="bucket"),
        roles=EVERY))
    s3_endpoint_url: str | None = field(metadata=setting(
        None, "S3-protocol endpoint for MinIO or moto (http(s)://host:port); unset means AWS.",
        _optional(_url(http="host", https="host")),
        roles=EVERY))
    s3_region: str = field(metadata=setting(
        "us-east-1", "Region name given to the S3 client.", _text,
        roles=EVERY))
    data_dir: str | None = field(metadata=setting(
        None, "Offline dataset directory searched before any download.", _optional(_text),
        roles={ORCHESTRATOR, GPU_WORKER}))
    upload_cache_dir: Path = field(metadata=setting(
        FromHome("{home}/upload-cache"), "Where a GPU worker keeps the uploaded datasets it "
        "fetched from the artifact store, one folder per content sha256.", _path,
        roles={GPU_WORKER}))
    offline: bool = field(metadata=setting(
        False, "Never download datasets (1/0, true/false).", _bool,
        roles={GPU_WORKER}))
    tf_threads: int | None = field(metadata=setting(
        None, "TensorFlow intra/inter-op threads per worker process; unset lets "
        "TensorFlow choose.", _optional(_positive_int),
        roles={GPU_WORKER}))
    heartbeat_interval: float = field(metadata=setting(
        2.0, "Seconds between a worker's heartbeats for its running trial.", _positive_float,
        roles={ORCHESTRATOR, GPU_WORKER, SCALER}))
    heartbeat_timeout: float = field(metadata=setting(
        30.0, "Seconds without a heartbeat after which a running trial counts as lost; "
        "must exceed heartbeat_interval.", _positive_float,
        roles=EVERY))
    outage_limit: float = field(metadata=setting(
        DEFAULT_OUTAGE_LIMIT, "Seconds an outage of Redis, the database or the artifact "
        "store is ridden out (reconnecting with backoff, then resuming from the records) "
        "before the jobs it holds up fail, each with an error naming the service.",
        _positive_float, roles={ORCHESTRATOR, GPU_WORKER, SCALER}))
    shutdown_grace: float = field(metadata=setting(
        10.0, "Seconds a GPU worker told to stop (SIGTERM) lets its running trial go on, "
        "when the trial's progress says it will finish within them; otherwise, or once "
        "they pass, training stops at the next batch and the trial is handed back to be "
        "re-run at once. Keep it well under the platform's kill deadline (Kubernetes: 30s).",
        _non_negative_float,
        roles={GPU_WORKER, WEB}))
    trial_retries: int = field(metadata=setting(
        0, "Times a trial that failed by itself (bad data, out of memory, an invalid model, "
        "a NaN loss, any error of its own) is re-run with the same parameters before it "
        "counts as failed for good.", _non_negative_int, roles={ORCHESTRATOR}))
    lost_retries: int = field(metadata=setting(
        3, "Times a trial lost to the infrastructure (its worker died, stopped heart-beating "
        "or could not reach a service) is re-run with the same parameters; one more loss "
        "fails it for good.", _non_negative_int, roles={ORCHESTRATOR}))
    failure_streak: int = field(metadata=setting(
        3, "A job whose last this-many trials all failed for good stops as failed, naming "
        "the last error (lost trials that are re-run do not count).", _positive_int,
        roles={ORCHESTRATOR}))
    worker_wait_timeout: float | None = field(metadata=setting(
        None, "Seconds a job may wait with trials sent and no worker starting any before it "
        "fails saying no worker took them; unset: it waits for as long as it takes (and "
        "says so).", _optional(_positive_float), roles={ORCHESTRATOR}))
    log_level: str = field(metadata=setting(
        "info", "Lowest level logged: debug, info, warning, error or critical.",
        _choice("debug", "info", "warning", "error", "critical"),
        roles=EVERY))
    log_format: str = field(metadata=setting(
        "auto", "Log lines as text or json (one object per line with ts, level, logger, "
        "message, process, job_id, trial); auto: text on a terminal, json elsewhere.",
        _choice("auto", "text", "json"),
        roles=EVERY))
    log_file: Path | None = field(metadata=setting(
        None, "Write logs to this file (rotated by size) instead of stderr; unset: stderr.",
        _optional(_path),
        roles=EVERY))
    log_max_bytes: int = field(metadata=setting(
        10_485_760, "Size in bytes at which log_file is rotated.", _positive_int,
        roles=EVERY))
    log_backups: int = field(metadata=setting(
        5, "Rotated log files kept (log_file.1 is the newest).", _positive_int,
        roles=EVERY))
    web_host: str = field(metadata=setting(
        "127.0.0.1", "Address `onegin web` listens on; with auth=auto it also decides whether "
        "sign-in is required (anything but loopback requires it).", _text,
        roles={WEB}))
    web_port: int = field(metadata=setting(
        8000, "TCP port `onegin web` listens on.", _port,
        roles={WEB}))
    auth: str = field(metadata=setting(
        "auto", "Web API access: required (an API token on every request), off (open), or "
        "auto (required unless web_host is loopback: 127.0.0.1, ::1 or localhost).",
        _choice("auto", "required", "off"),
        roles={WEB}))
    secret_key: str | None = field(metadata=setting(
        None, "Signs the web session cookies; give every web replica the same one. Unset: a "
        "random key kept in {home}/web-secret-key.", _optional(_text), secret=True,
        roles={WEB}))
    session_hours: float = field(metadata=setting(
        12.0, "Hours a browser session (sign-in cookie) stays valid.", _positive_float,
        roles={WEB}))
    session_check_interval: float = field(metadata=setting(
        2.0, "Seconds between a web process's checks that its Socket.IO clients' tokens and "
        "sessions still hold: a client of a revoked token or a signed-out session is "
        "disconnected within this time (at once by the process that revoked it).",
        _positive_float, roles={WEB}))
    trusted_proxies: int = field(metadata=setting(
        0, "Reverse proxies in front of the web app whose X-Forwarded-* headers are trusted "
        "(HTTPS detection for Secure cookies); 0 trusts none.", _non_negative_int,
        roles={WEB}))
    max_request_bytes: int = field(metadata=setting(
        1_048_576, "Largest web request body accepted, in bytes (larger: 413).", _positive_int,
        roles={WEB}))
    upload_max_bytes: int = field(metadata=setting(
        104_857_600, "Largest dataset upload accepted, in bytes (larger: 413); a zip may "
        "unpack to at most 4 times this.", _positive_int,
        roles={WEB}))
    upload_quota_bytes: int = field(metadata=setting(
        1_073_741_824, "Bytes of uploaded datasets one API token may keep stored (beyond it "
        "an upload is refused naming the quota).", _positive_int,
        roles={WEB}))
    limit_max_trials: int = field(metadata=setting(
        500, "Most trials one web job may ask for, unless the token has its own limit.",
        _positive_int,
        roles={WEB}))
    limit_max_epochs: int = field(metadata=setting(
        100, "Most epochs per trial a web job may ask for, unless the token has its own limit.",
        _positive_int,
        roles={WEB}))
    limit_max_concurrency: int = field(metadata=setting(
        8, "Most trials at once a web job may ask for, unless the token has its own limit.",
        _positive_int,
        roles={WEB}))
    runpod_api_key: str | None = field(metadata=setting(
        None, "RunPod API key for `onegin scale runpod` (sent as a Bearer token); needed only "
        "by the scaler, never by a pod.", _optional(_text), secret=True,
        roles={SCALER}))
    runpod_api_url: str = field(metadata=setting(
        "https://rest.runpod.io/v1", "RunPod REST API base URL (a stand-in's URL in tests).",
        _url(http="host", https="host"),
        roles={SCALER}))
    runpod_pod_template: str | None = field(metadata=setting(
        None, "JSON pod template the scaler creates GPU-worker pods from "
        "(see deploy/runpod/pod-template.json).", _optional(_text),
        roles={SCALER}))
    runpod_name_prefix: str = field(metadata=setting(
        "onegin-gpu", "Name prefix of the pods the scaler creates (onegin-gpu-3f9c01ab7e: "
        "prefix, dash, 10 hex digits); it counts and terminates no other pods.", _text,
        roles={SCALER}))
    runpod_min_pods: int = field(metadata=setting(
        0, "Fewest GPU-worker pods the scaler keeps, busy or not.", _non_negative_int,
        roles={SCALER}))
    runpod_max_pods: int = field(metadata=setting(
        4, "Most GPU-worker pods the scaler runs at once; at least runpod_min_pods.",
        _positive_int,
        roles={SCALER}))
    runpod_idle_timeout: float = field(metadata=setting(
        600.0, "Seconds a pod's worker must have been idle (no trial) before the scaler "
        "terminates it.", _positive_float,
        roles={SCALER}))
    runpod_stuck_timeout: float = field(metadata=setting(
        900.0, "Seconds a pod may go without its worker answering (never started, or hung) "
        "before the scaler replaces it.", _positive_float,
        roles={SCALER}))
    runpod_interval: float = field(metadata=setting(
        30.0, "Seconds between the scaler's reconcile steps.", _positive_float,
        roles={SCALER}))

    @property
    def embedded(self) -> bool:
        """True when Celery runs on the filesystem transport (no servers)."""
        return urlsplit(self.broker_url).scheme == "filesystem"

    def redacted(self) -> dict[str, Any]:
        """Every setting, JSON-friendly, with credentials in URLs masked: safe to log."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.metadata["secret"] and value is not None:
                value = _MASK
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, str) and "://" in value:
                value = redact_url(value)
            out[f.name] = value
        return out

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.redacted().items())
        return f"Settings({inner})"


def redact_url(url: str) -> str:
    """Mask the password (and secret-looking query values) of a URL; others pass unchanged."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    secret_query = any(_is_secret(k) for k, _ in pairs)
    if parts.password is None and not secret_query:
        return url
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, hostport = netloc.rpartition("@")
        netloc = f"{userinfo.split(':', 1)[0]}:{_MASK}@{hostport}"
    query = parts.query
    if secret_query:
        query = urlencode([(k, _MASK if _is_secret(k) else v) for k, v in pairs], safe="*")
    # Rebuilt by hand: urlunsplit drops the empty netloc of sqlite:///path.
    out = f"{parts.scheme}://{netloc}{parts.path}"
    out += f"?{query}" if query else ""
    return out + (f"#{parts.fragment}" if parts.fragment else "")


def _is_secret(query_key: str) -> bool:
    return any(word in query_key.lower() for word in _SECRET_QUERY_KEYS)


def env_name(name: str) -> str:
    """The environment variable of setting ``name``."""
    meta = _FIELDS[name].metadata
    return meta["env"] or ENV_PREFIX + name.upper()


_FIELDS = {f.name: f for f in fields(Settings)}
_BY_ENV = {env_name(name): name for name in _FIELDS}


def role_settings(role: Role) -> tuple[str, ...]:
    """The names of the settings a process of ``role`` reads, in field order."""
    return tuple(name for name, f in _FIELDS.items() if role in f.metadata["roles"])


def _unknown(what: str, known: list[str]) -> str:
    close = difflib.get_close_matches(what, known, n=1)
    hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(known)}"
    return f"unknown setting; {hint}"


def _read_file(path: Path, source: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        reason = f"cannot read config file {str(path)!r}: {exc.strerror}"
        raise ConfigError(source, reason) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(source, f"{str(path)!r} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(source, f"{str(path)!r} must hold a mapping of setting to value")
    return {str(k): v for k, v in data.items()}


def load_settings(
    config_file: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Defaults, then the YAML file, then ``ONEGIN_*`` variables, then ``overrides``.

    ``config_file`` defaults to ``$ONEGIN_CONFIG``; ``env`` to ``os.environ``.
    ``overrides`` are keyed by field name; a ``None`` value means "not given" (an
    unset CLI flag). Unknown keys and unknown ``ONEGIN_*`` variables are rejected.
    """
    environ = os.environ if env is None else env
    # name -> (value, what to call it in an error, suffix for the reason)
    given: dict[str, tuple[Any, str, str]] = {}

    file_source = "config_file"
    if config_file is None and environ.get(CONFIG_ENV):
        config_file, file_source = environ[CONFIG_ENV], CONFIG_ENV
    if config_file is not None:
        path = Path(config_file).expanduser()
        for key, value in _read_file(path, file_source).items():
            if key not in _FIELDS:
                raise ConfigError(key, f"{_unknown(key, list(_FIELDS))} (in {str(path)!r})")
            given[key] = (value, key, f" (in {str(path)!r})")

    for var in sorted(environ):
        if not var.startswith(ENV_PREFIX) or var in NON_SETTING_ENV:
            continue
        if var.startswith(NON_SETTING_ENV_PREFIXES):
            continue
        if var not in _BY_ENV:
            raise ConfigError(var, _unknown(var, sorted(_BY_ENV)))
        given[_BY_ENV[var]] = (environ[var], var, "")

    for key, value in (overrides or {}).items():
        if key not in _FIELDS:
            raise ConfigError(key, _unknown(key, list(_FIELDS)))
        if value is not None:
            given[key] = (value, key, "")

    def parse(name: str, home: Path | None) -> Any:
        meta = _FIELDS[name].metadata
        value, source, suffix = given.get(name, (meta["default"], name, " (the default)"))
        if isinstance(value, FromHome):
            assert home is not None
            value = value.resolve(home)
        try:
            return meta["parse"](value)
        except ValueError as exc:
            raise ConfigError(source, f"{exc}{suffix}") from None

    home = parse("home", None)
    values = {name: parse(name, home) for name in _FIELDS}
    if values["heartbeat_timeout"] <= values["heartbeat_interval"]:
        name = "heartbeat_timeout" if "heartbeat_timeout" in given else "heartbeat_interval"
        source = given[name][1] if name in given else name
        raise ConfigError(source, (
            f"heartbeat_timeout ({values['heartbeat_timeout']:g}s) must be greater than "
            f"heartbeat_interval ({values['heartbeat_interval']:g}s)"))
    if values["runpod_max_pods"] < values["runpod_min_pods"]:
        name = "runpod_max_pods" if "runpod_max_pods" in given else "runpod_min_pods"
        source = given[name][1] if name in given else name
        raise ConfigError(source, (
            f"runpod_max_pods ({values['runpod_max_pods']}) must be at least "
            f"runpod_min_pods ({values['runpod_min_pods']})"))
    return Settings(**values)


def settings_reference() -> list[dict[str, Any]]:
    """Name, environment variable, default and description of every setting, in order."""
    out = []
    for name, f in _FIELDS.items():
        default = f.metadata["default"]
        if isinstance(default, FromHome):
            default = default.template
        elif isinstance(default, bool):
            default = str(default).lower()
        out.append({"name": name, "env": env_name(name),
                    "default": None if default is None else str(default),
                    "description": f.metadata["description"]})
    return out


def format_reference_table() -> str:
    """The Markdown table that docs/configuration.md embeds (a test keeps them equal)."""
    rows = ["| setting | environment variable | default | description |",
            "|---|---|---|---|"]
    for item in settings_reference():
        default = "unset" if item["default"] is None else f"`{item['default']}`"
        rows.append(f"| `{item['name']}` | `{item['env']}` | {default} | "
                    f"{item['description']} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(format_reference_table(), end="")
