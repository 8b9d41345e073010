"""Conversations, messages and their attachments, blocks, custom offers, notifications.

A conversation is between exactly two people: one general thread per pair (which may be
started about an offer) plus one thread per order. Who has read what is a message id per
participant, so unread counts are a single indexed count.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.timezone import now

USER = settings.AUTH_USER_MODEL
MAX_BODY = 5000


class Conversation(models.Model):
    user_low = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    user_high = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    started_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    offer = models.ForeignKey(
        "catalog.Offer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order = models.OneToOneField(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    last_message_at = models.DateTimeField(null=True, blank=True)
    # For response metrics: who wrote first, and when the other person first answered.
    first_message_at = models.DateTimeField(null=True, blank=True)
    first_message_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    first_reply_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user_low__lt=F("user_high")), name="messaging_pair_ordered"
            ),
            models.UniqueConstraint(
                fields=["user_low", "user_high"],
                condition=Q(order__isnull=True),
                name="messaging_one_general_thread_per_pair",
            ),
        ]
        indexes = [models.Index(fields=["first_message_by", "first_message_at"])]

    def __str__(self) -> str:
        return f"conversation {self.pk}"

    def other(self, user_id: int) -> int:
        return self.user_high_id if user_id == self.user_low_id else self.user_low_id


class Participant(models.Model):
    """One side of a conversation: what they have read and whether they archived it."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="participants"
    )
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    last_read_id = models.PositiveBigIntegerField(default=0)  # the newest message id they saw
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "user"], name="messaging_participant_once"
            )
        ]
        indexes = [models.Index(fields=["user", "archived_at"])]


class Message(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", "Message"
        OFFER = "offer", "Custom offer"
        SYSTEM = "system", "Notice"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    sender = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )  # None: a notice from the platform
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    body = models.TextField(max_length=MAX_BODY, blank=True)
    # Contact details found before an order existed: ["email", "phone", ...]. Both sides see
    # a warning; operators see the message in their queue until they review it.
    warnings = models.JSONField(default=list, blank=True)
    flagged_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    # Removed by a moderator (trust's reports): shown to everyone as "Removed by a moderator";
    # its text and files are no longer served.
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=300, blank=True)
    hidden_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["conversation", "id"]),
            models.Index(
                fields=["flagged_at"],
                condition=Q(flagged_at__isnull=False, reviewed_at__isnull=True),
                name="messaging_flag_queue",
            ),
        ]


class Attachment(models.Model):
    """A file sent with a message, identified by its content (core.files.file_sniff)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="messaging/%Y/%m/")
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)  # images only
    height = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    @property
    def is_image(self) -> bool:
        return self.width is not None


class Block(models.Model):
    """``blocker`` no longer hears from ``blocked``: neither can message or order from the other."""

    blocker = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    blocked = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="messaging_block_once"),
            models.CheckConstraint(
                condition=~Q(blocker=F("blocked")), name="messaging_block_not_self"
            ),
        ]


class CustomOffer(models.Model):
    """A seller's tailored proposal inside a conversation, based on one of their gigs.

    pending → reserved (a checkout is paying for it) → accepted (the order is placed);
    reserved → pending again when that payment fails. pending → declined / withdrawn / expired.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for the buyer"
        RESERVED = "reserved", "Being paid"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXPIRED = "expired", "Expired"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="custom_offers"
    )
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="custom_offer")
    seller = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    buyer = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    offer = models.ForeignKey("catalog.Offer", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=120)
    description = models.TextField(max_length=3000)
    price = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    delivery_days = models.PositiveSmallIntegerField()
    revisions = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decline_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=now)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gt=0, delivery_days__gte=1), name="messaging_offer_terms"
            ),
            models.CheckConstraint(
                condition=~Q(seller=F("buyer")), name="messaging_offer_not_self"
            ),
        ]
        indexes = [models.Index(fields=["state", "expires_at"])]


class Notification(models.Model):
    """One thing a user should know about, in the notification center and maybe by email.

    Email content is rendered when the event happens (from the calling app's templates) and
    sent later by a task: ``email_state`` pending → sending → sent, or back to pending with a
    later ``email_due_at`` after a failure; skipped when read in the app before it went out.
    Repeated events with the same ``group_key`` (messages in one conversation) fold into one
    unread notification with a ``count`` instead of a flood.
    """

    class Email(models.TextChoices):
        NONE = "none", "Not emailed"
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Read before it was sent"
        FAILED = "failed", "Gave up after retries"

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=30)
    title = models.CharField(max_length=200)
    body = models.TextField(max_length=1000, blank=True)
    url = models.CharField(max_length=300, blank=True)
    group_key = models.CharField(max_length=100, blank=True)
    count = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)
    read_at = models.DateTimeField(null=True, blank=True)
    email_state = models.CharField(max_length=10, choices=Email.choices, default=Email.NONE)
    email_digest = models.BooleanField(default=False)  # goes out with the daily digest
    email_due_at = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_subject = models.CharField(max_length=300, blank=True)
    email_text = models.TextField(blank=True)
    email_html = models.TextField(blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at"]),
            models.Index(
                fields=["email_due_at"],
                condition=Q(email_state="pending"),
                name="messaging_email_queue",
            ),
        ]


class NotificationPreference(models.Model):
    """How a user wants one category by email (the notification center always shows it)."""

    class Email(models.TextChoices):
        INSTANT = "instant", "Right away"
        DIGEST = "digest", "Daily digest"
        OFF = "off", "Never"

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=30)
    email = models.CharField(max_length=10, choices=Email.choices)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "category"], name="messaging_pref_once")
        ]


class DigestState(models.Model):
    """When a user's last daily digest went out (one row per user who ever had one)."""

    user = models.OneToOneField(USER, on_delete=models.CASCADE, primary_key=True, related_name="+")
    last_sent_at = models.DateTimeField()
