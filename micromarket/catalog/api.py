"""/api/v1/listings and /api/v1/categories. Endpoints validate, call one service, serialise."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from django.utils.http import urlencode
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from micromarket.accounts.auth import optional_api_auth
from micromarket.catalog import search, selectors, services
from micromarket.catalog.models import Offer
from micromarket.catalog.schemas import (
    CategoryOut,
    ImageOut,
    Listing,
    ListingIn,
    ListingPatch,
    ReasonIn,
    SearchPage,
    SearchParams,
)
from micromarket.core.api import PROBLEM_RESPONSES
from micromarket.core.errors import ValidationFailed

router = Router(tags=["catalog"])

Action = Literal["submit", "pause", "resume", "archive", "approve"]


def _abs(request: HttpRequest, url: str) -> str:
    return request.build_absolute_uri(url)


def _summary(request, offer: Offer) -> dict:
    images = list(offer.images.all())
    return {
        "id": offer.pk,
        "kind": offer.kind,
        "status": offer.status,
        "title": offer.title,
        "category": offer.category.slug,
        "currency": offer.currency,
        "price_from": offer.price_from,
        "delivery_days": offer.delivery_days,
        "place_name": offer.place_name,
        "shop": offer.shop.name,
        "shop_slug": offer.shop.slug,
        "image": _abs(request, images[0].image.url) if images else None,
        "url": _abs(request, f"/offers/{offer.pk}/"),
        "published_at": offer.published_at,
    }


def _details(offer: Offer) -> dict:
    kind = offer.kind
    if kind == Offer.Kind.SERVICE:
        return {
            "packages": [
                {
                    "tier": p.tier,
                    "name": p.name,
                    "description": p.description,
                    "price": p.price,
                    "delivery_days": p.delivery_days,
                    "revisions": p.revisions,
                    "features": p.features,
                }
                for p in offer.packages.all()
            ],
            "extras": [
                {"title": e.title, "price": e.price, "extra_days": e.extra_days}
                for e in offer.extras.all()
            ],
            "questions": [
                {"question": q.question, "required": q.required} for q in offer.questions.all()
            ],
        }
    if kind == Offer.Kind.EXPERIENCE:
        return {
            "meeting_point": offer.experience.meeting_point,
            "sessions": [
                {
                    "id": s.pk,
                    "starts_at": s.starts_at.isoformat(),
                    "duration_minutes": s.duration_minutes,
                    "capacity": s.capacity,
                    "price_per_person": s.price_per_person,
                }
                for s in offer.sessions.all()
            ],
        }
    if kind == Offer.Kind.RENTAL:
        r = offer.rental
        return {
            "unit": r.unit,
            "price_per_unit": r.price_per_unit,
            "min_units": r.min_units,
            "max_units": r.max_units,
            "security_deposit": r.security_deposit,
            "cancellation_policy": r.cancellation_policy,
            "instant_booking": r.instant_booking,
            "blocks": [
                {"start": b.start.isoformat(), "end": b.end.isoformat(), "note": b.note}
                for b in offer.blocks.all()
            ],
        }
    if kind == Offer.Kind.TASK:
        t = offer.task
        return {"hourly_rate": t.hourly_rate, "min_hours": t.min_hours, "radius_km": t.radius_km}
    if kind == Offer.Kind.DIGITAL:
        return {
            "price": offer.digital.price,
            "files": [{"id": f.pk, "name": f.name, "size": f.size} for f in offer.files.all()],
        }
    p = offer.physical
    return {
        "price": p.price,
        "stock": p.stock,
        "processing_days": p.processing_days,
        "variations": [
            {"name": v.name, "price": v.price, "stock": v.stock} for v in offer.variations.all()
        ],
        "shipping": [
            {"country": s.country, "price": s.price, "free_over": s.free_over}
            for s in offer.shipping_rates.all()
        ],
    }


def _full(request, offer: Offer) -> dict:
    return {
        **_summary(request, offer),
        "description": offer.description,
        "description_html": offer.description_html,
        "tags": [t.name for t in offer.tags.all()],
        "languages": offer.languages,
        "latitude": offer.latitude,
        "longitude": offer.longitude,
        "seller": offer.seller.display_name,
        "images": [
            {"id": i.pk, "url": _abs(request, i.image.url), "alt_text": i.alt_text}
            for i in offer.images.all()
        ],
        "details": _details(offer),
        "rejection_reason": offer.rejection_reason,
        "created_at": offer.created_at,
        "updated_at": offer.updated_at,
    }


def _detail_response(request, offer_id: int) -> dict:
    return _full(request, selectors.offer_get_visible(offer_id=offer_id, viewer=request.user))


@router.get("/categories", response=list[CategoryOut], auth=None, summary="The category tree")
def categories(request):
    return [
        {
            "slug": top.slug,
            "name": top.name,
            "children": [{"slug": c.slug, "name": c.name} for c in top.children.all()],
        }
        for top in selectors.categories_tree()
    ]


@router.get(
    "/listings",
    response={200: SearchPage, **PROBLEM_RESPONSES},
    auth=None,
    summary="Search active listings (filters, sorts, facets)",
)
def listings_search(request, params: Query[SearchParams]):
    if (params.price_min is not None or params.price_max is not None) and not params.currency:
        raise ValidationFailed("A price filter needs a currency.", field="currency")
    near = (params.lat, params.lng) if params.lat is not None and params.lng is not None else None
    query = search.SearchQuery(
        text=params.q,
        kind=params.kind,
        category=params.category,
        currency=params.currency.upper() if params.currency else None,
        price_min=params.price_min,
        price_max=params.price_max,
        max_delivery_days=params.max_delivery_days,
        min_rating=params.min_rating,
        seller_level=params.seller_level,
        near=near,
        radius_km=params.radius_km if near else None,
        available_from=params.available_from,
        available_to=params.available_to,
        language=params.language,
        sort=params.sort,
        page=params.offset // params.limit + 1,
        per_page=params.limit,
    )
    result = search.search(query)
    offers = selectors.offers_by_ids(ids=result.offer_ids)
    offset = (query.page - 1) * query.per_page

    def link(new_offset: int) -> str:
        args = request.GET.copy()
        args["limit"], args["offset"] = str(params.limit), str(new_offset)
        return f"{request.path}?{urlencode(sorted(args.items()))}"

    return {
        "items": [_summary(request, o) for o in offers],
        "count": result.total,
        "count_is_estimate": result.total_is_estimate,
        "limit": params.limit,
        "offset": offset,
        "next": link(offset + params.limit) if query.page < result.pages else None,
        "previous": link(max(offset - params.limit, 0)) if offset else None,
        "facets": {
            name: [{"value": value, "count": count} for value, count in values]
            for name, values in result.facets.items()
        },
    }


@router.post("/listings", response={201: Listing, **PROBLEM_RESPONSES}, summary="Create a draft")
def listings_create(request, payload: ListingIn):
    data = payload.dict()
    offer = services.offer_create(
        seller=request.auth, kind=data.pop("kind"), details=data.pop("details"), **data
    )
    return Status(201, _detail_response(request, offer.pk))


@router.get(
    "/listings/{listing_id}",
    response={200: Listing, **PROBLEM_RESPONSES},
    auth=optional_api_auth,
    summary="One listing (inactive ones only for their seller and operators)",
)
def listings_get(request, listing_id: int):
    return _detail_response(request, listing_id)


@router.patch("/listings/{listing_id}", response={200: Listing, **PROBLEM_RESPONSES})
def listings_update(request, listing_id: int, payload: ListingPatch):
    data = payload.dict(exclude_unset=True)
    details = data.pop("details", None)
    services.offer_update(offer_id=listing_id, actor=request.auth, details=details, **data)
    return _detail_response(request, listing_id)


@router.post(
    "/listings/{listing_id}/images",
    response={201: ImageOut, **PROBLEM_RESPONSES},
    summary="Add a picture (multipart: image, alt_text)",
)
def listings_image_add(
    request, listing_id: int, image: File[UploadedFile], alt_text: Form[str] = ""
):
    item = services.offer_image_add(
        offer_id=listing_id, actor=request.auth, upload=image, alt_text=alt_text
    )
    return Status(
        201, {"id": item.pk, "url": _abs(request, item.image.url), "alt_text": item.alt_text}
    )


@router.post(
    "/listings/{listing_id}/reject",
    response={200: Listing, **PROBLEM_RESPONSES},
    summary="Reject a listing with a reason the seller sees (operators)",
)
def listings_reject(request, listing_id: int, payload: ReasonIn):
    services.offer_transition(
        offer_id=listing_id, actor=request.auth, action="reject", reason=payload.reason
    )
    return _detail_response(request, listing_id)


@router.post(
    "/listings/{listing_id}/{action}",
    response={200: Listing, **PROBLEM_RESPONSES},
    summary="Status actions: submit, pause, resume, archive (seller); approve (operator)",
)
def listings_action(request, listing_id: int, action: Action):
    services.offer_transition(offer_id=listing_id, actor=request.auth, action=action)
    return _detail_response(request, listing_id)
