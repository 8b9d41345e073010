"""Funding a project's work and every way that money ends, against the real orders, payments
and ledger, with time frozen: one payment for several units, one milestone order and one
escrow per unit; approval releases each seller's share; refunds, disputes and lapses put the
money and the unit back. The books balance (``ledger_verify() == []``) after every path.

Default fees (payments.fees.DEFAULTS): the buyer pays a service fee on top of the price (held
in the same escrow); the platform keeps a commission from the seller (the escrow's
``commission_bps``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from micromarket.core.errors import Conflict, NotFound
from micromarket.ledger import selectors as ledger_selectors
from micromarket.ledger.arithmetic import fee_refund_due, percent
from micromarket.orders import services as order_services
from micromarket.orders.models import Checkout, Order
from micromarket.payments.models import Payment, Refund, SandboxObject
from micromarket.payments.providers import sandbox
from micromarket.projects import selectors, services
from micromarket.projects.models import Assignment
from micromarket.projects.tests.conftest import T0, books_balance, notifications, pending_balance
from micromarket.projects.tests.factories import (
    UserFactory,
    fund,
    make_project,
    propose,
    reload,
    seller,
)
from micromarket.trust.services import disputes as dispute_services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "after_commit_inline")]

MINUTE = timedelta(minutes=1)


# --- readers -------------------------------------------------------------------------------------


def escrow(order: Order):
    return ledger_selectors.escrow_for_reference(order.reference)


def held(order: Order) -> int:
    """What the order's escrow still holds (price and service fee; 0 once it is settled)."""
    found = escrow(order)
    return found.account.balance if found else 0


def net(order: Order, price: int | None = None) -> int:
    """What the seller earns for ``price`` of the order (all of it by default)."""
    e = escrow(order)
    gross = e.subtotal if price is None else price
    return gross - percent(gross, e.commission_bps)


def refunded(order: Order) -> int:
    """What went back to the buyer for the order: price and service fee."""
    return sum(r.total for r in Refund.objects.filter(line__reference=order.reference))


def fee_back(order: Order, part: int) -> int:
    """The share of the service fee returned with ``part`` of the price."""
    e = escrow(order)
    return fee_refund_due(
        service_fee=e.service_fee,
        subtotal=e.subtotal,
        refunded_before=0,
        refunded_now=part,
        fee_refunded_before=0,
    )


def step(assignment: Assignment, actor, name: str, **data) -> Order:
    return services.assignment_transition(
        actor=actor, assignment_id=assignment.pk, name=name, data=data
    )


def funded_unit(*, price: int = 4000, quantity: int = 1, claimable: bool = False):
    """A buyer's one-task project, one unit awarded to a seller and paid; → (assignment, order)."""
    project = make_project(tasks=[{"budget": price, "quantity": quantity, "claimable": claimable}])
    assignment = services.proposal_award(
        buyer=project.buyer, proposal_id=propose(seller(), project.tasks.get()).pk
    )
    checkout = fund(project.buyer, [assignment])
    assert checkout.status == "paid", checkout.failure_message
    order = reload(assignment).order
    assert order.state == "in_progress"
    return assignment, order


def assert_unit_free(assignment: Assignment) -> None:
    """The unit and its budget are free again: another seller can take it."""
    task = assignment.task
    assert selectors.units_taken(task.pk) == 0
    assert selectors.committed(task.project_id) == 0
    other = seller()
    again = services.proposal_award(buyer=task.project.buyer, proposal_id=propose(other, task).pk)
    assert (again.status, again.seller) == ("active", other)


# --- one payment, one escrow per unit -----------------------------------------------------------


