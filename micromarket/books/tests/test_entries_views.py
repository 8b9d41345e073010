"""The entries pages: the list (platform earnings appear on opening it), recording an expense
with a receipt, editing, deleting, the receipt download (its owner only), the mileage log and
recurring expenses. Another seller gets 404 on every object page and nothing changes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from micromarket.books.models import Entry, MileageTrip, RecurringExpense
from micromarket.books.services import entries as services
from micromarket.books.tests.entries_helpers import (
    as_user,
    envelopes_total,
    pdf_upload,
    png_upload,
    released_order,
)
from micromarket.catalog.tests.factories import seller as make_seller
from micromarket.payments.tests.test_views import text

pytestmark = pytest.mark.django_db


def expense_post(**kw) -> dict:
    data = {
        "kind": "expense",
        "date": "2025-03-14",
        "amount": "29.99",
        "currency": "USD",
        "category": "software",
        "payee": "Figma",
        "note": "Design tool",
    }
    data.update(kw)
    return data


def test_the_list_shows_released_earnings_without_anyone_typing_them():
    seller = make_seller()
    released_order(seller, subtotal=10_000, bps=1000)
    page = as_user(seller).get("/books/entries/")
    assert page.status_code == 200
    body = text(page)
    assert "Sales on micromarket" in body
    assert "+$100.00" in body
    assert "−$10.00" in body  # the commission
    assert Entry.objects.filter(owner=seller).count() == 2


def test_a_seller_records_an_expense_with_a_receipt_and_downloads_it():
    seller = make_seller()
    client = as_user(seller)
    response = client.post("/books/entries/new/", {**expense_post(), "receipt": pdf_upload()})
    assert response.status_code == 302
    entry = Entry.objects.get(owner=seller)
    assert (entry.amount, entry.category, entry.receipt_type) == (
        2_999,
        "software",
        "application/pdf",
    )
    listing = text(client.get("/books/entries/"))
    assert "Figma" in listing
    assert "−$29.99" in listing
    download = client.get(f"/books/entries/{entry.pk}/receipt/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF-")


def test_a_receipt_that_is_not_a_pdf_or_image_is_refused_next_to_the_field():
    seller = make_seller()
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("scan.pdf", b"MZ\x90\x00evil", content_type="application/pdf")
    response = as_user(seller).post("/books/entries/new/", {**expense_post(), "receipt": fake})
    assert response.status_code == 400
    assert "not allowed" in text(response)
    assert not Entry.objects.exists()


def test_an_amount_with_too_many_decimals_is_refused():
    seller = make_seller()
    response = as_user(seller).post("/books/entries/new/", expense_post(amount="1.005"))
    assert response.status_code == 400
    assert "at most 2 decimals" in text(response)


def test_editing_an_income_and_deleting_it():
    seller = make_seller()
    client = as_user(seller)
    client.post(
        "/books/entries/new/",
        expense_post(kind="income", category="cash", amount="100.00", payee="Market"),
    )
    entry = Entry.objects.get(owner=seller)
    assert envelopes_total(seller) == 10_000
    response = client.post(
        f"/books/entries/{entry.pk}/edit/",
        expense_post(kind="income", category="cash", amount="80.00", payee="Market"),
    )
    assert response.status_code == 302
    assert envelopes_total(seller) == 8_000
    assert client.get(f"/books/entries/{entry.pk}/delete/").status_code == 200
    assert client.post(f"/books/entries/{entry.pk}/delete/").status_code == 302
    assert not Entry.objects.exists()
    assert envelopes_total(seller) == 0


def test_replacing_a_photo_receipt():
    seller = make_seller()
    entry = services.entry_create(
        owner=seller,
        kind="expense",
        date=date(2025, 3, 1),
        amount=500,
        currency="USD",
        category="office",
        receipt=pdf_upload(),
    )
    response = as_user(seller).post(
        f"/books/entries/{entry.pk}/edit/",
        {**expense_post(category="office", amount="5.00"), "receipt": png_upload()},
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.receipt_type == "image/webp"


def test_another_seller_gets_404_on_every_entry_page_and_nothing_changes():
    owner, other = make_seller(), make_seller()
    entry = services.entry_create(
        owner=owner,
        kind="expense",
        date=date(2025, 3, 1),
        amount=500,
        currency="USD",
        category="office",
        receipt=pdf_upload(),
    )
    trip = services.mileage_trip_create(
        owner=owner, date=date(2025, 3, 2), distance=10, purpose="Bank"
    )
    item = services.recurring_expense_create(
        owner=owner,
        payee="Rent",
        amount=1_000,
        currency="USD",
        category="rent",
        frequency="monthly",
        start_date=date.today() + timedelta(days=60),
    )
    client = as_user(other)
    for url in (
        f"/books/entries/{entry.pk}/edit/",
        f"/books/entries/{entry.pk}/delete/",
        f"/books/entries/{entry.pk}/receipt/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/books/entries/{entry.pk}/edit/", expense_post()).status_code == 404
    assert client.post(f"/books/entries/{entry.pk}/delete/").status_code == 404
    assert client.post(f"/books/mileage/{trip.pk}/delete/").status_code == 404
    assert client.post(f"/books/recurring/{item.pk}/stop/").status_code == 404
    entry.refresh_from_db()
    assert (entry.amount, entry.payee, entry.category) == (500, "", "office")
    assert MileageTrip.objects.filter(pk=trip.pk).exists()
    assert RecurringExpense.objects.get(pk=item.pk).active
    assert Entry.objects.count() == 2
    assert "Bank" not in text(client.get("/books/mileage/"))


def test_the_pages_need_a_login():
    response = as_user(make_seller()).get("/books/entries/")
    assert response.status_code == 200
    from django.test import Client

    assert Client().get("/books/entries/").status_code == 302


def test_the_mileage_page_logs_a_trip_at_the_years_rate():
    seller = make_seller()
    client = as_user(seller)
    page = text(client.get("/books/mileage/"))
    assert "a mile" in page
    response = client.post(
        "/books/mileage/",
        {"date": "2025-04-02", "distance": "12.0", "unit": "mi", "purpose": "Client meeting"},
    )
    assert response.status_code == 302
    trip = MileageTrip.objects.get(owner=seller)
    assert trip.entry.amount == 840
    assert "Client meeting" in text(client.get("/books/mileage/"))
    assert client.post("/books/mileage/", {"date": "2025-04-02"}).status_code == 400


def test_the_recurring_page_adds_and_stops_an_expense():
    seller = make_seller()
    client = as_user(seller)
    response = client.post(
        "/books/recurring/",
        {
            "payee": "Adobe",
            "amount": "59.99",
            "currency": "USD",
            "category": "software",
            "frequency": "monthly",
            "start_date": "2025-01-15",
        },
    )
    assert response.status_code == 302
    item = RecurringExpense.objects.get(owner=seller)
    assert item.amount == 5_999
    assert "Adobe" in text(client.get("/books/recurring/"))
    assert client.post(f"/books/recurring/{item.pk}/stop/").status_code == 302
    item.refresh_from_db()
    assert not item.active
