"""Paths found in review where money or goods could end up in the wrong place: each test is a
story a buyer or seller could live through."""

from __future__ import annotations

from datetime import timedelta

import pytest

from micromarket.accounts.tests.factories import UserFactory
from micromarket.core.errors import Conflict
from micromarket.orders import services
from micromarket.orders.models import Checkout, Order
from micromarket.orders.tests.conftest import (
    act,
    books_balance,
    held,
    pending_earnings,
    place,
    refunded,
)
from micromarket.orders.tests.test_processes import T0, assert_refused, gig_started, pdf, reload
from micromarket.payments import services as payments
from micromarket.payments.models import Payment
from micromarket.payments.providers import sandbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(T0, tick=False)
    return time_machine


def test_a_payment_confirmed_after_the_host_cancelled_the_session_is_refunded(
    clock, buyer, offer_of
):
    offer = offer_of("experience")
    session = offer.sessions.get()
    checkout = place(
        buyer, {"offer": offer.pk, "session": session.pk}, card=sandbox.CARD_REQUIRES_ACTION
    )
    order = checkout.orders.get()
    assert order.state == "pending_payment"
    services.session_cancel(session_id=session.pk, actor=offer.seller)  # nobody booked yet

    payments.sandbox_authenticate(reference=checkout.payment.provider_reference, approve=True)
    services.checkout_return(checkout_id=checkout.pk, buyer=buyer)

    order = reload(order)
    assert order.state == "cancelled"
    assert refunded(order.reference) == 4_000 + 200  # the seat and its service fee
    assert held(order.reference) == 0
    assert books_balance()


def test_a_task_dispute_decided_for_the_tasker_pays_the_hours_worked(clock, buyer, offer_of):
    operator = UserFactory(is_staff=True)
    order = place(
        buyer,
        {
            "offer": offer_of("task").pk,
            "starts_at": (T0 + timedelta(days=1)).isoformat(),
            "hours": "3",
            "address": "2 High St",
        },
    ).orders.get()
    clock.move_to(order.starts_at + timedelta(hours=2), tick=False)
    act(order, "complete_work", order.seller, hours_worked="2")
    act(order, "dispute", buyer, message="The shelves wobble.")
    act(order, "resolve_release", operator, message="The work was done as booked.")

    assert pending_earnings(order.seller) == 5_400  # 2 h × 30.00 less 10%
    assert refunded(order.reference) == 3_000 + 150  # the hour not worked, with its fee
    assert held(order.reference) == 0
    assert books_balance()


def test_refunding_a_disputed_parcel_does_not_put_shipped_items_back_in_stock(
    clock, buyer, offer_of
):
    offer = offer_of("physical")
    order = place(buyer, {"offer": offer.pk, "quantity": 2}).orders.get()
    act(order, "ship", order.seller, carrier="UPS", tracking_number="1Z999")
    act(order, "dispute", buyer, message="It arrived broken.")
    act(order, "resolve_refund", UserFactory(is_staff=True), message="Broken in transit.")

    offer.physical.refresh_from_db()
    assert offer.physical.stock == 3  # 5 − 2 sent; nothing came back to the shelf
    assert held(order.reference) == 0
    assert books_balance()


def test_a_revision_asked_after_the_due_date_gives_the_seller_time_to_deliver(
    clock, buyer, offer_of
):
    order = gig_started(buyer, offer_of)
    act(order, "deliver", order.seller, message="Done", files=[pdf()])
    clock.move_to(reload(order).due_at + timedelta(days=1), tick=False)
    act(order, "request_revision", buyer, message="Another colour, please.")

    assert_refused(order, Conflict, "not_allowed_now", "cancel_late", buyer)
    clock.shift(timedelta(days=2, minutes=1))
    assert act(order, "cancel_late", buyer).state == "cancelled"


def test_an_unanswered_request_to_cancel_ends_with_the_order(clock, buyer, offer_of):
    order = gig_started(buyer, offer_of)
    act(order, "deliver", order.seller, message="Done")
    act(order, "request_cancellation", buyer, message="I changed my mind.")
    clock.shift(timedelta(days=3, minutes=1))
    services.deadlines_apply()

    order = reload(order)
    assert order.state == "completed"
    assert order.cancellation_requested_by is None


def test_a_confirmed_rental_and_a_booked_task_can_be_disputed(clock, buyer, offer_of):
    start = T0.date() + timedelta(days=10)
    rental = place(
        buyer,
        {"offer": offer_of("rental").pk, "start": str(start), "end": str(start + timedelta(3))},
    ).orders.get()
    act(rental, "accept", rental.seller)
    assert act(rental, "dispute", buyer, message="The owner never showed up.").state == "disputed"
    assert held(rental.reference) > 0  # frozen until an operator decides


