"""Income trends and the dashboard: monthly income, 3/6/12-month averages, coefficient of
variation, best and worst months, runway, income by source; the dashboard's charts."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from micromarket.accounts.tests.factories import UserFactory
from micromarket.books.models import Entry
from micromarket.books.selectors import budget as budget_selectors
from micromarket.books.selectors import insights as selectors
from micromarket.books.services import budget as budget_services

pytestmark = pytest.mark.django_db

TODAY = date(2025, 7, 15)


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def entry(owner, day, amount, *, kind="income", source="manual", category=None, currency="USD"):
    e = Entry.objects.create(
        owner=owner,
        kind=kind,
        date=day,
        amount=amount,
        currency=currency,
        category=category or ("direct_clients" if kind == "income" else "software"),
        source=source,
        fingerprint=f"{day}{amount}",
    )
    if kind == "income":
        budget_services.income_allocate(entry=e)
    return e


def six_months(owner):
    """Jan–Jun 2025: income 1000, 2000, 3000, 4000, 5000, 6000 dollars; 500 spent a month."""
    for i in range(6):
        entry(owner, date(2025, i + 1, 10), (i + 1) * 100000)
        entry(owner, date(2025, i + 1, 12), 50000, kind="expense")


def test_averages_variation_best_worst_and_runway():
    owner = UserFactory()
    six_months(owner)
    entry(owner, date(2025, 7, 2), 999999)  # the current month: shown, never averaged
    data = selectors.insights_for(owner, currency="USD", today=TODAY)
    assert len(data.months) == 13
    assert data.months[-1].partial
    assert data.months[-1].income == 999999
    assert [(a.window, a.months, a.income) for a in data.averages] == [
        (3, 3, 500000),
        (6, 6, 350000),
        (12, 6, 350000),  # only six complete months since the first entry
    ]
    # population sd of 1..6 = 1.7078; / 3.5 = 48.8%
    assert data.cv_percent == Decimal("48.8")
    assert data.cv_label == "very variable"
    assert data.best.start == date(2025, 6, 1)
    assert data.best.income == 600000
    assert data.worst.start == date(2025, 1, 1)
    # The emergency envelope got 10% of every income (310,000 after rounding).
    emergency = budget_selectors.emergency_balance(owner, "USD")
    assert data.runway.emergency == emergency == 310000
    assert data.runway.monthly_spending == 50000
    assert data.runway.months == Decimal("6.2")
    assert dict(data.by_source) == {"micromarket": 0, "Outside micromarket": 3099999}


def test_a_new_seller_has_no_averages_or_runway_yet():
    owner = UserFactory()
    entry(owner, date(2025, 7, 1), 10000)
    data = selectors.insights_for(owner, currency="USD", today=TODAY)
    assert [a.months for a in data.averages] == [0, 0, 0]
    assert data.cv_percent is None
    assert data.best is None
    assert data.runway.months is None


def test_income_by_source_and_category():
    owner = UserFactory()
    entry(owner, date(2025, 5, 1), 30000, source="platform", category="platform_sales")
    entry(owner, date(2025, 5, 2), 5000, source="platform", category="tips")
    entry(owner, date(2025, 5, 3), 20000, source="invoice", category="direct_clients")
    data = selectors.insights_for(owner, currency="USD", today=TODAY)
    assert dict(data.by_source) == {"micromarket": 35000, "Outside micromarket": 20000}
    assert data.by_category[0] == ("Sales on micromarket", 30000)


@time_machine.travel("2025-07-15 12:00Z", tick=False)
def test_the_insights_page():
    owner = UserFactory()
    six_months(owner)
    page = as_user(owner).get(reverse("books:insights"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "3-month average" in html
    assert "$5,000.00" in html
    assert "48.8%" in html
    assert "very variable" in html
    assert "Jun 2025" in html
    assert "Jul 2025 (so far)" in html
    assert 'data-testid="runway">' in html
    assert "<svg" in html


@time_machine.travel("2025-07-15 12:00Z", tick=False)
def test_the_insights_api():
    owner = UserFactory()
    six_months(owner)
    body = as_user(owner).get("/api/v1/books/insights?currency=USD").json()
    assert body["coefficient_of_variation_percent"] == "48.8"
    assert body["best_month"]["month"] == "2025-06-01"
    assert [a["income"] for a in body["averages"]] == [500000, 350000, 350000]
    assert body["runway"]["monthly_spending"] == 50000
    assert json.dumps(body)  # serialisable


def test_insights_are_each_sellers_own():
    owner, other = UserFactory(), UserFactory()
    six_months(owner)
    body = as_user(other).get("/api/v1/books/insights?currency=USD").json()
    assert all(m["income"] == 0 for m in body["months"])
    html = as_user(other).get(reverse("books:insights")).content.decode()
    assert "$6,000.00" not in html


@time_machine.travel("2025-07-15 12:00Z", tick=False)
def test_the_dashboard_shows_income_envelopes_and_year_to_date():
    owner = UserFactory()
    six_months(owner)
    page = as_user(owner).get(reverse("books:dashboard"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Tax year 2025 so far" in html
    assert "$21,000.00" in html  # income Jan–Jun
    assert "Income and expenses by month" in html
    assert "What each envelope holds" in html
    assert "Next tax payment" in html
    assert 'data-testid="safe-to-spend"' in html


def test_the_dashboard_of_a_new_seller():
    owner = UserFactory()
    page = as_user(owner).get(reverse("books:dashboard"))
    assert page.status_code == 200
    assert "Your books are empty for now" in page.content.decode()


def test_the_dashboard_says_nothing_is_due_when_the_estimate_needs_no_payment():
    from micromarket.books.models import TaxProfile

    owner = UserFactory()
    TaxProfile.objects.create(owner=owner, country="US")  # no income: no tax, nothing due
    page = as_user(owner).get(reverse("books:dashboard"))
    html = page.content.decode()
    assert "Nothing to pay: by your estimate no tax payment is coming due" in html
    assert "Set up your tax profile" not in html
