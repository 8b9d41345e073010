"""API of the reports area: profit and loss, Schedule C and SA103F summaries, expenses by
category, and the exports (zip of CSVs, Beancount). Everything is the caller's own books.
See docs/books/reports.md."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router

from micromarket.books.schemas.reports import (
    ExpensesByCategoryOut,
    PnlOut,
    Sa103fOut,
    ScheduleCOut,
)
from micromarket.books.selectors import reports as selectors
from micromarket.core.api import PROBLEM_RESPONSES

router = Router(tags=["books: reports"])


def _year(year: int | None) -> int:
    return year or timezone.localdate().year


def _row(label, start, end, totals) -> dict:
    return {
        "label": label,
        "start": start,
        "end": end,
        "income": totals.income,
        "expenses": totals.expenses,
        "deductible_expenses": totals.deductible_expenses,
        "profit": totals.profit,
    }


def _line(line) -> dict:
    return {**line.__dict__, "categories": list(line.categories)}


@router.get(
    "/reports/pnl",
    response={200: PnlOut, **PROBLEM_RESPONSES},
    summary="Profit and loss by month, quarter or year",
)
def pnl(request: HttpRequest, period: str = "month", year: int | None = None, currency: str = ""):
    owner = request.auth
    report = selectors.pnl(
        owner,
        currency=selectors.report_currency(owner, currency),
        period=period,
        year=_year(year),
    )
    rows = [_row(r.label, r.start, r.end, r.totals) for r in report.rows]
    return {
        "currency": report.currency,
        "period": report.period,
        "year": report.year,
        "rows": rows,
        "total": _row("Total", rows[0]["start"], rows[-1]["end"], report.total),
    }


@router.get("/reports/schedule-c", response=ScheduleCOut, summary="Schedule C summary")
def schedule_c(request: HttpRequest, year: int | None = None, currency: str = ""):
    currency = selectors.report_currency(request.auth, currency or "USD")
    lines = selectors.schedule_c(request.auth, currency=currency, year=_year(year))
    return {"year": _year(year), "currency": currency, "lines": [_line(x) for x in lines]}


@router.get("/reports/sa103f", response=Sa103fOut, summary="UK SA103F box summary")
def sa103f(request: HttpRequest, year: int | None = None, currency: str = ""):
    currency = selectors.report_currency(request.auth, currency or "GBP")
    today = timezone.localdate()
    default = today.year if (today.month, today.day) >= (4, 6) else today.year - 1
    report = selectors.sa103f(request.auth, currency=currency, year=year or default)
    return {
        "tax_year": report.label,
        "start": report.start,
        "end": report.end,
        "currency": currency,
        "lines": [_line(x) for x in report.lines],
        "not_allowable": dict(report.not_allowable),
    }


@router.get(
    "/reports/expenses-by-category",
    response=ExpensesByCategoryOut,
    summary="Expenses by category",
    description="Between `start` and `end` (default: this calendar year).",
)
def expenses_by_category(
    request: HttpRequest, start: date | None = None, end: date | None = None, currency: str = ""
):
    year = timezone.localdate().year
    start = start or date(year, 1, 1)
    end = end or date(year, 12, 31)
    currency = selectors.report_currency(request.auth, currency)
    rows = selectors.expenses_by_category(request.auth, currency=currency, start=start, end=end)
    return {
        "currency": currency,
        "start": start,
        "end": end,
        "categories": [r.__dict__ for r in rows],
    }


@router.get(
    "/exports/csv",
    summary="Everything as a zip of CSV files",
    response={200: None},
    openapi_extra={"responses": {200: {"content": {"application/zip": {}}}}},
)
def export_csv(request: HttpRequest):
    response = HttpResponse(selectors.export_zip(request.auth), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="books.zip"'
    return response


@router.get(
    "/exports/beancount",
    summary="The books as a Beancount ledger",
    response={200: None},
    openapi_extra={"responses": {200: {"content": {"text/plain": {}}}}},
)
def export_beancount(request: HttpRequest):
    response = HttpResponse(
        selectors.export_beancount(request.auth), content_type="text/plain; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="books.beancount"'
    return response
