"""The invoices demo: priya's clients and invoices in every status, sam's VAT invoice; a second
run creates nothing new."""

from __future__ import annotations

import io

import pytest

from micromarket.accounts import demo as accounts_demo
from micromarket.books import demo_invoices
from micromarket.books.models import Client, Entry, Invoice, RecurringInvoice
from micromarket.books.selectors import invoices as selectors


@pytest.mark.django_db
def test_demo_invoices_are_believable_and_idempotent():
    out = io.StringIO()
    accounts_demo.build(stdout=out, create=True)
    lines = demo_invoices.build(stdout=out, create=True)
    assert lines
    assert "skipped" not in out.getvalue()
    domain = demo_invoices.DOMAIN
    priya = Invoice.objects.filter(owner__email=f"priya@{domain}")
    statuses = sorted(selectors.display_status(i) for i in priya)
    assert statuses == ["draft", "overdue", "paid", "partly_paid", "void"]
    assert sorted(i.number for i in priya if i.number) == [
        "INV-0001",
        "INV-0002",
        "INV-0003",
        "INV-0004",
    ]
    assert priya.get(status="sent").late_fee_applied_at is not None
    assert Entry.objects.filter(owner__email=f"priya@{domain}", source="invoice").count() == 2
    sam = Invoice.objects.get(owner__email=f"sam@{domain}")
    assert sam.currency == "GBP"
    assert sam.tax_total == (42000 + 18000) * 20 // 100
    counts = (Client.objects.count(), Invoice.objects.count(), RecurringInvoice.objects.count())
    demo_invoices.build(stdout=out, create=True)
    assert (
        Client.objects.count(),
        Invoice.objects.count(),
        RecurringInvoice.objects.count(),
    ) == counts
