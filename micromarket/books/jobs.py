"""Periodic back-office jobs run by the worker's sweeper (each area registers its own here)."""

from datetime import datetime, timedelta

from micromarket.core.sweeper import periodic

# --- tax ------------------------------------------------------------------------------------


@periodic("books.tax_reminders", every=timedelta(hours=6))
def tax_reminders(*, now: datetime) -> int:
    """A reminder before each estimated-tax due date (once per due date and owner)."""
    from micromarket.books.services import tax as tax_services

    return tax_services.tax_reminders_send(now=now)


# --- end tax


# --- entries --------------------------------------------------------------------------------


@periodic("books.platform_income_sync", every=timedelta(minutes=5))
def platform_income_sync(*, now: datetime) -> int:
    """Released platform earnings copied into the sellers' books (each ledger transaction once)."""
    from micromarket.books.services import entries as entry_services

    return entry_services.platform_income_sync()


@periodic("books.recurring_expenses", every=timedelta(hours=1))
def recurring_expenses(*, now: datetime) -> int:
    """Each due occurrence of a recurring expense recorded once."""
    from django.utils import timezone

    from micromarket.books.services import entries as entry_services

    return entry_services.recurring_expenses_record_due(today=timezone.localdate(now))


# --- end entries


# --- invoices -------------------------------------------------------------------------------


@periodic("books.invoice_reminders", every=timedelta(hours=6))
def invoice_reminders(*, now: datetime) -> int:
    """Reminders before and after an open invoice's due date (each once per invoice)."""
    from micromarket.books.services import invoices as invoice_services

    return invoice_services.invoices_send_reminders(now=now)


@periodic("books.invoice_late_fees", every=timedelta(hours=6))
def invoice_late_fees(*, now: datetime) -> int:
    """An overdue invoice's late fee, added once, when the seller set one."""
    from micromarket.books.services import invoices as invoice_services

    return invoice_services.invoices_apply_late_fees(now=now)


@periodic("books.recurring_invoices", every=timedelta(hours=1))
def recurring_invoices(*, now: datetime) -> int:
    """The invoice of each due occurrence of a recurring invoice, once (sent if asked)."""
    from micromarket.books.services import invoices as invoice_services

    return invoice_services.recurring_invoices_run(now=now)


# --- end invoices
