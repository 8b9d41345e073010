"""Template filters of the invoices area: ``{{ bps|bps_percent }}`` → "5.5%"."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def bps_percent(bps) -> str:
    """Basis points as a percentage with only the decimals it needs: 550 → "5.5%",
    725 → "7.25%", 2000 → "20%", 0 → "0%"."""
    try:
        value = Decimal(int(bps or 0)) / 100
    except (TypeError, ValueError):
        return ""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"
