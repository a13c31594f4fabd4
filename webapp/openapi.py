"""The OpenAPI 3.1 document of the REST API, served at ``/api/v1/openapi.json``.

Written by hand as data, next to the code it describes, from the same constants
the server validates with, so the two cannot drift: a job request field's schema
comes with its check (`onegin.job_config.FIELD_CHECKS`). tests/webapp checks that its
paths and methods are exactly the app's routes, that it is a valid OpenAPI
document, and a fuzzer (schemathesis) that the server answers as it says. A
server's own limits and auth mode go in (`document(limits, auth_required=…)`).
Rules JSON Schema cannot state (weights summing to 1, which parameters a
dataset's models have) are in the descriptions.
"""

from __future__ import annotations

import re
from typing import Any

from onegin.compare_config import COMPARE_CHECKS, DEFAULT_TRIALS, RUN_FIELDS
from onegin.datasets import DATASETS
from onegin.holdout import CORRUPTIONS, HOLDOUT_KEYS, SEVERITIES
from onegin.job_config import FIELD_CHECKS, JOB_ID_PATTERN, LEGACY_FIELDS, MAX_INITIAL
from onegin.job_kinds import JOB_KINDS
from onegin.records.store import TRIAL_NUMBER_MAX
from onegin.records.trial_columns import FIXED_COLUMNS, NUMERIC_FIXED, PARAM_NAME, PARAM_PREFIX
from onegin.scoring import HEALTH_COMPONENTS, OBJECTIVES
from onegin.search_space import MODALITIES, SPACE_NAMES, space_for
from onegin.statuses import JOB_STATUSES, TRIAL_STATUSES
from onegin.tensorboard.selection import NUMBERS_PATTERN
from onegin.uploads.catalogue import UPLOAD_ID
from webapp.analysis import CURVES_SHOWN, TRIALS_SHOWN
from webapp.job_query import MAX_TEXT
from webapp.limits import LIMITED_FIELDS, Limits
from webapp.pagination import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE

API = "/api/v1"
Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, **extra: Any) -> Schema:
    return {"type": [kind, "null"], **extra}


def _object(properties: dict[str, Schema], *, required: list[str] | None = None,
            additional: bool | Schema = False, **extra: Any) -> Schema:
    schema: Schema = {"type": "object", "properties": properties,
                      "additionalProperties": additional, **extra}
    if required is not None:
        schema["required"] = required
    return schema


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _file(media: str, description: str, schema: Schema | None = None) -> Schema:
    return {"description": description,
            "content": {media: {"schema": {"type": "string", "format": "binary"}
                                if schema is None else schema}}}


def _any_file(description: str) -> Schema:
    """A stored file: its content type follows its extension (JSON, PNG, Keras…)."""
    return _file("*/*", description + "; Content-Type from the file's extension", {})


def _error(code: str) -> Schema:
    return {"$ref": f"#/components/responses/{code}"}


def _queued(schema: str) -> dict[str, Schema]:
    """The responses of a POST that queues a job (or a comparison) from a JSON body."""
    return {"201": {**_json(_ref(schema), "queued"),
                    "headers": {"Location": {"schema": {"type": "string"}}}},
            "400": _error("BadRequest"), "403": _error("Forbidden"),
            "413": _error("TooLarge"), "415": _error("NotJson"),
            "422": _error("ValidationFailed"), "503": _error("Unavailable")}


def _op(summary: str, responses: dict[str, Schema], *, params: tuple[str, ...] = (),
        body: Schema | None = None, body_required: bool = True, public: bool = False,
        tag: str, description: str | None = None) -> Schema:
    operation: Schema = {"summary": summary, "tags": [tag], "responses": dict(responses)}
    if description:
        operation["description"] = description
    if params:
        operation["parameters"] = [{"$ref": f"#/components/parameters/{p}"} for p in params]
    if body is not None:
        operation["requestBody"] = {"required": body_required,
                                    "content": {"application/json": {"schema": body}}}
    if public:
        operation["security"] = []
    else:
        operation["responses"].setdefault("401", _error("Unauthorized"))
    operation["responses"].setdefault("500", _error("ServerError"))
    return operation


_JOB_PARAMS = ("JobId",)
_JOB_QUERY = ("JobSearch", "JobStatus", "JobDataset", "JobObjective", "JobKind")
_BOUNDED = tuple(f"{end}.{name}" for name in NUMERIC_FIXED for end in ("min", "max"))
_TRIAL_QUERY = ("Sort", "Status", *_BOUNDED)
_TRIAL_QUERY_TEXT = (
    "Sorted by `sort` (empty values last either way, then by number) and filtered: "
    "`status`, `min.<column>` and `max.<column>` (inclusive; a trial without a number "
    "there is left out) for every number column listed here and every parameter "
    "(`min.params.dropout=0.1`), and `params.<name>=a,b` for a text or boolean parameter "
    "(`params.activation=relu,tanh`, `params.batch_norm=true`). Any other parameter "
    "name is refused (422), as is every bad value, by its name.")
_TRIAL_PARAMS = ("JobId", "TrialNumber")
_UNSAFE = ("CsrfToken",)
_NO_BEST = {"404": _error("NoBest")}


