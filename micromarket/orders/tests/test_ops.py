"""The operators' orders page: disputes to decide, overdue automatic steps, late orders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from micromarket.orders.models import Order
from micromarket.orders.tests.conftest import act, place
from micromarket.payments.tests.test_views import operator_login, text

pytestmark = pytest.mark.django_db


def test_operators_see_disputes_overdue_steps_and_late_orders(client, buyer, offer_of):
    disputed = place(buyer, {"offer": offer_of("physical").pk}).orders.get()
    act(disputed, "ship", disputed.seller, carrier="UPS", tracking_number="1Z9")
    act(disputed, "dispute", buyer, message="Never arrived.")
    overdue = place(buyer, {"offer": offer_of("digital").pk}).orders.get()
    Order.objects.filter(pk=overdue.pk).update(deadline_at=timezone.now() - timedelta(hours=1))
    late = place(buyer, {"offer": offer_of("physical").pk}).orders.get()
    Order.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(days=1))

    operator_login(client)
    page = text(client.get("/ops/orders/"))

    assert "Disputes to decide (1)" in page
    assert f"#{disputed.pk}" in page
    assert "Automatic steps overdue (1)" in page
    assert "Late deliveries and shipments (1)" in page
    assert "Physical product" in page  # the open orders by state


def test_the_orders_page_is_for_operators_only(client, buyer):
    client.force_login(buyer)
    response = client.get("/ops/orders/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
