"""Forms of the entries area: an entry (with its receipt), a mileage trip, a recurring expense.
Forms check shape only; the services enforce the rules."""

from __future__ import annotations

from django import forms

from micromarket.books import categories
from micromarket.books.models import Entry, RecurringExpense
from micromarket.core.errors import ValidationFailed
from micromarket.core.forms import currency_choices
from micromarket.core.money import from_minor, to_minor


def category_choices(kind: str | None = None) -> list:
    income = categories.choices(categories.INCOME)
    expense = categories.choices(categories.EXPENSE)
    if kind == categories.INCOME:
        return income
    if kind == categories.EXPENSE:
        return expense
    return [("Income", income), ("Expenses", expense)]


class MoneyMixin:
    """Turns the typed ``amount`` into minor units of the chosen currency."""

    amount_field = "amount"

    def clean(self):
        data = super().clean()
        amount, currency = data.get(self.amount_field), data.get("currency")
        if amount is not None and currency:
            try:
                data["amount_minor"] = to_minor(amount, currency)
            except ValidationFailed as exc:
                self.add_error(self.amount_field, exc.message)
        return data


class EntryForm(MoneyMixin, forms.Form):
    kind = forms.ChoiceField(
        label="Type", choices=Entry.Kind.choices, widget=forms.RadioSelect, initial="expense"
    )
    date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    amount = forms.DecimalField(label="Amount", min_value=0, max_digits=15, decimal_places=3)
    currency = forms.ChoiceField(label="Currency", choices=currency_choices)
    category = forms.ChoiceField(label="Category", choices=category_choices)
    payee = forms.CharField(label="Paid to / received from", max_length=200, required=False)
    note = forms.CharField(
        label="Note", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    receipt = forms.FileField(
        label="Receipt (PDF or photo, up to 10 MB)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/*"}),
    )

    @classmethod
    def for_entry(cls, entry: Entry, **kwargs) -> EntryForm:
        initial = {
            "kind": entry.kind,
            "date": entry.date,
            "amount": from_minor(entry.amount, entry.currency),
            "currency": entry.currency,
            "category": entry.category,
            "payee": entry.payee,
            "note": entry.note,
        }
        form = cls(initial=initial, **kwargs)
        if entry.receipt:
            form.fields["receipt_remove"] = forms.BooleanField(
                label="Remove the receipt", required=False
            )
        if entry.source != Entry.Source.MANUAL and entry.source != Entry.Source.IMPORT:
            for name in ("kind", "date", "amount", "currency"):
                form.fields[name].disabled = True
        return form


class MileageForm(forms.Form):
    date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    distance = forms.DecimalField(label="Distance", min_value=0, max_digits=8, decimal_places=1)
    unit = forms.ChoiceField(
        label="Unit", choices=[("mi", "miles"), ("km", "kilometres")], initial="mi"
    )
    origin = forms.CharField(label="From", max_length=200, required=False)
    destination = forms.CharField(label="To", max_length=200, required=False)
    purpose = forms.CharField(label="Business purpose", max_length=300)


class RecurringForm(MoneyMixin, forms.Form):
    payee = forms.CharField(label="Paid to", max_length=200)
    amount = forms.DecimalField(label="Amount", min_value=0, max_digits=15, decimal_places=3)
    currency = forms.ChoiceField(label="Currency", choices=currency_choices)
    category = forms.ChoiceField(
        label="Category", choices=lambda: category_choices(categories.EXPENSE)
    )
    frequency = forms.ChoiceField(label="How often", choices=RecurringExpense.Frequency.choices)
    start_date = forms.DateField(
        label="First payment", widget=forms.DateInput(attrs={"type": "date"})
    )
    end_date = forms.DateField(
        label="Last payment (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = forms.CharField(label="Note", max_length=500, required=False)
