"""``micromarket demo`` places real orders through checkout and the transition service."""

import io

import pytest
from django.core.management import call_command

from micromarket.ledger import selectors as ledger_selectors
from micromarket.orders.models import Checkout, Order


@pytest.mark.django_db
def test_demo_places_orders_in_many_states_and_the_books_balance():
    out = io.StringIO()
    call_command("demo", "--allow-production", stdout=out)
    states = set(Order.objects.values_list("kind", "state"))
    assert {
        ("service", "delivered"),
        ("service", "completed"),
        ("service", "in_progress"),
        ("experience", "booked"),
        ("rental", "requested"),
        ("rental", "accepted"),
        ("task", "done"),
        ("digital", "delivered"),
        ("physical", "shipped"),
        ("physical", "paid"),
    } <= states
    assert "skipped" not in out.getvalue()
    assert not Checkout.objects.exclude(status="paid").exists()
    # the cart of two sellers' digital products: one payment, one order per seller
    cart = Checkout.objects.get(idempotency_key="demo:digital-cart")
    assert cart.orders.count() == 2
    gig = Order.objects.get(kind="service", state="delivered")
    assert gig.revisions_used == 1
    assert gig.deliveries.count() == 2
    assert gig.deadline_transition == "auto_complete"
    assert ledger_selectors.ledger_verify() == []
    completed = Order.objects.get(kind="service", state="completed")
    escrow = ledger_selectors.escrow_for_reference(completed.reference)
    assert escrow.account.balance == 0
    assert ledger_selectors.user_balances(completed.seller)["USD"]["pending"] > 0

    count, events = Order.objects.count(), Order.objects.values("events").count()
    call_command("demo", "--allow-production", stdout=io.StringIO())
    again = io.StringIO()
    call_command("demo", "--allow-production", "--if-empty", stdout=again)
    assert Order.objects.count() == count
    assert Order.objects.values("events").count() == events
    assert "Orders: " in again.getvalue()
    assert ledger_selectors.ledger_verify() == []
