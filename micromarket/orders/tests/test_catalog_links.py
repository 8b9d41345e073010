"""What orders need from the catalog: a seller editing an offer keeps the sessions and
variations that orders point at, and cannot delete a session people have booked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from micromarket.catalog import services as catalog_services
from micromarket.catalog.tests.factories import details
from micromarket.core.errors import ValidationFailed
from micromarket.orders.tests.conftest import place

pytestmark = pytest.mark.django_db


def test_editing_an_experience_keeps_its_booked_session(buyer, offer_of):
    offer = offer_of("experience")
    session = offer.sessions.get()
    order = place(buyer, {"offer": offer.pk, "session": session.pk, "seats": 2}).orders.get()
    edited = details("experience")
    edited["sessions"][0]["starts_at"] = session.starts_at
    edited["sessions"][0]["capacity"] = 12
    later = session.starts_at + timedelta(days=7)
    edited["sessions"].append({**edited["sessions"][0], "starts_at": later})

    catalog_services.offer_update(offer_id=offer.pk, actor=offer.seller, details=edited)

    session.refresh_from_db()
    assert session.capacity == 12  # updated in place: the booking still points at it
    order.refresh_from_db()
    assert order.session_id == session.pk
    assert offer.sessions.count() == 2


def test_a_booked_session_cannot_be_removed_from_the_offer(buyer, offer_of):
    offer = offer_of("experience")
    session = offer.sessions.get()
    place(buyer, {"offer": offer.pk, "session": session.pk, "seats": 1})
    edited = details("experience")
    edited["sessions"][0]["starts_at"] = timezone.now() + timedelta(days=30)

    with pytest.raises(ValidationFailed, match="cannot be removed; cancel it instead"):
        catalog_services.offer_update(offer_id=offer.pk, actor=offer.seller, details=edited)

    assert list(offer.sessions.values_list("pk", flat=True)) == [session.pk]


def test_editing_a_product_keeps_variation_ids_and_sets_stock(offer_of):
    edited = details("physical")
    edited["variations"] = [
        {"name": "Small", "price": 2500, "stock": 3},
        {"name": "Large", "price": 3500, "stock": 1},
    ]
    offer = offer_of("physical")
    catalog_services.offer_update(offer_id=offer.pk, actor=offer.seller, details=edited)
    small = offer.variations.get(name="Small")
    edited["variations"][0]["stock"] = 7
    catalog_services.offer_update(offer_id=offer.pk, actor=offer.seller, details=edited)

    assert offer.variations.get(name="Small").pk == small.pk
    assert offer.variations.get(name="Small").stock == 7
