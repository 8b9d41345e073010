"""Writes of the entries area: income and expenses (with receipts), platform earnings copied
from the ledger, the mileage log and recurring expenses (docs/books/entries.md).

Every object is fetched with ``owner=owner``: another seller's entry is ``NotFound``. Income is
shared between the budget envelopes in the same transaction (``budget.income_allocate``);
editing or deleting it takes the shares back first (``budget.income_unallocate``).
"""

from __future__ import annotations

import calendar
import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from micromarket.books import categories, taxdata
from micromarket.books.models import (
    Entry,
    LedgerSync,
    MileageTrip,
    RecurringExpense,
    TaxProfile,
)
from micromarket.books.selectors import days
from micromarket.books.services import budget as budget_services
from micromarket.core.errors import Conflict, NotFound, ValidationFailed
from micromarket.core.files import file_sniff
from micromarket.core.images import image_normalise
from micromarket.core.money import currency_check
from micromarket.ledger import selectors as ledger_selectors

RECEIPT_MAX_BYTES = 10 * 1024 * 1024
RECEIPT_TYPES = {"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"}
MAX_AMOUNT = 10**13  # 100 billion in a 2-decimal currency: anything above is a typo
# Entries copied from elsewhere: their amount, date and currency follow their origin.
LOCKED_SOURCES = {
    Entry.Source.PLATFORM: "comes from your micromarket earnings",
    Entry.Source.INVOICE: "is a payment on one of your invoices (change it on the invoice)",
    Entry.Source.MILEAGE: "comes from your mileage log (change the trip there)",
}
# A ledger transaction is copied once its cursor passes it; transactions younger than this are
# re-read next time in case an older id commits after a newer one.
SYNC_SAFETY = timedelta(minutes=10)


# --- checks -------------------------------------------------------------------------------


def entry_fingerprint(*, kind: str, date: date, amount: int, currency: str, payee: str) -> str:
    """Normalised (kind, date, amount, currency, payee) hash: two entries with the same one are
    probably the same money (duplicate detection on import)."""
    normal = " ".join((payee or "").lower().split())
    raw = f"{kind}|{date.isoformat()}|{amount}|{currency.upper()}|{normal}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _kind_check(kind: str) -> str:
    if kind not in (Entry.Kind.INCOME, Entry.Kind.EXPENSE):
        raise ValidationFailed("Choose income or expense.", code="kind_invalid", field="kind")
    return kind


def _amount_check(amount, *, field: str = "amount") -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationFailed("Enter an amount such as 12.50.", code="amount_invalid", field=field)
    if amount <= 0:
        raise ValidationFailed(
            "Enter an amount above zero.", code="amount_not_positive", field=field
        )
    if amount > MAX_AMOUNT:
        raise ValidationFailed("That amount is too large.", code="amount_too_large", field=field)
    return amount


def _category_check(kind: str, category: str) -> str:
    found = categories.category_get(category)
    if found is None or found.kind != kind:
        what = "an income" if kind == Entry.Kind.INCOME else "an expense"
        raise ValidationFailed(
            f"Choose {what} category.", code="category_invalid", field="category"
        )
    return category


def _date_check(value, *, field: str = "date") -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationFailed("Enter a date.", code="date_invalid", field=field)
    latest = timezone.localdate() + timedelta(days=366)
    if value.year < 1990 or value > latest:
        raise ValidationFailed(
            "Enter a date between 1990 and a year from today.",
            code="date_out_of_range",
            field=field,
        )
    return value


def date_check(value, *, field: str = "date") -> date:
    """The books' date rule: from 1990 to a year from today (imports check rows with it)."""
    return _date_check(value, field=field)


def _text(value: str, limit: int, field: str) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ValidationFailed(f"At most {limit} characters.", code="too_long", field=field)
    return value


@dataclass(frozen=True)
class _Clean:
    kind: str
    date: date
    amount: int
    currency: str
    category: str
    payee: str
    note: str


