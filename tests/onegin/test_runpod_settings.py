"""The scaler's settings: defaults, the key stays secret, min and max checked together."""

from __future__ import annotations

import pytest

from onegin.errors import ConfigError
from onegin.settings import load_settings


def test_defaults_scale_to_zero_and_talk_to_runpod() -> None:
    s = load_settings(env={})
    assert (s.runpod_min_pods, s.runpod_max_pods) == (0, 4)
    assert (s.runpod_idle_timeout, s.runpod_stuck_timeout, s.runpod_interval) == (600, 900, 30)
    assert s.runpod_api_url == "https://rest.runpod.io/v1" and s.runpod_api_key is None
    assert s.runpod_name_prefix == "onegin-gpu" and s.runpod_pod_template is None


def test_the_api_key_is_never_shown() -> None:
    s = load_settings(env={"ONEGIN_RUNPOD_API_KEY": "rpa_SECRET"})
    assert s.runpod_api_key == "rpa_SECRET"
    assert s.redacted()["runpod_api_key"] == "***" and "rpa_SECRET" not in repr(s)


@pytest.mark.parametrize(("env", "field"), [
    ({"ONEGIN_RUNPOD_MIN_PODS": "5"}, "ONEGIN_RUNPOD_MIN_PODS"),
    ({"ONEGIN_RUNPOD_MIN_PODS": "5", "ONEGIN_RUNPOD_MAX_PODS": "3"}, "ONEGIN_RUNPOD_MAX_PODS"),
    ({"ONEGIN_RUNPOD_MAX_PODS": "0"}, "ONEGIN_RUNPOD_MAX_PODS"),
    ({"ONEGIN_RUNPOD_MIN_PODS": "-1"}, "ONEGIN_RUNPOD_MIN_PODS"),
    ({"ONEGIN_RUNPOD_IDLE_TIMEOUT": "0"}, "ONEGIN_RUNPOD_IDLE_TIMEOUT"),
    ({"ONEGIN_RUNPOD_API_URL": "ftp://runpod"}, "ONEGIN_RUNPOD_API_URL"),
])
def test_bad_values_name_their_variable(env: dict[str, str], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env=env)
    assert caught.value.field == field
