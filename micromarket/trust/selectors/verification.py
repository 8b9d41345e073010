"""Reads of the verification area: a person's badges (email, phone, identity), whether a seller
may be paid out, the public trader information of verified traders, the operators' queue.
See docs/trust.md."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from babel import Locale

from micromarket.core.errors import NotFound
from micromarket.trust.models import PhoneVerification, TraderVerification

# Babel's territories that are not countries (groupings, "unknown", pseudo-locales).
NOT_COUNTRIES = {"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB"}


@cache
def countries() -> dict[str, str]:
    """ISO 3166 alpha-2 code → English name, sorted by name."""
    names = {
        code: name
        for code, name in Locale("en").territories.items()
        if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    }
    return dict(sorted(names.items(), key=lambda item: item[1]))


def country_name(code: str) -> str:
    return countries().get(code, code)


@dataclass(frozen=True)
class Badges:
    email: bool
    phone: bool
    identity: bool
    email_verified_at: datetime | None
    phone_verified_at: datetime | None
    identity_verified_at: datetime | None

    @property
    def any(self) -> bool:
        return self.email or self.phone or self.identity


def phone_for(*, user) -> PhoneVerification | None:
    """The person's phone: their newest verified number."""
    return (
        PhoneVerification.objects.filter(user=user, verified_at__isnull=False)
        .order_by("-verified_at", "-id")
        .first()
    )


def phone_pending(*, user, now=None) -> PhoneVerification | None:
    """The newest code still waiting to be entered (may have expired)."""
    return (
        PhoneVerification.objects.filter(user=user, verified_at__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )


def trader_latest(*, user) -> TraderVerification | None:
    """The person's newest submission, whatever its state (what the settings page shows)."""
    if user is None or not getattr(user, "pk", None):
        return None
    return TraderVerification.objects.filter(user=user).order_by("-created_at", "-id").first()


def _trader_reviewed(user) -> TraderVerification | None:
    return (
        TraderVerification.objects.filter(user=user)
        .exclude(status=TraderVerification.Status.PENDING)
        .order_by("-created_at", "-id")
        .first()
    )


def payouts_allowed(*, user) -> bool:
    """Payouts need the newest submission approved: new details (another payout account, a
    new address) are checked before money goes out again."""
    latest = trader_latest(user=user)
    return latest is not None and latest.status == TraderVerification.Status.APPROVED


def badges(*, user) -> Badges:
    """What is verified about a person. The identity badge stays while newer details wait for
    review: the verified ones are still true."""
    phone = phone_for(user=user)
    trader = _trader_reviewed(user)
    identity = trader is not None and trader.status == TraderVerification.Status.APPROVED
    return Badges(
        email=user.email_verified_at is not None,
        phone=phone is not None,
        identity=identity,
        email_verified_at=user.email_verified_at,
        phone_verified_at=phone.verified_at if phone else None,
        identity_verified_at=trader.reviewed_at if identity else None,
    )


def trader_details(*, user) -> dict | None:
    """The public trader information (DSA art. 30) of an approved trader, else None."""
    trader = _trader_reviewed(user)
    if trader is None or trader.status != TraderVerification.Status.APPROVED:
        return None
    return {
        "legal_name": trader.legal_name,
        "address_line": trader.address_line,
        "city": trader.city,
        "postal_code": trader.postal_code,
        "country": trader.country,
        "country_name": country_name(trader.country),
        "trade_register_number": trader.trade_register_number,
        "verified_at": trader.reviewed_at,
    }


# --- operators --------------------------------------------------------------------------------


def trader_queue():
    """Submissions waiting for review, oldest first."""
    return (
        TraderVerification.objects.filter(status=TraderVerification.Status.PENDING)
        .select_related("user", "user__shop")
        .order_by("created_at", "id")
    )


def trader_recent_reviewed(*, limit: int = 20) -> list[TraderVerification]:
    return list(
        TraderVerification.objects.exclude(status=TraderVerification.Status.PENDING)
        .select_related("user", "reviewer")
        .order_by("-reviewed_at", "-id")[:limit]
    )


def trader_get(*, verification_id: int) -> TraderVerification:
    """One submission for an operator (the caller checks that the viewer is one)."""
    row = (
        TraderVerification.objects.select_related("user", "user__shop", "payout_method", "reviewer")
        .filter(pk=verification_id)
        .first()
    )
    if row is None:
        raise NotFound("No such submission.")
    return row


def trader_history(*, user) -> list[TraderVerification]:
    return list(
        TraderVerification.objects.filter(user=user)
        .select_related("reviewer")
        .order_by("-created_at", "-id")
    )
