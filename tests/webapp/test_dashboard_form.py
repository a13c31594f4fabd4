"""The dashboard form's bounds come from the job configuration, never a copy of them."""

from __future__ import annotations

import re

from onegin.job_config import MAX_EPOCHS, MAX_TRIALS
from tests.webapp.conftest import Web


def test_the_form_bounds_trials_and_epochs_as_the_configuration_does(web: Web) -> None:
    page = web.client.get("/").get_data(as_text=True)
    for name, cap in (("trials", MAX_TRIALS), ("epochs", MAX_EPOCHS)):
        field = re.search(rf'<input id="{name}"[^>]*>', page, re.S)
        assert field is not None, name
        assert f'max="{cap}"' in field.group(0)
