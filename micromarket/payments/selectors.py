"""Reads of payments used by pages, the API and other apps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Prefetch, QuerySet, Sum
from django.utils import timezone

from micromarket.ledger import selectors as ledger_selectors
from micromarket.payments.fees import (
    DEFAULTS,
    FeeQuote,
    currency_fees,
    fee_quote,
    percent_label,
    schedule_at,
)
from micromarket.payments.models import (
    CurrencyFees,
    FeeSchedule,
    Payment,
    PaymentLine,
    Payout,
    PayoutMethod,
    PayoutStatus,
    ReconciliationRun,
    Refund,
    SandboxControl,
    SandboxObject,
    WebhookEvent,
)

__all__ = [
    "FeeQuote",
    "currency_terms",
    "earnings_summary",
    "fee_quote",
    "fee_schedule_detail",
    "fee_schedules_upcoming",
    "payment_fee_schedule",
    "payment_for_buyer",
    "payment_for_reference",
    "payments_for_buyer",
    "payout_for_key",
    "payout_methods_for_owner",
    "payouts_for_owner",
    "payouts_in_payout",
    "payouts_sent",
    "percent_label",
    "reconciliation_run_get",
    "reconciliation_runs",
    "sandbox_charge_for_confirmation",
    "sandbox_control",
    "schedule_at",
    "wallet",
    "webhook_events_recent",
]

IN_PAYOUT = (PayoutStatus.REQUESTED, PayoutStatus.IN_FLIGHT)


def sandbox_charge_for_confirmation(*, reference: str) -> SandboxObject | None:
    return SandboxObject.objects.filter(
        kind="charge", reference=reference, status="requires_action"
    ).first()


def payment_for_reference(*, provider: str, reference: str) -> Payment | None:
    return Payment.objects.filter(provider=provider, provider_reference=reference).first()


# --- fees -----------------------------------------------------------------------------------


def currency_terms(*, currency: str, at: datetime | None = None) -> CurrencyFees:
    """The fixed amounts of the schedule in effect for one currency (small-order fee and its
    threshold, payout minimum and fee); zeros when the schedule sets none."""
    return currency_fees(schedule_at(at), currency)


def fee_schedule_detail(schedule: FeeSchedule) -> dict:
    """A schedule with its rates as percentages, its per-currency amounts and its category
    rates, for display."""
    detail = {
        "schedule": schedule,
        "commission": percent_label(schedule.commission_bps),
        "buyer_fee": percent_label(schedule.buyer_fee_bps),
        "tip_share": percent_label(schedule.tip_platform_bps),
        "currency_fees": [],
        "category_commissions": [],
    }
    if schedule.pk:
        detail["currency_fees"] = list(schedule.currency_fees.order_by("currency"))
        detail["category_commissions"] = [
            (row, percent_label(row.commission_bps))
            for row in schedule.category_commissions.select_related(
                "category", "category__parent"
            ).order_by("category__parent__name", "category__name")
        ]
    return detail


def fee_schedules_upcoming(*, now: datetime | None = None) -> list[FeeSchedule]:
    """Schedules that start in the future, soonest first."""
    now = now or timezone.now()
    return list(FeeSchedule.objects.filter(effective_from__gt=now).order_by("effective_from", "id"))


def payment_fee_schedule(payment: Payment) -> FeeSchedule:
    """The schedule a payment was priced with (an unsaved one with the defaults when the
    operator had configured none)."""
    if payment.fee_schedule_id:
        return payment.fee_schedule
    return FeeSchedule(effective_from=payment.created_at, **DEFAULTS)


# --- buyers ---------------------------------------------------------------------------------


def payments_for_buyer(*, buyer) -> QuerySet[Payment]:
    return Payment.objects.filter(buyer=buyer).order_by("-created_at", "-id")


def payment_for_key(*, buyer, idempotency_key: str) -> Payment | None:
    """The payment ``payment_start`` made for this buyer and key, if it got that far."""
    return Payment.objects.filter(buyer=buyer, idempotency_key=idempotency_key).first()


def payment_for_buyer(*, buyer, payment_id: int) -> Payment | None:
    """The buyer's own payment with its lines and refunds; None for anyone else's."""
    return (
        Payment.objects.filter(buyer=buyer, pk=payment_id)
        .select_related("fee_schedule", "tip_seller")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=PaymentLine.objects.select_related("seller").prefetch_related(
                    Prefetch("refunds", queryset=Refund.objects.order_by("created_at", "id"))
                ),
            )
        )
        .first()
    )


# --- sellers --------------------------------------------------------------------------------


def payout_methods_for_owner(*, owner) -> QuerySet[PayoutMethod]:
    return PayoutMethod.objects.filter(owner=owner, removed_at__isnull=True).order_by(
        "-created_at", "-id"
    )


def payouts_for_owner(*, owner) -> QuerySet[Payout]:
    return (
        Payout.objects.filter(owner=owner).select_related("method").order_by("-created_at", "-id")
    )


def payout_for_key(*, owner, idempotency_key: str) -> Payout | None:
    """The owner's payout made with this key (a form sent twice), if any."""
    if not idempotency_key:
        return None
    return Payout.objects.filter(owner=owner, idempotency_key=idempotency_key).first()


