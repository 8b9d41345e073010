"""Orders racing each other on PostgreSQL: buyers after the last seat, the same rental dates or
the last item, and sweeper workers applying the same deadlines. Each thread has its own
database connection; a barrier releases them together.

Whatever the interleaving, exactly one buyer wins what there is one of, the others are told
why (Conflict) and never charged, and an automatic transition is applied once.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connections, transaction
from django.utils import timezone

from micromarket.accounts.tests.factories import UserFactory
from micromarket.catalog.tests import factories
from micromarket.core.errors import Conflict
from micromarket.core.tests.concurrency import race
from micromarket.ledger.models import Escrow, Transaction
from micromarket.orders import services
from micromarket.orders.models import Checkout, Order, OrderEvent
from micromarket.orders.tests.conftest import act, books_balance, held, offer_details, place
from micromarket.payments import services as payments
from micromarket.payments.models import Payment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _categories():
    factories.seed_categories()


THREADS = 6


def one_winner(outcomes: list, buyers: list, code: str) -> Checkout:
    """Exactly one checkout was placed; every other buyer got Conflict ``code`` and has no
    checkout, payment or escrow at all."""
    won = [o for o in outcomes if not isinstance(o, Exception)]
    lost = [o for o in outcomes if isinstance(o, Exception)]
    assert len(won) == 1, outcomes
    assert all(isinstance(e, Conflict) and e.code == code for e in lost), lost
    checkout = won[0]
    assert checkout.status == "paid", checkout.failure_message
    for buyer in buyers:
        if buyer.pk == checkout.buyer_id:
            continue
        assert not Checkout.objects.filter(buyer=buyer).exists()
        assert not Payment.objects.filter(buyer=buyer).exists()
        assert not Escrow.objects.filter(buyer=buyer).exists()
    assert Payment.objects.count() == 1
    assert books_balance()
    return checkout


def test_buyers_racing_for_the_last_seat_one_gets_it(offer_of):
    offer = offer_of("experience")
    session = offer.sessions.get()
    offer_details(
        offer,
        sessions=[
            {
                "starts_at": session.starts_at,
                "duration_minutes": 120,
                "capacity": 1,
                "price_per_person": 4_000,
            }
        ],
    )
    buyers = [UserFactory() for _ in range(THREADS)]

    outcomes = race(
        THREADS,
        lambda i: place(buyers[i], {"offer": offer.pk, "session": session.pk, "seats": 1}),
    )

    checkout = one_winner(outcomes, buyers, "sold_out")
    assert Order.objects.filter(session=session).count() == 1
    assert checkout.orders.get().state == "booked"


def test_buyers_racing_for_the_same_rental_dates_one_gets_them(offer_of):
    offer = offer_of("rental")
    buyers = [UserFactory() for _ in range(THREADS)]
    day = timezone.localdate() + timedelta(days=10)

    def book(i):  # overlapping stays, each a night apart
        start = day + timedelta(days=i % 2)
        return place(
            buyers[i],
            {"offer": offer.pk, "start": str(start), "end": str(start + timedelta(days=3))},
        )

    checkout = one_winner(race(THREADS, book), buyers, "dates_taken")
    assert Order.objects.filter(offer=offer).count() == 1
    assert checkout.orders.get().state == "requested"


def test_buyers_racing_for_the_last_item_one_gets_it(offer_of):
    offer = offer_of("physical")
    offer_details(offer, stock=1)
    buyers = [UserFactory() for _ in range(THREADS)]

    outcomes = race(THREADS, lambda i: place(buyers[i], {"offer": offer.pk, "quantity": 1}))

    one_winner(outcomes, buyers, "out_of_stock")
    offer.physical.refresh_from_db()
    assert offer.physical.stock == 0


@pytest.mark.parametrize("one_seller", [False, True], ids=["two sellers", "one seller"])
def test_carts_holding_the_same_items_in_opposite_order_are_all_placed(offer_of, one_seller):
    """Each checkout reserves its items in turn; carts naming the same items the other way
    round must not wait on each other forever (a deadlock fails the checkout)."""
    mugs = offer_details(offer_of("physical"), stock=THREADS)
    vases = factories.make_offer(mugs.seller if one_seller else None, "physical", publish=True)
    vases = offer_details(vases, stock=THREADS)
    buyers = [UserFactory() for _ in range(THREADS)]

    def checkout(i):
        first, second = (mugs, vases) if i % 2 else (vases, mugs)
        return place(buyers[i], {"offer": first.pk}, {"offer": second.pk})

    outcomes = race(THREADS, checkout)

    assert [getattr(o, "status", o) for o in outcomes] == ["paid"] * THREADS
    assert Order.objects.filter(state="paid").count() == (1 if one_seller else 2) * THREADS
    for offer in (mugs, vases):
        offer.physical.refresh_from_db()
        assert offer.physical.stock == 0
    assert books_balance()


def test_sweepers_running_at_once_apply_each_deadline_once(offer_of):
    buyer = UserFactory()
    downloads = [place(buyer, {"offer": offer_of("digital").pk}).orders.get() for _ in range(3)]
    parcels = []
    for _ in range(2):
        parcel = place(buyer, {"offer": offer_of("physical").pk}).orders.get()
        parcels.append(act(parcel, "ship", parcel.seller, carrier="UPS", tracking_number="1Z"))
    orders = downloads + parcels
    later = timezone.now() + timedelta(days=14, minutes=1)

    outcomes = race(THREADS, lambda i: services.deadlines_apply(now=later))

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(outcomes) == len(orders)
    for order in orders:
        order.refresh_from_db()
        assert order.state == "completed"
        applied = Counter(
            OrderEvent.objects.filter(order=order, role="system").values_list(
                "transition", flat=True
            )
        )
        expected = (
            {"pay": 1, "deliver": 1, "complete": 1}
            if order.kind == "digital"
            else {"pay": 1, "auto_receive": 1, "complete": 1}
        )
        assert applied == expected
        assert Transaction.objects.filter(reference=order.reference, kind="release").count() == 1
        assert held(order.reference) == 0
    assert books_balance()


def test_an_order_being_changed_locks_the_order_only(offer_of, monkeypatch):
    """A transition locks its order, not the buyer's and seller's user rows: with those locked
    too, a host cancelling a session (each attendee's order in turn) and an attendee's checkout
    from two sellers (each order in turn) could wait on each other for ever."""
    buyer = UserFactory()
    order = place(buyer, {"offer": offer_of("physical").pk}).orders.get()
    seller = order.seller
    inside, go = threading.Event(), threading.Event()
    close = payments.escrow_close

    def slow_close(**kwargs):  # the refund of the cancellation waits, inside the transaction
        inside.set()
        go.wait(timeout=30)
        return close(**kwargs)

    monkeypatch.setattr(payments, "escrow_close", slow_close)
    outcome = []

    def cancel():
        try:
            outcome.append(act(order, "seller_cancel", seller, message="Out of clay"))
        except Exception as exc:
            outcome.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=cancel)
    thread.start()
    try:
        assert inside.wait(timeout=30)
        with transaction.atomic():
            users = (
                get_user_model()
                .objects.select_for_update(nowait=True)
                .filter(pk__in=[buyer.pk, seller.pk])
            )
            assert len(list(users)) == 2  # not locked: nowait would raise
            orders = Order.objects.select_for_update(skip_locked=True).filter(pk=order.pk)
            assert list(orders) == []  # the order itself is locked
    finally:
        go.set()
        thread.join(timeout=60)
    assert outcome[0].state == "cancelled"
    assert books_balance()
