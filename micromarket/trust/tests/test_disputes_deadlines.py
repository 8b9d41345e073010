"""The answering side's deadline, and what counts as delivered on time for the levels."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from micromarket.core.errors import Conflict
from micromarket.orders import selectors as order_selectors
from micromarket.trust.models import Dispute
from micromarket.trust.services import disputes
from micromarket.trust.tests.factories import act, delivered_order, gig_order

pytestmark = pytest.mark.django_db


def _opened_by_buyer():
    order = delivered_order()
    dispute = disputes.dispute_open(
        order_id=order.pk,
        actor=order.buyer,
        reason="not_as_described",
        description="The logo is not what the gig shows.",
    )
    return order, Dispute.objects.get(order=order) if not isinstance(dispute, Dispute) else dispute


def test_a_proposal_after_the_deadline_cannot_stop_the_openers_default_win():
    order, dispute = _opened_by_buyer()
    late = dispute.respond_by + timedelta(minutes=1)

    with pytest.raises(Conflict) as refused:
        disputes.proposal_create(
            dispute_id=dispute.pk, actor=order.seller, buyer_amount=100, now=late
        )

    assert refused.value.code == "too_late"
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.AWAITING_RESPONSE
    assert not dispute.proposals.exists()
    assert disputes.disputes_apply_defaults(now=late) == 1
    dispute.refresh_from_db()
    assert dispute.outcome == Dispute.Outcome.DEFAULT


def test_a_late_first_delivery_stays_late_after_a_revision_moves_the_due_date():
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        order = gig_order()
    late = order.due_at + timedelta(days=1)
    with time_machine.travel(late, tick=False):
        act(order, "deliver", order.seller, message="Here it is, a day late.")
        act(order, "request_revision", order.buyer, message="Please fix the colours.")
    with time_machine.travel(late + timedelta(hours=2), tick=False):
        act(order, "deliver", order.seller, message="Fixed.")
        act(order, "accept", order.buyer)

    stats = order_selectors.seller_delivery_stats(
        seller_id=order.seller_id, since=start - timedelta(days=1)
    )

    assert (stats.with_due_date, stats.on_time) == (1, 0)
