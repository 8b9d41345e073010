"""Invoice numbers under concurrency (PostgreSQL): N drafts issued at the same moment get the
numbers 1..N, with no gap and no duplicate, because each takes the seller's sequence row lock."""

from __future__ import annotations

import pytest

from micromarket.books.models import Invoice, InvoiceSequence
from micromarket.books.services import invoices as services
from micromarket.catalog.tests.factories import seller as make_seller
from micromarket.core.tests.concurrency import race

N = 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_get_consecutive_numbers():
    owner = make_seller()
    client = services.client_create(owner=owner, name="Acme")
    drafts = [
        services.invoice_create(
            owner=owner,
            client=client,
            lines=[{"description": f"Job {i}", "unit_price": 1000}],
        )
        for i in range(N)
    ]
    outcomes = race(N, lambda i: services.invoice_issue(owner=owner, invoice=drafts[i].pk))
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    numbers = sorted(Invoice.objects.filter(owner=owner).values_list("sequence_number", flat=True))
    assert numbers == list(range(1, N + 1))
    assert len(set(Invoice.objects.values_list("number", flat=True))) == N
    assert InvoiceSequence.objects.get(owner=owner).next_number == N + 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_payments_never_overpay():
    owner = make_seller()
    client = services.client_create(owner=owner, name="Acme")
    invoice = services.invoice_create(
        owner=owner, client=client, lines=[{"description": "Job", "unit_price": 1000}]
    )
    services.invoice_issue(owner=owner, invoice=invoice)
    outcomes = race(
        4, lambda i: services.invoice_payment_record(owner=owner, invoice=invoice.pk, amount=600)
    )
    assert sum(1 for o in outcomes if not isinstance(o, Exception)) == 1
    invoice.refresh_from_db()
    assert invoice.paid_total == 600
    assert invoice.status == "partly_paid"
