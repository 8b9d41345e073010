"""Reads of the insights area: income volatility and runway (docs/books/insights.md).

Everything is per currency (there are no exchange rates offline). Months are calendar months of
the entries' dates. "Complete" months are the months before the current one; averages,
variation, best and worst months use complete months only, and never months before the seller's
first entry (a seller who started in March is not averaged with empty months before it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Min, Sum
from django.db.models.functions import TruncMonth

from micromarket.books import categories
from micromarket.books.models import Entry, TaxProfile
from micromarket.books.selectors import budget as budget_selectors
from micromarket.books.selectors import entries as entry_selectors

AVERAGE_WINDOWS = (3, 6, 12)
HISTORY_MONTHS = 12
# Rough reading of the coefficient of variation (a guide, not a standard).
CV_STEADY = Decimal("15")
CV_VARIABLE = Decimal("40")


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_end(first: date) -> date:
    return date.fromordinal(add_months(first, 1).toordinal() - 1)


def _round(value: Decimal, places: str = "1") -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _mean(values: list[int]) -> int:
    return int(_round(Decimal(sum(values)) / len(values))) if values else 0


@dataclass(frozen=True)
class Month:
    start: date
    income: int
    expenses: int
    partial: bool = False  # the current month, so far

    @property
    def label(self) -> str:
        text = f"{self.start:%b %Y}"
        return f"{text} (so far)" if self.partial else text


@dataclass(frozen=True)
class Average:
    window: int  # months asked for
    months: int  # complete months actually used (fewer for a new seller)
    income: int
    expenses: int


@dataclass(frozen=True)
class Runway:
    emergency: int
    monthly_spending: int
    months: Decimal | None  # None when no spending is recorded
    explanation: str


@dataclass(frozen=True)
class Insights:
    currency: str
    today: date
    months: list[Month]  # oldest first: HISTORY_MONTHS complete months + the current one
    complete: list[Month]  # the complete months since the first entry (≤ 12), oldest first
    averages: list[Average]
    cv_percent: Decimal | None
    cv_label: str
    cv_explanation: str
    best: Month | None
    worst: Month | None
    runway: Runway
    by_source: list[tuple[str, int]] = field(default_factory=list)
    by_category: list[tuple[str, int]] = field(default_factory=list)
    window_start: date | None = None
    window_end: date | None = None

    @property
    def has_data(self) -> bool:
        return any(m.income or m.expenses for m in self.months)


def default_currency(owner) -> str:
    """The tax profile's currency, else the most used one in the books, else USD."""
    profile = TaxProfile.objects.filter(owner=owner).first()
    used = entry_selectors.currencies_used(owner)
    if profile is not None and (profile.currency in used or not used):
        return profile.currency
    return used[0] if used else "USD"


def currencies(owner) -> list[str]:
    """Currencies worth offering a switch to: the books' and the envelopes'."""
    seen = entry_selectors.currencies_used(owner)
    for c in budget_selectors.budget_currencies(owner):
        if c not in seen:
            seen.append(c)
    return seen


