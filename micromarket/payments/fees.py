"""Fee schedules: which fees apply at a moment, and the breakdown of a price.

Reads only; the operator's writes are ``services.fee_schedule_create``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from micromarket.ledger.arithmetic import percent
from micromarket.payments.models import CategoryCommission, CurrencyFees, FeeSchedule

# What applies when an operator has not configured anything yet (documented in docs/payments.md).
DEFAULTS = {
    "commission_bps": 1000,
    "buyer_fee_bps": 500,
    "tip_platform_bps": 0,
    "clearing_days": 14,
}


def schedule_at(at: datetime | None = None) -> FeeSchedule:
    """The schedule in effect at ``at`` (now): the newest whose ``effective_from`` has passed.
    An unsaved schedule with the defaults when none exists."""
    at = at or timezone.now()
    schedule = (
        FeeSchedule.objects.filter(effective_from__lte=at)
        .order_by("-effective_from", "-id")
        .first()
    )
    return schedule or FeeSchedule(effective_from=at, **DEFAULTS)


def currency_fees(schedule: FeeSchedule, currency: str) -> CurrencyFees:
    if schedule.pk:
        row = CurrencyFees.objects.filter(schedule=schedule, currency=currency).first()
        if row:
            return row
    return CurrencyFees(currency=currency)


def commission_bps(
    schedule: FeeSchedule, category_id: int | None, parent_id: int | None = None
) -> int:
    """The category's own rate, else its parent category's, else the schedule's default."""
    if schedule.pk and category_id:
        rates = dict(
            CategoryCommission.objects.filter(
                schedule=schedule, category_id__in=[c for c in (category_id, parent_id) if c]
            ).values_list("category_id", "commission_bps")
        )
        if category_id in rates:
            return rates[category_id]
        if parent_id in rates:
            return rates[parent_id]
    return schedule.commission_bps


@dataclass(frozen=True)
class FeeQuote:
    """What the buyer pays and the seller receives for a price, before anything is charged."""

    currency: str
    subtotal: int  # the seller's price
    service_fee: int  # added for the buyer
    small_order_fee: int  # part of service_fee: the fixed fee under the threshold
    total: int  # what the buyer pays
    commission_bps: int
    commission: int  # taken from the seller
    seller_net: int  # what the seller earns
    buyer_fee_bps: int
    schedule_id: int | None

    @property
    def commission_percent(self) -> str:
        return percent_label(self.commission_bps)

    @property
    def buyer_fee_percent(self) -> str:
        return percent_label(self.buyer_fee_bps)


def percent_text(bps: int) -> str:
    """550 → "5.5" (basis points as a percentage, as people type it)."""
    return format((Decimal(bps) / 100).normalize(), "f")


def percent_label(bps: int) -> str:
    """1000 → "10%", 550 → "5.5%"."""
    return f"{percent_text(bps)}%"


def fee_quote(
    *,
    subtotal: int,
    currency: str,
    category_id: int | None = None,
    parent_category_id: int | None = None,
    at: datetime | None = None,
    schedule: FeeSchedule | None = None,
    fee_free: bool = False,
) -> FeeQuote:
    """The breakdown of ``subtotal`` under ``schedule`` (default: the one in effect at ``at``).

    ``fee_free`` money (a rental's security deposit) is only held: no service fee, no
    commission."""
    schedule = schedule or schedule_at(at)
    if fee_free:
        return FeeQuote(
            currency=currency,
            subtotal=subtotal,
            service_fee=0,
            small_order_fee=0,
            total=subtotal,
            commission_bps=0,
            commission=0,
            seller_net=subtotal,
            buyer_fee_bps=0,
            schedule_id=schedule.pk,
        )
    fixed = currency_fees(schedule, currency)
    small = fixed.small_order_fee if subtotal < fixed.small_order_threshold else 0
    service_fee = percent(subtotal, schedule.buyer_fee_bps) + small
    bps = commission_bps(schedule, category_id, parent_category_id)
    commission = percent(subtotal, bps)
    return FeeQuote(
        currency=currency,
        subtotal=subtotal,
        service_fee=service_fee,
        small_order_fee=small,
        total=subtotal + service_fee,
        commission_bps=bps,
        commission=commission,
        seller_net=subtotal - commission,
        buyer_fee_bps=schedule.buyer_fee_bps,
        schedule_id=schedule.pk,
    )
