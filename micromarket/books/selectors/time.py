"""Reads of the time area: entries, the running timer, the weekly timesheet, unbilled time and
effective hourly rates. See docs/books/time.md.

Effective hourly rate = what the work earned ÷ the hours tracked for it:
- per client: the payments recorded on the client's invoices (``InvoicePayment``) ÷ the hours
  tracked for that client;
- per offer: the seller's *net* platform earnings from the offer's orders ÷ the hours tracked
  for the offer. Platform earnings are the books' entries with ``source_ref``
  ``ledger:<transaction id>:income`` (gross) and ``ledger:<transaction id>:fee`` (commission);
  the ledger transaction's reference (``order:<id>`` …) gives the order and the order its offer
  (read through ``ledger.selectors`` and ``orders.selectors``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from micromarket.books.models import Client, Entry, InvoicePayment, TimeEntry
from micromarket.catalog import selectors as catalog_selectors
from micromarket.core.errors import NotFound
from micromarket.ledger import selectors as ledger_selectors
from micromarket.orders import selectors as orders_selectors


def time_entries(owner, *, client=None, offer=None, billable=None, unbilled=None) -> QuerySet:
    """The owner's time entries, newest first (finished and running)."""
    qs = TimeEntry.objects.filter(owner=owner).select_related("client", "offer", "invoice_line")
    if client is not None:
        qs = qs.filter(client=client)
    if offer is not None:
        qs = qs.filter(offer=offer)
    if billable is not None:
        qs = qs.filter(billable=billable)
    if unbilled:
        qs = qs.filter(invoice_line__isnull=True, ended_at__isnull=False)
    return qs


def time_entry_get(owner, pk) -> TimeEntry:
    """One of the owner's entries; anyone else's is NotFound."""
    entry = time_entries(owner).filter(pk=pk).first()
    if entry is None:
        raise NotFound("There is no such time entry.", code="time_entry_not_found")
    return entry


def running_timer(owner) -> TimeEntry | None:
    return time_entries(owner).filter(ended_at__isnull=True).first()


def entry_seconds(entry: TimeEntry, *, now: datetime | None = None) -> int:
    """A finished entry's duration; a running one's time so far."""
    if entry.ended_at is not None:
        return entry.duration_seconds
    return max(0, int(((now or timezone.now()) - entry.started_at).total_seconds()))


def entry_value(entry: TimeEntry) -> int | None:
    """What a billable entry is worth at its rate (minor units, rounded half up); None if no
    rate is known (neither on the entry nor the client's default)."""
    rate = entry_rate(entry)
    if rate is None or not entry.billable:
        return None
    return (entry.duration_seconds * rate + 1800) // 3600


def entry_rate(entry: TimeEntry) -> int | None:
    if entry.rate is not None:
        return entry.rate
    if entry.client_id and entry.client.default_rate is not None:
        return entry.client.default_rate
    return None


def entry_currency(entry: TimeEntry) -> str:
    if entry.currency:
        return entry.currency
    if entry.client_id:
        return entry.client.currency
    if entry.offer_id:
        return entry.offer.currency
    return ""


def tracked_seconds(owner, *, client=None, offer=None, start=None, end=None) -> int:
    """Seconds of finished time (started ``start``–``end``, datetimes or dates, inclusive)."""
    qs = TimeEntry.objects.filter(owner=owner, ended_at__isnull=False)
    if client is not None:
        qs = qs.filter(client=client)
    if offer is not None:
        qs = qs.filter(offer=offer)
    if start is not None:
        qs = qs.filter(started_at__gte=_as_datetime(start))
    if end is not None:
        if isinstance(end, datetime):
            qs = qs.filter(started_at__lte=end)
        else:
            qs = qs.filter(started_at__lt=_as_datetime(end + timedelta(days=1)))
    return qs.aggregate(s=Sum("duration_seconds"))["s"] or 0


def _as_datetime(value) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, tzinfo=timezone.get_current_timezone())


# --- weekly timesheet ---------------------------------------------------------------------------


@dataclass
class TimesheetRow:
    label: str  # client / offer / project
    seconds: list[int]  # one per day, Monday first
    billable_seconds: int = 0

    @property
    def total(self) -> int:
        return sum(self.seconds)


