"""Invoices for direct clients (docs/books/invoices.md).

Clients; draft invoices with lines; issuing (the number is taken under the seller's
``InvoiceSequence`` row lock, so numbers have no gaps even with concurrent issues); sending by
email with a link to the public page; payments (each one an income entry in the books);
voiding (the number stays used); reminders, late fees and recurring invoices (jobs).

Totals, in integer minor units (every rounding is half-up, once per figure):

- line amount = quantity × unit price × (1 − line discount), rounded;
- subtotal = Σ line amounts;
- the invoice discount is taken per tax rate on the discountable lines (every line but a late
  fee, ``InvoiceLine.is_late_fee``): for each rate, discount = Σ discountable amounts at that
  rate × invoice discount, rounded; discount total = Σ of those;
- tax per rate = (Σ amounts at that rate − its discount) × rate, rounded; tax total = Σ;
- total = subtotal − discount total + tax total.

This is the EN 16931 shape (one VAT breakdown per rate, one document allowance per rate), so
the Factur-X XML adds up exactly.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from micromarket.books.models import (
    Client,
    Invoice,
    InvoiceEvent,
    InvoiceLine,
    InvoicePayment,
    InvoiceSequence,
    RecurringExpense,
    RecurringInvoice,
    TaxProfile,
    TimeEntry,
)
from micromarket.books.selectors import days
from micromarket.books.services.entries import next_occurrence
from micromarket.core.emails import email_send_after_commit
from micromarket.core.errors import Conflict, NotFound, ValidationFailed
from micromarket.core.money import currency_check, money_format

MAX_LINES = 200
MAX_BPS = 10000
MAX_UNIT_PRICE = 10**13  # minor units; keeps every product well inside a BigInteger
MAX_QUANTITY = Decimal("9999999.999")
REMINDER_BEFORE_DAYS = 3
# (kind, days after the due date from which it is sent, days after which it is too late)
REMINDER_STAGES = (
    ("reminder_before", -REMINDER_BEFORE_DAYS, 0),
    ("reminder_after_1", 1, 14),
    ("reminder_after_14", 14, 10_000),
)
OPEN_STATUSES = (Invoice.Status.SENT, Invoice.Status.PARTLY_PAID)

CLIENT_FIELDS = (
    "name",
    "email",
    "address",
    "city",
    "postcode",
    "country",
    "vat_id",
    "company_id",
    "currency",
    "default_rate",
    "notes",
)
INVOICE_FIELDS = (
    "client",
    "currency",
    "terms_days",
    "notes",
    "discount_bps",
    "late_fee_bps",
    "late_fee_fixed",
)


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --- totals -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxGroup:
    rate_bps: int
    basis_before_discount: int  # Σ line amounts at this rate (late fees included)
    discount: int  # the invoice discount's share at this rate
    basis: int  # taxable amount
    tax: int
    discountable: int = 0  # Σ amounts at this rate the invoice discount applies to (no fees)


@dataclass(frozen=True)
class Totals:
    subtotal: int
    discount_total: int
    tax_total: int
    total: int
    groups: list[TaxGroup]


def line_amount(*, quantity: Decimal, unit_price: int, discount_bps: int) -> int:
    """quantity × unit price, less the line discount, rounded half-up to the minor unit."""
    gross = Decimal(quantity) * unit_price
    return round_half_up(gross * (MAX_BPS - discount_bps) / MAX_BPS)


def totals_compute(lines, *, discount_bps: int) -> Totals:
    """``lines``: objects or dicts with ``amount``, ``tax_rate_bps`` and optionally
    ``is_late_fee`` (a late fee is outside the invoice discount)."""

    def get(line, name, default=None):
        return line.get(name, default) if isinstance(line, dict) else getattr(line, name, default)

    by_rate: dict[int, int] = {}
    discountable: dict[int, int] = {}
    for line in lines:
        rate = get(line, "tax_rate_bps")
        by_rate[rate] = by_rate.get(rate, 0) + get(line, "amount")
        if not get(line, "is_late_fee", False):
            discountable[rate] = discountable.get(rate, 0) + get(line, "amount")
    groups = []
    for rate in sorted(by_rate):
        before = by_rate[rate]
        base = discountable.get(rate, 0)
        discount = round_half_up(Decimal(base) * discount_bps / MAX_BPS)
        basis = before - discount
        tax = round_half_up(Decimal(basis) * rate / MAX_BPS)
        groups.append(TaxGroup(rate, before, discount, basis, tax, base))
    subtotal = sum(by_rate.values())
    discount_total = sum(g.discount for g in groups)
    tax_total = sum(g.tax for g in groups)
    return Totals(
        subtotal, discount_total, tax_total, subtotal - discount_total + tax_total, groups
    )


def _recompute(invoice: Invoice) -> None:
    lines = list(invoice.lines.all())
    totals = totals_compute(lines, discount_bps=invoice.discount_bps)
    invoice.subtotal = totals.subtotal
    invoice.discount_total = totals.discount_total
    invoice.tax_total = totals.tax_total
    invoice.total = totals.total
    invoice.save(update_fields=["subtotal", "discount_total", "tax_total", "total", "updated_at"])


# --- validation helpers -------------------------------------------------------------------


def _bps(value, *, field: str, label: str, allow_full: bool = True) -> int:
    try:
        value = int(value or 0)
    except (TypeError, ValueError):
        raise ValidationFailed(
            f"{label} must be a whole number of basis points.", field=field
        ) from None
    if value < 0 or value > MAX_BPS or (not allow_full and value == MAX_BPS):
        raise ValidationFailed(f"{label} must be between 0% and 100%.", field=field)
    return value


def _line_clean(data: dict, *, index: int | None = None) -> dict:
    """A line's fields checked and normalised; raises with the field (and line) named."""
    where = "" if index is None else f"Line {index + 1}: "
    description = (data.get("description") or "").strip()
    if not description:
        raise ValidationFailed(f"{where}a description is needed.", field="description")
    if len(description) > 500:
        raise ValidationFailed(f"{where}the description is too long.", field="description")
    try:
        quantity = Decimal(str(data.get("quantity", 1))).quantize(Decimal("0.001"))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{where}the quantity is not a number.", field="quantity") from None
    if quantity <= 0 or quantity > MAX_QUANTITY:
        raise ValidationFailed(f"{where}the quantity must be more than 0.", field="quantity")
    try:
        unit_price = int(data.get("unit_price"))
    except (TypeError, ValueError):
        raise ValidationFailed(f"{where}the unit price is missing.", field="unit_price") from None
    if unit_price < 0 or unit_price > MAX_UNIT_PRICE:
        raise ValidationFailed(
            f"{where}the unit price must be 0 or more (and not absurdly large).",
            field="unit_price",
        )
    unit = (data.get("unit") or "C62").strip()[:10] or "C62"
    discount_bps = _bps(data.get("discount_bps"), field="discount_bps", label=f"{where}Discount")
    tax_rate_bps = _bps(data.get("tax_rate_bps"), field="tax_rate_bps", label=f"{where}Tax rate")
    return {
        "description": description,
        "quantity": quantity,
        "unit": unit,
        "unit_price": unit_price,
        "discount_bps": discount_bps,
        "tax_rate_bps": tax_rate_bps,
        "amount": line_amount(quantity=quantity, unit_price=unit_price, discount_bps=discount_bps),
    }


