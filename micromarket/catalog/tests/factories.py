"""Offer builders for tests: valid input per kind, created through the services."""

from __future__ import annotations

import importlib
import io
from datetime import timedelta

from django.apps import apps as django_apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from micromarket.accounts.tests.factories import ShopFactory, UserFactory
from micromarket.catalog import services


def seed_categories() -> None:
    """The categories the catalog's migration seeds, again: a transactional test (a browser
    journey, a race on PostgreSQL) empties every table when it ends."""
    importlib.import_module("micromarket.catalog.migrations.0002_seed_categories").seed(
        django_apps, None
    )


def seller(**kwargs):
    shop = ShopFactory(owner=UserFactory(**kwargs))
    return shop.owner


def png(size=(400, 300), name="picture.png") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 120, 90)).save(buf, format="PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def common(**overrides) -> dict:
    data = {
        "title": "I will design a logo for your bakery",
        "description": "A clean, modern logo with **two** rounds of changes included.",
        "category": "logo-brand-design",
        "currency": "USD",
        "tags": ["logo", "branding"],
        "languages": ["English"],
    }
    data.update(overrides)
    return data


def details(kind: str) -> dict:
    soon = timezone.now() + timedelta(days=7)
    return {
        "service": {
            "packages": [
                {
                    "tier": "basic",
                    "name": "Basic",
                    "price": 5000,
                    "delivery_days": 3,
                    "revisions": 1,
                    "features": ["1 concept"],
                },
                {
                    "tier": "standard",
                    "name": "Standard",
                    "price": 9000,
                    "delivery_days": 5,
                    "revisions": 2,
                    "features": ["3 concepts"],
                },
                {
                    "tier": "premium",
                    "name": "Premium",
                    "price": 15000,
                    "delivery_days": 7,
                    "revisions": 3,
                    "features": ["5 concepts", "Brand guide"],
                },
            ],
            "extras": [{"title": "24-hour delivery", "price": 2000, "extra_days": -2}],
            "questions": [{"question": "What is the business called?", "required": True}],
        },
        "experience": {
            "meeting_point": "Main gate",
            "sessions": [
                {
                    "starts_at": soon,
                    "duration_minutes": 120,
                    "capacity": 8,
                    "price_per_person": 4000,
                }
            ],
        },
        "rental": {
            "unit": "night",
            "price_per_unit": 6000,
            "min_units": 2,
            "max_units": 10,
            "security_deposit": 10000,
            "cancellation_policy": "moderate",
        },
        "task": {"hourly_rate": 3000, "min_hours": 2, "radius_km": 10},
        "digital": {"price": 1500},
        "physical": {
            "price": 3000,
            "stock": 5,
            "processing_days": 2,
            "shipping": [{"country": "US", "price": 500}, {"country": "*", "price": 1500}],
        },
    }[kind]


CATEGORY = {
    "service": "logo-brand-design",
    "experience": "walking-tours",
    "rental": "rooms-stays",
    "task": "handyman-assembly",
    "digital": "templates",
    "physical": "ceramics-pottery",
}
LOCATED = {"experience", "rental", "task"}


def make_offer(owner=None, kind: str = "service", publish: bool = False, **overrides):
    owner = owner or seller()
    fields = common(category=CATEGORY[kind], **overrides)
    if kind in LOCATED:
        fields.setdefault("latitude", 53.48)
        fields.setdefault("longitude", -2.24)
        fields.setdefault("place_name", "Manchester")
    offer = services.offer_create(seller=owner, kind=kind, details=details(kind), **fields)
    if kind == "digital":
        services.digital_file_add(
            offer_id=offer.pk,
            actor=owner,
            upload=SimpleUploadedFile("guide.pdf", b"%PDF-1.7\n% a tiny pdf\n", "application/pdf"),
        )
    if publish:
        offer = services.offer_transition(offer_id=offer.pk, actor=owner, action="submit")
    return offer
