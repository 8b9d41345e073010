"""Every transaction process end to end through ``services.order_transition`` and the sweeper
(``services.deadlines_apply``), with time frozen and moved by hand; then every illegal
transition and every wrong actor, generated from ``processes.PROCESSES``.

What is asserted is what people notice: the order's state, what the buyer got back, what the
seller earned (pending, read from the ledger), stock and seats — and that every escrow ends at
zero with the books balanced.

Default fees (payments.fees.DEFAULTS): the buyer pays a 5% service fee on top of the price, the
platform keeps 10% of the price from the seller. A refund of part of the price returns the same
share of the service fee.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from micromarket.accounts.tests.factories import UserFactory
from micromarket.catalog.tests.factories import make_offer
from micromarket.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from micromarket.orders import selectors, services
from micromarket.orders.models import Order
from micromarket.orders.processes import PROCESSES
from micromarket.orders.tests.conftest import (
    act,
    books_balance,
    held,
    offer_details,
    pending_earnings,
    place,
    place_milestone,
    refunded,
)
from micromarket.payments.providers import sandbox

pytestmark = pytest.mark.django_db

T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)  # a Monday morning; every test starts here
MINUTE = timedelta(minutes=1)


@pytest.fixture
def clock(time_machine):
    """Time stands still at T0 until a test moves it."""
    time_machine.move_to(T0, tick=False)
    return time_machine


@pytest.fixture
def operator():
    return UserFactory(is_staff=True)


def sweep() -> int:
    """The sweeper's run now: how many automatic transitions it applied."""
    return services.deadlines_apply()


def reload(order: Order) -> Order:
    return Order.objects.get(pk=order.pk)


def transitions(order: Order) -> list[str]:
    return list(order.events.order_by("id").values_list("transition", flat=True))


def assert_settled(order: Order) -> None:
    """Nothing left in the order's escrows (price and deposit) and the ledger balances."""
    assert held(order.reference) == 0
    assert held(order.deposit_reference) == 0
    assert books_balance()


def assert_refused(order: Order, error, code: str | None, name: str, actor, **data) -> None:
    """Applying ``name`` raises ``error`` (with ``code``) and changes nothing."""
    before = reload(order)
    events = before.events.count()
    with pytest.raises(error) as exc:
        act(order, name, actor, **data)
    if code is not None:
        assert exc.value.code == code, exc.value.message
    after = reload(order)
    assert after.state == before.state
    assert after.events.count() == events
    assert after.deadline_at == before.deadline_at
    assert after.cancellation_requested_by_id == before.cancellation_requested_by_id


def pdf(name="logo.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.7\n% the logo\n", "application/pdf")


# ---------------------------------------------------------------------------------------------
# Service gigs


def gig(buyer, offer, package="basic", extras=()) -> Order:
    checkout = place(buyer, {"offer": offer.pk, "package": package, "extras": list(extras)})
    assert checkout.status == "paid", checkout.failure_message
    return checkout.orders.get()


def gig_started(buyer, offer_of, package="basic") -> Order:
    order = gig(buyer, offer_of("service"), package)
    return act(order, "submit_requirements", buyer, answers=["Rosie's Bakery"])