@dataclass
class Timesheet:
    week_start: date  # a Monday
    days: list[date]
    rows: list[TimesheetRow]
    day_totals: list[int]
    total: int
    billable: int
    entries: list[TimeEntry] = field(default_factory=list)

    @property
    def previous(self) -> date:
        return self.week_start - timedelta(days=7)

    @property
    def next(self) -> date:
        return self.week_start + timedelta(days=7)


def week_start_for(day: date) -> date:
    return day - timedelta(days=day.weekday())


def entry_label(entry: TimeEntry) -> str:
    parts = [
        p for p in (entry.client and entry.client.name, entry.offer and entry.offer.title) if p
    ]
    if entry.project:
        parts.append(entry.project)
    return " · ".join(parts) or "No client or project"


def timesheet(owner, *, week_start: date, tz: tzinfo | None = None) -> Timesheet:
    """Finished time per day of the week (in ``tz``, the user's zone) and per client / offer /
    project. An entry counts on the day it started."""
    tz = tz or timezone.get_current_timezone()
    week_start = week_start_for(week_start)
    begin = datetime.combine(week_start, time.min, tzinfo=tz)
    finish = begin + timedelta(days=7)
    entries = list(
        time_entries(owner)
        .filter(ended_at__isnull=False, started_at__gte=begin, started_at__lt=finish)
        .order_by("started_at", "id")
    )
    days = [week_start + timedelta(days=i) for i in range(7)]
    rows: dict[str, TimesheetRow] = {}
    for entry in entries:
        label = entry_label(entry)
        row = rows.setdefault(label, TimesheetRow(label=label, seconds=[0] * 7))
        index = (entry.started_at.astimezone(tz).date() - week_start).days
        row.seconds[index] += entry.duration_seconds
        if entry.billable:
            row.billable_seconds += entry.duration_seconds
    ordered = sorted(rows.values(), key=lambda r: (-r.total, r.label))
    day_totals = [sum(r.seconds[i] for r in ordered) for i in range(7)]
    return Timesheet(
        week_start=week_start,
        days=days,
        rows=ordered,
        day_totals=day_totals,
        total=sum(day_totals),
        billable=sum(r.billable_seconds for r in ordered),
        entries=entries,
    )


# --- unbilled time ------------------------------------------------------------------------------


@dataclass
class UnbilledGroup:
    client: Client
    entries: list[TimeEntry]
    seconds: int
    value: int  # at the entries' rates (entries without a rate count 0)
    currency: str
    missing_rate: int  # entries with no rate


def unbilled_by_client(owner) -> list[UnbilledGroup]:
    """Billable finished time not yet on an invoice, per client (time with no client cannot be
    invoiced until one is set)."""
    entries = list(
        time_entries(owner, billable=True, unbilled=True)
        .filter(client__isnull=False)
        .order_by("started_at", "id")
    )
    groups: dict[int, UnbilledGroup] = {}
    for entry in entries:
        group = groups.get(entry.client_id)
        if group is None:
            group = groups[entry.client_id] = UnbilledGroup(
                client=entry.client,
                entries=[],
                seconds=0,
                value=0,
                currency=entry.client.currency,
                missing_rate=0,
            )
        group.entries.append(entry)
        group.seconds += entry.duration_seconds
        value = entry_value(entry)
        if value is None:
            group.missing_rate += 1
        else:
            group.value += value
    return sorted(groups.values(), key=lambda g: g.client.name.lower())


# --- effective hourly rates ---------------------------------------------------------------------


@dataclass(frozen=True)
class EffectiveRate:
    key: int  # client or offer id
    label: str
    seconds: int
    earned: dict[str, int]  # currency → minor units

    @property
    def hours(self) -> float:
        return self.seconds / 3600

    def per_hour(self) -> dict[str, int]:
        """Earnings per tracked hour, per currency (minor units, rounded half up)."""
        if not self.seconds:
            return {}
        return {
            cur: (amount * 3600 * 2 + self.seconds) // (2 * self.seconds)
            for cur, amount in self.earned.items()
        }


