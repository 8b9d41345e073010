"""Reports page, API and exports: each shows only the caller's own books."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date

import pytest
from beancount import loader
from django.test import Client as HttpClient
from django.urls import reverse

from micromarket.accounts.tests.factories import UserFactory
from micromarket.books.models import Entry

pytestmark = pytest.mark.django_db

API = "/api/v1/books"


def as_user(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def add(owner, kind, day, amount, category, currency="USD"):
    return Entry.objects.create(
        owner=owner,
        kind=kind,
        date=day,
        amount=amount,
        currency=currency,
        category=category,
        payee="Somebody",
        fingerprint=f"{day}{amount}",
    )


@pytest.fixture
def me():
    user = UserFactory()
    add(user, "income", date(2025, 2, 1), 123_400, "direct_clients")
    add(user, "expense", date(2025, 2, 2), 10_000, "meals")
    add(user, "expense", date(2025, 5, 2), 4_321, "software")
    return user


def test_the_reports_page_has_chart_tables_and_exports(me):
    page = as_user(me).get(reverse("books:reports") + "?year=2025&period=quarter")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<figure class='chart'>" in html
    assert "Q1 2025" in html
    assert "$1,234.00" in html
    assert "$43.21" in html
    assert "Deductible meals" in html
    assert "50% of $100.00" in html
    assert "SA103F summary, tax year 2025/26" in html
    assert reverse("books:export_csv") in html
    assert reverse("books:export_beancount") in html
    assert as_user(me).get(reverse("books:reports") + "?year=abc&period=x").status_code == 200


def test_exports_download_only_the_callers_books(me):
    stranger = as_user(UserFactory())
    mine = as_user(me).get(reverse("books:export_csv"))
    assert mine["Content-Type"] == "application/zip"
    assert "attachment" in mine["Content-Disposition"]
    entries = zipfile.ZipFile(io.BytesIO(mine.content)).read("entries.csv").decode("utf-8-sig")
    assert entries.count("\r\n") == 4
    theirs = zipfile.ZipFile(io.BytesIO(stranger.get(reverse("books:export_csv")).content))
    assert theirs.read("entries.csv").decode("utf-8-sig").count("\r\n") == 1
    bean = as_user(me).get(reverse("books:export_beancount")).content.decode()
    assert loader.load_string(bean)[1] == []
    assert "Somebody" not in stranger.get(reverse("books:export_beancount")).content.decode()
    assert HttpClient().get(reverse("books:export_csv")).status_code == 302  # sign in first


def test_the_reports_api(me):
    http = as_user(me)
    pnl = http.get(API + "/reports/pnl?period=month&year=2025").json()
    assert pnl["currency"] == "USD"
    assert len(pnl["rows"]) == 12
    assert pnl["rows"][1]["profit"] == 123_400 - 5_000
    assert pnl["total"]["profit"] == 123_400 - 5_000 - 4_321
    lines = {x["line"]: x for x in http.get(API + "/reports/schedule-c?year=2025").json()["lines"]}
    assert lines["24b"]["amount"] == 5_000
    assert lines["31"]["amount"] == 114_079
    uk = http.get(API + "/reports/sa103f?year=2024&currency=USD").json()
    assert uk["tax_year"] == "2024/25"
    assert uk["not_allowable"] == {"Business meals": 10_000}
    cats = http.get(API + "/reports/expenses-by-category?start=2025-01-01&end=2025-12-31").json()
    assert [c["key"] for c in cats["categories"]] == ["meals", "software"]
    assert http.get(API + "/exports/csv")["Content-Type"] == "application/zip"
    assert "Expenses:Business:Meals" in http.get(API + "/exports/beancount").content.decode()
    stranger = as_user(UserFactory())
    assert stranger.get(API + "/reports/pnl?year=2025").json()["total"]["income"] == 0
    assert (
        json.loads(stranger.get(API + "/reports/expenses-by-category").content)["categories"] == []
    )
    assert HttpClient().get(API + "/reports/pnl").status_code == 401
