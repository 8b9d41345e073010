"""Bad input gets a clear message, never a server error — on pages and in the API."""

from __future__ import annotations

import pytest

from micromarket.ledger import services as ledger
from micromarket.orders.models import Checkout, Order
from micromarket.orders.tests.test_api import as_user, assert_problem, post
from micromarket.orders.tests.test_views import checkout_url, hidden_key, login, pay, text

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "choices"),
    [
        ("rental", {"start": "2030-02-30", "end": "2030-03-04"}),
        ("rental", {"start": "9999-12-01", "end": "9999-12-04"}),
        ("task", {"starts_at": "2030-02-30T10:00", "hours": "2", "address": "1 Main St"}),
        ("service", {"package": "basic", "extras": "²"}),
        ("physical", {"quantity": "9" * 5000}),
    ],
)
def test_impossible_choices_in_the_order_box_are_refused_with_a_reason(
    client, buyer, offer_of, kind, choices
):
    offer = offer_of(kind)
    login(client, buyer)
    response = client.post(
        f"/offers/{offer.pk}/order/", {"action": "checkout", **choices}, follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"/offers/{offer.pk}/#order"
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    "item",
    [
        {"start": "2030-02-30", "end": "2030-03-04"},
        {"start": "9999-12-30", "end": "9999-12-31"},
        {"offer": "99999999999999999999"},
    ],
)
def test_impossible_items_in_the_api_are_422(buyer, offer_of, item):
    offer = offer_of("rental")
    body = {"items": [{"offer": offer.pk, **item}], "payment_method": "4242424242424242"}
    response = post(as_user(buyer), "/api/v1/orders", body)
    assert_problem(response, 422, "validation_failed")
    assert Checkout.objects.count() == 0


def test_sending_the_checkout_again_after_credit_was_used_shows_the_same_order(
    client, buyer, offer_of
):
    # 5.25 of buyer credit (as from a card refund the bank refused): less than the price.
    ledger.refund_failed_to_credit(
        buyer=buyer,
        amount=525,
        currency="USD",
        reason="card closed",
        reference="refund:test",
        idempotency_key="refund:test:failed",
    )
    offer = offer_of("digital")
    login(client, buyer)
    url = checkout_url(client, offer)
    key = hidden_key(client.get(url))
    first = pay(client, url, key=key, use_credit="on")
    second = pay(client, url, key=key, use_credit="on")

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Checkout.objects.count() == 1
    assert "already" not in text(client.get(second["Location"]))
