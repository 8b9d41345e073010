"""Project-wide pytest setup.

- Tests marked ``postgres`` (row locks, concurrency) run only when DATABASE_URL points at
  PostgreSQL; on SQLite they are deselected (reported as such), not skipped.
- Tests marked ``browser`` run only under ``make test-browser``.
"""

from __future__ import annotations

import pytest
from django.conf import settings


def _on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(config, items):
    if _on_postgres():
        return
    selected, deselected = [], []
    for item in items:
        (deselected if item.get_closest_marker("postgres") else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.fixture(autouse=True)
def _media_and_cache_isolation(settings, tmp_path):
    """Each test gets empty caches (rate limits, axes) and its own media directory."""
    from django.core.cache import cache

    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()
