"""Time pages: the timer, manual entries, the timesheet, editing, and a draft invoice from
unbilled time; another user's entry or client is 404 and nothing changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client as HttpClient
from django.urls import reverse

from micromarket.accounts.tests.factories import UserFactory
from micromarket.books.models import Client, Invoice, TimeEntry

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)


def as_user(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


@pytest.fixture
def me():
    return UserFactory()


@pytest.fixture
def acme(me):
    return Client.objects.create(owner=me, name="Acme Ltd", default_rate=7500, currency="USD")


def finished(owner, client=None, seconds=3600, **kw) -> TimeEntry:
    return TimeEntry.objects.create(
        owner=owner,
        client=client,
        started_at=datetime(2025, 3, 11, 9, tzinfo=UTC),
        ended_at=datetime(2025, 3, 11, 9, tzinfo=UTC).replace(hour=9 + seconds // 3600),
        duration_seconds=seconds,
        **kw,
    )


@time_machine.travel(NOW, tick=False)
def test_start_and_stop_the_timer_from_the_page(me, acme):
    http = as_user(me)
    page = http.get(reverse("books:time"))
    assert page.status_code == 200
    assert b"Start the timer" in page.content
    started = http.post(
        reverse("books:timer_start"),
        {"client": acme.pk, "description": "Logo", "billable": "on"},
        follow=True,
    )
    assert b"Timer started." in started.content
    assert b"Stop the timer" in started.content
    second = http.post(reverse("books:timer_start"), {"description": "Other"})
    assert second.status_code == 400  # a stale tab can still post: refused, shown
    with time_machine.travel(NOW.replace(hour=16, minute=30), tick=False):
        stopped = http.post(reverse("books:timer_stop"), follow=True)
    assert "1:30 recorded" in stopped.content.decode()
    assert TimeEntry.objects.get(owner=me).duration_seconds == 5400


@time_machine.travel(NOW, tick=False)
def test_a_second_timer_shows_a_clear_error(me, acme):
    http = as_user(me)
    http.post(reverse("books:timer_start"), {"description": "First"})
    TimeEntry.objects.update(description="First")
    response = http.post(reverse("books:timer_start"), {"description": "Second"})
    assert response.status_code == 400
    assert "A timer is already running" in response.content.decode()
    assert TimeEntry.objects.count() == 1


def test_manual_time_with_errors_next_to_fields(me, acme):
    http = as_user(me)
    bad = http.post(reverse("books:time_entry_new"), {"date": "2025-03-10", "duration": "abc"})
    assert bad.status_code == 400
    assert "Enter a duration such as 1:30" in bad.content.decode()
    ok = http.post(
        reverse("books:time_entry_new"),
        {
            "date": "2025-03-10",
            "start": "10:00",
            "duration": "1:45",
            "client": acme.pk,
            "billable": "on",
            "rate": "80",
            "description": "Research",
        },
        follow=True,
    )
    assert b"Time recorded." in ok.content
    entry = TimeEntry.objects.get()
    assert (entry.duration_seconds, entry.rate, entry.currency) == (6300, 8000, "USD")


def test_edit_and_delete_and_another_user_gets_404(me, acme):
    entry = finished(me, acme)
    intruder = as_user(UserFactory())
    edit_url = reverse("books:time_entry_edit", args=[entry.pk])
    delete_url = reverse("books:time_entry_delete", args=[entry.pk])
    assert intruder.get(edit_url).status_code == 404
    assert intruder.post(edit_url, {"date": "2025-03-10", "duration": "5:00"}).status_code == 404
    assert intruder.post(delete_url).status_code == 404
    assert intruder.post(reverse("books:time_invoice"), {"client": acme.pk}).status_code == 404
    entry.refresh_from_db()
    assert entry.duration_seconds == 3600
    assert not Invoice.objects.exists()
    http = as_user(me)
    assert http.get(edit_url).status_code == 200
    saved = http.post(
        edit_url,
        {
            "date": "2025-03-11",
            "start": "09:00",
            "duration": "2:00",
            "client": acme.pk,
            "billable": "on",
        },
    )
    assert saved.status_code == 302
    entry.refresh_from_db()
    assert entry.duration_seconds == 7200
    http.post(delete_url)
    assert not TimeEntry.objects.exists()


def test_invoice_from_tracked_time_then_the_timesheet(me, acme):
    finished(me, acme, seconds=7200, description="Design")
    http = as_user(me)
    page = http.get(reverse("books:time")).content.decode()
    assert "Acme Ltd: 2:00, $150.00" in page
    response = http.post(reverse("books:time_invoice"), {"client": acme.pk})
    invoice = Invoice.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("books:invoice_detail", args=[invoice.pk])
    assert invoice.total == 15000
    assert invoice.status == "draft"
    sheet = http.get(reverse("books:timesheet") + "?week=2025-03-10")
    assert sheet.status_code == 200
    assert "Acme Ltd" in sheet.content.decode()
    assert "2:00" in sheet.content.decode()
    assert http.get(reverse("books:timesheet") + "?week=nonsense").status_code == 200
