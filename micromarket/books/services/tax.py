"""Writes of the tax area: the seller's tax profile, estimated-tax payments they made, and the
reminders sent before each due date (once per due date: ``TaxReminder``'s unique constraint).
See docs/books/tax.md."""

from __future__ import annotations

import logging
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from micromarket.books import taxcalc, taxdata
from micromarket.books.models import TaxPayment, TaxProfile, TaxReminder
from micromarket.books.selectors import tax as selectors
from micromarket.core.errors import ValidationFailed
from micromarket.messaging import services as messaging_services

log = logging.getLogger(__name__)

PROFILE_FIELDS = (
    "country",
    "filing_status",
    "other_wages",
    "withholding",
    "prior_year_tax",
    "prior_year_agi",
    "prior_year_full_year",
    "uk_other_income",
    "uk_tax_deducted",
    "uk_last_year_bill",
    "uk_last_year_collected_at_source",
    "reminder_days",
)
MONEY_FIELDS = (
    "other_wages",
    "withholding",
    "prior_year_tax",
    "prior_year_agi",
    "uk_other_income",
    "uk_tax_deducted",
    "uk_last_year_bill",
    "uk_last_year_collected_at_source",
)
MAX_AMOUNT = 10**13  # 100 billion in minor units — anything bigger is a typo


def tax_profile_update(*, owner, **values) -> TaxProfile:
    """Create or update the owner's tax profile with ``values`` (fields of ``PROFILE_FIELDS``;
    amounts in minor units)."""
    unknown = set(values) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationFailed(
            f"Unknown field: {sorted(unknown)[0]}.", code="unknown_field", field=sorted(unknown)[0]
        )
    if "country" in values and values["country"] not in TaxProfile.Country.values:
        raise ValidationFailed("Choose the United States or the United Kingdom.", field="country")
    if "filing_status" in values and values["filing_status"] not in (
        TaxProfile.FilingStatus.values
    ):
        raise ValidationFailed("Choose a filing status.", field="filing_status")
    for name in MONEY_FIELDS:
        if name in values and values[name] is not None:
            value = values[name]
            if not isinstance(value, int) or value < 0:
                raise ValidationFailed("Enter an amount of zero or more.", field=name)
            if value > MAX_AMOUNT:
                raise ValidationFailed("That amount is too large.", field=name)
    if "prior_year_full_year" in values and not isinstance(values["prior_year_full_year"], bool):
        raise ValidationFailed("Answer yes or no.", field="prior_year_full_year")
    if "reminder_days" in values:
        days = values["reminder_days"]
        if not isinstance(days, int) or not 0 <= days <= 60:
            raise ValidationFailed(
                "Reminders can be sent 0 to 60 days before a due date.", field="reminder_days"
            )
    with transaction.atomic():
        profile, _created = TaxProfile.objects.select_for_update().get_or_create(owner=owner)
        for name, value in values.items():
            if (
                name in MONEY_FIELDS
                and value is None
                and name
                not in (
                    "prior_year_tax",
                    "prior_year_agi",
                    "uk_last_year_bill",
                )
            ):
                value = 0
            setattr(profile, name, value)
        profile.save()
    return profile


def tax_payment_record(
    *,
    owner,
    tax_year: int,
    period: str,
    date: date,
    amount: int,
    note: str = "",
    country: str | None = None,
) -> TaxPayment:
    """Record an estimated-tax payment the owner made (in the profile's country and
    currency unless ``country`` is given)."""
    profile = selectors.profile_get(owner)
    country = country or profile.country
    if country not in TaxProfile.Country.values:
        raise ValidationFailed("Choose the United States or the United Kingdom.", field="country")
    if not taxdata.has_year(country, tax_year):
        raise ValidationFailed(
            f"There are no {country} tax figures for {tax_year}.", field="tax_year"
        )
    if period not in selectors.periods_for(country):
        raise ValidationFailed(
            "Choose which payment this is: "
            + ", ".join(selectors.PERIOD_LABELS[p] for p in selectors.periods_for(country))
            + ".",
            field="period",
        )
    if not isinstance(amount, int) or amount <= 0:
        raise ValidationFailed("Enter an amount greater than zero.", field="amount")
    if amount > MAX_AMOUNT:
        raise ValidationFailed("That amount is too large.", field="amount")
    start, _end = taxdata.tax_year_bounds(country, tax_year)
    if date < start:
        raise ValidationFailed(
            f"A payment for {taxdata.tax_year_label(country, tax_year)} cannot be made before "
            f"the tax year starts ({start:%-d %B %Y}).",
            field="date",
        )
    if date > selectors.today_for(owner):
        raise ValidationFailed(
            "Record payments once they are made (no future dates).", field="date"
        )
    with transaction.atomic():
        return TaxPayment.objects.create(
            owner=owner,
            country=country,
            tax_year=tax_year,
            period=period,
            date=date,
            amount=amount,
            currency=taxdata.CURRENCY[country],
            note=(note or "")[:300],
        )


def tax_payment_delete(*, owner, payment_id) -> None:
    with transaction.atomic():
        payment = selectors.payment_get(owner, payment_id)
        payment.delete()


# --- reminders --------------------------------------------------------------------------------


REMINDER_PERIOD = "due"  # TaxReminder.period: one reminder per (owner, due date)


def _reminded(owner, due_date: date) -> bool:
    """Whether a reminder was already sent for this due date — whatever its period value (rows
    written before reminders were keyed on the due date alone carry the first period's code)."""
    return TaxReminder.objects.filter(owner=owner, due_date=due_date).exists()


def _remind(profile: TaxProfile, item: selectors.NextPayment, now: datetime) -> bool:
    """Record the reminder and notify; False if it was already sent for this due date.

    Keyed on (owner, due date) only: what falls due on a date can change (on 31 January, once
    last year's balancing payment is paid, only the payment on account is left), but the
    seller is reminded once per date. The unique constraint on (owner, due_date, period) with
    the fixed period ``REMINDER_PERIOD`` makes a concurrent second send fail."""
    owner = profile.owner
    try:
        with transaction.atomic():
            TaxReminder.objects.create(
                owner=owner, due_date=item.due_date, period=REMINDER_PERIOD, sent_at=now
            )
            amount = taxcalc.fmt(item.amount, item.currency)
            messaging_services.notification_send(
                user=owner,
                category="books",
                title=f"Tax payment due {item.due_date:%-d %B %Y}: {amount}",
                body=(
                    f"{item.period_label}: about {amount} is still due on "
                    f"{item.due_date:%A %-d %B %Y}. This is an estimate from your books, not tax "
                    "advice."
                ),
                url=reverse("books:tax"),
                group_key=f"books-tax-{item.due_date.isoformat()}",
                now=now,
            )
    except IntegrityError:
        return False
    return True


def tax_reminders_send(*, now: datetime | None = None) -> int:
    """Tell each owner with a tax profile about a payment still due within their reminder
    window (``reminder_days`` before the due date, counted in the owner's own calendar days:
    ``owner.timezone``), once per due date. Returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    for profile in selectors.profiles_for_reminders():
        today = selectors.today_for(profile.owner, now=now)
        try:
            items = selectors.upcoming(profile.owner, today=today)
        except Exception:  # one owner's bad data must not stop the others
            log.exception("tax reminders: estimate failed for owner %s", profile.owner_id)
            continue
        horizon = selectors.reminder_window(profile, today)
        for item in items:
            if item.due_date > horizon:
                break
            if _reminded(profile.owner, item.due_date):
                continue
            if _remind(profile, item, now):
                sent += 1
    return sent
