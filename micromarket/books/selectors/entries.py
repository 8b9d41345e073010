"""Reads of the books' entries (the entries area), shared by tax, insights and reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Sum

from micromarket.books import categories
from micromarket.books.models import Entry


@dataclass(frozen=True)
class Totals:
    """Income and expenses of one owner in one currency over ``start``–``end`` (inclusive)."""

    currency: str
    income: int
    expenses: int  # as recorded
    deductible_expenses: int  # after the US 50% meals rule (``us_rules=True``)
    income_by_category: dict[str, int] = field(default_factory=dict)
    expenses_by_category: dict[str, int] = field(default_factory=dict)

    @property
    def profit(self) -> int:
        return self.income - self.deductible_expenses


def entry_totals(owner, *, start: date, end: date, currency: str, us_rules: bool = True) -> Totals:
    """One grouped query. Entries in other currencies are not converted (there are no exchange
    rates offline); callers show them separately (``currencies_used``)."""
    rows = (
        Entry.objects.filter(owner=owner, currency=currency, date__gte=start, date__lte=end)
        .values("kind", "category")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    income: dict[str, int] = {}
    expenses: dict[str, int] = {}
    for row in rows:
        target = income if row["kind"] == Entry.Kind.INCOME else expenses
        target[row["category"]] = target.get(row["category"], 0) + row["total"]
    spent = sum(expenses.values())
    meals = expenses.get("meals", 0)
    if us_rules:
        deductible = spent - meals + meals * categories.MEALS_DEDUCTIBLE_PERCENT // 100
    else:
        deductible = spent - meals  # UK: business entertainment is not allowable
    return Totals(
        currency=currency,
        income=sum(income.values()),
        expenses=spent,
        deductible_expenses=deductible,
        income_by_category=income,
        expenses_by_category=expenses,
    )


def currencies_used(owner) -> list[str]:
    """The currencies of the owner's entries, most used first."""
    from django.db.models import Count

    rows = (
        Entry.objects.filter(owner=owner)
        .values("currency")
        .annotate(n=Count("id"))
        .order_by("-n", "currency")
    )
    return [r["currency"] for r in rows]


# --- the entries area's own reads ---------------------------------------------------------


def entries_list(
    owner,
    *,
    kind: str = "",
    category: str = "",
    year: int | None = None,
    month: int | None = None,
    q: str = "",
    source: str = "",
):
    """The owner's entries, newest first, filtered."""
    qs = Entry.objects.filter(owner=owner)
    if kind:
        qs = qs.filter(kind=kind)
    if category:
        qs = qs.filter(category=category)
    if source:
        qs = qs.filter(source=source)
    if year:
        qs = qs.filter(date__year=year)
        if month:
            qs = qs.filter(date__month=month)
    if q:
        from django.db.models import Q

        qs = qs.filter(Q(payee__icontains=q) | Q(note__icontains=q))
    return qs.order_by("-date", "-id")


def entry_get(owner, entry_id) -> Entry:
    """One of the owner's entries, or NotFound (another seller's entry does not exist here)."""
    from micromarket.core.errors import NotFound

    entry = Entry.objects.filter(owner=owner, pk=entry_id).first()
    if entry is None:
        raise NotFound("There is no such entry in your books.", code="entry_not_found")
    return entry


def list_totals(qs) -> dict[str, dict[str, int]]:
    """{currency: {"income": …, "expense": …}} of a filtered entries list."""
    result: dict[str, dict[str, int]] = {}
    for row in qs.order_by().values("currency", "kind").annotate(total=Sum("amount")):
        result.setdefault(row["currency"], {"income": 0, "expense": 0})[row["kind"]] = row["total"]
    return result


def entry_years(owner) -> list[int]:
    return sorted(
        {d.year for d in Entry.objects.filter(owner=owner).dates("date", "year")}, reverse=True
    )


def mileage_trips(owner):
    from micromarket.books.models import MileageTrip

    return MileageTrip.objects.filter(owner=owner).select_related("entry").order_by("-date", "-id")


def mileage_trip_get(owner, trip_id):
    from micromarket.books.models import MileageTrip
    from micromarket.core.errors import NotFound

    trip = MileageTrip.objects.filter(owner=owner, pk=trip_id).select_related("entry").first()
    if trip is None:
        raise NotFound("There is no such trip in your mileage log.", code="trip_not_found")
    return trip


def recurring_expenses(owner):
    from micromarket.books.models import RecurringExpense

    return RecurringExpense.objects.filter(owner=owner).order_by("-active", "next_date", "id")


def recurring_expense_get(owner, recurring_id):
    from micromarket.books.models import RecurringExpense
    from micromarket.core.errors import NotFound

    item = RecurringExpense.objects.filter(owner=owner, pk=recurring_id).first()
    if item is None:
        raise NotFound("There is no such recurring expense.", code="recurring_not_found")
    return item
