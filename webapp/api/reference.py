"""Reference data the dashboard builds its forms and views from; public, and the one source
of truth for datasets, the search space, scoring and statuses (the UI never hard-codes them)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from onegin import hyperparameters
from onegin.datasets import DATASETS
from onegin.hopeless import CHANCE_MARGIN
from onegin.scoring import (
    DEFAULT_ACCURACY_WEIGHT,
    DEFAULT_HEALTH_WEIGHTS,
    HEALTH_COMPONENTS,
    OBJECTIVES,
    ScoringWeights,
    describe_formula,
)
from onegin.search_space import MODALITIES, space_for
from onegin.statuses import describe as describe_statuses
from webapp.state import state

bp = Blueprint("reference", __name__)


@bp.get("/datasets")
def datasets() -> Response:
    return jsonify(datasets=[
        {"name": spec.name, "title": spec.title, "modality": spec.modality,
         "num_classes": spec.num_classes, "input_shape": list(spec.input_shape),
         "url": spec.url, "description": spec.description}
        for spec in DATASETS.values()
    ])


@bp.get("/search-space")
def search_space() -> Response:
    return jsonify({modality: space_for(modality).describe() for modality in MODALITIES})


@bp.get("/hyperparameters")
def hyperparameter_texts() -> Response:
    return jsonify(hyperparameters=hyperparameters.describe())


@bp.get("/scoring")
def scoring() -> Response:
    return jsonify(
        objectives=list(OBJECTIVES),
        default_weights={"accuracy": DEFAULT_ACCURACY_WEIGHT,
                         "health": dict(DEFAULT_HEALTH_WEIGHTS)},
        components=list(HEALTH_COMPONENTS),
        formula=describe_formula(ScoringWeights()),
        # a model within this of its dataset's chance (the trial's metrics.dataset.chance)
        # learned nothing: the dashboard flags it
        chance_margin=CHANCE_MARGIN,
    )


@bp.get("/statuses")
def statuses() -> Response:
    return jsonify(describe_statuses())


@bp.get("/openapi.json")
def openapi() -> Response:
    from webapp.limits import default_limits
    from webapp.openapi import document

    web = state()
    return jsonify(document(default_limits(web.settings), auth_required=web.auth_required))