def _clean(*, kind, date, amount, currency, category, payee, note) -> _Clean:
    kind = _kind_check(kind)
    return _Clean(
        kind=kind,
        date=_date_check(date),
        amount=_amount_check(amount),
        currency=currency_check(currency),
        category=_category_check(kind, category),
        payee=_text(payee, 200, "payee"),
        note=_text(note, 500, "note"),
    )


def receipt_check(upload) -> tuple[ContentFile, str]:
    """(the file to store, its content type). Judged by content: a PDF or an image, at most
    10 MB. Images are decoded and re-encoded (metadata such as GPS position removed)."""
    sniffed = file_sniff(upload, field="receipt", max_bytes=RECEIPT_MAX_BYTES)
    if sniffed.content_type not in RECEIPT_TYPES:
        raise ValidationFailed(
            f"A receipt must be a PDF or an image (PNG, JPEG, GIF, WebP); that file is a "
            f"{sniffed.description}.",
            code="receipt_type_not_allowed",
            field="receipt",
        )
    if sniffed.content_type == "application/pdf":
        upload.seek(0)
        return ContentFile(upload.read(), name=f"{uuid.uuid4().hex}.pdf"), "application/pdf"
    image = image_normalise(upload, field="receipt", max_bytes=RECEIPT_MAX_BYTES, max_side=4000)
    return image, "image/webp"


def _receipt_attach(entry: Entry, receipt) -> None:
    content, content_type = receipt_check(receipt)
    old = entry.receipt.name if entry.receipt else ""
    entry.receipt.save(content.name, content, save=False)
    entry.receipt_type = content_type
    if old:
        _delete_file_on_commit(entry.receipt.storage, old)


def _delete_file_on_commit(storage, name: str) -> None:
    transaction.on_commit(lambda: storage.delete(name) if storage.exists(name) else None)


# --- recording ----------------------------------------------------------------------------


def _record(
    *, owner, kind, date, amount, currency, category, payee, note, source, source_ref, receipt
) -> tuple[Entry, bool]:
    """(entry, created): idempotent on (owner, source_ref) when source_ref is set."""
    c = _clean(
        kind=kind,
        date=date,
        amount=amount,
        currency=currency,
        category=category,
        payee=payee,
        note=note,
    )
    if source not in Entry.Source.values:
        raise ValidationFailed("Unknown source.", code="source_invalid", field="source")
    source_ref = (source_ref or "").strip()
    if len(source_ref) > 120:
        raise ValidationFailed("source_ref is too long.", code="too_long", field="source_ref")
    if source_ref:
        existing = Entry.objects.filter(owner=owner, source_ref=source_ref).first()
        if existing is not None:
            return existing, False
    entry = Entry(
        owner=owner,
        kind=c.kind,
        date=c.date,
        amount=c.amount,
        currency=c.currency,
        category=c.category,
        payee=c.payee,
        note=c.note,
        source=source,
        source_ref=source_ref,
        fingerprint=entry_fingerprint(
            kind=c.kind, date=c.date, amount=c.amount, currency=c.currency, payee=c.payee
        ),
    )
    if receipt:
        _receipt_attach(entry, receipt)
    if not source_ref:
        entry.save()
        return entry, True
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:  # recorded meanwhile by another worker
        return Entry.objects.get(owner=owner, source_ref=source_ref), False
    return entry, True


def entry_record_income(
    *,
    owner,
    date,
    amount,
    currency,
    category,
    payee="",
    note="",
    source,
    source_ref,
    allocate_amount=None,
) -> Entry:
    """Income from another area (invoice payments, platform earnings …). A second call with the
    same ``source_ref`` returns the first entry. The budget allocates ``allocate_amount``
    (default: the whole amount) in the same transaction."""
    return _income_record(
        owner=owner,
        date=date,
        amount=amount,
        currency=currency,
        category=category,
        payee=payee,
        note=note,
        source=source,
        source_ref=source_ref,
        allocate_amount=allocate_amount,
    )[0]