def _paths() -> dict[str, Schema]:
    jobs = "Jobs"
    best = "Best model"
    return {
        f"{API}/healthz": {"get": _op(
            "Liveness: the process answers", {"200": _json(
                _object({"status": {"const": "ok"}}, required=["status"]), "alive")},
            public=True, tag="Health")},
        f"{API}/readyz": {"get": _op(
            "Readiness: database, broker, event bus and artifact store all answer",
            {"200": _json(_ref("Ready"), "every backend answers"),
             "503": _json(_ref("NotReady"), "some backend failed; its entry holds the error")},
            public=True, tag="Health")},
        "/metrics": {"get": _op(
            "Prometheus metrics: jobs and trials by status, queue depth, heartbeats, "
            "requests, event relays (see docs/operations.md)",
            {"200": {"description": "Prometheus text exposition format",
                     "content": {"text/plain": {"schema": {"type": "string"}}}}},
            public=True, tag="Health")},
        f"{API}/openapi.json": {"get": _op(
            "This document", {"200": _json({"type": "object"}, "the OpenAPI document")},
            public=True, tag="Reference")},
        f"{API}/datasets": {"get": _op(
            "The datasets a job can use", {"200": _json(_ref("Datasets"), "datasets")},
            public=True, tag="Reference")},
        f"{API}/search-space": {"get": _op(
            "The default search space per modality, parameter by parameter",
            {"200": _json(_ref("SearchSpace"), "search spaces")}, public=True,
            tag="Reference")},
        f"{API}/hyperparameters": {"get": _op(
            "What each hyperparameter is, what raising or lowering it does, a typical range",
            {"200": _json(_ref("Hyperparameters"), "explanations")}, public=True,
            tag="Reference")},
        f"{API}/scoring": {"get": _op(
            "Objectives, default weights, health components and the score formula",
            {"200": _json(_ref("Scoring"), "scoring")}, public=True, tag="Reference")},
        f"{API}/statuses": {"get": _op(
            "Job and trial statuses: which are terminal or active, and the legal moves",
            {"200": _json(_ref("Statuses"), "statuses")}, public=True, tag="Reference")},
        f"{API}/session": {
            "get": _op("Who am I (browser session or bearer token)",
                       {"200": _json(_ref("Session"), "signed in")}, tag="Session"),
            "post": _op(
                "Sign in: trade an API token for a session cookie and a CSRF token",
                {"200": {**_json(_ref("Session"), "signed in; sets the session cookie"),
                         "headers": {"Set-Cookie": {"schema": {"type": "string"}}}},
                 "400": _error("BadRequest"), "401": _error("Unauthorized"),
                 "413": _error("TooLarge"), "415": _error("NotJson"),
                 "422": _error("ValidationFailed")},
                body=_object({"token": {"type": "string", "minLength": 1,
                                        "description": "an API token"}},
                             required=["token"]),
                public=True, tag="Session"),
            "delete": _op("Sign out: ends the session on the server, for every copy of "
                          "its cookie",
                          {"204": {"description": "signed out"},
                           "403": _error("Forbidden")},
                          params=_UNSAFE, public=True, tag="Session"),
        },
        f"{API}/jobs": {
            "get": _op("The caller's jobs, newest first: searched and filtered",
                       {"200": _json(_ref("JobPage"), "one page of jobs"),
                        "422": _error("ValidationFailed")},
                       params=("Page", "PerPage", *_JOB_QUERY), tag=jobs,
                       description="Filters combine with AND; each list is a set of "
                                   "values, any of which matches. Any other parameter name "
                                   "is refused (422), as is every bad value, by its name."),
            "post": _op(
                "Submit a job to the orchestrator",
                _queued("Job"),
                params=_UNSAFE, body=_ref("JobRequest"), body_required=False, tag=jobs,
                description="Every bad field is named at once in `fields`; a field over "
                            "the caller's limit is named with the limit in `limits`. No "
                            "body at all is a job of all the defaults."),
        },
        f"{API}/jobs/{{job_id}}": {
            "get": _op("One job", {"200": _json(_ref("Job"), "the job"),
                                   "404": _error("NotFound")},
                       params=_JOB_PARAMS, tag=jobs),
            "delete": _op(
                "Delete a finished job: records, study, artifacts, events, control state",
                {"204": {"description": "deleted"}, "403": _error("Forbidden"),
                 "404": _error("NotFound"), "409": _error("Conflict")},
                params=(*_JOB_PARAMS, *_UNSAFE), tag=jobs),
        },
        f"{API}/jobs/{{job_id}}/cancel": {"post": _op(
            "Cancel a job: running trials stop within one batch",
            {"200": _json(_ref("Job"), "cancelled at once: nobody had started it"),
             "202": _json(_ref("Job"), "cancelling: its orchestrator stops its trials"),
             "403": _error("Forbidden"),
             "404": _error("NotFound"), "409": _error("Conflict")},
            params=(*_JOB_PARAMS, *_UNSAFE), tag=jobs)},
        **_comparison_paths(),
        f"{API}/jobs/{{job_id}}/study": {"get": _op(
            "The Optuna study: objective history and parameter importances",
            {"200": _json(_ref("Study"), "the study (empty before it starts)"),
             "404": _error("NotFound")}, params=_JOB_PARAMS, tag=jobs)},
        f"{API}/jobs/{{job_id}}/analysis": {"get": _op(
            "A job's trials for the dashboard's analysis plots, sampled to a drawable size",
            {"200": _json(_ref("Analysis"), "every trial's history entry; parameters, "
                          "health and learning curves of a sample"),
             "404": _error("NotFound")}, params=_JOB_PARAMS, tag=jobs,
            description=f"At most {TRIALS_SHOWN} trials come with their parameters and "
                        f"health, and at most {CURVES_SHOWN} of those with their learning "
                        "curve: every running trial, the best-scored quarter, and an even "
                        "spread over trial numbers of the rest.")},
        f"{API}/jobs/{{job_id}}/front": {"get": _op(
            "The Pareto front over validation accuracy and health score",
            {"200": _json(_ref("Front"), "the front's members and the dominated trials "
                          "(both empty before a trial completed)"),
             "404": _error("NotFound")}, params=_JOB_PARAMS, tag=jobs,
            description="A `pareto` job's result. Every member's model downloads from its "
                        "`model_url`; the job's best (`best_trial`, in jobs/<id>/best/) is "
                        "the member with the highest total score under the job's weights.")},
        f"{API}/jobs/{{job_id}}/trials": {"get": _op(
            "A job's trials: sorted, filtered, one page",
            {"200": _json(_ref("TrialPage"), "one page of trials"),
             "404": _error("NotFound"), "422": _error("ValidationFailed")},
            params=(*_JOB_PARAMS, "Page", "PerPage", *_TRIAL_QUERY), tag="Trials",
            description=_TRIAL_QUERY_TEXT)},
        f"{API}/jobs/{{job_id}}/trials.csv": {"get": _op(
            "Every trial the query selects, as CSV (streamed)",
            {"200": _file("text/csv", "a header line of column names, then a line per "
                          "trial; an empty cell where the trial has no value",
                          {"type": "string"}),
             "404": _error("NotFound"), "422": _error("ValidationFailed")},
            params=(*_JOB_PARAMS, *_TRIAL_QUERY, "Columns"), tag="Trials",
            description=_TRIAL_QUERY_TEXT + " No paging: every matching trial.")},
        f"{API}/jobs/{{job_id}}/trials/columns": {"get": _op(
            "The columns of the job's trials table",
            {"200": _json(_ref("TrialColumns"), "fixed columns, then the parameters "
                          "the job's trials have"),
             "404": _error("NotFound")}, params=_JOB_PARAMS, tag="Trials")},
        f"{API}/jobs/{{job_id}}/tensorboard.zip": {"get": _op(
            "Download the trials' TensorBoard logs as one zip, a folder per trial",
            {"200": _file("application/zip", "the logs as an attachment"),
             "404": _error("NoLogs"), "422": _error("ValidationFailed")},
            params=(*_JOB_PARAMS, "TrialNumbers"), tag="Trials",
            description="Each trial's logs are in a folder named as `onegin tensorboard` "
                        "names its run (`trial-007 · conv_layers=3 learning_rate=0.0012`: "
                        "the number and the parameters that differ among the trials "
                        "chosen), so `tensorboard --logdir` on the unpacked zip shows the "
                        "same runs. Without `trials`, every trial that has logs; a number "
                        "the job has no trial for, or a trial asked for without logs, is "
                        "404, naming them.")},
        f"{API}/jobs/{{job_id}}/trials/{{number}}": {"get": _op(
            "One trial", {"200": _json(_ref("Trial"), "the trial"),
                          "404": _error("NotFound")}, params=_TRIAL_PARAMS, tag="Trials")},
        f"{API}/jobs/{{job_id}}/trials/{{number}}/artifacts": {"get": _op(
            "A trial's artifact files",
            {"200": _json(_ref("ArtifactList"), "files, names relative to the trial"),
             "404": _error("NotFound")}, params=_TRIAL_PARAMS, tag="Trials")},
        f"{API}/jobs/{{job_id}}/trials/{{number}}/artifacts/{{name}}": {"get": _op(
            "Download one of a trial's files (content type from its extension)",
            {"200": _any_file("the file, streamed"),
             "404": _error("NotFound")},
            params=(*_TRIAL_PARAMS, "ArtifactName"), tag="Trials")},
        f"{API}/jobs/{{job_id}}/best": {"get": _op(
            "The best trial: parameters, metrics, health and architecture",
            {"200": _json(_ref("Best"), "the best model"), **_NO_BEST},
            params=_JOB_PARAMS, tag=best)},
        f"{API}/jobs/{{job_id}}/best/model.keras": {"get": _op(
            "Download the best model (Keras format)",
            {"200": _file("application/octet-stream", "model.keras as an attachment"),
             **_NO_BEST}, params=_JOB_PARAMS, tag=best)},
        f"{API}/jobs/{{job_id}}/best/best_hyperparameters.yaml": {"get": _op(
            "Download the best hyperparameters",
            {"200": _file("application/yaml", "the YAML as an attachment",
                          {"type": "object"}), **_NO_BEST},
            params=_JOB_PARAMS, tag=best)},
        f"{API}/jobs/{{job_id}}/best/bundle.zip": {"get": _op(
            "Download the model, its YAML, metrics, architecture and plots as one zip",
            {"200": _file("application/zip", "the bundle as an attachment"), **_NO_BEST},
            params=_JOB_PARAMS, tag=best)},
        f"{API}/jobs/{{job_id}}/best/artifacts": {"get": _op(
            "The best model's files",
            {"200": _json(_ref("ArtifactList"), "files, names relative to best/"),
             **_NO_BEST}, params=_JOB_PARAMS, tag=best)},
        f"{API}/jobs/{{job_id}}/best/artifacts/{{name}}": {"get": _op(
            "Download one of the best model's files",
            {"200": _any_file("the file, streamed"), **_NO_BEST},
            params=(*_JOB_PARAMS, "ArtifactName"), tag=best)},
    }


