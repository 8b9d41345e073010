"""Helpers shared by every app's forms and views."""

from __future__ import annotations

from django import forms

from micromarket.core.errors import DomainError


def form_add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal on the form: on its field when it names one, else at the top."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)
