"""Shared fixtures of the working-day calendar tests: the organization's zone, fast passwords, and a
calendar with the official 2026 arrangement loaded from the installed chinesecalendar."""

from __future__ import annotations

import pytest

from sharehub.access import services


@pytest.fixture(autouse=True)
def _organization(settings):
    settings.TIME_ZONE = "Asia/Shanghai"


@pytest.fixture
def loaded_2026(db) -> services.CalendarLoad:
    """2026's official days, loaded for real from the package (as the operator at the command line)."""
    return services.load_official_year(None, 2026)
