"""Payments: what the marketplace asked payment providers to do, and the fee settings.

The money itself is in the ledger; these rows record the requests (payments, refunds, payouts),
their state at the provider, and the operator's fee schedule. The sandbox provider keeps its own
books in ``SandboxObject`` — the way a real provider would — so that reconciliation compares two
independent records.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class FeeSchedule(models.Model):
    """The marketplace's fees from ``effective_from`` on (the newest one in effect applies).

    Rates are basis points: 1000 = 10%. A schedule is never edited once in effect; operators
    add a new one, so every receipt can name the schedule it was priced with.
    """

    effective_from = models.DateTimeField()
    commission_bps = models.PositiveIntegerField(
        default=1000, help_text="Platform commission taken from the seller (basis points)."
    )
    buyer_fee_bps = models.PositiveIntegerField(
        default=500, help_text="Service fee added to the buyer's price (basis points)."
    )
    tip_platform_bps = models.PositiveIntegerField(
        default=0, help_text="Platform's share of tips (basis points)."
    )
    clearing_days = models.PositiveSmallIntegerField(
        default=14, help_text="Days before released earnings become available for payout."
    )
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_from", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(commission_bps__lte=10_000, buyer_fee_bps__lte=10_000)
                & Q(tip_platform_bps__lte=10_000),
                name="payments_fee_schedule_rates_at_most_100_percent",
            )
        ]

    def __str__(self) -> str:
        return f"Fees from {self.effective_from:%Y-%m-%d %H:%M}"


class CategoryCommission(models.Model):
    """A commission rate for one category (top-level or sub) that overrides the default."""

    schedule = models.ForeignKey(
        FeeSchedule, on_delete=models.CASCADE, related_name="category_commissions"
    )
    category = models.ForeignKey("catalog.Category", on_delete=models.PROTECT, related_name="+")
    commission_bps = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "category"], name="payments_category_commission_unique"
            ),
            models.CheckConstraint(
                condition=Q(commission_bps__lte=10_000),
                name="payments_category_commission_at_most_100_percent",
            ),
        ]


class CurrencyFees(models.Model):
    """Fixed amounts of a schedule in one currency (minor units)."""

    schedule = models.ForeignKey(
        FeeSchedule, on_delete=models.CASCADE, related_name="currency_fees"
    )
    currency = models.CharField(max_length=3)
    small_order_fee = models.PositiveIntegerField(
        default=0, help_text="Fixed buyer fee added to orders below the threshold."
    )
    small_order_threshold = models.PositiveIntegerField(default=0)
    payout_minimum = models.PositiveIntegerField(default=0)
    payout_fee = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "currency"], name="payments_currency_fees_unique"
            )
        ]


class PaymentStatus(models.TextChoices):
    CREATED = "created", "Created"
    REQUIRES_ACTION = "requires_action", "Waiting for the buyer to confirm"
    PROCESSING = "processing", "Processing"
    SUCCEEDED = "succeeded", "Paid"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"


class Payment(models.Model):
    """One charge of a buyer: for one or several orders (a cart), or for a tip.

    ``card_amount`` is charged through the provider, ``credit_amount`` comes from the buyer's
    credit; together they are ``total``.
    """

    class Purpose(models.TextChoices):
        ORDERS = "orders", "Orders"
        TIP = "tip", "Tip"

    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments"
    )
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.ORDERS)
    currency = models.CharField(max_length=3)
    total = models.BigIntegerField()
    card_amount = models.BigIntegerField()
    credit_amount = models.BigIntegerField(default=0)
    provider = models.CharField(max_length=20)
    provider_reference = models.CharField(max_length=100, blank=True, db_index=True)
    provider_fee = models.BigIntegerField(default=0)
    card_last4 = models.CharField(max_length=4, blank=True)
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.CREATED
    )
    decline_message = models.CharField(max_length=300, blank=True)
    action_url = models.URLField(max_length=500, blank=True)
    description = models.CharField(max_length=300)
    idempotency_key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    fee_schedule = models.ForeignKey(
        FeeSchedule, null=True, on_delete=models.PROTECT, related_name="+"
    )
    # Tips: who receives it and for which order.
    tip_seller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tips_received",
    )
    tip_reference = models.CharField(max_length=80, blank=True)
    tip_platform_bps = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["buyer", "idempotency_key"], name="payments_payment_idempotency"
            ),
            models.CheckConstraint(
                condition=Q(card_amount__gte=0, credit_amount__gte=0, total__gt=0)
                & Q(total=models.F("card_amount") + models.F("credit_amount")),
                name="payments_payment_amounts_add_up",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment {self.pk} ({self.get_status_display()})"

    @property
    def reference(self) -> str:
        return f"payment:{self.pk}"


class PaymentLine(models.Model):
    """One order paid by a payment, with its escrow and the fees it was priced with."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="lines")
    # An order whose payment was declined can be paid again: one escrow, several attempts.
    escrow = models.ForeignKey("ledger.Escrow", on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=80)  # "order:12"
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=300)
    subtotal = models.BigIntegerField()
    service_fee = models.BigIntegerField()
    commission_bps = models.PositiveIntegerField()
    commission = models.BigIntegerField()  # on the full price, as quoted
    card_amount = models.BigIntegerField()
    credit_amount = models.BigIntegerField()

    class Meta:
        ordering = ["id"]

    @property
    def total(self) -> int:
        return self.subtotal + self.service_fee


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Pending at the provider"
    SUCCEEDED = "succeeded", "Refunded"
    CREDITED = "credited", "Paid as buyer credit"


