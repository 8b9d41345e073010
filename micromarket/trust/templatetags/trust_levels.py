"""``{% seller_standing seller as standing %}``: a seller's level for badges (one query)."""

from __future__ import annotations

from django import template

from micromarket.trust.selectors import levels as level_selectors

register = template.Library()


@register.simple_tag
def seller_standing(seller):
    """The seller's last computed level (``level``, ``label``, ``rank``); None without one."""
    if seller is None or getattr(seller, "pk", None) is None:
        return None
    return level_selectors.standing_for(seller_id=seller.pk)
