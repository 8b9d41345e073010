"""Housekeeping for accounts, run by the worker's sweeper."""

from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings

from micromarket.core.sweeper import periodic


@periodic("accounts.clear_expired_sessions", every=timedelta(hours=1))
def clear_expired_sessions(*, now: datetime) -> int:
    """Remove expired sessions (database-backed engines keep them otherwise)."""
    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.clear_expired()
    return 0
