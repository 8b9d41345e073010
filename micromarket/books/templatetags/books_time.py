"""Template filters of the time area: ``{{ seconds|duration }}`` → "1:30"."""

from django import template

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """Seconds as hours:minutes (rounded to the minute)."""
    try:
        seconds = int(seconds or 0)
    except (TypeError, ValueError):
        return ""
    minutes = (seconds + 30) // 60
    return f"{minutes // 60}:{minutes % 60:02d}"


@register.filter
def hours(seconds) -> str:
    """Seconds as decimal hours, two places ("1.50")."""
    try:
        return f"{int(seconds or 0) / 3600:.2f}"
    except (TypeError, ValueError):
        return ""
