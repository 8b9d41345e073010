"""Time tracking: one timer per user, manual entries, frozen billed time, the weekly timesheet,
unbilled time to a draft invoice, and effective hourly rates per client and per offer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from micromarket.accounts.tests.factories import UserFactory
from micromarket.books.models import Client, Entry, Invoice, InvoicePayment, TimeEntry
from micromarket.books.selectors import time as selectors
from micromarket.books.services import time as services
from micromarket.catalog.tests.factories import make_offer
from micromarket.catalog.tests.factories import seller as make_seller
from micromarket.core.errors import Conflict, NotFound, ValidationFailed

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)  # a Monday


def client_of(owner, name="Acme", rate=6000, currency="USD") -> Client:
    return Client.objects.create(owner=owner, name=name, default_rate=rate, currency=currency)


def manual(owner, *, at=T0, seconds=3600, **kw) -> TimeEntry:
    return services.time_entry_create(owner=owner, started_at=at, duration_seconds=seconds, **kw)


def test_the_timer_runs_once_and_stops_with_its_duration():
    me = UserFactory()
    acme = client_of(me)
    entry = services.timer_start(owner=me, client_id=acme.pk, description="Logo", now=T0)
    assert entry.ended_at is None
    assert entry.currency == "USD"
    with pytest.raises(Conflict) as exc:
        services.timer_start(owner=me, description="Another", now=T0 + timedelta(minutes=5))
    assert exc.value.code == "timer_running"
    assert "already running (Acme)" in exc.value.message
    assert TimeEntry.objects.filter(owner=me).count() == 1
    stopped = services.timer_stop(owner=me, now=T0 + timedelta(minutes=95, seconds=20))
    assert stopped.duration_seconds == 95 * 60 + 20
    with pytest.raises(NotFound) as exc:
        services.timer_stop(owner=me)
    assert exc.value.code == "no_timer"
    # Another user's timer is theirs: both may run.
    services.timer_start(owner=UserFactory(), now=T0)
    services.timer_start(owner=me, now=T0 + timedelta(hours=3))
    assert TimeEntry.objects.filter(ended_at__isnull=True).count() == 2


def test_the_database_refuses_a_second_running_timer():
    """Even past the service's check (two tabs at once), the constraint holds."""
    from django.db import IntegrityError, transaction

    me = UserFactory()
    services.timer_start(owner=me, now=T0)
    with pytest.raises(IntegrityError), transaction.atomic():
        TimeEntry.objects.create(owner=me, started_at=T0)


def test_manual_entries_check_duration_client_and_offer_ownership():
    me, other = UserFactory(), UserFactory()
    theirs = client_of(other)
    with pytest.raises(ValidationFailed) as exc:
        manual(me, seconds=25 * 3600)
    assert exc.value.field == "duration"
    with pytest.raises(NotFound):
        manual(me, client_id=theirs.pk)
    their_offer = make_offer()
    with pytest.raises(NotFound):
        manual(me, offer_id=their_offer.pk)
    with pytest.raises(ValidationFailed) as exc:
        manual(me, rate=5000)  # a rate needs a currency (no client, no offer)
    assert exc.value.field == "currency"
    assert not TimeEntry.objects.filter(owner=me).exists()
    entry = manual(me, seconds=5400, project="Website", rate=5000, currency="eur")
    assert (entry.currency, entry.ended_at - entry.started_at) == ("EUR", timedelta(hours=1.5))


def test_updates_and_deletes_are_owner_only_and_billed_time_is_frozen():
    me, other = UserFactory(), UserFactory()
    entry = manual(me, client_id=client_of(me).pk)
    with pytest.raises(NotFound):
        services.time_entry_update(owner=other, pk=entry.pk, description="mine now")
    with pytest.raises(NotFound):
        services.time_entry_delete(owner=other, pk=entry.pk)
    updated = services.time_entry_update(owner=me, pk=entry.pk, duration_seconds=1800)
    assert updated.ended_at == T0 + timedelta(minutes=30)
    invoice = services.time_invoice_create(owner=me, client_id=entry.client_id)
    with pytest.raises(Conflict) as exc:
        services.time_entry_update(owner=me, pk=entry.pk, description="changed")
    assert exc.value.code == "time_entry_billed"
    with pytest.raises(Conflict):
        services.time_entry_delete(owner=me, pk=entry.pk)
    assert invoice.lines.count() == 1