def _comparison_paths() -> dict[str, Schema]:
    """A comparison is a job (kind compare): listed, cancelled and deleted under /jobs."""
    tag = "Comparisons"
    return {
        f"{API}/comparisons": {"post": _op(
            "Compare an accuracy-only search with a health-aware one on the same dataset, "
            "budget and seeds, scored on the holdout split",
            _queued("Comparison"),
            params=_UNSAFE, body=_ref("ComparisonRequest"), body_required=False, tag=tag,
            description="Runs one search per arm (objective simple, objective health) and "
                        "seed, then retrains each arm's best configuration with new training "
                        "seeds, then renders the report. Every bad field is named at once in "
                        "`fields`; each run is held to the caller's job limits. Cancel it "
                        "with POST /jobs/{job_id}/cancel: its runs are cancelled with it.")},
        f"{API}/comparisons/{{job_id}}": {"get": _op(
            "One comparison: its job, its runs and its report's links",
            {"200": _json(_ref("Comparison"), "the comparison"), "404": _error("NotFound")},
            params=_JOB_PARAMS, tag=tag)},
        f"{API}/comparisons/{{job_id}}/report/{{name}}": {"get": _op(
            "Download one of the report's files: report.html, report.pdf, analysis.json, "
            "summary.json, plots",
            {"200": _any_file("the file, streamed"), "404": _error("NotFound")},
            params=(*_JOB_PARAMS, "ArtifactName"), tag=tag)},
    }