def _income_record(
    *, owner, date, amount, currency, category, payee, note, source, source_ref, allocate_amount
) -> tuple[Entry, bool]:
    with transaction.atomic():
        entry, created = _record(
            owner=owner,
            kind=Entry.Kind.INCOME,
            date=date,
            amount=amount,
            currency=currency,
            category=category,
            payee=payee,
            note=note,
            source=source,
            source_ref=source_ref,
            receipt=None,
        )
        if created:
            budget_services.income_allocate(
                entry=entry, amount=entry.amount if allocate_amount is None else allocate_amount
            )
        return entry, created


def entry_record_expense(
    *,
    owner,
    date,
    amount,
    currency,
    category,
    payee="",
    note="",
    source,
    source_ref,
    receipt=None,
) -> Entry:
    """An expense from another area (platform commission, recurring expense, mileage …);
    idempotent on ``source_ref`` like ``entry_record_income``."""
    with transaction.atomic():
        entry, _ = _record(
            owner=owner,
            kind=Entry.Kind.EXPENSE,
            date=date,
            amount=amount,
            currency=currency,
            category=category,
            payee=payee,
            note=note,
            source=source,
            source_ref=source_ref,
            receipt=receipt,
        )
        return entry


def entry_create(
    *, owner, kind, date, amount, currency, category, payee="", note="", receipt=None
) -> Entry:
    """An entry the seller types in (outside income, an expense), with an optional receipt."""
    with transaction.atomic():
        entry, _ = _record(
            owner=owner,
            kind=kind,
            date=date,
            amount=amount,
            currency=currency,
            category=category,
            payee=payee,
            note=note,
            source=Entry.Source.MANUAL,
            source_ref="",
            receipt=receipt,
        )
        if entry.kind == Entry.Kind.INCOME:
            budget_services.income_allocate(entry=entry, amount=entry.amount)
        return entry


def _entry_lock(owner, entry_id) -> Entry:
    entry = Entry.objects.select_for_update().filter(owner=owner, pk=entry_id).first()
    if entry is None:
        raise NotFound("There is no such entry in your books.", code="entry_not_found")
    return entry


_UNSET = object()


def entry_update(
    *,
    owner,
    entry_id: int,
    kind=_UNSET,
    date=_UNSET,
    amount=_UNSET,
    currency=_UNSET,
    category=_UNSET,
    payee=_UNSET,
    note=_UNSET,
    receipt=None,
    receipt_remove: bool = False,
) -> Entry:
    """Change an entry. Entries copied from elsewhere (platform earnings, invoice payments,
    mileage) keep their kind, date, amount and currency. When an income's amount, currency or
    kind changes the envelopes follow (``budget.income_reallocate``): a raise shares out only
    the difference, a cut takes the difference back (never more than the envelopes hold), so
    money already spent from an envelope stays spent. ``entry.budget_shortfall`` is what could
    not be taken back."""
    with transaction.atomic():
        entry = _entry_lock(owner, entry_id)
        new = {
            "kind": entry.kind if kind is _UNSET else kind,
            "date": entry.date if date is _UNSET else date,
            "amount": entry.amount if amount is _UNSET else amount,
            "currency": entry.currency if currency is _UNSET else currency,
            "category": entry.category if category is _UNSET else category,
            "payee": entry.payee if payee is _UNSET else payee,
            "note": entry.note if note is _UNSET else note,
        }
        c = _clean(**new)
        if entry.source in LOCKED_SOURCES:
            for name in ("kind", "date", "amount", "currency"):
                if getattr(c, name) != getattr(entry, name):
                    raise Conflict(
                        f"This entry {LOCKED_SOURCES[entry.source]}: its {name} cannot be "
                        "changed here.",
                        code="entry_locked",
                        field=name,
                    )
        old_kind, old_amount, old_currency = entry.kind, entry.amount, entry.currency
        money_changed = (c.kind, c.amount, c.currency) != (old_kind, old_amount, old_currency)
        for name in ("kind", "date", "amount", "currency", "category", "payee", "note"):
            setattr(entry, name, getattr(c, name))
        entry.fingerprint = entry_fingerprint(
            kind=c.kind, date=c.date, amount=c.amount, currency=c.currency, payee=c.payee
        )
        if receipt:
            _receipt_attach(entry, receipt)
        elif receipt_remove and entry.receipt:
            _delete_file_on_commit(entry.receipt.storage, entry.receipt.name)
            entry.receipt = ""
            entry.receipt_type = ""
        entry.save()
        entry.budget_shortfall = 0
        if money_changed:
            entry.budget_shortfall = budget_services.income_reallocate(
                entry=entry, old_kind=old_kind, old_amount=old_amount, old_currency=old_currency
            )
        return entry


