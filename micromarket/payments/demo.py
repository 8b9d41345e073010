"""Demo money: a fee schedule, paid orders in escrow, released and cleared earnings, a payout,
a refund and a tip — all through the real services and the sandbox provider, so every figure
on the earnings, payments and finance pages comes from the ledger."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from micromarket.catalog import selectors as catalog_selectors
from micromarket.ledger import selectors as ledger_selectors
from micromarket.ledger import services as ledger
from micromarket.payments import services
from micromarket.payments.models import FeeSchedule, Payment
from micromarket.payments.providers import sandbox

DOMAIN = "demo.micromarket.test"

# (buyer, seller, what happens after payment)
ORDERS = [
    ("alex", "maria", "cleared"),
    ("alex", "kwame", "cleared"),
    ("chloe", "maria", "cleared"),
    ("ravi", "aiko", "released"),
    ("chloe", "lena", "held"),
    ("ravi", "sam", "refunded"),
    ("alex", "priya", "settled"),
    ("chloe", "kwame", "held"),
]


def _user(name: str):
    return get_user_model().objects.filter(email=f"{name}@{DOMAIN}").first()


def build(*, stdout, create: bool = True) -> list[str]:
    if create and not FeeSchedule.objects.exists():
        operator = _user("ops")
        if operator is None:
            return []
        services.fee_schedule_create(
            operator=operator,
            effective_from=timezone.now(),
            commission_bps=1000,
            buyer_fee_bps=500,
            tip_platform_bps=0,
            clearing_days=14,
            currency_fees={
                c: {
                    "small_order_fee": 200,
                    "small_order_threshold": 4000,
                    "payout_minimum": 1000,
                    "payout_fee": 100 if c == "USD" else 0,
                }
                for c in ("USD", "EUR", "GBP")
            },
            note="Launch fees",
        )
    if create and not Payment.objects.exists():
        _orders(stdout)
    count = Payment.objects.filter(status="succeeded").count()
    return [
        f"Payments: {count} demo payments through the sandbox — see /earnings/ and /ops/finance/"
    ]


def _orders(stdout) -> None:
    operator = _user("ops")
    for n, (buyer_name, seller_name, outcome) in enumerate(ORDERS, start=1):
        buyer, seller = _user(buyer_name), _user(seller_name)
        if buyer is None or seller is None:
            continue
        offer = catalog_selectors.offers_for_seller(seller=seller, status="active").first()
        if offer is None:
            continue
        reference = f"demo-order:{n}"
        payment = services.payment_start(
            buyer=buyer,
            currency=offer.currency,
            orders=[
                services.OrderCharge(
                    reference=reference,
                    seller=seller,
                    subtotal=offer.price_from,
                    description=offer.title,
                    category_id=offer.category_id,
                    parent_category_id=offer.category.parent_id,
                )
            ],
            payment_method=sandbox.CARD_SUCCEEDS,
            idempotency_key=reference,
            return_url="/payments/",
        )
        if payment.status != "succeeded":
            continue
        if outcome in ("cleared", "released"):
            services.escrow_release(
                reference=reference,
                idempotency_key=f"{reference}:release",
                clearing_days=0 if outcome == "cleared" else None,
            )
        elif outcome == "refunded":
            services.refund_create(
                reference=reference,
                amount=offer.price_from,
                to="card",
                reason="The seller could not take the booking",
                idempotency_key=f"{reference}:refund",
                actor=seller,
            )
            services.refund_submit(refund_id=payment.refunds.get().pk)
        elif outcome == "settled":
            services.escrow_settlement(
                reference=reference,
                buyer_amount=offer.price_from // 4,
                to="credit",
                reason="Agreed partial refund: one item late",
                idempotency_key=f"{reference}:settle",
                actor=operator,
            )
        stdout.write(f"  payments {n}/{len(ORDERS)}\r")
    stdout.write("\n")
    ledger.clearing_apply_due(now=timezone.now() + timedelta(seconds=1))
    maria = _user("maria")
    services.tip_start(
        buyer=_user("alex"),
        seller=maria,
        reference="demo-order:1",
        amount=500,
        currency="USD",
        payment_method=sandbox.CARD_SUCCEEDS,
        idempotency_key="demo-tip:1",
        return_url="/payments/",
    )
    method = services.payout_method_add(
        owner=maria, destination=sandbox.BANK_SUCCEEDS, label="Demo bank"
    )
    # Payouts need the seller's identity and trader details approved (docs/trust.md).
    from micromarket.trust import demo_verification

    demo_verification.verify_trader(user=maria, operator=_user("ops"), method=method)
    for currency, balances in ledger_selectors.user_balances(maria).items():
        if balances["available"] >= 2_000:
            payout = services.payout_request(
                owner=maria,
                amount=balances["available"] // 2,
                currency=currency,
                method_id=method.pk,
                idempotency_key=f"demo-payout:{currency}",
            )
            services.payout_submit(payout_id=payout.pk)