def test_gig_requirements_delivery_revisions_and_acceptance_pay_the_seller(clock, buyer, offer_of):
    offer = offer_of("service")
    order = gig(buyer, offer, "standard", extras=[offer.extras.get().pk])
    seller = order.seller
    # Standard 90.00 + the 24-hour extra 20.00; 5 days − 2 days; two revisions.
    assert (order.state, order.subtotal, order.delivery_days) == ("requirements", 11_000, 3)
    assert order.revisions_allowed == 2
    assert held(order.reference) == 11_000 + 550
    assert order.due_at is None  # the clock starts with the requirements

    assert_refused(order, ValidationFailed, "answer_required", "submit_requirements", buyer)
    order = act(order, "submit_requirements", buyer, answers=["Rosie's Bakery"])
    assert order.state == "in_progress"
    assert order.requirements[0]["answer"] == "Rosie's Bakery"
    assert order.due_at == T0 + timedelta(days=3)

    assert_refused(order, ValidationFailed, None, "deliver", seller)  # a message is required
    clock.shift(timedelta(days=2))
    order = act(order, "deliver", seller, message="Three concepts attached", files=[pdf()])
    assert order.state == "delivered"
    delivery = order.deliveries.get()
    assert delivery.message == "Three concepts attached"
    assert [f.content_type for f in delivery.files.all()] == ["application/pdf"]
    assert order.deadline_transition == "auto_complete"

    for round_ in (1, 2):
        order = act(order, "request_revision", buyer, message=f"Round {round_}: bigger")
        assert (order.state, order.revisions_used) == ("revision_requested", round_)
        assert order.deadline_at is None  # nothing completes while the seller works
        order = act(order, "deliver", seller, message=f"Version {round_ + 1}")
        assert order.state == "delivered"
    assert_refused(order, Conflict, "not_allowed_now", "request_revision", buyer, message="more")

    order = act(order, "accept", buyer)
    assert (order.state, order.closed_at, order.deadline_at) == (
        "completed",
        T0 + timedelta(days=2),
        None,
    )
    assert refunded(order.reference) == 0
    assert pending_earnings(seller) == 9_900  # 110.00 − 10% commission
    assert_settled(order)
    assert transitions(order) == [
        "create",
        "pay",
        "submit_requirements",
        "deliver",
        "request_revision",
        "deliver",
        "request_revision",
        "deliver",
        "accept",
    ]


def test_basic_package_allows_one_revision(clock, buyer, offer_of):
    order = gig_started(buyer, offer_of)
    order = act(order, "deliver", order.seller, message="v1")
    order = act(order, "request_revision", buyer, message="again")
    order = act(order, "deliver", order.seller, message="v2")
    assert_refused(order, Conflict, "not_allowed_now", "request_revision", buyer, message="more")


def test_a_delivery_completes_by_itself_three_days_later_not_a_minute_earlier(
    clock, buyer, offer_of
):
    order = gig_started(buyer, offer_of)
    order = act(order, "deliver", order.seller, message="Done")

    clock.shift(timedelta(days=3) - MINUTE)
    assert sweep() == 0
    assert reload(order).state == "delivered"

    clock.shift(MINUTE)
    assert sweep() == 1
    order = reload(order)
    assert order.state == "completed"
    assert order.events.last().role == "system"
    assert pending_earnings(order.seller) == 4_500
    assert_settled(order)
    assert sweep() == 0  # applied once


def test_an_offer_without_questions_starts_at_once(clock, buyer, offer_of):
    offer = offer_details(offer_of("service"), questions=[])
    order = gig(buyer, offer)
    assert order.state == "in_progress"
    assert order.due_at == T0 + timedelta(days=3)
    assert transitions(order) == ["create", "pay", "start"]


def test_a_late_delivery_can_be_cancelled_only_once_late_with_a_full_refund(clock, buyer, offer_of):
    order = gig_started(buyer, offer_of)
    assert order.due_at == T0 + timedelta(days=3)

    clock.move_to(order.due_at)
    assert_refused(order, Conflict, "not_allowed_now", "cancel_late", buyer)

    clock.shift(MINUTE)
    order = act(order, "cancel_late", buyer)
    assert order.state == "cancelled"
    assert refunded(order.reference) == 5_250  # the price and the whole service fee
    assert pending_earnings(order.seller) == 0
    assert_settled(order)


