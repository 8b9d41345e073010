"""Reads of the portable area: a seller's reputation as a document signed by the platform, so
they can show it anywhere and anyone can check it (see ``trust.signing`` and docs/trust.md).

The document is an envelope ``{"payload", "signature", "alg": "Ed25519", "kid"}``; the
signature covers the canonical JSON of ``payload``. Reviews carry no author names: the buyers
did not agree to be quoted elsewhere.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from micromarket.accounts import selectors as accounts_selectors
from micromarket.core.errors import PermissionDenied
from micromarket.orders import selectors as orders_selectors
from micromarket.trust import signing
from micromarket.trust.selectors import levels as level_selectors
from micromarket.trust.selectors import reviews as review_selectors
from micromarket.trust.selectors import verification as verification_selectors

DOCUMENT_TYPE = "micromarket.reputation/v1"
MAX_REVIEWS = 1000  # the newest; the figures count them all
KEYS_PATH = "/.well-known/micromarket-reputation-keys.json"


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _rounded(value: float | None) -> float | None:
    """Two decimals: enough for a rating, and the same text in every JSON serialiser."""
    return None if value is None else round(value, 2)


def _review(review) -> dict:
    return {
        "order_kind": review.order.kind,
        "offer": review.offer.title if review.offer_id else review.order.title,
        "rating": review.rating,
        "communication": review.communication,
        "accuracy": review.accuracy,
        "value": review.value,
        "text": review.text,
        "date": _iso(review.revealed_at or review.created_at),
        "reply": review.reply or None,
        "replied_at": _iso(review.replied_at),
    }


def reputation_payload(*, seller, now=None) -> dict:
    """What the platform vouches for about ``seller`` (unsigned). Sellers only."""
    now = now or timezone.now()
    shop = accounts_selectors.shop_for_user(user=seller)
    if shop is None:
        raise PermissionDenied(
            "Only sellers can export a reputation: open a shop first.", code="sellers_only"
        )
    rep = review_selectors.reputation(user=seller, role="seller", now=now)
    standing = level_selectors.standing_for(seller_id=seller.pk)
    badges = verification_selectors.badges(user=seller)
    reviews = (
        review_selectors.public_reviews(subject_id=seller.pk, role="seller")
        .select_related("order", "offer")
        .order_by("-revealed_at", "-id")[:MAX_REVIEWS]
    )
    completed = orders_selectors.orders_for_seller(seller=seller).filter(state="completed").count()
    return {
        "type": DOCUMENT_TYPE,
        "issuer": {
            "name": settings.SITE_NAME,
            "url": settings.SITE_URL,
            "keys": settings.SITE_URL + KEYS_PATH,
        },
        "issued_at": _iso(now),
        "subject": {
            "id": seller.pk,
            "display_name": seller.display_name,
            "shop": {
                "name": shop.name,
                "url": settings.SITE_URL + reverse("catalog:shop", args=[shop.slug]),
            },
        },
        "figures": {
            "reputation": {
                "rating": _rounded(rep.rating),
                "average": _rounded(rep.average),
                "count": rep.count,
                "distribution": {str(k): v for k, v in rep.distribution.items()},
            },
            "level": {
                "level": standing.level,
                "label": standing.label,
                "figures": standing.figures,
                "computed_at": _iso(standing.computed_at),
            },
            "completed_orders": completed,
            "member_since": seller.date_joined.date().isoformat(),
            "badges": {
                "email_verified": badges.email,
                "phone_verified": badges.phone,
                "identity_verified": badges.identity,
            },
        },
        "reviews": [_review(r) for r in reviews],
    }


def reputation_document(*, seller, now=None) -> dict:
    """The signed envelope of ``reputation_payload``."""
    return signing.sign(reputation_payload(seller=seller, now=now))


def signing_keys() -> dict:
    """The JWKS of the platform's public signing keys."""
    return signing.jwks()
