"""Writes to the catalog: offers of every kind, their images and files, and their lifecycle.

Rules every service follows: keyword-only arguments; one transaction; the caller is checked
(only the seller edits their offers, operators moderate; anyone else gets NotFound so ids do not
leak); input is validated completely before anything is written; the search index is updated in
the same transaction (``search.offer_index_sync``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from babel.numbers import list_currencies
from django.core import signing
from django.db import transaction
from django.db.models import F, ProtectedError
from django.utils import timezone

from micromarket.accounts import selectors as accounts_selectors
from micromarket.catalog import search
from micromarket.catalog.markdown import markdown_render
from micromarket.catalog.models import (
    CatalogSettings,
    Category,
    DigitalDetails,
    DigitalFile,
    ExperienceDetails,
    ExperienceSession,
    GigExtra,
    GigPackage,
    ModerationEvent,
    Offer,
    OfferImage,
    PhysicalDetails,
    RentalBlock,
    RentalDetails,
    RequirementQuestion,
    ShippingRate,
    Tag,
    TaskDetails,
    Variation,
)
from micromarket.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from micromarket.core.files import file_sniff
from micromarket.core.images import image_normalise

Kind = Offer.Kind
Status = Offer.Status

MAX_PRICE = 100_000_000_00  # 100 million in major units of any currency
MAX_TAGS = 10
MAX_IMAGES = 10
MAX_FILES = 10
IMAGE_MAX_BYTES = 8 * 1024 * 1024
IMAGE_MAX_SIDE = 1600
DIGITAL_FILE_MAX_BYTES = 200 * 1024 * 1024
DOWNLOAD_SALT = "micromarket.catalog.download"
CURRENCIES = frozenset(list_currencies())
COUNTRY_RE = re.compile(r"^([A-Z]{2}|\*)$")


# --- small validators -----------------------------------------------------------------------


def _int(value: Any, *, field: str, minimum: int, maximum: int, label: str) -> int:
    if isinstance(value, bool) or value is None or value == "":
        raise ValidationFailed(f"{label} is required.", field=field)
    if isinstance(value, float) and not value.is_integer():
        raise ValidationFailed(f"{label} must be a whole number.", field=field)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{label} must be a whole number.", field=field) from None
    if number < minimum:
        raise ValidationFailed(f"{label} must be at least {minimum}.", field=field)
    if number > maximum:
        raise ValidationFailed(f"{label} must be at most {maximum}.", field=field)
    return number


def _price(value: Any, *, field: str, label: str = "Price", allow_zero: bool = False) -> int:
    """An amount in minor units (cents): a whole number above zero (or zero when allowed)."""
    number = _int(value, field=field, minimum=-MAX_PRICE, maximum=MAX_PRICE, label=label)
    if number < 0 or (number == 0 and not allow_zero):
        need = "zero or more" if allow_zero else "more than zero"
        raise ValidationFailed(f"{label} must be {need}.", field=field)
    return number


def _text(value: Any, *, field: str, label: str, max_length: int, required: bool = True) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        raise ValidationFailed(f"{label} is required.", field=field)
    if len(text) > max_length:
        raise ValidationFailed(f"{label}: use at most {max_length} characters.", field=field)
    return text


def _list(values: Any, *, field: str, label: str, max_items: int, max_length: int) -> list[str]:
    if isinstance(values, str):
        values = values.split(",")
    out: list[str] = []
    for raw in values or []:
        item = " ".join(str(raw).split())
        if not item:
            continue
        if len(item) > max_length:
            raise ValidationFailed(f"{label}: “{item[:20]}…” is too long.", field=field)
        if item.casefold() not in {o.casefold() for o in out}:
            out.append(item)
    if len(out) > max_items:
        raise ValidationFailed(f"{label}: at most {max_items}.", field=field)
    return out


def _items(value: Any, *, field: str, label: str, max_items: int) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(i, dict) for i in value):
        raise ValidationFailed(f"{label} must be a list.", field=field)
    if len(value) > max_items:
        raise ValidationFailed(f"{label}: at most {max_items}.", field=field)
    return list(value)


def _datetime(value: Any, *, field: str, label: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationFailed(f"{label}: use a date and time.", field=field) from None
    if not isinstance(value, datetime):
        raise ValidationFailed(f"{label}: use a date and time.", field=field)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _date(value: Any, *, field: str, label: str) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise ValidationFailed(f"{label}: use a date (YYYY-MM-DD).", field=field) from None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationFailed(f"{label}: use a date (YYYY-MM-DD).", field=field)
    return value


# --- shared fields --------------------------------------------------------------------------


def _common(data: dict[str, Any], *, kind: str) -> dict[str, Any]:
    """Validate the fields every offer has. Returns model field values (+ tags)."""
    out: dict[str, Any] = {}
    out["title"] = _text(data.get("title"), field="title", label="Title", max_length=120)
    if len(out["title"]) < 5:
        raise ValidationFailed("Title: use at least 5 characters.", field="title")
    description = str(data.get("description") or "").strip()
    if len(description) < 20:
        raise ValidationFailed("Describe the offer in at least 20 characters.", field="description")
    if len(description) > 10_000:
        raise ValidationFailed("Description: use at most 10,000 characters.", field="description")
    out["description"] = description
    slug = str(data.get("category") or "")
    category = Category.objects.filter(slug=slug, parent__isnull=False).first()
    if category is None:
        raise ValidationFailed("Choose a category from the list.", field="category")
    out["category"] = category
    currency = str(data.get("currency") or "").upper()
    if currency not in CURRENCIES:
        raise ValidationFailed("Choose a currency by its ISO 4217 code.", field="currency")
    out["currency"] = currency
    out["languages"] = _list(
        data.get("languages"), field="languages", label="Languages", max_items=10, max_length=40
    )
    out["tags"] = [
        t.lower()
        for t in _list(
            data.get("tags"), field="tags", label="Tags", max_items=MAX_TAGS, max_length=30
        )
    ]
    out["place_name"] = _text(
        data.get("place_name"), field="place_name", label="Place", max_length=120, required=False
    )
    lat, lng = data.get("latitude"), data.get("longitude")
    if lat in (None, "") and lng in (None, ""):
        out["latitude"] = out["longitude"] = None
    else:
        try:
            lat, lng = float(lat), float(lng)
        except (TypeError, ValueError):
            raise ValidationFailed(
                "Give both latitude and longitude as numbers.", field="latitude"
            ) from None
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise ValidationFailed("Those coordinates are not on Earth.", field="latitude")
        out["latitude"], out["longitude"] = lat, lng
    if kind in (Kind.TASK, Kind.EXPERIENCE, Kind.RENTAL) and out["latitude"] is None:
        raise ValidationFailed(
            "This kind of offer needs a location (latitude and longitude).", field="latitude"
        )
    return out


# --- kind-specific details ------------------------------------------------------------------


def _service(details: dict) -> dict:
    packages = _items(details.get("packages"), field="packages", label="Packages", max_items=3)
    if not packages:
        raise ValidationFailed("Add at least one package (e.g. Basic).", field="packages")
    tiers = [GigPackage.Tier.BASIC, GigPackage.Tier.STANDARD, GigPackage.Tier.PREMIUM]
    cleaned = []
    for index, pkg in enumerate(packages):
        tier = pkg.get("tier") or tiers[index]
        if tier not in tiers:
            raise ValidationFailed(
                "Package tier must be basic, standard or premium.", field="packages"
            )
        label = f"{str(tier).title()} package"
        cleaned.append(
            {
                "tier": tier,
                "name": _text(
                    pkg.get("name") or str(tier).title(),
                    field="packages",
                    label=f"{label} name",
                    max_length=60,
                ),
                "description": _text(
                    pkg.get("description"),
                    field="packages",
                    label=f"{label} description",
                    max_length=300,
                    required=False,
                ),
                "price": _price(pkg.get("price"), field="packages", label=f"{label} price"),
                "delivery_days": _int(
                    pkg.get("delivery_days"),
                    field="packages",
                    minimum=1,
                    maximum=90,
                    label=f"{label} delivery days",
                ),
                "revisions": _int(
                    pkg.get("revisions", 1),
                    field="packages",
                    minimum=0,
                    maximum=20,
                    label=f"{label} revisions",
                ),
                "features": _list(
                    pkg.get("features"),
                    field="packages",
                    label=f"{label} features",
                    max_items=10,
                    max_length=80,
                ),
            }
        )
    if len({p["tier"] for p in cleaned}) != len(cleaned):
        raise ValidationFailed("Each package tier can be used once.", field="packages")
    prices = [p["price"] for p in sorted(cleaned, key=lambda p: tiers.index(p["tier"]))]
    if prices != sorted(prices):
        raise ValidationFailed(
            "Higher tiers should not cost less than lower ones.", field="packages"
        )
    extras = [
        {
            "title": _text(e.get("title"), field="extras", label="Extra title", max_length=80),
            "price": _price(e.get("price"), field="extras", label="Extra price"),
            "extra_days": _int(
                e.get("extra_days", 0), field="extras", minimum=-30, maximum=30, label="Extra days"
            ),
        }
        for e in _items(details.get("extras"), field="extras", label="Extras", max_items=10)
    ]
    questions = [
        {
            "question": _text(
                q.get("question"), field="questions", label="Question", max_length=300
            ),
            "required": bool(q.get("required", True)),
            "position": i,
        }
        for i, q in enumerate(
            _items(details.get("questions"), field="questions", label="Questions", max_items=10)
        )
    ]
    return {"packages": cleaned, "extras": extras, "questions": questions}


def _experience(details: dict) -> dict:
    meeting_point = _text(
        details.get("meeting_point"), field="meeting_point", label="Meeting point", max_length=300
    )
    sessions = []
    for s in _items(details.get("sessions"), field="sessions", label="Sessions", max_items=200):
        starts_at = _datetime(s.get("starts_at"), field="sessions", label="Session start")
        duration = _int(
            s.get("duration_minutes"),
            field="sessions",
            minimum=15,
            maximum=24 * 60 * 14,
            label="Session duration (minutes)",
        )
        ends_at = s.get("ends_at")
        if ends_at not in (None, ""):
            ends_at = _datetime(ends_at, field="sessions", label="Session end")
            if ends_at <= starts_at:
                raise ValidationFailed("A session must end after it starts.", field="sessions")
            duration = int((ends_at - starts_at).total_seconds() // 60)
        sessions.append(
            {
                "starts_at": starts_at,
                "duration_minutes": duration,
                "capacity": _int(
                    s.get("capacity"), field="sessions", minimum=1, maximum=500, label="Capacity"
                ),
                "price_per_person": _price(
                    s.get("price_per_person"), field="sessions", label="Price per person"
                ),
            }
        )
    return {"meeting_point": meeting_point, "sessions": sessions}


def _rental(details: dict) -> dict:
    unit = details.get("unit")
    if unit not in RentalDetails.Unit.values:
        raise ValidationFailed("Choose the pricing unit: night, day or hour.", field="unit")
    policy = details.get("cancellation_policy")
    if policy not in RentalDetails.Policy.values:
        raise ValidationFailed(
            "Choose a cancellation policy: flexible, moderate or strict.",
            field="cancellation_policy",
        )
    min_units = _int(
        details.get("min_units", 1),
        field="min_units",
        minimum=1,
        maximum=365,
        label="Minimum length",
    )
    max_units = _int(
        details.get("max_units", 30),
        field="max_units",
        minimum=1,
        maximum=365,
        label="Maximum length",
    )
    if max_units < min_units:
        raise ValidationFailed("The maximum length cannot be below the minimum.", field="max_units")
    blocks = []
    for b in _items(details.get("blocks"), field="blocks", label="Blocked dates", max_items=366):
        start = _date(b.get("start"), field="blocks", label="Blocked from")
        end = _date(b.get("end"), field="blocks", label="Blocked until")
        if end <= start:
            raise ValidationFailed("A blocked period must end after it starts.", field="blocks")
        blocks.append(
            {
                "start": start,
                "end": end,
                "note": _text(
                    b.get("note"), field="blocks", label="Note", max_length=120, required=False
                ),
            }
        )
    return {
        "unit": unit,
        "price_per_unit": _price(details.get("price_per_unit"), field="price_per_unit"),
        "min_units": min_units,
        "max_units": max_units,
        "security_deposit": _price(
            details.get("security_deposit", 0),
            field="security_deposit",
            label="Security deposit",
            allow_zero=True,
        ),
        "cancellation_policy": policy,
        "instant_booking": bool(details.get("instant_booking", False)),
        "blocks": blocks,
    }


def _task(details: dict) -> dict:
    return {
        "hourly_rate": _price(details.get("hourly_rate"), field="hourly_rate", label="Hourly rate"),
        "min_hours": _int(
            details.get("min_hours", 1),
            field="min_hours",
            minimum=1,
            maximum=24,
            label="Minimum hours",
        ),
        "radius_km": _int(
            details.get("radius_km"),
            field="radius_km",
            minimum=1,
            maximum=500,
            label="Service radius (km)",
        ),
    }


def _digital(details: dict) -> dict:
    return {"price": _price(details.get("price"), field="price")}


def _physical(details: dict) -> dict:
    variations = []
    for v in _items(
        details.get("variations"), field="variations", label="Variations", max_items=50
    ):
        variations.append(
            {
                "name": _text(
                    v.get("name"), field="variations", label="Variation name", max_length=80
                ),
                "price": _price(v.get("price"), field="variations", label="Variation price"),
                "stock": _int(
                    v.get("stock", 0),
                    field="variations",
                    minimum=0,
                    maximum=1_000_000,
                    label="Variation stock",
                ),
            }
        )
    if len({v["name"].casefold() for v in variations}) != len(variations):
        raise ValidationFailed("Each variation needs its own name.", field="variations")
    shipping = []
    for r in _items(
        details.get("shipping"), field="shipping", label="Shipping rates", max_items=250
    ):
        country = str(r.get("country") or "").upper()
        if not COUNTRY_RE.match(country):
            raise ValidationFailed(
                "Shipping country: a two-letter code such as US or DE, or * for everywhere else.",
                field="shipping",
            )
        free_over = r.get("free_over")
        shipping.append(
            {
                "country": country,
                "price": _price(
                    r.get("price", 0), field="shipping", label="Shipping price", allow_zero=True
                ),
                "free_over": None
                if free_over in (None, "")
                else _price(free_over, field="shipping", label="Free shipping threshold"),
            }
        )
    if len({r["country"] for r in shipping}) != len(shipping):
        raise ValidationFailed("Each shipping country can be listed once.", field="shipping")
    return {
        "price": _price(details.get("price"), field="price"),
        "stock": _int(
            details.get("stock", 0), field="stock", minimum=0, maximum=1_000_000, label="Stock"
        ),
        "processing_days": _int(
            details.get("processing_days", 1),
            field="processing_days",
            minimum=0,
            maximum=60,
            label="Processing time (days)",
        ),
        "variations": variations,
        "shipping": shipping,
    }


_DETAILS = {
    Kind.SERVICE: _service,
    Kind.EXPERIENCE: _experience,
    Kind.RENTAL: _rental,
    Kind.TASK: _task,
    Kind.DIGITAL: _digital,
    Kind.PHYSICAL: _physical,
}


def _sync_rows(existing, rows: list[dict], *, key: str, model, offer: Offer, what: str) -> None:
    """Update rows in place by ``key`` (a session's start, a variation's name), create new ones
    and delete the rest — so orders keep pointing at the session or variation they booked. A
    row that orders still need (PROTECT) cannot be deleted."""
    current = {getattr(row, key): row for row in existing}
    wanted = {row[key] for row in rows}
    for value, row in current.items():
        if value not in wanted:
            try:
                with transaction.atomic():
                    row.delete()
            except ProtectedError:
                raise ValidationFailed(
                    f"{what} cannot be removed; cancel it instead.", field="details"
                ) from None
    for data in rows:
        row = current.get(data[key])
        if row is None:
            model.objects.create(offer=offer, **data)
        else:
            for field, value in data.items():
                setattr(row, field, value)
            row.save()


def _write_details(offer: Offer, kind: str, d: dict) -> tuple[int | None, int | None]:
    """Replace the kind's rows with ``d``; return (price_from, delivery_days) for search."""
    if kind == Kind.SERVICE:
        offer.packages.all().delete()
        offer.extras.all().delete()
        offer.questions.all().delete()
        GigPackage.objects.bulk_create([GigPackage(offer=offer, **p) for p in d["packages"]])
        GigExtra.objects.bulk_create([GigExtra(offer=offer, **e) for e in d["extras"]])
        RequirementQuestion.objects.bulk_create(
            [RequirementQuestion(offer=offer, **q) for q in d["questions"]]
        )
        return (
            min(p["price"] for p in d["packages"]),
            min(p["delivery_days"] for p in d["packages"]),
        )
    if kind == Kind.EXPERIENCE:
        ExperienceDetails.objects.update_or_create(
            offer=offer, defaults={"meeting_point": d["meeting_point"]}
        )
        _sync_rows(
            offer.sessions.all(),
            d["sessions"],
            key="starts_at",
            model=ExperienceSession,
            offer=offer,
            what="A session with bookings",
        )
        prices = [s["price_per_person"] for s in d["sessions"]]
        return (min(prices) if prices else None, None)
    if kind == Kind.RENTAL:
        blocks = d.pop("blocks")
        RentalDetails.objects.update_or_create(offer=offer, defaults=d)
        offer.blocks.all().delete()
        RentalBlock.objects.bulk_create([RentalBlock(offer=offer, **b) for b in blocks])
        return d["price_per_unit"], None
    if kind == Kind.TASK:
        TaskDetails.objects.update_or_create(offer=offer, defaults=d)
        return d["hourly_rate"] * d["min_hours"], None
    if kind == Kind.DIGITAL:
        DigitalDetails.objects.update_or_create(offer=offer, defaults=d)
        return d["price"], 0
    if kind == Kind.PHYSICAL:
        variations, shipping = d.pop("variations"), d.pop("shipping")
        PhysicalDetails.objects.update_or_create(offer=offer, defaults=d)
        _sync_rows(
            offer.variations.all(),
            variations,
            key="name",
            model=Variation,
            offer=offer,
            what="A variation with orders",
        )
        offer.shipping_rates.all().delete()
        ShippingRate.objects.bulk_create([ShippingRate(offer=offer, **r) for r in shipping])
        prices = [v["price"] for v in variations] or [d["price"]]
        return min(prices), d["processing_days"]
    raise ValidationFailed("Unknown kind of offer.", field="kind")