def test_mutual_cancellation_asked_by_the_seller(clock, buyer, offer_of):
    order = gig_started(buyer, offer_of)
    seller = order.seller

    assert_refused(order, ValidationFailed, None, "request_cancellation", seller)  # no reason
    order = act(order, "request_cancellation", seller, message="I am ill this week")
    assert (order.state, order.cancellation_requested_by_id) == ("in_progress", seller.pk)
    assert_refused(order, Conflict, "not_allowed_now", "request_cancellation", buyer, message="x")
    assert_refused(order, Conflict, "not_allowed_now", "accept_cancellation", seller)
    assert_refused(order, Conflict, "not_allowed_now", "decline_cancellation", seller)

    order = act(order, "decline_cancellation", buyer)
    assert (order.state, order.cancellation_requested_by_id) == ("in_progress", None)
    assert_refused(order, Conflict, "not_allowed_now", "accept_cancellation", buyer)
    assert held(order.reference) == 5_250

    act(order, "request_cancellation", seller, message="Still ill")
    order = act(order, "accept_cancellation", buyer)
    assert (order.state, order.cancellation_requested_by_id) == ("cancelled", None)
    assert refunded(order.reference) == 5_250
    assert pending_earnings(seller) == 0
    assert_settled(order)


@pytest.mark.parametrize(
    ("decision", "state", "buyer_back", "seller_earns"),
    [("resolve_refund", "cancelled", 5_250, 0), ("resolve_release", "completed", 0, 4_500)],
)
def test_a_dispute_freezes_the_money_until_an_operator_decides(
    clock, buyer, offer_of, operator, decision, state, buyer_back, seller_earns
):
    order = gig_started(buyer, offer_of)
    seller = order.seller
    order = act(order, "deliver", seller, message="Done")
    order = act(order, "dispute", buyer, message="This is not what I asked for")
    assert (order.state, order.deadline_at) == ("disputed", None)

    clock.shift(timedelta(days=30))
    assert sweep() == 0  # no auto-completion while disputed
    assert held(order.reference) == 5_250
    for party in (buyer, seller):
        assert_refused(order, PermissionDenied, "wrong_party", decision, party, message="mine")

    order = act(order, decision, operator, message="Decided on the evidence")
    assert order.state == state
    assert order.events.last().role == "operator"
    assert refunded(order.reference) == buyer_back
    assert pending_earnings(seller) == seller_earns
    assert_settled(order)


# ---------------------------------------------------------------------------------------------
# Experiences: session in 7 days at T0's time, 2 hours, capacity 8, 40.00 a person


def booking(buyer, offer, seats=2) -> Order:
    session = offer.sessions.get()
    checkout = place(buyer, {"offer": offer.pk, "session": session.pk, "seats": seats})
    assert checkout.status == "paid", checkout.failure_message
    return checkout.orders.get()


def test_an_experience_completes_at_the_end_of_the_session(clock, buyer, offer_of):
    order = booking(buyer, offer_of("experience"))
    assert (order.state, order.subtotal, order.seats) == ("booked", 8_000, 2)
    assert order.ends_at == T0 + timedelta(days=7, hours=2)

    clock.move_to(order.ends_at - MINUTE)
    assert sweep() == 0
    clock.move_to(order.ends_at)
    assert sweep() == 1
    order = reload(order)
    assert order.state == "completed"
    assert pending_earnings(order.seller) == 7_200
    assert_settled(order)


@pytest.mark.parametrize(
    ("before_start", "buyer_back", "seller_earns"),
    [
        (timedelta(hours=24), 8_400, 0),  # in time: the price and the service fee
        (timedelta(hours=24) - MINUTE, 0, 7_200),  # too late: the host is paid
    ],
)
def test_a_buyer_cancels_an_experience_by_its_policy(
    clock, buyer, offer_of, before_start, buyer_back, seller_earns
):
    order = booking(buyer, offer_of("experience"))
    clock.move_to(order.starts_at - before_start)
    order = act(order, "cancel", buyer)
    assert order.state == "cancelled"
    assert refunded(order.reference) == buyer_back
    assert pending_earnings(order.seller) == seller_earns
    assert_settled(order)


