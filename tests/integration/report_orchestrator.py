"""The orchestrator's task module, with the comparison report's renderer a STAND-IN
(named so) where the real one, another change's, is not installed.

Everything else is the real orchestrator: its tasks are registered by importing
`orchestrator.tasks`; only `orchestrator.comparison.report` is put in place, before
Celery forks its pool, so a comparison on the cluster ends with report files.
"""

from __future__ import annotations

import sys

from orchestrator import tasks  # noqa: F401  (registers the real run_job task)
from tests.fixtures.report_stand_in import (
    StandInRenderer,
    real_renderer_installed,
    stand_in_modules,
)

if not real_renderer_installed():
    sys.modules.update(stand_in_modules(StandInRenderer()))
