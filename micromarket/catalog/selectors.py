"""Reads of the catalog used by pages, the API and other apps."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from micromarket.catalog.models import (
    Category,
    DigitalFile,
    ExperienceSession,
    ModerationEvent,
    Offer,
)
from micromarket.core.errors import NotFound

Status = Offer.Status

# One query each: what the offer page and API detail show.
DETAIL_PREFETCH = (
    "tags",
    "images",
    "packages",
    "extras",
    "questions",
    Prefetch("sessions", queryset=ExperienceSession.objects.filter(cancelled_at__isnull=True)),
    "blocks",
    "variations",
    "shipping_rates",
    "files",
)
DETAIL_RELATED = (
    "shop",
    "seller",
    "category__parent",
    "experience",
    "rental",
    "task",
    "digital",
    "physical",
)


def can_manage(*, offer: Offer, user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False) and (offer.seller_id == user.pk or user.is_staff)
    )


def offer_get_visible(*, offer_id: int, viewer) -> Offer:
    """The offer with everything its page shows; inactive offers only for owner and operators."""
    offer = (
        Offer.objects.select_related(*DETAIL_RELATED)
        .prefetch_related(*DETAIL_PREFETCH)
        .filter(pk=offer_id)
        .first()
    )
    if offer is None or (
        (offer.status != Status.ACTIVE or not offer.shop.is_active)  # e.g. a suspended seller
        and not can_manage(offer=offer, user=viewer)
    ):
        raise NotFound("There is no such offer.")
    return offer


def offers_by_ids(*, ids: list[int]) -> list[Offer]:
    """Offers for a result page, in the order of ``ids`` (one query + one for images/tags)."""
    rows = (
        Offer.objects.filter(pk__in=ids)
        .select_related("shop", "seller", "category")
        .prefetch_related("images")
    )
    by_id = {offer.pk: offer for offer in rows}
    return [by_id[i] for i in ids if i in by_id]


def offers_for_seller(*, seller, status: str | None = None) -> QuerySet[Offer]:
    """The seller's offers, newest change first; archived ones only when asked for."""
    qs = (
        Offer.objects.filter(seller=seller)
        .select_related("category")
        .prefetch_related("images")
        .order_by("-updated_at")
    )
    return qs.filter(status=status) if status else qs.exclude(status=Status.ARCHIVED)


def shop_offers_public(*, shop_id: int, limit: int = 48) -> list[Offer]:
    return list(
        Offer.objects.filter(shop_id=shop_id, status=Status.ACTIVE)
        .select_related("category")
        .prefetch_related("images")
        .order_by("-published_at")[:limit]
    )


def moderation_queue() -> QuerySet[Offer]:
    return (
        Offer.objects.filter(status=Status.PENDING)
        .select_related("shop", "seller", "category")
        .order_by("updated_at")
    )


def offer_history(*, offer: Offer) -> QuerySet[ModerationEvent]:
    return offer.moderation_events.select_related("actor")


def category_get(*, category_id: int) -> Category:
    category = Category.objects.select_related("parent").filter(pk=category_id).first()
    if category is None:
        raise NotFound("There is no such category.", field="category")
    return category


def text_score(query: str, *, title: str, meta: str = "", body: str = "") -> float | None:
    """Catalog search's text relevance for a document outside the offer index (0–1, None: no
    match); see ``catalog.search.text_score``."""
    from micromarket.catalog import search

    return search.text_score(query, title=title, meta=meta, body=body)


def categories_tree() -> list[Category]:
    """Top-level categories with their children prefetched."""
    return list(Category.objects.filter(parent__isnull=True).prefetch_related("children"))


def subcategory_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    return [
        (top.name, [(child.slug, child.name) for child in top.children.all()])
        for top in categories_tree()
    ]


def digital_files_for_offers(*, offer_ids: list[int]) -> list[DigitalFile]:
    """The files of these digital offers, in the offers' order, then upload order."""
    position = {pk: i for i, pk in enumerate(offer_ids)}
    files = DigitalFile.objects.filter(offer_id__in=offer_ids).order_by("offer_id", "pk")
    return sorted(files, key=lambda f: position[f.offer_id])