def test_an_experience_cannot_be_cancelled_once_started(clock, buyer, offer_of):
    order = booking(buyer, offer_of("experience"))
    clock.move_to(order.starts_at)
    assert_refused(order, Conflict, "not_allowed_now", "cancel", buyer)


def test_the_host_cancels_a_session_and_every_attendee_is_refunded(
    clock, buyer, offer_of, mailoutbox
):
    offer = offer_of("experience")
    other = UserFactory()
    first, second = booking(buyer, offer, seats=2), booking(other, offer, seats=1)
    seller, session = offer.seller, offer.sessions.get()
    with pytest.raises(NotFound):
        services.session_cancel(session_id=session.pk, actor=buyer)
    mailoutbox.clear()

    assert services.session_cancel(session_id=session.pk, actor=seller, message="Storm") == 2

    for order, back in ((first, 8_400), (second, 4_200)):
        order = reload(order)
        assert order.state == "cancelled"
        assert refunded(order.reference) == back
        assert_settled(order)
    assert pending_earnings(seller) == 0
    assert sorted(m.to[0] for m in mailoutbox) == sorted([buyer.email, other.email])
    with pytest.raises(ValidationFailed) as exc:  # the session takes no more bookings
        place(UserFactory(), {"offer": offer.pk, "session": session.pk, "seats": 1})
    assert exc.value.field == "session"


# ---------------------------------------------------------------------------------------------
# Rentals: 60.00 a night, deposit 100.00 (held apart, no fees), moderate policy


def rental(buyer, offer, nights=3, in_days=10) -> Order:
    start = T0.date() + timedelta(days=in_days)
    item = {"offer": offer.pk, "start": str(start), "end": str(start + timedelta(days=nights))}
    checkout = place(buyer, item)
    assert checkout.status == "paid", checkout.failure_message
    return checkout.orders.get()


def test_a_rental_request_accepted_by_the_owner(clock, buyer, offer_of):
    order = rental(buyer, offer_of("rental"))
    assert (order.state, order.subtotal, order.deposit) == ("requested", 18_000, 10_000)
    assert held(order.reference) == 18_900
    assert held(order.deposit_reference) == 10_000
    assert order.deadline_transition == "expire"

    order = act(order, "accept", order.seller)
    assert (order.state, order.deadline_at) == ("accepted", None)


def test_a_declined_rental_refunds_the_price_and_the_deposit(clock, buyer, offer_of):
    order = rental(buyer, offer_of("rental"))
    order = act(order, "decline", order.seller, message="Not available after all")
    assert order.state == "declined"
    assert refunded(order.reference) == 18_900
    assert refunded(order.deposit_reference) == 10_000
    assert pending_earnings(order.seller) == 0
    assert_settled(order)


def test_a_rental_request_expires_after_24_hours(clock, buyer, offer_of):
    order = rental(buyer, offer_of("rental"))
    clock.shift(timedelta(hours=24) - MINUTE)
    assert sweep() == 0
    clock.shift(MINUTE)
    assert sweep() == 1
    order = reload(order)
    assert order.state == "declined"
    assert (refunded(order.reference), refunded(order.deposit_reference)) == (18_900, 10_000)
    assert_settled(order)


def test_the_buyer_may_withdraw_a_request(clock, buyer, offer_of):
    order = rental(buyer, offer_of("rental"))
    order = act(order, "withdraw", buyer)
    assert order.state == "cancelled"
    assert (refunded(order.reference), refunded(order.deposit_reference)) == (18_900, 10_000)
    assert_settled(order)


def test_an_instant_booking_is_accepted_at_once(clock, buyer, offer_of):
    offer = offer_details(offer_of("rental"), instant_booking=True)
    order = rental(buyer, offer)
    assert order.state == "accepted"
    assert transitions(order) == ["create", "pay", "accept"]
    assert order.events.last().role == "system"


