"""The dashboard form's bounds come from the job configuration, never a copy of them."""

from __future__ import annotations

import re

from onegin.job_config import MAX_CONCURRENCY, MAX_EPOCHS, MAX_TRIALS, PLOT_MODES
from tests.webapp.conftest import Web
from webapp.limits import default_limits


def test_the_form_bounds_trials_and_epochs_as_the_configuration_does(web: Web) -> None:
    """Within the server's default limits (the local user's), which are lower here."""
    page = web.client.get("/").get_data(as_text=True)
    limits = default_limits(web.state.settings)
    for name, cap in (("trials", min(MAX_TRIALS, limits.max_trials)),
                      ("epochs", min(MAX_EPOCHS, limits.max_epochs)),
                      ("concurrency", min(MAX_CONCURRENCY, limits.max_concurrency))):
        field = re.search(rf'<input id="{name}"[^>]*>', page, re.S)
        assert field is not None, name
        assert f'max="{cap}"' in field.group(0)
    assert limits.max_trials < MAX_TRIALS  # so the page does not offer what a Start refuses


def test_the_form_offers_every_plot_mode_with_the_configurations_default(web: Web) -> None:
    page = web.client.get("/").get_data(as_text=True)
    select = re.search(r'<select id="plot_mode".*?</select>', page, re.S)
    assert select is not None
    options = re.findall(r'<option value="([^"]+)"( selected)?>', select.group(0))
    assert [value for value, _ in options] == list(PLOT_MODES)
    assert [value for value, chosen in options if chosen] == ["best"]
