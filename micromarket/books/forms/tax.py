"""Forms of the tax area: the tax profile and a payment made. Forms check shape and turn
amounts into minor units; the services enforce the rules."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from micromarket.books import taxdata
from micromarket.books.models import TaxProfile
from micromarket.books.selectors import tax as selectors
from micromarket.core.money import from_minor

AMOUNT = {"min_value": Decimal(0), "max_digits": 14, "decimal_places": 2}


def _money(label: str, *, required: bool = False, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        **AMOUNT,
    )


class TaxProfileForm(forms.Form):
    country = forms.ChoiceField(
        label="Where you pay income tax", choices=TaxProfile.Country.choices
    )
    filing_status = forms.ChoiceField(
        label="US filing status", choices=TaxProfile.FilingStatus.choices
    )
    other_wages = _money(
        "US: wages from a job this year (W-2)",
        help_text="Used for the Social Security wage base and the Additional Medicare Tax.",
    )
    withholding = _money("US: federal income tax withheld from those wages this year")
    prior_year_tax = _money(
        "US: last year's total tax (Form 1040 line 24)",
        help_text="For the safe harbour. Leave empty if you do not know it.",
    )
    prior_year_agi = _money("US: last year's adjusted gross income (Form 1040 line 11)")
    prior_year_full_year = forms.BooleanField(
        label="US: last year's return covered all 12 months", required=False
    )
    uk_other_income = _money("UK: other income this tax year (employment, pension)")
    uk_tax_deducted = _money("UK: tax already deducted from it (PAYE)")
    uk_last_year_bill = _money(
        "UK: last year's Self Assessment bill",
        help_text="Income tax and Class 4 not collected at source; sets the payments on account.",
    )
    uk_last_year_collected_at_source = _money("UK: last year's tax collected at source (PAYE)")
    reminder_days = forms.IntegerField(
        label="Remind me this many days before a due date", min_value=0, max_value=60
    )

    MONEY = (
        "other_wages",
        "withholding",
        "prior_year_tax",
        "prior_year_agi",
        "uk_other_income",
        "uk_tax_deducted",
        "uk_last_year_bill",
        "uk_last_year_collected_at_source",
    )
    NULLABLE = ("prior_year_tax", "prior_year_agi", "uk_last_year_bill")

    @classmethod
    def for_profile(cls, profile: TaxProfile, data=None) -> TaxProfileForm:
        initial = {
            "country": profile.country,
            "filing_status": profile.filing_status,
            "prior_year_full_year": profile.prior_year_full_year,
            "reminder_days": profile.reminder_days,
        }
        for name in cls.MONEY:
            value = getattr(profile, name)
            currency = "GBP" if name.startswith("uk_") else "USD"
            initial[name] = None if value is None else from_minor(value, currency)
        return cls(data=data, initial=initial)

    def values(self) -> dict:
        data = self.cleaned_data
        out = {
            "country": data["country"],
            "filing_status": data["filing_status"],
            "prior_year_full_year": bool(data["prior_year_full_year"]),
            "reminder_days": data["reminder_days"],
        }
        for name in self.MONEY:
            value = data.get(name)
            if value is None:
                out[name] = None if name in self.NULLABLE else 0
            else:
                out[name] = int(value * 100)
        return out


class TaxPaymentForm(forms.Form):
    tax_year = forms.TypedChoiceField(label="Tax year", coerce=int)
    period = forms.ChoiceField(label="Which payment")
    date = forms.DateField(label="Date paid", widget=forms.DateInput(attrs={"type": "date"}))
    amount = _money("Amount paid", required=True)
    note = forms.CharField(label="Note (confirmation number…)", max_length=300, required=False)

    def __init__(self, *args, country: str, years: list[int], **kwargs):
        super().__init__(*args, **kwargs)

        self.fields["tax_year"].choices = [
            (y, taxdata.tax_year_label(country, y)) for y in sorted(years, reverse=True)
        ]
        self.fields["period"].choices = [
            (p, selectors.PERIOD_LABELS[p]) for p in selectors.periods_for(country)
        ]

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount is not None and amount <= 0:
            raise forms.ValidationError("Enter an amount greater than zero.")
        return amount

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "tax_year": data["tax_year"],
            "period": data["period"],
            "date": data["date"],
            "amount": int(data["amount"] * 100),
            "note": data["note"],
        }
