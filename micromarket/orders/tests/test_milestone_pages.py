"""A project task's order (kind ``milestone``, no offer) on the pages and API every order uses:
the order page, the lists, the orders API, and reviews that rate the seller without an offer."""

import pytest

from micromarket.accounts.tests.factories import UserFactory
from micromarket.orders.tests.conftest import act, place_milestone
from micromarket.trust.services import reviews as review_services

pytestmark = pytest.mark.django_db


def test_a_milestone_order_shows_its_task_and_brief_to_both_sides(client):
    buyer = UserFactory()
    order = place_milestone(buyer).orders.get()

    client.force_login(buyer)
    page = client.get(f"/orders/{order.pk}/")
    assert page.status_code == 200
    assert "The task and its project" in page.text
    assert "Into Spanish, keeping the HTML tags." in page.text  # the brief
    assert "Translate 10 product pages" in client.get("/orders/").text
    api = client.get(f"/api/v1/orders/{order.pk}").json()
    assert api["kind"] == "milestone"
    assert api["offer_id"] is None
    assert api["origin"].startswith("test.milestone:")

    client.force_login(order.seller)
    page = client.get(f"/orders/{order.pk}/")
    assert page.status_code == 200
    assert "Submit the work" in page.text
    assert "Translate 10 product pages" in client.get("/sales/").text


def test_a_completed_milestone_can_be_reviewed_and_the_review_shows_on_the_seller(client):
    buyer = UserFactory()
    order = place_milestone(buyer).orders.get()
    act(order, "submit", order.seller, message="All ten pages are translated.")
    act(order, "approve", buyer)

    review = review_services.review_create(
        order_id=order.pk,
        author=buyer,
        rating=5,
        text="Fast and careful.",
        communication=5,
        accuracy=5,
        value=5,
    )
    review_services.review_create(
        order_id=order.pk, author=order.seller, rating=5, text="Clear brief."
    )  # both sides reviewed: both are public

    assert review.offer_id is None
    client.force_login(UserFactory())
    page = client.get(f"/people/{order.seller_id}/reviews/")
    assert page.status_code == 200
    assert "Fast and careful." in page.text
    assert "Translate 10 product pages" in page.text  # "On <the order's title>"
