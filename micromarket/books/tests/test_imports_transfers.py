"""Imports must not count money twice: payouts of micromarket earnings and client payments
already recorded on an invoice are flagged and left out by default, any row can be left out
(owner draws, transfers between the seller's accounts), and the result says how many were
skipped. Also: the preview uses the books' own date rule, the page always shows why an import
failed, and a bank transaction id repeated in a file is counted as a duplicate."""

from __future__ import annotations

import json
from datetime import date

import pytest
import time_machine

from micromarket.books.models import Entry, ImportBatch
from micromarket.books.services import entries as entry_services
from micromarket.books.services import imports as services
from micromarket.books.tests.entries_helpers import as_user
from micromarket.books.tests.test_imports_files import OFX, upload
from micromarket.catalog.tests.factories import seller as make_seller
from micromarket.core.errors import ValidationFailed
from micromarket.payments.models import Payout, PayoutMethod, PayoutStatus
from micromarket.payments.tests.test_views import text

pytestmark = pytest.mark.django_db

API = "/api/v1/books"
STATEMENT = (
    "Date,Description,Amount\n"
    "03/03/2025,MICROMARKET PAYOUT 8812,250.00\n"  # line 2: names micromarket
    "03/06/2025,ACH DEPOSIT STRIPE,180.50\n"  # line 3: the amount of a payout
    "03/08/2025,ACME CORP TRANSFER,1200.00\n"  # line 4: an invoice payment already recorded
    "03/09/2025,New client,300.00\n"  # line 5: real new income
    "03/10/2025,Transfer to savings,-500.00\n"  # line 6: the seller's own transfer
    "03/11/2025,Adobe,-59.99\n"  # line 7: a real expense
)
MAPPING = services.CsvMapping(date=0, payee=1, amount=2, date_format="%m/%d/%Y")
FORM = {
    "filename": "march.csv",
    "date": "0",
    "payee": "1",
    "amount": "2",
    "has_header": "on",
    "date_format": "%m/%d/%Y",
    "sign": "negative_expense",
    "default_currency": "USD",
    "income_category": "other_income",
    "expense_category": "other_expense",
}


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2025-03-20 12:00Z", tick=False):
        yield


def seller_with_history():
    seller = make_seller()
    method = PayoutMethod.objects.create(
        owner=seller, provider="sandbox", destination="acct_1", label="Checking"
    )
    with time_machine.travel("2025-03-04 10:00Z", tick=False):
        Payout.objects.create(
            owner=seller,
            method=method,
            amount=18_075,
            fee=25,
            currency="USD",
            status=PayoutStatus.PAID,
            provider="sandbox",
            idempotency_key="p1",
            fingerprint="p1",
        )
    entry_services.entry_record_income(
        owner=seller,
        date=date(2025, 3, 5),
        amount=120_000,
        currency="USD",
        category="direct_clients",
        payee="Acme Corp",
        source="invoice",
        source_ref="invoice_payment:1",
    )
    return seller


def test_payouts_and_recorded_invoice_payments_are_flagged_with_the_reason():
    seller = seller_with_history()
    preview = services.import_preview(
        owner=seller, data=STATEMENT.encode(), filename="march.csv", mapping=MAPPING
    )
    reasons = {r.line: r.transfer for r in preview.rows}
    assert "micromarket payout" in reasons[2]
    assert "Same amount as your micromarket payout of 4 Mar 2025" in reasons[3]
    assert "invoice payment of $1,200.00 recorded on 5 Mar 2025" in reasons[4]
    assert [reasons[5], reasons[6], reasons[7]] == ["", "", ""]
    assert (preview.transfers, preview.new_rows) == (3, 3)


def test_flagged_rows_are_not_saved_and_are_counted_as_skipped():
    seller = seller_with_history()
    before = Entry.objects.filter(owner=seller, kind="income").count()
    batch = services.import_commit(
        owner=seller, data=STATEMENT.encode(), filename="march.csv", mapping=MAPPING
    )
    assert (batch.rows, batch.imported, batch.duplicates) == (6, 3, 0)
    assert services.import_excluded(batch) == 3
    incomes = Entry.objects.filter(owner=seller, kind="income", source="import")
    assert list(incomes.values_list("payee", flat=True)) == ["New client"]
    assert Entry.objects.filter(owner=seller, kind="income").count() == before + 1


def test_the_seller_can_leave_out_any_row_or_keep_a_flagged_one():
    seller = seller_with_history()
    batch = services.import_commit(
        owner=seller,
        data=STATEMENT.encode(),
        filename="march.csv",
        mapping=MAPPING,
        exclude_lines=[2, 6],  # keeps lines 3 and 4, leaves out the savings transfer
    )
    assert (batch.imported, services.import_excluded(batch)) == (4, 2)
    assert not Entry.objects.filter(owner=seller, payee="Transfer to savings").exists()
    assert Entry.objects.filter(owner=seller, payee="ACH DEPOSIT STRIPE").exists()
    with pytest.raises(ValidationFailed) as exc:
        services.import_commit(
            owner=seller,
            data=STATEMENT.encode(),
            filename="march.csv",
            mapping=MAPPING,
            exclude_lines=[99],
        )
    assert exc.value.field == "exclude_lines"