def _seconds_by(owner, field_name: str, start=None, end=None) -> dict[int, int]:
    qs = TimeEntry.objects.filter(owner=owner, ended_at__isnull=False).exclude(
        **{f"{field_name}__isnull": True}
    )
    if start is not None:
        qs = qs.filter(started_at__gte=_as_datetime(start))
    if end is not None:
        qs = qs.filter(started_at__lt=_as_datetime(end + timedelta(days=1)))
    rows = qs.values(field_name).annotate(s=Sum("duration_seconds")).order_by()
    return {r[field_name]: r["s"] or 0 for r in rows}


def client_effective_rates(owner, *, start: date | None = None, end: date | None = None):
    """Per client with tracked time or payments: payments received on its invoices ÷ hours."""
    seconds = _seconds_by(owner, "client", start, end)
    payments = InvoicePayment.objects.filter(invoice__owner=owner)
    if start is not None:
        payments = payments.filter(date__gte=start)
    if end is not None:
        payments = payments.filter(date__lte=end)
    earned: dict[int, dict[str, int]] = defaultdict(dict)
    for row in (
        payments.values("invoice__client", "invoice__currency")
        .annotate(total=Sum("amount"))
        .order_by()
    ):
        earned[row["invoice__client"]][row["invoice__currency"]] = row["total"]
    ids = set(seconds) | set(earned)
    names = dict(Client.objects.filter(owner=owner, pk__in=ids).values_list("pk", "name"))
    rates = [
        EffectiveRate(key=pk, label=names[pk], seconds=seconds.get(pk, 0), earned=earned[pk])
        for pk in ids
        if pk in names
    ]
    return sorted(rates, key=lambda r: r.label.lower())


def platform_earnings_by_offer(
    owner, *, start: date | None = None, end: date | None = None
) -> dict[int, dict[str, int]]:
    """Net platform earnings (income − commission) per offer id and currency, from the books'
    platform entries (``ledger:<txn>:<part>``) → ledger transaction → order → offer."""
    qs = Entry.objects.filter(owner=owner, source=Entry.Source.PLATFORM).filter(
        Q(source_ref__startswith="ledger:")
    )
    if start is not None:
        qs = qs.filter(date__gte=start)
    if end is not None:
        qs = qs.filter(date__lte=end)
    rows = list(qs.values_list("source_ref", "kind", "amount", "currency"))
    txn_ids = set()
    for ref, *_ in rows:
        parts = ref.split(":")
        if len(parts) >= 2 and parts[1].isdigit():
            txn_ids.add(int(parts[1]))
    references = ledger_selectors.transaction_references(ids=sorted(txn_ids))
    order_ids: dict[int, int] = {}
    for txn_id, reference in references.items():
        parts = reference.split(":")
        if len(parts) >= 2 and parts[0] == "order" and parts[1].isdigit():
            order_ids[txn_id] = int(parts[1])
    offers = orders_selectors.order_offer_ids(order_ids=sorted(set(order_ids.values())))
    earned: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for ref, kind, amount, currency in rows:
        parts = ref.split(":")
        if len(parts) < 2 or not parts[1].isdigit():
            continue
        offer_id = offers.get(order_ids.get(int(parts[1]), 0))
        if offer_id is None:
            continue
        sign = 1 if kind == Entry.Kind.INCOME else -1
        earned[offer_id][currency] += sign * amount
    return {k: dict(v) for k, v in earned.items()}


def offer_effective_rates(owner, *, start: date | None = None, end: date | None = None):
    """Per offer with tracked time: net platform earnings from its orders ÷ hours tracked."""
    seconds = _seconds_by(owner, "offer", start, end)
    earned = platform_earnings_by_offer(owner, start=start, end=end)
    ids = sorted(set(seconds))
    titles = {o.pk: o.title for o in catalog_selectors.offers_by_ids(ids=ids)}
    rates = [
        EffectiveRate(
            key=pk,
            label=titles.get(pk, f"Offer {pk}"),
            seconds=seconds[pk],
            earned=earned.get(pk, {}),
        )
        for pk in ids
    ]
    return sorted(rates, key=lambda r: r.label.lower())


def offer_choices(owner) -> list[tuple[int, str]]:
    return [(o.pk, o.title) for o in catalog_selectors.offers_for_seller(seller=owner)]