def _set_tags(offer: Offer, names: Iterable[str]) -> None:
    tags = []
    for name in names:
        tag, _ = Tag.objects.get_or_create(name=name)
        tags.append(tag)
    offer.tags.set(tags)


# --- create, update, duplicate --------------------------------------------------------------


def _own_offer_for_update(*, offer_id: int, actor) -> Offer:
    offer = Offer.objects.select_for_update().filter(pk=offer_id).first()
    if offer is None or offer.seller_id != getattr(actor, "pk", None):
        raise NotFound("There is no such offer.")
    return offer


@transaction.atomic
def offer_create(*, seller, kind: str, details: dict | None = None, **fields) -> Offer:
    """Create a draft offer of ``kind`` in the seller's shop."""
    shop = accounts_selectors.shop_for_user(user=seller)
    if shop is None:
        raise PermissionDenied("Open a shop before listing offers.", code="not_a_seller")
    if kind not in Kind.values:
        raise ValidationFailed(
            "Choose a kind: service, experience, rental, task, digital or physical.",
            field="kind",
        )
    common = _common(fields, kind=kind)
    clean_details = _DETAILS[kind](details or {})
    tags = common.pop("tags")
    offer = Offer.objects.create(
        seller=seller,
        shop=shop,
        kind=kind,
        description_html=markdown_render(common["description"]),
        **common,
    )
    offer.price_from, offer.delivery_days = _write_details(offer, kind, clean_details)
    offer.save(update_fields=["price_from", "delivery_days"])
    _set_tags(offer, tags)
    _event(offer, actor=seller, action="create", from_status="", to_status=offer.status)
    search.offer_index_sync(offer_id=offer.pk)
    return offer


