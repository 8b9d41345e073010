"""Reads about people and shops, used by views, the API and other apps."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_otp import devices_for_user

from micromarket.accounts.models import ApiToken, Shop, User
from micromarket.core.errors import NotFound


def shop_get_public(*, slug: str) -> Shop:
    """The shop at ``slug`` if the public may see it (active shop of an active seller)."""
    try:
        return Shop.objects.select_related("owner").get(
            slug=slug, is_active=True, owner__is_active=True, owner__deleted_at__isnull=True
        )
    except Shop.DoesNotExist:
        raise NotFound("There is no shop at this address.") from None


def shop_for_user(*, user: User) -> Shop | None:
    if not user.is_authenticated:
        return None
    return Shop.objects.filter(owner=user).first()


def shops_recent(*, limit: int = 8) -> list[Shop]:
    return list(
        Shop.objects.filter(is_active=True, owner__is_active=True)
        .select_related("owner")
        .order_by("-created_at")[:limit]
    )


def user_roles(*, user: User) -> list[str]:
    """buyer (everyone signed in), seller (has a shop), operator (staff)."""
    if not user.is_authenticated:
        return []
    roles = ["buyer"]
    if shop_for_user(user=user) is not None:
        roles.append("seller")
    if user.is_staff:
        roles.append("operator")
    return roles


def user_has_two_factor(*, user: User) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def user_totp_device(*, user: User):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def user_pending_totp_device(*, user: User):
    """The authenticator being set up (scanned but not yet confirmed with a code), if any."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=False).first()


def user_backup_codes_left(*, user: User) -> int:
    from django_otp.plugins.otp_static.models import StaticToken

    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def api_tokens_for_user(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")


def user_personal_data(*, user: User) -> dict[str, Any]:
    """Everything we hold about ``user``, as JSON-ready data (the "download my data" export)."""
    shop = shop_for_user(user=user)
    return {
        "format": "micromarket.personal-data/1",
        "account": {
            "id": user.pk,
            "email": user.email,
            "email_verified_at": _iso(user.email_verified_at),
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
            "roles": user_roles(user=user),
        },
        "profile": {
            "display_name": user.display_name,
            "bio": user.bio,
            "location": user.location,
            "languages": user.languages,
            "skills": user.skills,
            "timezone": user.timezone,
            "preferred_currency": user.preferred_currency,
            "avatar": user.avatar.name or None,
        },
        "shop": (
            {
                "name": shop.name,
                "slug": shop.slug,
                "tagline": shop.tagline,
                "description": shop.description,
                "created_at": _iso(shop.created_at),
            }
            if shop
            else None
        ),
        "security": {
            "two_factor_enabled": user_has_two_factor(user=user),
            "api_tokens": [
                {
                    "name": t.name,
                    "prefix": t.prefix,
                    "created_at": _iso(t.created_at),
                    "last_used_at": _iso(t.last_used_at),
                    "expires_at": _iso(t.expires_at),
                    "revoked_at": _iso(t.revoked_at),
                }
                for t in ApiToken.objects.filter(user=user).order_by("created_at")
            ],
        },
    }


def marketplace_figures() -> dict[str, int]:
    """Counts for the landing page and the operator dashboard."""
    active = User.objects.filter(is_active=True, deleted_at__isnull=True)
    return {
        "members": active.count(),
        "sellers": Shop.objects.filter(is_active=True, owner__is_active=True).count(),
        "verified": active.filter(email_verified_at__isnull=False).count(),
        "operators": active.filter(is_staff=True).count(),
    }


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def user_get_active(*, user_id: int) -> User | None:
    return User.objects.filter(pk=user_id, is_active=True, deleted_at__isnull=True).first()


def user_for_operators(*, user_id: int) -> User:
    """Any account, active or not (operators' pages: reports, suspension); NotFound if none."""
    user = User.objects.select_related("shop").filter(pk=user_id).first()
    if user is None:
        raise NotFound("There is no such user.")
    return user


def users_by_ids(*, ids) -> dict[int, User]:
    """Accounts by id, with their shops (one query), for lists that name many people."""
    return {u.pk: u for u in User.objects.select_related("shop").filter(pk__in=list(ids))}


def seller_by_email(*, email: str) -> User | None:
    """The active seller (a user with an active shop) with this email, if any."""
    return (
        User.objects.filter(
            email__iexact=(email or "").strip(),
            is_active=True,
            deleted_at__isnull=True,
            shop__is_active=True,
        )
        .select_related("shop")
        .first()
    )


def sellers_with_skills(*, skills: list[str], exclude_ids=()) -> list[User]:
    """Active sellers whose profile lists any of ``skills`` (case and spacing ignored).

    Skills are a short JSON list per user, compared in Python so the same code runs on SQLite
    and PostgreSQL; the scan reads only sellers who listed a skill at all."""
    wanted = {s.strip().casefold() for s in skills if s.strip()}
    if not wanted:
        return []
    candidates = (
        User.objects.filter(is_active=True, deleted_at__isnull=True, shop__is_active=True)
        .exclude(skills=[])
        .exclude(pk__in=list(exclude_ids))
        .only("pk", "email", "display_name", "skills", "is_active", "deleted_at", "timezone")
    )
    return [
        user
        for user in candidates.iterator(chunk_size=500)
        if wanted & {str(s).strip().casefold() for s in user.skills or []}
    ]