def test_unbilled_time_becomes_one_draft_invoice_with_hour_lines():
    me = UserFactory()
    acme = client_of(me, rate=8000)
    manual(me, client_id=acme.pk, description="Design", seconds=5400)
    manual(me, client_id=acme.pk, description="Design", seconds=1800, at=T0 + timedelta(days=1))
    manual(me, client_id=acme.pk, description="Call", seconds=900, billable=False)
    groups = selectors.unbilled_by_client(me)
    assert [(g.client.name, g.seconds, g.value) for g in groups] == [("Acme", 7200, 16000)]
    invoice = services.time_invoice_create(owner=me, client_id=acme.pk)
    assert invoice.status == Invoice.Status.DRAFT
    line = invoice.lines.get()
    assert (line.quantity, line.unit, line.unit_price, line.amount) == (2, "HUR", 8000, 16000)
    assert invoice.total == 16000
    assert selectors.unbilled_by_client(me) == []
    with pytest.raises(ValidationFailed) as exc:
        services.time_invoice_create(owner=me, client_id=acme.pk)
    assert exc.value.code == "no_unbilled_time"


def test_invoicing_refuses_time_without_a_rate_and_leaves_no_draft():
    me = UserFactory()
    acme = client_of(me, rate=None)
    manual(me, client_id=acme.pk)
    with pytest.raises(ValidationFailed):
        services.time_invoice_create(owner=me, client_id=acme.pk)
    assert not Invoice.objects.exists()
    assert TimeEntry.objects.get().invoice_line is None


def test_invoicing_another_users_client_or_time_is_not_found():
    me, other = UserFactory(), UserFactory()
    theirs = client_of(other)
    their_entry = manual(other, client_id=theirs.pk)
    mine = client_of(me)
    with pytest.raises(NotFound):
        services.time_invoice_create(owner=me, client_id=theirs.pk)
    with pytest.raises(NotFound):
        services.time_invoice_create(owner=me, client_id=mine.pk, entry_ids=[their_entry.pk])
    assert not Invoice.objects.exists()


def test_the_timesheet_counts_days_in_the_users_time_zone():
    me = UserFactory()
    acme = client_of(me)
    # 23:30 UTC on Sunday 9 March is Monday 10 March, 00:30 in Berlin (UTC+1).
    manual(me, at=datetime(2025, 3, 9, 23, 30, tzinfo=UTC), client_id=acme.pk, seconds=3600)
    manual(me, at=datetime(2025, 3, 12, 10, 0, tzinfo=UTC), project="Blog", seconds=1800)
    manual(
        me, at=datetime(2025, 3, 12, 12, 0, tzinfo=UTC), project="Blog", seconds=900, billable=False
    )
    berlin = selectors.timesheet(me, week_start=date(2025, 3, 13), tz=ZoneInfo("Europe/Berlin"))
    assert berlin.week_start == date(2025, 3, 10)
    assert [(r.label, r.seconds) for r in berlin.rows] == [
        ("Acme", [3600, 0, 0, 0, 0, 0, 0]),
        ("Blog", [0, 0, 2700, 0, 0, 0, 0]),
    ]
    assert (berlin.total, berlin.billable) == (6300, 5400)
    utc = selectors.timesheet(me, week_start=date(2025, 3, 10), tz=UTC)
    assert utc.total == 2700  # the Sunday-evening hour belongs to the week before in UTC


