"""Demo time tracking, through the time services: priya (US) tracked three weeks of work for
her direct clients (from the invoices demo) and her first offer — one week already turned into
a draft invoice, the rest unbilled — and sam (UK) a few hours for his client. Idempotent: a
seller who already has time entries gets nothing new. Run after demo_invoices (clients)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from micromarket.books.models import Client, TimeEntry
from micromarket.books.selectors import time as selectors
from micromarket.books.services import time as services
from micromarket.core.errors import DomainError

DOMAIN = "demo.micromarket.test"
# (days ago, start hour, minutes, client index or None for the offer, description, billable)
PRIYA = [
    (20, 9, 150, 0, "Seasonal menu: sketches", True),
    (19, 14, 90, 1, "Website copy: landing page", True),
    (18, 10, 60, 0, "Seasonal menu: revisions", True),
    (17, 9, 45, 1, "Call with Northwind", False),
    (13, 9, 180, 1, "Website copy: four pages", True),
    (12, 13, 75, None, "Logo order: first concepts", True),
    (11, 10, 120, 0, "Instagram templates", True),
    (6, 9, 95, 1, "Website copy: edits", True),
    (5, 15, 50, None, "Logo order: final files", True),
    (4, 9, 130, 0, "Print files and proofs", True),
    (2, 11, 30, None, "Admin and bookkeeping", False),
]
SAM = [
    (9, 10, 120, 0, "Workshop preparation", True),
    (3, 9, 210, 0, "Workshop delivery", True),
]


def _user(email: str):
    return get_user_model().objects.filter(email=email).first()


def _track(owner, plan, today, *, offer_id=None) -> int:
    clients = list(Client.objects.filter(owner=owner).order_by("id"))
    tz = timezone.get_current_timezone()
    made = 0
    for days_ago, hour, minutes, client_index, description, billable in plan:
        client = clients[client_index] if client_index is not None and clients else None
        if client is None and client_index is not None:
            continue
        start = datetime.combine(today - timedelta(days=days_ago), time(hour), tzinfo=tz)
        services.time_entry_create(
            owner=owner,
            started_at=start,
            duration_seconds=minutes * 60,
            client_id=client.pk if client else None,
            offer_id=offer_id if client_index is None else None,
            project="" if client else "micromarket orders",
            description=description,
            billable=billable and client is not None,
        )
        made += 1
    return made


def build(*, stdout, create: bool = True) -> list[str]:
    priya, sam = _user(f"priya@{DOMAIN}"), _user(f"sam@{DOMAIN}")
    today = timezone.localdate()
    if create:
        for user, plan in ((priya, PRIYA), (sam, SAM)):
            if user is None or TimeEntry.objects.filter(owner=user).exists():
                continue
            offers = selectors.offer_choices(user)
            try:
                made = _track(user, plan, today, offer_id=offers[0][0] if offers else None)
                # The oldest week of the first client's time is already on a draft invoice.
                first = Client.objects.filter(owner=user).order_by("id").first()
                if first is not None and user == priya:
                    old = selectors.time_entries(
                        user, client=first, billable=True, unbilled=True
                    ).filter(started_at__lt=timezone.now() - timedelta(days=14))
                    ids = list(old.values_list("pk", flat=True))
                    if ids:
                        services.time_invoice_create(owner=user, client_id=first.pk, entry_ids=ids)
            except DomainError as exc:
                stdout.write(f"  time: skipped {user.email}: {exc.message}\n")
                continue
            stdout.write(f"  time: {made} entries for {user.email}\n")
    count = TimeEntry.objects.filter(owner__email__endswith=f"@{DOMAIN}").count()
    if not count:
        return []
    return [
        f"Time tracking: {count} entries (priya@ has unbilled time to invoice on /books/time/, "
        "a weekly timesheet and effective hourly rates); reports and exports on /books/reports/"
    ]
