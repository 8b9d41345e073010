"""Reads of the tax area: the seller's tax profile, payments made, and the estimate built from
the books (``selectors.entries.entry_totals``), the tax profile and the tax-year data files
(``taxdata``) with the arithmetic of ``taxcalc``. See docs/books/tax.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Sum
from django.utils import timezone

from micromarket.books import taxcalc, taxdata
from micromarket.books.models import Entry, TaxPayment, TaxProfile
from micromarket.books.selectors import days
from micromarket.books.selectors.entries import currencies_used, entry_totals
from micromarket.core.errors import NotFound

US_PERIODS = ("Q1", "Q2", "Q3", "Q4")
UK_PERIODS = ("POA1", "POA2", "balancing")
PERIOD_LABELS = {
    "Q1": "1st quarterly installment",
    "Q2": "2nd quarterly installment",
    "Q3": "3rd quarterly installment",
    "Q4": "4th quarterly installment",
    "POA1": "1st payment on account",
    "POA2": "2nd payment on account",
    "balancing": "Balancing payment",
}

DISCLAIMER = (
    "These are estimates, not tax advice. They use only what is in your books and your tax "
    "profile, federal (US) or England, Wales and Northern Ireland (UK) rules, and no credits or "
    "other reliefs. Check with a tax professional or the official calculators before you pay."
)


def today_for(owner, *, now: datetime | None = None) -> date:
    """The owner's calendar day at ``now`` (``selectors.days``): due dates, reminder
    windows and the year-to-date count in the seller's days, not the server's."""
    return days.owner_today(owner, now=now)


def profile_get(owner) -> TaxProfile:
    """The owner's tax profile, or an unsaved default one (US, single) if there is none."""
    profile = TaxProfile.objects.filter(owner=owner).first()
    return profile or TaxProfile(owner=owner)


def periods_for(country: str) -> tuple[str, ...]:
    return UK_PERIODS if country == "UK" else US_PERIODS


def payments_list(owner, *, country: str | None = None, tax_year: int | None = None):
    qs = TaxPayment.objects.filter(owner=owner)
    if country:
        qs = qs.filter(country=country)
    if tax_year is not None:
        qs = qs.filter(tax_year=tax_year)
    return qs.order_by("-date", "-id")


def payment_get(owner, pk) -> TaxPayment:
    try:
        return TaxPayment.objects.get(owner=owner, pk=pk)
    except (TaxPayment.DoesNotExist, ValueError, TypeError):
        raise NotFound("There is no such tax payment.", code="tax_payment_not_found") from None


def _paid(owner, country: str, year: int, periods=None) -> int:
    qs = TaxPayment.objects.filter(owner=owner, country=country, tax_year=year)
    if periods:
        qs = qs.filter(period__in=periods)
    return qs.aggregate(total=Sum("amount"))["total"] or 0


def _has_entries(owner, start: date, end: date, currency: str) -> bool:
    return Entry.objects.filter(
        owner=owner, currency=currency, date__gte=start, date__lte=end
    ).exists()


@dataclass
class TaxView:
    """Everything the estimate page, the API and the dashboard need for one tax year."""

    profile: TaxProfile
    country: str
    year: int
    label: str
    currency: str
    start: date
    end: date
    today: date
    ytd: taxcalc.Figure
    projected: taxcalc.Figure
    estimate: taxcalc.Estimate
    tax_year: taxdata.TaxYear
    other_currencies: list[str] = field(default_factory=list)
    disclaimer: str = DISCLAIMER

    @property
    def figures(self) -> list[taxcalc.Figure]:
        return [self.ytd, self.projected, *self.estimate.figures]

    @property
    def schedule(self) -> list[taxcalc.Due]:
        return self.estimate.schedule

    @property
    def by_date(self) -> list[tuple[date, int, int]]:
        return taxcalc.totals_by_date(self.estimate.schedule)

    @property
    def sources(self) -> list[dict[str, str]]:
        return list(self.tax_year.sources.values())


def estimate_years(country: str) -> list[int]:
    return taxdata.available_years(country)