@transaction.atomic
def offer_update(*, offer_id: int, actor, details: dict | None = None, **fields) -> Offer:
    """Change an offer's fields (all of them are validated together) and, if given, its details.

    ``fields`` may hold any of title, description, category, currency, languages, tags,
    place_name, latitude, longitude; missing ones keep their value. ``details`` replaces the
    kind's rows wholesale.
    """
    offer = _own_offer_for_update(offer_id=offer_id, actor=actor)
    if offer.status == Status.ARCHIVED:
        raise Conflict("Archived offers cannot be edited; duplicate it instead.", code="archived")
    current = {
        "title": offer.title,
        "description": offer.description,
        "category": offer.category.slug,
        "currency": offer.currency,
        "languages": offer.languages,
        "tags": [t.name for t in offer.tags.all()],
        "place_name": offer.place_name,
        "latitude": offer.latitude,
        "longitude": offer.longitude,
    }
    unknown = set(fields) - set(current)
    if unknown:
        raise ValidationFailed(f"Unknown field: {', '.join(sorted(unknown))}.")
    common = _common({**current, **fields}, kind=offer.kind)
    clean_details = _DETAILS[offer.kind](details) if details is not None else None
    tags = common.pop("tags")
    for name, value in common.items():
        setattr(offer, name, value)
    offer.description_html = markdown_render(offer.description)
    offer.updated_at = timezone.now()
    if clean_details is not None:
        offer.price_from, offer.delivery_days = _write_details(offer, offer.kind, clean_details)
    offer.save()
    _set_tags(offer, tags)
    search.offer_index_sync(offer_id=offer.pk)
    return offer


