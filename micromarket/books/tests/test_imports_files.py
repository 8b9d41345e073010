"""Imports: CSV with a column mapping and a preview, OFX/QFX via ofxtools, duplicate detection,
all or nothing with the bad line's number — through the services, the pages and the API."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from micromarket.books.models import Entry, ImportBatch
from micromarket.books.services import entries as entry_services
from micromarket.books.services import imports as services
from micromarket.books.tests.entries_helpers import as_user, envelopes_total
from micromarket.catalog.tests.factories import seller as make_seller
from micromarket.core.errors import ValidationFailed
from micromarket.payments.tests.test_views import text

pytestmark = pytest.mark.django_db

BANK_CSV = (
    "Date,Description,Amount,Memo\n"
    "03/01/2025,Adobe,-59.99,Creative Cloud\n"
    '03/04/2025,Acme Corp,"1,250.00",Invoice 12\n'
    "\n"
    "03/09/2025,Coffee Shop,-4.50,\n"
    "03/09/2025,Coffee Shop,-4.50,\n"
    "03/10/2025,Interest,0.00,\n"
)
MAPPING = services.CsvMapping(date=0, payee=1, amount=2, note=3, date_format="%m/%d/%Y")

OFX = """OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

<OFX>
<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20250301120000<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>
<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>121000248<ACCTID>123456789<ACCTTYPE>CHECKING</BANKACCTFROM>
<BANKTRANLIST><DTSTART>20250201<DTEND>20250228
<STMTTRN>
<TRNTYPE>DEBIT
<DTPOSTED>20250203
<TRNAMT>-12.99
<FITID>2025020301
<NAME>Dropbox
<MEMO>Subscription
</STMTTRN>
<STMTTRN>
<TRNTYPE>CREDIT
<DTPOSTED>{second_date}
<TRNAMT>450.00
<FITID>2025021001
<NAME>Acme Corp
</STMTTRN>
</BANKTRANLIST>
<LEDGERBAL><BALAMT>1000.00<DTASOF>20250228</LEDGERBAL>
</STMTRS></STMTTRNRS></BANKMSGSRSV1>
</OFX>
"""


def ofx(second_date: str = "20250210") -> bytes:
    return OFX.replace("{second_date}", second_date).encode()


def upload(data: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/plain")


# --- services -----------------------------------------------------------------------------


def test_a_csv_preview_reads_every_row_with_its_line_and_saves_nothing():
    seller = make_seller()
    preview = services.import_preview(
        owner=seller, data=BANK_CSV.encode(), filename="march.csv", mapping=MAPPING
    )
    assert [(r.line, r.kind, r.amount, r.payee) for r in preview.rows] == [
        (2, "expense", 5_999, "Adobe"),
        (3, "income", 125_000, "Acme Corp"),
        (5, "expense", 450, "Coffee Shop"),
        (6, "expense", 450, "Coffee Shop"),  # two coffees the same day are both real
    ]
    assert preview.rows[0].date == date(2025, 3, 1)
    assert preview.skipped_zero == 1
    assert preview.duplicates == 0
    assert not Entry.objects.exists()


def test_importing_a_csv_records_every_row_once_and_a_second_import_finds_duplicates():
    seller = make_seller()
    batch = services.import_commit(
        owner=seller, data=BANK_CSV.encode(), filename="march.csv", mapping=MAPPING
    )
    assert (batch.rows, batch.imported, batch.duplicates) == (4, 4, 0)
    assert Entry.objects.filter(owner=seller, source="import").count() == 4
    assert envelopes_total(seller) == 125_000  # the income was shared between envelopes
    again = services.import_preview(
        owner=seller, data=BANK_CSV.encode(), filename="march.csv", mapping=MAPPING
    )
    assert again.duplicates == 4
    assert again.previous == batch
    second = services.import_commit(
        owner=seller, data=BANK_CSV.encode(), filename="march.csv", mapping=MAPPING
    )
    assert (second.imported, second.duplicates) == (0, 4)
    assert Entry.objects.filter(owner=seller).count() == 4


def test_a_row_already_typed_in_by_hand_is_a_duplicate():
    seller = make_seller()
    entry_services.entry_create(
        owner=seller,
        kind="expense",
        date=date(2025, 3, 1),
        amount=5_999,
        currency="USD",
        category="software",
        payee="ADOBE ",
    )
    preview = services.import_preview(
        owner=seller, data=BANK_CSV.encode(), filename="m.csv", mapping=MAPPING
    )
    assert [r.duplicate for r in preview.rows] == [True, False, False, False]


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ("31/02/2025,Bad date,-1.00,", "“31/02/2025” is not a date like 03/31/2025"),
        ("03/05/2025,Bad amount,abc,", "“abc” is not an amount"),
        ("03/05/2025,Too precise,-1.005,", "USD amounts have at most 2 decimals"),
        ("03/05/2025,No amount,,", "the amount is empty"),
    ],
)
def test_a_bad_csv_row_is_reported_with_its_line_number_and_nothing_is_saved(bad_row, message):
    seller = make_seller()
    data = (BANK_CSV + bad_row + "\n").encode()
    with pytest.raises(ValidationFailed) as exc:
        services.import_commit(owner=seller, data=data, filename="m.csv", mapping=MAPPING)
    assert exc.value.code == "import_rows_invalid"
    assert exc.value.message.startswith("Line 8:")
    assert message in exc.value.message
    assert exc.value.errors[0]["line"] == 8
    assert not Entry.objects.exists()
    assert not ImportBatch.objects.exists()


def test_every_bad_line_is_listed():
    seller = make_seller()
    data = b"Date,Payee,Amount\n2025-01-01,A,x\n2025-01-02,B,1.00\n2025-13-01,C,2.00\n"
    mapping = services.CsvMapping(date=0, payee=1, amount=2)
    with pytest.raises(ValidationFailed) as exc:
        services.import_commit(owner=seller, data=data, filename="m.csv", mapping=mapping)
    assert [e["line"] for e in exc.value.errors] == [2, 4]
    assert "and 1 more problem" in exc.value.message


def test_debit_and_credit_columns_decimal_commas_and_a_currency_column():
    make_seller()
    data = (
        "Datum;Empfänger;Soll;Haben;Währung\n"
        "31.03.2025;Miete;1.200,00;;EUR\n"
        "31.03.2025;Kunde;;2.500,50;EUR\n"
    ).encode()
    mapping = services.CsvMapping(
        date=0, payee=1, debit=2, credit=3, currency=4, date_format="%d.%m.%Y", decimal_comma=True
    )
    rows, _ = services.csv_parse(data, mapping)
    assert [(r.kind, r.amount, r.currency) for r in rows] == [
        ("expense", 120_000, "EUR"),
        ("income", 250_050, "EUR"),
    ]


def test_a_mapping_without_a_date_or_amount_column_is_refused():
    with pytest.raises(ValidationFailed) as exc:
        services.csv_parse(BANK_CSV.encode(), services.CsvMapping(amount=2))
    assert exc.value.field == "date"
    with pytest.raises(ValidationFailed) as exc:
        services.csv_parse(BANK_CSV.encode(), services.CsvMapping(date=0))
    assert exc.value.field == "amount"


def test_an_ofx_statement_is_imported_and_its_bank_ids_make_a_reimport_a_duplicate():
    seller = make_seller()
    batch = services.import_commit(owner=seller, data=ofx(), filename="feb.qfx")
    assert (batch.format, batch.imported) == ("ofx", 2)
    entries = {e.payee: e for e in Entry.objects.filter(owner=seller)}
    assert (entries["Dropbox"].kind, entries["Dropbox"].amount) == ("expense", 1_299)
    assert entries["Dropbox"].note == "Subscription"
    assert (entries["Acme Corp"].kind, entries["Acme Corp"].date) == ("income", date(2025, 2, 10))
    again = services.import_commit(owner=seller, data=ofx(), filename="feb.qfx")
    assert (again.imported, again.duplicates) == (0, 2)


def test_a_malformed_ofx_transaction_is_reported_with_its_line_and_nothing_is_saved():
    seller = make_seller()
    with pytest.raises(ValidationFailed) as exc:
        services.import_commit(owner=seller, data=ofx("2025021X"), filename="feb.ofx")
    assert exc.value.message.startswith("Line 24:")  # the second <STMTTRN>
    assert "DTPOSTED" in exc.value.message
    assert not Entry.objects.exists()


def test_a_broken_ofx_file_is_refused():
    seller = make_seller()
    with pytest.raises(ValidationFailed) as exc:
        services.import_commit(
            owner=seller, data=b"OFXHEADER:100\n\n<OFX><BANKMSGSRSV1>", filename="x.ofx"
        )
    assert exc.value.code == "import_rows_invalid"
    assert not Entry.objects.exists()


def test_a_file_that_is_not_text_is_refused_by_its_content():
    with pytest.raises(ValidationFailed) as exc:
        services.upload_read(upload(b"%PDF-1.4 statement", "statement.csv"))
    assert exc.value.code == "import_type_not_allowed"


# --- pages --------------------------------------------------------------------------------


def test_a_seller_uploads_maps_previews_and_imports_a_csv():
    seller = make_seller()
    client = as_user(seller)
    page = client.post("/books/imports/", {"file": upload(BANK_CSV.encode(), "march.csv")})
    assert page.status_code == 200
    body = text(page)
    assert "Which column is what?" in body
    token = page.context["token"]
    form = {
        "token": token,
        "filename": "march.csv",
        "date": "0",
        "payee": "1",
        "amount": "2",
        "note": "3",
        "has_header": "on",
        "date_format": "%m/%d/%Y",
        "sign": "negative_expense",
        "default_currency": "USD",
        "income_category": "other_income",
        "expense_category": "software",
    }
    preview = client.post("/books/imports/preview/", {**form, "action": "preview"})
    assert preview.status_code == 200
    assert "4 rows read: 4 new, 0 duplicates, 1 with a zero amount left out" in text(preview)
    done = client.post("/books/imports/preview/", {**form, "action": "import"})
    assert done.status_code == 302
    assert Entry.objects.filter(owner=seller, category="software").count() == 3
    assert "march.csv" in text(client.get("/books/imports/"))


def test_the_page_lists_the_bad_lines_and_imports_nothing():
    seller = make_seller()
    client = as_user(seller)
    data = (BANK_CSV + "03/05/2025,Bad,abc,\n").encode()
    page = client.post("/books/imports/", {"file": upload(data, "bad.csv")})
    token = page.context["token"]
    response = client.post(
        "/books/imports/preview/",
        {
            "token": token,
            "filename": "bad.csv",
            "date": "0",
            "payee": "1",
            "amount": "2",
            "has_header": "on",
            "date_format": "%m/%d/%Y",
            "sign": "negative_expense",
            "default_currency": "USD",
            "income_category": "other_income",
            "expense_category": "other_expense",
            "action": "import",
        },
    )
    assert response.status_code == 400
    assert "Line 8: “abc” is not an amount" in text(response)
    assert not Entry.objects.exists()


def test_an_ofx_upload_previews_straight_away_and_imports():
    seller = make_seller()
    client = as_user(seller)
    page = client.post("/books/imports/", {"file": upload(ofx(), "feb.qfx")})
    assert "Dropbox" in text(page)
    response = client.post(
        "/books/imports/preview/",
        {"token": page.context["token"], "filename": "feb.qfx", "action": "import"},
    )
    assert response.status_code == 302
    assert Entry.objects.filter(owner=seller).count() == 2


def test_another_seller_cannot_use_someone_elses_upload():
    owner, other = make_seller(), make_seller()
    page = as_user(owner).post("/books/imports/", {"file": upload(ofx(), "feb.qfx")})
    response = as_user(other).post(
        "/books/imports/preview/",
        {"token": page.context["token"], "filename": "feb.qfx", "action": "import"},
    )
    assert response.status_code == 302  # back to the upload: "that upload has expired"
    assert not Entry.objects.exists()


# --- API ----------------------------------------------------------------------------------

API = "/api/v1/books"


def test_the_api_previews_and_imports_with_a_mapping():
    seller = make_seller()
    client = as_user(seller)
    mapping = json.dumps(MAPPING.as_dict())
    preview = client.post(
        f"{API}/imports/preview",
        {"file": upload(BANK_CSV.encode(), "m.csv"), "mapping": mapping},
    )
    assert preview.status_code == 200, preview.content
    assert preview.json()["new_rows"] == 4
    created = client.post(
        f"{API}/imports", {"file": upload(BANK_CSV.encode(), "m.csv"), "mapping": mapping}
    )
    assert created.status_code == 201, created.content
    batch = created.json()
    assert batch["imported"] == 4
    assert client.get(f"{API}/imports/{batch['id']}").json()["filename"] == "m.csv"
    assert client.get(f"{API}/imports").json()["count"] == 1


def test_the_api_reports_each_bad_line_as_problem_json():
    client = as_user(make_seller())
    response = client.post(f"{API}/imports", {"file": upload(ofx("2025021X"), "feb.ofx")})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "import_rows_invalid"
    assert body["errors"][0]["loc"] == ["file", "line", 24]
    assert not Entry.objects.exists()


def test_another_seller_gets_404_on_an_import():
    owner, other = make_seller(), make_seller()
    batch = services.import_commit(owner=owner, data=ofx(), filename="feb.qfx")
    assert as_user(other).get(f"{API}/imports/{batch.pk}").status_code == 404
    assert as_user(other).get(f"{API}/imports").json()["count"] == 0
