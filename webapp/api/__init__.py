"""The REST API under ``/api/v1``: one blueprint per concern, assembled by `register_api`."""

from __future__ import annotations

from flask import Flask

API_PREFIX = "/api/v1"


def register_api(app: Flask) -> None:
    from webapp.api import (
        analysis,
        best,
        comparisons,
        front,
        health,
        jobs,
        reference,
        session,
        study,
        tensorboard,
        tokens,
        trials,
        trials_table,
        uploads,
    )

    for module in (health, reference, session, jobs, comparisons, trials, trials_table, best,
                   front, study, analysis, tensorboard, tokens, uploads):
        app.register_blueprint(module.bp, url_prefix=API_PREFIX)
    app.register_blueprint(health.metrics_bp)
