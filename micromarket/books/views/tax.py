"""Pages of the tax area: the estimate (every figure with how it was computed), the tax profile
and the payments made. See docs/books/tax.md."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from micromarket.books import taxdata
from micromarket.books.forms.tax import TaxPaymentForm, TaxProfileForm
from micromarket.books.selectors import tax as selectors
from micromarket.books.services import tax as services
from micromarket.core.charts import bar_chart
from micromarket.core.errors import DomainError, NotFound
from micromarket.core.forms import form_add_domain_error
from micromarket.core.money import money_format

log = logging.getLogger(__name__)


def _sync(request) -> None:
    """Bring released platform earnings into the books first (the entries area's service)."""
    try:
        from micromarket.books.services import entries as entry_services

        entry_services.platform_income_sync(owner=request.user)
    except Exception:  # the estimate still works from what is already in the books
        log.exception("platform income sync failed before the tax page")


def _year_param(request) -> int | None:
    raw = request.GET.get("year", "")
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise Http404("There is no such tax year.") from None


@login_required
def tax_estimate(request):
    _sync(request)
    try:
        view = selectors.estimate_for(request.user, year=_year_param(request))
    except NotFound as exc:
        raise Http404(exc.message) from None
    chart = None
    if any(d.amount for d in view.schedule):
        currency = view.currency
        chart = bar_chart(
            [f"{d.period.replace('_', ' ')} {d.due_date:%-d %b %Y}" for d in view.schedule],
            {
                "Paid": [d.paid for d in view.schedule],
                "Still due": [d.remaining for d in view.schedule],
            },
            title=f"Tax payments for {view.label}",
            fmt=lambda v: money_format(v, currency),
        )
    return render(
        request,
        "books/tax/estimate.html",
        {
            "view": view,
            "chart": chart,
            "has_profile": view.profile.pk is not None,
            "years": [
                (y, taxdata.tax_year_label(view.country, y))
                for y in selectors.estimate_years(view.country)
            ],
            "next_payment": selectors.next_payment(request.user),
        },
    )


@login_required
def tax_profile(request):
    profile = selectors.profile_get(request.user)
    if request.method == "POST":
        form = TaxProfileForm.for_profile(profile, data=request.POST)
        if form.is_valid():
            try:
                services.tax_profile_update(owner=request.user, **form.values())
            except DomainError as exc:
                form_add_domain_error(form, exc)
            else:
                messages.success(request, "Your tax profile was saved.")
                return redirect("books:tax")
        return render(
            request, "books/tax/profile.html", {"form": form, "profile": profile}, status=400
        )
    return render(
        request,
        "books/tax/profile.html",
        {"form": TaxProfileForm.for_profile(profile), "profile": profile},
    )


def _payments_context(request, form=None) -> dict:
    profile = selectors.profile_get(request.user)
    country = profile.country
    years = selectors.estimate_years(country)
    if form is None:
        today = selectors.today_for(request.user)
        current = taxdata.current_tax_year(country, today)
        form = TaxPaymentForm(
            country=country,
            years=years,
            initial={"tax_year": current if current in years else max(years), "date": today},
        )
    return {
        "form": form,
        "profile": profile,
        "payments": list(selectors.payments_list(request.user)[:200]),
        "labels": selectors.PERIOD_LABELS,
    }


@login_required
def tax_payments(request):
    if request.method == "POST":
        profile = selectors.profile_get(request.user)
        form = TaxPaymentForm(
            request.POST,
            country=profile.country,
            years=selectors.estimate_years(profile.country),
        )
        if form.is_valid():
            try:
                services.tax_payment_record(owner=request.user, **form.values())
            except DomainError as exc:
                form_add_domain_error(form, exc)
            else:
                messages.success(request, "The payment was recorded.")
                return redirect("books:tax_payments")
        return render(
            request, "books/tax/payments.html", _payments_context(request, form), status=400
        )
    return render(request, "books/tax/payments.html", _payments_context(request))


@login_required
@require_POST
def tax_payment_delete(request, pk: int):
    try:
        services.tax_payment_delete(owner=request.user, payment_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from None
    messages.success(request, "The payment was deleted.")
    return redirect("books:tax_payments")


urlpatterns = [
    path("books/taxes/", tax_estimate, name="tax"),
    path("books/taxes/profile/", tax_profile, name="tax_profile"),
    path("books/taxes/payments/", tax_payments, name="tax_payments"),
    path("books/taxes/payments/<int:pk>/delete/", tax_payment_delete, name="tax_payment_delete"),
]
