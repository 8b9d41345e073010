"""Writes of the time area: the timer (one running per user, enforced by the database), manual
entries, edits, deletes, and turning unbilled time into invoice lines. See docs/books/time.md.

Every object is fetched with ``owner=owner``: another user's entry, client or offer is
``NotFound``. An entry already on an invoice line is frozen (edit or delete it → ``Conflict``);
remove the line from the draft invoice first.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from micromarket.books.models import Client, TimeEntry
from micromarket.books.selectors import time as selectors
from micromarket.books.services import invoices as invoice_services
from micromarket.catalog import selectors as catalog_selectors
from micromarket.core.errors import Conflict, NotFound, ValidationFailed
from micromarket.core.money import currency_check

MAX_ENTRY = timedelta(hours=24)
_UNSET = object()


def _client(owner, client_id) -> Client | None:
    if client_id in (None, ""):
        return None
    client = Client.objects.filter(owner=owner, pk=client_id).first()
    if client is None:
        raise NotFound("There is no such client.", code="client_not_found", field="client")
    return client


def _offer(owner, offer_id, *, keep=None):
    if offer_id in (None, ""):
        return None
    if keep is not None and keep.pk == int(offer_id):
        return keep
    offer = catalog_selectors.offers_for_seller(seller=owner).filter(pk=offer_id).first()
    if offer is None:
        raise NotFound("There is no such offer.", code="offer_not_found", field="offer")
    return offer


def _rate(rate, currency: str, client, offer) -> tuple[int | None, str]:
    if rate is not None and rate < 0:
        raise ValidationFailed("The hourly rate cannot be negative.", field="rate")
    if currency:
        currency = currency_check(currency)
    else:
        currency = (client.currency if client else "") or (offer.currency if offer else "")
    if rate is not None and not currency:
        raise ValidationFailed("Choose the currency of the hourly rate.", field="currency")
    return rate, currency


def _text(value: str, limit: int, field: str) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ValidationFailed(f"At most {limit} characters.", field=field)
    return value


def _frozen(entry: TimeEntry) -> None:
    if entry.invoice_line_id is not None:
        raise Conflict(
            "This time is on an invoice; remove it from the invoice first.",
            code="time_entry_billed",
        )


@transaction.atomic
def timer_start(
    *,
    owner,
    client_id=None,
    offer_id=None,
    project: str = "",
    description: str = "",
    billable: bool = True,
    rate: int | None = None,
    currency: str = "",
    now: datetime | None = None,
) -> TimeEntry:
    """Start the timer. One runs at a time per user (``books_one_timer``): starting a second →
    ``Conflict`` ``timer_running`` naming the one that runs."""
    running = selectors.running_timer(owner)
    if running is not None:
        raise _running_conflict(running)
    client = _client(owner, client_id)
    offer = _offer(owner, offer_id)
    rate, currency = _rate(rate, currency, client, offer)
    entry = TimeEntry(
        owner=owner,
        client=client,
        offer=offer,
        project=_text(project, 100, "project"),
        description=_text(description, 300, "description"),
        started_at=now or timezone.now(),
        billable=billable,
        rate=rate,
        currency=currency,
    )
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:  # started in another tab at the same moment
        raise _running_conflict(selectors.running_timer(owner)) from None
    return entry


def _running_conflict(running: TimeEntry | None) -> Conflict:
    what = f" ({selectors.entry_label(running)})" if running is not None else ""
    return Conflict(
        f"A timer is already running{what}. Stop it before starting another.",
        code="timer_running",
    )


@transaction.atomic
def timer_stop(*, owner, now: datetime | None = None) -> TimeEntry:
    """Stop the running timer; its duration is whole seconds from start to now."""
    entry = TimeEntry.objects.select_for_update().filter(owner=owner, ended_at__isnull=True).first()
    if entry is None:
        raise NotFound("No timer is running.", code="no_timer")
    ended = now or timezone.now()
    if ended < entry.started_at:
        ended = entry.started_at
    entry.ended_at = ended
    entry.duration_seconds = int((ended - entry.started_at).total_seconds())
    entry.save(update_fields=["ended_at", "duration_seconds"])
    return entry


def _duration(seconds) -> int:
    if seconds is None or seconds <= 0:
        raise ValidationFailed("Enter how long you worked, such as 1:30.", field="duration")
    if seconds > MAX_ENTRY.total_seconds():
        raise ValidationFailed("One entry is at most 24 hours.", field="duration")
    return int(seconds)


@transaction.atomic
def time_entry_create(
    *,
    owner,
    started_at: datetime,
    duration_seconds: int,
    client_id=None,
    offer_id=None,
    project: str = "",
    description: str = "",
    billable: bool = True,
    rate: int | None = None,
    currency: str = "",
) -> TimeEntry:
    """A manual (finished) entry."""
    seconds = _duration(duration_seconds)
    client = _client(owner, client_id)
    offer = _offer(owner, offer_id)
    rate, currency = _rate(rate, currency, client, offer)
    return TimeEntry.objects.create(
        owner=owner,
        client=client,
        offer=offer,
        project=_text(project, 100, "project"),
        description=_text(description, 300, "description"),
        started_at=started_at,
        ended_at=started_at + timedelta(seconds=seconds),
        duration_seconds=seconds,
        billable=billable,
        rate=rate,
        currency=currency,
    )


@transaction.atomic
def time_entry_update(
    *,
    owner,
    pk,
    started_at=_UNSET,
    duration_seconds=_UNSET,
    client_id=_UNSET,
    offer_id=_UNSET,
    project=_UNSET,
    description=_UNSET,
    billable=_UNSET,
    rate=_UNSET,
    currency=_UNSET,
) -> TimeEntry:
    """Change an entry (only the fields given). A running timer keeps running: its duration is
    set when it stops. Billed entries are frozen."""
    entry = TimeEntry.objects.select_for_update().filter(owner=owner, pk=pk).first()
    if entry is None:
        raise NotFound("There is no such time entry.", code="time_entry_not_found")
    _frozen(entry)
    if client_id is not _UNSET:
        entry.client = _client(owner, client_id)
    if offer_id is not _UNSET:
        entry.offer = _offer(owner, offer_id, keep=entry.offer)
    if project is not _UNSET:
        entry.project = _text(project, 100, "project")
    if description is not _UNSET:
        entry.description = _text(description, 300, "description")
    if billable is not _UNSET:
        entry.billable = bool(billable)
    new_rate = entry.rate if rate is _UNSET else rate
    new_currency = entry.currency if currency is _UNSET else currency
    if client_id is not _UNSET and currency is _UNSET and entry.client is not None:
        new_currency = ""  # follow the new client's currency
    entry.rate, entry.currency = _rate(new_rate, new_currency, entry.client, entry.offer)
    if started_at is not _UNSET:
        entry.started_at = started_at
    if entry.ended_at is not None:
        if duration_seconds is not _UNSET:
            entry.duration_seconds = _duration(duration_seconds)
        entry.ended_at = entry.started_at + timedelta(seconds=entry.duration_seconds)
    elif duration_seconds is not _UNSET:
        raise ValidationFailed("Stop the timer before setting its duration.", field="duration")
    entry.save()
    return entry


@transaction.atomic
def time_entry_delete(*, owner, pk) -> None:
    entry = TimeEntry.objects.select_for_update().filter(owner=owner, pk=pk).first()
    if entry is None:
        raise NotFound("There is no such time entry.", code="time_entry_not_found")
    _frozen(entry)
    entry.delete()


# --- time → invoice lines -----------------------------------------------------------------------


@transaction.atomic
def time_invoice_create(*, owner, client_id, entry_ids=None, notes: str = ""):
    """A new draft invoice for the client holding their unbilled billable time (all of it, or
    ``entry_ids``), through the invoices area's ``invoice_create`` and
    ``invoice_add_time_lines`` (which groups the time into lines and marks it billed). All or
    nothing: a refused entry leaves no draft behind."""
    entries = unbilled_for_client(owner=owner, client_id=client_id, entry_ids=entry_ids)
    client = entries[0].client
    invoice = invoice_services.invoice_create(owner=owner, client=client, notes=notes)
    invoice_services.invoice_add_time_lines(owner=owner, invoice=invoice, time_entries=entries)
    invoice.refresh_from_db()
    return invoice


def unbilled_for_client(*, owner, client_id, entry_ids=None) -> list[TimeEntry]:
    """The client's billable unbilled entries (all, or the ``entry_ids`` among them)."""
    client = _client(owner, client_id)
    if client is None:
        raise ValidationFailed("Choose a client.", field="client")
    qs = selectors.time_entries(owner, client=client, billable=True, unbilled=True)
    if entry_ids is not None:
        ids = {int(i) for i in entry_ids}
        entries = list(qs.filter(pk__in=ids).order_by("started_at", "id"))
        if len(entries) != len(ids):
            raise NotFound(
                "Some of that time is not yours, not this client's, or already invoiced.",
                code="time_entry_not_found",
                field="entries",
            )
    else:
        entries = list(qs.order_by("started_at", "id"))
    if not entries:
        raise ValidationFailed(
            "There is no unbilled billable time for this client.", code="no_unbilled_time"
        )
    return entries
