"""Periodic money jobs run by the worker's sweeper."""

from datetime import datetime, timedelta

from django.utils import timezone

from micromarket.core.sweeper import periodic
from micromarket.payments import services


@periodic("payments.follow_payouts", every=timedelta(minutes=1))
def follow_payouts(*, now: datetime) -> int:
    return services.payouts_poll(now=now)


@periodic("payments.retry_refunds", every=timedelta(minutes=5))
def retry_refunds(*, now: datetime) -> int:
    return services.refunds_retry(now=now)


@periodic("payments.cancel_stale_payments", every=timedelta(hours=1))
def cancel_stale_payments(*, now: datetime) -> int:
    return services.payment_cancel_stale(now=now)


@periodic("payments.reconcile", every=timedelta(days=1))
def reconcile(*, now: datetime) -> int:
    """Yesterday's records against the provider's (and the ledger's own checks)."""
    yesterday = timezone.localdate(now) - timedelta(days=1)
    run = services.reconciliation_run(day=yesterday)
    return run.matched + run.differences