def entry_delete(*, owner, entry_id: int) -> int:
    """Delete an entry the seller recorded. An income is taken back out of the envelopes first,
    never more than they hold; returns what could not be taken back because it was already
    spent (also written on the envelope history), 0 otherwise."""
    with transaction.atomic():
        entry = _entry_lock(owner, entry_id)
        if entry.source in LOCKED_SOURCES:
            raise Conflict(
                f"This entry {LOCKED_SOURCES[entry.source]}, so it cannot be deleted here.",
                code="entry_locked",
            )
        shortfall = 0
        if entry.kind == Entry.Kind.INCOME:
            shortfall = budget_services.income_unallocate(
                entry=entry, amount=entry.amount, currency=entry.currency
            )
        if entry.receipt:
            _delete_file_on_commit(entry.receipt.storage, entry.receipt.name)
        entry.delete()
        return shortfall


# --- platform earnings --------------------------------------------------------------------


def _earning_record(earning, owner) -> int:
    """Copy one ledger transaction: the gross as income, the commission as an expense."""
    ref = f"ledger:{earning.transaction_id}"
    day = days.local_date(earning.created_at, owner)
    tip = earning.kind == "tip"
    with transaction.atomic():
        if Entry.objects.filter(owner=owner, source_ref=f"{ref}:income").exists():
            return 0
        _, created = _income_record(
            owner=owner,
            date=day,
            amount=earning.gross,
            currency=earning.currency,
            category="tips" if tip else "platform_sales",
            payee="micromarket",
            note=earning.description[:500],
            source=Entry.Source.PLATFORM,
            source_ref=f"{ref}:income",
            allocate_amount=earning.net,
        )
        fee = earning.gross - earning.net
        if fee > 0:
            entry_record_expense(
                owner=owner,
                date=day,
                amount=fee,
                currency=earning.currency,
                category="commissions_fees",
                payee="micromarket",
                note=("Platform share of a tip" if tip else "Platform commission")
                + f" ({earning.reference})",
                source=Entry.Source.PLATFORM,
                source_ref=f"{ref}:fee",
            )
    return int(created)


def platform_income_sync(*, owner=None, limit: int = 1000) -> int:
    """Copy released platform earnings from the ledger into the sellers' books (all sellers, or
    one ``owner``); returns how many ledger transactions were newly copied. Each is copied once:
    the entries' ``source_ref`` is unique per owner, so a repeat or a concurrent run changes
    nothing."""
    state, _ = LedgerSync.objects.get_or_create(key="platform")
    earnings = ledger_selectors.seller_earnings(
        after_id=state.last_transaction_id, owner=owner, limit=limit
    )
    if not earnings:
        return 0
    done = set(
        Entry.objects.filter(
            source=Entry.Source.PLATFORM,
            source_ref__in=[f"ledger:{e.transaction_id}:income" for e in earnings],
        ).values_list("owner_id", "source_ref")
    )
    users = {
        u.pk: u for u in get_user_model().objects.filter(pk__in={e.owner_id for e in earnings})
    }
    copied = 0
    for earning in earnings:
        if (earning.owner_id, f"ledger:{earning.transaction_id}:income") in done:
            continue
        copied += _earning_record(earning, users[earning.owner_id])
    if owner is None:
        settled = timezone.now() - SYNC_SAFETY
        old = [e.transaction_id for e in earnings if e.created_at <= settled]
        if old:
            LedgerSync.objects.filter(key="platform", last_transaction_id__lt=max(old)).update(
                last_transaction_id=max(old)
            )
    return copied


