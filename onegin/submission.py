"""A validated config becomes a job record: the one door for the CLI, Python and REST.

What the pure validation cannot see is checked here, against the records: a job
may continue only from an earlier one that is finished and searched the same
dataset in the same space.
"""

from __future__ import annotations

from onegin.errors import ConfigError
from onegin.job_config import OptimizationConfig
from onegin.records import JobRecord, RecordNotFound, RecordStore

FIELD = "continue_from"
SPACE_BEFORE_NAMES = "wide"  # jobs stored before spaces had names searched today's wide space


def check_continue_from(config: OptimizationConfig, records: RecordStore) -> None:
    """Raise `ConfigError` naming ``continue_from`` when its job cannot seed this one."""
    job_id = config.continue_from
    if job_id is None:
        return
    try:
        earlier = records.get_job(job_id)
    except RecordNotFound:
        raise ConfigError(FIELD, f"no job {job_id!r}") from None
    if not earlier.terminal:
        raise ConfigError(FIELD, f"job {job_id} is still {earlier.status}; "
                                 "continue from a finished job")
    dataset = earlier.config.get("dataset")
    if dataset != config.dataset:
        raise ConfigError(FIELD, f"job {job_id} searched dataset {dataset!r}, "
                                 f"not {config.dataset!r}")
    space = earlier.config.get("space", SPACE_BEFORE_NAMES)
    if space != config.space_name:
        raise ConfigError(FIELD, f"job {job_id} searched the {space!r} space, "
                                 f"not {config.space_name!r}")


def create_job(records: RecordStore, config: OptimizationConfig, *,
               owner: str | None = None) -> JobRecord:
    """Check what needs the records, then store the job (status ``queued``)."""
    check_continue_from(config, records)
    return records.create_job(config.to_dict(), owner=owner)