def _comparison_request(job_request: Schema) -> Schema:
    """What `POST /comparisons` takes: the run fields as `POST /jobs` takes them, and the
    comparison's own (`COMPARE_CHECKS`)."""
    fields = {name: job_request["properties"][name] for name in RUN_FIELDS}
    fields["dataset"] = {"enum": list(DATASETS), "description": "a name from /datasets "
                         "(uploads are for jobs only)"}
    fields["trials"] = {**fields["trials"], "description": f"trials per arm and seed (default "
                        f"{DEFAULT_TRIALS}); " + fields["trials"].get("description", "")}
    fields |= {name: dict(check.schema) for name, check in COMPARE_CHECKS.items()}
    return _object(fields, description="Every field is optional; every bad one is named "
                                       "at once (422).")


def _comparison_schema(counts: Schema) -> Schema:
    link = _nullable("string", description="its download path; null until stored")
    run = _object({
        "id": {"type": "string"}, "objective": {"enum": list(OBJECTIVES)},
        "seed": {"type": "integer"},
        "data_seed": _nullable("integer", description="a retrain's split: the seed of the "
                               "run whose best configuration it retrains"),
        "status": {"enum": list(JOB_STATUSES)}, "best_trial_number": _nullable("integer"),
        "best_score": _nullable("number"), "best_accuracy": _nullable("number"),
        "counts": counts,
    }, required=["id", "objective", "seed", "data_seed", "status", "best_trial_number",
                 "best_score", "best_accuracy", "counts"])
    files = {"type": "array", "items": _object(
        {"name": {"type": "string"}, "size": {"type": "integer"}}, required=["name", "size"])}
    return _object({
        "job": _ref("Job"),
        "runs": {"type": "array", "items": run,
                 "description": "its searches (one per arm and seed), then its retrains"},
        "report": _object({"files": files, "html": link, "pdf": link, "analysis": link,
                           "summary": link},
                          required=["files", "html", "pdf", "analysis", "summary"]),
    }, required=["job", "runs", "report"])


def _token_paths() -> dict[str, Schema]:
    """Admin: token listing and revocation (admin tokens, or the open server's local user)."""
    admin_only = {"403": _error("AdminOnly")}
    return {
        f"{API}/tokens": {"get": _op(
            "Every API token, oldest first: no secrets (none is stored), no limits",
            {"200": _json(_object({"tokens": {"type": "array", "items": _ref("Token")}},
                                  required=["tokens"]), "the tokens"), **admin_only},
            tag="Tokens")},
        f"{API}/tokens/{{token_id}}": {"delete": _op(
            "Revoke a token: its requests get 401, its browser sessions end and its "
            "Socket.IO clients are disconnected (idempotent)",
            {"200": _json(_ref("Token"), "the token, revoked"), **admin_only,
             "404": _error("NotFound")},
            params=("TokenId", *_UNSAFE), tag="Tokens")},
    }


def _token_schemas() -> dict[str, Schema]:
    when = _nullable("string", format="date-time")
    return {"Token": _object({
        "id": {"type": "string"}, "name": {"type": "string"}, "admin": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"},
        "last_used_at": {**when, "description": "to the minute"}, "revoked_at": when,
    }, required=["id", "name", "admin", "created_at", "last_used_at", "revoked_at"])}


def _lifecycle(statuses: tuple[str, ...]) -> Schema:
    """One entity's statuses as `onegin.statuses.describe` gives them."""
    some = {"type": "array", "items": {"enum": list(statuses)}}
    return _object({
        "statuses": {**some, "description": "every status, in lifecycle order"},
        "terminal": {**some, "description": "statuses that never change again"},
        "active": {**some, "description": "the others: still under way"},
        "transitions": _object({s: some for s in statuses}, required=list(statuses),
                               description="status -> where it may go (staying put aside)"),
    }, required=["statuses", "terminal", "active", "transitions"])