# --- mileage ------------------------------------------------------------------------------

KM_PER_MILE = Decimal("1.609344")


@dataclass(frozen=True)
class MileageRate:
    """The rate for one trip: ``rate`` in 1/``scale`` minor units per mile."""

    country: str
    currency: str
    rate: int
    scale: int
    explanation: str
    # The tax year's tiers (UK: 45p for the first 10,000 business miles, 25p after), used to
    # split a trip that crosses the threshold; None for a single rate.
    detail: taxdata.MileageRate | None = None

    def amount(self, miles: Decimal, miles_before: Decimal) -> tuple[int, str]:
        """(the deduction in minor units rounded half up, how it was computed). A UK trip that
        crosses the tax year's threshold is paid at the higher rate up to it, the lower after."""
        d = self.detail
        if d is not None and d.threshold_miles is not None and d.rate_after is not None:
            first = max(Decimal(0), min(miles, Decimal(d.threshold_miles) - miles_before))
            if 0 < first < miles:
                rest = miles - first
                high = _rate_text(d.rate, d.scale, self.currency, d.year)
                low = _rate_text(d.rate_after, d.scale, self.currency, d.year)
                text = (
                    f"{_miles_text(first)} mi at {high} + {_miles_text(rest)} mi at {low} (the "
                    f"trip passes the first {d.threshold_miles:,} business miles of the tax year)"
                )
                return d.amount(miles, miles_before), text
        tenths = miles * Decimal(self.rate) / Decimal(self.scale)
        return int(tenths.quantize(Decimal(1), rounding=ROUND_HALF_UP)), self.explanation


def _country(owner) -> str:
    profile = TaxProfile.objects.filter(owner=owner).first()
    return profile.country if profile is not None else TaxProfile.Country.US


def _miles(distance: Decimal, unit: str) -> Decimal:
    return distance if unit == "mi" else distance / KM_PER_MILE


def mileage_rate_for(*, owner, day: date, miles_before: Decimal = Decimal(0)) -> MileageRate:
    """The tax year's rate for ``owner``'s country (``taxdata.mileage_rate``). The US standard
    mileage rate is in tenths of a cent per mile; the UK approved rate is 45p for the first
    10,000 business miles of the tax year and 25p after."""
    country = _country(owner)
    if country == TaxProfile.Country.UK:
        year = day.year if (day.month, day.day) >= (4, 6) else day.year - 1
    else:
        year = day.year
    try:
        data = taxdata.mileage_rate(country, year)
        detail = taxdata.mileage_rate_detail(country, year)
    except (KeyError, LookupError, ValueError, AttributeError) as exc:
        raise ValidationFailed(
            f"There is no mileage rate for the {year} tax year yet.",
            code="mileage_rate_missing",
            field="date",
        ) from exc
    currency = "GBP" if country == TaxProfile.Country.UK else "USD"
    if isinstance(data, int):
        return MileageRate(
            country, currency, data, 10, _rate_text(data, 10, currency, year), detail
        )
    # UK: a tiered rate ({"first": .., "after": .., "threshold": ..} or (first, after, threshold))
    if isinstance(data, dict):
        first = data.get("first") or data.get("rate")
        after = data.get("after", first)
        threshold = data.get("threshold", data.get("threshold_miles", 10000))
        scale = data.get("scale", 10)
    else:
        first, after, threshold = data[0], data[1], data[2]
        scale = 10
    rate = first if miles_before < Decimal(threshold) else after
    text = _rate_text(rate, scale, currency, year) + (
        f" (the first {threshold:,} business miles of the tax year; "
        f"{_rate_text(after, scale, currency, year)} after)"
    )
    return MileageRate(country, currency, int(rate), int(scale), text, detail)


