"""The embedded sandbox provider: a pretend card processor and bank with its own books.

Test cards (any future expiry, any CVC), in the style of the well-known test cards:

=====================  ==========================================
4242 4242 4242 4242    succeeds
4000 0000 0000 0002    declined ("Your card was declined.")
4000 0000 0000 9995    declined (insufficient funds)
4000 0027 6000 3184    needs the buyer to confirm on an extra page
=====================  ==========================================

Any other number that passes the Luhn check succeeds; one that does not is declined as invalid.
Test bank accounts for payouts: ``000123456789`` is paid after ``SANDBOX_PAYOUT_DELAY`` seconds,
``000111111116`` fails (no such account). Operators can force charges, refunds or payouts to
fail from the finance page (``SandboxControl``). Fees: 2.9% + 30 minor units per charge.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from micromarket.ledger.arithmetic import percent
from micromarket.payments.models import SandboxControl, SandboxObject
from micromarket.payments.providers.base import (
    ChargeResult,
    PayoutResult,
    ProviderRecord,
    RefundResult,
    WebhookEvent,
    WebhookSignatureError,
)

CARD_SUCCEEDS = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_INSUFFICIENT_FUNDS = "4000000000009995"
CARD_REQUIRES_ACTION = "4000002760003184"
BANK_SUCCEEDS = "000123456789"
BANK_FAILS = "000111111116"

FEE_BPS = 290
FEE_FIXED = 30

DECLINES = {
    CARD_DECLINED: "Your card was declined.",
    CARD_INSUFFICIENT_FUNDS: "Your card has insufficient funds.",
}


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_number(payment_method: str) -> str:
    return "".join(ch for ch in payment_method if ch.isdigit())


def sandbox_fee(amount: int) -> int:
    return min(amount, percent(amount, FEE_BPS) + FEE_FIXED)


class SandboxProvider:
    name = "sandbox"

    def _create(self, *, kind: str, idempotency_key: str, **fields) -> SandboxObject:
        """Store the object once per idempotency key (a retry returns the first)."""
        existing = SandboxObject.objects.filter(kind=kind, idempotency_key=idempotency_key).first()
        if existing:
            return existing
        prefix = {"charge": "sbx_ch_", "refund": "sbx_re_", "payout": "sbx_po_"}[kind]
        try:
            with transaction.atomic():
                return SandboxObject.objects.create(
                    kind=kind,
                    idempotency_key=idempotency_key,
                    reference=prefix + secrets.token_hex(8),
                    **fields,
                )
        except IntegrityError:
            return SandboxObject.objects.get(kind=kind, idempotency_key=idempotency_key)

    # Charges ---------------------------------------------------------------------------------

    def charge(
        self,
        *,
        amount: int,
        currency: str,
        payment_method: str,
        description: str,
        idempotency_key: str,
        return_url: str,
    ) -> ChargeResult:
        number = card_number(payment_method)
        status, message, fee = "succeeded", "", sandbox_fee(amount)
        if SandboxControl.current().fail_charges:
            status, message = "declined", "The sandbox was told to decline every charge."
        elif number in DECLINES:
            status, message = "declined", DECLINES[number]
        elif not luhn_valid(number):
            status, message = "declined", "Your card number is not valid."
        elif number == CARD_REQUIRES_ACTION:
            status = "requires_action"
        obj = self._create(
            kind="charge",
            idempotency_key=idempotency_key,
            amount=amount,
            currency=currency,
            fee=fee if status == "succeeded" else 0,
            status=status,
            failure_message=message,
            source=number[-4:],
            return_url=return_url,
        )
        return self._charge_result(obj)

    def _charge_result(self, obj: SandboxObject) -> ChargeResult:
        action_url = ""
        if obj.status == "requires_action":
            action_url = settings.SITE_URL + reverse(
                "payments:sandbox_authenticate", args=[obj.reference]
            )
        return ChargeResult(
            status=obj.status,
            reference=obj.reference,
            amount=obj.amount,
            currency=obj.currency,
            fee=obj.fee,
            decline_message=obj.failure_message,
            action_url=action_url,
        )

    def charge_retrieve(self, *, reference: str) -> ChargeResult:
        obj = SandboxObject.objects.get(kind="charge", reference=reference)
        return self._charge_result(obj)

    def charge_cancel(self, *, reference: str) -> ChargeResult:
        SandboxObject.objects.filter(
            kind="charge", reference=reference, status="requires_action"
        ).update(status="declined", failure_message="The payment was cancelled.")
        return self.charge_retrieve(reference=reference)

    def authenticate(self, *, reference: str, approve: bool) -> str:
        """The buyer's answer on the sandbox's confirmation page; returns where to go next."""
        obj = SandboxObject.objects.get(kind="charge", reference=reference)
        if approve:
            SandboxObject.objects.filter(pk=obj.pk, status="requires_action").update(
                status="succeeded", fee=sandbox_fee(obj.amount)
            )
        else:
            SandboxObject.objects.filter(pk=obj.pk, status="requires_action").update(
                status="declined", failure_message="You did not confirm the payment."
            )
        return obj.return_url

    # Refunds ---------------------------------------------------------------------------------

    def refund(
        self, *, charge_reference: str, amount: int, currency: str, idempotency_key: str
    ) -> RefundResult:
        fail = SandboxControl.current().fail_refunds
        obj = self._create(
            kind="refund",
            idempotency_key=idempotency_key,
            amount=amount,
            currency=currency,
            status="failed" if fail else "succeeded",
            failure_message="The sandbox was told to fail refunds." if fail else "",
            source=charge_reference,
        )
        return RefundResult(
            status=obj.status,
            reference=obj.reference,
            amount=obj.amount,
            currency=obj.currency,
            failure_message=obj.failure_message,
        )

    # Payouts ---------------------------------------------------------------------------------

    def payout(
        self,
        *,
        destination: str,
        amount: int,
        currency: str,
        description: str,
        idempotency_key: str,
    ) -> PayoutResult:
        status, message = "pending", ""
        if SandboxControl.current().fail_payouts:
            status, message = "failed", "The sandbox was told to fail payouts."
        elif destination == BANK_FAILS:
            status, message = "failed", "The bank account does not exist."
        obj = self._create(
            kind="payout",
            idempotency_key=idempotency_key,
            amount=amount,
            currency=currency,
            status=status,
            failure_message=message,
            source=destination,
            settles_at=timezone.now() + timedelta(seconds=settings.SANDBOX_PAYOUT_DELAY),
        )
        return self._payout_result(obj)

    def _payout_result(self, obj: SandboxObject) -> PayoutResult:
        return PayoutResult(
            status=obj.status,
            reference=obj.reference,
            amount=obj.amount,
            currency=obj.currency,
            failure_message=obj.failure_message,
        )

    def payout_retrieve(self, *, reference: str) -> PayoutResult:
        obj = SandboxObject.objects.get(kind="payout", reference=reference)
        if obj.status == "pending" and obj.settles_at and obj.settles_at <= timezone.now():
            SandboxObject.objects.filter(pk=obj.pk, status="pending").update(status="paid")
            obj.refresh_from_db()
        return self._payout_result(obj)

    # Reconciliation and webhooks -------------------------------------------------------------

    def records(self, *, since: datetime, until: datetime) -> list[ProviderRecord]:
        rows = SandboxObject.objects.filter(created_at__gte=since, created_at__lt=until)
        return [
            ProviderRecord(
                kind=row.kind,
                reference=row.reference,
                amount=row.amount,
                currency=row.currency,
                status=row.status,
                created_at=row.created_at,
                fee=row.fee,
            )
            for row in rows.order_by("id")
        ]

    def webhook_event(self, *, payload: bytes, headers: dict[str, str]) -> WebhookEvent:
        raise WebhookSignatureError("The sandbox sends no webhooks.")
