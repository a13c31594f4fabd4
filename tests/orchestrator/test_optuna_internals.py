"""Optuna's private pieces that `orchestrator.owned_storage` relies on, checked as it uses them.

`OwnedStudyStorage._write_params` inserts an ask's parameters in one transaction
with ``optuna.storages._rdb.storage._create_scoped_session`` and
``optuna.storages._rdb.models.TrialParamModel`` (docs/architecture.md says why
no public API serves). An Optuna release that changes either fails here, on a
real SQLite database, before it can corrupt a study: pyproject.toml pins the
range these tests passed on.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy.exc
from optuna.distributions import FloatDistribution, distribution_to_json
from optuna.storages._rdb import models
from optuna.storages._rdb.storage import _create_scoped_session
from optuna.study import StudyDirection

from onegin.study_storage import open_study_storage


def test_a_batch_of_params_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    storage = open_study_storage(f"sqlite:///{tmp_path / 'study.db'}")
    study_id = storage.create_new_study([StudyDirection.MAXIMIZE], "internals")
    trial_id = storage.create_new_trial(study_id)
    dist = FloatDistribution(0.0, 1.0)

    def row(name: str, value: float) -> models.TrialParamModel:
        return models.TrialParamModel(trial_id=trial_id, param_name=name, param_value=value,
                                      distribution_json=distribution_to_json(dist))

    # one parameter twice breaks the (trial, name) key: the first row must go too
    with pytest.raises(sqlalchemy.exc.IntegrityError), \
            _create_scoped_session(storage.scoped_session) as session:
        session.add_all([row("a", 0.25), row("a", 0.5)])
    assert storage.get_trial(trial_id).params == {}

    with _create_scoped_session(storage.scoped_session) as session:
        session.add_all([row("a", 0.25), row("b", 0.75)])
    trial = storage.get_trial(trial_id)  # what Optuna's own reads make of our rows
    assert trial.params == {"a": 0.25, "b": 0.75}
    assert trial.distributions == {"a": dist, "b": dist}
    storage.engine.dispose()