@transaction.atomic
def offer_duplicate(*, offer_id: int, actor) -> Offer:
    """A new draft with the same fields, details, tags and images."""
    source = _own_offer_for_update(offer_id=offer_id, actor=actor)
    copy = Offer.objects.get(pk=source.pk)
    copy.pk = None
    copy.title = f"{source.title} (copy)"[:120]
    copy.status = Status.DRAFT
    copy.published_at = None
    copy.rejection_reason = ""
    copy.created_at = copy.updated_at = timezone.now()
    copy.save()
    copy.tags.set(source.tags.all())
    related = (GigPackage, GigExtra, RequirementQuestion, ExperienceSession, RentalBlock,
               Variation, ShippingRate, ExperienceDetails, RentalDetails, TaskDetails,
               DigitalDetails, PhysicalDetails)  # fmt: skip
    for model in related:
        rows = list(model.objects.filter(offer=source))
        for row in rows:
            row.pk = None
            row.offer = copy
        model.objects.bulk_create(rows)
    for item in source.files.all():
        DigitalFile.objects.create(
            offer=copy,
            file=item.file.name,
            name=item.name,
            size=item.size,
            content_type=item.content_type,
            sha256=item.sha256,
        )
    for image in source.images.all():
        OfferImage.objects.create(
            offer=copy, image=image.image.name, alt_text=image.alt_text, position=image.position
        )
    _event(
        copy,
        actor=actor,
        action="duplicate",
        from_status="",
        to_status=copy.status,
        reason=f"Copied from offer {source.pk}",
    )
    return copy


