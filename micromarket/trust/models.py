"""Trust: reviews, seller levels, verification, disputes, reports and the operators' audit log.

Every table belongs to one area of the app (see docs/trust.md): reviews (``Review``), levels
(``LevelThreshold``, ``SellerStanding``, ``LevelChange``, ``LevelAppeal``), verification
(``PhoneVerification``, ``TraderVerification``), disputes (``Dispute``, ``DisputeEvent``,
``DisputeEvidence``, ``DisputeProposal``) and moderation (``Report``, ``AuditEntry``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now

USER = settings.AUTH_USER_MODEL


# --- reviews ----------------------------------------------------------------------------------


class Review(models.Model):
    """One party's review of the other after a completed order (one per party and order).

    Double-blind: nobody but its author sees a review until ``revealed_at`` — set when the other
    party's review arrives, or by the sweeper at ``reveal_at`` (the end of the review window).
    """

    class Role(models.TextChoices):
        BUYER = "buyer", "Buyer reviews the seller"
        SELLER = "seller", "Seller reviews the buyer"

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="reviews")
    offer = models.ForeignKey(
        "catalog.Offer", null=True, blank=True, on_delete=models.PROTECT, related_name="reviews"
    )  # denormalised from the order: an offer's rating is one indexed query (none: a project
    # task's order, which rates the seller only)
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="reviews_written")
    subject = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="reviews_received")
    role = models.CharField(max_length=6, choices=Role.choices)  # the author's side
    rating = models.PositiveSmallIntegerField()  # overall, 1–5
    # The buyer's detailed ratings of the seller (1–5); None on a seller's review of a buyer.
    communication = models.PositiveSmallIntegerField(null=True, blank=True)
    accuracy = models.PositiveSmallIntegerField(null=True, blank=True)  # quality as described
    value = models.PositiveSmallIntegerField(null=True, blank=True)
    text = models.TextField(max_length=5000)
    created_at = models.DateTimeField(default=now)
    reveal_at = models.DateTimeField()  # the end of the order's review window
    revealed_at = models.DateTimeField(null=True, blank=True)
    reply = models.TextField(max_length=2000, blank=True)  # the subject's one public reply
    replied_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=300, blank=True)
    hidden_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "role"], name="trust_review_once_per_side"),
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="trust_review_rating_1_to_5"
            ),
            models.CheckConstraint(
                condition=(
                    Q(communication__isnull=True) | Q(communication__gte=1, communication__lte=5)
                )
                & (Q(accuracy__isnull=True) | Q(accuracy__gte=1, accuracy__lte=5))
                & (Q(value__isnull=True) | Q(value__gte=1, value__lte=5)),
                name="trust_review_details_1_to_5",
            ),
        ]
        indexes = [
            models.Index(fields=["subject", "role", "revealed_at"], name="trust_review_subject"),
            models.Index(fields=["offer", "revealed_at"], name="trust_review_offer"),
            models.Index(
                fields=["reveal_at"], condition=Q(revealed_at__isnull=True), name="trust_review_due"
            ),
        ]

    def __str__(self) -> str:
        return f"Review {self.pk} of order {self.order_id} ({self.role})"

    @property
    def is_public(self) -> bool:
        return self.revealed_at is not None and self.hidden_at is None


# --- seller levels ----------------------------------------------------------------------------


class Level(models.TextChoices):
    """The same names as ``catalog.search.LEVELS``."""

    NEW = "new", "New seller"
    LEVEL1 = "level1", "Level 1"
    LEVEL2 = "level2", "Level 2"
    TOP = "top", "Top Rated"


class LevelThreshold(models.Model):
    """What a seller needs for a level (operator settings; defaults in migration 0002).

    Counts, earnings and rates are measured over the last ``window_days``; a seller holds the
    highest level whose every criterion they meet. ``clearing_days`` replaces the fee
    schedule's clearing period for sellers of this level when it is shorter.
    """

    level = models.CharField(max_length=8, choices=Level.choices, unique=True)
    rank = models.PositiveSmallIntegerField(unique=True)  # 1 level1, 2 level2, 3 top
    window_days = models.PositiveSmallIntegerField(default=365)
    min_completed_orders = models.PositiveIntegerField(default=0)
    min_earnings = models.BigIntegerField(default=0)  # minor units of earnings_currency
    earnings_currency = models.CharField(max_length=3, default="USD")
    min_unique_buyers = models.PositiveIntegerField(default=0)
    min_rating = models.DecimalField(max_digits=3, decimal_places=2, default=0)  # 0 = any
    min_response_rate = models.PositiveSmallIntegerField(default=0)  # percent
    min_on_time_rate = models.PositiveSmallIntegerField(default=0)  # percent
    min_completion_rate = models.PositiveSmallIntegerField(default=0)  # percent
    max_dispute_rate = models.PositiveSmallIntegerField(default=100)  # percent
    min_account_age_days = models.PositiveIntegerField(default=0)
    clearing_days = models.PositiveSmallIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(default=now)
    updated_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["rank"]

    def __str__(self) -> str:
        return self.get_level_display()


class SellerStanding(models.Model):
    """A seller's level and the figures it was computed from (the daily job writes it)."""

    seller = models.OneToOneField(USER, on_delete=models.CASCADE, related_name="standing")
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.NEW)
    level_since = models.DateTimeField(default=now)
    figures = models.JSONField(default=dict)  # criterion → value, as shown on the levels page
    computed_at = models.DateTimeField(default=now)

    class Meta:
        indexes = [models.Index(fields=["level"], name="trust_standing_level")]

    def __str__(self) -> str:
        return f"{self.seller_id}: {self.level}"


