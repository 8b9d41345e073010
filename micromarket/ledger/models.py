"""The double-entry ledger (docs/ledger.md, decisions 0002 and 0006).

* An ``Account`` holds one currency. System accounts (provider clearing, platform revenue,
  provider fees, payouts in flight) exist once per currency; each order has an escrow account;
  each user has pending earnings, available balance and buyer credit accounts.
* A ``Transaction`` is a group of ``Posting`` rows that sums to zero per currency. A posting's
  ``amount`` is signed: positive = debit, negative = credit. Transactions and postings are never
  updated or deleted (database triggers refuse it); a mistake is corrected by a reversing
  transaction.
* Escrow and user accounts are **liabilities** — money the platform holds for someone — so their
  balance is the credit side: ``balance = -sum(postings)``. That balance is kept in
  ``Account.balance``, changed only by ``ledger.services`` in the same database transaction as
  the postings, under a row lock, and may never be negative (checked in code and by a CHECK
  constraint). It is a running total of the postings, verified by ``ledger_verify``.
* System accounts keep no balance column: every checkout posts to them, and a balance row there
  would make all checkouts queue on one lock. Their balance is the sum of their postings.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class AccountKind(models.TextChoices):
    PROVIDER_CLEARING = "provider_clearing", "Provider clearing"
    PLATFORM_REVENUE = "platform_revenue", "Platform revenue"
    PROVIDER_FEES = "provider_fees", "Provider fees"
    PAYOUTS_IN_FLIGHT = "payouts_in_flight", "Payouts in flight"
    ESCROW = "escrow", "Order escrow"
    PENDING = "pending", "Pending earnings"
    AVAILABLE = "available", "Available balance"
    CREDIT = "credit", "Buyer credit"


SYSTEM_KINDS = (
    AccountKind.PROVIDER_CLEARING,
    AccountKind.PLATFORM_REVENUE,
    AccountKind.PROVIDER_FEES,
    AccountKind.PAYOUTS_IN_FLIGHT,
)
USER_KINDS = (AccountKind.PENDING, AccountKind.AVAILABLE, AccountKind.CREDIT)
# Accounts whose natural balance is on the debit side (assets and expenses). Shown balances are
# sum(postings) for these and -sum(postings) for all others.
DEBIT_NORMAL_KINDS = (AccountKind.PROVIDER_CLEARING, AccountKind.PROVIDER_FEES)
TRACKED_KINDS = (AccountKind.ESCROW, *USER_KINDS)


class Account(models.Model):
    kind = models.CharField(max_length=20, choices=AccountKind.choices)
    currency = models.CharField(max_length=3)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_accounts",
    )
    # Tracked accounts only (escrow and user accounts): the credit-side balance.
    balance = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "currency"],
                condition=Q(kind__in=SYSTEM_KINDS),
                name="ledger_account_one_system_account_per_currency",
            ),
            models.UniqueConstraint(
                fields=["kind", "currency", "owner"],
                condition=Q(kind__in=USER_KINDS),
                name="ledger_account_one_user_account_per_kind_currency",
            ),
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="ledger_account_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=SYSTEM_KINDS)
                | Q(kind=AccountKind.ESCROW, owner__isnull=True)
                | Q(kind__in=USER_KINDS, owner__isnull=False),
                name="ledger_account_owner_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="ledger_account_currency_iso"
            ),
        ]

    def __str__(self) -> str:
        if self.kind == AccountKind.ESCROW and hasattr(self, "escrow"):
            return f"Escrow {self.escrow.reference} ({self.currency})"
        who = f" of user {self.owner_id}" if self.owner_id else ""
        return f"{self.get_kind_display()}{who} ({self.currency})"

    @property
    def is_tracked(self) -> bool:
        return self.kind in TRACKED_KINDS

    @property
    def is_debit_normal(self) -> bool:
        return self.kind in DEBIT_NORMAL_KINDS


class TransactionKind(models.TextChoices):
    CHARGE = "charge", "Payment into escrow"
    PROVIDER_FEE = "provider_fee", "Provider fee"
    CREDIT_HOLD = "credit_hold", "Buyer credit applied"
    CREDIT_RETURN = "credit_return", "Buyer credit returned"
    REFUND = "refund", "Refund"
    RELEASE = "release", "Release from escrow"
    SETTLEMENT = "settlement", "Split settlement"
    CLEARING = "clearing", "Earnings cleared"
    TIP = "tip", "Tip"
    PAYOUT = "payout", "Payout requested"
    PAYOUT_PAID = "payout_paid", "Payout sent"
    PAYOUT_FAILED = "payout_failed", "Payout failed, funds returned"
    REFUND_FAILED = "refund_failed", "Card refund failed, paid as credit"
    ADJUSTMENT = "adjustment", "Adjustment"
    REVERSAL = "reversal", "Reversal"


class Transaction(models.Model):
    """One economic event. Its postings sum to zero per currency. Never changed after insert."""

    kind = models.CharField(max_length=20, choices=TransactionKind.choices)
    description = models.CharField(max_length=300)
    # What caused it, as "<type>:<id>": order:12, payment:3, refund:7, payout:5, dispute:2 …
    reference = models.CharField(max_length=80, db_index=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    fingerprint = models.CharField(max_length=64)  # sha256 of the parameters, for replays
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}: {self.description}"


class Posting(models.Model):
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    amount = models.BigIntegerField()  # debit > 0, credit < 0, never 0
    currency = models.CharField(max_length=3)  # the account's; checked by a trigger

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["account", "id"], name="ledger_posting_account_id")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_posting_amount_not_zero")
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} {self.currency} on account {self.account_id}"


class EscrowStatus(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
    HELD = "held", "Held"
    RELEASED = "released", "Released to the seller"
    REFUNDED = "refunded", "Refunded to the buyer"
    SETTLED = "settled", "Split between buyer and seller"
    CANCELLED = "cancelled", "Payment did not complete"


class Escrow(models.Model):
    """What the buyer paid for one order, held until the order is accepted or refunded.

    The amounts are a snapshot taken at checkout (price, the buyer's service fee, the
    commission rate in effect); the money itself is the balance of ``account``.
    """

    reference = models.CharField(max_length=80, unique=True)  # "order:12"
    account = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="escrow")
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="escrows_paid"
    )
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="escrows_earned"
    )
    currency = models.CharField(max_length=3)
    subtotal = models.BigIntegerField()  # the seller's price
    service_fee = models.BigIntegerField()  # the buyer's service fee
    commission_bps = models.PositiveIntegerField()  # platform commission, basis points
    refunded_subtotal = models.BigIntegerField(default=0)
    refunded_fee = models.BigIntegerField(default=0)
    status = models.CharField(
        max_length=20, choices=EscrowStatus.choices, default=EscrowStatus.AWAITING_PAYMENT
    )
    description = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(subtotal__gt=0, service_fee__gte=0, refunded_fee__gte=0)
                & Q(refunded_subtotal__gte=0, refunded_subtotal__lte=models.F("subtotal"))
                & Q(refunded_fee__lte=models.F("service_fee")),
                name="ledger_escrow_amounts_consistent",
            )
        ]

    def __str__(self) -> str:
        return f"Escrow {self.reference}"

    @property
    def total(self) -> int:
        return self.subtotal + self.service_fee


class Clearing(models.Model):
    """Earnings waiting out the clearing period: moved pending → available at ``available_at``."""

    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="clearings"
    )
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    available_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["available_at", "id"]
        indexes = [
            models.Index(
                fields=["available_at"],
                condition=Q(cleared_at__isnull=True),
                name="ledger_clearing_due",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="ledger_clearing_amount_positive"
            )
        ]