def _invoice_fields_clean(*, owner, fields: dict) -> dict:
    clean: dict = {}
    if "client" in fields:
        client = fields["client"]
        client_id = client.pk if isinstance(client, Client) else client
        clean["client"] = _client_for(owner=owner, client_id=client_id, field="client")
        if clean["client"].archived_at is not None:
            raise ValidationFailed("That client is archived.", field="client")
    if "currency" in fields:
        clean["currency"] = currency_check(fields["currency"] or "")
    if "terms_days" in fields:
        try:
            terms = int(fields["terms_days"])
        except (TypeError, ValueError):
            raise ValidationFailed("Terms are a number of days.", field="terms_days") from None
        if terms < 0 or terms > 365:
            raise ValidationFailed("Terms must be between 0 and 365 days.", field="terms_days")
        clean["terms_days"] = terms
    if "notes" in fields:
        notes = (fields["notes"] or "").strip()
        if len(notes) > 2000:
            raise ValidationFailed("Notes are limited to 2,000 characters.", field="notes")
        clean["notes"] = notes
    if "discount_bps" in fields:
        clean["discount_bps"] = _bps(
            fields["discount_bps"], field="discount_bps", label="The discount"
        )
    if "late_fee_bps" in fields:
        clean["late_fee_bps"] = _bps(
            fields["late_fee_bps"], field="late_fee_bps", label="The late fee"
        )
    if "late_fee_fixed" in fields:
        try:
            fixed = int(fields["late_fee_fixed"] or 0)
        except (TypeError, ValueError):
            raise ValidationFailed("The late fee is an amount.", field="late_fee_fixed") from None
        if fixed < 0 or fixed > MAX_UNIT_PRICE:
            raise ValidationFailed("The late fee must be 0 or more.", field="late_fee_fixed")
        clean["late_fee_fixed"] = fixed
    return clean


def _client_for(*, owner, client_id, field: str = "client") -> Client:
    try:
        return Client.objects.get(owner=owner, pk=int(client_id))
    except (Client.DoesNotExist, TypeError, ValueError):
        raise NotFound("There is no such client.", code="client_not_found", field=field) from None


def _invoice_locked(*, owner, invoice) -> Invoice:
    pk = invoice.pk if isinstance(invoice, Invoice) else invoice
    try:
        return Invoice.objects.select_for_update().get(owner=owner, pk=pk)
    except (Invoice.DoesNotExist, TypeError, ValueError):
        raise NotFound("There is no such invoice.", code="invoice_not_found") from None


def _require_draft(invoice: Invoice) -> None:
    if invoice.status != Invoice.Status.DRAFT:
        raise Conflict(
            "Only a draft can be changed; this invoice has been issued.", code="not_draft"
        )