def estimate_for(owner, *, year: int | None = None, today: date | None = None) -> TaxView:
    """The estimate for ``year`` (default: the current tax year, or the latest year with data
    if there is no data file for it yet). ``NotFound`` for a year without data."""
    profile = profile_get(owner)
    country = profile.country
    today = today or today_for(owner)
    if year is None:
        year = taxdata.current_tax_year(country, today)
        if not taxdata.has_year(country, year):
            years = taxdata.available_years(country)
            year = max((y for y in years if y <= year), default=years[0])
    if not taxdata.has_year(country, year):
        raise NotFound(
            f"There are no {country} tax figures for {year} yet.", code="tax_year_unknown"
        )
    ty = taxdata.load(country, year)
    currency = ty.currency
    start, end = taxdata.tax_year_bounds(country, year)
    us = country == "US"
    ytd_end = min(today, end)
    if today < start:
        ytd_profit = 0
    else:
        ytd_profit = entry_totals(
            owner, start=start, end=ytd_end, currency=currency, us_rules=us
        ).profit
    ytd = taxcalc.Figure(
        "ytd_profit",
        "Year-to-date profit",
        ytd_profit,
        (
            f"Income less deductible expenses in {currency} from {start:%-d %B %Y} to "
            f"{ytd_end:%-d %B %Y}"
            + (" (business meals at 50%)." if us else " (entertainment is not allowable).")
        ),
        currency,
    )
    prev_start, prev_end = taxdata.tax_year_bounds(country, year - 1)
    previous = None
    if _has_entries(owner, prev_start, prev_end, currency):
        previous = entry_totals(
            owner, start=prev_start, end=prev_end, currency=currency, us_rules=us
        ).profit
    projected = taxcalc.project_annual_profit(
        ytd_profit=ytd_profit,
        start=start,
        end=end,
        today=today,
        previous_year_profit=previous,
        currency=currency,
    )
    if us:
        est = taxcalc.us_estimate(
            ty,
            profit=projected.value,
            status=profile.filing_status,
            wages=profile.other_wages,
            withholding=profile.withholding,
            prior_year_tax=profile.prior_year_tax,
            prior_year_agi=profile.prior_year_agi,
            prior_year_full_year=profile.prior_year_full_year,
            paid_total=_paid(owner, country, year),
        )
    else:
        est = taxcalc.uk_estimate(
            ty,
            profit=projected.value,
            other_income=profile.uk_other_income,
            tax_deducted=profile.uk_tax_deducted,
            last_year_bill=profile.uk_last_year_bill,
            last_year_collected_at_source=profile.uk_last_year_collected_at_source,
            last_year_paid=_paid(owner, country, year - 1),
            poa_paid=_paid(owner, country, year, ("POA1", "POA2")),
            balancing_paid=_paid(owner, country, year, ("balancing",)),
        )
    return TaxView(
        profile=profile,
        country=country,
        year=year,
        label=ty.label,
        currency=currency,
        start=start,
        end=end,
        today=today,
        ytd=ytd,
        projected=projected,
        estimate=est,
        tax_year=ty,
        other_currencies=[c for c in currencies_used(owner) if c != currency],
    )


# --- what is due next -------------------------------------------------------------------------


@dataclass(frozen=True)
class NextPayment:
    """The next tax payment for the dashboard: due date, amount still due, what it is."""

    due_date: date
    amount: int
    currency: str
    period_label: str
    tax_year: int
    periods: tuple[str, ...] = ()
    as_of: date | None = None  # the owner's day it was computed for

    @property
    def days_left(self) -> int:
        return (self.due_date - (self.as_of or timezone.localdate())).days


def upcoming(owner, *, today: date | None = None) -> list[NextPayment]:
    """Payments still due on or after ``today``, one per due date, in date order. US: the
    current and the previous tax year's installments (January's is last year's 4th); UK: the
    current tax year's schedule (it includes last year's balancing payment and next year's
    payments on account)."""
    profile = profile_get(owner)
    today = today or today_for(owner)
    country = profile.country
    current = taxdata.current_tax_year(country, today)
    years = [current - 1, current] if country == "US" else [current]
    found: dict[date, list] = {}
    for year in years:
        if not taxdata.has_year(country, year):
            continue
        view = estimate_for(owner, year=year, today=today)
        for due in view.schedule:
            if due.remaining > 0 and due.due_date >= today:
                found.setdefault(due.due_date, []).append((due, year, view.currency))
    out = []
    for day in sorted(found):
        dues = found[day]
        out.append(
            NextPayment(
                due_date=day,
                amount=sum(d.remaining for d, _y, _c in dues),
                currency=dues[0][2],
                period_label=" + ".join(d.label for d, _y, _c in dues),
                tax_year=dues[0][1],
                periods=tuple(d.period for d, _y, _c in dues),
                as_of=today,
            )
        )
    return out


def next_payment(owner, *, today: date | None = None) -> NextPayment | None:
    """The next tax payment still due (for the dashboard), or None."""
    try:
        items = upcoming(owner, today=today)
    except NotFound:
        return None
    return items[0] if items else None


def profiles_for_reminders():
    """Owners who saved a tax profile (reminders are for them)."""
    return TaxProfile.objects.select_related("owner").filter(owner__is_active=True)


def reminder_window(profile: TaxProfile, today: date) -> date:
    return today + timedelta(days=profile.reminder_days)
