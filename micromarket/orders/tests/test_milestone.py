"""The ``milestone`` process (a project task's unit) at the orders level, through
``services.order_transition`` and the sweeper, with time frozen: submit, revisions up to the
task's allowance, approval that releases the payment in the same step, automatic approval 3 days
after a submission, the buyer's cancellation of late work, the seller's withdrawal, and every
step refused where it does not belong (nothing changes then).

What is asserted is what people notice: the order's state and timeline, what the seller earned
(pending, from the ledger), what the buyer got back, and the escrow ending at zero with the books
balanced.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from micromarket.accounts.tests.factories import UserFactory
from micromarket.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from micromarket.ledger import selectors as ledger_selectors
from micromarket.ledger.arithmetic import percent
from micromarket.orders import services
from micromarket.orders.models import Order
from micromarket.orders.processes import MILESTONE
from micromarket.orders.tests.conftest import (
    act,
    books_balance,
    held,
    pending_earnings,
    place_milestone,
    refunded,
)
from micromarket.payments.providers import sandbox

pytestmark = pytest.mark.django_db

T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(T0, tick=False)
    return time_machine


@pytest.fixture
def order(clock, buyer) -> Order:
    """A paid milestone of 50.00 (3 days to deliver, 1 revision), in progress since T0."""
    checkout = place_milestone(buyer, amount=5000)
    assert checkout.status == "paid", checkout.failure_message
    return checkout.orders.get()


def reload(order: Order) -> Order:
    return Order.objects.get(pk=order.pk)


def timeline(order: Order) -> list[str]:
    return list(order.events.order_by("id").values_list("transition", flat=True))


def seller_net(order: Order) -> int:
    escrow = ledger_selectors.escrow_for_reference(order.reference)
    return escrow.subtotal - percent(escrow.subtotal, escrow.commission_bps)


def assert_refused(order: Order, error, code: str | None, name: str, actor, **data):
    """``name`` as ``actor`` raises ``error`` (with ``code``) and nothing changes."""
    before = reload(order)
    events, money = before.events.count(), held(order.reference)
    with pytest.raises(error) as info:
        act(order, name, actor, **data)
    if code is not None:
        assert info.value.code == code, info.value
    after = reload(order)
    assert (after.state, after.revisions_used, after.due_at, after.deadline_at) == (
        before.state,
        before.revisions_used,
        before.due_at,
        before.deadline_at,
    )
    assert after.events.count() == events
    assert held(order.reference) == money
    return info.value


def test_a_paid_milestone_is_in_progress_with_its_money_held_and_a_due_date(order):
    escrow = ledger_selectors.escrow_for_reference(order.reference)

    assert (order.kind, order.state, order.offer_id) == ("milestone", "in_progress", None)
    assert order.due_at == T0 + timedelta(days=3)
    assert (order.deadline_at, order.revisions_allowed, order.revisions_used) == (None, 1, 0)
    assert escrow.subtotal == 5000
    assert held(order.reference) == 5000 + escrow.service_fee
    assert timeline(order) == ["create", "pay"]
    assert books_balance()


# --- steps that do not belong ---------------------------------------------------------------------


def test_illegal_steps_and_wrong_parties_are_refused_and_change_nothing(order):
    buyer, seller = order.buyer, order.seller
    stranger = UserFactory()

    # Not in this state.
    assert_refused(order, Conflict, "illegal_transition", "approve", buyer)
    assert_refused(order, Conflict, "illegal_transition", "request_revision", buyer, message="x")
    assert_refused(order, Conflict, "illegal_transition", "auto_approve", None)
    assert_refused(order, Conflict, "illegal_transition", "release", None)
    assert_refused(order, Conflict, "illegal_transition", "pay", None)
    # Not theirs to take.
    error = assert_refused(order, PermissionDenied, "wrong_party", "submit", buyer, message="x")
    assert error.message == "Only the seller can “submit the work”."
    assert_refused(order, PermissionDenied, "wrong_party", "cancel_late", seller)
    assert_refused(order, PermissionDenied, "wrong_party", "seller_cancel", buyer, message="x")
    assert_refused(order, PermissionDenied, None, "release", buyer)
    assert_refused(order, PermissionDenied, None, "resolve_refund", buyer, message="x")
    # Not even there, for a stranger; and no such step at all.
    assert_refused(order, NotFound, None, "submit", stranger, message="x")
    assert_refused(order, ValidationFailed, "unknown_transition", "ship", seller)

    act(order, "submit", seller, message="All ten pages.")
    assert_refused(order, Conflict, "illegal_transition", "submit", seller, message="Again.")
    assert_refused(order, Conflict, "illegal_transition", "seller_cancel", seller, message="x")
    assert_refused(order, Conflict, "illegal_transition", "cancel_late", buyer)
    assert_refused(order, PermissionDenied, "wrong_party", "approve", seller)

    act(order, "approve", buyer)
    for name, actor in (("approve", buyer), ("dispute", buyer), ("submit", seller)):
        assert_refused(order, Conflict, "illegal_transition", name, actor, message="late")
    assert {"completed", "cancelled"} <= MILESTONE.terminal


def test_a_submission_needs_a_message_and_files_judged_by_their_content(order):
    seller = order.seller

    assert_refused(order, ValidationFailed, None, "submit", seller, message="  ")
    program = SimpleUploadedFile("pages.pdf", b"\x7fELF" + b"\x00" * 64, "application/pdf")
    error = assert_refused(
        order, ValidationFailed, "file_type_not_allowed", "submit", seller,
        message="Here.", files=[program],
    )  # fmt: skip
    assert error.field == "files"

    done = act(
        order,
        "submit",
        seller,
        message="All ten pages.",
        files=[SimpleUploadedFile("pages.pdf", PDF, "application/pdf")],
    )

    assert done.state == "submitted"
    delivery = done.deliveries.get()
    assert delivery.message == "All ten pages."
    assert [(f.name, f.content_type) for f in delivery.files.all()] == [
        ("pages.pdf", "application/pdf")
    ]


# --- revisions ------------------------------------------------------------------------------------


def test_revisions_are_limited_to_the_tasks_allowance(clock, order):
    buyer, seller = order.buyer, order.seller
    act(order, "submit", seller, message="First version.")

    clock.move_to(T0 + timedelta(days=2, hours=12))
    revised = act(order, "request_revision", buyer, message="Use the formal “usted”.")
    assert (revised.state, revised.revisions_used) == ("revision_requested", 1)
    # The seller gets at least 2 days for the revision, even though the task was due sooner.
    assert revised.due_at == T0 + timedelta(days=4, hours=12)
    assert revised.deadline_at is None  # no automatic approval while the seller works on it

    act(order, "submit", seller, message="Formal now.")
    error = assert_refused(
        order, Conflict, "not_allowed_now", "request_revision", buyer, message="One more?"
    )
    assert error.message == "Your task includes 1 revision, all used."
    assert reload(order).state == "submitted"


def test_a_revision_needs_a_message(order):
    act(order, "submit", order.seller, message="Done.")
    assert_refused(order, ValidationFailed, None, "request_revision", order.buyer, message="")


# --- approval and release ------------------------------------------------------------------------


def test_approval_completes_the_order_and_releases_the_payment_in_one_step(order):
    act(order, "submit", order.seller, message="Done.")

    done = act(order, "approve", order.buyer)

    assert done.state == "completed"
    assert done.closed_at == T0
    assert (done.deadline_at, done.deadline_transition) == (None, "")
    assert timeline(done)[-3:] == ["submit", "approve", "release"]
    assert held(order.reference) == 0
    assert pending_earnings(order.seller) == seller_net(order)
    assert refunded(order.reference) == 0
    assert books_balance()


def test_submitted_work_is_approved_and_paid_automatically_after_3_days(clock, order):
    act(order, "submit", order.seller, message="Done.")
    submitted = reload(order)
    assert (submitted.deadline_at, submitted.deadline_transition) == (
        T0 + timedelta(days=3),
        "auto_approve",
    )

    clock.move_to(T0 + timedelta(days=3) - MINUTE)
    assert services.deadlines_apply() == 0
    assert reload(order).state == "submitted"

    clock.move_to(T0 + timedelta(days=3))
    assert services.deadlines_apply() == 1
    assert services.deadlines_apply() == 0  # once

    done = reload(order)
    assert done.state == "completed"
    assert timeline(done)[-2:] == ["auto_approve", "release"]
    assert pending_earnings(order.seller) == seller_net(order)
    assert held(order.reference) == 0
    assert books_balance()


def test_a_dispute_stops_the_automatic_approval(clock, order):
    act(order, "submit", order.seller, message="Done.")
    act(order, "dispute", order.buyer, message="Half the pages are missing.")

    clock.move_to(T0 + timedelta(days=4))
    assert services.deadlines_apply() == 0

    disputed = reload(order)
    assert disputed.state == "disputed"
    assert pending_earnings(order.seller) == 0
    assert held(order.reference) > 0
    assert books_balance()


# --- cancellations -------------------------------------------------------------------------------


def test_the_buyer_can_cancel_only_once_the_work_is_late(clock, order):
    paid = held(order.reference)

    clock.move_to(T0 + timedelta(days=3))  # due now: not late yet
    error = assert_refused(order, Conflict, "not_allowed_now", "cancel_late", order.buyer)
    assert error.message == "You can cancel once the delivery is late."

    clock.move_to(T0 + timedelta(days=3) + MINUTE)
    done = act(order, "cancel_late", order.buyer)

    assert done.state == "cancelled"
    assert refunded(order.reference) == paid
    assert pending_earnings(order.seller) == 0
    assert held(order.reference) == 0
    assert books_balance()


def test_late_revised_work_can_be_cancelled_after_the_revision_is_due(clock, order):
    act(order, "submit", order.seller, message="Done.")
    act(order, "request_revision", order.buyer, message="Please fix page 3.")  # due T0 + 3 days

    clock.move_to(T0 + timedelta(days=3) + MINUTE)
    done = act(order, "cancel_late", order.buyer)

    assert done.state == "cancelled"
    assert held(order.reference) == 0
    assert books_balance()


def test_the_seller_can_withdraw_before_submitting_and_the_buyer_gets_everything_back(order):
    paid = held(order.reference)

    done = act(order, "seller_cancel", order.seller, message="I cannot do it after all.")

    assert done.state == "cancelled"
    assert refunded(order.reference) == paid
    assert books_balance()


def test_a_cancellation_both_agree_on_refunds_in_full(order):
    paid = held(order.reference)
    act(order, "submit", order.seller, message="Done.")

    asked = act(order, "request_cancellation", order.buyer, message="We changed the plan.")
    assert (asked.state, asked.cancellation_requested_by) == ("submitted", order.buyer)
    assert_refused(order, Conflict, "not_allowed_now", "accept_cancellation", order.buyer)
    done = act(order, "accept_cancellation", order.seller)

    assert done.state == "cancelled"
    assert refunded(order.reference) == paid
    assert books_balance()


def test_a_declined_card_leaves_the_milestone_unpaid_and_nothing_held(clock, buyer):
    checkout = place_milestone(buyer, card=sandbox.CARD_DECLINED)

    order = checkout.orders.get()
    assert (checkout.status, order.state) == ("failed", "payment_failed")
    assert held(order.reference) == 0
    assert order.due_at is None
    assert books_balance()
