"""Forms of the payments pages: payouts, payout methods, and the operator's finance settings.

People type money as decimals in its currency ("12.50") and rates as percentages ("10",
"5.5"); the forms turn them into minor units and basis points, refusing what cannot be
represented exactly (no silent rounding), before any service is called.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils import timezone

from micromarket.core.errors import ValidationFailed
from micromarket.core.money import from_minor, money_format, to_minor
from micromarket.ledger.selectors import AccountKind
from micromarket.payments.fees import percent_text

# Currencies whose fixed fees the operator sets on the fee settings page.
FEE_CURRENCIES = ("USD", "EUR", "GBP")
CURRENCY_FEE_FIELDS = {
    "small_order_fee": ("Small-order fee", "Added to the buyer's fee under the threshold."),
    "small_order_threshold": ("Small-order threshold", "Orders below this price pay the fee."),
    "payout_minimum": ("Payout minimum", "The smallest payout a seller can request."),
    "payout_fee": ("Payout fee", "Taken from each payout."),
}
SANDBOX_BANK_HELP = (
    "Sandbox test accounts: 000123456789 is paid out after a short delay; "
    "000111111116 fails (no such account). No real money moves."
)


def new_idempotency_key() -> str:
    """A fresh key for a form that moves money, put in a hidden field when it is rendered: a
    second submit of the same page carries the same key and is answered with the first
    result."""
    return uuid.uuid4().hex


def parse_money(text: str, currency: str, *, allow_zero: bool = False) -> int:
    """ "12.50" USD → 1250, or a ``forms.ValidationError`` a person can act on."""
    try:
        minor = to_minor(text, currency)
    except ValidationFailed as exc:
        raise forms.ValidationError(exc.message) from None
    if minor < 0 or (minor == 0 and not allow_zero):
        raise forms.ValidationError(
            "Enter zero or more." if allow_zero else "Enter an amount greater than zero."
        )
    if minor > 10**15:
        raise forms.ValidationError("That amount is too large.")
    return minor


def parse_percent(text: str) -> int:
    """ "5.5" (or "5.5%") → 550 basis points; 0 to 100 with at most two decimals."""
    cleaned = (text or "").strip().removesuffix("%").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise forms.ValidationError("Enter a percentage such as 10 or 5.5.") from None
    if not value.is_finite():
        raise forms.ValidationError("Enter a percentage such as 10 or 5.5.")
    if not 0 <= value <= 100:
        raise forms.ValidationError("A rate is between 0 and 100%.")
    bps = value * 100
    if bps != bps.to_integral_value():
        raise forms.ValidationError("Use at most two decimals, e.g. 12.25.")
    return int(bps)


def _decimal_input(**attrs) -> forms.TextInput:
    return forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", **attrs})


# --- sellers --------------------------------------------------------------------------------


class PayoutForm(forms.Form):
    amount = forms.CharField(max_length=30, widget=_decimal_input())
    currency = forms.ChoiceField()
    method = forms.TypedChoiceField(label="Pay to", coerce=int)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=120)

    def __init__(self, *args, available: dict[str, int], methods, terms: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(c, c) for c in available]
        self.fields["method"].choices = [(m.pk, m.label) for m in methods]
        parts = []
        for currency, fixed in terms.items():
            minimum = (
                f"minimum {money_format(fixed.payout_minimum, currency)}"
                if fixed.payout_minimum
                else "no minimum"
            )
            fee = (
                f"fee {money_format(fixed.payout_fee, currency)}" if fixed.payout_fee else "no fee"
            )
            parts.append(f"in {currency}: {minimum}, {fee}")
        help_text = "Payouts " + "; ".join(parts) + "."
        if any(fixed.payout_fee for fixed in terms.values()):
            help_text += " The fee is taken from the amount."
        self.fields["amount"].help_text = help_text

    def clean(self):
        data = super().clean()
        currency, text = data.get("currency"), data.get("amount")
        if currency and text is not None:
            try:
                minor = parse_money(text, currency)
            except forms.ValidationError as exc:
                self.add_error("amount", exc)
            else:
                data["amount_minor"] = minor  # the balance is checked by the service
        return data


class PayoutMethodForm(forms.Form):
    destination = forms.CharField(label="Bank account number", max_length=100)
    label = forms.CharField(
        max_length=80, required=False, help_text="Optional, e.g. “Savings”. Shown only to you."
    )

    def __init__(self, *args, provider: str, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["destination"]
        if provider == "stripe":
            field.label = "Stripe account id"
            field.help_text = "Your connected Stripe account, acct_…"
        else:
            field.widget.attrs["inputmode"] = "numeric"
            field.help_text = "6 to 17 digits."
            if provider == "sandbox":
                field.help_text += " " + SANDBOX_BANK_HELP


def _country_choices() -> list[tuple[str, str]]:
    from babel import Locale

    names = Locale("en").territories
    return sorted(
        ((code, name) for code, name in names.items() if len(code) == 2 and code.isalpha()),
        key=lambda item: item[1],
    )


class StripeConnectForm(forms.Form):
    country = forms.ChoiceField(
        label="Country of your bank",
        choices=[("", "Choose…"), *_country_choices()],
        help_text="Stripe asks for your identity and bank details on its own secure pages.",
    )


# --- operators ------------------------------------------------------------------------------


class AccountFilterForm(forms.Form):
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *AccountKind.choices])
    currency = forms.CharField(required=False, max_length=3)

    def clean_currency(self):
        return self.cleaned_data["currency"].strip().upper()


class ReconciliationForm(forms.Form):
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Day to check")

    def clean_day(self):
        day = self.cleaned_data["day"]
        if day > timezone.localdate():
            raise forms.ValidationError("Choose today or a day in the past.")
        return day


class SandboxControlForm(forms.Form):
    label_suffix = ""

    fail_charges = forms.BooleanField(required=False, label="Decline every charge")
    fail_refunds = forms.BooleanField(required=False, label="Fail every card refund")
    fail_payouts = forms.BooleanField(required=False, label="Fail every payout")


class FeeScheduleForm(forms.Form):
    effective_from = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="In your timezone. Leave empty to start now. Receipts keep the fees they "
        "were priced with.",
    )
    commission_percent = forms.CharField(
        label="Commission (%)",
        max_length=10,
        widget=_decimal_input(),
        help_text="Taken from the seller's price, e.g. 10 or 5.5.",
    )
    buyer_fee_percent = forms.CharField(
        label="Buyer service fee (%)",
        max_length=10,
        widget=_decimal_input(),
        help_text="Added to the price the buyer pays.",
    )
    tip_platform_percent = forms.CharField(
        label="Platform share of tips (%)", max_length=10, widget=_decimal_input()
    )
    clearing_days = forms.IntegerField(
        min_value=0,
        max_value=90,
        help_text="Days before released earnings can be paid out.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    note = forms.CharField(max_length=200, required=False, help_text="Why, for the record.")

    rate_fields = {
        "commission_percent": "commission_bps",
        "buyer_fee_percent": "buyer_fee_bps",
        "tip_platform_percent": "tip_platform_bps",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for currency in FEE_CURRENCIES:
            for name, (label, help_text) in CURRENCY_FEE_FIELDS.items():
                self.fields[self.money_field(currency, name)] = forms.CharField(
                    label=f"{label} ({currency})",
                    required=False,
                    max_length=30,
                    widget=_decimal_input(placeholder="0.00"),
                    help_text=help_text,
                )

    @staticmethod
    def money_field(currency: str, name: str) -> str:
        return f"{currency.lower()}_{name}"

    def currency_groups(self):
        """[(currency, [bound fields])] for the template's fieldsets."""
        return [
            (c, [self[self.money_field(c, n)] for n in CURRENCY_FEE_FIELDS]) for c in FEE_CURRENCIES
        ]

    def rate_bound_fields(self):
        return [self[name] for name in self.rate_fields]

    @classmethod
    def initial_for(cls, detail: dict) -> dict:
        """Start from the schedule in effect, so the operator changes only what differs."""
        schedule = detail["schedule"]
        initial = {
            "commission_percent": percent_text(schedule.commission_bps),
            "buyer_fee_percent": percent_text(schedule.buyer_fee_bps),
            "tip_platform_percent": percent_text(schedule.tip_platform_bps),
            "clearing_days": schedule.clearing_days,
        }
        for row in detail["currency_fees"]:
            if row.currency in FEE_CURRENCIES:
                for name in CURRENCY_FEE_FIELDS:
                    initial[cls.money_field(row.currency, name)] = from_minor(
                        getattr(row, name), row.currency
                    )
        return initial

    def clean(self):
        data = super().clean()
        for name in self.rate_fields:
            if data.get(name) is not None:
                try:
                    data[self.rate_fields[name]] = parse_percent(data[name])
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        currency_fees: dict[str, dict[str, int]] = {}
        for currency in FEE_CURRENCIES:
            amounts = {}
            for name in CURRENCY_FEE_FIELDS:
                key = self.money_field(currency, name)
                text = (data.get(key) or "").strip()
                try:
                    amounts[name] = parse_money(text, currency, allow_zero=True) if text else 0
                except forms.ValidationError as exc:
                    self.add_error(key, exc)
            currency_fees[currency] = amounts
        data["currency_fees"] = currency_fees
        return data


