"""Every hyperparameter of every space is explained, from one source."""

from __future__ import annotations

from dataclasses import replace

import pytest

from onegin import hyperparameters
from onegin.hyperparameters import EXPLANATIONS, searched_ranges, unexplained
from onegin.search_space import TABLES, CategoricalParam, IntParam


def test_every_parameter_of_every_space_has_an_explanation() -> None:
    # fails as soon as a parameter is added to a space without its text
    assert unexplained() == []


def test_an_added_parameter_without_a_text_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    image = (*TABLES["wide"]["image"], IntParam("residual_blocks", 0, 2, 0))
    monkeypatch.setitem(TABLES, "wide", {**TABLES["wide"], "image": image})
    assert unexplained() == ["residual_blocks"]


def test_no_text_explains_a_parameter_no_space_has() -> None:
    names = {p.name for tables in TABLES.values() for params in tables.values() for p in params}
    assert set(EXPLANATIONS) <= names


@pytest.mark.parametrize("name", sorted(EXPLANATIONS))
def test_each_text_says_what_it_is_what_changing_it_does_and_a_range(name: str) -> None:
    text = EXPLANATIONS[name]
    for part in (text.title, text.what, text.effect, text.typical):
        assert part.strip() and part == part.strip()
    assert len(text.what) >= 30 and len(text.effect) >= 40, name


def test_the_searched_range_comes_from_the_default_space() -> None:
    ranges = searched_ranges()
    default_image = {p.name: p for p in TABLES["default"]["image"]}
    filters = default_image["filters"]
    assert isinstance(filters, IntParam)
    assert ranges["filters"] == {"image": f"{filters.low}–{filters.high}"}
    activation = default_image["activation"]
    assert isinstance(activation, CategoricalParam)
    assert ranges["activation"]["image"] == ", ".join(activation.choices)
    assert ranges["batch_norm"]["image"] == "true, false"
    assert ranges["learning_rate"]["image"].startswith("adam 0.0003–0.005; adamw")
    assert set(ranges["dropout"]) == {"image", "text"}


def test_a_setting_the_default_space_never_applies_is_not_searched() -> None:
    ranges = searched_ranges()
    assert ranges["lr_schedule"] == {"image": "constant", "text": "constant"}
    assert ranges["early_stopping"] == {"image": "false", "text": "false"}
    assert ranges["lr_warmup"]["image"] == "constant 0"  # the one schedule searched
    for name in ("lr_decay_rate", "lr_step_epochs", "lr_plateau_patience",
                 "early_stopping_patience"):
        assert name not in ranges, name
    assert "sgd_plain" not in ranges["learning_rate"]["image"]  # allowed, not searched


def test_a_space_that_searches_a_schedule_lists_its_settings(
        monkeypatch: pytest.MonkeyPatch) -> None:
    image = tuple(replace(p, choices=("constant", "step"))
                  if isinstance(p, CategoricalParam) and p.name == "lr_schedule" else p
                  for p in TABLES["default"]["image"])
    monkeypatch.setitem(TABLES, "default", {**TABLES["default"], "image": image})
    ranges = searched_ranges()
    assert ranges["lr_warmup"]["image"] == "constant 0; step 0–0.5"
    assert ranges["lr_decay_rate"] == {"image": "step 0.2–0.5"}
    assert ranges["lr_step_epochs"] == {"image": "1–2"}
    assert "lr_plateau_patience" not in ranges


def test_describe_serves_every_text_with_its_ranges() -> None:
    served = hyperparameters.describe()
    assert set(served) == set(EXPLANATIONS)
    assert served["dense_units"]["what"] == EXPLANATIONS["dense_units"].what
    assert set(served["dense_units"]["searched"]) == {"image", "text"}
    assert served["max_filters"]["searched"] == {"image": "128"}
