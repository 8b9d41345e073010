from django import template

from micromarket.core.money import from_minor, money_format

register = template.Library()


@register.filter
def money(minor, currency):
    """{{ offer.price_from|money:offer.currency }} → "$12.50"."""
    if minor in (None, ""):
        return ""
    return money_format(int(minor), currency)


@register.filter
def major(minor, currency):
    """Minor units as a plain decimal for form fields: 1250 → 12.50."""
    if minor in (None, ""):
        return ""
    return from_minor(int(minor), currency)