# --- images and files -----------------------------------------------------------------------


def _delete_stored_file_if_unused(field_file, other_users) -> None:
    """Remove the stored file after commit unless another row (a duplicate offer) uses it."""
    if not other_users.exists():
        name, storage = field_file.name, field_file.storage
        transaction.on_commit(lambda: storage.delete(name))


@transaction.atomic
def offer_image_add(*, offer_id: int, actor, upload, alt_text: str = "") -> OfferImage:
    offer = _own_offer_for_update(offer_id=offer_id, actor=actor)
    if offer.images.count() >= MAX_IMAGES:
        raise Conflict(f"An offer can have at most {MAX_IMAGES} images.", code="too_many_images")
    content = image_normalise(
        upload, field="image", max_bytes=IMAGE_MAX_BYTES, max_side=IMAGE_MAX_SIDE
    )
    position = offer.images.count()
    image = OfferImage(
        offer=offer,
        alt_text=_text(
            alt_text, field="alt_text", label="Description", max_length=200, required=False
        ),
        position=position,
    )
    image.image.save(content.name, content, save=False)
    image.save()
    return image


@transaction.atomic
def offer_image_remove(*, offer_id: int, actor, image_id: int) -> None:
    offer = _own_offer_for_update(offer_id=offer_id, actor=actor)
    image = offer.images.filter(pk=image_id).first()
    if image is None:
        raise NotFound("There is no such image.")
    image.delete()
    _delete_stored_file_if_unused(image.image, OfferImage.objects.filter(image=image.image.name))
    for position, remaining in enumerate(offer.images.all()):
        if remaining.position != position:
            OfferImage.objects.filter(pk=remaining.pk).update(position=position)


