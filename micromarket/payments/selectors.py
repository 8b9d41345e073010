"""Reads of payments used by pages, the API and other apps."""

from __future__ import annotations

from micromarket.payments.fees import FeeQuote, fee_quote, schedule_at
from micromarket.payments.models import Payment, SandboxObject

__all__ = ["FeeQuote", "fee_quote", "schedule_at", "sandbox_charge_for_confirmation"]


def sandbox_charge_for_confirmation(*, reference: str) -> SandboxObject | None:
    return SandboxObject.objects.filter(
        kind="charge", reference=reference, status="requires_action"
    ).first()


def payment_for_reference(*, provider: str, reference: str) -> Payment | None:
    return Payment.objects.filter(provider=provider, provider_reference=reference).first()