@pytest.mark.parametrize(
    ("before_start", "price_back", "seller_earns"),
    [
        (timedelta(days=5), 18_900, 0),  # full refund, service fee included
        (timedelta(days=5) - MINUTE, 9_000 + 450, 8_100),  # half, and half the service fee
    ],
)
def test_a_rental_cancelled_by_the_buyer_refunds_by_the_moderate_policy(
    clock, buyer, offer_of, before_start, price_back, seller_earns
):
    order = rental(buyer, offer_of("rental"))
    order = act(order, "accept", order.seller)
    clock.move_to(order.starts_at - before_start)
    order = act(order, "cancel", buyer)
    assert order.state == "cancelled"
    assert refunded(order.reference) == price_back
    assert refunded(order.deposit_reference) == 10_000  # the deposit always comes back
    assert pending_earnings(order.seller) == seller_earns
    assert_settled(order)


def test_check_in_opens_one_day_before_the_start(clock, buyer, offer_of):
    order = rental(buyer, offer_of("rental"))
    order = act(order, "accept", order.seller)
    clock.move_to(order.starts_at - timedelta(days=1) - MINUTE)
    assert_refused(order, Conflict, "not_allowed_now", "check_in", order.seller)
    clock.shift(MINUTE)
    assert act(order, "check_in", order.seller).state == "checked_in"


def rental_checked_out(clock, buyer, offer_of) -> Order:
    order = rental(buyer, offer_of("rental"))
    act(order, "accept", order.seller)
    clock.move_to(order.starts_at)
    act(order, "check_in", order.seller)
    clock.move_to(order.ends_at)
    return act(order, "check_out", order.seller)


def test_the_owner_completes_a_rental_keeping_part_of_the_deposit(clock, buyer, offer_of):
    order = rental_checked_out(clock, buyer, offer_of)
    seller = order.seller
    assert order.state == "checked_out"
    assert_refused(order, ValidationFailed, None, "complete", seller, claim=2_500)  # no reason
    assert_refused(order, ValidationFailed, None, "complete", seller, claim=10_001, message="x")

    order = act(order, "complete", seller, claim=2_500, message="Broken lamp")
    assert order.state == "completed"
    assert (order.deposit_claimed, order.deposit_claim_reason) == (2_500, "Broken lamp")
    assert refunded(order.reference) == 0
    assert refunded(order.deposit_reference) == 7_500  # the deposit minus the claim
    assert pending_earnings(seller) == 16_200 + 2_500  # the rent net of 10%, and the claim
    assert_settled(order)


def test_a_rental_completes_by_itself_48_hours_after_check_out_returning_the_deposit(
    clock, buyer, offer_of
):
    order = rental_checked_out(clock, buyer, offer_of)
    clock.shift(timedelta(hours=48) - MINUTE)
    assert sweep() == 0
    clock.shift(MINUTE)
    assert sweep() == 1
    order = reload(order)
    assert order.state == "completed"
    assert refunded(order.deposit_reference) == 10_000
    assert pending_earnings(order.seller) == 16_200
    assert_settled(order)


# ---------------------------------------------------------------------------------------------
# Local tasks: 30.00 an hour, 3 hours booked (90.00 authorised), in two days


def task(buyer, offer_of) -> Order:
    starts = (T0 + timedelta(days=2)).isoformat()
    checkout = place(
        buyer,
        {"offer": offer_of("task").pk, "starts_at": starts, "hours": "3", "address": "2 High St"},
    )
    assert checkout.status == "paid", checkout.failure_message
    return checkout.orders.get()


