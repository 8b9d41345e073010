"""Helpers shared by every app's forms and views."""

from __future__ import annotations

import zoneinfo

from babel.numbers import get_currency_name, list_currencies
from django import forms

from micromarket.core.errors import DomainError


def form_add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal on the form: on its field when it names one, else at the top."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


COMMON_CURRENCIES = ["USD", "EUR", "GBP", "CAD", "AUD", "INR", "BRL", "MXN", "JPY", "CHF"]


def currency_choices() -> list[tuple[str, str]]:
    """ISO 4217 codes with English names, the common ones first."""
    rest = sorted(set(list_currencies()) - set(COMMON_CURRENCIES))
    return [(c, f"{c} — {get_currency_name(c, locale='en')}") for c in COMMON_CURRENCIES + rest]


def timezone_choices() -> list[tuple[str, str]]:
    return [(tz, tz.replace("_", " ")) for tz in sorted(zoneinfo.available_timezones())]