def test_a_project_of_several_tasks_awarded_to_different_sellers_each_paid_from_its_own_escrow():
    buyer = UserFactory(display_name="Rosie Baker")
    project = make_project(
        buyer,
        tasks=[
            {"title": "Write the copy", "budget": 5000},
            {"title": "Translate the copy", "budget": 4000},
            {"title": "Check the translation", "budget": 2000},
        ],
    )
    write, translate, check = project.tasks.all()
    ana, ben = seller(display_name="Ana"), seller(display_name="Ben")
    awards = [
        services.proposal_award(buyer=buyer, proposal_id=propose(who, task, price=price).pk)
        for who, task, price in ((ana, write, 4800), (ben, translate, 4000), (ana, check, 1500))
    ]

    checkout = fund(buyer, awards)

    assert checkout.status == "paid"
    assert Checkout.objects.count() == 1
    assert Payment.objects.count() == 1
    assert SandboxObject.objects.filter(kind="charge").count() == 1
    orders = [reload(a).order for a in awards]
    assert sorted(o.pk for o in orders) == sorted(checkout.orders.values_list("pk", flat=True))
    fees = 0
    for assignment, order in zip(awards, orders, strict=True):
        e = escrow(order)
        assert (order.kind, order.state, order.origin) == (
            "milestone",
            "in_progress",
            assignment.origin,
        )
        assert (e.seller, e.subtotal, e.status) == (assignment.seller, assignment.price, "held")
        assert held(order) == assignment.price + e.service_fee
        assert selectors.stage_of(reload(assignment)) == "in_progress"
        fees += e.service_fee
    assert Payment.objects.get().total == 4800 + 4000 + 1500 + fees
    assert books_balance()
    # Each seller hears of each funded unit from its order.
    assert sorted(notifications(ana, "orders")) == sorted(
        f"Order {orders[i].pk}: paid — the order is placed" for i in (0, 2)
    )
    assert notifications(ben, "orders") == [f"Order {orders[1].pk}: paid — the order is placed"]

    # Each unit is approved on its own; approval releases that escrow, and only that one.
    expected = {ana.pk: 0, ben.pk: 0}
    for assignment, order in zip(awards, orders, strict=True):
        step(assignment, assignment.seller, "submit", message="Here it is.")
        assert books_balance()
        done = step(assignment, buyer, "approve")
        expected[assignment.seller_id] += net(order)
        assert done.state == "completed"
        assert held(order) == 0
        assert escrow(order).status == "released"
        assert pending_balance(ana) == expected[ana.pk]
        assert pending_balance(ben) == expected[ben.pk]
        assert books_balance()
    assert expected[ana.pk] == net(orders[0]) + net(orders[2])
    board = selectors.project_board(buyer=buyer, project_id=project.pk)
    assert (board.spend.paid, board.spend.in_escrow) == (4800 + 4000 + 1500, 0)
    assert board.progress == [
        ("Write the copy", 1, 1),
        ("Translate the copy", 1, 1),
        ("Check the translation", 1, 1),
    ]


def test_replaying_a_funding_with_the_same_key_returns_the_same_checkout_and_charges_once():
    project = make_project(tasks=[{"quantity": 2}])
    task = project.tasks.get()
    awards = [
        services.proposal_award(buyer=project.buyer, proposal_id=propose(seller(), task).pk)
        for _ in range(2)
    ]

    first = fund(project.buyer, awards, key="fund-once")
    again = fund(project.buyer, awards, key="fund-once")

    assert again.pk == first.pk
    assert again.status == "paid"
    assert Payment.objects.count() == 1
    assert SandboxObject.objects.filter(kind="charge").count() == 1
    assert Order.objects.count() == 2
    assert books_balance()


def test_funded_work_cannot_be_paid_for_twice():
    assignment, order = funded_unit()
    buyer = order.buyer

    with pytest.raises(Conflict) as info:
        fund(buyer, [assignment], key="second-time")

    assert info.value.code == "already_funded"
    assert Checkout.objects.count() == 1
    assert Payment.objects.count() == 1


def test_nobody_funds_another_buyers_work():
    assignment, _ = funded_unit()
    stranger = UserFactory()

    with pytest.raises(NotFound):
        fund(stranger, [assignment])
    assert not Checkout.objects.filter(buyer=stranger).exists()


# --- submit, revise, approve ----------------------------------------------------------------------


