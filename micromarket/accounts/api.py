"""/api/v1/me, tokens and public shops. Endpoints validate, call one service, serialise."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status
from ninja.pagination import paginate

from micromarket.accounts import selectors, services
from micromarket.accounts.schemas import (
    MeOut,
    MePatch,
    PublicShopOut,
    TokenCreated,
    TokenIn,
    TokenOut,
)
from micromarket.core.api import PROBLEM_RESPONSES, LimitOffsetPage

router = Router(tags=["accounts"])


def _absolute(request: HttpRequest, url: str | None) -> str | None:
    return request.build_absolute_uri(url) if url else None


def _shop_data(request, shop) -> dict:
    return {
        "name": shop.name,
        "slug": shop.slug,
        "tagline": shop.tagline,
        "description": shop.description,
        "url": request.build_absolute_uri(f"/shops/{shop.slug}/"),
        "created_at": shop.created_at,
    }


def _me(request: HttpRequest, user) -> dict:
    shop = selectors.shop_for_user(user=user)
    return {
        "id": user.pk,
        "email": user.email,
        "email_verified": user.is_email_verified,
        "display_name": user.display_name,
        "avatar_url": _absolute(request, user.avatar.url if user.avatar else None),
        "bio": user.bio,
        "location": user.location,
        "languages": user.languages,
        "skills": user.skills,
        "timezone": user.timezone,
        "preferred_currency": user.preferred_currency,
        "roles": selectors.user_roles(user=user),
        "two_factor_enabled": selectors.user_has_two_factor(user=user),
        "shop": _shop_data(request, shop) if shop else None,
        "date_joined": user.date_joined,
    }


@router.get("/me", response={200: MeOut, **PROBLEM_RESPONSES}, summary="The signed-in user")
def me(request):
    return _me(request, request.auth)


@router.patch("/me", response={200: MeOut, **PROBLEM_RESPONSES}, summary="Update your profile")
def me_update(request, payload: MePatch):
    user = services.profile_update(user=request.auth, **payload.dict(exclude_unset=True))
    return _me(request, user)


@router.get("/me/tokens", response=list[TokenOut], summary="Your active API tokens")
@paginate(LimitOffsetPage)
def tokens_list(request):
    return selectors.api_tokens_for_user(user=request.auth)


@router.post(
    "/me/tokens",
    response={201: TokenCreated, **PROBLEM_RESPONSES},
    summary="Create an API token (the secret is in this response only)",
)
def tokens_create(request, payload: TokenIn):
    token, raw = services.token_create(
        user=request.auth, name=payload.name, expires_in_days=payload.expires_in_days
    )
    return Status(201, {**TokenOut.from_orm(token).dict(), "token": raw})


@router.delete(
    "/me/tokens/{token_id}",
    response={204: None, **PROBLEM_RESPONSES},
    summary="Revoke an API token",
)
def tokens_revoke(request, token_id: int):
    services.token_revoke(user=request.auth, token_id=token_id)
    return Status(204, None)


@router.get(
    "/shops/{slug}",
    response={200: PublicShopOut, **PROBLEM_RESPONSES},
    auth=None,
    summary="A seller's public shop",
)
def shop_get(request, slug: str):
    shop = selectors.shop_get_public(slug=slug)
    seller = shop.owner
    return {
        **_shop_data(request, shop),
        "seller": {
            "display_name": seller.display_name,
            "avatar_url": _absolute(request, seller.avatar.url if seller.avatar else None),
            "bio": seller.bio,
            "location": seller.location,
            "languages": seller.languages,
            "skills": seller.skills,
            "member_since": seller.date_joined,
        },
    }
