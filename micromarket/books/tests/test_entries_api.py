"""The entries API: CRUD with a receipt by multipart, categories, mileage, recurring, sync.
Another seller gets 404 on every object endpoint and nothing changes."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from micromarket.books.models import Entry, MileageTrip, RecurringExpense
from micromarket.books.services import entries as services
from micromarket.books.tests.entries_helpers import as_user, pdf_upload, released_order
from micromarket.catalog.tests.factories import seller as make_seller

pytestmark = pytest.mark.django_db

API = "/api/v1/books"


def send(client, method: str, path: str, body: dict | None = None):
    return getattr(client, method)(
        API + path, json.dumps(body or {}), content_type="application/json"
    )


ENTRY = {
    "kind": "expense",
    "date": "2025-03-14",
    "amount": 2999,
    "currency": "usd",
    "category": "software",
    "payee": "Figma",
}


def test_create_read_update_delete_an_entry():
    seller = make_seller()
    client = as_user(seller)
    created = send(client, "post", "/entries", ENTRY)
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["amount"], body["currency"], body["source"]) == (2999, "USD", "manual")
    pk = body["id"]
    assert client.get(f"{API}/entries/{pk}").json()["payee"] == "Figma"
    patched = send(client, "patch", f"/entries/{pk}", {"note": "yearly plan"})
    assert patched.json()["note"] == "yearly plan"
    listed = client.get(f"{API}/entries?kind=expense").json()
    assert listed["count"] == 1
    assert listed["items"][0]["id"] == pk
    assert client.delete(f"{API}/entries/{pk}").status_code == 204
    assert not Entry.objects.exists()


def test_a_bad_entry_is_a_problem_on_its_field():
    client = as_user(make_seller())
    response = send(client, "post", "/entries", {**ENTRY, "category": "tips"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "category_invalid"
    assert body["errors"][0]["loc"] == ["body", "category"]


def test_a_receipt_is_uploaded_and_downloaded_by_its_owner():
    seller = make_seller()
    client = as_user(seller)
    pk = send(client, "post", "/entries", ENTRY).json()["id"]
    uploaded = client.post(f"{API}/entries/{pk}/receipt", {"receipt": pdf_upload()})
    assert uploaded.status_code == 200, uploaded.content
    assert uploaded.json()["receipt_type"] == "application/pdf"
    download = client.get(f"{API}/entries/{pk}/receipt")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF-")


def test_listing_copies_released_earnings_and_platform_entries_are_locked():
    seller = make_seller()
    released_order(seller)
    client = as_user(seller)
    items = client.get(f"{API}/entries?source=platform").json()["items"]
    assert sorted(i["category"] for i in items) == ["commissions_fees", "platform_sales"]
    income = next(i for i in items if i["kind"] == "income")
    response = send(client, "patch", f"/entries/{income['id']}", {"amount": 1})
    assert response.status_code == 409
    assert response.json()["code"] == "entry_locked"
    assert send(client, "post", "/entries/sync").json() == {"copied": 0}


def test_categories_carry_their_tax_form_lines():
    cats = as_user(make_seller()).get(f"{API}/categories?kind=expense").json()
    meals = next(c for c in cats if c["key"] == "meals")
    assert (meals["schedule_c"], meals["uk_box"]) == ("24b", "")


def test_mileage_and_recurring_over_the_api():
    seller = make_seller()
    client = as_user(seller)
    trip = send(
        client,
        "post",
        "/mileage",
        {"date": "2025-03-03", "distance": "10.0", "purpose": "Post office"},
    )
    assert trip.status_code == 201, trip.content
    assert trip.json()["deduction"] == 700
    assert client.get(f"{API}/mileage").json()["count"] == 1
    item = send(
        client,
        "post",
        "/recurring",
        {
            "payee": "Hosting",
            "amount": 1200,
            "currency": "USD",
            "category": "software",
            "frequency": "monthly",
            "start_date": "2025-01-01",
        },
    )
    assert item.status_code == 201, item.content
    stopped = send(client, "post", f"/recurring/{item.json()['id']}/stop")
    assert stopped.json()["active"] is False


def test_another_seller_gets_404_on_every_object_endpoint_and_nothing_changes():
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
    responses = [
        client.get(f"{API}/entries/{entry.pk}"),
        send(client, "patch", f"/entries/{entry.pk}", {"amount": 1}),
        client.delete(f"{API}/entries/{entry.pk}"),
        client.get(f"{API}/entries/{entry.pk}/receipt"),
        client.post(f"{API}/entries/{entry.pk}/receipt", {"receipt": pdf_upload()}),
        client.get(f"{API}/mileage/{trip.pk}"),
        client.delete(f"{API}/mileage/{trip.pk}"),
        client.get(f"{API}/recurring/{item.pk}"),
        send(client, "post", f"/recurring/{item.pk}/stop"),
    ]
    assert [r.status_code for r in responses] == [404] * len(responses)
    entry.refresh_from_db()
    assert entry.amount == 500
    assert MileageTrip.objects.filter(pk=trip.pk).exists()
    assert RecurringExpense.objects.get(pk=item.pk).active
    assert client.get(f"{API}/entries").json()["count"] == 0