def test_the_page_shows_the_reason_unticks_the_row_and_reports_what_was_skipped():
    seller = seller_with_history()
    client = as_user(seller)
    page = client.post("/books/imports/", {"file": upload(STATEMENT.encode(), "march.csv")})
    form = {**FORM, "token": page.context["token"]}
    preview = client.post("/books/imports/preview/", {**form, "action": "preview"})
    body = text(preview)
    assert "Left out: A micromarket payout" in body
    assert "3 probably a transfer of money already in your books (unticked)" in body
    html = preview.content.decode()
    assert 'id="include-2" form="import-form">' in html  # unticked
    assert 'id="include-5" form="import-form" checked>' in html
    # The seller also unticks the transfer to savings (line 6).
    done = client.post(
        "/books/imports/preview/",
        {**form, "action": "import", "shown": [2, 3, 4, 5, 6, 7], "include": [5, 7]},
    )
    assert done.status_code == 302
    message = text(client.get("/books/entries/"))
    assert "Imported 2 entries from march.csv; 4 rows skipped as transfers." in message
    assert not Entry.objects.filter(owner=seller, payee="Transfer to savings").exists()
    listing = client.get("/books/imports/")
    assert "Left out as transfers" in text(listing)
    assert listing.context["batches"][0].excluded == 4


def test_the_api_takes_exclude_lines_and_reports_the_rows_left_out():
    seller = seller_with_history()
    client = as_user(seller)
    mapping = json.dumps(MAPPING.as_dict())
    preview = client.post(
        f"{API}/imports/preview",
        {"file": upload(STATEMENT.encode(), "m.csv"), "mapping": mapping},
    ).json()
    assert preview["transfers"] == 3
    assert [r["line"] for r in preview["rows"] if r["transfer"]] == [2, 3, 4]
    created = client.post(
        f"{API}/imports",
        {
            "file": upload(STATEMENT.encode(), "m.csv"),
            "mapping": mapping,
            "exclude_lines": "[2, 3, 4, 6]",
        },
    )
    assert created.status_code == 201, created.content
    assert (created.json()["imported"], created.json()["excluded"]) == (2, 4)
    bad = client.post(
        f"{API}/imports",
        {"file": upload(STATEMENT.encode(), "m.csv"), "mapping": mapping, "exclude_lines": "x"},
    )
    assert bad.status_code == 422
    assert ImportBatch.objects.filter(owner=seller).count() == 1


# --- dates, errors, repeated bank ids -----------------------------------------------------


def test_the_preview_refuses_a_date_the_books_would_refuse_with_its_line():
    seller = make_seller()
    data = b"Date,Description,Amount\n03/01/2025,Adobe,-9.99\n06/01/2026,Later,-5.00\n"
    with pytest.raises(ValidationFailed) as exc:
        services.import_preview(owner=seller, data=data, filename="x.csv", mapping=MAPPING)
    assert exc.value.message.startswith("Line 3: 2026-06-01 is out of range")
    assert "a year from today" in exc.value.message
    client = as_user(seller)
    page = client.post("/books/imports/", {"file": upload(data, "x.csv")})
    response = client.post(
        "/books/imports/preview/",
        {**FORM, "filename": "x.csv", "token": page.context["token"], "action": "import"},
    )
    assert response.status_code == 400
    assert "Line 3: 2026-06-01 is out of range" in text(response)
    assert not Entry.objects.exists()


def test_the_page_shows_why_the_import_failed(monkeypatch):
    seller = make_seller()
    client = as_user(seller)
    page = client.post("/books/imports/", {"file": upload(STATEMENT.encode(), "march.csv")})

    def refuse(**kwargs):
        raise ValidationFailed("Your books are being closed; try again.", code="x", field="file")

    monkeypatch.setattr(services, "import_commit", refuse)
    response = client.post(
        "/books/imports/preview/", {**FORM, "token": page.context["token"], "action": "import"}
    )
    assert response.status_code == 400
    assert "Your books are being closed; try again." in text(response)


def test_the_same_bank_transaction_id_twice_in_a_file_counts_as_a_duplicate():
    seller = make_seller()
    data = OFX.replace("{second_date}", "20250210").replace("2025021001", "2025020301").encode()
    preview = services.import_preview(owner=seller, data=data, filename="feb.ofx")
    assert [r.duplicate for r in preview.rows] == [False, True]
    batch = services.import_commit(owner=seller, data=data, filename="feb.ofx")
    assert (batch.imported, batch.duplicates) == (1, 1)
    assert Entry.objects.filter(owner=seller).count() == 1
    again = services.import_commit(
        owner=seller, data=data, filename="feb.ofx", include_duplicates=True
    )
    assert again.imported == 1  # the repeat is the same bank transaction: never twice
