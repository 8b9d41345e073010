"""Forms of the invoices area: amounts are typed as people write them ("12.50") and turned into
minor units with the invoice's currency; percentages are typed as percentages ("20" or "5.5")
and stored as basis points."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms

from micromarket.books.models import Client, RecurringExpense
from micromarket.core.errors import DomainError
from micromarket.core.forms import currency_choices
from micromarket.core.money import to_minor


def percent_to_bps(value) -> int:
    if value in (None, ""):
        return 0
    return int((Decimal(value) * 100).to_integral_value())


class PercentField(forms.DecimalField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 100)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("max_digits", 5)
        super().__init__(**kwargs)


class MoneyField(forms.CharField):
    """An amount as typed; converted by the form once the currency is known."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")


def minor_or_error(form: forms.Form, field: str, value: str, currency: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return to_minor(value.replace(",", ""), currency, field=field)
    except DomainError as exc:
        form.add_error(field, exc.message)
    except (InvalidOperation, ValueError):
        form.add_error(field, "Enter an amount such as 12.50.")
    return None


class ClientForm(forms.ModelForm):
    default_rate_text = MoneyField(
        required=False, label="Default hourly rate", help_text="Used for tracked time."
    )

    class Meta:
        model = Client
        fields = [
            "name",
            "email",
            "address",
            "city",
            "postcode",
            "country",
            "vat_id",
            "company_id",
            "currency",
            "notes",
        ]
        labels = {
            "vat_id": "VAT / tax ID",
            "company_id": "Company number / EIN",
            "country": "Country code",
        }
        help_texts = {"country": "Two letters: US, GB, FR …"}
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "currency": forms.Select(choices=currency_choices()),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].widget = forms.Select(choices=currency_choices())
        instance = kwargs.get("instance")
        if instance is not None and instance.default_rate is not None:
            from micromarket.core.money import from_minor

            self.initial["default_rate_text"] = str(
                from_minor(instance.default_rate, instance.currency)
            )

    def values(self) -> dict:
        data = {k: self.cleaned_data[k] for k in self.Meta.fields}
        data["default_rate"] = minor_or_error(
            self, "default_rate_text", self.cleaned_data.get("default_rate_text"), data["currency"]
        )
        return data


class InvoiceForm(forms.Form):
    client = forms.ModelChoiceField(queryset=Client.objects.none())
    currency = forms.ChoiceField(choices=currency_choices)
    terms_days = forms.IntegerField(
        label="Payment terms (days)", min_value=0, max_value=365, initial=14
    )
    discount = PercentField(label="Invoice discount (%)")
    late_fee_percent = PercentField(label="Late fee (% of the balance)")
    late_fee_fixed = MoneyField(required=False, label="Late fee (fixed amount)")
    notes = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown on the invoice: payment details, thanks …",
    )

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.filter(
            owner=owner, archived_at__isnull=True
        )

    def values(self) -> dict:
        cd = self.cleaned_data
        return {
            "client": cd["client"],
            "currency": cd["currency"],
            "terms_days": cd["terms_days"],
            "discount_bps": percent_to_bps(cd.get("discount")),
            "late_fee_bps": percent_to_bps(cd.get("late_fee_percent")),
            "late_fee_fixed": minor_or_error(
                self, "late_fee_fixed", cd.get("late_fee_fixed"), cd["currency"]
            )
            or 0,
            "notes": cd.get("notes", ""),
        }


UNIT_CHOICES = [("C62", "each"), ("HUR", "hours"), ("DAY", "days")]


class LineForm(forms.Form):
    description = forms.CharField(max_length=500)
    quantity = forms.DecimalField(
        min_value=Decimal("0.001"), max_digits=10, decimal_places=3, initial=1
    )
    unit = forms.ChoiceField(choices=UNIT_CHOICES, initial="C62")
    unit_price = MoneyField(label="Unit price")
    discount = PercentField(label="Discount (%)")
    tax_rate = PercentField(label="Tax rate (%)")

    def values(self, currency: str) -> dict | None:
        cd = self.cleaned_data
        price = minor_or_error(self, "unit_price", cd.get("unit_price"), currency)
        if price is None:
            if "unit_price" not in self.errors:
                self.add_error("unit_price", "Enter the unit price.")
            return None
        return {
            "description": cd["description"],
            "quantity": cd["quantity"],
            "unit": cd["unit"],
            "unit_price": price,
            "discount_bps": percent_to_bps(cd.get("discount")),
            "tax_rate_bps": percent_to_bps(cd.get("tax_rate")),
        }


LineFormSet = forms.formset_factory(LineForm, extra=3, max_num=50)


class SendForm(forms.Form):
    message = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Message to the client (optional)",
    )


class VoidForm(forms.Form):
    reason = forms.CharField(required=False, max_length=300, label="Reason (optional)")


class PaymentForm(forms.Form):
    amount = MoneyField(label="Amount received")
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    method = forms.CharField(
        required=False, max_length=40, label="Method", help_text="Bank transfer, cash, card …"
    )
    note = forms.CharField(required=False, max_length=300)


class InvoiceSettingsForm(forms.Form):
    legal_name = forms.CharField(
        required=False,
        max_length=200,
        label="Name on your invoices",
        help_text="Your legal or business name; left blank, your account name is used.",
    )
    vat_id = forms.CharField(
        required=False,
        max_length=40,
        label="VAT number",
        help_text="With the country prefix, e.g. GB123456789. Leave blank if not registered.",
    )
    business_address = forms.CharField(
        required=False,
        max_length=1000,
        label="Business address",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RecurringForm(forms.Form):
    frequency = forms.ChoiceField(choices=RecurringExpense.Frequency.choices)
    next_date = forms.DateField(
        label="First invoice on", widget=forms.DateInput(attrs={"type": "date"})
    )
    end_date = forms.DateField(
        required=False,
        label="Last invoice on (optional)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    send_automatically = forms.BooleanField(
        required=False, initial=True, label="Email each invoice to the client when it is made"
    )