def _schemas(job_limits: Limits | None) -> dict[str, Schema]:
    number = {"type": "number"}
    when = _nullable("string", format="date-time")
    counts = _object({s: {"type": "integer"} for s in TRIAL_STATUSES},
                     required=list(TRIAL_STATUSES))
    health_weights = _object({c: {"type": "number", "minimum": 0, "maximum": 1}
                              for c in HEALTH_COMPONENTS}, required=list(HEALTH_COMPONENTS),
                             description="every component's share of the health score; "
                             "the six must sum to 1")
    caps = list(LIMITED_FIELDS.values())
    limits = _object({k: {"type": "integer"} for k in caps}, required=caps)
    ready = {"type": "string", "description": "\"ok\" or the error"}
    front_point = {"number": {"type": "integer"}, "val_accuracy": number,
                   "health_score": number, "total_score": number}
    backends = ("database", "broker", "events", "artifacts")
    return {
        "Error": _object({"error": {"type": "string"}}, required=["error"], additional=True),
        "ValidationError": _object(
            {"error": {"const": "validation failed"},
             "fields": {"type": "object", "additionalProperties": {"type": "string"},
                        "description": "field -> reason, for every bad field"},
             "limits": {"type": "object", "additionalProperties": {"type": "integer"},
                        "description": "field -> the caller's limit it exceeded"}},
            required=["error", "fields"]),
        "Ready": _object({b: {"const": "ok"} for b in backends}, required=list(backends)),
        "NotReady": _object({"error": {"type": "string"}, **{b: ready for b in backends}},
                            required=["error", *backends]),
        "Datasets": _object({"datasets": {"type": "array", "items": _object({
            "name": {"type": "string"}, "title": {"type": "string"},
            "modality": {"enum": ["image", "text"]}, "num_classes": {"type": "integer"},
            "input_shape": {"type": "array", "items": {"type": "integer"}},
            "url": {"type": "string"}, "description": {"type": "string"},
        }, required=["name", "title", "modality", "num_classes", "input_shape", "url",
                     "description"])}}, required=["datasets"]),
        "SearchSpace": _object(
            {m: {"type": "object", "additionalProperties": {"type": "object"},
                 "description": "parameter -> its kind, range or choices and default"}
             for m in ("image", "text")}, required=["image", "text"]),
        "Hyperparameters": _object({"hyperparameters": {
            "type": "object", "additionalProperties": _object({
                **{key: {"type": "string"} for key in ("title", "what", "effect", "typical")},
                "searched": {"type": "object", "additionalProperties": {"type": "string"},
                             "description": "modality -> what the default space searches"},
            }, required=["title", "what", "effect", "typical", "searched"])}},
            required=["hyperparameters"]),
        "Scoring": _object({
            "objectives": {"type": "array", "items": {"enum": list(OBJECTIVES)}},
            "default_weights": _object({"accuracy": number, "health": health_weights},
                                       required=["accuracy", "health"]),
            "components": {"type": "array", "items": {"enum": list(HEALTH_COMPONENTS)}},
            "formula": {"type": "string"},
            "chance_margin": {**number, "description": "a trial whose validation accuracy "
                              "is at most its dataset's chance (metrics.dataset.chance) plus "
                              "this learned nothing"},
        }, required=["objectives", "default_weights", "components", "formula", "chance_margin"]),
        "Statuses": _object({"job": _lifecycle(JOB_STATUSES),
                             "trial": _lifecycle(TRIAL_STATUSES)}, required=["job", "trial"]),
        "Session": _object({
            "name": _nullable("string"), "csrf_token": _nullable("string"),
            "limits": limits, "auth_required": {"type": "boolean"},
        }, required=["name", "csrf_token", "limits", "auth_required"]),
        "JobRequest": _job_request(job_limits, health_weights),
        "ComparisonRequest": _comparison_request(_job_request(job_limits, health_weights)),
        "Comparison": _comparison_schema(counts),
        "Job": _object({
            "id": {"type": "string"}, "kind": {"enum": list(JOB_KINDS)},
            "parent_id": _nullable("string", description="the comparison this job is a "
                                   "run of"),
            "name": {"type": "string"},
            "status": {"enum": list(JOB_STATUSES)}, "config": {"type": "object"},
            "created_at": {"type": "string", "format": "date-time"},
            "started_at": when, "finished_at": when,
            "best_trial_number": _nullable("integer"), "best_score": _nullable("number"),
            "best_accuracy": _nullable("number"), "error": _nullable("string"),
            "waiting": {"oneOf": [{"type": "null"}, _object({
                "since": {"type": "string", "format": "date-time"},
                "gpu_queue_depth": _nullable("integer", description="trials waiting in the "
                                             "GPU queue; null when the broker cannot say"),
            }, required=["since", "gpu_queue_depth"])],
                "description": "set while the job's trials are sent and no worker starts "
                               "any; null otherwise"},
            "counts": counts, "budget": {"type": "integer"},
        }, required=["id", "kind", "parent_id", "name", "status", "config", "created_at",
                     "started_at",
                     "finished_at", "best_trial_number", "best_score", "best_accuracy",
                     "error", "waiting", "counts", "budget"]),
        "JobPage": _page("jobs", "Job"),
        "Trial": _object({
            "job_id": {"type": "string"}, "number": {"type": "integer"},
            "status": {"enum": list(TRIAL_STATUSES)}, "params": {"type": "object"},
            "architecture_summary": _nullable("string"), "metrics": _nullable("object"),
            "health": _nullable("object"), "health_score": _nullable("number"),
            "total_score": _nullable("number"), "val_accuracy": _nullable("number"),
            "worker": _nullable("string"), "task_id": _nullable("string"),
            "queued_at": {"type": "string", "format": "date-time"}, "started_at": when,
            "finished_at": when, "heartbeat_at": when,
            "artifact_prefix": _nullable("string"), "error": _nullable("string"),
            "retry_of": _nullable("integer"),
            "origin": _nullable("string", description="warm_start, initial or retry; null: "
                                "the sampler proposed it"),
            "intermediate": {"type": "object", "additionalProperties": number,
                             "description": "epoch -> validation accuracy"},
            "holdout": {"oneOf": [{"type": "null"}, _ref("Holdout")],
                        "description": "the holdout report of a completed trial of a job "
                                       "with holdout on; null otherwise"},
        }, required=["job_id", "number", "status", "params", "queued_at", "intermediate"]),
        "Holdout": _holdout(),
        "TrialPage": _page("trials", "Trial"),
        "TrialColumns": _object({"columns": {"type": "array", "items": _object({
            "name": {"type": "string", "description": "as sort, filters and CSV name it"},
            "kind": {"enum": ["number", "text"],
                     "description": "number: min./max. filters; text: the status or a text "
                                    "parameter (values: the statuses, or the parameter's "
                                    "distinct values so far)"},
            "values": {"type": "array", "items": {"type": "string"}}},
            required=["name", "kind"])}}, required=["columns"]),
        "ArtifactList": _object({"artifacts": {"type": "array", "items": _object(
            {"name": {"type": "string"}, "size": {"type": "integer"}},
            required=["name", "size"])}}, required=["artifacts"]),
        "Best": _object({
            "trial": {"type": "integer"}, "params": {"type": "object"},
            "metrics": {"type": "object"}, "health": {"type": "object"},
            "health_score": _nullable("number"),
            "total_score": _nullable("number"), "val_accuracy": _nullable("number"),
            "architecture": _nullable("object", description="layers, edges, total_params, "
                                      "trainable_params (architecture.json)"),
        }, required=["trial", "params", "metrics", "health", "health_score", "total_score",
                     "val_accuracy", "architecture"]),
        "Front": _object({
            "objectives": {"type": "array", "items": {"enum": ["val_accuracy", "health_score"]},
                           "description": "the two objectives, both maximised"},
            "best_trial": _nullable("integer"),
            "front": {"type": "array", "description": "non-dominated completed trials, by "
                      "number", "items": _object({
                          **front_point, "params": {"type": "object"},
                          "model_url": {"type": "string", "description": "the trial's "
                                        "model.keras, as an artifact download"}},
                          required=[*front_point, "params", "model_url"])},
            "dominated": {"type": "array", "description": "the other completed trials",
                          "items": _object(front_point, required=list(front_point))},
        }, required=["objectives", "best_trial", "front", "dominated"]),
        "Analysis": _analysis(),
        "Study": _object({
            "history": {"type": "array", "items": _object(
                {"number": {"type": "integer"}, "value": _nullable("number"),
                 "state": {"type": "string"}}, required=["number", "value", "state"])},
            "importances": {"type": "object", "additionalProperties": number,
                            "description": "parameter -> importance (fANOVA); empty "
                            "before two trials completed"},
            "importance_trials": {
                "type": "integer", "minimum": 0,
                "description": "the completed trials the importances rank: while the job "
                "runs, the last ranking is served at once and refreshed in the background, "
                "so it may lag the history; once the job has ended, all of them"},
        }, required=["history", "importances", "importance_trials"]),
    }


