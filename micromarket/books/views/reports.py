"""Pages of the reports area: profit and loss by month, quarter or year (chart + table),
expenses by category, the Schedule C and SA103F summaries, and the exports (a zip of CSVs and
a Beancount file). See docs/books/reports.md."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from micromarket.books.selectors import reports as selectors
from micromarket.books.selectors.entries import currencies_used
from micromarket.core import charts
from micromarket.core.money import money_format


def _sync(request) -> None:
    """Copy released platform earnings first, so the report includes them (entries area)."""
    from micromarket.books.services import entries as entry_services

    sync = getattr(entry_services, "platform_income_sync", None)
    if sync is not None:
        sync(owner=request.user)


def _year(request, default: int) -> int:
    try:
        year = int(request.GET.get("year", default))
    except (TypeError, ValueError):
        return default
    return year if 2000 <= year <= 2100 else default


@login_required
def reports_index(request):
    _sync(request)
    owner = request.user
    today = timezone.localdate()
    year = _year(request, today.year)
    period = request.GET.get("period", "month")
    if period not in selectors.PERIODS:
        period = "month"
    currency = selectors.report_currency(owner, request.GET.get("currency"))

    def fmt(v):
        return money_format(v, currency)

    report = selectors.pnl(owner, currency=currency, period=period, year=year)
    labels = [row.label for row in report.rows]
    chart = charts.bar_chart(
        labels,
        {
            "Income": [r.income for r in report.rows],
            "Expenses": [r.expenses for r in report.rows],
            "Profit": [r.profit for r in report.rows],
        },
        title=f"Profit and loss by {period}, {currency}",
        fmt=fmt,
    )
    start, end = (
        (date(year, 1, 1), date(year, 12, 31))
        if period != "year"
        else (report.rows[0].start, report.rows[-1].end)
    )
    categories = selectors.expenses_by_category(owner, currency=currency, start=start, end=end)
    category_chart = (
        charts.share_bar(
            [(row.label, row.amount) for row in categories],
            title=f"Expenses by category, {currency}",
            fmt=fmt,
        )
        if categories
        else None
    )
    years = sorted(set(selectors.years_with_entries(owner)) | {today.year}, reverse=True)
    return render(
        request,
        "books/reports/index.html",
        {
            "tab": "reports",
            "report": report,
            "chart": chart,
            "categories": categories,
            "category_chart": category_chart,
            "currency": currency,
            "currencies": currencies_used(owner) or ["USD"],
            "year": year,
            "years": years,
            "period": period,
            "periods": [("month", "By month"), ("quarter", "By quarter"), ("year", "By year")],
            "schedule_c": selectors.schedule_c(owner, currency=currency, year=year),
            "sa103f": selectors.sa103f(owner, currency=currency, year=year),
        },
    )


@login_required
def export_csv(request):
    _sync(request)
    content = selectors.export_zip(request.user)
    response = HttpResponse(content, content_type="application/zip")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="books-{stamp}.zip"'
    return response


@login_required
def export_beancount(request):
    _sync(request)
    content = selectors.export_beancount(request.user)
    response = HttpResponse(content, content_type="text/plain; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="books-{stamp}.beancount"'
    return response


urlpatterns = [
    path("books/reports/", reports_index, name="reports"),
    path("books/reports/export.zip", export_csv, name="export_csv"),
    path("books/reports/export.beancount", export_beancount, name="export_beancount"),
]
