"""Template tags of the verification area: badges and trader information on offer, shop and
person pages, and the payouts notice on the earnings page."""

from __future__ import annotations

from django import template

from micromarket.trust.selectors import verification as selectors

register = template.Library()


@register.simple_tag
def verification_badges(person):
    if person is None or not getattr(person, "pk", None):
        return None
    return selectors.badges(user=person)


@register.simple_tag
def trader_information(person):
    if person is None or not getattr(person, "pk", None):
        return None
    return selectors.trader_details(user=person)


@register.simple_tag
def payouts_notice(user) -> str:
    """Why payouts are off for this seller, or "" when they are on."""
    if not getattr(user, "is_authenticated", False) or selectors.payouts_allowed(user=user):
        return ""
    latest = selectors.trader_latest(user=user)
    if latest is None:
        return "Payouts start once an operator has verified your identity and trader details."
    if latest.status == latest.Status.PENDING:
        return "Payouts start once an operator has reviewed the trader details you sent."
    return f"Your trader details were not accepted ({latest.review_note}); payouts are off."
