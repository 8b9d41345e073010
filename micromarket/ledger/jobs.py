"""Periodic ledger jobs run by the worker's sweeper."""

from datetime import datetime, timedelta

from micromarket.core.sweeper import periodic
from micromarket.ledger import services


@periodic("ledger.clear_earnings", every=timedelta(minutes=5))
def clear_earnings(*, now: datetime) -> int:
    """Pending earnings whose clearing period ended become available."""
    return services.clearing_apply_due(now=now)
