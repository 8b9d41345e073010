"""Forms of the time area: the timer, manual entries, and invoicing unbilled time."""

from __future__ import annotations

import re
from datetime import datetime, time
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils import timezone

from micromarket.books.models import Client
from micromarket.books.selectors import time as selectors
from micromarket.core.errors import ValidationFailed
from micromarket.core.forms import currency_choices
from micromarket.core.money import to_minor


def parse_duration(text: str) -> int:
    """ "1:30" → 5400, "1.5" or "1,5" → 5400, "90m" → 5400, "2h" → 7200 (seconds)."""
    text = (text or "").strip().lower().replace(",", ".")
    match = re.fullmatch(r"(\d{1,2}):([0-5]\d)", text)
    if match:
        return int(match[1]) * 3600 + int(match[2]) * 60
    match = re.fullmatch(r"(\d+)\s*m(in)?", text)
    if match:
        return int(match[1]) * 60
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*h?", text)
    if match:
        try:
            return int(Decimal(match[1]) * 3600)
        except InvalidOperation:
            pass
    raise forms.ValidationError("Enter a duration such as 1:30, 1.5 or 90m.")


def format_duration(seconds: int) -> str:
    minutes = (seconds + 30) // 60
    return f"{minutes // 60}:{minutes % 60:02d}"


class _OwnerForm(forms.Form):
    client = forms.ModelChoiceField(
        queryset=Client.objects.none(), required=False, empty_label="No client"
    )
    offer = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Offer")
    project = forms.CharField(max_length=100, required=False)
    description = forms.CharField(max_length=300, required=False, label="What you worked on")
    billable = forms.BooleanField(required=False, initial=True)
    rate = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=3,
        label="Hourly rate",
        help_text="Leave empty to use the client's default rate.",
    )
    currency = forms.ChoiceField(required=False, label="Rate currency")

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.fields["client"].queryset = Client.objects.filter(owner=owner, archived_at=None)
        self.fields["offer"].choices = [("", "No offer"), *selectors.offer_choices(owner)]
        self.fields["currency"].choices = [("", "The client's or offer's"), *currency_choices()]

    def service_kwargs(self) -> dict:
        """The cleaned data as the service's keyword arguments (rate in minor units)."""
        data = self.cleaned_data
        client = data.get("client")
        currency = data.get("currency") or (client.currency if client else "")
        rate = None
        if data.get("rate") is not None:
            if not currency:
                raise ValidationFailed("Choose the currency of the hourly rate.", field="currency")
            rate = to_minor(data["rate"], currency, field="rate")
        return {
            "client_id": client.pk if client else None,
            "offer_id": data.get("offer"),
            "project": data.get("project", ""),
            "description": data.get("description", ""),
            "billable": data.get("billable", False),
            "rate": rate,
            "currency": data.get("currency") or "",
        }


class TimerStartForm(_OwnerForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "timer_%s")  # unique ids beside the manual entry form
        super().__init__(*args, **kwargs)


class TimeEntryForm(_OwnerForm):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(
        required=False,
        initial=time(9, 0),
        widget=forms.TimeInput(attrs={"type": "time"}),
        label="Start time",
    )
    duration = forms.CharField(
        max_length=10, help_text="Such as 1:30, 1.5 or 90m.", label="Time worked"
    )
    field_order = ["date", "start", "duration", "client", "offer", "project", "description"]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "entry_%s")
        super().__init__(*args, **kwargs)

    def clean_duration(self) -> int:
        return parse_duration(self.cleaned_data["duration"])

    def started_at(self) -> datetime:
        start = self.cleaned_data.get("start") or time(9, 0)
        naive = datetime.combine(self.cleaned_data["date"], start)
        return timezone.make_aware(naive, timezone.get_current_timezone())

    @classmethod
    def for_entry(cls, entry, *, owner, data=None) -> TimeEntryForm:
        local = timezone.localtime(entry.started_at)
        initial = {
            "date": local.date(),
            "start": local.time().replace(second=0, microsecond=0),
            "duration": format_duration(entry.duration_seconds),
            "client": entry.client_id,
            "offer": entry.offer_id,
            "project": entry.project,
            "description": entry.description,
            "billable": entry.billable,
            "rate": None,
            "currency": entry.currency,
        }
        if entry.rate is not None and entry.currency:
            from micromarket.core.money import from_minor

            initial["rate"] = from_minor(entry.rate, entry.currency)
        return cls(data=data, initial=initial, owner=owner)


class InvoiceTimeForm(forms.Form):
    """Pick a client's unbilled time to put on a new draft invoice."""

    client = forms.ModelChoiceField(queryset=Client.objects.none())
    entries = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple, label="Time to invoice"
    )

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.filter(owner=owner)
        self.fields["entries"].choices = [
            (e.pk, f"{selectors.entry_label(e)} — {format_duration(e.duration_seconds)}")
            for group in selectors.unbilled_by_client(owner)
            for e in group.entries
        ]