@pytest.mark.parametrize(
    ("hours", "buyer_back", "seller_earns"),
    [
        ("2.5", 1_500 + 75, 6_750),  # half an hour and its share of the fee come back
        ("4", 0, 8_100),  # never more than the 3 hours authorised
    ],
)
def test_the_buyer_approves_the_hours_worked(
    clock, buyer, offer_of, hours, buyer_back, seller_earns
):
    order = task(buyer, offer_of)
    assert (order.state, order.subtotal, order.minutes_booked) == ("booked", 9_000, 180)
    assert_refused(
        order, Conflict, "not_allowed_now", "complete_work", order.seller, hours_worked=hours
    )
    clock.move_to(order.starts_at, tick=False)  # the task's time has come
    assert_refused(order, ValidationFailed, None, "complete_work", order.seller, hours_worked="x")
    order = act(order, "complete_work", order.seller, hours_worked=hours)
    assert order.state == "done"
    order = act(order, "approve", buyer)
    assert order.state == "completed"
    assert refunded(order.reference) == buyer_back
    assert pending_earnings(order.seller) == seller_earns
    assert_settled(order)


def test_finished_work_is_approved_by_itself_after_three_days(clock, buyer, offer_of):
    order = task(buyer, offer_of)
    clock.move_to(order.starts_at + timedelta(hours=3), tick=False)
    act(order, "complete_work", order.seller, hours_worked="3")
    clock.shift(timedelta(days=3) - MINUTE)
    assert sweep() == 0
    clock.shift(MINUTE)
    assert sweep() == 1
    order = reload(order)
    assert order.state == "completed"
    assert pending_earnings(order.seller) == 8_100
    assert_settled(order)


@pytest.mark.parametrize(
    ("before_start", "buyer_back", "seller_earns"),
    [
        (timedelta(hours=24), 9_450, 0),
        (timedelta(hours=24) - MINUTE, 6_000 + 300, 2_700),  # one hour is charged
    ],
)
def test_a_buyer_cancels_a_task(clock, buyer, offer_of, before_start, buyer_back, seller_earns):
    order = task(buyer, offer_of)
    clock.move_to(order.starts_at - before_start)
    order = act(order, "cancel", buyer)
    assert order.state == "cancelled"
    assert refunded(order.reference) == buyer_back
    assert pending_earnings(order.seller) == seller_earns
    assert_settled(order)


# ---------------------------------------------------------------------------------------------
# Digital products: 15.00


def test_a_digital_product_is_delivered_at_once_and_completes_three_days_later(
    clock, buyer, offer_of
):
    checkout = place(buyer, {"offer": offer_of("digital").pk})
    order = checkout.orders.get()
    assert order.state == "delivered"
    assert transitions(order) == ["create", "pay", "deliver"]

    clock.shift(timedelta(days=3) - MINUTE)
    assert sweep() == 0
    clock.shift(MINUTE)
    assert sweep() == 1
    order = reload(order)
    assert order.state == "completed"
    assert pending_earnings(order.seller) == 1_350
    assert_settled(order)


# ---------------------------------------------------------------------------------------------
# Physical products: 30.00, 5 in stock, shipped within 2 days, 5.00 to the US


def parcel(buyer, offer, quantity=2, card=sandbox.CARD_SUCCEEDS):
    return place(buyer, {"offer": offer.pk, "quantity": quantity}, card=card)


def stock(offer) -> int:
    offer.physical.refresh_from_db()
    return offer.physical.stock


def test_a_parcel_is_shipped_received_and_the_seller_paid(clock, buyer, offer_of):
    offer = offer_of("physical")
    order = parcel(buyer, offer).orders.get()
    seller = order.seller
    assert (order.state, order.subtotal, order.shipping) == ("paid", 6_500, 500)
    assert stock(offer) == 3
    assert order.due_at == T0 + timedelta(days=2)

    assert_refused(order, ValidationFailed, None, "ship", seller, tracking_number="1Z999")
    assert_refused(order, ValidationFailed, None, "ship", seller, carrier="UPS")
    order = act(order, "ship", seller, carrier="UPS", tracking_number="1Z999")
    assert (order.state, order.carrier, order.tracking_number) == ("shipped", "UPS", "1Z999")

    order = act(order, "confirm_received", buyer)
    assert order.state == "completed"  # "received" completes at once
    assert transitions(order)[-2:] == ["confirm_received", "complete"]
    assert pending_earnings(seller) == 5_850
    assert stock(offer) == 3
    assert_settled(order)


