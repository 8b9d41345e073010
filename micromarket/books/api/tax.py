"""API of the tax area: the tax profile, the estimate (each figure with how it was computed)
and the payments made. Everything is the caller's own. See docs/books/tax.md."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from micromarket.books.schemas.tax import (
    EstimateOut,
    NextPaymentOut,
    TaxPaymentIn,
    TaxPaymentOut,
    TaxProfileIn,
    TaxProfileOut,
)
from micromarket.books.selectors import tax as selectors
from micromarket.books.services import tax as services
from micromarket.core.api import PROBLEM_RESPONSES, LimitOffsetPage

router = Router(tags=["books"])


class EstimateQuery(Schema):
    year: int | None = None


def _profile_out(profile) -> dict:
    data = {name: getattr(profile, name) for name in services.PROFILE_FIELDS}
    data["currency"] = profile.currency
    return data


@router.get("/tax/profile", response=TaxProfileOut, summary="Your tax profile")
def tax_profile_get(request: HttpRequest):
    return _profile_out(selectors.profile_get(request.auth))


@router.put(
    "/tax/profile",
    response={200: TaxProfileOut, **PROBLEM_RESPONSES},
    summary="Change your tax profile (only the fields sent)",
    description="Amounts are minor units. **422** for an unknown country or filing status, or "
    "a negative amount.",
)
def tax_profile_put(request: HttpRequest, payload: TaxProfileIn):
    values = payload.model_dump(exclude_unset=True)
    profile = services.tax_profile_update(owner=request.auth, **values)
    return _profile_out(profile)


@router.get(
    "/tax/estimate",
    response={200: EstimateOut, **PROBLEM_RESPONSES},
    summary="Your tax estimate for a tax year (default: the current one)",
    description="Estimates, not tax advice. Every figure says how it was computed. **404** "
    "`tax_year_unknown` for a year without tax data.",
)
def tax_estimate(request: HttpRequest, query: Query[EstimateQuery]):
    view = selectors.estimate_for(request.auth, year=query.year)
    return {
        "country": view.country,
        "year": view.year,
        "label": view.label,
        "currency": view.currency,
        "disclaimer": view.disclaimer,
        "figures": [f.__dict__ for f in view.figures],
        "schedule": [d.__dict__ for d in view.schedule],
        "notes": view.estimate.notes,
        "unverified": view.tax_year.unverified,
        "sources": view.sources,
        "data_version": view.tax_year.version,
    }


@router.get(
    "/tax/next-payment",
    response={200: NextPaymentOut | None},
    summary="Your next tax payment still due (null if none)",
)
def tax_next_payment(request: HttpRequest):
    item = selectors.next_payment(request.auth)
    return None if item is None else item.__dict__


@router.get("/tax/payments", response=list[TaxPaymentOut], summary="Tax payments you recorded")
@paginate(LimitOffsetPage)
def tax_payments_list(request: HttpRequest):
    return selectors.payments_list(request.auth)


@router.post(
    "/tax/payments",
    response={201: TaxPaymentOut, **PROBLEM_RESPONSES},
    summary="Record a tax payment you made",
    description="In your tax profile's country and currency. **422** for an unknown period, "
    "a year without tax data, a future date or an amount not above zero.",
)
def tax_payment_create(request: HttpRequest, payload: TaxPaymentIn):
    payment = services.tax_payment_record(owner=request.auth, **payload.model_dump())
    return Status(201, payment)


@router.get(
    "/tax/payments/{payment_id}",
    response={200: TaxPaymentOut, **PROBLEM_RESPONSES},
    summary="One of your tax payments",
)
def tax_payment_get(request: HttpRequest, payment_id: int):
    return selectors.payment_get(request.auth, payment_id)


@router.delete(
    "/tax/payments/{payment_id}",
    response={204: None, **PROBLEM_RESPONSES},
    summary="Delete one of your tax payments",
)
def tax_payment_delete(request: HttpRequest, payment_id: int):
    services.tax_payment_delete(owner=request.auth, payment_id=payment_id)
    return Status(204, None)