class Refund(models.Model):
    class Destination(models.TextChoices):
        CARD = "card", "Card"
        CREDIT = "credit", "Buyer credit"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    line = models.ForeignKey(PaymentLine, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField()  # of the price
    fee_amount = models.BigIntegerField()  # of the buyer's service fee, returned with it
    currency = models.CharField(max_length=3)
    destination = models.CharField(max_length=10, choices=Destination.choices)
    status = models.CharField(max_length=20, choices=RefundStatus.choices)
    reason = models.CharField(max_length=300)
    provider_reference = models.CharField(max_length=100, blank=True, db_index=True)
    failure_message = models.CharField(max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    fingerprint = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def total(self) -> int:
        return self.amount + self.fee_amount

    @property
    def reference(self) -> str:
        return f"refund:{self.pk}"


class PayoutMethod(models.Model):
    """Where a seller's payouts go: a bank account at the sandbox, a Stripe Connect account."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payout_methods"
    )
    provider = models.CharField(max_length=20)
    destination = models.CharField(max_length=100)
    label = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.label


class PayoutStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    IN_FLIGHT = "in_flight", "On its way"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed — funds returned"


class Payout(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payouts"
    )
    method = models.ForeignKey(PayoutMethod, on_delete=models.PROTECT, related_name="payouts")
    amount = models.BigIntegerField()  # taken from the available balance
    fee = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=20, choices=PayoutStatus.choices, default=PayoutStatus.REQUESTED
    )
    provider = models.CharField(max_length=20)
    provider_reference = models.CharField(max_length=100, blank=True, db_index=True)
    failure_message = models.CharField(max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"], name="payments_payout_idempotency"
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=models.F("fee"), fee__gte=0),
                name="payments_payout_amount_exceeds_fee",
            ),
        ]

    @property
    def net(self) -> int:
        return self.amount - self.fee

    @property
    def reference(self) -> str:
        return f"payout:{self.pk}"


class WebhookEvent(models.Model):
    """A provider event, stored once by its id: a redelivered event is acknowledged and
    ignored."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=100)
    kind = models.CharField(max_length=40)
    raw_type = models.CharField(max_length=80)
    reference = models.CharField(max_length=100, blank=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="payments_webhook_event_once"
            )
        ]


class ReconciliationRun(models.Model):
    """One comparison of the ledger's payment records with the provider's, for a day."""

    provider = models.CharField(max_length=20)
    day = models.DateField()
    started_at = models.DateTimeField(auto_now_add=True)
    matched = models.PositiveIntegerField(default=0)
    differences = models.PositiveIntegerField(default=0)
    ledger_problems = models.JSONField(default=list)  # ledger_verify() findings, as text

    class Meta:
        ordering = ["-day", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "day"], name="payments_reconciliation_once_per_day"
            )
        ]


class ReconciliationDifference(models.Model):
    class Kind(models.TextChoices):
        MISSING_AT_PROVIDER = "missing_at_provider", "In our records, not at the provider"
        MISSING_IN_LEDGER = "missing_in_ledger", "At the provider, not in our records"
        AMOUNT = "amount", "Amounts differ"
        STATUS = "status", "States differ"

    run = models.ForeignKey(
        ReconciliationRun, on_delete=models.CASCADE, related_name="difference_rows"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    object_kind = models.CharField(max_length=20)  # charge, refund, payout
    reference = models.CharField(max_length=100)
    currency = models.CharField(max_length=3)
    ours = models.BigIntegerField(null=True)
    theirs = models.BigIntegerField(null=True)
    detail = models.CharField(max_length=300)

    class Meta:
        ordering = ["id"]


class SandboxObject(models.Model):
    """The sandbox provider's own books: what it charged, refunded and paid out."""

    class Kind(models.TextChoices):
        CHARGE = "charge"
        REFUND = "refund"
        PAYOUT = "payout"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    reference = models.CharField(max_length=40, unique=True)
    idempotency_key = models.CharField(max_length=200)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    fee = models.BigIntegerField(default=0)
    status = models.CharField(max_length=20)
    failure_message = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=100, blank=True)  # card last4 / charge ref / destination
    return_url = models.CharField(max_length=500, blank=True)
    settles_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "idempotency_key"], name="payments_sandbox_idempotency"
            )
        ]


class SandboxControl(models.Model):
    """Operator switches that force the sandbox to fail (to rehearse failure paths)."""

    fail_charges = models.BooleanField(default=False)
    fail_refunds = models.BooleanField(default=False)
    fail_payouts = models.BooleanField(default=False)

    @classmethod
    def current(cls) -> SandboxControl:
        return cls.objects.get_or_create(pk=1)[0]