def _analysis() -> Schema:
    """GET /jobs/<id>/analysis (`webapp.analysis`)."""
    score = _nullable("number")
    epochs = {"type": "object", "additionalProperties": {"type": "number"},
              "description": "epoch -> validation accuracy"}
    row = _object({
        "number": {"type": "integer"}, "status": {"enum": list(TRIAL_STATUSES)},
        "params": {"type": "object"}, "val_accuracy": score, "total_score": score,
        "health_score": score,
        "health": _nullable("object", properties={c: {"type": "number"}
                                                  for c in HEALTH_COMPONENTS},
                            additionalProperties=False)},
        required=["number", "status", "params", "val_accuracy", "total_score",
                  "health_score", "health"])
    return _object({
        "total": {"type": "integer", "description": "the job's trials"},
        # each a [number, status, score] triple, stated without prefixItems, which
        # schemathesis (the fuzzer in tests/webapp) does not read
        "history": {"type": "array", "description": "every trial by number: [number, "
                    "status, total score or null]", "items": {
                        "type": "array", "minItems": 3, "maxItems": 3, "items": {"anyOf": [
                            {"type": "integer"}, {"enum": list(TRIAL_STATUSES)}, score]}}},
        "trials": {"type": "array", "items": row,
                   "description": "the sample, by number (all trials when they fit)"},
        "curves": {"type": "object", "additionalProperties": epochs,
                   "description": "trial number -> its learning curve, for trials of the "
                                  "sample that reported an epoch"},
        "limits": _object({"trials": {"type": "integer"}, "curves": {"type": "integer"}},
                          required=["trials", "curves"]),
    }, required=["total", "history", "trials", "curves", "limits"])