def test_a_revision_then_approval_pays_the_seller_once():
    assignment, order = funded_unit()
    seller_user, buyer = assignment.seller, order.buyer

    step(assignment, seller_user, "submit", message="First draft.")
    revised = step(assignment, buyer, "request_revision", message="Use the formal “usted”.")
    assert (revised.state, revised.revisions_used) == ("revision_requested", 1)
    assert pending_balance(seller_user) == 0
    assert books_balance()
    step(assignment, seller_user, "submit", message="Formal now.")
    done = step(assignment, buyer, "approve")

    assert done.state == "completed"
    assert [e.transition for e in done.events.order_by("id")][-5:] == [
        "submit",
        "request_revision",
        "submit",
        "approve",
        "release",
    ]
    assert pending_balance(seller_user) == net(order)
    assert held(order) == 0
    assert books_balance()


def test_submitted_work_is_approved_automatically_after_three_days(clock):
    assignment, order = funded_unit()
    step(assignment, assignment.seller, "submit", message="Done.")

    clock.move_to(T0 + timedelta(days=3) - MINUTE)
    assert order_services.deadlines_apply() == 0
    assert reload(order).state == "submitted"
    assert pending_balance(assignment.seller) == 0

    clock.move_to(T0 + timedelta(days=3))
    assert order_services.deadlines_apply() == 1

    order = reload(order)
    assert order.state == "completed"
    assert [e.transition for e in order.events.order_by("id")][-2:] == ["auto_approve", "release"]
    assert pending_balance(assignment.seller) == net(order)
    assert held(order) == 0
    assert books_balance()
    assert selectors.task_units([assignment.task])[assignment.task_id].done == 1


# --- cancellations: the buyer gets everything back and the unit is free -------------------------


def test_a_mutual_cancellation_refunds_the_buyer_and_frees_the_unit():
    assignment, order = funded_unit()
    paid = held(order)

    asked = step(assignment, order.buyer, "request_cancellation", message="Plans changed.")
    assert asked.state == "in_progress"
    assert selectors.units_taken(assignment.task_id) == 1
    done = step(assignment, assignment.seller, "accept_cancellation")

    assert done.state == "cancelled"
    assert refunded(order) == paid
    assert (held(order), pending_balance(assignment.seller)) == (0, 0)
    assert escrow(order).status == "refunded"
    assert selectors.stage_of(reload(assignment)) == "cancelled"
    assert books_balance()
    assert_unit_free(assignment)
    assert books_balance()


def test_the_seller_withdrawing_refunds_the_buyer_and_frees_the_unit():
    assignment, order = funded_unit()
    paid = held(order)

    done = step(assignment, assignment.seller, "seller_cancel", message="I am ill, sorry.")

    assert done.state == "cancelled"
    assert refunded(order) == paid
    assert pending_balance(assignment.seller) == 0
    assert books_balance()
    assert_unit_free(assignment)


def test_the_buyer_cancels_late_work_only_after_it_is_due(clock):
    assignment, order = funded_unit()  # 3 days to deliver
    assert order.due_at == T0 + timedelta(days=3)
    paid = held(order)

    with pytest.raises(Conflict) as info:
        step(assignment, order.buyer, "cancel_late")
    assert info.value.code == "not_allowed_now"
    assert reload(order).state == "in_progress"

    clock.move_to(T0 + timedelta(days=3) + MINUTE)
    done = step(assignment, order.buyer, "cancel_late")

    assert done.state == "cancelled"
    assert refunded(order) == paid
    assert books_balance()
    assert_unit_free(assignment)


# --- a declined card ----------------------------------------------------------------------------