def _miles_text(miles: Decimal) -> str:
    return f"{miles.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):,}"


def _rate_text(rate: int, scale: int, currency: str, year: int) -> str:
    minor = Decimal(rate) / Decimal(scale)
    if currency == "GBP":
        return f"{minor.normalize():f}p a mile ({year}/{str(year + 1)[2:]} HMRC approved rate)"
    return f"{minor.normalize():f}¢ a mile ({year} IRS standard mileage rate)"


def _distance_check(distance, unit: str) -> Decimal:
    if unit not in ("mi", "km"):
        raise ValidationFailed("Choose miles or kilometres.", code="unit_invalid", field="unit")
    try:
        value = Decimal(str(distance)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        raise ValidationFailed(
            "Enter a distance such as 12.5.", code="distance_invalid", field="distance"
        ) from None
    if not value.is_finite() or value <= 0 or value >= Decimal("100000"):
        raise ValidationFailed(
            "Enter a distance above 0 and below 100,000.",
            code="distance_invalid",
            field="distance",
        )
    return value


def _miles_this_year_before(owner, country: str, day: date) -> Decimal:
    if country == TaxProfile.Country.UK:
        start = date(day.year if (day.month, day.day) >= (4, 6) else day.year - 1, 4, 6)
    else:
        start = date(day.year, 1, 1)
    total = Decimal(0)
    for trip in MileageTrip.objects.filter(owner=owner, date__gte=start, date__lte=day):
        total += _miles(trip.distance, trip.unit)
    return total


def mileage_trip_create(
    *, owner, date, distance, unit="mi", origin="", destination="", purpose
) -> MileageTrip:
    """Log a business trip; its deduction (miles × the tax year's rate, rounded half up to a
    cent/penny) is recorded as a ``car_truck`` expense linked to the trip."""
    day = _date_check(date)
    value = _distance_check(distance, unit)
    purpose = _text(purpose, 300, "purpose")
    if not purpose:
        raise ValidationFailed(
            "Say what the trip was for (the tax authorities ask).",
            code="purpose_required",
            field="purpose",
        )
    origin = _text(origin, 200, "origin")
    destination = _text(destination, 200, "destination")
    with transaction.atomic():
        TaxProfile.objects.filter(owner=owner).select_for_update().first()
        before = _miles_this_year_before(owner, _country(owner), day)
        rate = mileage_rate_for(owner=owner, day=day, miles_before=before)
        miles = _miles(value, unit)
        amount, explanation = rate.amount(miles, before)
        if amount <= 0:
            raise ValidationFailed(
                "That trip is too short to record.", code="distance_invalid", field="distance"
            )
        trip = MileageTrip.objects.create(
            owner=owner,
            date=day,
            distance=value,
            unit=unit,
            origin=origin,
            destination=destination,
            purpose=purpose,
            rate=rate.rate,
            rate_scale=rate.scale,
            currency=rate.currency,
        )
        where = " → ".join(p for p in (origin, destination) if p)
        trip.entry = entry_record_expense(
            owner=owner,
            date=day,
            amount=amount,
            currency=rate.currency,
            category="car_truck",
            payee="Mileage",
            note=f"{value} {unit} {where}: {purpose} at {explanation}"[:500],
            source=Entry.Source.MILEAGE,
            source_ref=f"mileage:{trip.pk}",
        )
        trip.save(update_fields=["entry"])
        return trip


def mileage_trip_delete(*, owner, trip_id: int) -> None:
    """Remove a trip from the log together with its expense entry."""
    with transaction.atomic():
        trip = MileageTrip.objects.select_for_update().filter(owner=owner, pk=trip_id).first()
        if trip is None:
            raise NotFound("There is no such trip in your mileage log.", code="trip_not_found")
        if trip.entry_id:
            Entry.objects.filter(pk=trip.entry_id, owner=owner).delete()
        trip.delete()


# --- recurring expenses -------------------------------------------------------------------


def next_occurrence(day: date, frequency: str, anchor: date) -> date:
    """The occurrence after ``day``; monthly dates keep the start's day of month (31 → the
    month's last day)."""
    if frequency == RecurringExpense.Frequency.WEEKLY:
        return day + timedelta(days=7)
    months = {"monthly": 1, "quarterly": 3, "yearly": 12}[frequency]
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(anchor.day, last))


