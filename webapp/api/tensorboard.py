"""A job's TensorBoard logs as one zip: a folder per trial, named as `onegin tensorboard`
names its runs, so ``tensorboard --logdir`` on the unpacked folder shows the same runs.

The trials are chosen (``?trials=1,4``) and named by the same code as the command's
(`onegin.tensorboard`): 422 for a ``trials`` that is no list of numbers, 404 for a number
the job has no trial for, a trial asked for that has no logs, or a job none of whose
trials has any.
"""

from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, Response, request

from onegin.artifacts import TENSORBOARD_FOLDER, ArtifactStore, job_prefix
from onegin.errors import ConfigError
from onegin.tensorboard.runs import run_names
from onegin.tensorboard.selection import NoLogs, keep_logged, parse_numbers, select_trials
from webapp.api.common import load_job
from webapp.auth import require_principal
from webapp.downloads import send_bundle
from webapp.errors import ApiError, validation_failed
from webapp.state import state

bp = Blueprint("tensorboard", __name__)
bp.before_request(require_principal)
ALL_TRIALS = 1_000_000


@bp.get("/jobs/<job_id>/tensorboard.zip")
def logs_zip(job_id: str) -> Response:
    job = load_job(job_id)
    records = state().services.records
    text = request.args.get("trials")
    try:
        numbers = parse_numbers(text) if text is not None else []
    except ConfigError as exc:
        raise validation_failed({exc.field: exc.reason}) from None
    try:  # a trial the job lacks is a resource that is not there, as in /trials/{number}
        chosen = select_trials(job.id, records.list_trials(job.id, limit=ALL_TRIALS)[0],
                               numbers)
    except ConfigError as exc:
        raise ApiError(404, exc.reason) from None
    store = state().services.artifacts
    logs = _logs_by_trial(store, job.id)
    try:
        shown, _ = keep_logged(job.id, chosen, logs, named=bool(numbers))
    except NoLogs as exc:
        raise ApiError(404, str(exc)) from None
    names = run_names({trial.number: trial.params for trial in shown})
    members = {f"{names[trial.number]}/{name}": key
               for trial in shown for name, key in logs[trial.number]}
    return send_bundle(store, members, f"onegin-{job.id}-tensorboard.zip")


def _logs_by_trial(store: ArtifactStore, job_id: str) -> dict[int, list[tuple[str, str]]]:
    """Trial number -> its log files as (path inside its logs folder, key), from one
    listing of the job's trials (a request or a few, however many trials it has)."""
    root = f"{job_prefix(job_id)}trials/"
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for info in store.list(root):
        number, _, rest = info.key[len(root):].partition("/")
        folder, _, name = rest.partition("/")
        if number.isdigit() and folder == TENSORBOARD_FOLDER and name:
            found[int(number)].append((name, info.key))
    return dict(found)
