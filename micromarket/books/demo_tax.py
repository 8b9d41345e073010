"""Demo tax profiles and payments, through the tax services: priya (Austin, US, single, with
last year's figures for the safe harbour and this year's first installment paid) and sam
(Manchester, UK, with last year's Self Assessment bill and its payments on account paid).
Idempotent: a second run creates nothing new."""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.utils import timezone

from micromarket.books import taxdata
from micromarket.books.models import TaxPayment, TaxProfile
from micromarket.books.services import tax as tax_services
from micromarket.core.errors import DomainError

DOMAIN = "demo.micromarket.test"


def _user(email: str):
    return get_user_model().objects.filter(email=email).first()


def _pay(owner, *, country, tax_year, period, day: date, amount: int, note: str) -> bool:
    if day > timezone.localdate() or not taxdata.has_year(country, tax_year):
        return False
    if TaxPayment.objects.filter(owner=owner, tax_year=tax_year, period=period).exists():
        return False
    tax_services.tax_payment_record(
        owner=owner, tax_year=tax_year, period=period, date=day, amount=amount, note=note
    )
    return True


def build(*, stdout, create: bool = True) -> list[str]:
    priya = _user(f"priya@{DOMAIN}")
    sam = _user(f"sam@{DOMAIN}")
    today = timezone.localdate()
    if create:
        made = 0
        try:
            if priya is not None:
                if not TaxProfile.objects.filter(owner=priya).exists():
                    tax_services.tax_profile_update(
                        owner=priya,
                        country="US",
                        filing_status="single",
                        prior_year_tax=640000,  # $6,400
                        prior_year_agi=5200000,  # $52,000
                        reminder_days=7,
                    )
                    made += 1
                year = taxdata.current_tax_year("US", today)
                made += _pay(
                    priya,
                    country="US",
                    tax_year=year,
                    period="Q1",
                    day=date(year, 4, 14),
                    amount=160000,
                    note="IRS Direct Pay confirmation 4521",
                )
            if sam is not None:
                if not TaxProfile.objects.filter(owner=sam).exists():
                    tax_services.tax_profile_update(
                        owner=sam,
                        country="UK",
                        uk_last_year_bill=240000,  # £2,400
                        reminder_days=14,
                    )
                    made += 1
                year = taxdata.current_tax_year("UK", today)
                for period, day in (("POA1", date(year, 1, 30)), ("POA2", date(year, 7, 29))):
                    made += _pay(
                        sam,
                        country="UK",
                        tax_year=year - 1,
                        period=period,
                        day=day,
                        amount=110000,
                        note="Paid by bank transfer",
                    )
        except DomainError as exc:
            stdout.write(f"  tax: skipped: {exc.message}\n")
        stdout.write(f"  tax: {made} profile(s) and payment(s) created\n")
    if not TaxProfile.objects.filter(owner__email__endswith=f"@{DOMAIN}").exists():
        return []
    return [
        "Tax estimates: priya@ (US, quarterly installments) and sam@ (UK, payments on account) "
        "— see /books/taxes/"
    ]
