"""The tax area as a seller meets it: the estimate page (every figure explained, the
disclaimer), the tax profile, payments made, the API, the dashboard's next payment, and the
reminders before each due date (sent once). Another user's payment is 404 and unchanged."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from micromarket.books import taxcalc
from micromarket.books.models import Entry, TaxPayment, TaxProfile, TaxReminder
from micromarket.books.selectors import tax as selectors
from micromarket.books.services import tax as services
from micromarket.catalog.tests.factories import seller as make_seller
from micromarket.core.errors import ValidationFailed
from micromarket.messaging.models import Notification

pytestmark = pytest.mark.django_db

API = "/api/v1/books"


def at(y, m, d):
    return time_machine.travel(datetime(y, m, d, 12, 0, tzinfo=UTC), tick=False)


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def entry(owner, day, amount, kind="income", currency="USD", category=None):
    category = category or ("platform_sales" if kind == "income" else "supplies")
    return Entry.objects.create(
        owner=owner,
        kind=kind,
        date=day,
        amount=amount,
        currency=currency,
        category=category,
        fingerprint=f"{owner.pk}-{day}-{amount}-{kind}",
    )


@pytest.fixture
def us_seller():
    user = make_seller()
    services.tax_profile_update(
        owner=user,
        country="US",
        filing_status="single",
        prior_year_tax=500000,
        prior_year_agi=4000000,
    )
    entry(user, date(2025, 2, 10), 3000000)  # $30,000 income
    entry(user, date(2025, 3, 5), 500000, kind="expense")  # $5,000 supplies
    return user


# --- estimate ---------------------------------------------------------------------------------


def test_estimate_page_explains_every_figure_and_says_it_is_not_advice(us_seller):
    with at(2025, 6, 1):
        resp = as_user(us_seller).get(reverse("books:tax"))
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "Estimates, not tax advice." in html
    view = resp.context["view"]
    assert view.year == 2025
    assert view.ytd.value == 2500000
    for fig in view.figures:
        assert fig.how, fig.key
        assert f'id="fig-{fig.key}"' in html
    assert "92.35%" in html
    # Required: 100% of last year's $5,000 (smaller than 90% of this year): $1,250 a quarter.
    assert [d.amount for d in view.schedule] == [125000] * 4
    assert view.schedule[1].due_date == date(2025, 6, 16)  # 15 June 2025 is a Sunday
    assert "Rev. Proc. 2024-40" in html  # sources are cited


def test_estimate_page_explains_the_qbi_assumption_and_its_phase_in(us_seller):
    # $245,000 more income: taxable income (about $239,700) is inside the 2025 QBI phase-in
    # range ($197,300 to $247,300)
    entry(us_seller, date(2025, 3, 20), 24500000)
    with at(2025, 12, 31):
        resp = as_user(us_seller).get(reverse("books:tax"))
    html = resp.content.decode()
    assert 'data-testid="tax-qbi-note"' in html
    assert "specified service trade or business" in html
    assert "consulting, performing arts" in html
    fig = resp.context["view"].estimate.get("qbi_deduction")
    assert fig.value > 0
    assert "phase-in range" in fig.how
    assert "if your work is an SSTB it would be" in fig.how
    uk = make_seller()
    services.tax_profile_update(owner=uk, country="UK")
    with at(2025, 10, 1):
        assert "tax-qbi-note" not in as_user(uk).get(reverse("books:tax")).content.decode()


def test_estimate_page_for_an_unknown_year_is_404(us_seller):
    assert as_user(us_seller).get(reverse("books:tax") + "?year=1999").status_code == 404
    assert as_user(us_seller).get(reverse("books:tax") + "?year=x").status_code == 404


def test_estimate_page_needs_login():
    resp = Client().get(reverse("books:tax"))
    assert resp.status_code == 302
    assert "login" in resp.url


def test_a_seller_without_a_profile_gets_a_default_estimate():
    user = make_seller()
    with at(2026, 5, 1):
        resp = as_user(user).get(reverse("books:tax"))
    assert resp.status_code == 200
    assert "You have not filled in your tax profile" in resp.content.decode()
    assert not TaxProfile.objects.filter(owner=user).exists()


def test_uk_estimate_uses_the_uk_tax_year_and_payments_on_account():
    user = make_seller()
    services.tax_profile_update(owner=user, country="UK", uk_last_year_bill=300000)
    entry(user, date(2025, 5, 1), 2000000, currency="GBP")
    entry(user, date(2025, 4, 5), 9999999, currency="GBP")  # the previous tax year
    with at(2025, 10, 1):
        view = selectors.estimate_for(user)
    assert view.label == "2025/26"
    assert view.currency == "GBP"
    assert view.ytd.value == 2000000
    assert {d.period: d.amount for d in view.schedule}["POA1"] == 150000
    assert "blended with last year's profit" in view.projected.how


def test_entries_in_other_currencies_are_named_not_counted(us_seller):
    entry(us_seller, date(2025, 2, 1), 100000, currency="EUR")
    with at(2025, 6, 1):
        view = selectors.estimate_for(us_seller)
    assert view.ytd.value == 2500000
    assert view.other_currencies == ["EUR"]


# --- profile ----------------------------------------------------------------------------------


def test_profile_page_saves_and_shows_errors_next_to_fields():
    user = make_seller()
    client = as_user(user)
    assert client.get(reverse("books:tax_profile")).status_code == 200
    data = {
        "country": "US",
        "filing_status": "hoh",
        "other_wages": "12000.50",
        "withholding": "900",
        "prior_year_tax": "",
        "prior_year_agi": "",
        "prior_year_full_year": "on",
        "uk_other_income": "",
        "uk_tax_deducted": "",
        "uk_last_year_bill": "",
        "uk_last_year_collected_at_source": "",
        "reminder_days": "10",
    }
    resp = client.post(reverse("books:tax_profile"), data)
    assert resp.status_code == 302
    profile = TaxProfile.objects.get(owner=user)
    assert (profile.filing_status, profile.other_wages, profile.reminder_days) == (
        "hoh",
        1200050,
        10,
    )
    assert profile.prior_year_tax is None
    bad = client.post(reverse("books:tax_profile"), {**data, "withholding": "-5"})
    assert bad.status_code == 400
    assert bad.context["form"].errors["withholding"]
    assert TaxProfile.objects.get(owner=user).withholding == 90000


# --- payments ---------------------------------------------------------------------------------


def test_recording_a_payment_reduces_what_is_still_due(us_seller):
    client = as_user(us_seller)
    with at(2025, 6, 1):
        resp = client.post(
            reverse("books:tax_payments"),
            {"tax_year": "2025", "period": "Q1", "date": "2025-04-14", "amount": "1250"},
        )
        assert resp.status_code == 302
        view = selectors.estimate_for(us_seller)
        page = client.get(reverse("books:tax_payments"))
    assert [(d.paid, d.remaining) for d in view.schedule][:2] == [(125000, 0), (0, 125000)]
    assert "$1,250.00" in page.content.decode()
    nxt = selectors.next_payment(us_seller, today=date(2025, 6, 1))
    assert (nxt.due_date, nxt.amount) == (date(2025, 6, 16), 125000)


def test_a_payment_in_the_future_or_not_positive_is_refused(us_seller):
    client = as_user(us_seller)
    with at(2025, 6, 1):
        resp = client.post(
            reverse("books:tax_payments"),
            {"tax_year": "2025", "period": "Q2", "date": "2025-06-20", "amount": "100"},
        )
        assert resp.status_code == 400
        assert resp.context["form"].errors["date"]
        resp = client.post(
            reverse("books:tax_payments"),
            {"tax_year": "2025", "period": "Q2", "date": "2025-05-20", "amount": "0"},
        )
        assert resp.status_code == 400
        resp = client.post(
            reverse("books:tax_payments"),
            {"tax_year": "2025", "period": "POA1", "date": "2025-05-20", "amount": "10"},
        )
        assert resp.status_code == 400
    assert not TaxPayment.objects.exists()


def test_another_users_payment_is_404_and_unchanged(us_seller):
    with at(2025, 6, 1):
        payment = services.tax_payment_record(
            owner=us_seller, tax_year=2025, period="Q1", date=date(2025, 4, 1), amount=5000
        )
    other = as_user(make_seller())
    resp = other.post(reverse("books:tax_payment_delete", args=[payment.pk]))
    assert resp.status_code == 404
    assert other.get(f"{API}/tax/payments/{payment.pk}").status_code == 404
    assert other.delete(f"{API}/tax/payments/{payment.pk}").status_code == 404
    assert other.get(f"{API}/tax/payments").json()["items"] == []
    assert TaxPayment.objects.filter(pk=payment.pk, amount=5000).exists()
    # the owner can delete it
    assert (
        as_user(us_seller).post(reverse("books:tax_payment_delete", args=[payment.pk])).status_code
        == 302
    )
    assert not TaxPayment.objects.filter(pk=payment.pk).exists()


# --- API --------------------------------------------------------------------------------------


def test_api_profile_get_and_put():
    user = make_seller()
    client = as_user(user)
    body = client.get(f"{API}/tax/profile").json()
    assert body["country"] == "US"
    assert body["currency"] == "USD"
    resp = client.put(
        f"{API}/tax/profile",
        json.dumps({"country": "UK", "uk_last_year_bill": 250000}),
        content_type="application/json",
    )
    assert resp.status_code == 200
    assert resp.json()["currency"] == "GBP"
    assert resp.json()["uk_last_year_bill"] == 250000
    bad = client.put(
        f"{API}/tax/profile",
        json.dumps({"filing_status": "widow"}),
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert bad.headers["Content-Type"].startswith("application/problem+json")
    assert TaxProfile.objects.get(owner=user).country == "UK"


def test_api_estimate_and_payments(us_seller):
    client = as_user(us_seller)
    with at(2025, 6, 1):
        est = client.get(f"{API}/tax/estimate").json()
        created = client.post(
            f"{API}/tax/payments",
            json.dumps({"tax_year": 2025, "period": "Q1", "date": "2025-04-15", "amount": 125000}),
            content_type="application/json",
        )
        nxt = client.get(f"{API}/tax/next-payment").json()
    assert est["year"] == 2025
    assert "not tax advice" in est["disclaimer"]
    assert {f["key"] for f in est["figures"]} >= {"se_tax", "income_tax", "required_payment"}
    assert all(f["how"] for f in est["figures"])
    assert est["schedule"][1]["due_date"] == "2025-06-16"
    assert created.status_code == 201
    assert created.json()["currency"] == "USD"
    assert nxt["due_date"] == "2025-06-16"
    assert nxt["amount"] == 125000
    listed = client.get(f"{API}/tax/payments").json()
    assert [p["id"] for p in listed["items"]] == [created.json()["id"]]
    assert client.get(f"{API}/tax/estimate?year=1999").status_code == 404


def test_api_needs_authentication():
    assert Client().get(f"{API}/tax/estimate").status_code == 401


# --- dashboard selector and reminders ---------------------------------------------------------


def test_next_payment_is_none_without_any_tax_due():
    user = make_seller()
    assert selectors.next_payment(user, today=date(2025, 6, 1)) is None


def test_next_payment_in_january_is_last_years_fourth_installment(us_seller):
    nxt = selectors.next_payment(us_seller, today=date(2026, 1, 5))
    assert nxt.due_date == date(2026, 1, 15)
    assert nxt.tax_year == 2025


def test_reminder_is_sent_once_before_each_due_date(us_seller):
    with at(2025, 6, 5):  # 11 days before 16 June: outside the 7-day window
        assert services.tax_reminders_send() == 0
    with at(2025, 6, 10):
        assert services.tax_reminders_send() == 1
        assert services.tax_reminders_send() == 0  # once
    with at(2025, 6, 12):
        assert services.tax_reminders_send() == 0
    reminder = TaxReminder.objects.get(owner=us_seller)
    assert (reminder.due_date, reminder.period) == (date(2025, 6, 16), "due")
    note = Notification.objects.get(user=us_seller, category="books")
    assert "16 June 2025" in note.title
    assert "$1,250.00" in note.title
    assert note.url == reverse("books:tax")
    with at(2025, 9, 10):
        assert services.tax_reminders_send() == 1  # the next due date gets its own
    assert TaxReminder.objects.filter(owner=us_seller).count() == 2


def _in_zone(user, zone):
    user.timezone = zone
    user.save(update_fields=["timezone"])
    return user


def test_reminder_window_counts_in_the_sellers_own_days(us_seller):
    # Q2 2025 is due Monday 16 June; the 7-day window opens on 9 June in the seller's zone
    _in_zone(us_seller, "America/Los_Angeles")
    # 03:30 UTC on 9 June is still 8 June, 20:30 in Los Angeles: not yet
    with time_machine.travel(datetime(2025, 6, 9, 3, 30, tzinfo=UTC), tick=False):
        assert selectors.today_for(us_seller) == date(2025, 6, 8)
        assert services.tax_reminders_send() == 0
    # 07:30 UTC is 00:30 on 9 June in Los Angeles: reminded
    with time_machine.travel(datetime(2025, 6, 9, 7, 30, tzinfo=UTC), tick=False):
        assert services.tax_reminders_send() == 1
    assert TaxReminder.objects.get(owner=us_seller).due_date == date(2025, 6, 16)


def test_a_seller_ahead_of_utc_is_reminded_on_their_local_day(us_seller):
    _in_zone(us_seller, "Asia/Tokyo")
    # 23:30 UTC on 8 June, the day before the window, is already 9 June 08:30 in Tokyo
    with time_machine.travel(datetime(2025, 6, 8, 23, 30, tzinfo=UTC), tick=False):
        assert services.tax_reminders_send() == 1
    other = _in_zone(make_seller(), "America/Los_Angeles")
    services.tax_profile_update(owner=other, country="US", prior_year_tax=500000)
    entry(other, date(2025, 2, 10), 3000000)
    with time_machine.travel(datetime(2025, 6, 8, 23, 30, tzinfo=UTC), tick=False):
        assert services.tax_reminders_send() == 0  # 16:30 on 8 June in Los Angeles
    assert not TaxReminder.objects.filter(owner=other).exists()


def test_an_unknown_time_zone_counts_in_utc(us_seller):
    _in_zone(us_seller, "Not/AZone")
    moment = datetime(2025, 6, 8, 23, 30, tzinfo=UTC)
    assert selectors.today_for(us_seller, now=moment) == date(2025, 6, 8)


def test_next_payment_days_left_counts_from_the_sellers_day(us_seller):
    _in_zone(us_seller, "America/Los_Angeles")
    with time_machine.travel(datetime(2025, 6, 9, 3, 30, tzinfo=UTC), tick=False):
        nxt = selectors.next_payment(us_seller)
    assert nxt.due_date == date(2025, 6, 16)
    assert nxt.days_left == 8  # from 8 June in Los Angeles


def test_uk_reminder_is_sent_once_per_due_date_when_what_is_due_changes():
    # 31 January 2027: the 2025/26 balancing payment and the 1st payment on account for 2026/27
    user = make_seller()
    services.tax_profile_update(owner=user, country="UK", uk_last_year_bill=300000)
    with at(2027, 1, 25):
        assert services.tax_reminders_send() == 1
        first = selectors.next_payment(user)
        assert first.periods[0] == "prev_bal"
        # the seller pays last year's balance: only the payment on account is left that day
        services.tax_payment_record(
            owner=user, tax_year=2025, period="balancing", date=date(2027, 1, 25), amount=300000
        )
        left = selectors.next_payment(user)
        assert left.due_date == date(2027, 1, 31)
        assert left.periods == ("POA1",)
        assert services.tax_reminders_send() == 0
    with at(2027, 1, 28):
        assert services.tax_reminders_send() == 0
    reminder = TaxReminder.objects.get(owner=user)
    assert (reminder.due_date, reminder.period) == (date(2027, 1, 31), "due")
    assert Notification.objects.filter(user=user, category="books").count() == 1


def test_a_reminder_recorded_under_a_period_code_is_not_sent_again(us_seller):
    # reminders recorded before they were keyed on the due date alone carry the period code
    TaxReminder.objects.create(owner=us_seller, due_date=date(2025, 6, 16), period="Q2")
    with at(2025, 6, 10):
        assert services.tax_reminders_send() == 0


def test_a_payment_dated_today_in_the_sellers_zone_is_accepted(us_seller):
    _in_zone(us_seller, "Asia/Tokyo")
    # 20:00 UTC on 9 June is already 10 June in Tokyo
    with time_machine.travel(datetime(2025, 6, 9, 20, 0, tzinfo=UTC), tick=False):
        payment = services.tax_payment_record(
            owner=us_seller, tax_year=2025, period="Q2", date=date(2025, 6, 10), amount=100000
        )
    assert payment.date == date(2025, 6, 10)


def test_no_reminder_for_a_paid_installment(us_seller):
    with at(2025, 6, 9):
        services.tax_payment_record(
            owner=us_seller, tax_year=2025, period="Q2", date=date(2025, 6, 8), amount=250000
        )
    with at(2025, 6, 10):
        assert services.tax_reminders_send() == 0


def test_the_reminders_job_is_registered():
    from micromarket.books import jobs

    with at(2025, 6, 10):
        assert jobs.tax_reminders(now=datetime(2025, 6, 10, 12, tzinfo=UTC)) == 0


def test_explained_money_format():
    assert taxcalc.fmt(123456789) == "$1,234,567.89"
    assert taxcalc.fmt(-5, "GBP") == "-£0.05"


def test_demo_is_idempotent():
    import io

    from micromarket.books import demo_tax

    priya = make_seller(email="priya@demo.micromarket.test")
    sam = make_seller(email="sam@demo.micromarket.test")
    with at(2026, 11, 21):
        lines = demo_tax.build(stdout=io.StringIO())
        counts = (TaxProfile.objects.count(), TaxPayment.objects.count())
        demo_tax.build(stdout=io.StringIO())
        assert (TaxProfile.objects.count(), TaxPayment.objects.count()) == counts
        assert counts == (2, 3)
        assert lines
        assert "/books/taxes/" in lines[0]
        assert selectors.estimate_for(sam).country == "UK"
        assert selectors.estimate_for(priya).estimate.value("paid") == 160000


def test_uk_pages_show_payments_on_account_and_their_dates():
    user = make_seller()
    services.tax_profile_update(owner=user, country="UK", uk_last_year_bill=300000)
    client = as_user(user)
    with at(2025, 10, 1):
        estimate = client.get(reverse("books:tax")).content.decode()
        payments = client.get(reverse("books:tax_payments")).content.decode()
    assert "1st payment on account for 2025/26" in estimate
    # nothing recorded for 2024/25: its whole £3,000 bill + the 1st payment on account £1,500
    assert "31 January 2026: £4,500.00" in estimate
    assert "Balancing payment" in payments  # the UK choices
    with at(2025, 10, 1), pytest.raises(ValidationFailed):
        services.tax_payment_record(
            owner=user, tax_year=2024, period="POA1", date=date(2025, 1, 30), amount=90000
        )