class LevelChange(models.Model):
    """History of a seller's level: every promotion and demotion."""

    seller = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="level_changes")
    from_level = models.CharField(max_length=8, choices=Level.choices)
    to_level = models.CharField(max_length=8, choices=Level.choices)
    figures = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-created_at", "-id"]


class LevelAppeal(models.Model):
    """A seller's appeal of their level, answered by an operator."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for an operator"
        ANSWERED = "answered", "Answered"

    seller = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="level_appeals")
    level = models.CharField(max_length=8, choices=Level.choices)  # the level appealed
    message = models.TextField(max_length=3000)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    answer = models.TextField(max_length=3000, blank=True)
    answered_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["seller"],
                condition=Q(status="open"),
                name="trust_one_open_appeal_per_seller",
            )
        ]


# --- verification -----------------------------------------------------------------------------


class PhoneVerification(models.Model):
    """A code sent to a phone number; the newest verified row is the user's phone."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="phone_verifications")
    phone = models.CharField(max_length=20)  # E.164
    code_digest = models.CharField(max_length=64)  # HMAC of the code; the code is never stored
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField()
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"], name="trust_phone_user")]


def identity_document_path(instance: TraderVerification, filename: str) -> str:
    # Never under a guessable name: served only to operators, through a view.
    return f"trust/identity/{instance.user_id}/{instance.document_sha256[:32]}.webp"


