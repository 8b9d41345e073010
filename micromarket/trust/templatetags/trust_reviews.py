"""Template tags of the reviews area: ratings as text stars and the reads the hook partials
need (they are included by other apps' pages with only ``offer``, ``seller`` or ``order``)."""

from __future__ import annotations

from django import template

from micromarket.trust.selectors import reviews as review_selectors

register = template.Library()

OFFER_REVIEWS_SHOWN = 5
SELLER_REVIEWS_SHOWN = 3
TRENDS = {
    "up": "↑ better lately",
    "down": "↓ lower lately",
    "steady": "→ steady lately",
}


@register.filter
def stars(rating) -> str:
    """A rating as five text stars (★ filled, ☆ empty), rounded to the nearest whole star."""
    if rating is None:
        return "☆☆☆☆☆"
    filled = max(0, min(5, int(float(rating) + 0.5)))
    return "★" * filled + "☆" * (5 - filled)


@register.filter
def trend_label(trend) -> str:
    return TRENDS.get(trend or "", "")


@register.simple_tag
def offer_rating(offer):
    return review_selectors.offer_reputation(offer_id=offer.pk)


@register.simple_tag
def offer_reviews(offer, limit: int = OFFER_REVIEWS_SHOWN):
    """The offer's newest public reviews and whether there are more."""
    rows = list(review_selectors.offer_reviews(offer_id=offer.pk)[: limit + 1])
    return {"reviews": rows[:limit], "more": len(rows) > limit}


@register.simple_tag
def user_reputation(user, role: str = "seller"):
    return review_selectors.reputation(user=user, role=role)


@register.simple_tag
def user_reviews(user, role: str = "seller", limit: int = SELLER_REVIEWS_SHOWN):
    rows = list(review_selectors.public_reviews(subject_id=user.pk, role=role)[: limit + 1])
    return {"reviews": rows[:limit], "more": len(rows) > limit}


@register.simple_tag(takes_context=True)
def order_reviews(context, order):
    """Reviews on ``order`` as the signed-in party sees them (None for anyone else)."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return review_selectors.order_reviews(order=order, user=user)
