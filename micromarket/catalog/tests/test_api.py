"""/api/v1/listings and /api/v1/categories."""

from __future__ import annotations

import json

import pytest

from micromarket.accounts.tests.factories import UserFactory
from micromarket.catalog.models import Offer
from micromarket.catalog.tests.factories import common, details, make_offer, seller

pytestmark = pytest.mark.django_db


def _as(client, user):
    client.force_login(user)
    return client


def _post(client, url, data):
    return client.post(url, data=json.dumps(data, default=str), content_type="application/json")


def _patch(client, url, data):
    return client.patch(url, data=json.dumps(data), content_type="application/json")


def test_categories_are_a_two_level_tree(client):
    tree = client.get("/api/v1/categories").json()
    assert {c["slug"] for c in tree} >= {"creative-services", "rentals", "lessons", "handmade"}
    rentals = next(c for c in tree if c["slug"] == "rentals")
    assert "rooms-stays" in {c["slug"] for c in rentals["children"]}


def test_seller_creates_a_gig_with_three_packages(client):
    owner = seller()
    response = _post(
        _as(client, owner),
        "/api/v1/listings",
        {"kind": "service", **common(), "details": details("service")},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["price_from"] == 5000
    assert [p["tier"] for p in body["details"]["packages"]] == ["basic", "standard", "premium"]


def test_invalid_listing_answers_problem_json_and_saves_nothing(client):
    owner = seller()
    bad = details("service")
    bad["packages"][0]["price"] = -1
    response = _post(
        _as(client, owner), "/api/v1/listings", {"kind": "service", **common(), "details": bad}
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert problem["errors"][0]["loc"] == ["body", "packages"]
    assert Offer.objects.count() == 0


def test_unknown_kind_is_a_422(client):
    response = _post(
        _as(client, seller()), "/api/v1/listings", {"kind": "spaceship", **common(), "details": {}}
    )
    assert response.status_code == 422


def test_anonymous_cannot_create(client):
    response = _post(client, "/api/v1/listings", {"kind": "service", **common(), "details": {}})
    assert response.status_code == 401


def test_draft_is_invisible_to_others_and_visible_to_owner(client):
    offer = make_offer()
    assert client.get(f"/api/v1/listings/{offer.pk}").status_code == 404
    _as(client, UserFactory())
    assert client.get(f"/api/v1/listings/{offer.pk}").status_code == 404
    _as(client, offer.seller)
    assert client.get(f"/api/v1/listings/{offer.pk}").json()["title"] == offer.title


def test_operator_sees_inactive_listings(client):
    offer = make_offer()
    _as(client, UserFactory(operator=True))
    # operators must have completed 2FA for the session; tokens are the API path for scripts
    from micromarket.accounts import services as account_services

    _, raw = account_services.token_create(user=UserFactory(operator=True), name="ops")
    client.logout()
    response = client.get(f"/api/v1/listings/{offer.pk}", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200


def test_only_the_owner_patches_and_others_get_404_with_nothing_changed(client):
    offer = make_offer(publish=True)
    response = _patch(
        _as(client, seller()), f"/api/v1/listings/{offer.pk}", {"title": "Someone else's title"}
    )
    assert response.status_code == 404
    offer.refresh_from_db()
    assert offer.title != "Someone else's title"

    response = _patch(
        _as(client, offer.seller),
        f"/api/v1/listings/{offer.pk}",
        {"title": "My improved logo offer"},
    )
    assert response.status_code == 200
    assert response.json()["title"] == "My improved logo offer"


def test_status_actions(client):
    offer = make_offer()
    _as(client, offer.seller)
    assert client.post(f"/api/v1/listings/{offer.pk}/submit").json()["status"] == "active"
    assert client.post(f"/api/v1/listings/{offer.pk}/pause").json()["status"] == "paused"
    assert client.get(f"/api/v1/listings/{offer.pk}").status_code == 200  # owner still sees it
    conflict = client.post(f"/api/v1/listings/{offer.pk}/pause")
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "invalid_transition"
    assert client.post(f"/api/v1/listings/{offer.pk}/resume").json()["status"] == "active"
    assert client.post(f"/api/v1/listings/{offer.pk}/archive").json()["status"] == "archived"


def test_a_stranger_cannot_pause_someone_elses_listing(client):
    offer = make_offer(publish=True)
    response = _as(client, seller()).post(f"/api/v1/listings/{offer.pk}/pause")
    assert response.status_code == 404
    offer.refresh_from_db()
    assert offer.status == "active"


def test_paused_listing_disappears_from_public_search(client):
    offer = make_offer(publish=True, title="Unmistakable zebra logo design")
    found = client.get("/api/v1/listings", {"q": "zebra"}).json()
    assert [i["id"] for i in found["items"]] == [offer.pk]
    _as(client, offer.seller).post(f"/api/v1/listings/{offer.pk}/pause")
    client.logout()
    assert client.get("/api/v1/listings", {"q": "zebra"}).json()["items"] == []
    assert client.get(f"/api/v1/listings/{offer.pk}").status_code == 404


def test_search_envelope_and_price_filter_needs_currency(client):
    make_offer(publish=True)
    page = client.get("/api/v1/listings", {"limit": 5}).json()
    assert set(page) >= {"items", "count", "limit", "offset", "next", "previous", "facets"}
    bad = client.get("/api/v1/listings", {"price_min": 100})
    assert bad.status_code == 422
    assert bad.json()["code"] == "validation_failed"


def test_image_upload_through_the_api(client):
    from micromarket.catalog.tests.factories import png

    offer = make_offer()
    response = _as(client, offer.seller).post(
        f"/api/v1/listings/{offer.pk}/images", {"image": png(), "alt_text": "Front"}
    )
    assert response.status_code == 201
    assert response.json()["url"].endswith(".webp")
    not_image = _as(client, offer.seller).post(
        f"/api/v1/listings/{offer.pk}/images",
        {"image": __import__("io").BytesIO(b"just text")},
    )
    assert not_image.status_code == 422
    assert offer.images.count() == 1