def test_tracked_seconds_filters_by_client_offer_and_dates():
    me = make_seller()
    acme = client_of(me)
    offer = make_offer(owner=me)
    manual(me, client_id=acme.pk, seconds=3600)
    manual(me, offer_id=offer.pk, seconds=1200, at=T0 + timedelta(days=40))
    services.timer_start(owner=me, client_id=acme.pk, now=T0 + timedelta(days=41))
    assert selectors.tracked_seconds(me) == 4800  # the running timer is not counted yet
    assert selectors.tracked_seconds(me, client=acme) == 3600
    assert selectors.tracked_seconds(me, offer=offer) == 1200
    assert selectors.tracked_seconds(me, start=date(2025, 4, 1)) == 1200
    assert selectors.tracked_seconds(me, end=date(2025, 3, 31)) == 3600


def test_effective_rate_per_client_is_payments_over_hours():
    me = UserFactory()
    acme = client_of(me)
    manual(me, client_id=acme.pk, seconds=3 * 3600)
    invoice = Invoice.objects.create(owner=me, client=acme, currency="USD", public_token="t1")
    InvoicePayment.objects.create(invoice=invoice, date=date(2025, 3, 20), amount=20000)
    InvoicePayment.objects.create(invoice=invoice, date=date(2025, 3, 25), amount=10000)
    [rate] = selectors.client_effective_rates(me)
    assert (rate.label, rate.seconds, rate.earned) == ("Acme", 10800, {"USD": 30000})
    assert rate.per_hour() == {"USD": 10000}
    assert selectors.client_effective_rates(UserFactory()) == []


def test_effective_rate_per_offer_is_net_platform_earnings_over_hours(monkeypatch):
    """Platform entries ``ledger:<txn>:income`` / ``:fee`` → the transaction's reference
    ``order:<id>`` → the order's offer (ledger and orders selectors)."""
    me = make_seller()
    offer, other_offer = make_offer(owner=me), make_offer(owner=me)
    manual(me, offer_id=offer.pk, seconds=2 * 3600)
    manual(me, offer_id=other_offer.pk, seconds=3600)

    def platform(ref, kind, amount, category):
        Entry.objects.create(
            owner=me,
            kind=kind,
            date=date(2025, 3, 1),
            amount=amount,
            currency="USD",
            category=category,
            source=Entry.Source.PLATFORM,
            source_ref=ref,
            fingerprint=ref,
        )

    platform("ledger:11:income", "income", 10000, "platform_sales")
    platform("ledger:11:fee", "expense", 1000, "commissions_fees")
    platform("ledger:12:income", "income", 500, "tips")
    platform("ledger:13:income", "income", 7000, "platform_sales")  # another offer's order
    from micromarket.ledger import selectors as ledger_selectors
    from micromarket.orders import selectors as orders_selectors

    monkeypatch.setattr(
        ledger_selectors,
        "transaction_references",
        lambda *, ids: {11: "order:5", 12: "order:5", 13: "order:6"},
    )
    monkeypatch.setattr(
        orders_selectors, "order_offer_ids", lambda *, order_ids: {5: offer.pk, 6: 999_999}
    )
    rates = {r.key: r for r in selectors.offer_effective_rates(me)}
    assert rates[offer.pk].earned == {"USD": 9500}
    assert rates[offer.pk].per_hour() == {"USD": 4750}
    assert rates[other_offer.pk].earned == {}
    assert rates[other_offer.pk].per_hour() == {}


def test_the_new_ledger_and_orders_selectors_map_references():
    from micromarket.ledger import selectors as ledger_selectors
    from micromarket.orders import selectors as orders_selectors

    assert ledger_selectors.transaction_references(ids=[]) == {}
    assert orders_selectors.order_offer_ids(order_ids=[123456]) == {}


@time_machine.travel(T0, tick=False)
def test_a_running_timers_time_so_far():
    me = UserFactory()
    entry = services.timer_start(owner=me, now=T0 - timedelta(minutes=10))
    assert selectors.entry_seconds(entry) == 600
    assert selectors.entry_seconds(entry, now=timezone.now() + timedelta(minutes=5)) == 900
