"""The disputes demo: one dispute waiting for an operator, one with a proposal to answer, built
through the real services on top of the earlier apps' demos."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from micromarket.ledger import selectors as ledger_selectors
from micromarket.trust import demo as trust_demo
from micromarket.trust import demo_disputes
from micromarket.trust.models import Dispute


@pytest.mark.django_db
def test_the_demo_has_an_escalated_dispute_and_a_pending_proposal(monkeypatch):
    monkeypatch.setattr(trust_demo, "PARTS", (demo_disputes,))  # the other areas have their own
    out = io.StringIO()
    call_command("demo", "--allow-production", stdout=out)

    assert "disputes: skipped" not in out.getvalue()
    escalated = Dispute.objects.get(status="escalated")
    assert escalated.order.state == "disputed"
    assert escalated.events.filter(kind="responded").exists()
    waiting = Dispute.objects.get(status="in_discussion")
    assert waiting.proposals.get().status == "pending"
    assert ledger_selectors.ledger_verify() == []

    call_command("demo", "--allow-production", stdout=io.StringIO())  # again: nothing added
    assert Dispute.objects.count() == 2