@transaction.atomic
def offer_images_reorder(*, offer_id: int, actor, image_ids: list[int]) -> None:
    offer = _own_offer_for_update(offer_id=offer_id, actor=actor)
    existing = set(offer.images.values_list("pk", flat=True))
    if set(image_ids) != existing or len(image_ids) != len(existing):
        raise ValidationFailed("List every image of the offer exactly once.", field="image_ids")
    for position, image_id in enumerate(image_ids):
        OfferImage.objects.filter(pk=image_id).update(position=position)


@transaction.atomic
def offer_image_move(*, offer_id: int, actor, image_id: int, direction: str) -> None:
    """Move one picture a place up or down (the first picture is the cover)."""
    offer = _own_offer_for_update(offer_id=offer_id, actor=actor)
    ids = list(offer.images.values_list("pk", flat=True))
    if image_id not in ids:
        raise NotFound("There is no such image.")
    if direction not in ("up", "down"):
        raise ValidationFailed("Move a picture up or down.", field="direction")
    i = ids.index(image_id)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(ids):
        ids[i], ids[j] = ids[j], ids[i]
        for position, pk in enumerate(ids):
            OfferImage.objects.filter(pk=pk).update(position=position)


@transaction.atomic
def digital_file_add(*, offer_id: int, actor, upload) -> DigitalFile:
    offer = _own_offer_for_update(offer_id=offer_id, actor=actor)
    if offer.kind != Kind.DIGITAL:
        raise ValidationFailed("Only digital products have files.", field="file")
    if offer.files.count() >= MAX_FILES:
        raise Conflict(f"A product can have at most {MAX_FILES} files.", code="too_many_files")
    sniffed = file_sniff(upload, field="file", max_bytes=DIGITAL_FILE_MAX_BYTES)
    original = _text(
        getattr(upload, "name", "") or "file", field="file", label="File name", max_length=200
    )
    item = DigitalFile(
        offer=offer,
        name=original.rsplit("/", 1)[-1],
        size=sniffed.size,
        content_type=sniffed.content_type,
        sha256=sniffed.sha256,
    )
    upload.seek(0)
    item.file.save(f"{sniffed.sha256[:16]}", upload, save=False)
    item.save()
    return item


@transaction.atomic
def digital_file_remove(*, offer_id: int, actor, file_id: int) -> None:
    offer = _own_offer_for_update(offer_id=offer_id, actor=actor)
    item = offer.files.filter(pk=file_id).first()
    if item is None:
        raise NotFound("There is no such file.")
    item.delete()
    _delete_stored_file_if_unused(item.file, DigitalFile.objects.filter(file=item.file.name))


def digital_file_token(*, file_id: int, user_id: int, ttl: timedelta) -> str:
    """A signed token naming the file, the user it was issued to and when it expires."""
    expires = int((timezone.now() + ttl).timestamp())
    return signing.dumps({"f": file_id, "u": user_id, "x": expires}, salt=DOWNLOAD_SALT)


def digital_file_link(*, file: DigitalFile, for_user, ttl: timedelta = timedelta(hours=24)) -> str:
    """An expiring download link, valid for ``for_user`` only.

    The seller (and operators) may preview their files; the orders app issues links to buyers
    after payment with the same function.
    """
    return f"/offers/files/{digital_file_token(file_id=file.pk, user_id=for_user.pk, ttl=ttl)}/"


