"""Invoices on the pages: clients, a draft with lines, send, payments, void, the PDF, and the
client's public page (no login; a wrong token is 404). Every object page is 404 for another
seller, and nothing changes."""

from __future__ import annotations

import io
from datetime import date

import facturx
import pytest
from django.core import mail
from django.test import Client as HttpClient

from micromarket.books.models import Client, Entry, Invoice, InvoiceEvent, InvoiceLine
from micromarket.books.services import invoices as services
from micromarket.catalog.tests.factories import seller as make_seller

pytestmark = pytest.mark.django_db


def as_user(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def setup_invoice(owner, *, issue=False):
    client = services.client_create(owner=owner, name="Acme Studio", email="ap@acme.example")
    invoice = services.invoice_create(
        owner=owner,
        client=client,
        lines=[{"description": "Logo design", "quantity": "1", "unit_price": 50000}],
    )
    if issue:
        invoice = services.invoice_issue(owner=owner, invoice=invoice, today=date(2026, 3, 1))
    return client, invoice


def test_a_seller_adds_a_client_and_writes_an_invoice():
    owner = make_seller()
    http = as_user(owner)
    response = http.post(
        "/books/clients/new/",
        {
            "name": "Blue Bakery",
            "email": "owner@blue.example",
            "currency": "USD",
            "country": "us",
            "default_rate_text": "60",
        },
    )
    assert response.status_code == 302
    client = Client.objects.get(owner=owner)
    assert (client.country, client.default_rate) == ("US", 6000)
    assert "Blue Bakery" in http.get("/books/clients/").content.decode()

    data = {
        "client": client.pk,
        "currency": "USD",
        "terms_days": "30",
        "discount": "10",
        "notes": "Bank transfer please",
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "0",
        "lines-0-description": "Menu design",
        "lines-0-quantity": "2",
        "lines-0-unit": "C62",
        "lines-0-unit_price": "150.00",
        "lines-0-tax_rate": "8.25",
        "lines-1-description": "",
        "lines-1-quantity": "1",
        "lines-1-unit": "C62",
        "lines-2-quantity": "1",
        "lines-2-unit": "C62",
    }
    response = http.post("/books/invoices/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    invoice = Invoice.objects.get(owner=owner)
    # 300.00 − 10% = 270.00; tax 8.25% = 22.275 → 22.28
    assert (invoice.subtotal, invoice.discount_total, invoice.tax_total, invoice.total) == (
        30000,
        3000,
        2228,
        29228,
    )
    page = http.get(f"/books/invoices/{invoice.pk}/").content.decode()
    assert "Menu design" in page
    assert "$292.28" in page

    response = http.post(
        f"/books/invoices/{invoice.pk}/lines/",
        {
            "description": "Printing",
            "quantity": "1",
            "unit": "C62",
            "unit_price": "abc",
        },
    )
    assert response.status_code == 400
    assert "Enter an amount" in response.content.decode()
    assert invoice.lines.count() == 1


def test_send_record_payment_and_download_the_pdf(django_capture_on_commit_callbacks):
    owner = make_seller()
    _, invoice = setup_invoice(owner)
    http = as_user(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post(f"/books/invoices/{invoice.pk}/send/", {"message": "Thank you"})
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.number == "INV-0001"
    assert any(m.to == ["ap@acme.example"] for m in mail.outbox)

    response = http.post(
        f"/books/invoices/{invoice.pk}/payments/",
        {
            "amount": "600.00",
            "date": "2026-11-01",
            "method": "Bank",
        },
    )
    assert response.status_code == 400
    assert "more than the balance" in response.content.decode()
    response = http.post(
        f"/books/invoices/{invoice.pk}/payments/",
        {
            "amount": "500.00",
            "date": invoice.issue_date.isoformat(),
            "method": "Bank",
        },
    )
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert Entry.objects.get(owner=owner).category == "direct_clients"
    page = http.get(f"/books/invoices/{invoice.pk}/").content.decode()
    assert "Paid" in page
    assert "Bank" in page

    response = http.get(f"/books/invoices/{invoice.pk}/pdf/")
    assert response["Content-Type"] == "application/pdf"
    pdf = b"".join(response.streaming_content)
    _, xml = facturx.get_xml_from_pdf(io.BytesIO(pdf), check_xsd=True)
    assert b"INV-0001" in xml


def test_public_page_shows_the_invoice_and_logs_the_view():
    owner = make_seller()
    _, invoice = setup_invoice(owner, issue=True)
    anonymous = HttpClient()
    response = anonymous.get(f"/invoice/{invoice.public_token}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "INV-0001" in page
    assert "Logo design" in page
    assert "$500.00" in page
    assert InvoiceEvent.objects.filter(invoice=invoice, kind="viewed").count() == 1
    pdf = anonymous.get(f"/invoice/{invoice.public_token}/pdf/")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"


def test_public_page_with_a_wrong_token_or_a_draft_is_404():
    owner = make_seller()
    _, draft = setup_invoice(owner)
    anonymous = HttpClient()
    assert anonymous.get("/invoice/not-a-real-token/").status_code == 404
    assert anonymous.get("/invoice/not-a-real-token/pdf/").status_code == 404
    assert anonymous.get(f"/invoice/{draft.public_token}/").status_code == 404
    assert not InvoiceEvent.objects.filter(kind="viewed").exists()


def test_void_keeps_the_number_on_the_page():
    owner = make_seller()
    _, invoice = setup_invoice(owner, issue=True)
    http = as_user(owner)
    assert (
        http.post(f"/books/invoices/{invoice.pk}/void/", {"reason": "Duplicate"}).status_code == 302
    )
    detail = http.get(f"/books/invoices/{invoice.pk}/").content.decode()
    assert "Its number stays used" in detail
    page = http.get("/books/invoices/?status=void").content.decode()
    assert "INV-0001" in page
    assert "Void" in page


def test_pages_need_a_login():
    response = HttpClient().get("/books/invoices/")
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_another_seller_gets_404_on_every_object_page_and_nothing_changes():
    owner = make_seller()
    client, invoice = setup_invoice(owner, issue=True)
    _, draft = setup_invoice(owner)
    line = draft.lines.first()
    other = as_user(make_seller())
    gets = [
        f"/books/clients/{client.pk}/",
        f"/books/invoices/{invoice.pk}/",
        f"/books/invoices/{invoice.pk}/pdf/",
    ]
    for url in gets:
        assert other.get(url).status_code == 404, url
    posts = [
        (f"/books/clients/{client.pk}/", {"name": "Mine now", "currency": "USD"}),
        (f"/books/clients/{client.pk}/", {"archive": "1"}),
        (
            f"/books/invoices/{draft.pk}/edit/",
            {"client": client.pk, "currency": "EUR", "terms_days": "1"},
        ),
        (
            f"/books/invoices/{draft.pk}/lines/",
            {"description": "x", "quantity": "1", "unit": "C62", "unit_price": "1"},
        ),
        (f"/books/invoices/{draft.pk}/lines/{line.pk}/delete/", {}),
        (f"/books/invoices/{draft.pk}/issue/", {}),
        (f"/books/invoices/{draft.pk}/send/", {}),
        (f"/books/invoices/{draft.pk}/delete/", {}),
        (f"/books/invoices/{invoice.pk}/void/", {}),
        (f"/books/invoices/{invoice.pk}/payments/", {"amount": "1", "date": "2026-03-02"}),
        (
            f"/books/invoices/{invoice.pk}/repeat/",
            {"frequency": "monthly", "next_date": "2026-04-01"},
        ),
    ]
    for url, data in posts:
        assert other.post(url, data).status_code == 404, url
    client.refresh_from_db()
    invoice.refresh_from_db()
    draft.refresh_from_db()
    assert client.name == "Acme Studio"
    assert client.archived_at is None
    assert invoice.status == "sent"
    assert invoice.paid_total == 0
    assert draft.status == "draft"
    assert draft.currency == "USD"
    assert draft.number == ""
    assert InvoiceLine.objects.filter(invoice=draft).count() == 1
    assert not Entry.objects.exists()
    assert not owner.recurring_invoices.exists()


def test_invoice_details_page_rates_void_notice_and_payment_removal():
    from datetime import UTC, datetime, timedelta

    from micromarket.books.models import InvoicePayment, TimeEntry

    owner = make_seller()
    http = as_user(owner)
    page = http.get("/books/invoices/").content.decode()
    assert "Add your VAT number" in page
    response = http.post(
        "/books/invoices/settings/",
        {"legal_name": "Ada Design", "vat_id": "GB123456789", "business_address": "1 High St"},
    )
    assert response.status_code == 302
    assert "Add your VAT number" not in http.get("/books/invoices/").content.decode()
    assert 'value="GB123456789"' in http.get("/books/invoices/settings/").content.decode()
    bad = http.post("/books/invoices/settings/", {"vat_id": "GB 12/34"})
    assert bad.status_code == 400
    assert "letters and digits" in bad.content.decode()

    client = services.client_create(
        owner=owner, name="Acme Studio", email="ap@acme.example", default_rate=6000
    )
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    entry = TimeEntry.objects.create(
        owner=owner,
        client=client,
        description="Design",
        started_at=start,
        ended_at=start + timedelta(hours=1),
        duration_seconds=3600,
        currency="USD",
    )
    invoice = services.invoice_create(
        owner=owner,
        client=client,
        lines=[{"description": "Hosting", "unit_price": 1999, "tax_rate_bps": 550}],
    )
    services.invoice_add_time_lines(owner=owner, invoice=invoice, time_entries=[entry])
    detail = http.get(f"/books/invoices/{invoice.pk}/").content.decode()
    assert "5.5%" in detail
    assert "6%" not in detail
    services.invoice_issue(owner=owner, invoice=invoice)
    detail = http.get(f"/books/invoices/{invoice.pk}/").content.decode()
    assert "tracked time entry billed on it becomes unbilled again" in detail

    payment = services.invoice_payment_record(owner=owner, invoice=invoice, amount=1000)
    url = f"/books/invoices/{invoice.pk}/payments/{payment.pk}/reverse/"
    assert url in http.get(f"/books/invoices/{invoice.pk}/").content.decode()
    other = as_user(make_seller())
    assert other.post(url).status_code == 404
    assert InvoicePayment.objects.filter(pk=payment.pk).exists()
    response = http.post(url, follow=True)
    assert "Payment removed" in response.content.decode()
    assert not InvoicePayment.objects.exists()
    assert not Entry.objects.exists()

    response = http.post(f"/books/invoices/{invoice.pk}/void/", {"reason": "x"}, follow=True)
    assert "Its tracked time (1 entry) is unbilled again." in response.content.decode()
    entry.refresh_from_db()
    assert entry.invoice_line_id is None
