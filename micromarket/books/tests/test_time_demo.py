"""The time demo builds through the services and creates nothing new when run again."""

from __future__ import annotations

import io

import pytest

from micromarket.books import demo_invoices, demo_time
from micromarket.books.models import Invoice, TimeEntry

pytestmark = pytest.mark.django_db


def test_the_demo_is_idempotent():
    from micromarket.accounts import demo as accounts_demo

    out = io.StringIO()
    accounts_demo.build(stdout=out, create=True)
    demo_invoices.build(stdout=out, create=True)
    invoices = Invoice.objects.count()
    lines = demo_time.build(stdout=out, create=True)
    count = TimeEntry.objects.count()
    assert count > 0
    assert lines
    assert TimeEntry.objects.filter(invoice_line__isnull=False).exists()
    assert Invoice.objects.count() == invoices + 1
    demo_time.build(stdout=out, create=True)
    assert TimeEntry.objects.count() == count
