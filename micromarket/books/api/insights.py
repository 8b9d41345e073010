"""API of the insights area: income volatility and runway in one currency.
See docs/books/insights.md."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router

from micromarket.books.schemas.insights import InsightsOut
from micromarket.books.selectors import insights as selectors
from micromarket.core.api import PROBLEM_RESPONSES
from micromarket.core.money import currency_check

router = Router(tags=["books"])


def _month(m) -> dict | None:
    if m is None:
        return None
    return {
        "month": m.start,
        "label": m.label,
        "income": m.income,
        "expenses": m.expenses,
        "partial": m.partial,
    }


@router.get(
    "/insights",
    response={200: InsightsOut, **PROBLEM_RESPONSES},
    summary="Income trends: monthly income, averages, variation, runway, sources",
    description="The last 12 complete months and the current one. Averages, variation and "
    "best/worst use complete months since your first entry. Runway = emergency envelope ÷ "
    "average monthly business spending.",
)
def insights_get(request: HttpRequest, currency: str | None = Query(None)):
    code = currency_check(currency) if currency else selectors.default_currency(request.auth)
    data = selectors.insights_for(request.auth, currency=code, today=timezone.localdate())
    return {
        "currency": code,
        "months": [_month(m) for m in data.months],
        "averages": [a.__dict__ for a in data.averages],
        "coefficient_of_variation_percent": (
            str(data.cv_percent) if data.cv_percent is not None else None
        ),
        "variation": data.cv_label,
        "best_month": _month(data.best),
        "worst_month": _month(data.worst),
        "runway": {
            "emergency": data.runway.emergency,
            "monthly_spending": data.runway.monthly_spending,
            "months": str(data.runway.months) if data.runway.months is not None else None,
            "explanation": data.runway.explanation,
        },
        "by_source": [{"label": k, "amount": v} for k, v in data.by_source],
        "by_category": [{"label": k, "amount": v} for k, v in data.by_category],
    }
