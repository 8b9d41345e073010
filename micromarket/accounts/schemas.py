from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema


class ShopOut(Schema):
    name: str
    slug: str
    tagline: str
    description: str
    url: str
    created_at: datetime


class MeOut(Schema):
    id: int
    email: str
    email_verified: bool
    display_name: str
    avatar_url: str | None
    bio: str
    location: str
    languages: list[str]
    skills: list[str]
    timezone: str
    preferred_currency: str
    roles: list[str]
    two_factor_enabled: bool
    shop: ShopOut | None
    date_joined: datetime


class MePatch(Schema):
    """Send only the fields to change."""

    display_name: str | None = Field(None, max_length=80)
    bio: str | None = Field(None, max_length=2000)
    location: str | None = Field(None, max_length=120)
    languages: list[str] | None = None
    skills: list[str] | None = None
    timezone: str | None = None
    preferred_currency: str | None = Field(None, min_length=3, max_length=3)


class TokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=80)
    expires_in_days: int | None = Field(None, ge=1, le=366)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(..., description="The secret. Shown only in this response.")


class PublicProfileOut(Schema):
    display_name: str
    avatar_url: str | None
    bio: str
    location: str
    languages: list[str]
    skills: list[str]
    member_since: datetime


class PublicShopOut(ShopOut):
    seller: PublicProfileOut
