"""The trials table's extras: the columns a job's trials have, and the CSV export.

The CSV takes the list's sort and filters (`webapp.trial_query`) and ``columns``,
and streams every matching trial, not one page: rows are written as the store
reads them, so a job of thousands of trials is never held in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from flask import Blueprint, Response, jsonify, request, stream_with_context

from onegin.records import TrialRecord
from onegin.records.trial_columns import (
    FIXED_COLUMNS,
    TrialColumn,
    column,
    column_value,
    describe_params,
    text_of,
)
from onegin.statuses import TRIAL_STATUSES
from webapp.api.common import load_job
from webapp.auth import require_principal
from webapp.errors import validation_failed
from webapp.pagination import unknown_parameters
from webapp.state import state
from webapp.trial_query import QUERY_PARAMETERS, is_query_name, parse_columns, parse_query

bp = Blueprint("trials_table", __name__)
bp.before_request(require_principal)


@bp.get("/jobs/<job_id>/trials/columns")
def trial_columns(job_id: str) -> Response:
    job = load_job(job_id)
    fixed = [{"name": c.name, "kind": c.kind} | ({"values": list(TRIAL_STATUSES)}
                                                 if c.name == "status" else {})
             for c in FIXED_COLUMNS]
    params = describe_params(state().services.records.param_values(job.id))
    return jsonify(columns=fixed + params)


@bp.get("/jobs/<job_id>/trials.csv")
def trials_csv(job_id: str) -> Response:
    job = load_job(job_id)
    records = state().services.records
    query, errors = parse_query(request.args)
    others = {k: v for k, v in request.args.items() if not is_query_name(k)}
    errors = unknown_parameters(others, (*QUERY_PARAMETERS, "columns")) | errors
    params = [column(p["name"]) for p in describe_params(records.param_values(job.id))]
    columns, column_errors = parse_columns(
        request.args.get("columns"), [*FIXED_COLUMNS, *(c for c in params if c is not None)])
    if errors or column_errors:
        raise validation_failed(errors | column_errors)
    rows = stream_with_context(csv_lines(columns, records.stream_trials(job.id, query)))
    return Response(rows, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="onegin-{job.id}-trials.csv"'})


def csv_lines(columns: list[TrialColumn], trials: Iterable[TrialRecord]) -> Iterator[str]:
    """The header line, then one line per trial (an empty cell where it has no value)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def line(values: list[object]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield line([c.name for c in columns])
    for trial in trials:
        yield line([_cell(column_value(trial, c)) for c in columns])


def _cell(value: object) -> object:
    """Booleans as the filters spell them (true/false), nothing as an empty cell."""
    return text_of(value) if isinstance(value, bool) else value