def digital_file_from_token(*, token: str, user) -> DigitalFile:
    """The file a download link names, if it is unexpired and was issued to ``user``."""
    try:
        data = signing.loads(token, salt=DOWNLOAD_SALT)
    except signing.BadSignature:
        raise NotFound("There is no such file.") from None
    if data.get("u") != getattr(user, "pk", None):
        raise NotFound("There is no such file.")
    if data.get("x", 0) < timezone.now().timestamp():
        raise ValidationFailed(
            "This download link has expired. Open the order again for a fresh link.",
            code="link_expired",
        )
    item = DigitalFile.objects.select_related("offer").filter(pk=data.get("f")).first()
    if item is None:
        raise NotFound("There is no such file.")
    return item


# --- lifecycle ------------------------------------------------------------------------------

# action: (states it may start from, who may take it)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({Status.DRAFT, Status.REJECTED}), "seller"),
    "approve": (frozenset({Status.PENDING}), "operator"),
    "reject": (frozenset({Status.PENDING, Status.ACTIVE, Status.PAUSED}), "operator"),
    "pause": (frozenset({Status.ACTIVE}), "seller"),
    "resume": (frozenset({Status.PAUSED}), "seller"),
    "archive": (
        frozenset({Status.DRAFT, Status.PENDING, Status.ACTIVE, Status.PAUSED, Status.REJECTED}),
        "seller",
    ),
}


PAST_TENSE = {
    "submit": "submitted",
    "approve": "approved",
    "reject": "rejected",
    "pause": "paused",
    "resume": "resumed",
    "archive": "archived",
}


def catalog_settings() -> CatalogSettings:
    return CatalogSettings.objects.order_by("pk").first() or CatalogSettings(require_approval=False)


@transaction.atomic
def catalog_settings_update(*, actor, require_approval: bool) -> CatalogSettings:
    if not getattr(actor, "is_staff", False):
        raise PermissionDenied("Only operators change marketplace settings.")
    row = CatalogSettings.objects.select_for_update().order_by("pk").first()
    if row is None:
        row = CatalogSettings()
    row.require_approval = bool(require_approval)
    row.updated_at = timezone.now()
    row.save()
    return row


def _missing_for_publication(offer: Offer) -> str | None:
    if offer.kind == Kind.SERVICE and not offer.packages.exists():
        return "Add at least one package before publishing."
    if (
        offer.kind == Kind.EXPERIENCE
        and not offer.sessions.filter(
            starts_at__gt=timezone.now(), cancelled_at__isnull=True
        ).exists()
    ):
        return "Add at least one upcoming session before publishing."
    if offer.kind == Kind.DIGITAL and not offer.files.exists():
        return "Upload the file buyers will receive before publishing."
    if offer.kind == Kind.PHYSICAL:
        details = getattr(offer, "physical", None)
        if not offer.shipping_rates.exists():
            return "Add at least one shipping rate before publishing."
        in_stock = (
            offer.variations.filter(stock__gt=0).exists()
            if offer.variations.exists()
            else bool(details and details.stock > 0)
        )
        if not in_stock:
            return "Add stock before publishing."
    return None


def _event(offer, *, actor, action, from_status, to_status, reason=""):
    ModerationEvent.objects.create(
        offer=offer,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
    )


@transaction.atomic
def offer_transition(*, offer_id: int, actor, action: str, reason: str = "") -> Offer:
    """Move an offer through its lifecycle: submit, approve, reject, pause, resume, archive."""
    if action not in TRANSITIONS:
        raise ValidationFailed(f"Unknown action “{action}”.", field="action")
    allowed_from, who = TRANSITIONS[action]
    offer = Offer.objects.select_for_update().filter(pk=offer_id).first()
    is_owner = offer is not None and offer.seller_id == getattr(actor, "pk", None)
    is_operator = bool(getattr(actor, "is_staff", False))
    if offer is None or not (is_owner or is_operator):
        raise NotFound("There is no such offer.")
    if who == "operator" and not is_operator:
        raise PermissionDenied("Only operators can do this.", code="operators_only")
    if who == "seller" and not is_owner and not (is_operator and action == "archive"):
        raise PermissionDenied("Only the seller can do this.", code="sellers_only")
    if offer.status not in allowed_from:
        raise Conflict(
            f"This offer is {offer.get_status_display().lower()}; "
            f"it cannot be {PAST_TENSE[action]}.",
            code="invalid_transition",
        )
    reason = (reason or "").strip()
    if action == "reject" and not reason:
        raise ValidationFailed("Tell the seller why the offer is rejected.", field="reason")
    if action == "submit":
        missing = _missing_for_publication(offer)
        if missing:
            raise ValidationFailed(missing, code="incomplete_offer")
        target = Status.PENDING if catalog_settings().require_approval else Status.ACTIVE
    else:
        target = {
            "approve": Status.ACTIVE,
            "reject": Status.REJECTED,
            "pause": Status.PAUSED,
            "resume": Status.ACTIVE,
            "archive": Status.ARCHIVED,
        }[action]
    previous = offer.status
    offer.status = target
    if target == Status.ACTIVE and offer.published_at is None:
        offer.published_at = timezone.now()
    offer.rejection_reason = reason if action == "reject" else ""
    offer.updated_at = timezone.now()
    offer.save(update_fields=["status", "published_at", "rejection_reason", "updated_at"])
    _event(offer, actor=actor, action=action, from_status=previous, to_status=target, reason=reason)
    search.offer_index_sync(offer_id=offer.pk)
    return offer


