"""Pages of the insights area: the back office's overview (``books:dashboard``, /books/) and the
income trends page (volatility and runway). See docs/books/insights.md."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from micromarket.books import taxdata
from micromarket.books.models import TaxProfile
from micromarket.books.selectors import budget as budget_selectors
from micromarket.books.selectors import entries as entry_selectors
from micromarket.books.selectors import insights as selectors
from micromarket.books.selectors import tax as tax_selectors
from micromarket.books.services import budget as budget_services
from micromarket.books.views.budget import envelopes_chart, page_currency
from micromarket.core.charts import bar_chart, share_bar
from micromarket.core.money import money_format

log = logging.getLogger(__name__)


def platform_sync(owner) -> None:
    """Copy the seller's newly released platform earnings before showing figures. A failure
    here must not hide the books: it is logged and the job catches up."""
    try:
        from micromarket.books.services import entries as entry_services

        sync = getattr(entry_services, "platform_income_sync", None)
        if sync is not None:
            sync(owner=owner)
    except Exception:
        log.exception("books: platform income sync failed for user %s", owner.pk)


def next_tax_payment(owner):
    """The tax area's next payment, or None (no profile yet, no data for the year)."""
    return tax_selectors.next_payment(owner)


def income_chart(months, currency: str, *, with_expenses: bool = True):
    series = {"Income": [m.income for m in months]}
    if with_expenses:
        series["Expenses"] = [m.expenses for m in months]
    return bar_chart(
        [m.label for m in months],
        series,
        title=f"Income{' and expenses' if with_expenses else ''} by month ({currency})",
        fmt=lambda v: money_format(v, currency),
    )


def _year_to_date(owner, currency: str, today):
    """This tax year so far (UK: from 6 April), via the entries' totals."""
    profile = TaxProfile.objects.filter(owner=owner).first()
    country = profile.country if profile else "US"
    year = taxdata.current_tax_year(country, today)
    start, _ = taxdata.tax_year_bounds(country, year)
    totals = entry_selectors.entry_totals(
        owner, start=start, end=today, currency=currency, us_rules=country == "US"
    )
    return totals, taxdata.tax_year_label(country, year), start


@login_required
def dashboard(request):
    owner = request.user
    platform_sync(owner)
    budget_services.envelopes_ensure_default(owner=owner)
    currency = page_currency(request, owner)
    today = timezone.localdate()
    months = selectors.monthly_series(owner, currency=currency, today=today)
    balances = budget_selectors.envelope_balances(owner)
    payment = next_tax_payment(owner)
    safe = budget_selectors.safe_to_spend(owner, currency, next_payment=payment, use_tax=False)
    totals, year_label, year_start = _year_to_date(owner, currency, today)
    tax_chart = None
    if payment is not None:
        held = budget_selectors.taxes_balance(owner, payment.currency)
        tax_chart = bar_chart(
            [payment.period_label],
            {"Due": [payment.amount], "In your Taxes envelope": [held]},
            title=f"Next tax payment, due {payment.due_date:%d %b %Y}",
            fmt=lambda v: money_format(v, payment.currency),
        )
    insight = selectors.insights_for(owner, currency=currency, today=today)
    return render(
        request,
        "books/insights/dashboard.html",
        {
            "tab": "dashboard",
            "currency": currency,
            "currencies": selectors.currencies(owner),
            "income_chart": income_chart(months[-7:], currency),
            "envelopes_chart": envelopes_chart(balances, currency),
            "balances": [(e, b.get(currency, 0)) for e, b in balances],
            "payment": payment,
            "tax_chart": tax_chart,
            "safe": safe,
            "totals": totals,
            "year_label": year_label,
            "year_start": year_start,
            "runway": insight.runway,
            "has_entries": bool(entry_selectors.currencies_used(owner)),
            "has_tax_profile": TaxProfile.objects.filter(owner=owner).exists(),
        },
    )


@login_required
def insights(request):
    owner = request.user
    platform_sync(owner)
    currency = page_currency(request, owner)
    today = timezone.localdate()
    data = selectors.insights_for(owner, currency=currency, today=today)
    fmt = lambda v: money_format(v, currency)  # noqa: E731
    return render(
        request,
        "books/insights/insights.html",
        {
            "tab": "insights",
            "currency": currency,
            "currencies": selectors.currencies(owner),
            "data": data,
            "income_chart": income_chart(data.months, currency, with_expenses=False),
            "source_chart": share_bar(data.by_source, title="Income by source", fmt=fmt),
            "category_chart": share_bar(
                data.by_category or [("No income yet", 0)], title="Income by category", fmt=fmt
            ),
        },
    )


urlpatterns = [
    path("books/", dashboard, name="dashboard"),
    path("books/insights/", insights, name="insights"),
]
