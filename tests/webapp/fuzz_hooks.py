"""schemathesis hooks for tests/webapp/test_fuzz.py (loaded by `SCHEMATHESIS_HOOKS`).

Half of the generated cases with valid path parameters are pointed at a real
job, trial and file (the job named in ``ONEGIN_TEST_FUZZ_JOB``; a comparison's paths
at the comparison and report file of ``ONEGIN_TEST_FUZZ_COMPARISON``), so real
records are read and checked, not only 404s. A case whose path was made invalid on
purpose keeps it: pointed at a real job it would become a valid request that
the fuzzer still expects refused. A valid job request (by the document) is made to
(or comparison request) satisfy the two rules JSON Schema cannot state, which the document says in
words: health weights sum to 1, and parameters, starting configurations and
the job to continue from must suit the dataset's space and the records (those
fields are left out of valid requests; invalid ones still carry anything).
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import strategies as st

from onegin.scoring import DEFAULT_HEALTH_WEIGHTS, HEALTH_COMPONENTS

KNOWN_JOB = "ONEGIN_TEST_FUZZ_JOB"
KNOWN_NUMBERS = (0, 1)
KNOWN_NAMES = ("metrics.json", "plots/history.png", "model.keras")
KNOWN_COMPARISON = "ONEGIN_TEST_FUZZ_COMPARISON"
COMPARISONS = "/api/v1/comparisons/"
# a comparison's report files, in the place of a trial's
REPORT_NAMES = dict(zip(KNOWN_NAMES, ("summary.json", "plots/holdout.png", "report.html"),
                        strict=True))
CROSS_FIELD = ("params", "initial_params", "initial_trials", "continue_from")
JOB_REQUESTS = ("/api/v1/jobs", "/api/v1/comparisons")  # bodies with job fields


def valid_job_request(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` less the cross-field references, its health weights scaled to sum to 1."""
    body = {k: v for k, v in body.items() if k not in CROSS_FIELD}
    weights = body.get("weights")
    if isinstance(weights, dict) and isinstance(weights.get("health"), dict):
        health = weights["health"]
        total = sum(health.values())
        shares = ({k: health[k] / total for k in HEALTH_COMPONENTS} if total > 0
                  else dict(DEFAULT_HEALTH_WEIGHTS))
        shares[HEALTH_COMPONENTS[-1]] = 1 - sum(shares[k] for k in HEALTH_COMPONENTS[:-1])
        if shares[HEALTH_COMPONENTS[-1]] < 0:  # rounding took the last share below zero
            shares = dict(DEFAULT_HEALTH_WEIGHTS)
        body["weights"] = {**weights, "health": shares}
    return body


def _pointed(case: Any, use: bool, number: int, name: str) -> Any:
    if use and not (case.meta is not None and case.meta.is_negative_at("path")):
        values = {"job_id": os.environ[KNOWN_JOB], "number": number, "name": name}
        if case.path.startswith(COMPARISONS):
            values = {"job_id": os.environ[KNOWN_COMPARISON], "name": REPORT_NAMES[name]}
        case.path_parameters = {k: values.get(k, v) for k, v in case.path_parameters.items()}
    return case


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    """Applied in every phase (coverage cases too)."""
    valid = case.meta is None or case.meta.generation.mode == schemathesis.GenerationMode.POSITIVE
    if (case.method.upper() == "POST" and case.path in JOB_REQUESTS and valid
            and isinstance(case.body, dict)):
        case.body = valid_job_request(case.body)
    return case


@schemathesis.hook
def flatmap_case(context: Any, case: Any) -> Any:
    """Applied to generated cases (fuzzing, stateful)."""
    if "job_id" not in (case.path_parameters or {}):
        return st.just(case)
    return st.tuples(st.booleans(), st.sampled_from(KNOWN_NUMBERS),
                     st.sampled_from(KNOWN_NAMES)).map(lambda choice: _pointed(case, *choice))
