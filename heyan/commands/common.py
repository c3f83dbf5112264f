"""Helpers shared by commands."""

from __future__ import annotations

from heyan.models.settings import DetectorSettings
from heyan.settings import get_settings


def detector_settings(model: str | None = None) -> DetectorSettings:
    """The settings' detector, with ``--model`` in place of the default model when given."""
    s = get_settings().detector
    return s.model_copy(update={"model": model}) if model else s