def payouts_in_payout(*, owner) -> dict[str, int]:
    """{currency: amount} of the owner's payouts requested or on their way."""
    rows = (
        Payout.objects.filter(owner=owner, status__in=IN_PAYOUT)
        .values("currency")
        .annotate(total=Sum("amount"))
    )
    return {r["currency"]: r["total"] for r in rows}


@dataclass(frozen=True)
class PayoutSent:
    """A payout as it shows on the seller's bank statement: the net that reaches the bank."""

    net: int
    currency: str
    day: date  # the day it was sent (requested, while not sent yet)


def payouts_sent(*, owner, since: date | None = None) -> list[PayoutSent]:
    """The owner's payouts that are not failed, oldest first (the books' statement imports use
    them to recognise a payout of earnings already counted as platform income)."""
    qs = Payout.objects.filter(owner=owner).exclude(status=PayoutStatus.FAILED)
    if since is not None:
        qs = qs.filter(created_at__date__gte=since)
    return [
        PayoutSent(
            net=p.amount - p.fee,
            currency=p.currency,
            day=timezone.localdate(p.sent_at or p.created_at),
        )
        for p in qs.order_by("created_at", "id")
    ]


@dataclass
class CurrencyEarnings:
    currency: str
    pending: int = 0
    available: int = 0
    in_payout: int = 0
    next_clearings: list = field(default_factory=list)  # ledger Clearing rows, soonest first
    terms: CurrencyFees | None = None  # payout minimum and fee


def earnings_summary(*, user, clearings_shown: int = 3) -> list[CurrencyEarnings]:
    """Per currency the seller's pending, available and in-payout amounts, the next dates on
    which pending earnings clear, and the payout minimum and fee."""
    kinds = (ledger_selectors.AccountKind.PENDING, ledger_selectors.AccountKind.AVAILABLE)
    rows: dict[str, CurrencyEarnings] = {}
    for account in ledger_selectors.user_accounts(user, kinds=kinds):
        row = rows.setdefault(account.currency, CurrencyEarnings(account.currency))
        setattr(row, account.kind, account.balance)
    for currency, amount in payouts_in_payout(owner=user).items():
        rows.setdefault(currency, CurrencyEarnings(currency)).in_payout = amount
    schedule = schedule_at()
    for row in rows.values():
        row.next_clearings = list(
            ledger_selectors.pending_clearings(user, row.currency)[:clearings_shown]
        )
        row.terms = currency_fees(schedule, row.currency)
    return [rows[c] for c in sorted(rows)]


def wallet(*, user) -> list[dict]:
    """Per currency (sorted): pending, available, in payout, buyer credit and when the next
    pending earnings clear — the API's /wallet."""
    balances = ledger_selectors.user_balances(user)
    in_payout = payouts_in_payout(owner=user)
    result = []
    for currency in sorted(set(balances) | set(in_payout)):
        amounts = balances.get(currency, {"pending": 0, "available": 0, "credit": 0})
        first = ledger_selectors.pending_clearings(user, currency).first()
        result.append(
            {
                "currency": currency,
                "pending": amounts["pending"],
                "available": amounts["available"],
                "in_payout": in_payout.get(currency, 0),
                "credit": amounts["credit"],
                "next_clearing_at": first.available_at if first else None,
            }
        )
    return result


# --- operators ------------------------------------------------------------------------------


def reconciliation_runs(*, limit: int = 60) -> list[ReconciliationRun]:
    return list(ReconciliationRun.objects.order_by("-day", "-id")[:limit])


def reconciliation_run_get(*, run_id: int) -> ReconciliationRun | None:
    return ReconciliationRun.objects.prefetch_related("difference_rows").filter(pk=run_id).first()


def webhook_events_recent(*, limit: int = 20) -> list[WebhookEvent]:
    return list(WebhookEvent.objects.order_by("-received_at", "-id")[:limit])


def sandbox_control() -> SandboxControl:
    """The sandbox's failure switches (all off when never set); reads without writing."""
    return SandboxControl.objects.filter(pk=1).first() or SandboxControl(pk=1)
