"""Checkout: one payment for a cart of several sellers' orders, each order with its own escrow;
idempotency; cards that need a confirmation or are never confirmed; what is refused before
anything is charged (mixed currencies, own offers, taken dates, full sessions, no stock); and
who is emailed when an order moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from micromarket.accounts.tests.factories import UserFactory
from micromarket.catalog.tests import factories
from micromarket.core.errors import Conflict, NotFound, ValidationFailed
from micromarket.ledger import selectors as ledger_selectors
from micromarket.orders import selectors, services
from micromarket.orders.models import Checkout, Order
from micromarket.orders.tests.conftest import (
    act,
    books_balance,
    held,
    offer_details,
    place,
)
from micromarket.payments import services as payments
from micromarket.payments.models import Payment, SandboxObject
from micromarket.payments.providers import sandbox

pytestmark = pytest.mark.django_db

T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(T0, tick=False)
    return time_machine


def fee(subtotal: int) -> int:
    return subtotal * 5 // 100  # the default 5% buyer service fee (round amounts here)


def stock(offer) -> int:
    offer.physical.refresh_from_db()
    return offer.physical.stock


def nothing_charged(buyer) -> bool:
    return (
        not Payment.objects.filter(buyer=buyer).exists()
        and not Checkout.objects.filter(buyer=buyer).exists()
    )


# ---------------------------------------------------------------------------------------------
# One payment, one order per seller per kind, one escrow per order


def test_a_cart_from_two_sellers_is_one_payment_with_an_escrow_per_order(clock, buyer):
    alice, bob = factories.seller(), factories.seller()
    mug = factories.make_offer(alice, "physical", publish=True, title="A blue mug")
    bowl = factories.make_offer(alice, "physical", publish=True, title="A salad bowl")
    guide = factories.make_offer(alice, "digital", publish=True, title="Glazing guide")
    vase = factories.make_offer(bob, "physical", publish=True, title="A tall vase")
    tour = factories.make_offer(bob, "experience", publish=True, title="Pottery walk")
    flat = factories.make_offer(bob, "rental", publish=True, title="Studio flat")
    start = T0.date() + timedelta(days=10)

    checkout = place(
        buyer,
        {"offer": mug.pk, "quantity": 1},
        {"offer": bowl.pk, "quantity": 2},
        {"offer": guide.pk},
        {"offer": vase.pk},
        {"offer": tour.pk, "session": tour.sessions.get().pk, "seats": 2},
        {"offer": flat.pk, "start": str(start), "end": str(start + timedelta(days=2))},
    )

    assert checkout.status == "paid", checkout.failure_message
    orders = {(o.seller_id, o.kind): o for o in checkout.orders.all()}
    assert set(orders) == {
        (alice.pk, "physical"),
        (alice.pk, "digital"),
        (bob.pk, "physical"),
        (bob.pk, "experience"),
        (bob.pk, "rental"),
    }
    alices_parcel = orders[alice.pk, "physical"]
    # 30.00 + 2 × 30.00, and each offer's 5.00 shipping to the US.
    assert (alices_parcel.subtotal, alices_parcel.shipping) == (10_000, 1_000)
    assert alices_parcel.items.count() == 2
    assert {o.kind: o.subtotal for o in orders.values() if o.seller_id == bob.pk} == {
        "physical": 3_500,
        "experience": 8_000,
        "rental": 12_000,
    }
    assert {o.kind: o.state for o in orders.values()} == {
        "physical": "paid",
        "digital": "delivered",
        "experience": "booked",
        "rental": "requested",
    }
    for order in orders.values():
        escrow = ledger_selectors.escrow_for_reference(order.reference)
        assert (escrow.seller_id, escrow.subtotal, escrow.status) == (
            order.seller_id,
            order.subtotal,
            "held",
        )
        assert held(order.reference) == order.subtotal + fee(order.subtotal)
    rental = orders[bob.pk, "rental"]
    assert held(rental.deposit_reference) == 10_000  # no fee on the deposit

    payment = Payment.objects.get(buyer=buyer)
    assert checkout.payment_id == payment.pk
    assert payment.status == "succeeded"
    assert payment.total == sum(o.subtotal + fee(o.subtotal) for o in orders.values()) + 10_000
    assert payment.lines.count() == 6  # five orders and the deposit
    assert SandboxObject.objects.filter(kind="charge").count() == 1
    assert (stock(mug), stock(bowl), stock(vase)) == (4, 3, 4)
    assert {o.pk for o in selectors.orders_for_seller(seller=alice)} == {
        orders[alice.pk, "physical"].pk,
        orders[alice.pk, "digital"].pk,
    }
    assert books_balance()


def test_items_in_two_currencies_are_refused(clock, buyer):
    dollars = factories.make_offer(kind="digital", publish=True)
    euros = factories.make_offer(kind="digital", publish=True, currency="EUR")
    with pytest.raises(ValidationFailed) as exc:
        place(buyer, {"offer": dollars.pk}, {"offer": euros.pk})
    assert exc.value.code == "mixed_currencies"
    assert nothing_charged(buyer)


def test_buying_your_own_offer_is_refused(clock, offer_of):
    offer = offer_of("digital")
    with pytest.raises(ValidationFailed) as exc:
        place(offer.seller, {"offer": offer.pk})
    assert exc.value.code == "self_dealing"
    assert nothing_charged(offer.seller)


# ---------------------------------------------------------------------------------------------
# Idempotency


def test_the_same_checkout_sent_twice_charges_once(clock, buyer, offer_of):
    offer = offer_of("physical")
    item = {"offer": offer.pk, "quantity": 1}
    first = place(buyer, item, key="checkout-1")
    again = place(buyer, item, key="checkout-1")
    assert again.pk == first.pk
    assert again.status == "paid"
    assert Order.objects.filter(buyer=buyer).count() == 1
    assert Payment.objects.filter(buyer=buyer).count() == 1
    assert SandboxObject.objects.filter(kind="charge").count() == 1
    assert stock(offer) == 4


def test_another_body_with_the_same_key_is_refused(clock, buyer, offer_of):
    offer = offer_of("physical")
    place(buyer, {"offer": offer.pk, "quantity": 1}, key="checkout-1")
    with pytest.raises(ValidationFailed) as exc:
        place(buyer, {"offer": offer.pk, "quantity": 2}, key="checkout-1")
    assert exc.value.code == "idempotency_mismatch"
    assert Order.objects.filter(buyer=buyer).count() == 1
    assert stock(offer) == 4


# ---------------------------------------------------------------------------------------------
# Cards that need the buyer's confirmation


def awaiting_confirmation(buyer, offer):
    checkout = place(buyer, {"offer": offer.pk, "quantity": 5}, card=sandbox.CARD_REQUIRES_ACTION)
    assert checkout.status == "pending"
    assert checkout.payment.status == "requires_action"
    assert checkout.payment.action_url
    order = checkout.orders.get()
    assert order.state == "pending_payment"
    return checkout, order


@pytest.mark.parametrize("back_by", ["buyer_returns", "sweeper"])
def test_a_confirmed_payment_places_the_orders(clock, buyer, offer_of, back_by):
    offer = offer_of("physical")
    checkout, order = awaiting_confirmation(buyer, offer)
    seller = order.seller
    assert stock(offer) == 0  # reserved while the buyer confirms
    assert not selectors.orders_for_seller(seller=seller).exists()
    with pytest.raises(NotFound):
        selectors.order_for_user(order_id=order.pk, user=seller)
    assert selectors.order_for_user(order_id=order.pk, user=buyer) == order
    assert services.checkouts_sync() == 0  # nothing to do until the buyer answers

    payments.sandbox_authenticate(reference=checkout.payment.provider_reference, approve=True)
    if back_by == "buyer_returns":
        checkout = services.checkout_return(checkout_id=checkout.pk, buyer=buyer)
    else:
        assert services.checkouts_sync() == 1
        checkout.refresh_from_db()

    assert checkout.status == "paid"
    order.refresh_from_db()
    assert order.state == "paid"
    assert list(selectors.orders_for_seller(seller=seller)) == [order]
    assert held(order.reference) == 15_000 + 500 + fee(15_500)
    assert stock(offer) == 0


def test_only_the_buyer_can_come_back_to_a_checkout(clock, buyer, offer_of):
    checkout, _ = awaiting_confirmation(buyer, offer_of("physical"))
    with pytest.raises(NotFound):
        services.checkout_return(checkout_id=checkout.pk, buyer=UserFactory())


def test_a_payment_never_confirmed_fails_and_releases_the_stock(clock, buyer, offer_of):
    offer = offer_of("physical")
    checkout, order = awaiting_confirmation(buyer, offer)

    clock.shift(timedelta(hours=23))
    assert payments.payment_cancel_stale() == 0
    clock.shift(timedelta(hours=1, minutes=1))
    assert payments.payment_cancel_stale() == 1
    assert services.checkouts_sync() == 1

    checkout.refresh_from_db()
    order.refresh_from_db()
    assert (checkout.status, order.state) == ("failed", "payment_failed")
    assert checkout.failure_message == "The payment was not confirmed in time."
    assert stock(offer) == 5
    assert not selectors.orders_for_seller(seller=order.seller).exists()
    assert held(order.reference) == 0
    assert books_balance()
    # What was reserved can be bought again.
    assert place(UserFactory(), {"offer": offer.pk, "quantity": 5}).status == "paid"


# ---------------------------------------------------------------------------------------------
# Refused before anything is charged


def test_blocked_rental_dates_are_refused(clock, buyer, offer_of):
    day = T0.date() + timedelta(days=10)
    offer = offer_details(
        offer_of("rental"),
        blocks=[{"start": day + timedelta(days=2), "end": day + timedelta(days=4)}],
    )
    with pytest.raises(Conflict) as exc:
        place(buyer, {"offer": offer.pk, "start": str(day), "end": str(day + timedelta(days=3))})
    assert exc.value.code == "dates_taken"
    assert nothing_charged(buyer)
    # The block starts on the day this stay ends: no overlap.
    checkout = place(
        buyer, {"offer": offer.pk, "start": str(day), "end": str(day + timedelta(days=2))}
    )
    assert checkout.status == "paid"


def test_booked_rental_dates_are_refused_until_the_booking_is_declined(clock, buyer, offer_of):
    offer = offer_of("rental")
    day = T0.date() + timedelta(days=10)
    first = place(
        buyer, {"offer": offer.pk, "start": str(day), "end": str(day + timedelta(days=3))}
    )
    other = UserFactory()
    overlapping = {
        "offer": offer.pk,
        "start": str(day + timedelta(days=2)),
        "end": str(day + timedelta(days=5)),
    }
    with pytest.raises(Conflict) as exc:
        place(other, overlapping)
    assert exc.value.code == "dates_taken"
    assert nothing_charged(other)

    order = first.orders.get()
    act(order, "decline", order.seller)
    assert place(other, overlapping).status == "paid"


def test_the_last_seat_of_a_session_can_be_booked_once(clock, buyer, offer_of):
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
    item = {"offer": offer.pk, "session": session.pk, "seats": 1}
    assert place(buyer, item).status == "paid"
    other = UserFactory()
    with pytest.raises(Conflict) as exc:
        place(other, item)
    assert exc.value.code == "sold_out"
    assert nothing_charged(other)


def test_a_whole_session_can_be_booked_and_then_it_is_full(clock, buyer, offer_of):
    offer = offer_of("experience")
    session = offer.sessions.get()
    first = place(buyer, {"offer": offer.pk, "session": session.pk, "seats": 6})
    assert first.status == "paid"
    with pytest.raises(Conflict) as exc:
        place(UserFactory(), {"offer": offer.pk, "session": session.pk, "seats": 3})
    assert (exc.value.code, exc.value.message) == (
        "sold_out",
        "Only 2 seats left for that session.",
    )
    assert place(UserFactory(), {"offer": offer.pk, "session": session.pk, "seats": 2}).status == (
        "paid"
    )


def test_more_than_the_stock_is_refused(clock, buyer, offer_of):
    offer = offer_of("physical")
    with pytest.raises(Conflict) as exc:
        place(buyer, {"offer": offer.pk, "quantity": 6})
    assert exc.value.code == "out_of_stock"
    assert nothing_charged(buyer)
    assert stock(offer) == 5


# ---------------------------------------------------------------------------------------------
# Emails: the other party hears of every step, the one who took it does not


def recipients(mailoutbox) -> list[str]:
    sent = sorted(m.to[0] for m in mailoutbox)
    mailoutbox.clear()
    return sent


def test_each_step_of_a_gig_emails_the_other_party(clock, buyer, offer_of, mailoutbox):
    order = place(buyer, {"offer": offer_of("service").pk, "package": "basic"}).orders.get()
    seller = order.seller
    assert recipients(mailoutbox) == sorted([buyer.email, seller.email])  # paid: both hear

    steps = [
        ("submit_requirements", buyer, {"answers": ["Rosie's Bakery"]}, seller),
        ("deliver", seller, {"message": "Here you are"}, buyer),
        ("request_revision", buyer, {"message": "Bigger, please"}, seller),
        ("deliver", seller, {"message": "Bigger"}, buyer),
        ("accept", buyer, {}, seller),
    ]
    for name, actor, data, told in steps:
        order = act(order, name, actor, **data)
        assert recipients(mailoutbox) == [told.email], name
    assert order.state == "completed"


def test_a_delivery_email_tells_the_buyer_what_happened(clock, buyer, offer_of, mailoutbox):
    order = place(buyer, {"offer": offer_of("service").pk, "package": "basic"}).orders.get()
    act(order, "submit_requirements", buyer, answers=["Rosie's Bakery"])
    mailoutbox.clear()
    act(order, "deliver", order.seller, message="Three concepts attached")
    (mail,) = mailoutbox
    assert mail.to == [buyer.email]
    assert f"Order {order.pk}: delivered" in mail.subject
    assert "The seller delivered the order" in mail.body
    assert "Three concepts attached" in mail.body
    assert f"/orders/{order.pk}" in mail.body


def test_a_received_parcel_emails_only_the_seller(clock, buyer, offer_of, mailoutbox):
    order = place(buyer, {"offer": offer_of("physical").pk}).orders.get()
    act(order, "ship", order.seller, carrier="UPS", tracking_number="1Z999")
    mailoutbox.clear()
    act(order, "confirm_received", buyer)
    assert recipients(mailoutbox) == [order.seller.email]  # one email: received, paid


def test_a_declined_payment_emails_nobody_about_the_order(clock, buyer, offer_of, mailoutbox):
    offer = offer_of("physical")
    place(buyer, {"offer": offer.pk}, card=sandbox.CARD_DECLINED)
    assert offer.seller.email not in [m.to[0] for m in mailoutbox]
