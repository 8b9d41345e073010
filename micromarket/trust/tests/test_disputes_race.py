"""A dispute settled twice at the same moment, on PostgreSQL: the buyer accepts the seller's
proposal while an operator decides. Exactly one settlement happens; the other is refused."""

from __future__ import annotations

import pytest

from micromarket.accounts.tests.factories import UserFactory
from micromarket.catalog.tests import factories
from micromarket.core.errors import Conflict
from micromarket.core.tests.concurrency import race
from micromarket.ledger import selectors as ledger_selectors
from micromarket.ledger.models import Transaction
from micromarket.trust.models import Dispute
from micromarket.trust.services import disputes as services
from micromarket.trust.tests.factories import delivered_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _categories():
    factories.seed_categories()


def test_accepting_a_proposal_and_an_operator_decision_settle_once():
    order = delivered_order()
    dispute = services.dispute_open(
        order_id=order.pk, actor=order.buyer, reason="quality", description="Blurry."
    )
    proposal = services.proposal_create(dispute_id=dispute.pk, actor=order.seller, buyer_amount=400)
    operator = UserFactory(operator=True)

    def step(i):
        if i == 0:
            return services.proposal_accept(
                dispute_id=dispute.pk, proposal_id=proposal.pk, actor=order.buyer
            )
        return services.dispute_decide(
            actor=operator, dispute_id=dispute.pk, outcome="refund", note="Refund it all."
        )

    outcomes = race(2, step)

    won = [o for o in outcomes if not isinstance(o, Exception)]
    lost = [o for o in outcomes if isinstance(o, Exception)]
    assert len(won) == 1, outcomes
    assert len(lost) == 1
    assert isinstance(lost[0], Conflict), lost
    dispute = Dispute.objects.get(pk=dispute.pk)
    assert dispute.status == "resolved"
    assert dispute.outcome in ("agreed", "refund")
    escrow = ledger_selectors.escrow_for_reference(order.reference)
    assert escrow.account.balance == 0
    closing = Transaction.objects.filter(
        reference=order.reference, kind__in=("settlement", "refund", "release")
    )
    assert closing.count() == 1
    assert ledger_selectors.ledger_verify() == []