# --- reactions to account changes (called by accounts.services) -----------------------------


def shop_offers_reindex(*, shop_id: int) -> None:
    """After a shop rename: its offers are found by the new name."""
    search.shop_index_sync(shop_id=shop_id)


def seller_offers_withdraw(*, seller, reason: str) -> int:
    """Archive every offer of a closing account; returns how many were withdrawn."""
    withdrawn = 0
    for offer_id in (
        Offer.objects.filter(seller=seller)
        .exclude(status=Status.ARCHIVED)
        .values_list("pk", flat=True)
    ):
        offer = Offer.objects.select_for_update().get(pk=offer_id)
        previous = offer.status
        offer.status = Status.ARCHIVED
        offer.updated_at = timezone.now()
        offer.save(update_fields=["status", "updated_at"])
        _event(
            offer,
            actor=None,
            action="withdraw",
            from_status=previous,
            to_status=Status.ARCHIVED,
            reason=reason,
        )
        search.offer_index_sync(offer_id=offer.pk)
        withdrawn += 1
    return withdrawn


# --- what orders reserve ----------------------------------------------------------------------
# The orders app books seats, dates and stock through these; each runs inside the caller's
# transaction (they lock or update conditionally and never commit on their own).


def offer_lock(*, offer_id: int) -> Offer:
    """Lock an offer's row for the rest of the caller's transaction (rental dates are checked
    and booked under it, so two bookings of the same dates queue up)."""
    offer = Offer.objects.select_for_update().filter(pk=offer_id).first()
    if offer is None:
        raise NotFound("There is no such offer.")
    return offer


def session_lock(*, session_id: int) -> ExperienceSession:
    """Lock a session's row: seats are counted and booked under it."""
    session = ExperienceSession.objects.select_for_update().filter(pk=session_id).first()
    if session is None:
        raise NotFound("There is no such session.", field="session")
    return session


def stock_reserve(*, offer_id: int, variation_id: int | None, quantity: int) -> None:
    """Take ``quantity`` from stock with one conditional UPDATE, or raise Conflict when fewer
    are left — two buyers of the last item cannot both get it."""
    if variation_id:
        rows = Variation.objects.filter(pk=variation_id, offer_id=offer_id, stock__gte=quantity)
    else:
        rows = PhysicalDetails.objects.filter(offer_id=offer_id, stock__gte=quantity)
    if not rows.update(stock=F("stock") - quantity):
        raise Conflict(
            "Sorry, there is not enough left in stock for that quantity.",
            code="out_of_stock",
            field="quantity",
        )


def stock_release(*, offer_id: int, variation_id: int | None, quantity: int) -> None:
    """Put reserved items back (an order was cancelled or never paid). A variation the seller
    has deleted meanwhile has nothing to return to."""
    if variation_id:
        Variation.objects.filter(pk=variation_id).update(stock=F("stock") + quantity)
    else:
        PhysicalDetails.objects.filter(offer_id=offer_id).update(stock=F("stock") + quantity)


@transaction.atomic
def experience_session_cancel(*, session_id: int, actor) -> ExperienceSession:
    """The seller calls a session off (the orders app refunds its attendees)."""
    session = (
        ExperienceSession.objects.select_for_update()
        .select_related("offer")
        .filter(pk=session_id)
        .first()
    )
    if session is None or session.offer.seller_id != getattr(actor, "pk", None):
        raise NotFound("There is no such session.")
    if session.cancelled_at is None:
        session.cancelled_at = timezone.now()
        session.save(update_fields=["cancelled_at"])
        search.offer_index_sync(offer_id=session.offer_id)
    return session


def offer_reputation_set(*, offer_id: int, rating: float | None, rating_count: int) -> None:
    """For trust: store the offer's Bayesian rating (1–5, None without reviews) and count in the
    search index, so ranking, the rating sort and ``min_rating`` see published reviews."""
    search.offer_index_set_reputation(offer_id=offer_id, rating=rating, rating_count=rating_count)


def shop_reputation_set(*, shop_id: int, seller_level: str, completed_orders: int) -> None:
    """For trust: store the seller's level (new/level1/level2/top) and completed orders on every
    indexed offer of the shop, for the ``seller_level`` filter and the ranking."""
    search.shop_index_set_reputation(
        shop_id=shop_id, seller_level=seller_level, completed_orders=completed_orders
    )