def _holdout() -> Schema:
    """A trial's holdout report (`onegin.holdout`; docs/api.md defines each number)."""
    number = {"type": "number"}
    corruptions = sorted({name for names in CORRUPTIONS.values() for name in names})
    accuracies = {"type": "array", "items": number, "minItems": SEVERITIES,
                  "maxItems": SEVERITIES, "description": "accuracy at severity 1, 2, 3"}
    properties: dict[str, Schema] = {
        "samples": {"type": "integer"}, "accuracy": number, "worst_class_accuracy": number,
        "per_class_accuracy": {"type": "array", "items": _nullable("number"),
                               "description": "by class; null for a class absent from "
                                              "the holdout"},
        "ece": number, "brier": number,
        "robustness": _object({name: accuracies for name in corruptions},
                              description="corruption -> accuracies; images: "
                              f"{', '.join(CORRUPTIONS['image'])}; text: "
                              f"{', '.join(CORRUPTIONS['text'])}"),
        "robustness_mean": number, "param_count": {"type": "integer"},
        "latency_ms_per_256": number,
    }
    return _object(properties, required=list(HOLDOUT_KEYS))


def _bounded(schema: Schema, limits: Limits | None, attribute: str) -> Schema:
    """A count whose maximum is the engine's, or this server's smaller limit."""
    if limits is None:
        return schema
    top = min(schema["maximum"], getattr(limits, attribute))
    return {**schema, "maximum": top,
            "description": f"at most {top}, this server's {attribute}; a token may "
                           "have a lower limit (GET /session)"}


def _param_names() -> list[str]:
    names: dict[str, None] = {}
    for modality in MODALITIES:
        for space in SPACE_NAMES:
            names.update(dict.fromkeys(space_for(modality, name=space).names()))
    return list(names)


def _job_request(limits: Limits | None, health_weights: Schema) -> Schema:
    """What `POST /jobs` takes: each field's schema from its check (`FIELD_CHECKS`), the
    server's limits, and what only the API can say (the datasets it serves, the shapes of
    the weights and parameters, which a field's check reads as a whole)."""
    fields = {name: dict(check.schema) for name, check in FIELD_CHECKS.items()}
    for name, attribute in LIMITED_FIELDS.items():
        fields[name] = _bounded(fields[name], limits, attribute)
    number = {"type": "number", "minimum": 0, "maximum": 1}
    fields |= {
        "dataset": {"anyOf": [{"enum": list(DATASETS)},
                              {"type": "string", "pattern": f"^upload:{UPLOAD_ID.pattern}$"}],
                    "description": "a name from /datasets, or upload:<id> of one of the "
                                   "caller's uploads (/uploads; another's is refused)"},
        "weights": {**_object({"accuracy": number, "health": health_weights}),
                    "type": ["object", "null"],
                    "description": "left out or null: the defaults from /scoring"},
        "params": {"type": ["object", "null"],
                   "propertyNames": {"enum": _param_names()},
                   "description": "parameter -> fixed value, {low, high} or {choices}, "
                   "within the legal bounds in /search-space; only the parameters of the "
                   "dataset's modality (every bad one is named)"},
        "initial_params": {"type": ["array", "null"], "maxItems": MAX_INITIAL,
                           "items": {"type": "object"},
                           "description": "configurations to run first, instead of the "
                           "warm starts; each must lie inside the job's search space"},
    }
    fields |= {old: {**fields[new], "deprecated": True,
                     "description": f"the former name of {new}"}
               for old, new in LEGACY_FIELDS.items()}
    request = _object(fields, description="Every field is optional; every bad one is named "
                                          "at once (422).")
    # `onegin.job_config.pruner_error`: a pareto job takes no pruner but none (its default)
    pareto: Schema = {"properties": {"objective": {"const": "pareto"}}, "required": ["objective"]}
    return request | {"if": pareto, "then": {"properties": {"pruner": {"const": "none"}}}}


def _page(key: str, item: str) -> Schema:
    return _object({key: {"type": "array", "items": _ref(item)},
                    "total": {"type": "integer"}, "page": {"type": "integer"},
                    "per_page": {"type": "integer"}},
                   required=[key, "total", "page", "per_page"])


# a column of the trials table: a fixed one or params.<name> (`onegin.records.trial_columns`)
_COLUMN = "|".join([*(re.escape(c.name) for c in FIXED_COLUMNS),
                    re.escape(PARAM_PREFIX) + PARAM_NAME.pattern])


def _comma_list(item: str) -> str:
    return f"^({item})(,({item}))*$"


