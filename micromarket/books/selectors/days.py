"""The seller's calendar day. Due dates, issue dates, reminder windows, the date an earning
enters the books and the year-to-date all count in the seller's own days (``owner.timezone``),
not the server's; an unset or unknown zone counts as UTC."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone


def owner_zone(owner) -> ZoneInfo:
    try:
        return ZoneInfo(getattr(owner, "timezone", "") or "UTC")
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return ZoneInfo("UTC")


def local_date(moment: datetime, owner) -> date:
    """The calendar day it is at ``moment`` where ``owner`` lives."""
    return moment.astimezone(owner_zone(owner)).date()


def owner_today(owner, *, now: datetime | None = None) -> date:
    """The owner's calendar day at ``now`` (default: the current time)."""
    return local_date(now or timezone.now(), owner)
