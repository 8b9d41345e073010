"""Time over the API: entries CRUD, the timer (409 when one runs), the timesheet, effective
rates, a draft invoice from time — and another user gets 404 on every object, changing
nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.test import Client as HttpClient

from micromarket.accounts.tests.factories import UserFactory
from micromarket.books.models import Client, Invoice, TimeEntry

pytestmark = pytest.mark.django_db

API = "/api/v1/books"


def as_user(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def send(http, method, path, body=None):
    return getattr(http, method)(
        API + path, json.dumps(body or {}), content_type="application/json"
    )


def test_entries_crud_and_the_timer():
    me = UserFactory()
    acme = Client.objects.create(owner=me, name="Acme", default_rate=9000, currency="USD")
    http = as_user(me)
    created = send(
        http,
        "post",
        "/time-entries",
        {
            "client_id": acme.pk,
            "started_at": "2025-03-10T09:00:00Z",
            "duration_seconds": 3600,
            "description": "Wireframes",
        },
    )
    assert created.status_code == 201, created.content
    entry = created.json()
    assert (entry["currency"], entry["billable"], entry["rate"]) == ("USD", True, None)
    listed = http.get(API + "/time-entries").json()
    assert listed["count"] == 1
    patched = send(http, "patch", f"/time-entries/{entry['id']}", {"duration_seconds": 1800})
    assert patched.json()["ended_at"].startswith("2025-03-10T09:30")
    started = send(http, "post", "/timer/start", {"description": "Call"})
    assert started.status_code == 201
    again = send(http, "post", "/timer/start", {"description": "Other"})
    assert again.status_code == 409
    assert again.json()["code"] == "timer_running"
    assert "already running" in again.json()["detail"]
    assert http.get(API + "/timer").json()["id"] == started.json()["id"]
    stopped = send(http, "post", "/timer/stop")
    assert stopped.status_code == 200
    assert stopped.json()["ended_at"]
    assert send(http, "post", "/timer/stop").json()["code"] == "no_timer"
    assert http.delete(f"{API}/time-entries/{stopped.json()['id']}").status_code == 204
    too_long = send(
        http,
        "post",
        "/time-entries",
        {
            "started_at": "2025-03-10T09:00:00Z",
            "duration_seconds": 90000,
        },
    )
    assert too_long.status_code == 422


def test_another_user_gets_404_on_every_time_object_and_nothing_changes():
    owner, intruder = UserFactory(), UserFactory()
    acme = Client.objects.create(owner=owner, name="Acme", default_rate=9000, currency="USD")
    entry = TimeEntry.objects.create(
        owner=owner,
        client=acme,
        started_at=datetime(2025, 3, 10, 9, tzinfo=UTC),
        ended_at=datetime(2025, 3, 10, 10, tzinfo=UTC),
        duration_seconds=3600,
    )
    http = as_user(intruder)
    assert http.get(f"{API}/time-entries/{entry.pk}").status_code == 404
    assert send(http, "patch", f"/time-entries/{entry.pk}", {"project": "x"}).status_code == 404
    assert http.delete(f"{API}/time-entries/{entry.pk}").status_code == 404
    assert (
        send(
            http,
            "post",
            "/time-entries",
            {
                "client_id": acme.pk,
                "started_at": "2025-03-10T09:00:00Z",
                "duration_seconds": 60,
            },
        ).status_code
        == 404
    )
    assert send(http, "post", "/timer/start", {"client_id": acme.pk}).status_code == 404
    assert send(http, "post", "/time/invoice", {"client_id": acme.pk}).status_code == 404
    assert http.get(API + "/time-entries").json()["count"] == 0
    assert http.get(API + "/time/effective-rates").json() == {"clients": [], "offers": []}
    assert http.get(API + "/timesheet?week=2025-03-10").json()["total"] == 0
    entry.refresh_from_db()
    assert (entry.project, entry.invoice_line_id, entry.duration_seconds) == ("", None, 3600)
    assert TimeEntry.objects.count() == 1
    assert not Invoice.objects.exists()


def test_timesheet_rates_and_a_draft_invoice_from_time():
    me = UserFactory()
    acme = Client.objects.create(owner=me, name="Acme", default_rate=9000, currency="USD")
    http = as_user(me)
    for start in ("2025-03-10T09:00:00Z", "2025-03-11T09:00:00Z"):
        send(
            http,
            "post",
            "/time-entries",
            {
                "client_id": acme.pk,
                "started_at": start,
                "duration_seconds": 5400,
                "description": "Build",
            },
        )
    sheet = http.get(API + "/timesheet?week=2025-03-12").json()
    assert sheet["week_start"] == "2025-03-10"
    assert sheet["rows"][0]["seconds"][:2] == [5400, 5400]
    assert sheet["total"] == 10800
    rates = http.get(API + "/time/effective-rates").json()
    assert rates["clients"][0]["seconds"] == 10800
    assert rates["clients"][0]["per_hour"] == {}
    made = send(http, "post", "/time/invoice", {"client_id": acme.pk})
    assert made.status_code == 201, made.content
    assert (made.json()["status"], made.json()["total"]) == ("draft", 27000)
    assert http.get(API + "/time-entries?unbilled=true").json()["count"] == 0
    billed = TimeEntry.objects.first()
    frozen = send(http, "patch", f"/time-entries/{billed.pk}", {"project": "x"})
    assert frozen.status_code == 409
    assert frozen.json()["code"] == "time_entry_billed"