def recurring_expense_create(
    *, owner, payee, amount, currency, category, frequency, start_date, end_date=None, note=""
) -> RecurringExpense:
    c = _clean(
        kind=Entry.Kind.EXPENSE,
        date=start_date,
        amount=amount,
        currency=currency,
        category=category,
        payee=payee,
        note=note,
    )
    if not c.payee:
        raise ValidationFailed("Who is it paid to?", code="payee_required", field="payee")
    if frequency not in RecurringExpense.Frequency.values:
        raise ValidationFailed("Choose how often.", code="frequency_invalid", field="frequency")
    if end_date is not None and end_date < c.date:
        raise ValidationFailed(
            "The end date is before the start.", code="end_before_start", field="end_date"
        )
    with transaction.atomic():
        return RecurringExpense.objects.create(
            owner=owner,
            payee=c.payee,
            amount=c.amount,
            currency=c.currency,
            category=c.category,
            note=c.note,
            frequency=frequency,
            start_date=c.date,
            next_date=c.date,
            end_date=end_date,
        )


def recurring_expense_stop(*, owner, recurring_id: int) -> RecurringExpense:
    """Stop a recurring expense (what it already recorded stays in the books)."""
    with transaction.atomic():
        item = (
            RecurringExpense.objects.select_for_update()
            .filter(owner=owner, pk=recurring_id)
            .first()
        )
        if item is None:
            raise NotFound("There is no such recurring expense.", code="recurring_not_found")
        if item.active:
            item.active = False
            item.save(update_fields=["active"])
        return item


def recurring_expenses_record_due(*, today: date | None = None, limit: int = 500) -> int:
    """Record every occurrence that is due (up to ``today``) as an expense, once each: the item
    is locked while its date advances and each occurrence has its own ``source_ref``."""
    today = today or timezone.localdate()
    due = list(
        RecurringExpense.objects.filter(active=True, next_date__lte=today).values_list(
            "pk", flat=True
        )[:limit]
    )
    recorded = 0
    for pk in due:
        with transaction.atomic():
            item = (
                RecurringExpense.objects.select_for_update()
                .select_related("owner")
                .filter(pk=pk, active=True)
                .first()
            )
            if item is None:
                continue
            while item.next_date <= today and (
                item.end_date is None or item.next_date <= item.end_date
            ):
                entry_record_expense(
                    owner=item.owner,
                    date=item.next_date,
                    amount=item.amount,
                    currency=item.currency,
                    category=item.category,
                    payee=item.payee,
                    note=item.note or f"{item.get_frequency_display()}",
                    source=Entry.Source.RECURRING,
                    source_ref=f"recurring:{item.pk}:{item.next_date.isoformat()}",
                )
                recorded += 1
                item.next_date = next_occurrence(item.next_date, item.frequency, item.start_date)
            if item.end_date is not None and item.next_date > item.end_date:
                item.active = False
            item.save(update_fields=["next_date", "active"])
    return recorded