def test_a_parcel_counts_as_received_14_days_after_shipping(clock, buyer, offer_of):
    order = parcel(buyer, offer_of("physical")).orders.get()
    act(order, "ship", order.seller, carrier="UPS", tracking_number="1Z999")
    clock.shift(timedelta(days=14) - MINUTE)
    assert sweep() == 0
    clock.shift(MINUTE)
    assert sweep() == 1
    order = reload(order)
    assert order.state == "completed"
    assert transitions(order)[-2:] == ["auto_receive", "complete"]
    assert pending_earnings(order.seller) == 5_850
    assert_settled(order)


def test_the_seller_cancels_before_shipping_and_the_stock_comes_back(clock, buyer, offer_of):
    offer = offer_of("physical")
    order = parcel(buyer, offer).orders.get()
    assert_refused(order, ValidationFailed, None, "seller_cancel", order.seller)  # no reason
    order = act(order, "seller_cancel", order.seller, message="Broke it while packing")
    assert order.state == "cancelled"
    assert stock(offer) == 5
    assert refunded(order.reference) == 6_825
    assert_settled(order)


def test_the_buyer_may_cancel_three_days_after_the_ship_by_date(clock, buyer, offer_of):
    offer = offer_of("physical")
    order = parcel(buyer, offer).orders.get()
    clock.move_to(order.due_at + timedelta(days=3))
    assert_refused(order, Conflict, "not_allowed_now", "cancel_late", buyer)
    clock.shift(MINUTE)
    order = act(order, "cancel_late", buyer)
    assert order.state == "cancelled"
    assert stock(offer) == 5
    assert refunded(order.reference) == 6_825
    assert_settled(order)


def test_the_ship_by_date_of_a_parcel_waits_for_its_slowest_item(clock, buyer, offer_of):
    quick = offer_of("physical")  # ships within 2 days
    slow = offer_details(make_offer(quick.seller, "physical", publish=True), processing_days=7)
    order = place(buyer, {"offer": quick.pk}, {"offer": slow.pk}).orders.get()
    assert order.due_at == T0 + timedelta(days=7)
    clock.move_to(T0 + timedelta(days=7 + 3))
    assert_refused(order, Conflict, "not_allowed_now", "cancel_late", buyer)
    clock.shift(MINUTE)
    assert act(order, "cancel_late", buyer).state == "cancelled"
    assert (stock(quick), stock(slow)) == (5, 5)
    assert_settled(order)


def test_a_declined_card_places_no_order_and_releases_the_stock(clock, buyer, offer_of):
    offer = offer_of("physical")
    checkout = parcel(buyer, offer, card=sandbox.CARD_DECLINED)
    assert checkout.status == "failed"
    assert checkout.failure_message == "Your card was declined."
    order = checkout.orders.get()
    assert order.state == "payment_failed"
    assert stock(offer) == 5
    assert not selectors.orders_for_seller(seller=order.seller).exists()
    assert held(order.reference) == 0
    assert books_balance()


# ---------------------------------------------------------------------------------------------
# Illegal transitions and wrong actors, generated from the declarations.
#
# Setup shortcut: the order's state is set directly with an UPDATE to reach each state of its
# process (building every state through real transitions would repeat the journeys above).
# The refusals come before any guard, input or effect, so a state set this way is enough.


def any_order(kind: str, buyer) -> Order:
    """A paid order of ``kind`` from a new seller."""
    if kind == "milestone":
        checkout = place_milestone(buyer)
        assert checkout.status == "paid", checkout.failure_message
        return checkout.orders.get()
    offer = make_offer(kind=kind, publish=True)
    item = {"offer": offer.pk}
    if kind == "service":
        item["package"] = "basic"
    elif kind == "experience":
        item.update(session=offer.sessions.get().pk, seats=1)
    elif kind == "rental":
        start = T0.date() + timedelta(days=10)
        item.update(start=str(start), end=str(start + timedelta(days=2)))
    elif kind == "task":
        item.update(starts_at=(T0 + timedelta(days=2)).isoformat(), hours="2", address="2 High St")
    checkout = place(buyer, item)
    assert checkout.status == "paid", checkout.failure_message
    return checkout.orders.get()