def _event(invoice: Invoice, kind: str, detail: str = "", at: datetime | None = None):
    return InvoiceEvent.objects.create(
        invoice=invoice, kind=kind, detail=detail[:300], at=at or timezone.now()
    )


def public_url(invoice: Invoice) -> str:
    return settings.SITE_URL + reverse("books:invoice_public", args=[invoice.public_token])


# --- clients ------------------------------------------------------------------------------


def _client_clean(fields: dict) -> dict:
    clean = {k: v for k, v in fields.items() if k in CLIENT_FIELDS}
    if "name" in clean:
        clean["name"] = (clean["name"] or "").strip()
        if not clean["name"]:
            raise ValidationFailed("A client needs a name.", field="name")
    if "currency" in clean:
        clean["currency"] = currency_check(clean["currency"] or "")
    if "country" in clean:
        country = (clean["country"] or "").strip().upper()
        if country and (len(country) != 2 or not country.isalpha()):
            raise ValidationFailed(
                "Use the two-letter country code (US, GB, FR …).", field="country"
            )
        clean["country"] = country
    if clean.get("default_rate") is not None and int(clean["default_rate"]) < 0:
        raise ValidationFailed("The hourly rate must be 0 or more.", field="default_rate")
    for key in ("email", "address", "city", "postcode", "vat_id", "company_id", "notes"):
        if key in clean:
            clean[key] = (clean[key] or "").strip()
    return clean


def client_create(*, owner, name: str, **fields) -> Client:
    clean = _client_clean({"name": name, **fields})
    with transaction.atomic():
        client = Client(owner=owner, **clean)
        client.full_clean(exclude=["owner"])
        client.save()
    return client


def client_update(*, owner, client, **fields) -> Client:
    clean = _client_clean(fields)
    with transaction.atomic():
        client = _client_for(owner=owner, client_id=getattr(client, "pk", client), field="")
        for key, value in clean.items():
            setattr(client, key, value)
        client.full_clean(exclude=["owner"])
        client.save()
    return client


def client_archive(*, owner, client, archived: bool = True) -> Client:
    with transaction.atomic():
        client = _client_for(owner=owner, client_id=getattr(client, "pk", client), field="")
        client.archived_at = timezone.now() if archived else None
        client.save(update_fields=["archived_at"])
    return client


# --- drafts -------------------------------------------------------------------------------


def invoice_create(
    *,
    owner,
    client,
    currency: str | None = None,
    terms_days: int = 14,
    notes: str = "",
    discount_bps: int = 0,
    late_fee_bps: int = 0,
    late_fee_fixed: int = 0,
    lines: list[dict] | None = None,
    recurring: RecurringInvoice | None = None,
    recurring_date: date | None = None,
) -> Invoice:
    """A draft invoice (no number yet) with its lines."""
    fields = {
        "client": client,
        "terms_days": terms_days,
        "notes": notes,
        "discount_bps": discount_bps,
        "late_fee_bps": late_fee_bps,
        "late_fee_fixed": late_fee_fixed,
    }
    clean = _invoice_fields_clean(owner=owner, fields=fields)
    clean["currency"] = currency_check(currency or clean["client"].currency)
    lines = lines or []
    if len(lines) > MAX_LINES:
        raise ValidationFailed(f"An invoice has at most {MAX_LINES} lines.", field="lines")
    clean_lines = [_line_clean(line, index=i) for i, line in enumerate(lines)]
    with transaction.atomic():
        invoice = Invoice.objects.create(
            owner=owner,
            public_token=secrets.token_urlsafe(32),
            recurring=recurring,
            recurring_date=recurring_date,
            **clean,
        )
        InvoiceLine.objects.bulk_create(
            [InvoiceLine(invoice=invoice, position=i, **cl) for i, cl in enumerate(clean_lines)]
        )
        _recompute(invoice)
        _event(invoice, "created")
    return invoice


