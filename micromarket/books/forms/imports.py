"""Forms of the imports area: the upload, then the column mapping shown with the preview."""

from __future__ import annotations

from django import forms

from micromarket.books import categories
from micromarket.books.services.imports import DATE_FORMATS, SIGNS, CsvMapping
from micromarket.core.forms import currency_choices


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Statement file (CSV, OFX or QFX, up to 5 MB)",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.ofx,.qfx,text/csv"}),
    )


COLUMN_FIELDS = {
    "date": ("Date column", True),
    "amount": ("Amount column (signed)", False),
    "debit": ("Money out column", False),
    "credit": ("Money in column", False),
    "payee": ("Payee / description column", False),
    "note": ("Note / memo column", False),
    "category": ("Category column", False),
    "currency": ("Currency column", False),
}


class MappingForm(forms.Form):
    """Column choices come from the file's header (or "Column 1", "Column 2" … without one)."""

    token = forms.CharField(widget=forms.HiddenInput)
    filename = forms.CharField(widget=forms.HiddenInput, max_length=200)
    has_header = forms.BooleanField(
        label="The first row holds column names", required=False, initial=True
    )
    date_format = forms.ChoiceField(
        label="Date format",
        choices=[(k, f"{v}") for k, v in DATE_FORMATS.items()],
    )
    decimal_comma = forms.BooleanField(
        label="Amounts use a decimal comma (1.234,56)", required=False
    )
    sign = forms.ChoiceField(label="Signs", choices=list(SIGNS.items()))
    default_currency = forms.ChoiceField(label="Currency", choices=currency_choices)
    income_category = forms.ChoiceField(
        label="Category for money in",
        choices=lambda: categories.choices(categories.INCOME),
        initial="other_income",
    )
    expense_category = forms.ChoiceField(
        label="Category for money out",
        choices=lambda: categories.choices(categories.EXPENSE),
        initial="other_expense",
    )
    include_duplicates = forms.BooleanField(
        label="Also import the rows marked as duplicates", required=False
    )

    def __init__(self, *args, header: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        columns = [("", "— none —")] + [
            (str(i), name or f"Column {i + 1}") for i, name in enumerate(header)
        ]
        for name, (label, required) in COLUMN_FIELDS.items():
            self.fields[name] = forms.ChoiceField(label=label, choices=columns, required=required)
        # Field order: columns first, then how to read them.
        order = [
            *COLUMN_FIELDS,
            "has_header",
            "date_format",
            "decimal_comma",
            "sign",
            "default_currency",
            "income_category",
            "expense_category",
            "include_duplicates",
            "token",
            "filename",
        ]
        self.order_fields(order)

    def mapping(self) -> CsvMapping:
        data = self.cleaned_data
        columns = {
            name: int(data[name]) if data.get(name) not in (None, "") else None
            for name in COLUMN_FIELDS
        }
        return CsvMapping(
            **columns,
            has_header=data.get("has_header", False),
            date_format=data["date_format"],
            decimal_comma=data.get("decimal_comma", False),
            sign=data["sign"],
            default_currency=data["default_currency"],
            income_category=data["income_category"],
            expense_category=data["expense_category"],
        )


def guess_mapping(header: list[str]) -> dict:
    """Initial column choices from common header names."""
    wanted = {
        "date": ("date", "posted", "booking date", "transaction date", "datum"),
        "amount": ("amount", "value", "net", "betrag"),
        "debit": ("debit", "money out", "withdrawal", "paid out"),
        "credit": ("credit", "money in", "deposit", "paid in"),
        "payee": ("payee", "description", "name", "merchant", "counterparty"),
        "note": ("memo", "note", "notes", "reference", "details"),
        "category": ("category",),
        "currency": ("currency", "ccy"),
    }
    initial: dict = {}
    lowered = [h.strip().lower() for h in header]
    for name, options in wanted.items():
        for option in options:
            if option in lowered:
                index = str(lowered.index(option))
                if index not in initial.values():
                    initial[name] = index
                    break
    if "amount" in initial:
        initial.pop("debit", None)
        initial.pop("credit", None)
    return initial
