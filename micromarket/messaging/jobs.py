"""Periodic messaging jobs run by the worker's sweeper."""

from datetime import datetime, timedelta

from micromarket.core.sweeper import periodic
from micromarket.messaging import notifications, services


@periodic("messaging.notification_emails", every=timedelta(minutes=1))
def deliver_notification_emails(*, now: datetime) -> int:
    """Notification emails that are due: batching windows that ended, retries, lost tasks."""
    return notifications.notification_emails_deliver_due(now=now)


@periodic("messaging.notification_digests", every=timedelta(minutes=1))
def send_notification_digests(*, now: datetime) -> int:
    """Daily digests of users whose last digest went out 24 hours ago or more (or never)."""
    return notifications.notification_digests_send(now=now)


# --- conversations ---


@periodic("messaging.expire_custom_offers", every=timedelta(minutes=5))
def expire_custom_offers(*, now: datetime) -> int:
    """Open custom offers past their date expire (the buyer can no longer accept them)."""
    return services.custom_offers_expire(now=now)