def invoice_update(*, owner, invoice, **fields) -> Invoice:
    """Change a draft's client, currency, terms, notes, discount or late fee."""
    unknown = set(fields) - set(INVOICE_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown field: {sorted(unknown)[0]}.", field=sorted(unknown)[0])
    with transaction.atomic():
        invoice = _invoice_locked(owner=owner, invoice=invoice)
        _require_draft(invoice)
        clean = _invoice_fields_clean(owner=owner, fields=fields)
        if clean.get("currency", invoice.currency) != invoice.currency and invoice.lines.exists():
            raise Conflict(
                f"The lines are priced in {invoice.currency}: remove them before changing the "
                f"currency to {clean['currency']} (their amounts would otherwise be read in "
                "the new currency).",
                code="currency_has_lines",
                field="currency",
            )
        for key, value in clean.items():
            setattr(invoice, key, value)
        invoice.save()
        _recompute(invoice)
    return invoice


def invoice_delete(*, owner, invoice) -> None:
    """Only drafts can be deleted (an issued invoice is voided, keeping its number)."""
    with transaction.atomic():
        invoice = _invoice_locked(owner=owner, invoice=invoice)
        _require_draft(invoice)
        TimeEntry.objects.filter(invoice_line__invoice=invoice).update(invoice_line=None)
        invoice.delete()


def invoice_line_add(*, owner, invoice, **line) -> InvoiceLine:
    clean = _line_clean(line)
    with transaction.atomic():
        invoice = _invoice_locked(owner=owner, invoice=invoice)
        _require_draft(invoice)
        count = invoice.lines.count()
        if count >= MAX_LINES:
            raise ValidationFailed(f"An invoice has at most {MAX_LINES} lines.", field="lines")
        created = InvoiceLine.objects.create(invoice=invoice, position=count, **clean)
        _recompute(invoice)
    return created


def _line_locked(*, owner, invoice, line_id) -> tuple[Invoice, InvoiceLine]:
    invoice = _invoice_locked(owner=owner, invoice=invoice)
    try:
        line = invoice.lines.get(pk=int(line_id))
    except (InvoiceLine.DoesNotExist, TypeError, ValueError):
        raise NotFound("There is no such line.", code="line_not_found") from None
    return invoice, line


def invoice_line_update(*, owner, invoice, line_id, **changes) -> InvoiceLine:
    with transaction.atomic():
        invoice, line = _line_locked(owner=owner, invoice=invoice, line_id=line_id)
        _require_draft(invoice)
        current = {
            "description": line.description,
            "quantity": line.quantity,
            "unit": line.unit,
            "unit_price": line.unit_price,
            "discount_bps": line.discount_bps,
            "tax_rate_bps": line.tax_rate_bps,
        }
        current.update({k: v for k, v in changes.items() if k in current and v is not None})
        for key, value in _line_clean(current).items():
            setattr(line, key, value)
        line.save()
        _recompute(invoice)
    return line


def invoice_line_delete(*, owner, invoice, line_id) -> None:
    """Removes a draft's line; time entries it billed become unbilled again."""
    with transaction.atomic():
        invoice, line = _line_locked(owner=owner, invoice=invoice, line_id=line_id)
        _require_draft(invoice)
        TimeEntry.objects.filter(invoice_line=line).update(invoice_line=None)
        line.delete()
        _recompute(invoice)


def invoice_add_time_lines(*, owner, invoice, time_entries) -> list[InvoiceLine]:
    """Bill tracked time on a draft: one line per (description or project, rate) with the
    hours summed (quantity in hours, three decimals; unit HUR), each time entry marked billed
    (``TimeEntry.invoice_line``). Refused when an entry is someone else's, still running,
    already billed, not billable, without a rate, or in another currency than the invoice."""
    ids = [getattr(t, "pk", t) for t in time_entries]
    if not ids:
        raise ValidationFailed("Choose the time to bill.", field="time_entries")
    with transaction.atomic():
        invoice = _invoice_locked(owner=owner, invoice=invoice)
        _require_draft(invoice)
        entries = list(
            TimeEntry.objects.select_for_update()
            .filter(owner=owner, pk__in=ids)
            .order_by("started_at", "id")
        )
        if len(entries) != len(set(ids)):
            raise NotFound(
                "Some of that time is not yours or no longer exists.",
                code="time_entry_not_found",
                field="time_entries",
            )
        groups: dict[tuple[str, int], list[TimeEntry]] = {}
        for entry in entries:
            label = entry.description or entry.project or "Time"
            if entry.ended_at is None:
                raise Conflict(
                    f"Stop the timer for “{label}” first.",
                    code="timer_running",
                    field="time_entries",
                )
            if entry.invoice_line_id is not None:
                raise Conflict(
                    f"“{label}” is already on an invoice.",
                    code="already_billed",
                    field="time_entries",
                )
            if not entry.billable:
                raise ValidationFailed(f"“{label}” is not billable.", field="time_entries")
            rate = entry.rate
            if rate is None and entry.client_id:
                rate = (
                    Client.objects.filter(pk=entry.client_id)
                    .values_list("default_rate", flat=True)
                    .first()
                )
            if rate is None:
                raise ValidationFailed(f"“{label}” has no hourly rate.", field="time_entries")
            if entry.currency and entry.currency != invoice.currency:
                raise ValidationFailed(
                    f"“{label}” is in {entry.currency}, the invoice in {invoice.currency}.",
                    field="time_entries",
                )
            key = (entry.description or entry.project or "Time", rate)
            groups.setdefault(key, []).append(entry)
        position = invoice.lines.count()
        if position + len(groups) > MAX_LINES:
            raise ValidationFailed(f"An invoice has at most {MAX_LINES} lines.", field="lines")
        created = []
        for (description, rate), group in groups.items():
            seconds = sum(e.duration_seconds for e in group)
            hours = (Decimal(seconds) / 3600).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
            if hours <= 0:
                hours = Decimal("0.001")
            first = days.local_date(min(e.started_at for e in group), owner)
            last = days.local_date(max(e.started_at for e in group), owner)
            span = first.isoformat() if first == last else f"{first} – {last}"
            clean = _line_clean(
                {
                    "description": f"{description} ({span})",
                    "quantity": hours,
                    "unit": "HUR",
                    "unit_price": rate,
                }
            )
            line = InvoiceLine.objects.create(invoice=invoice, position=position, **clean)
            position += 1
            TimeEntry.objects.filter(pk__in=[e.pk for e in group]).update(invoice_line=line)
            created.append(line)
        _recompute(invoice)
    return created


# --- issue, send, void --------------------------------------------------------------------


def invoice_issue(*, owner, invoice, today: date | None = None) -> Invoice:
    """Give a draft its number (the next of the seller's sequence, taken under the sequence's
    row lock, so concurrent issues get consecutive numbers with no gap), its issue and due
    dates, and status *sent*. Issuing an issued invoice changes nothing.

    A line with a tax rate above 0% is VAT charged, which only a seller with a VAT number
    may do (EN 16931 BR-S-02): without one in the invoice details, issuing is refused."""
    today = today or days.owner_today(owner)
    with transaction.atomic():
        invoice = _invoice_locked(owner=owner, invoice=invoice)
        if invoice.status != Invoice.Status.DRAFT:
            return invoice
        if not invoice.lines.exists():
            raise ValidationFailed("Add at least one line before issuing.", field="lines")
        if invoice.lines.filter(tax_rate_bps__gt=0).exists() and not seller_vat_id(owner):
            raise ValidationFailed(
                "This invoice charges tax (a line's tax rate is above 0%), so it needs your "
                "VAT number: add it in “Your invoice details”, or set the tax rates to 0%.",
                code="seller_vat_id_missing",
                field="lines",
            )
        if invoice.total <= 0:
            raise ValidationFailed("The invoice total must be more than zero.", field="lines")
        InvoiceSequence.objects.get_or_create(owner=owner)
        sequence = InvoiceSequence.objects.select_for_update().get(owner=owner)
        number = sequence.next_number
        InvoiceSequence.objects.filter(pk=sequence.pk).update(next_number=F("next_number") + 1)
        invoice.sequence_number = number
        invoice.number = f"{sequence.prefix}{number:04d}"
        invoice.issue_date = today
        invoice.due_date = today + timedelta(days=invoice.terms_days)
        invoice.status = Invoice.Status.SENT
        invoice.save()
        _event(invoice, "issued", f"Number {invoice.number}")
    return invoice


def invoice_send(*, owner, invoice, message: str = "", today: date | None = None) -> Invoice:
    """Issue the invoice if it is a draft and email the client a link to its public page."""
    with transaction.atomic():
        invoice = invoice_issue(owner=owner, invoice=invoice, today=today)
        if invoice.status == Invoice.Status.VOID:
            raise Conflict("A void invoice cannot be sent.", code="invoice_void")
        client = invoice.client
        if not client.email:
            raise ValidationFailed(
                "Add the client's email address to send the invoice.", field="email"
            )
        email_send_after_commit(
            to=client.email,
            template="books/invoices/email/invoice",
            context={
                "invoice": invoice,
                "client": client,
                "seller": owner,
                "message": (message or "").strip()[:2000],
                "public_url": public_url(invoice),
            },
        )
        invoice.sent_at = timezone.now()
        invoice.save(update_fields=["sent_at", "updated_at"])
        _event(invoice, "sent", f"Emailed to {client.email}")
    return invoice


def invoice_void(*, owner, invoice, reason: str = "") -> Invoice:
    """Cancel an issued invoice; its number stays used (and shown). An invoice with payments
    cannot be voided (the payments are in the books)."""
    with transaction.atomic():
        invoice = _invoice_locked(owner=owner, invoice=invoice)
        if invoice.status == Invoice.Status.DRAFT:
            raise Conflict("A draft has no number: delete it instead.", code="draft")
        if invoice.status == Invoice.Status.VOID:
            return invoice
        if invoice.paid_total > 0:
            raise Conflict(
                "This invoice has payments recorded, so it cannot be voided.",
                code="invoice_has_payments",
            )
        invoice.status = Invoice.Status.VOID
        invoice.voided_at = timezone.now()
        invoice.void_reason = (reason or "").strip()[:300]
        invoice.save()
        _event(invoice, "voided", invoice.void_reason)
        unbilled = TimeEntry.objects.filter(invoice_line__invoice=invoice).update(invoice_line=None)
        if unbilled:
            _event(invoice, "time_unbilled", f"{unbilled} time entries are unbilled again")
    return invoice


# --- payments -----------------------------------------------------------------------------


def invoice_payment_record(
    *, owner, invoice, amount: int, date: date | None = None, method: str = "", note: str = ""
) -> InvoicePayment:
    """Record money received for an issued invoice. Refused beyond the balance (no
    overpayment). The payment becomes an income entry in the books (category
    ``direct_clients``), allocated to the envelopes by the entries area."""
    from micromarket.books.services import entries as entries_services

    try:
        amount = int(amount)
    except (TypeError, ValueError):
        raise ValidationFailed("Enter the amount received.", field="amount") from None
    if amount <= 0:
        raise ValidationFailed("The amount must be more than zero.", field="amount")
    when = date or days.owner_today(owner)
    with transaction.atomic():
        invoice = _invoice_locked(owner=owner, invoice=invoice)
        if invoice.status == Invoice.Status.DRAFT:
            raise Conflict("Issue the invoice before recording a payment.", code="draft")
        if invoice.status == Invoice.Status.VOID:
            raise Conflict("This invoice is void.", code="invoice_void")
        if amount > invoice.balance:
            raise ValidationFailed(
                "That is more than the balance due "
                f"({money_format(invoice.balance, invoice.currency)}).",
                code="overpayment",
                field="amount",
            )
        if invoice.issue_date and when < invoice.issue_date:
            raise ValidationFailed("The payment date is before the issue date.", field="date")
        payment = InvoicePayment.objects.create(
            invoice=invoice,
            date=when,
            amount=amount,
            method=(method or "").strip()[:40],
            note=(note or "").strip()[:300],
        )
        entry = entries_services.entry_record_income(
            owner=owner,
            date=when,
            amount=amount,
            currency=invoice.currency,
            category="direct_clients",
            payee=invoice.client.name[:200],
            note=f"Invoice {invoice.number}",
            source="invoice",
            source_ref=f"invoice_payment:{payment.pk}",
        )
        payment.entry = entry
        payment.save(update_fields=["entry"])
        invoice.paid_total += amount
        invoice.status = (
            Invoice.Status.PAID
            if invoice.paid_total >= invoice.total
            else Invoice.Status.PARTLY_PAID
        )
        invoice.save(update_fields=["paid_total", "status", "updated_at"])
        _event(
            invoice,
            "paid" if invoice.status == Invoice.Status.PAID else "payment",
            f"{amount} {invoice.currency}",
        )
    return payment


def _status_from_payments(invoice: Invoice) -> str:
    if invoice.paid_total <= 0:
        return Invoice.Status.SENT
    if invoice.paid_total >= invoice.total:
        return Invoice.Status.PAID
    return Invoice.Status.PARTLY_PAID


def invoice_payment_reverse(*, owner, invoice_id, payment_id) -> Invoice:
    """Undo a payment recorded by mistake: the payment is removed, its income entry leaves
    the books (its envelope shares are taken back first, as when an income is deleted), the
    paid total goes down and the status follows (sent, partly paid or paid). Logged in the
    invoice's history. Another seller's invoice or payment is ``NotFound``."""
    from micromarket.books.services import budget as budget_services

    with transaction.atomic():
        invoice = _invoice_locked(owner=owner, invoice=invoice_id)
        try:
            payment = InvoicePayment.objects.select_for_update().get(
                invoice=invoice, pk=int(payment_id)
            )
        except (InvoicePayment.DoesNotExist, TypeError, ValueError):
            raise NotFound("There is no such payment.", code="payment_not_found") from None
        entry = payment.entry
        if entry is not None:
            # Invoice income is locked in the entries area (changed only from the invoice):
            # take its envelope shares back, then remove it, as entry_delete does.
            budget_services.income_unallocate(entry=entry)
            entry.delete()
        amount = payment.amount
        when = payment.date
        payment.delete()
        invoice.paid_total = max(0, invoice.paid_total - amount)
        invoice.status = _status_from_payments(invoice)
        invoice.save(update_fields=["paid_total", "status", "updated_at"])
        _event(
            invoice,
            "payment_reversed",
            f"{money_format(amount, invoice.currency)} of {when.isoformat()} removed",
        )
    return invoice


# --- invoice details (the seller party) ---------------------------------------------------


def seller_vat_id(owner) -> str:
    return (
        TaxProfile.objects.filter(owner=owner).values_list("vat_id", flat=True).first() or ""
    ).strip()


def invoice_settings_update(
    *, owner, legal_name: str = "", vat_id: str = "", business_address: str = ""
) -> TaxProfile:
    """The seller's details printed on their invoices (and in the Factur-X XML): legal name
    (blank: the account's name), VAT number (needed to charge VAT) and business address."""
    legal_name = (legal_name or "").strip()
    vat_id = "".join((vat_id or "").split()).upper()
    business_address = (business_address or "").strip()
    if len(legal_name) > 200:
        raise ValidationFailed("The name is limited to 200 characters.", field="legal_name")
    if len(vat_id) > 40 or (vat_id and not vat_id.isalnum()):
        raise ValidationFailed(
            "Enter the VAT number as letters and digits (for example GB123456789).",
            field="vat_id",
        )
    if len(business_address) > 1000:
        raise ValidationFailed(
            "The address is limited to 1,000 characters.", field="business_address"
        )
    with transaction.atomic():
        profile, _ = TaxProfile.objects.select_for_update().get_or_create(owner=owner)
        profile.legal_name = legal_name
        profile.vat_id = vat_id
        profile.business_address = business_address
        profile.save(update_fields=["legal_name", "vat_id", "business_address", "updated_at"])
    return profile


# --- public page --------------------------------------------------------------------------


def invoice_viewed(*, invoice: Invoice) -> None:
    """The client opened the public page: logged; the seller is told the first time."""
    from micromarket.messaging import services as messaging_services

    with transaction.atomic():
        first = not invoice.events.filter(kind="viewed").exists()
        _event(invoice, "viewed")
        if first:
            messaging_services.notification_send(
                user=invoice.owner,
                category="books",
                title=f"{invoice.client.name} opened invoice {invoice.number}",
                url=reverse("books:invoice_detail", args=[invoice.pk]),
                group_key=f"invoice_viewed:{invoice.pk}",
            )


# --- jobs ---------------------------------------------------------------------------------


def _stage_due(kind_start: int, kind_end: int, *, due: date, today: date) -> bool:
    late = (today - due).days
    return kind_start <= late < kind_end


# Every seller's local day lies within a day of the UTC day (UTC−12 … UTC+14).
_ZONE_SLACK = timedelta(days=1)


def _was_emailed(invoice: Invoice) -> bool:
    return invoice.sent_at is not None or invoice.events.filter(kind="sent").exists()


def invoices_send_reminders(*, now: datetime) -> int:
    """Reminders for open invoices: a few days before the due date, the day after, and two
    weeks after, counted in the seller's own days (``owner.timezone``). Each is sent once per
    invoice (the ``InvoiceEvent`` for it is inserted first, under a unique constraint). The
    client gets an email only when the invoice was emailed to them (one issued "without
    emailing" is delivered by the seller, who may not want the client written to); the seller
    always gets a notification."""
    from micromarket.messaging import services as messaging_services

    sent = 0
    candidates = Invoice.objects.filter(
        status__in=OPEN_STATUSES,
        due_date__isnull=False,
        due_date__lte=now.date() + _ZONE_SLACK + timedelta(days=REMINDER_BEFORE_DAYS),
    ).select_related("client", "owner")
    for invoice in candidates.iterator():
        today = days.local_date(now, invoice.owner)
        for kind, start, end in REMINDER_STAGES:
            if not _stage_due(start, end, due=invoice.due_date, today=today):
                continue
            try:
                with transaction.atomic():
                    InvoiceEvent.objects.create(invoice=invoice, kind=kind, at=now)
                    overdue = kind != "reminder_before"
                    emailed = bool(invoice.client.email) and _was_emailed(invoice)
                    if emailed:
                        email_send_after_commit(
                            to=invoice.client.email,
                            template="books/invoices/email/reminder",
                            context={
                                "invoice": invoice,
                                "client": invoice.client,
                                "seller": invoice.owner,
                                "overdue": overdue,
                                "public_url": public_url(invoice),
                            },
                        )
                    messaging_services.notification_send(
                        user=invoice.owner,
                        category="books",
                        title=(
                            f"Invoice {invoice.number} is overdue"
                            if overdue
                            else f"Invoice {invoice.number} is due on {invoice.due_date}"
                        ),
                        body=(
                            f"{invoice.client.name} was sent a reminder."
                            if emailed
                            else f"You issued it without emailing {invoice.client.name}, so "
                            "no reminder went to them: remind them yourself if needed."
                        ),
                        url=reverse("books:invoice_detail", args=[invoice.pk]),
                        group_key=f"invoice_reminder:{invoice.pk}",
                        now=now,
                    )
                sent += 1
            except IntegrityError:
                continue  # already sent
    return sent


def invoices_apply_late_fees(*, now: datetime) -> int:
    """Once an open invoice is past due, its late fee (a percentage of the balance and/or a
    fixed amount, if the seller set one) is added as a line, once (``late_fee_applied_at``).
    "Past due" is in the seller's own days: the due date has ended where they live."""
    applied = 0
    due = Invoice.objects.filter(
        status__in=OPEN_STATUSES,
        due_date__lt=now.date() + _ZONE_SLACK,
        late_fee_applied_at__isnull=True,
    ).exclude(late_fee_bps=0, late_fee_fixed=0)
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            invoice = Invoice.objects.select_for_update().get(pk=pk)
            if invoice.late_fee_applied_at is not None or invoice.status not in OPEN_STATUSES:
                continue
            if not invoice.due_date < days.local_date(now, invoice.owner):
                continue
            fee = round_half_up(Decimal(invoice.balance) * invoice.late_fee_bps / MAX_BPS)
            fee += invoice.late_fee_fixed
            invoice.late_fee_applied_at = now
            invoice.save(update_fields=["late_fee_applied_at", "updated_at"])
            if fee > 0:
                InvoiceLine.objects.create(
                    invoice=invoice,
                    position=invoice.lines.count(),
                    description=f"Late fee (payment was due {invoice.due_date.isoformat()})",
                    quantity=Decimal(1),
                    unit="C62",
                    unit_price=fee,
                    amount=fee,
                    tax_rate_bps=0,
                    is_late_fee=True,
                )
                _recompute(invoice)
                _event(invoice, "late_fee", f"{fee} {invoice.currency}", at=now)
                applied += 1
    return applied


def recurring_invoice_create(
    *,
    owner,
    client,
    lines: list[dict],
    frequency: str,
    next_date: date,
    currency: str | None = None,
    terms_days: int = 14,
    notes: str = "",
    end_date: date | None = None,
    send_automatically: bool = True,
) -> RecurringInvoice:
    clean = _invoice_fields_clean(
        owner=owner, fields={"client": client, "terms_days": terms_days, "notes": notes}
    )
    if frequency not in RecurringExpense.Frequency.values:
        raise ValidationFailed("Choose how often.", field="frequency")
    if not lines:
        raise ValidationFailed("Add at least one line.", field="lines")
    stored = []
    for i, line in enumerate(lines):
        cl = _line_clean(line, index=i)
        cl["quantity"] = str(cl["quantity"])
        cl.pop("amount")
        stored.append(cl)
    if end_date and end_date < next_date:
        raise ValidationFailed("The end date is before the first invoice.", field="end_date")
    with transaction.atomic():
        return RecurringInvoice.objects.create(
            owner=owner,
            client=clean["client"],
            currency=currency_check(currency or clean["client"].currency),
            lines=stored,
            terms_days=clean["terms_days"],
            notes=clean["notes"],
            frequency=frequency,
            next_date=next_date,
            start_date=next_date,
            end_date=end_date,
            send_automatically=send_automatically,
        )


def recurring_invoice_from_invoice(
    *,
    owner,
    invoice,
    frequency: str,
    next_date: date,
    end_date: date | None = None,
    send_automatically: bool = True,
) -> RecurringInvoice:
    """Repeat an existing invoice's lines on a schedule."""
    try:
        invoice = Invoice.objects.get(owner=owner, pk=getattr(invoice, "pk", invoice))
    except (Invoice.DoesNotExist, TypeError, ValueError):
        raise NotFound("There is no such invoice.", code="invoice_not_found") from None
    lines = [
        {
            "description": ln.description,
            "quantity": ln.quantity,
            "unit": ln.unit,
            "unit_price": ln.unit_price,
            "discount_bps": ln.discount_bps,
            "tax_rate_bps": ln.tax_rate_bps,
        }
        for ln in invoice.lines.all()
        if not ln.is_late_fee
    ]
    return recurring_invoice_create(
        owner=owner,
        client=invoice.client_id,
        lines=lines,
        frequency=frequency,
        next_date=next_date,
        currency=invoice.currency,
        terms_days=invoice.terms_days,
        notes=invoice.notes,
        end_date=end_date,
        send_automatically=send_automatically,
    )


def recurring_invoice_stop(*, owner, recurring) -> RecurringInvoice:
    with transaction.atomic():
        try:
            row = RecurringInvoice.objects.select_for_update().get(
                owner=owner, pk=getattr(recurring, "pk", recurring)
            )
        except (RecurringInvoice.DoesNotExist, TypeError, ValueError):
            raise NotFound("There is no such recurring invoice.") from None
        row.active = False
        row.save(update_fields=["active"])
    return row


def recurring_invoices_run(*, now: datetime) -> int:
    """Make the invoice of every due occurrence, once (unique per recurring invoice and date),
    and send it when the seller asked for that. Occurrences missed while the job was not
    running are made one per run of the loop, each with its own date. An occurrence is due
    once its date has begun where the seller lives; monthly dates keep the first one's day of
    month (31 January → 28 February → 31 March)."""
    made = 0
    due = RecurringInvoice.objects.filter(active=True, next_date__lte=now.date() + _ZONE_SLACK)
    for pk in due.values_list("pk", flat=True):
        while True:
            with transaction.atomic():
                row = RecurringInvoice.objects.select_for_update().get(pk=pk)
                today = days.local_date(now, row.owner)
                if not row.active or row.next_date > today:
                    break
                occurrence = row.next_date
                if row.end_date and occurrence > row.end_date:
                    row.active = False
                    row.save(update_fields=["active"])
                    break
                row.next_date = next_occurrence(
                    occurrence, row.frequency, row.start_date or occurrence
                )
                row.save(update_fields=["next_date"])
                if Invoice.objects.filter(recurring=row, recurring_date=occurrence).exists():
                    continue
                try:
                    with transaction.atomic():
                        invoice = invoice_create(
                            owner=row.owner,
                            client=row.client_id,
                            currency=row.currency,
                            terms_days=row.terms_days,
                            notes=row.notes,
                            lines=row.lines,
                            recurring=row,
                            recurring_date=occurrence,
                        )
                        if row.send_automatically and row.client.email:
                            invoice_send(owner=row.owner, invoice=invoice, today=occurrence)
                    made += 1
                except IntegrityError:
                    continue
                except (ValidationFailed, NotFound, Conflict):
                    row.active = False  # the client was archived or removed: stop
                    row.save(update_fields=["active"])
                    break
    return made
