"""Template helpers of the resolution center: deadlines in words, status badges."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

register = template.Library()

BADGES = {
    "awaiting_response": "warn",
    "in_discussion": "",
    "escalated": "danger",
    "resolved": "ok",
}


@register.filter
def deadline_words(when) -> str:
    """“in 2 days, 3 hours” or “passed 4 hours ago” (to the minute, never a bare date)."""
    if when is None:
        return ""
    now = timezone.now()
    if when > now:
        return f"in {timeuntil(when, now, depth=2)}"
    return f"passed {timesince(when, now, depth=2)} ago"


@register.filter
def dispute_badge(status: str) -> str:
    """The badge class for a dispute's status."""
    return BADGES.get(status, "")
