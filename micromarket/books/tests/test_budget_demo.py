"""The budget demo: priya's emergency top-up and tax payment from her envelopes, sam's own
rules; a second run creates nothing new."""

from __future__ import annotations

import io
from datetime import date

import pytest

from micromarket.accounts import demo as accounts_demo
from micromarket.books import demo_budget
from micromarket.books.models import Entry, Envelope, EnvelopeMovement, TaxPayment
from micromarket.books.selectors import budget as selectors
from micromarket.books.services import budget as services


@pytest.mark.django_db
def test_demo_budget_is_believable_and_idempotent():
    out = io.StringIO()
    accounts_demo.build(stdout=out, create=True)
    priya = Entry._meta.get_field("owner").related_model.objects.get(
        email=f"priya@{demo_budget.DOMAIN}"
    )
    entry = Entry.objects.create(
        owner=priya,
        kind="income",
        date=date(2025, 2, 3),
        amount=400000,
        currency="USD",
        category="direct_clients",
        fingerprint="demo",
    )
    services.income_allocate(entry=entry)
    TaxPayment.objects.create(
        owner=priya,
        country="US",
        tax_year=2025,
        period="Q1",
        date=date(2025, 4, 15),
        amount=60000,
        currency="USD",
    )
    lines = demo_budget.build(stdout=out, create=True)
    assert lines
    assert "skipped" not in out.getvalue()
    balances = {e.role: b.get("USD", 0) for e, b in selectors.envelope_balances(priya)}
    assert balances["taxes"] == 100000 - 60000
    assert balances["emergency"] == 40000 + 20000
    sam_envelopes = Envelope.objects.filter(owner__email=f"sam@{demo_budget.DOMAIN}")
    assert {e.name: e.percent_bps for e in sam_envelopes}["New laptop"] == 500
    assert sum(e.percent_bps for e in sam_envelopes) == 10000

    movements = EnvelopeMovement.objects.count()
    demo_budget.build(stdout=out, create=True)
    assert EnvelopeMovement.objects.count() == movements
    assert Envelope.objects.count() == 9
