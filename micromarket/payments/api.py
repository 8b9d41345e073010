"""/api/v1/wallet, /payouts, /payout-methods, /payments, /fees/quote and the Stripe webhook.

Endpoints validate, call one service or selector, serialise. Writes that move money honour the
``Idempotency-Key`` header (``micromarket.core.idempotency``).
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest, JsonResponse
from django.utils.http import urlencode
from ninja import Query, Router, Status
from ninja.pagination import paginate

from micromarket.core.api import PROBLEM_RESPONSES, LimitOffsetPage, problem_response
from micromarket.core.errors import NotFound, ValidationFailed
from micromarket.core.idempotency import idempotent
from micromarket.ledger import selectors as ledger_selectors
from micromarket.payments import selectors, services
from micromarket.payments.providers.base import WebhookSignatureError
from micromarket.payments.schemas import (
    FeeQuoteOut,
    PaymentOut,
    PayoutIn,
    PayoutMethodIn,
    PayoutMethodOut,
    PayoutOut,
    StripeOnboardingIn,
    StripeOnboardingOut,
    WalletLinePage,
    WalletOut,
    WebhookOut,
)

router = Router(tags=["money"])


@router.get(
    "/wallet", response={200: WalletOut, **PROBLEM_RESPONSES}, summary="Your balances per currency"
)
def wallet(request):
    return {"balances": selectors.wallet(user=request.auth)}


@router.get(
    "/wallet/transactions",
    response={200: WalletLinePage, **PROBLEM_RESPONSES},
    summary="Lines of one of your balances, newest first, with the running balance",
)
def wallet_transactions(
    request: HttpRequest,
    currency: str = "USD",
    account: Literal["available", "pending", "credit"] = "available",
    pagination: Query[LimitOffsetPage.Input] = None,
):
    limit = pagination.limit if pagination else LimitOffsetPage.Input().limit
    offset = pagination.offset if pagination else 0
    acc = ledger_selectors.user_account(request.auth, kind=account, currency=currency)
    lines, count = (
        ledger_selectors.account_statement(acc, limit=limit, offset=offset) if acc else ([], 0)
    )

    def link(new_offset: int) -> str:
        query = {
            "currency": currency.upper(),
            "account": account,
            "limit": limit,
            "offset": new_offset,
        }
        return f"{request.path}?{urlencode(query)}"

    return {
        "items": [
            {
                "id": line.posting_id,
                "created_at": line.transaction.created_at,
                "account": account,
                "currency": acc.currency,
                "kind": line.transaction.kind,
                "description": line.transaction.description,
                "reference": line.transaction.reference,
                "amount": line.amount,
                "balance": line.balance,
            }
            for line in lines
        ],
        "count": count,
        "limit": limit,
        "offset": offset,
        "next": link(offset + limit) if offset + limit < count else None,
        "previous": link(max(offset - limit, 0)) if offset > 0 else None,
    }


def _payout(payout) -> dict:
    return PayoutOut.from_orm(payout).model_dump(mode="json") | {"net": payout.net}


@router.post(
    "/payouts",
    response={201: PayoutOut, **PROBLEM_RESPONSES},
    summary="Pay out part of your available balance (send an Idempotency-Key header)",
)
def payout_create(request, payload: PayoutIn):
    def run(key: str):
        payout = services.payout_request(
            owner=request.auth,
            amount=payload.amount,
            currency=payload.currency,
            method_id=payload.method_id,
            idempotency_key=key,
        )
        return 201, _payout(payout)

    status, body = idempotent(request, params=payload.model_dump(), run=run)
    return Status(status, body)


@router.get("/payouts", response=list[PayoutOut], summary="Your payouts, newest first")
@paginate(LimitOffsetPage)
def payouts_list(request):
    return selectors.payouts_for_owner(owner=request.auth)


@router.get(
    "/payouts/{payout_id}",
    response={200: PayoutOut, **PROBLEM_RESPONSES},
    summary="One of your payouts",
)
def payout_get(request, payout_id: int):
    payout = selectors.payouts_for_owner(owner=request.auth).filter(pk=payout_id).first()
    if payout is None:
        raise NotFound("No such payout.")
    return _payout(payout)


def _method(method) -> dict:
    return {
        "id": method.pk,
        "provider": method.provider,
        "label": method.label,
        "destination_last4": method.destination[-4:],
        "created_at": method.created_at,
    }


@router.get("/payout-methods", response=list[PayoutMethodOut], summary="Where your payouts can go")
def payout_methods_list(request):
    return [_method(m) for m in selectors.payout_methods_for_owner(owner=request.auth)]


@router.post(
    "/payout-methods",
    response={201: PayoutMethodOut, **PROBLEM_RESPONSES},
    summary="Add a payout method",
)
def payout_method_create(request, payload: PayoutMethodIn):
    method = services.payout_method_add(
        owner=request.auth, destination=payload.destination, label=payload.label
    )
    return Status(201, _method(method))


@router.post(
    "/payout-methods/stripe-onboarding",
    response={201: StripeOnboardingOut, **PROBLEM_RESPONSES},
    summary="Stripe only: your Connect account and a link to Stripe's onboarding",
)
def payout_method_stripe(request, payload: StripeOnboardingIn):
    method, url = services.payout_method_stripe_onboarding(
        owner=request.auth,
        country=payload.country,
        refresh_url=request.build_absolute_uri("/earnings/payout-methods/"),
        return_url=request.build_absolute_uri("/earnings/"),
    )
    return Status(201, {"method": _method(method), "onboarding_url": url})


@router.delete(
    "/payout-methods/{method_id}",
    response={204: None, **PROBLEM_RESPONSES},
    summary="Remove a payout method",
)
def payout_method_delete(request, method_id: int):
    services.payout_method_remove(owner=request.auth, method_id=method_id)
    return Status(204, None)


@router.get("/payments", response=list[PaymentOut], summary="Your payments as a buyer")
@paginate(LimitOffsetPage)
def payments_list(request):
    return selectors.payments_for_buyer(buyer=request.auth).prefetch_related(
        "lines", "refunds__line"
    )


@router.get(
    "/payments/{payment_id}",
    response={200: PaymentOut, **PROBLEM_RESPONSES},
    summary="One of your payments, as a receipt",
)
def payment_get(request, payment_id: int):
    payment = selectors.payment_for_buyer(buyer=request.auth, payment_id=payment_id)
    if payment is None:
        raise NotFound("No such payment.")
    return payment


@router.get(
    "/fees/quote",
    response={200: FeeQuoteOut, **PROBLEM_RESPONSES},
    auth=None,
    summary="What a buyer pays and a seller earns for a price, with today's fees",
)
def fee_quote(request, subtotal: int, currency: str = "USD", category_id: int | None = None):
    if subtotal <= 0:
        raise ValidationFailed("Enter a price greater than zero.", field="subtotal")
    quote = selectors.fee_quote(
        subtotal=subtotal, currency=currency.upper(), category_id=category_id
    )
    return {
        **quote.__dict__,
        "commission_percent": quote.commission_percent,
        "buyer_fee_percent": quote.buyer_fee_percent,
    }


@router.post(
    "/payments/stripe/webhook",
    response={200: WebhookOut, 400: dict},
    auth=None,
    summary="Stripe events (verified by the Stripe-Signature header)",
    include_in_schema=True,
)
def stripe_webhook(request):
    try:
        outcome = services.webhook_receive(
            provider_name="stripe", payload=request.body, headers=dict(request.headers)
        )
    except WebhookSignatureError as exc:
        return problem_response(request, status=400, code="bad_signature", detail=str(exc))
    return JsonResponse({"received": True, "outcome": outcome})
