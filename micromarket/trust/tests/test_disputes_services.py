"""The resolution center's services against the real orders, payments and ledger: every way a
dispute ends leaves the escrow empty, the right money with each side and the books balanced."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from micromarket.accounts.tests.factories import UserFactory
from micromarket.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from micromarket.ledger import selectors as ledger_selectors
from micromarket.ledger.arithmetic import fee_refund_due, percent
from micromarket.messaging import services as messaging_services
from micromarket.orders import services as order_services
from micromarket.orders.models import Order
from micromarket.payments.models import Refund
from micromarket.trust.models import AuditEntry, Dispute, DisputeEvidence, DisputeProposal
from micromarket.trust.selectors import disputes as dispute_selectors
from micromarket.trust.services import disputes as services
from micromarket.trust.tests.factories import act, completed_order, delivered_order, gig_order

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(name="photo.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def operator():
    return UserFactory(operator=True)


def escrow(order):
    return ledger_selectors.escrow_for_reference(order.reference)


def refunded(order) -> int:
    return sum(r.total for r in Refund.objects.filter(line__reference=order.reference))


def pending(user) -> int:
    return ledger_selectors.user_balances(user).get("USD", {}).get("pending", 0)


def assert_closed(order):
    """Nothing left in escrow, and the books balance."""
    assert escrow(order).account.balance == 0
    assert ledger_selectors.ledger_verify() == []


def seller_net(order, buyer_amount: int) -> int:
    e = escrow(order)
    gross = e.subtotal - buyer_amount
    return gross - percent(gross, e.commission_bps)


def buyer_back(order, buyer_amount: int) -> int:
    """What the ledger returns for ``buyer_amount`` of the price: it with its share of the fee."""
    e = escrow(order)
    fee = fee_refund_due(
        service_fee=e.service_fee,
        subtotal=e.subtotal,
        refunded_before=0,
        refunded_now=buyer_amount,
        fee_refunded_before=0,
    )
    return buyer_amount + fee


def opened(order=None, by="buyer", **kw):
    order = order or delivered_order()
    actor = order.buyer if by == "buyer" else order.seller
    dispute = services.dispute_open(
        order_id=order.pk,
        actor=actor,
        reason=kw.pop("reason", "not_as_described"),
        description=kw.pop("description", "The logo is the wrong colour."),
        **kw,
    )
    return order, dispute


def answered(order, dispute):
    services.dispute_respond(
        dispute_id=dispute.pk, actor=order.seller, message="It matches the brief."
    )
    return dispute


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


# --- opening ------------------------------------------------------------------------------------


def test_opening_freezes_the_order_and_starts_the_file():
    order = delivered_order()
    assert order.deadline_at is not None  # auto-complete due
    order, dispute = opened(order, files=[pdf()])

    order = reload(order)
    assert (order.state, order.deadline_at, order.deadline_transition) == ("disputed", None, "")
    assert escrow(order).status == "held"
    assert dispute.status == "awaiting_response"
    assert dispute.opener_role == "buyer"
    assert dispute.respond_by == dispute.created_at + services.DISPUTE_RESPONSE_WINDOW
    assert [e.kind for e in dispute.events.all()] == ["opened"]
    item = dispute.evidence.get()
    assert (item.name, item.content_type, item.size) == ("photo.pdf", "application/pdf", len(PDF))
    assert order.events.last().transition == "dispute"


def test_the_order_api_transition_also_opens_a_proper_dispute():
    order = delivered_order()
    act(order, "dispute", order.seller, message="The buyer stopped answering.")

    dispute = Dispute.objects.get(order=order)
    assert (dispute.opener_role, dispute.reason) == ("seller", "other")
    assert dispute.description == "The buyer stopped answering."


def test_cannot_open_twice_or_from_a_state_that_is_not_disputable():
    order, _ = opened()
    with pytest.raises(Conflict):
        opened(reload(order), by="seller")
    done = completed_order()
    with pytest.raises(Conflict):
        opened(done)
    assert Dispute.objects.count() == 1
    assert reload(done).state == "completed"


def test_strangers_and_operators_cannot_open(operator):
    order = delivered_order()
    with pytest.raises(NotFound):
        services.dispute_open(
            order_id=order.pk, actor=UserFactory(), reason="other", description="x"
        )
    with pytest.raises(PermissionDenied):
        services.dispute_open(order_id=order.pk, actor=operator, reason="other", description="x")
    assert reload(order).state == "delivered"
    assert not Dispute.objects.exists()


def test_input_is_checked_before_anything_is_written():
    order = delivered_order()
    for kw in (
        {"reason": "bogus"},
        {"description": "  "},
        {"files": [SimpleUploadedFile("x.pdf", b"MZ\x90\x00binary", "application/pdf")]},
        {"files": [pdf(f"{i}.pdf") for i in range(6)]},
    ):
        with pytest.raises(ValidationFailed):
            opened(order, **kw)
    assert reload(order).state == "delivered"
    assert not Dispute.objects.exists()
    assert not DisputeEvidence.objects.exists()


def test_an_evidence_file_is_judged_by_its_content_not_its_name():
    order = delivered_order()
    with pytest.raises(ValidationFailed) as err:
        opened(order, files=[SimpleUploadedFile("invoice.pdf", b"#!/bin/sh\nrm -rf /\n")])
    assert err.value.code == "file_type_not_allowed"
    _, dispute = opened(order, files=[SimpleUploadedFile("notes.exe", b"plain words here\n")])
    assert dispute.evidence.get().content_type.startswith("text/")


def test_message_excerpts_are_copied_from_the_orders_conversation_only():
    order = delivered_order()
    thread = messaging_services.conversation_for_order(order_id=order.pk, user=order.buyer)
    mine = messaging_services.message_send(
        conversation_id=thread.pk, sender=order.seller, body="I will redo it for free."
    )
    other = gig_order(buyer=order.buyer)
    elsewhere_thread = messaging_services.conversation_for_order(
        order_id=other.pk, user=other.buyer
    )
    elsewhere = messaging_services.message_send(
        conversation_id=elsewhere_thread.pk, sender=other.buyer, body="Another order."
    )

    with pytest.raises(ValidationFailed) as err:
        opened(order, message_ids=[mine.pk, elsewhere.pk])
    assert err.value.code == "message_not_in_order"
    assert not Dispute.objects.exists()

    _, dispute = opened(order, message_ids=[mine.pk])
    item = dispute.evidence.get()
    assert item.message_id == mine.pk
    assert item.excerpt == "I will redo it for free."
    assert item.excerpt_author == order.seller.display_name
    assert item.excerpt_sent_at == mine.created_at


# --- outcomes in the ledger ---------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["refund", "release"])
def test_an_operators_full_decision(operator, outcome):
    order, dispute = opened()
    answered(order, dispute)
    price, fee = escrow(order).subtotal, escrow(order).service_fee

    dispute = services.dispute_decide(
        actor=operator, dispute_id=dispute.pk, outcome=outcome, note="Read both sides."
    )

    order = reload(order)
    assert (dispute.status, dispute.outcome) == ("resolved", outcome)
    assert dispute.decided_by == operator
    if outcome == "refund":
        assert order.state == "cancelled"
        assert refunded(order) == price + fee
        assert pending(order.seller) == 0
        assert dispute.buyer_amount == price
    else:
        assert order.state == "completed"
        assert refunded(order) == 0
        assert pending(order.seller) == seller_net(order, 0)
        assert dispute.buyer_amount == 0
    assert order.events.last().transition == f"resolve_{outcome}"
    assert [e.kind for e in dispute.events.all()][-1] == "decided"
    entry = AuditEntry.objects.get(action="dispute_decide")
    assert (entry.actor, entry.target_id, entry.reason) == (
        operator,
        dispute.pk,
        "Read both sides.",
    )
    assert_closed(order)


def test_an_operators_split(operator):
    order, dispute = opened()
    services.proposal_create(dispute_id=dispute.pk, actor=order.seller, buyer_amount=100)
    x = escrow(order).subtotal // 3

    dispute = services.dispute_decide(
        actor=operator, dispute_id=dispute.pk, outcome="split", buyer_amount=x, note="A third."
    )

    order = reload(order)
    assert (order.state, dispute.outcome, dispute.buyer_amount) == ("completed", "split", x)
    assert refunded(order) == buyer_back(order, x)
    assert pending(order.seller) == seller_net(order, x)
    assert dispute.proposals.get().status == "lapsed"  # pending proposals lapse
    assert order.events.last().transition == "resolve_split"
    assert_closed(order)


def test_an_agreed_partial_refund():
    order, dispute = opened()
    x = escrow(order).subtotal // 4
    proposal = services.proposal_create(
        dispute_id=dispute.pk, actor=order.seller, buyer_amount=x, message="A quarter back?"
    )
    assert reload(dispute).status == "in_discussion"  # the seller took part: answered

    dispute = services.proposal_accept(
        dispute_id=dispute.pk, proposal_id=proposal.pk, actor=order.buyer
    )

    order = reload(order)
    assert (dispute.status, dispute.outcome, dispute.buyer_amount) == ("resolved", "agreed", x)
    assert dispute.decided_by is None
    assert reload(proposal).status == "accepted"
    assert order.state == "completed"
    assert order.events.last().transition == "settle_agreed"
    assert refunded(order) == buyer_back(order, x)
    assert pending(order.seller) == seller_net(order, x)
    kinds = [e.kind for e in dispute.events.all()]
    assert kinds[-2:] == ["proposal_accepted", "decided"]
    assert not AuditEntry.objects.exists()
    assert_closed(order)


@pytest.mark.parametrize("by", ["buyer", "seller"])
def test_an_unanswered_dispute_is_won_by_its_opener_once(by):
    order, dispute = opened(by=by)
    price, fee = escrow(order).subtotal, escrow(order).service_fee
    assert services.disputes_apply_defaults() == 0  # not due yet

    with time_machine.travel(dispute.respond_by + timedelta(minutes=1), tick=False):
        assert services.disputes_apply_defaults() == 1
        assert services.disputes_apply_defaults() == 0

    dispute, order = reload(dispute), reload(order)
    assert (dispute.status, dispute.outcome) == ("resolved", "default")
    if by == "buyer":
        assert order.state == "cancelled"
        assert order.events.last().transition == "resolve_default_refund"
        assert refunded(order) == price + fee
        assert pending(order.seller) == 0
    else:
        assert order.state == "completed"
        assert order.events.last().transition == "resolve_default_release"
        assert refunded(order) == 0
        assert pending(order.seller) == seller_net(order, 0)
    assert order.events.filter(transition__startswith="resolve_default").count() == 1
    assert_closed(order)


def test_an_answer_in_time_stops_the_default_and_a_late_one_is_refused():
    order, dispute = opened()
    answered(order, dispute)
    with time_machine.travel(dispute.respond_by + timedelta(days=1), tick=False):
        assert services.disputes_apply_defaults() == 0
    assert reload(order).state == "disputed"

    order2, late = opened(delivered_order())
    with (
        time_machine.travel(late.respond_by + timedelta(minutes=1), tick=False),
        pytest.raises(Conflict),
    ):
        services.dispute_respond(dispute_id=late.pk, actor=order2.seller, message="Sorry")


# --- rules of the road --------------------------------------------------------------------------


def test_parties_cannot_decide_and_strangers_see_nothing(operator):
    order, dispute = opened()
    for party in (order.buyer, order.seller):
        with pytest.raises(PermissionDenied):
            services.dispute_decide(
                actor=party, dispute_id=dispute.pk, outcome="refund", note="mine"
            )
    stranger = UserFactory()
    calls = [
        lambda: services.dispute_respond(dispute_id=dispute.pk, actor=stranger, message="x"),
        lambda: services.dispute_comment(dispute_id=dispute.pk, actor=stranger, message="x"),
        lambda: services.proposal_create(dispute_id=dispute.pk, actor=stranger, buyer_amount=1),
        lambda: services.dispute_escalate(dispute_id=dispute.pk, actor=stranger),
        lambda: dispute_selectors.dispute_for_user(dispute_id=dispute.pk, user=stranger),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            call()
    dispute = reload(dispute)
    assert (dispute.status, dispute.events.count(), dispute.proposals.count()) == (
        "awaiting_response",
        1,
        0,
    )
    assert reload(order).state == "disputed"


def test_proposals_must_be_partial_and_one_at_a_time():
    order, dispute = opened()
    held = escrow(order).subtotal
    for amount in (held, held + 1, -1):
        with pytest.raises(ValidationFailed):
            services.proposal_create(dispute_id=dispute.pk, actor=order.buyer, buyer_amount=amount)
    first = services.proposal_create(dispute_id=dispute.pk, actor=order.buyer, buyer_amount=500)
    with pytest.raises(Conflict):
        services.proposal_create(dispute_id=dispute.pk, actor=order.seller, buyer_amount=400)
    with pytest.raises(PermissionDenied):  # your own proposal is answered by the other side
        services.proposal_accept(dispute_id=dispute.pk, proposal_id=first.pk, actor=order.buyer)
    services.proposal_withdraw(dispute_id=dispute.pk, proposal_id=first.pk, actor=order.buyer)
    second = services.proposal_create(dispute_id=dispute.pk, actor=order.seller, buyer_amount=400)
    assert DisputeProposal.objects.filter(status="pending").get() == second


def test_escalation_after_an_answer_or_a_declined_proposal(operator):
    order, dispute = opened()
    with pytest.raises(Conflict):  # not answered yet
        services.dispute_escalate(dispute_id=dispute.pk, actor=order.buyer)
    proposal = services.proposal_create(dispute_id=dispute.pk, actor=order.buyer, buyer_amount=700)
    services.proposal_decline(dispute_id=dispute.pk, proposal_id=proposal.pk, actor=order.seller)
    services.dispute_escalate(dispute_id=dispute.pk, actor=order.buyer, message="Please look.")

    assert reload(dispute).status == "escalated"
    queue = dispute_selectors.ops_queue()
    assert queue[0].pk == dispute.pk
    with pytest.raises(Conflict):
        services.dispute_escalate(dispute_id=dispute.pk, actor=order.seller)


def test_a_comment_from_the_silent_side_counts_as_its_answer():
    order, dispute = opened()
    services.dispute_comment(dispute_id=dispute.pk, actor=order.seller, files=[pdf()])
    assert reload(dispute).status == "in_discussion"
    assert dispute.events.last().kind == "responded"


def test_the_order_pages_operator_buttons_resolve_the_dispute_too(operator):
    order, dispute = opened()
    act(order, "resolve_release", operator, message="Delivered as ordered.")

    dispute = reload(dispute)
    assert (dispute.status, dispute.outcome, dispute.decided_by) == (
        "resolved",
        "release",
        operator,
    )
    assert dispute.decision_note == "Delivered as ordered."
    assert AuditEntry.objects.filter(action="dispute_decide", target_id=dispute.pk).exists()
    with pytest.raises(Conflict):
        services.dispute_decide(
            actor=operator, dispute_id=dispute.pk, outcome="refund", note="Changed my mind."
        )
    assert_closed(reload(order))


def test_a_resolved_dispute_takes_no_more_steps(operator):
    order, dispute = opened()
    proposal = services.proposal_create(dispute_id=dispute.pk, actor=order.seller, buyer_amount=300)
    services.dispute_decide(actor=operator, dispute_id=dispute.pk, outcome="refund", note="Late.")
    with pytest.raises(Conflict):
        services.proposal_accept(dispute_id=dispute.pk, proposal_id=proposal.pk, actor=order.buyer)
    with pytest.raises(Conflict):
        services.dispute_comment(dispute_id=dispute.pk, actor=order.buyer, message="thanks")
    assert Refund.objects.filter(line__reference=order.reference).count() == 1
    assert_closed(reload(order))


def test_dispute_counts_for_levels(operator):
    since = timezone.now() - timedelta(days=1)
    lost_order, lost = opened()
    offer = lost_order.offer
    services.dispute_decide(actor=operator, dispute_id=lost.pk, outcome="refund", note="Bad.")
    _, won = opened(delivered_order(offer=offer))
    services.dispute_decide(actor=operator, dispute_id=won.pk, outcome="release", note="Fine.")
    opened(delivered_order(offer=offer))  # still open

    assert dispute_selectors.dispute_counts(seller_id=offer.seller_id, since=since) == (3, 1)
    later = timezone.now() + timedelta(days=1)
    assert dispute_selectors.dispute_counts(seller_id=offer.seller_id, since=later) == (0, 0)


def test_deadline_of_the_orders_process_no_longer_runs_while_disputed():
    order, _ = opened()
    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False):
        order_services.deadlines_apply()
    assert Order.objects.get(pk=order.pk).state == "disputed"


def test_both_sides_are_told_at_every_step(operator):
    """One unread notification per dispute and person (folded, latest step on top, with a
    count), like a conversation's messages."""
    from micromarket.messaging.models import Notification

    def told(user) -> tuple[int, str]:
        rows = list(Notification.objects.filter(user=user, category="disputes"))
        return sum(n.count for n in rows), rows[-1].title if rows else ""

    order, dispute = opened()
    assert told(order.seller) == (1, f"Dispute on order {order.pk}: The buyer opened a dispute")
    assert told(order.buyer) == (0, "")
    proposal = services.proposal_create(dispute_id=dispute.pk, actor=order.seller, buyer_amount=1)
    services.proposal_decline(dispute_id=dispute.pk, proposal_id=proposal.pk, actor=order.buyer)
    services.dispute_escalate(dispute_id=dispute.pk, actor=order.seller)
    assert Notification.objects.filter(user=operator, category="trust_queue").exists()
    services.dispute_decide(actor=operator, dispute_id=dispute.pk, outcome="release", note="Ok.")
    count, title = told(order.buyer)
    assert count == 3  # proposal, escalation, decision
    assert "resolved" in title
    assert told(order.seller)[0] == 3  # opened, declined, decision
    urls = set(Notification.objects.filter(category="disputes").values_list("url", flat=True))
    assert urls == {f"/disputes/{dispute.pk}/"}
