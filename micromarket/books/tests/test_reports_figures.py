"""Reports: profit and loss by month/quarter/year, the Schedule C summary (meals at 50%), the
SA103F boxes, expenses by category, the CSV zip and a Beancount file that bean-check accepts."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from beancount import loader

from micromarket.accounts.tests.factories import UserFactory
from micromarket.books.models import Client, Entry, TimeEntry
from micromarket.books.selectors import reports

pytestmark = pytest.mark.django_db


def add(owner, kind, day, amount, category, currency="USD", **kw) -> Entry:
    ref = kw.pop("source_ref", "")
    return Entry.objects.create(
        owner=owner,
        kind=kind,
        date=day,
        amount=amount,
        currency=currency,
        category=category,
        source_ref=ref,
        fingerprint=f"{day}{amount}{category}",
        **kw,
    )


@pytest.fixture
def books():
    me = UserFactory()
    add(
        me,
        "income",
        date(2025, 1, 15),
        300_000,
        "platform_sales",
        source="platform",
        source_ref="ledger:1:income",
    )
    add(
        me,
        "expense",
        date(2025, 1, 15),
        30_000,
        "commissions_fees",
        source="platform",
        source_ref="ledger:1:fee",
    )
    add(me, "income", date(2025, 2, 3), 50_000, "direct_clients", payee="Acme")
    add(me, "income", date(2025, 5, 3), 10_000, "other_income")
    add(me, "expense", date(2025, 2, 10), 10_000, "meals", payee='Café "Le Zinc"')
    add(me, "expense", date(2025, 4, 1), 12_000, "software", payee="=HYPERLINK(evil)")
    add(me, "expense", date(2025, 4, 2), 20_000, "home_office")
    add(me, "expense", date(2024, 6, 1), 5_000, "supplies")
    add(me, "income", date(2025, 3, 1), 9_999, "cash", currency="EUR")
    return me


def test_profit_and_loss_by_month_quarter_and_year(books):
    months = reports.pnl(books, currency="USD", period="month", year=2025)
    assert [r.label for r in months.rows][:3] == ["Jan 2025", "Feb 2025", "Mar 2025"]
    jan, feb = months.rows[0], months.rows[1]
    assert (jan.income, jan.expenses, jan.profit) == (300_000, 30_000, 270_000)
    assert (feb.income, feb.expenses, feb.deductible, feb.profit) == (50_000, 10_000, 5_000, 45_000)
    assert months.total.income == 360_000  # the EUR entry is not mixed in
    assert months.total.profit == 360_000 - (30_000 + 5_000 + 12_000 + 20_000)
    quarters = reports.pnl(books, currency="USD", period="quarter", year=2025)
    assert [(r.label, r.profit) for r in quarters.rows] == [
        ("Q1 2025", 315_000),
        ("Q2 2025", -22_000),
        ("Q3 2025", 0),
        ("Q4 2025", 0),
    ]
    years = reports.pnl(books, currency="USD", period="year", year=2025)
    assert [(r.label, r.profit) for r in years.rows] == [("2024", -5_000), ("2025", 293_000)]
    assert reports.pnl(books, currency="EUR", period="year", year=2025).total.income == 9_999


def test_schedule_c_lines_with_meals_at_half(books):
    lines = {x.line: x for x in reports.schedule_c(books, currency="USD", year=2025)}
    assert lines["1"].amount == 350_000
    assert lines["6"].amount == 10_000
    assert lines["7"].amount == 360_000
    assert lines["10"].amount == 30_000
    assert lines["24b"].amount == 5_000
    assert "50% of $100.00" in lines["24b"].note
    assert lines["27b"].amount == 12_000
    assert lines["28"].amount == 47_000
    assert lines["29"].amount == 313_000
    assert lines["30"].amount == 20_000
    assert lines["31"].amount == 293_000
    order = [x.line for x in reports.schedule_c(books, currency="USD", year=2025)]
    assert order == ["1", "6", "7", "10", "24b", "27b", "28", "29", "30", "31"]


def test_sa103f_boxes_over_the_uk_tax_year():
    me = UserFactory()
    add(me, "income", date(2025, 4, 5), 1_000, "other_platforms", currency="GBP")  # 2024/25
    add(me, "income", date(2025, 4, 6), 500_000, "other_platforms", currency="GBP")
    add(me, "income", date(2026, 4, 5), 20_000, "other_income", currency="GBP")
    add(me, "expense", date(2025, 6, 1), 30_000, "software", currency="GBP")
    add(me, "expense", date(2025, 6, 2), 10_000, "utilities", currency="GBP")
    add(me, "expense", date(2025, 6, 3), 8_000, "meals", currency="GBP")
    add(me, "expense", date(2025, 6, 4), 50_000, "depreciation", currency="GBP")
    report = reports.sa103f(me, currency="GBP", year=2025)
    boxes = {x.line: x for x in report.lines}
    assert report.label == "2025/26"
    assert (boxes["15"].amount, boxes["16"].amount) == (500_000, 20_000)
    assert boxes["23"].amount == 40_000
    assert boxes["29"].amount == 50_000
    assert "capital allowances" in boxes["29"].note
    assert boxes["31"].amount == 90_000
    assert boxes["47"].amount == 430_000
    assert report.not_allowable == [("Business meals", 8_000)]
    loss = reports.sa103f(me, currency="GBP", year=2030)
    assert {x.line for x in loss.lines} >= {"15", "31", "47"}


def test_expenses_by_category_with_shares(books):
    rows = reports.expenses_by_category(
        books, currency="USD", start=date(2025, 1, 1), end=date(2025, 12, 31)
    )
    assert [(r.key, r.amount) for r in rows] == [
        ("commissions_fees", 30_000),
        ("home_office", 20_000),
        ("software", 12_000),
        ("meals", 10_000),
    ]
    meals = rows[-1]
    assert (meals.deductible_us, meals.schedule_c, meals.uk_box) == (5_000, "24b", "")
    assert sum(r.share_bps for r in rows) <= 10_000


def test_the_csv_zip_holds_every_table_and_defuses_formulas(books):
    acme = Client.objects.create(owner=books, name="+Acme", currency="USD")
    TimeEntry.objects.create(
        owner=books,
        client=acme,
        started_at=datetime(2025, 1, 2, tzinfo=UTC),
        ended_at=datetime(2025, 1, 2, 1, 30, tzinfo=UTC),
        duration_seconds=5400,
        rate=5000,
        currency="USD",
    )
    other = UserFactory()
    add(other, "income", date(2025, 1, 1), 1, "cash")
    archive = zipfile.ZipFile(io.BytesIO(reports.export_zip(books)))
    names = set(archive.namelist())
    assert names >= {
        "README.txt",
        "entries.csv",
        "mileage.csv",
        "invoices.csv",
        "invoice_lines.csv",
        "invoice_payments.csv",
        "clients.csv",
        "time_entries.csv",
        "envelope_movements.csv",
    }

    def rows(name):
        text = archive.read(name).decode("utf-8-sig")
        return list(csv.DictReader(io.StringIO(text)))

    entries = rows("entries.csv")
    assert len(entries) == 9  # only the owner's
    software = next(r for r in entries if r["category"] == "software")
    assert software["payee"] == "'=HYPERLINK(evil)"
    assert (software["amount"], software["schedule_c_line"]) == ("120.00", "27b")
    assert rows("clients.csv")[0]["name"] == "'+Acme"
    [time_row] = rows("time_entries.csv")
    assert (time_row["hours"], time_row["rate"], time_row["client"]) == ("1.50", "50.00", "'+Acme")


def test_the_beancount_export_passes_bean_check(books, tmp_path):
    text = reports.export_beancount(books)
    entries, errors, _options = loader.load_string(text)
    assert errors == []
    assert len([e for e in entries if type(e).__name__ == "Transaction"]) == 9
    assert 'Café \\"Le Zinc\\"' in text
    assert "Income:Business:PlatformSales" in text
    assert "Assets:Business:Micromarket" in text
    path = Path(tmp_path) / "books.beancount"
    path.write_text(text)
    bean_check = Path(sys.executable).with_name("bean-check")
    result = subprocess.run(  # noqa: S603 — our own venv binary on our own file
        [str(bean_check), str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_empty_beancount_export_is_valid():
    entries, errors, _ = loader.load_string(reports.export_beancount(UserFactory()))
    assert errors == []
    assert entries == []