def test_a_checkout_charged_but_never_linked_is_placed_by_the_sweeper(clock, buyer, offer_of):
    checkout = place(buyer, {"offer": offer_of("digital").pk})
    order = checkout.orders.get()
    # As if the process stopped after the charge and before linking the payment:
    Checkout.objects.filter(pk=checkout.pk).update(status="pending", payment=None)
    Order.objects.filter(pk=order.pk).update(state="pending_payment")
    clock.shift(timedelta(hours=1))

    services.checkouts_sync()

    checkout = Checkout.objects.get(pk=checkout.pk)
    assert checkout.status == "paid"
    assert checkout.payment is not None
    assert reload(order).state != "payment_failed"


def test_a_checkout_that_never_reached_the_provider_releases_its_stock(clock, buyer, offer_of):
    offer = offer_of("physical")
    checkout = place(buyer, {"offer": offer.pk}, card=sandbox.CARD_REQUIRES_ACTION)
    # As if the process stopped before the provider was asked: no payment under its key.
    Checkout.objects.filter(pk=checkout.pk).update(payment=None)
    Payment.objects.filter(pk=checkout.payment_id).update(idempotency_key="another")
    clock.shift(timedelta(hours=1))

    services.checkouts_sync()

    assert Checkout.objects.get(pk=checkout.pk).status == "failed"
    offer.physical.refresh_from_db()
    assert offer.physical.stock == 5


def test_a_digital_buyer_gets_one_email_with_the_links(clock, buyer, offer_of, mailoutbox):
    offer = offer_of("digital")
    place(buyer, {"offer": offer.pk})
    to_buyer = [m for m in mailoutbox if m.to == [buyer.email] and "Order" in m.subject]
    assert len(to_buyer) == 1
    assert "download" in to_buyer[0].body.lower()


def test_a_seller_can_cancel_a_gig_whose_buyer_never_sends_requirements(clock, buyer, offer_of):
    order = place(buyer, {"offer": offer_of("service").pk, "package": "basic"}).orders.get()
    assert order.state == "requirements"
    order = act(order, "seller_cancel", order.seller, message="No answers after a week.")
    assert order.state == "cancelled"
    assert held(order.reference) == 0


@pytest.mark.parametrize("kind", ["experience", "task"])
def test_a_payment_confirmed_after_the_booking_started_is_refunded(clock, buyer, offer_of, kind):
    offer = offer_of(kind)
    if kind == "experience":
        item = {"offer": offer.pk, "session": offer.sessions.get().pk}
    else:
        starts = (T0 + timedelta(hours=2)).isoformat()
        item = {"offer": offer.pk, "starts_at": starts, "hours": "2", "address": "1 Main St"}
    checkout = place(buyer, item, card=sandbox.CARD_REQUIRES_ACTION)
    order = checkout.orders.get()
    clock.move_to(order.starts_at + timedelta(minutes=5), tick=False)  # confirmed too late

    payments.sandbox_authenticate(reference=checkout.payment.provider_reference, approve=True)
    services.checkout_return(checkout_id=checkout.pk, buyer=buyer)

    order = reload(order)
    assert order.state == "cancelled"
    assert pending_earnings(order.seller) == 0
    assert held(order.reference) == 0
    assert books_balance()


def test_an_abandoned_confirmation_frees_the_seats_after_30_minutes(clock, buyer, offer_of):
    offer = offer_of("experience")
    session = offer.sessions.get()
    checkout = place(
        buyer,
        {"offer": offer.pk, "session": session.pk, "seats": 8},
        card=sandbox.CARD_REQUIRES_ACTION,
    )
    other = UserFactory()
    with pytest.raises(Conflict):
        place(other, {"offer": offer.pk, "session": session.pk, "seats": 1})
    clock.shift(timedelta(minutes=31))

    services.checkouts_sync()

    assert Checkout.objects.get(pk=checkout.pk).status == "failed"
    assert place(other, {"offer": offer.pk, "session": session.pk}).status == "paid"


def test_a_request_to_cancel_ends_when_the_parcel_ships(clock, buyer, offer_of):
    order = place(buyer, {"offer": offer_of("physical").pk}).orders.get()
    act(order, "request_cancellation", buyer, message="Ordered the wrong colour.")
    order = act(order, "ship", order.seller, carrier="UPS", tracking_number="1Z1")
    assert order.cancellation_requested_by is None


def test_a_session_cancelled_while_its_payment_was_in_flight_is_refunded_at_its_end(
    clock, buyer, offer_of
):
    offer = offer_of("experience")
    session = offer.sessions.get()
    order = place(buyer, {"offer": offer.pk, "session": session.pk}).orders.get()
    # As if the host's cancellation committed just after this booking read the session:
    type(session).objects.filter(pk=session.pk).update(cancelled_at=T0)
    clock.move_to(order.ends_at + timedelta(minutes=1), tick=False)

    services.deadlines_apply()

    assert pending_earnings(order.seller) == 0
    assert refunded(order.reference) == 4_000 + 200
    assert books_balance()