class CategoryCommissionForm(forms.Form):
    category = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    commission_percent = forms.CharField(
        label="Commission (%)", required=False, max_length=10, widget=_decimal_input()
    )

    def __init__(self, *args, category_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "Choose a category"), *category_choices]

    def clean(self):
        data = super().clean()
        category, text = data.get("category"), (data.get("commission_percent") or "").strip()
        if category and not text:
            self.add_error("commission_percent", "Enter the commission for this category.")
        elif text and not category:
            self.add_error("category", "Choose the category this rate is for.")
        elif category and text:
            try:
                data["commission_bps"] = parse_percent(text)
            except forms.ValidationError as exc:
                self.add_error("commission_percent", exc)
        return data


class BaseCategoryCommissionFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for form in self.forms:
            category = form.cleaned_data.get("category")
            if category in seen:
                raise forms.ValidationError("Each category can have one rate.")
            if category:
                seen.add(category)

    def rates(self) -> dict[int, int]:
        return {
            f.cleaned_data["category"]: f.cleaned_data["commission_bps"]
            for f in self.forms
            if f.cleaned_data.get("category")
        }


CategoryCommissionFormSet = forms.formset_factory(
    CategoryCommissionForm, formset=BaseCategoryCommissionFormSet, extra=3, max_num=50
)
