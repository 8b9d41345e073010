"""Invoices through the services: totals and rounding, numbering, statuses, payments (each an
income entry in the books), void, reminders, late fees, recurring invoices, time lines, and the
PDF with its Factur-X XML."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import facturx
import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction
from lxml import etree

from micromarket.books import invoice_pdf
from micromarket.books.models import (
    Entry,
    Invoice,
    InvoiceEvent,
    InvoicePayment,
    InvoiceSequence,
    RecurringInvoice,
    TimeEntry,
)
from micromarket.books.selectors import invoices as selectors
from micromarket.books.services import invoices as services
from micromarket.catalog.tests.factories import seller as make_seller
from micromarket.core.errors import Conflict, NotFound, ValidationFailed
from micromarket.messaging.models import Notification

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def make_client(owner, **kw):
    fields = {"name": "Acme Studio", "email": "ap@acme.example", "currency": "USD"}
    fields.update(kw)
    return services.client_create(owner=owner, **fields)


def draft(owner, client=None, lines=None, **kw):
    client = client or make_client(owner)
    lines = lines or [{"description": "Logo design", "quantity": "1", "unit_price": 50000}]
    return services.invoice_create(owner=owner, client=client, lines=lines, **kw)


def issued(owner, **kw):
    invoice = draft(owner, **kw)
    return services.invoice_issue(owner=owner, invoice=invoice, today=date(2026, 3, 1))


# --- totals ------------------------------------------------------------------------------


def test_line_amount_rounds_half_up_after_the_line_discount():
    # 3 × 3.33 = 9.99, less 10% = 8.991 → 8.99
    assert services.line_amount(quantity=Decimal(3), unit_price=333, discount_bps=1000) == 899
    # 1.5 × 0.99 = 1.485 → 1.49 (half-up)
    assert services.line_amount(quantity=Decimal("1.5"), unit_price=99, discount_bps=0) == 149


def test_totals_take_the_invoice_discount_and_tax_per_rate():
    owner = make_seller()
    invoice = draft(
        owner,
        lines=[
            {"description": "Design", "quantity": "2", "unit_price": 10000, "tax_rate_bps": 2000},
            {"description": "Hosting", "quantity": "1", "unit_price": 3333, "tax_rate_bps": 550},
            {"description": "Print", "quantity": "1", "unit_price": 1001, "discount_bps": 5000},
        ],
        discount_bps=1000,
    )
    # 20000 + 3333 + 500.5→501 = 23834
    assert invoice.subtotal == 23834
    # discount per rate: 2000 (20%), 333.3→333 (5.5%), 50.1→50 (0%)
    assert invoice.discount_total == 2000 + 333 + 50
    # tax: 18000×20% = 3600; 3000×5.5% = 165; 0
    assert invoice.tax_total == 3765
    assert invoice.total == 23834 - 2383 + 3765


def test_bad_lines_are_refused_and_nothing_is_saved():
    owner = make_seller()
    client = make_client(owner)
    for bad, field in (
        ({"description": "", "unit_price": 100}, "description"),
        ({"description": "x", "quantity": "0", "unit_price": 100}, "quantity"),
        ({"description": "x", "unit_price": -1}, "unit_price"),
        ({"description": "x", "unit_price": 1, "tax_rate_bps": 10001}, "tax_rate_bps"),
    ):
        with pytest.raises(ValidationFailed) as exc:
            services.invoice_create(owner=owner, client=client, lines=[bad])
        assert exc.value.field == field
    assert not Invoice.objects.exists()


def test_another_sellers_client_cannot_be_invoiced():
    owner, other = make_seller(), make_seller()
    with pytest.raises(NotFound):
        services.invoice_create(owner=other, client=make_client(owner), lines=[])


# --- numbering and statuses --------------------------------------------------------------


def test_issue_numbers_consecutively_and_sets_dates():
    owner = make_seller()
    first = issued(owner, terms_days=30)
    second = issued(owner)
    assert (first.number, second.number) == ("INV-0001", "INV-0002")
    assert first.status == Invoice.Status.SENT
    assert first.issue_date == date(2026, 3, 1)
    assert first.due_date == date(2026, 3, 31)
    assert InvoiceSequence.objects.get(owner=owner).next_number == 3
    # Issuing again changes nothing; another seller starts at 1.
    again = services.invoice_issue(owner=owner, invoice=first)
    assert again.number == "INV-0001"
    assert issued(make_seller()).number == "INV-0001"


def test_an_empty_draft_cannot_be_issued():
    owner = make_seller()
    invoice = services.invoice_create(owner=owner, client=make_client(owner), lines=[])
    with pytest.raises(ValidationFailed):
        services.invoice_issue(owner=owner, invoice=invoice)
    assert InvoiceSequence.objects.filter(owner=owner, next_number__gt=1).count() == 0


def test_issued_invoices_cannot_be_edited():
    owner = make_seller()
    invoice = issued(owner)
    with pytest.raises(Conflict):
        services.invoice_line_add(owner=owner, invoice=invoice, description="x", unit_price=1)
    with pytest.raises(Conflict):
        services.invoice_update(owner=owner, invoice=invoice, notes="changed")
    with pytest.raises(Conflict):
        services.invoice_delete(owner=owner, invoice=invoice)


def test_void_keeps_the_number_used():
    owner = make_seller()
    first = issued(owner)
    services.invoice_void(owner=owner, invoice=first, reason="Wrong client")
    second = issued(owner)
    first.refresh_from_db()
    assert first.status == Invoice.Status.VOID
    assert first.number == "INV-0001"
    assert second.number == "INV-0002"
    with pytest.raises(Conflict):
        services.invoice_payment_record(owner=owner, invoice=first, amount=100)


def test_overdue_is_derived_from_the_due_date():
    owner = make_seller()
    invoice = issued(owner, terms_days=14)  # due 15 March
    assert not selectors.is_overdue(invoice, date(2026, 3, 15))
    assert selectors.is_overdue(invoice, date(2026, 3, 16))
    assert selectors.display_status(invoice, date(2026, 3, 16)) == "overdue"
    assert list(selectors.invoices_list(owner, status="overdue", today=date(2026, 3, 16))) == [
        invoice
    ]


def test_send_emails_the_client_a_link_to_the_public_page(django_capture_on_commit_callbacks):
    owner = make_seller()
    invoice = draft(owner)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = services.invoice_send(owner=owner, invoice=invoice, message="Thanks!")
    assert invoice.number == "INV-0001"
    assert invoice.sent_at is not None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ap@acme.example"]
    assert "INV-0001" in message.subject
    assert f"/invoice/{invoice.public_token}/" in message.body
    assert "Thanks!" in message.body


def test_send_without_a_client_email_is_refused_and_nothing_is_issued():
    owner = make_seller()
    invoice = draft(owner, client=make_client(owner, email=""))
    with pytest.raises(ValidationFailed):
        services.invoice_send(owner=owner, invoice=invoice)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.DRAFT
    assert invoice.number == ""


# --- payments ----------------------------------------------------------------------------


def test_payments_become_income_and_move_the_status():
    owner = make_seller()
    invoice = issued(owner)  # 500.00
    first = services.invoice_payment_record(
        owner=owner, invoice=invoice, amount=20000, date=date(2026, 3, 5), method="Bank"
    )
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PARTLY_PAID
    assert invoice.balance == 30000
    entry = Entry.objects.get(pk=first.entry_id)
    assert (entry.kind, entry.amount, entry.currency) == ("income", 20000, "USD")
    assert (entry.source, entry.source_ref) == ("invoice", f"invoice_payment:{first.pk}")
    assert entry.category == "direct_clients"
    assert entry.payee == "Acme Studio"
    services.invoice_payment_record(owner=owner, invoice=invoice, amount=30000)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert invoice.balance == 0
    assert Entry.objects.filter(owner=owner, source="invoice").count() == 2


def test_overpayment_is_refused():
    owner = make_seller()
    invoice = issued(owner)
    with pytest.raises(ValidationFailed) as exc:
        services.invoice_payment_record(owner=owner, invoice=invoice, amount=50001)
    assert exc.value.code == "overpayment"
    assert not InvoicePayment.objects.exists()
    assert not Entry.objects.exists()


def test_an_invoice_with_payments_cannot_be_voided():
    owner = make_seller()
    invoice = issued(owner)
    services.invoice_payment_record(owner=owner, invoice=invoice, amount=100)
    with pytest.raises(Conflict):
        services.invoice_void(owner=owner, invoice=invoice)


def test_a_draft_takes_no_payment():
    owner = make_seller()
    with pytest.raises(Conflict):
        services.invoice_payment_record(owner=owner, invoice=draft(owner), amount=100)


# --- jobs --------------------------------------------------------------------------------


def test_reminders_before_and_after_the_due_date_are_sent_once(
    django_capture_on_commit_callbacks,
):
    owner = make_seller()
    invoice = draft(owner, terms_days=14)
    with django_capture_on_commit_callbacks(execute=True):
        services.invoice_send(owner=owner, invoice=invoice, today=date(2026, 3, 1))  # due 15/3
    mail.outbox.clear()
    day = lambda d: datetime(2026, 3, d, 9, tzinfo=UTC)  # noqa: E731
    with django_capture_on_commit_callbacks(execute=True):
        assert services.invoices_send_reminders(now=day(10)) == 0
        assert services.invoices_send_reminders(now=day(12)) == 1
        assert services.invoices_send_reminders(now=day(13)) == 0
        assert services.invoices_send_reminders(now=day(16)) == 1
        assert services.invoices_send_reminders(now=day(17)) == 0
        assert services.invoices_send_reminders(now=day(29)) == 1
        assert services.invoices_send_reminders(now=day(30)) == 0
    kinds = list(invoice.events.filter(kind__startswith="reminder_").values_list("kind", flat=True))
    assert kinds == ["reminder_before", "reminder_after_1", "reminder_after_14"]
    to_client = [m for m in mail.outbox if m.to == ["ap@acme.example"]]
    assert len(to_client) == 3
    assert "overdue" in to_client[1].subject.lower()
    assert Notification.objects.filter(user=owner, category="books").exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceEvent.objects.create(invoice=invoice, kind="reminder_before")


def test_paid_invoices_get_no_reminder():
    owner = make_seller()
    invoice = issued(owner)
    services.invoice_payment_record(owner=owner, invoice=invoice, amount=invoice.total)
    assert services.invoices_send_reminders(now=datetime(2026, 3, 20, tzinfo=UTC)) == 0


def test_late_fee_is_added_once_when_overdue():
    owner = make_seller()
    invoice = issued(owner, late_fee_bps=150, late_fee_fixed=1000, discount_bps=1000)
    assert invoice.total == 45000
    services.invoice_payment_record(owner=owner, invoice=invoice, amount=5000)
    before_due = datetime(2026, 3, 15, 12, tzinfo=UTC)
    assert services.invoices_apply_late_fees(now=before_due) == 0
    after = datetime(2026, 3, 16, 12, tzinfo=UTC)
    assert services.invoices_apply_late_fees(now=after) == 1
    assert services.invoices_apply_late_fees(now=after + timedelta(days=3)) == 0
    invoice.refresh_from_db()
    fee = 600 + 1000  # 1.5% of the 400.00 balance + 10.00
    assert invoice.total == 45000 + fee
    assert invoice.balance == 40000 + fee
    assert invoice.lines.last().description.startswith("Late fee")
    # The XML still adds up.
    root = etree.fromstring(invoice_pdf.invoice_xml(invoice))
    grand = root.find(".//{*}GrandTotalAmount").text
    assert Decimal(grand) == Decimal(invoice.total) / 100


def test_recurring_invoices_are_made_once_per_occurrence(django_capture_on_commit_callbacks):
    owner = make_seller()
    client = make_client(owner)
    recurring = services.recurring_invoice_create(
        owner=owner,
        client=client,
        lines=[{"description": "Retainer", "quantity": "1", "unit_price": 120000}],
        frequency="monthly",
        next_date=date(2026, 1, 31),
    )
    with django_capture_on_commit_callbacks(execute=True):
        made = services.recurring_invoices_run(now=datetime(2026, 3, 2, tzinfo=UTC))
        again = services.recurring_invoices_run(now=datetime(2026, 3, 2, tzinfo=UTC))
    assert (made, again) == (2, 0)  # 31 January and 28 February
    invoices = Invoice.objects.filter(recurring=recurring).order_by("recurring_date")
    assert [i.recurring_date for i in invoices] == [date(2026, 1, 31), date(2026, 2, 28)]
    assert [i.number for i in invoices] == ["INV-0001", "INV-0002"]
    assert all(i.total == 120000 for i in invoices)
    assert len([m for m in mail.outbox if m.to == ["ap@acme.example"]]) == 2
    recurring.refresh_from_db()
    assert recurring.next_date == date(2026, 3, 31)  # the 31st again, not the 28th
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(
            owner=owner,
            client=client,
            currency="USD",
            public_token="x" * 43,
            recurring=recurring,
            recurring_date=date(2026, 1, 31),
        )
    assert RecurringInvoice.objects.count() == 1


# --- time lines --------------------------------------------------------------------------


def test_time_entries_become_hour_lines_and_are_marked_billed():
    owner = make_seller()
    client = make_client(owner, default_rate=6000)
    start = datetime(2026, 2, 2, 9, tzinfo=UTC)
    entries = [
        TimeEntry.objects.create(
            owner=owner,
            client=client,
            description="Design",
            started_at=start + timedelta(days=i),
            ended_at=start + timedelta(days=i, seconds=secs),
            duration_seconds=secs,
            billable=True,
            rate=rate,
            currency="USD",
        )
        for i, (secs, rate) in enumerate([(5400, None), (1800, None), (3600, 9000)])
    ]
    invoice = services.invoice_create(owner=owner, client=client, lines=[])
    lines = services.invoice_add_time_lines(owner=owner, invoice=invoice, time_entries=entries)
    assert [(ln.quantity, ln.unit, ln.unit_price, ln.amount) for ln in lines] == [
        (Decimal("2.000"), "HUR", 6000, 12000),
        (Decimal("1.000"), "HUR", 9000, 9000),
    ]
    assert set(TimeEntry.objects.values_list("invoice_line", flat=True)) == {
        lines[0].pk,
        lines[1].pk,
    }
    invoice.refresh_from_db()
    assert invoice.total == 21000
    with pytest.raises(Conflict):
        services.invoice_add_time_lines(owner=owner, invoice=invoice, time_entries=entries[:1])
    # Deleting a line un-bills its time.
    services.invoice_line_delete(owner=owner, invoice=invoice, line_id=lines[0].pk)
    assert TimeEntry.objects.filter(invoice_line__isnull=True).count() == 2


def test_another_sellers_time_cannot_be_billed():
    owner, other = make_seller(), make_seller()
    start = datetime(2026, 2, 2, 9, tzinfo=UTC)
    entry = TimeEntry.objects.create(
        owner=other,
        started_at=start,
        ended_at=start + timedelta(hours=1),
        duration_seconds=3600,
        rate=5000,
        currency="USD",
    )
    invoice = services.invoice_create(owner=owner, client=make_client(owner), lines=[])
    with pytest.raises(NotFound):
        services.invoice_add_time_lines(owner=owner, invoice=invoice, time_entries=[entry])
    assert not invoice.lines.exists()


# --- PDF and Factur-X --------------------------------------------------------------------


def test_pdf_embeds_a_valid_factur_x_en16931_xml():
    owner = make_seller()
    client = make_client(
        owner,
        address="1 Rue de Rivoli\n2nd floor",
        city="Paris",
        postcode="75001",
        country="FR",
        vat_id="FR40303265045",
        currency="EUR",
    )
    invoice = services.invoice_create(
        owner=owner,
        client=client,
        lines=[
            {
                "description": "Développement & tests",
                "quantity": "12.5",
                "unit": "HUR",
                "unit_price": 8000,
                "tax_rate_bps": 2000,
                "discount_bps": 500,
            },
            {
                "description": "Hébergement",
                "quantity": "1",
                "unit_price": 1999,
                "tax_rate_bps": 550,
            },
        ],
        discount_bps=250,
        notes="Merci <3",
    )
    services.invoice_settings_update(owner=owner, vat_id="FR12345678901")
    invoice = services.invoice_issue(owner=owner, invoice=invoice, today=date(2026, 3, 1))
    xml = invoice_pdf.invoice_xml(invoice)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    pdf = invoice_pdf.invoice_pdf(invoice)
    assert pdf.startswith(b"%PDF")
    filename, embedded = facturx.get_xml_from_pdf(io.BytesIO(pdf), check_xsd=True)
    assert filename == "factur-x.xml"
    assert embedded == xml
    root = etree.fromstring(embedded)
    assert root.find(".//{*}ExchangedDocument/{*}ID").text == "INV-0001"
    assert Decimal(root.find(".//{*}GrandTotalAmount").text) == Decimal(invoice.total) / 100
    assert Decimal(root.find(".//{*}TaxTotalAmount").text) == Decimal(invoice.tax_total) / 100
    # Lines, allowances and tax breakdowns add up the EN 16931 way.
    line_total = sum(Decimal(e.text) for e in root.iterfind(".//{*}LineTotalAmount")) / 2
    assert line_total == Decimal(invoice.subtotal) / 100


def test_a_client_who_is_archived_cannot_be_invoiced():
    owner = make_seller()
    client = make_client(owner)
    services.client_archive(owner=owner, client=client)
    with pytest.raises(ValidationFailed):
        services.invoice_create(owner=owner, client=client, lines=[])


@time_machine.travel(NOW)
def test_viewing_the_public_page_logs_and_tells_the_seller_once():
    owner = make_seller()
    invoice = issued(owner)
    services.invoice_viewed(invoice=invoice)
    services.invoice_viewed(invoice=invoice)
    assert invoice.events.filter(kind="viewed").count() == 2
    assert Notification.objects.filter(user=owner, title__contains="opened").count() == 1
