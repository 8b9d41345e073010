"""Reads of the invoices area: clients, invoices (with the derived *overdue* state), the
public page's invoice, recurring invoices."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.utils import timezone

from micromarket.books.models import Client, Invoice, RecurringInvoice, TaxProfile, TimeEntry
from micromarket.core.errors import NotFound

OPEN_STATUSES = (Invoice.Status.SENT, Invoice.Status.PARTLY_PAID)
STATUS_FILTERS = ("draft", "sent", "partly_paid", "paid", "overdue", "void", "open")


def client_get(owner, pk) -> Client:
    try:
        return Client.objects.get(owner=owner, pk=int(pk))
    except (Client.DoesNotExist, TypeError, ValueError):
        raise NotFound("There is no such client.", code="client_not_found") from None


def clients_list(owner, *, include_archived: bool = False) -> QuerySet[Client]:
    qs = Client.objects.filter(owner=owner)
    if not include_archived:
        qs = qs.filter(archived_at__isnull=True)
    return qs


def is_overdue(invoice: Invoice, today: date | None = None) -> bool:
    """Overdue is derived, never stored: sent or partly paid, and past the due date."""
    today = today or timezone.localdate()
    return (
        invoice.status in OPEN_STATUSES
        and invoice.due_date is not None
        and invoice.due_date < today
    )


def display_status(invoice: Invoice, today: date | None = None) -> str:
    if is_overdue(invoice, today):
        return "overdue"
    return invoice.status


def display_status_label(invoice: Invoice, today: date | None = None) -> str:
    if is_overdue(invoice, today):
        return "Overdue"
    return invoice.get_status_display()


def invoices_list(owner, *, status: str = "", client=None, today: date | None = None):
    today = today or timezone.localdate()
    qs = Invoice.objects.filter(owner=owner).select_related("client")
    if client is not None:
        qs = qs.filter(client_id=getattr(client, "pk", client))
    if status == "overdue":
        qs = qs.filter(status__in=OPEN_STATUSES, due_date__lt=today)
    elif status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status in Invoice.Status.values:
        qs = qs.filter(status=status)
    return qs


def invoice_get(owner, pk) -> Invoice:
    try:
        return Invoice.objects.select_related("client").get(owner=owner, pk=int(pk))
    except (Invoice.DoesNotExist, TypeError, ValueError):
        raise NotFound("There is no such invoice.", code="invoice_not_found") from None


def invoice_get_public(token: str) -> Invoice:
    """The invoice behind a public link; drafts are not public."""
    if not token or len(token) > 43:
        raise NotFound("There is no such invoice.")
    try:
        return (
            Invoice.objects.select_related("client", "owner")
            .exclude(status=Invoice.Status.DRAFT)
            .get(public_token=token)
        )
    except Invoice.DoesNotExist:
        raise NotFound("There is no such invoice.") from None


def invoice_settings(owner) -> dict[str, str]:
    """The seller's invoice details (``TaxProfile``): legal name, VAT number, address."""
    profile = TaxProfile.objects.filter(owner=owner).first()
    return {
        "legal_name": profile.legal_name if profile else "",
        "vat_id": profile.vat_id if profile else "",
        "business_address": profile.business_address if profile else "",
    }


def billed_time_count(invoice: Invoice) -> int:
    """Tracked time entries billed on ``invoice`` (they become unbilled if it is voided)."""
    return TimeEntry.objects.filter(invoice_line__invoice=invoice).count()


def recurring_list(owner) -> QuerySet[RecurringInvoice]:
    return RecurringInvoice.objects.filter(owner=owner).select_related("client")


def outstanding_by_currency(owner, today: date | None = None) -> dict[str, dict[str, int]]:
    """{currency: {"open": balance due, "overdue": of which overdue}} for the list header."""
    today = today or timezone.localdate()
    result: dict[str, dict[str, int]] = {}
    for inv in Invoice.objects.filter(owner=owner, status__in=OPEN_STATUSES).only(
        "currency", "total", "paid_total", "due_date", "status"
    ):
        row = result.setdefault(inv.currency, {"open": 0, "overdue": 0})
        row["open"] += inv.balance
        if is_overdue(inv, today):
            row["overdue"] += inv.balance
    return result
