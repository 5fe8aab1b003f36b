"""Vertex AI SDK names with no local equivalent fail with an AttributeError that says what to do instead."""

from __future__ import annotations

import pytest

import trackbook


@pytest.mark.parametrize("name", ["log_model", "save_model", "get_experiment_model", "ExperimentModel"])
def test_model_apis_say_how_to_record_a_model(name: str) -> None:
    with pytest.raises(AttributeError, match=rf"trackbook has no {name}: .*Artifact\.create\('system\.Model'"):
        getattr(trackbook, name)
    assert not hasattr(trackbook, name)


def test_other_missing_names_are_plain_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="module 'trackbook' has no attribute 'no_such_thing'"):
        trackbook.no_such_thing  # type: ignore[attr-defined]  # noqa: B018
