"""Reviews API: writing, reading (public or your own only), replying, reputation."""

from __future__ import annotations

import pytest
from django.test import Client

from micromarket.accounts.tests.factories import UserFactory
from micromarket.trust.models import Review
from micromarket.trust.services import reviews as services
from micromarket.trust.tests.factories import completed_order, delivered_order

pytestmark = pytest.mark.django_db

BUYER_REVIEW = {
    "rating": 5,
    "communication": 5,
    "accuracy": 4,
    "value": 5,
    "text": "Great work, on time.",
}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def test_the_buyer_reviews_a_completed_order_and_only_they_see_it_until_revealed():
    order = completed_order()
    response = post(client_for(order.buyer), f"/api/v1/orders/{order.pk}/reviews", BUYER_REVIEW)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["role"] == "buyer"
    assert body["revealed_at"] is None
    assert body["subject"]["id"] == order.seller_id
    url = f"/api/v1/reviews/{body['id']}"
    assert client_for(order.buyer).get(url).status_code == 200
    for other in (client_for(order.seller), client_for(UserFactory()), Client()):
        response = other.get(url)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert Client().get("/api/v1/reviews").json()["count"] == 0


def test_refusals_write_nothing():
    order = delivered_order()
    buyer = client_for(order.buyer)
    response = post(buyer, f"/api/v1/orders/{order.pk}/reviews", BUYER_REVIEW)
    assert response.status_code == 409
    assert response.json()["code"] == "order_not_completed"

    done = completed_order()
    stranger = client_for(UserFactory())
    assert post(stranger, f"/api/v1/orders/{done.pk}/reviews", BUYER_REVIEW).status_code == 404
    missing = {k: v for k, v in BUYER_REVIEW.items() if k != "value"}
    response = post(client_for(done.buyer), f"/api/v1/orders/{done.pk}/reviews", missing)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "value"]
    assert not Review.objects.exists()

    assert post(client_for(done.buyer), f"/api/v1/orders/{done.pk}/reviews", BUYER_REVIEW)
    again = post(client_for(done.buyer), f"/api/v1/orders/{done.pk}/reviews", BUYER_REVIEW)
    assert again.status_code == 409
    assert again.json()["code"] == "already_reviewed"
    assert Review.objects.count() == 1


def test_public_reviews_list_reply_and_reputation():
    order = completed_order()
    post(client_for(order.buyer), f"/api/v1/orders/{order.pk}/reviews", BUYER_REVIEW)
    post(
        client_for(order.seller),
        f"/api/v1/orders/{order.pk}/reviews",
        {"rating": 4, "text": "Friendly buyer."},
    )
    listing = Client().get(f"/api/v1/reviews?user_id={order.seller_id}&role=seller").json()
    assert listing["count"] == 1
    review_id = listing["items"][0]["id"]
    assert Client().get(f"/api/v1/reviews?offer_id={order.offer_id}").json()["count"] == 1

    url = f"/api/v1/reviews/{review_id}/reply"
    stranger = post(client_for(UserFactory()), url, {"text": "Not mine"})
    assert stranger.status_code == 403
    assert post(client_for(order.buyer), url, {"text": "Mine"}).status_code == 403
    response = post(client_for(order.seller), url, {"text": "Thanks a lot!"})
    assert response.status_code == 200
    assert response.json()["reply"] == "Thanks a lot!"
    assert post(client_for(order.seller), url, {"text": "Twice"}).status_code == 409
    assert Review.objects.get(pk=review_id).reply == "Thanks a lot!"

    rep = Client().get(f"/api/v1/users/{order.seller_id}/reputation").json()
    assert rep["seller"]["count"] == 1
    assert rep["seller"]["average"] == 5
    assert rep["buyer"]["count"] == 0
    assert rep["level"]["level"] == "new"
    buyer_rep = Client().get(f"/api/v1/users/{order.buyer_id}/reputation").json()
    assert buyer_rep["buyer"]["count"] == 1
    assert buyer_rep["level"] is None


def test_a_stranger_cannot_read_or_reply_to_an_unrevealed_or_hidden_review():
    order = completed_order()
    review = services.review_create(
        order_id=order.pk,
        author=order.buyer,
        rating=2,
        text="Late.",
        communication=2,
        accuracy=3,
        value=2,
    )
    url = f"/api/v1/reviews/{review.pk}"
    stranger = client_for(UserFactory())
    assert stranger.get(url).status_code == 404
    assert post(client_for(order.seller), f"{url}/reply", {"text": "Hm"}).status_code == 404
    services.review_create(order_id=order.pk, author=order.seller, rating=5, text="Fine.")
    services.review_hide(
        review_id=review.pk, actor=UserFactory(operator=True), reason="Off-topic insults"
    )
    assert stranger.get(url).status_code == 404
    assert post(stranger, f"{url}/reply", {"text": "x"}).status_code == 404
    assert post(client_for(order.seller), f"{url}/reply", {"text": "x"}).status_code == 404
    mine = client_for(order.buyer).get(url).json()
    assert mine["hidden"] is True
    assert mine["hidden_reason"] == "Off-topic insults"
    review.refresh_from_db()
    assert review.reply == ""


def test_reputation_of_an_inactive_user_is_not_found():
    gone = UserFactory(is_active=False)
    assert Client().get(f"/api/v1/users/{gone.pk}/reputation").status_code == 404
