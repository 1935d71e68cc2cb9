"""Shared test settings: hypothesis profile and the repository root."""

from __future__ import annotations

import pathlib

from hypothesis import settings

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

settings.register_profile("course", max_examples=60, deadline=None, derandomize=True)
settings.load_profile("course")
