"""Periodic order jobs run by the worker's sweeper."""

from datetime import datetime, timedelta

from micromarket.core.sweeper import periodic
from micromarket.orders import services


@periodic("orders.apply_deadlines", every=timedelta(minutes=1))
def apply_deadlines(*, now: datetime) -> int:
    """Automatic transitions that are due (auto-complete, expiry, end of a session …)."""
    return services.deadlines_apply(now=now)


@periodic("orders.sync_checkouts", every=timedelta(minutes=1))
def sync_checkouts(*, now: datetime) -> int:
    """Place or release orders whose payment finished outside the buyer's request."""
    return services.checkouts_sync(now=now)