def _parameters() -> dict[str, Schema]:
    def query(name: str, schema: Schema, description: str) -> Schema:
        return {"name": name, "in": "query", "required": False, "schema": schema,
                "description": description}

    per_page = {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                "default": DEFAULT_PER_PAGE}
    return {
        "JobId": {"name": "job_id", "in": "path", "required": True,
                  "schema": {"type": "string", "pattern": f"^{JOB_ID_PATTERN.pattern}$"}},
        "TrialNumber": {"name": "number", "in": "path", "required": True,
                        "schema": {"type": "integer", "minimum": 0,
                                   "maximum": TRIAL_NUMBER_MAX}},
        "ArtifactName": {"name": "name", "in": "path", "required": True,
                         "schema": {"type": "string"},
                         "description": "a file's path inside the folder, may contain '/' "
                                        "(e.g. plots/history.png)"},
        "Page": query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE,
                               "default": 1}, "1-based; past the last page: an empty list"),
        "PerPage": query("per_page", per_page, "items per page"),
        "Status": query("status", {"type": "string", "pattern": _comma_list(
            "|".join(TRIAL_STATUSES))}, "only trials in one of these statuses "
            "(comma-separated), e.g. completed,pruned"),
        "JobSearch": query("q", {"type": "string", "maxLength": MAX_TEXT,
                                 "pattern": "^[^\\x00]*$"},
                           "text in the job's id, name or dataset (case-insensitive)"),
        "JobStatus": query("status", {"type": "string", "pattern": _comma_list(
            "|".join(JOB_STATUSES))}, "only jobs in one of these statuses (comma-separated)"),
        "JobDataset": query("dataset", {"type": "string", "pattern": _comma_list(
            f"[^,\\x00]{{1,{MAX_TEXT}}}")}, "only jobs on one of these datasets "
            "(comma-separated names, e.g. digits,upload:<id>)"),
        "JobObjective": query("objective", {"type": "string", "pattern": _comma_list(
            "|".join(OBJECTIVES))}, "only searches with one of these objectives "
            "(comma-separated); a comparison has none"),
        "JobKind": query("kind", {"type": "string", "pattern": _comma_list(
            "|".join(JOB_KINDS))}, "only searches (search) or comparisons (compare)"),
        "Sort": query("sort", {"type": "string", "pattern": f"^-?({_COLUMN})$",
                               "default": "number"},
                      "a column to sort by; a leading '-' sorts descending "
                      "(-total_score, params.learning_rate)"),
        "TrialNumbers": query("trials", {"type": "string", "pattern": f"^{NUMBERS_PATTERN}$"},
                              "trial numbers, comma-separated, e.g. 1,4,7 (default: all)"),
        "Columns": query("columns", {"type": "string", "pattern": _comma_list(_COLUMN)},
                         "the CSV's columns, comma-separated, in order (default: every "
                         "fixed column, then the job's parameters)"),
        **{name: query(name, {"type": "number"}, f"only trials whose {name[4:]} is at "
                       f"{ {'min': 'least', 'max': 'most'}[name[:3]]} this")
           for name in _BOUNDED},
        "TokenId": {"name": "token_id", "in": "path", "required": True,
                    "schema": {"type": "string"}},
        "CsrfToken": {"name": "X-CSRF-Token", "in": "header", "required": False,
                      "schema": {"type": "string"},
                      "description": "required with a session cookie (from POST /session)"},
    }


def _responses() -> dict[str, Schema]:
    error = _ref("Error")
    return {
        "BadRequest": _json(error, "the body is not valid JSON"),
        "Unauthorized": _json(error, "no, a bad or a revoked token (body has auth_required)"),
        "Forbidden": _json(error, "a session cookie without its X-CSRF-Token"),
        "AdminOnly": _json(error, "the caller is no admin, or a session cookie without "
                                  "its X-CSRF-Token"),
        "NotFound": _json(error, "no such resource, or not the caller's"),
        "NoBest": _json(error, "no such job, or no best model yet"),
        "NoLogs": _json(error, "no such job, no such trial, or no TensorBoard logs: none "
                               "in the job, or none for a trial asked for (named)"),
        "Conflict": _json(error, "the job's status does not allow it"),
        "TooLarge": _json(error, "the body is larger than max_request_bytes (also a "
                          "chunked one)"),
        "NotJson": _json(error, "a body that is not sent as application/json"),
        "ValidationFailed": _json(_ref("ValidationError"), "some fields are invalid"),
        "Unavailable": _json(error, "a backend is down; try again"),
        "ServerError": _json(error, "unexpected error (logged on the server)"),
    }


def document(limits: Limits | None = None, *, auth_required: bool = True) -> dict[str, Any]:
    """The whole OpenAPI document (a fresh dict each call): ``limits`` are the server's
    default job limits; without auth every operation may also be called anonymously."""
    from webapp.openapi_uploads import upload_parameters, upload_paths, upload_schemas

    security: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"sessionCookie": []}]
    if not auth_required:
        security.append({})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Onegin",
            "version": "1",
            "description": (
                "Hyperparameter optimization jobs for Keras classifiers. Every error body "
                "is `{\"error\": \"...\"}`. Authenticate with `Authorization: Bearer "
                "<token>` (`onegin token create NAME`) or a session cookie from "
                "`POST /api/v1/session`; with the cookie, unsafe methods need the "
                "`X-CSRF-Token` header. A server on loopback may run without auth. "
                "Live events: Socket.IO namespace `/jobs` (see docs/api.md)."),
        },
        "servers": [{"url": "/"}],
        "security": security,
        "tags": [{"name": t} for t in ("Health", "Reference", "Session", "Jobs", "Comparisons",
                                       "Trials", "Best model", "Tokens", "Uploads")],
        "paths": {**_paths(), **_token_paths(), **upload_paths()},
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "an API token from `onegin token create`"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "onegin_session",
                                  "description": "set by POST /api/v1/session"},
            },
            "schemas": {**_schemas(limits), **_token_schemas(), **upload_schemas()},
            "parameters": {**_parameters(), **upload_parameters()},
            "responses": _responses(),
        },
    }