def test_a_declined_card_leaves_the_work_waiting_for_funding_and_a_retry_funds_it():
    project = make_project()
    assignment = services.proposal_award(
        buyer=project.buyer, proposal_id=propose(seller(), project.tasks.get()).pk
    )

    failed = fund(project.buyer, [assignment], card=sandbox.CARD_DECLINED, key="try-1")

    assert failed.status == "failed"
    assert failed.failure_message == "Your card was declined."
    assignment = reload(assignment)
    assert assignment.status == "active"
    assert assignment.order.state == "payment_failed"
    assert selectors.stage_of(assignment) == "funding"
    assert held(assignment.order) == 0
    assert pending_balance(assignment.seller) == 0
    board = selectors.project_board(buyer=project.buyer, project_id=project.pk)
    assert [a.pk for a in board.to_fund] == [assignment.pk]
    assert selectors.committed(project.pk) == assignment.price  # still held for this seller
    assert books_balance()

    paid = fund(project.buyer, [assignment], key="try-2")

    assert paid.status == "paid"
    assignment = reload(assignment)
    assert assignment.order.checkout_id == paid.pk
    assert assignment.order.state == "in_progress"
    assert escrow(assignment.order).subtotal == assignment.price
    assert Order.objects.filter(origin=assignment.origin).count() == 2
    assert books_balance()


# --- disputes, decided by an operator -----------------------------------------------------------


@pytest.fixture
def operator():
    return UserFactory(operator=True)


def disputed(assignment: Assignment, order: Order):
    step(assignment, assignment.seller, "submit", message="Done.")
    return dispute_services.dispute_open(
        order_id=order.pk,
        actor=order.buyer,
        reason="not_as_described",
        description="Half the pages are still in English.",
    )


def test_a_dispute_refunded_by_an_operator_returns_everything_and_frees_the_unit(operator):
    assignment, order = funded_unit()
    paid = held(order)
    dispute = disputed(assignment, order)
    assert reload(order).state == "disputed"
    assert selectors.stage_of(reload(assignment)) == "disputed"
    assert books_balance()

    dispute_services.dispute_decide(
        actor=operator, dispute_id=dispute.pk, outcome="refund", note="Not delivered."
    )

    order = reload(order)
    assert order.state == "cancelled"
    assert refunded(order) == paid
    assert (held(order), pending_balance(assignment.seller)) == (0, 0)
    assert books_balance()
    assert_unit_free(assignment)


def test_a_dispute_split_by_an_operator_pays_each_side_its_part(operator):
    assignment, order = funded_unit(price=4000)
    dispute = disputed(assignment, order)

    dispute_services.dispute_decide(
        actor=operator, dispute_id=dispute.pk, outcome="split", buyer_amount=1000, note="A quarter."
    )

    order = reload(order)
    assert order.state == "completed"
    assert refunded(order) == 1000 + fee_back(order, 1000)
    assert pending_balance(assignment.seller) == net(order, 3000)
    assert held(order) == 0
    assert escrow(order).status == "settled"
    assert books_balance()
    assert selectors.units_taken(assignment.task_id) == 1  # the unit was worked on


# --- a claim nobody paid for ----------------------------------------------------------------------


def test_an_unfunded_claim_lapses_without_moving_money_and_cannot_be_funded_after(clock):
    project = make_project(tasks=[{"claimable": True, "budget": 2500}])
    claim = services.task_claim(seller=seller(), task_id=project.tasks.get().pk)

    clock.move_to(T0 + timedelta(hours=48, minutes=1))
    assert services.assignments_lapse() == 1

    assert reload(claim).status == "lapsed"
    with pytest.raises(Conflict) as info:
        fund(project.buyer, [claim])
    assert info.value.code == "not_active"
    assert not Checkout.objects.exists()
    assert not Payment.objects.exists()
    assert books_balance()
    assert selectors.units_taken(claim.task_id) == 0


def test_a_claim_funded_in_time_does_not_lapse(clock):
    project = make_project(tasks=[{"claimable": True, "budget": 2500}])
    claim = services.task_claim(seller=seller(), task_id=project.tasks.get().pk)
    clock.move_to(T0 + timedelta(hours=47))
    fund(project.buyer, [claim])

    clock.move_to(T0 + timedelta(days=5))
    assert services.assignments_lapse() == 0

    claim = reload(claim)
    assert (claim.status, claim.order.state) == ("active", "in_progress")
    assert escrow(claim.order).subtotal == 2500
    assert books_balance()
