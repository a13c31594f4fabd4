"""Per-token budget limits on web jobs. Pure: checked before a job is stored.

Each limit is the token's own (set at `onegin token create --max-trials …`) or
else the settings' default, so an operator can cap what one API user can ask a
shared GPU pool for without touching the engine's absolute maxima.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from onegin.job_config import OptimizationConfig
from onegin.records import TokenRecord
from onegin.settings import Settings

# job field -> the Limits attribute that caps it
LIMITED_FIELDS: dict[str, str] = {
    "trials": "max_trials",
    "epochs": "max_epochs",
    "concurrency": "max_concurrency",
}


@dataclass(frozen=True)
class Limits:
    max_trials: int
    max_epochs: int
    max_concurrency: int

    def to_dict(self) -> dict[str, int]:
        return {"max_trials": self.max_trials, "max_epochs": self.max_epochs,
                "max_concurrency": self.max_concurrency}


def default_limits(settings: Settings) -> Limits:
    return Limits(settings.limit_max_trials, settings.limit_max_epochs,
                  settings.limit_max_concurrency)


def limits_for(token: TokenRecord | None, settings: Settings) -> Limits:
    """The token's own limits where it has them, the settings' defaults elsewhere."""
    base = default_limits(settings)
    if token is None:
        return base
    return Limits(
        token.max_trials if token.max_trials is not None else base.max_trials,
        token.max_epochs if token.max_epochs is not None else base.max_epochs,
        token.max_concurrency if token.max_concurrency is not None else base.max_concurrency,
    )


def check_limits(data: Mapping[str, Any], limits: Limits) -> dict[str, tuple[str, int]]:
    """Fields of job request ``data`` over their limit: field -> (reason, limit).

    A field left out takes `OptimizationConfig`'s default, which must fit too;
    values that are not numbers are left to the config validation to name.
    """
    defaults = OptimizationConfig()
    over: dict[str, tuple[str, int]] = {}
    for field, attribute in LIMITED_FIELDS.items():
        value = data.get(field, getattr(defaults, field))
        limit = getattr(limits, attribute)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if value > limit:  # 600.0 too: JSON's 600.0 is the integer 600
            given = "" if field in data else f" (the default is {value})"
            over[field] = (f"must be at most {limit}, this token's limit{given}", limit)
    return over
