"""Where a job's Optuna study lives: its name and the RDB storage that holds it.

The orchestrator (the study's one writer) and the web app (a reader) open the
same storage the same way, so both take it from here. Optuna is imported only
by the roles that use studies, not by the rest of `onegin`.
"""

from __future__ import annotations

from typing import Any

import optuna


def study_name(job_id: str) -> str:
    return f"job-{job_id}"


def open_study_storage(url: str, *, read_only: bool = False) -> optuna.storages.RDBStorage:
    """Optuna's RDB storage at ``url``; connections are checked before use (a database
    restart drops them) and SQLite waits 30 s for a lock rather than failing at once.

    ``read_only``: never create or migrate Optuna's tables (the web app only reads
    what the orchestrator created).
    """
    engine_kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        engine_kwargs["connect_args"] = {"timeout": 30}
    return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs,
                                      skip_compatibility_check=read_only,
                                      skip_table_creation=read_only)
