"""Invoices over the API: clients, drafts and lines, issue/send, payments (overpayment
refused), void, PDF; another seller gets 404 on every object endpoint and nothing changes."""

from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient

from micromarket.books.models import Client, Entry, Invoice, InvoiceLine, InvoicePayment
from micromarket.catalog.tests.factories import seller as make_seller

pytestmark = pytest.mark.django_db

API = "/api/v1/books"


def as_user(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def call(http, method: str, path: str, body: dict | None = None):
    if method == "get":
        return http.get(API + path)
    return getattr(http, method)(
        API + path, json.dumps(body or {}), content_type="application/json"
    )


def make(http):
    # Lines at 20% VAT: the seller needs a VAT number to issue them.
    call(http, "put", "/invoice-settings", {"vat_id": "FR12345678901"})
    client = call(
        http,
        "post",
        "/clients",
        {
            "name": "Acme Studio",
            "email": "ap@acme.example",
            "currency": "EUR",
            "country": "FR",
        },
    ).json()
    invoice = call(
        http,
        "post",
        "/invoices",
        {
            "client_id": client["id"],
            "discount_bps": 1000,
            "lines": [
                {
                    "description": "Design",
                    "quantity": "2.5",
                    "unit": "HUR",
                    "unit_price": 8000,
                    "tax_rate_bps": 2000,
                }
            ],
        },
    ).json()
    return client, invoice


def test_a_draft_issued_paid_over_the_api():
    http = as_user(make_seller())
    _client, invoice = make(http)
    assert invoice["currency"] == "EUR"
    assert invoice["status"] == "draft"
    # 2.5 × 80 = 200, −10% = 180, +20% = 216
    assert (invoice["subtotal"], invoice["total"]) == (20000, 21600)
    line = call(
        http,
        "post",
        f"/invoices/{invoice['id']}/lines",
        {"description": "Stock photo", "unit_price": 1000},
    ).json()
    assert line["amount"] == 1000
    patched = call(
        http, "patch", f"/invoices/{invoice['id']}/lines/{line['id']}", {"quantity": "3"}
    ).json()
    assert patched["amount"] == 3000
    issued = call(http, "post", f"/invoices/{invoice['id']}/issue").json()
    assert issued["number"] == "INV-0001"
    assert issued["status"] == "sent"
    assert issued["public_url"].endswith("/")
    # 200 + 30 = 230, −10% = 180 + 27 = 207; tax 36 → 243.00
    assert issued["total"] == 24300
    assert call(http, "patch", f"/invoices/{invoice['id']}", {"notes": "x"}).status_code == 409
    too_much = call(http, "post", f"/invoices/{invoice['id']}/payments", {"amount": 24301})
    assert too_much.status_code == 422
    assert too_much.json()["code"] == "overpayment"
    paid = call(
        http, "post", f"/invoices/{invoice['id']}/payments", {"amount": 24300, "method": "SEPA"}
    )
    assert paid.status_code == 201
    assert paid.json()["entry_id"]
    detail = call(http, "get", f"/invoices/{invoice['id']}").json()
    assert detail["status"] == "paid"
    assert detail["balance"] == 0
    assert [e["kind"] for e in detail["events"]] == ["created", "issued", "paid"]
    listed = call(http, "get", "/invoices?status=paid").json()
    assert [i["id"] for i in listed["items"]] == [invoice["id"]]
    pdf = http.get(f"{API}/invoices/{invoice['id']}/pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"


def test_void_and_delete():
    http = as_user(make_seller())
    _, invoice = make(http)
    _, other_draft = make(http)
    call(http, "post", f"/invoices/{invoice['id']}/issue")
    voided = call(http, "post", f"/invoices/{invoice['id']}/void", {"reason": "typo"}).json()
    assert voided["status"] == "void"
    assert voided["number"] == "INV-0001"
    assert call(http, "delete", f"/invoices/{invoice['id']}").status_code == 409
    assert call(http, "delete", f"/invoices/{other_draft['id']}").status_code == 204
    nxt = call(
        http,
        "post",
        "/invoices",
        {"client_id": voided["client_id"], "lines": [{"description": "Again", "unit_price": 100}]},
    ).json()
    assert call(http, "post", f"/invoices/{nxt['id']}/issue").json()["number"] == "INV-0002"


def test_validation_errors_name_the_field():
    http = as_user(make_seller())
    client, _ = make(http)
    response = call(
        http,
        "post",
        "/invoices",
        {
            "client_id": client["id"],
            "lines": [{"description": "x", "unit_price": 100, "tax_rate_bps": 20000}],
        },
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"


def test_another_seller_gets_404_on_every_object_endpoint_and_nothing_changes():
    owner_http = as_user(make_seller())
    client, invoice = make(owner_http)
    _, issued = make(owner_http)
    call(owner_http, "post", f"/invoices/{issued['id']}/issue")
    line_id = invoice["lines"][0]["id"]
    other = as_user(make_seller())
    requests = [
        ("get", f"/clients/{client['id']}", None),
        ("patch", f"/clients/{client['id']}", {"name": "Stolen", "archived": True}),
        ("get", f"/invoices/{invoice['id']}", None),
        ("patch", f"/invoices/{invoice['id']}", {"notes": "mine"}),
        ("delete", f"/invoices/{invoice['id']}", None),
        ("post", f"/invoices/{invoice['id']}/lines", {"description": "x", "unit_price": 1}),
        ("patch", f"/invoices/{invoice['id']}/lines/{line_id}", {"unit_price": 1}),
        ("delete", f"/invoices/{invoice['id']}/lines/{line_id}", None),
        ("post", f"/invoices/{invoice['id']}/issue", None),
        ("post", f"/invoices/{invoice['id']}/send", {}),
        ("post", f"/invoices/{issued['id']}/void", {}),
        ("get", f"/invoices/{issued['id']}/payments", None),
        ("post", f"/invoices/{issued['id']}/payments", {"amount": 100}),
        ("get", f"/invoices/{issued['id']}/pdf", None),
    ]
    for method, path, body in requests:
        response = call(other, method, path, body)
        assert response.status_code == 404, (method, path, response.content)
    # Another seller's client cannot be used for a new invoice either.
    assert call(other, "post", "/invoices", {"client_id": client["id"]}).status_code == 404
    assert call(other, "get", "/invoices").json()["items"] == []
    assert call(other, "get", "/clients").json()["items"] == []
    c = Client.objects.get(pk=client["id"])
    assert c.name == "Acme Studio"
    assert c.archived_at is None
    inv = Invoice.objects.get(pk=invoice["id"])
    assert inv.status == "draft"
    assert inv.notes == ""
    assert inv.total == invoice["total"]
    assert InvoiceLine.objects.filter(invoice=inv).count() == 1
    assert Invoice.objects.get(pk=issued["id"]).status == "sent"
    assert not InvoicePayment.objects.exists()
    assert not Entry.objects.exists()
    assert Invoice.objects.count() == 2


def test_a_mistaken_payment_is_removed_over_the_api_and_not_by_another_seller():
    owner_http = as_user(make_seller())
    _, invoice = make(owner_http)
    call(owner_http, "post", f"/invoices/{invoice['id']}/issue")
    payment = call(
        owner_http, "post", f"/invoices/{invoice['id']}/payments", {"amount": 5000}
    ).json()
    path = f"/invoices/{invoice['id']}/payments/{payment['id']}"
    other = as_user(make_seller())
    assert call(other, "delete", path).status_code == 404
    assert InvoicePayment.objects.count() == 1
    assert Entry.objects.count() == 1
    assert call(other, "get", "/invoice-settings").json()["vat_id"] == ""
    reversed_ = call(owner_http, "delete", path)
    assert reversed_.status_code == 200
    body = reversed_.json()
    assert (body["status"], body["paid_total"], body["balance"]) == ("sent", 0, body["total"])
    assert not InvoicePayment.objects.exists()
    assert not Entry.objects.exists()
    assert call(owner_http, "delete", path).status_code == 404
    events = call(owner_http, "get", f"/invoices/{invoice['id']}").json()["events"]
    assert events[-1]["kind"] == "payment_reversed"


def test_currency_of_a_draft_with_lines_cannot_change():
    http = as_user(make_seller())
    _, invoice = make(http)
    response = call(http, "patch", f"/invoices/{invoice['id']}", {"currency": "USD"})
    assert response.status_code == 409
    assert response.json()["code"] == "currency_has_lines"
    assert "remove them" in response.json()["detail"]
    assert Invoice.objects.get(pk=invoice["id"]).currency == "EUR"


def test_invoice_settings_over_the_api():
    http = as_user(make_seller())
    response = call(
        http,
        "put",
        "/invoice-settings",
        {"legal_name": "Ada Ltd", "vat_id": "gb 123 456 789", "business_address": "1 Main St"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "legal_name": "Ada Ltd",
        "vat_id": "GB123456789",
        "business_address": "1 Main St",
    }
    bad = call(http, "put", "/invoice-settings", {"vat_id": "GB-12/3"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["body", "vat_id"]
