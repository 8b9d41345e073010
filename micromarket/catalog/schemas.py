from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Field, Schema

KIND = Literal["service", "experience", "rental", "task", "digital", "physical"]

DETAILS_DOC = (
    "Kind-specific fields; amounts are integers in minor units of `currency` (cents). "
    "service: {packages: [{tier, name, description, price, delivery_days, revisions, features}], "
    "extras: [{title, price, extra_days}], questions: [{question, required}]}. "
    "experience: {meeting_point, sessions: [{starts_at, duration_minutes | ends_at, capacity, "
    "price_per_person}]}. rental: {unit: night|day|hour, price_per_unit, min_units, max_units, "
    "security_deposit, cancellation_policy: flexible|moderate|strict, instant_booking, "
    "blocks: [{start, end, note}]}. task: {hourly_rate, min_hours, radius_km}. "
    "digital: {price}. physical: {price, stock, processing_days, variations: [{name, price, "
    "stock}], shipping: [{country, price, free_over}]}."
)


class CategoryOut(Schema):
    slug: str
    name: str
    children: list[CategoryOut] = []


class ListingIn(Schema):
    kind: KIND
    title: str = Field(..., max_length=120)
    description: str = Field(..., max_length=10_000, description="Markdown")
    category: str = Field(..., description="A subcategory slug from GET /categories")
    currency: str = Field(..., min_length=3, max_length=3)
    tags: list[str] = []
    languages: list[str] = []
    place_name: str = ""
    latitude: float | None = None
    longitude: float | None = None
    details: dict[str, Any] = Field(default_factory=dict, description=DETAILS_DOC)


class ListingPatch(Schema):
    """Send only what changes; `details` replaces the kind's details wholesale."""

    title: str | None = Field(None, max_length=120)
    description: str | None = Field(None, max_length=10_000)
    category: str | None = None
    currency: str | None = Field(None, min_length=3, max_length=3)
    tags: list[str] | None = None
    languages: list[str] | None = None
    place_name: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    details: dict[str, Any] | None = Field(None, description=DETAILS_DOC)


class ImageOut(Schema):
    id: int
    url: str
    alt_text: str


class ListingSummary(Schema):
    id: int
    kind: KIND
    status: str
    title: str
    category: str
    currency: str
    price_from: int | None
    delivery_days: int | None
    place_name: str
    shop: str
    shop_slug: str
    image: str | None
    url: str
    published_at: datetime | None


class Listing(ListingSummary):
    description: str
    description_html: str
    tags: list[str]
    languages: list[str]
    latitude: float | None
    longitude: float | None
    seller: str
    images: list[ImageOut]
    details: dict[str, Any]
    rejection_reason: str
    created_at: datetime
    updated_at: datetime


class Facet(Schema):
    value: str
    count: int


class SearchPage(Schema):
    items: list[ListingSummary]
    count: int
    count_is_estimate: bool
    limit: int
    offset: int
    next: str | None
    previous: str | None
    facets: dict[str, list[Facet]]


class SearchParams(Schema):
    q: str = Field("", max_length=200)
    kind: KIND | None = None
    category: str | None = None
    currency: str | None = Field(None, min_length=3, max_length=3)
    price_min: int | None = Field(None, ge=0, description="Minor units; needs currency")
    price_max: int | None = Field(None, ge=0, description="Minor units; needs currency")
    max_delivery_days: int | None = Field(None, ge=0)
    min_rating: float | None = Field(None, ge=0, le=5)
    seller_level: Literal["new", "level1", "level2", "top"] | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    radius_km: float | None = Field(None, gt=0, le=1000)
    available_from: date | None = None
    available_to: date | None = None
    language: str | None = None
    sort: Literal["best", "price_asc", "price_desc", "rating", "newest"] = "best"
    limit: int = Field(24, ge=1, le=100)
    offset: int = Field(0, ge=0, le=10_000)


class ReasonIn(Schema):
    reason: str = ""