def monthly_totals(owner, *, currency: str, start: date, end: date) -> dict[date, tuple[int, int]]:
    """{first day of month: (income, expenses)} over ``start``–``end``; one grouped query."""
    rows = (
        Entry.objects.filter(owner=owner, currency=currency, date__gte=start, date__lte=end)
        .annotate(month=TruncMonth("date"))
        .values("month", "kind")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    out: dict[date, list[int]] = {}
    for row in rows:
        month = row["month"]
        month = month.date() if hasattr(month, "date") else month
        pair = out.setdefault(month, [0, 0])
        pair[0 if row["kind"] == Entry.Kind.INCOME else 1] += row["total"]
    return {k: (v[0], v[1]) for k, v in out.items()}


def monthly_series(
    owner, *, currency: str, today: date, months: int = HISTORY_MONTHS
) -> list[Month]:
    """The last ``months`` complete months and the current month so far, oldest first."""
    current = month_start(today)
    first = add_months(current, -months)
    totals = monthly_totals(owner, currency=currency, start=first, end=today)
    series = []
    for i in range(months + 1):
        start = add_months(first, i)
        income, expenses = totals.get(start, (0, 0))
        series.append(Month(start, income, expenses, partial=start == current))
    return series


def _first_entry_month(owner, currency: str) -> date | None:
    first = Entry.objects.filter(owner=owner, currency=currency).aggregate(d=Min("date"))["d"]
    return month_start(first) if first else None


def _cv(values: list[int]) -> Decimal | None:
    """Population standard deviation ÷ mean, in percent; None for fewer than two months or
    no income."""
    if len(values) < 2:
        return None
    mean = sum(values) / len(values)
    if mean <= 0:
        return None
    variance = sum((v - mean) ** 2 for v in values) / len(values)
    return _round(Decimal(str(math.sqrt(variance) / mean * 100)), "0.1")


def _cv_label(cv: Decimal | None) -> str:
    if cv is None:
        return ""
    if cv < CV_STEADY:
        return "steady"
    if cv < CV_VARIABLE:
        return "variable"
    return "very variable"


def income_by_source(owner, *, currency: str, start: date, end: date) -> list[tuple[str, int]]:
    """[("micromarket", …), ("Outside micromarket", …)] — platform earnings vs the rest."""
    rows = (
        Entry.objects.filter(
            owner=owner,
            kind=Entry.Kind.INCOME,
            currency=currency,
            date__gte=start,
            date__lte=end,
        )
        .values("source")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    platform = sum(r["total"] for r in rows if r["source"] == Entry.Source.PLATFORM)
    outside = sum(r["total"] for r in rows if r["source"] != Entry.Source.PLATFORM)
    return [("micromarket", platform), ("Outside micromarket", outside)]


def insights_for(owner, *, currency: str, today: date) -> Insights:
    months = monthly_series(owner, currency=currency, today=today)
    first = _first_entry_month(owner, currency)
    complete_all = [m for m in months if not m.partial]
    complete = [m for m in complete_all if first is not None and m.start >= first]

    averages = []
    for window in AVERAGE_WINDOWS:
        used = complete[-window:]
        averages.append(
            Average(
                window=window,
                months=len(used),
                income=_mean([m.income for m in used]),
                expenses=_mean([m.expenses for m in used]),
            )
        )

    incomes = [m.income for m in complete]
    cv = _cv(incomes)
    if cv is None:
        cv_explanation = "Needs at least two complete months with income."
    else:
        cv_explanation = (
            f"Standard deviation of your monthly income over the last {len(complete)} complete "
            f"months divided by their average ({cv}%). Under {CV_STEADY}% reads as steady, "
            f"{CV_STEADY}–{CV_VARIABLE}% as variable, above that as very variable."
        )
    best = max(reversed(complete), key=lambda m: m.income) if complete else None
    worst = min(reversed(complete), key=lambda m: m.income) if complete else None

    # Runway: the emergency envelope over the average monthly spending (the 12-month average of
    # recorded expenses, fewer months for a new seller).
    emergency = budget_selectors.emergency_balance(owner, currency)
    spending = averages[-1].expenses
    if spending > 0:
        runway_months = _round(Decimal(emergency) / Decimal(spending), "0.1")
        explanation = (
            f"Emergency fund ÷ average monthly business spending over the last "
            f"{averages[-1].months} complete month{'s' if averages[-1].months != 1 else ''}."
        )
    else:
        runway_months = None
        explanation = (
            "No spending recorded in complete months yet, so there is nothing to divide by."
        )
    runway = Runway(
        emergency=emergency,
        monthly_spending=spending,
        months=runway_months,
        explanation=explanation,
    )

    window_start = months[0].start
    by_source = income_by_source(owner, currency=currency, start=window_start, end=today)
    totals = entry_selectors.entry_totals(owner, start=window_start, end=today, currency=currency)
    by_category = sorted(
        (
            (getattr(categories.category_get(key), "label", key), amount)
            for key, amount in totals.income_by_category.items()
        ),
        key=lambda pair: -pair[1],
    )
    return Insights(
        currency=currency,
        today=today,
        months=months,
        complete=complete,
        averages=averages,
        cv_percent=cv,
        cv_label=_cv_label(cv),
        cv_explanation=cv_explanation,
        best=best,
        worst=worst,
        runway=runway,
        by_source=by_source,
        by_category=by_category,
        window_start=window_start,
        window_end=today,
    )