def set_state(order: Order, state: str) -> Order:
    Order.objects.filter(pk=order.pk).update(state=state)
    return reload(order)


def actor_for(role: str, order: Order, operator):
    return {"buyer": order.buyer, "seller": order.seller, "operator": operator, "system": None}[
        role
    ]


@pytest.mark.parametrize("kind", sorted(PROCESSES))
def test_every_transition_is_refused_outside_its_states_and_changes_nothing(
    clock, buyer, operator, kind
):
    process = PROCESSES[kind]
    order = any_order(kind, buyer)
    tried = 0
    for state in process.states:
        order = set_state(order, state)
        for transition in process.transitions.values():
            if state in transition.sources:
                continue
            role = sorted(transition.actors)[0]
            assert_refused(
                order,
                Conflict,
                "illegal_transition",
                transition.name,
                actor_for(role, order, operator),
            )
            tried += 1
    assert tried > len(process.states)  # the generation did generate


@pytest.mark.parametrize("kind", sorted(PROCESSES))
def test_an_unknown_transition_is_refused(clock, buyer, kind):
    order = any_order(kind, buyer)
    assert_refused(order, ValidationFailed, "unknown_transition", "teleport", buyer)
    assert_refused(order, ValidationFailed, "unknown_transition", "teleport", order.seller)


@pytest.mark.parametrize("kind", sorted(PROCESSES))
def test_every_transition_is_refused_to_the_wrong_party_and_changes_nothing(
    clock, buyer, operator, kind
):
    """In a state where the transition is possible, each role it does not list is refused:
    parties with ``wrong_party``; the system and operators with PermissionDenied too."""
    process = PROCESSES[kind]
    order = any_order(kind, buyer)
    tried = 0
    for transition in process.transitions.values():
        if not transition.sources:
            continue
        order = set_state(order, transition.sources[0])
        for role in ("buyer", "seller", "operator", "system"):
            if role in transition.actors:
                continue
            code = "wrong_party" if role in ("buyer", "seller") else None
            assert_refused(
                order, PermissionDenied, code, transition.name, actor_for(role, order, operator)
            )
            tried += 1
    assert tried


@pytest.mark.parametrize("kind", sorted(PROCESSES))
def test_a_stranger_gets_not_found_for_any_transition(clock, buyer, kind):
    order = any_order(kind, buyer)
    stranger = UserFactory()
    for name in [*PROCESSES[kind].transitions, "teleport"]:
        assert_refused(order, NotFound, None, name, stranger)


def test_a_buyer_cannot_deliver(clock, buyer, offer_of):
    order = gig_started(buyer, offer_of)
    assert_refused(order, PermissionDenied, "wrong_party", "deliver", buyer, message="Mine")
    assert not order.deliveries.exists()


def test_a_seller_cannot_accept_their_own_delivery(clock, buyer, offer_of):
    order = gig_started(buyer, offer_of)
    order = act(order, "deliver", order.seller, message="Done")
    assert_refused(order, PermissionDenied, "wrong_party", "accept", order.seller)
    assert held(order.reference) == 5_250
    assert pending_earnings(order.seller) == 0


def test_parties_cannot_take_the_systems_steps(clock, buyer, offer_of):
    order = gig_started(buyer, offer_of)
    order = act(order, "deliver", order.seller, message="Done")
    for party in (buyer, order.seller):
        assert_refused(order, PermissionDenied, "wrong_party", "auto_complete", party)
    assert held(order.reference) == 5_250


def test_an_unknown_order_is_not_found(clock, buyer):
    with pytest.raises(NotFound):
        services.order_transition(order_id=999_999, name="accept", actor=buyer)