class TraderVerification(models.Model):
    """A seller's identity and trader details (EU DSA art. 30), reviewed by an operator.

    Payouts are enabled only while the newest submission is approved.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        APPROVED = "approved", "Verified"
        REJECTED = "rejected", "Not accepted"

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="trader_verifications")
    legal_name = models.CharField(max_length=200)
    address_line = models.CharField(max_length=300)
    city = models.CharField(max_length=120)
    postal_code = models.CharField(max_length=20)
    country = models.CharField(max_length=2)
    trade_register_number = models.CharField(max_length=80, blank=True)
    payout_method = models.ForeignKey(
        "payments.PayoutMethod", on_delete=models.PROTECT, related_name="+"
    )
    document = models.ImageField(upload_to=identity_document_path)
    document_sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    reviewer = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_note = models.CharField(max_length=500, blank=True)  # the reason shown on rejection
    created_at = models.DateTimeField(default=now)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="trust_trader_queue")]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="pending"),
                name="trust_one_pending_verification",
            )
        ]


# --- disputes ---------------------------------------------------------------------------------


class Dispute(models.Model):
    """The resolution center's file on one disputed order (an order is disputed at most once:
    every way out of the dispute is a final state of the order)."""

    class Reason(models.TextChoices):
        NOT_DELIVERED = "not_delivered", "Not delivered or no-show"
        NOT_AS_DESCRIBED = "not_as_described", "Not as described"
        QUALITY = "quality", "Quality of the work"
        LATE = "late", "Late"
        DAMAGE = "damage", "Damage or a deposit claim"
        BUYER_UNRESPONSIVE = "buyer_unresponsive", "The buyer does not respond"
        PAYMENT = "payment", "Payment or price"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        AWAITING_RESPONSE = "awaiting_response", "Waiting for the other side's answer"
        IN_DISCUSSION = "in_discussion", "Both sides have answered"
        ESCALATED = "escalated", "Waiting for an operator"
        RESOLVED = "resolved", "Resolved"

    class Outcome(models.TextChoices):
        REFUND = "refund", "Full refund to the buyer"
        RELEASE = "release", "Payment released to the seller"
        SPLIT = "split", "Split by an operator"
        AGREED = "agreed", "Partial refund agreed by both sides"
        DEFAULT = "default", "Won by the opener: no answer in time"

    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="dispute")
    opened_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    opener_role = models.CharField(max_length=6)  # buyer / seller
    reason = models.CharField(max_length=20, choices=Reason.choices)
    description = models.TextField(max_length=5000)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.AWAITING_RESPONSE
    )
    respond_by = models.DateTimeField(null=True, blank=True)  # deadline of the other side
    outcome = models.CharField(max_length=8, choices=Outcome.choices, blank=True)
    buyer_amount = models.BigIntegerField(null=True, blank=True)  # refunded of the price
    decided_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.TextField(max_length=5000, blank=True)
    created_at = models.DateTimeField(default=now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="trust_dispute_queue"),
            models.Index(
                fields=["respond_by"],
                condition=Q(status="awaiting_response"),
                name="trust_dispute_due",
            ),
        ]


class DisputeEvent(models.Model):
    """The dispute's timeline: every step, by whom, with what."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Opened the dispute"
        RESPONDED = "responded", "Answered"
        COMMENT = "comment", "Added a comment"
        EVIDENCE = "evidence", "Added evidence"
        PROPOSED = "proposed", "Proposed a partial refund"
        PROPOSAL_ACCEPTED = "proposal_accepted", "Accepted the proposal"
        PROPOSAL_DECLINED = "proposal_declined", "Declined the proposal"
        PROPOSAL_WITHDRAWN = "proposal_withdrawn", "Withdrew the proposal"
        ESCALATED = "escalated", "Asked an operator to decide"
        DECIDED = "decided", "Decided"

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )  # None: the system
    role = models.CharField(max_length=8)  # buyer, seller, operator, system
    message = models.TextField(max_length=5000, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["created_at", "id"]


def dispute_file_path(instance: DisputeEvidence, filename: str) -> str:
    return f"trust/disputes/{instance.dispute_id}/{instance.sha256[:16]}-{filename[-80:]}"


class DisputeEvidence(models.Model):
    """A file, or an excerpt of the order's conversation copied at the time it was cited."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="evidence")
    event = models.ForeignKey(DisputeEvent, on_delete=models.CASCADE, related_name="evidence")
    added_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to=dispute_file_path, blank=True)
    name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=120, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    # An excerpt: the message's id, author, time and text as they were when cited.
    message_id = models.BigIntegerField(null=True, blank=True)
    excerpt_author = models.CharField(max_length=80, blank=True)
    excerpt_sent_at = models.DateTimeField(null=True, blank=True)
    excerpt = models.TextField(blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["created_at", "id"]


class DisputeProposal(models.Model):
    """A partial refund one side proposes and the other may accept (which settles it)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for an answer"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"
        LAPSED = "lapsed", "Lapsed: the dispute was decided"

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="proposals")
    proposed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    buyer_amount = models.BigIntegerField()  # of the price, back to the buyer
    message = models.TextField(max_length=2000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dispute"],
                condition=Q(status="pending"),
                name="trust_one_pending_proposal",
            ),
            models.CheckConstraint(
                condition=Q(buyer_amount__gte=0), name="trust_proposal_amount_not_negative"
            ),
        ]


# --- reports, moderation and the audit log ----------------------------------------------------


class Report(models.Model):
    """A user's report of an offer, a profile, a message or a review."""

    class Target(models.TextChoices):
        OFFER = "offer", "Offer"
        USER = "user", "Profile"
        MESSAGE = "message", "Message"
        REVIEW = "review", "Review"

    class Reason(models.TextChoices):
        SPAM = "spam", "Spam or scam"
        PROHIBITED = "prohibited", "Prohibited item or service"
        OFF_PLATFORM = "off_platform", "Asks to pay or talk outside the marketplace"
        HARASSMENT = "harassment", "Harassment or hate"
        FAKE = "fake", "Fake or misleading"
        INTELLECTUAL_PROPERTY = "ip", "Copies someone else's work"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DISMISSED = "dismissed", "Dismissed"
        ACTIONED = "actioned", "Action taken"

    reporter = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="reports_made")
    target_kind = models.CharField(max_length=8, choices=Target.choices)
    target_id = models.BigIntegerField()
    target_user = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="reports_against"
    )  # whose offer, profile, message or review it is
    reason = models.CharField(max_length=14, choices=Reason.choices)
    details = models.TextField(max_length=3000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    action = models.CharField(max_length=20, blank=True)  # what the operator did
    handled_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="trust_report_queue"),
            models.Index(fields=["target_kind", "target_id"], name="trust_report_target"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "target_kind", "target_id"],
                condition=Q(status="open"),
                name="trust_one_open_report_per_target",
            )
        ]


class AuditEntry(models.Model):
    """One operator action: who, when, what, on what, why. Append-only."""

    actor = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=40)  # e.g. review_hide, user_suspend, dispute_decide
    target_kind = models.CharField(max_length=20)  # offer, user, message, review, dispute …
    target_id = models.BigIntegerField()
    target_user = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(max_length=3000)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["target_kind", "target_id"], name="trust_audit_target"),
            models.Index(fields=["actor", "created_at"], name="trust_audit_actor"),
        ]
