"""Reads of the messaging app: inboxes, threads page by page, blocks, custom offers, metrics."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from micromarket.catalog import selectors as catalog_selectors
from micromarket.core.errors import Conflict, NotFound
from micromarket.messaging.models import (
    Attachment,
    Block,
    Conversation,
    CustomOffer,
    Message,
    Participant,
)

PAGE_SIZE = 30
RESPONSE_WINDOW = timedelta(hours=24)
REMOVED = "Removed by a moderator"


def _shown_body(newest: QuerySet) -> Subquery:
    """The newest message's text for an inbox row; a removed message's text is never shown."""
    return Subquery(
        newest.annotate(
            shown=Case(
                When(hidden_at__isnull=False, then=Value(REMOVED)),
                default=F("body"),
                output_field=CharField(),
            )
        ).values("shown")[:1]
    )


def conversation_for_user(*, conversation_id, user) -> Conversation:
    """The conversation if ``user`` takes part in it; NotFound for anyone else."""
    try:
        pk = int(conversation_id)
    except (TypeError, ValueError):
        raise NotFound("There is no such conversation.") from None
    conversation = (
        Conversation.objects.select_related("user_low", "user_high", "offer", "order")
        .filter(Q(user_low=user) | Q(user_high=user), pk=pk)
        .first()
        if getattr(user, "is_authenticated", False)
        else None
    )
    if conversation is None:
        raise NotFound("There is no such conversation.")
    return conversation


def _unread_subquery(user) -> Coalesce:
    last_read = Participant.objects.filter(conversation=OuterRef(OuterRef("pk")), user=user)
    counted = (
        Message.objects.filter(
            conversation=OuterRef("pk"), id__gt=Subquery(last_read.values("last_read_id")[:1])
        )
        .exclude(sender=user)  # the platform's notices (no sender) count as unread
        .values("conversation")
        .annotate(n=Count("id"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def conversations_for_user(*, user, archived: bool = False, unread_only: bool = False) -> QuerySet:
    """The user's inbox (or archive), newest activity first, each with ``unread`` (messages
    from the other person they have not seen) and ``last_body`` (the newest message)."""
    newest = Message.objects.filter(conversation=OuterRef("pk")).order_by("-id")
    rows = (
        Conversation.objects.filter(
            participants__user=user, participants__archived_at__isnull=not archived
        )
        .filter(last_message_at__isnull=False)
        .select_related("user_low", "user_high", "offer", "order")
        .annotate(
            unread=_unread_subquery(user),
            last_body=_shown_body(newest),
            last_sender_id=Subquery(newest.values("sender_id")[:1]),
        )
        .order_by("-last_message_at", "-id")
    )
    if unread_only:
        rows = rows.filter(unread__gt=0)
    return rows


def conversations_unread_count(*, user) -> int:
    """How many conversations in the user's inbox have something new (for the header badge)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return conversations_for_user(user=user, unread_only=True).count()


def participant_for(*, conversation: Conversation, user) -> Participant:
    return Participant.objects.get(conversation=conversation, user=user)


@dataclass
class MessagePage:
    messages: list[Message]
    older_cursor: int | None  # pass as ``before`` for the previous page; None at the start
    newest_id: int  # pass as ``after`` to poll for new messages


def _with_related(queryset: QuerySet) -> QuerySet:
    # A removed message's files are not served (its text is blanked by ``_without_removed``).
    return queryset.select_related(
        "sender",
        "custom_offer__order",
        "custom_offer__offer",
        "custom_offer__seller",
        "custom_offer__buyer",
    ).prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.filter(message__hidden_at__isnull=True))
    )


def _without_removed(messages: list[Message]) -> list[Message]:
    """Blank the text (and its contact-details warnings) of messages a moderator removed, so no
    page or API body carries them."""
    for message in messages:
        if message.hidden_at is not None:
            message.body = ""
            message.warnings = []
    return messages


def _cursor(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise NotFound("That page of the conversation does not exist.") from None
    if number < 0:
        raise NotFound("That page of the conversation does not exist.")
    return number


def messages_page(
    *, conversation: Conversation, before=None, after=None, limit: int = PAGE_SIZE
) -> MessagePage:
    """Messages oldest first. ``after``: only those newer than that id (polling); otherwise
    the newest ``limit`` older than ``before`` (an id), with a cursor for the page before."""
    limit = max(1, min(int(limit), 100))
    before, after = _cursor(before), _cursor(after)
    base = conversation.messages.all()
    if after is not None:
        messages = _without_removed(
            list(_with_related(base.filter(id__gt=after).order_by("id"))[:limit])
        )
        newest = messages[-1].pk if messages else after
        return MessagePage(messages=messages, older_cursor=None, newest_id=newest)
    window = base.filter(id__lt=before) if before is not None else base
    newest_first = list(_with_related(window.order_by("-id"))[: limit + 1])
    more = len(newest_first) > limit
    messages = _without_removed(list(reversed(newest_first[:limit])))
    newest_id = base.order_by("-id").values_list("pk", flat=True).first() or 0
    return MessagePage(
        messages=messages,
        older_cursor=messages[0].pk if more and messages else None,
        newest_id=newest_id,
    )


def attachment_for_user(*, attachment_id, user) -> Attachment:
    """An attachment of a conversation ``user`` takes part in; NotFound for anyone else."""
    try:
        pk = int(attachment_id)
    except (TypeError, ValueError):
        raise NotFound("There is no such file.") from None
    if not getattr(user, "is_authenticated", False):
        raise NotFound("There is no such file.")
    attachment = (
        Attachment.objects.select_related("message__conversation")
        .filter(pk=pk, message__hidden_at__isnull=True)
        .filter(Q(message__conversation__user_low=user) | Q(message__conversation__user_high=user))
        .first()
    )
    if attachment is None:
        raise NotFound("There is no such file.")
    return attachment


def can_write_first(*, sender, recipient) -> bool:
    """Anyone may write to a seller; a buyer is written to first only by someone they have
    had an order with (their id alone is not an invitation)."""
    from micromarket.accounts import selectors as account_selectors
    from micromarket.orders import selectors as order_selectors

    if account_selectors.shop_for_user(user=recipient) is not None:
        return True
    return order_selectors.orders_exist_between(user_a_id=sender.pk, user_b_id=recipient.pk)


def users_blocked(a_id: int, b_id: int) -> bool:
    """Has either of the two blocked the other? (Then they can neither write nor order.)"""
    return Block.objects.filter(
        Q(blocker_id=a_id, blocked_id=b_id) | Q(blocker_id=b_id, blocked_id=a_id)
    ).exists()


def user_has_blocked(*, blocker, blocked_id: int) -> bool:
    return Block.objects.filter(blocker=blocker, blocked_id=blocked_id).exists()


def blocks_for_user(*, user) -> QuerySet[Block]:
    return Block.objects.filter(blocker=user).select_related("blocked").order_by("-created_at")


def gigs_for_custom_offers(*, seller) -> QuerySet:
    """The seller's published service gigs: what a custom offer can be based on."""
    return catalog_selectors.offers_for_seller(seller=seller, status="active").filter(
        kind="service"
    )


def custom_offer_for_user(*, custom_offer_id, user) -> CustomOffer:
    """A custom offer seen by its seller or buyer; NotFound for anyone else."""
    try:
        pk = int(custom_offer_id)
    except (TypeError, ValueError):
        raise NotFound("There is no such offer.") from None
    if not getattr(user, "is_authenticated", False):
        raise NotFound("There is no such offer.")
    custom = (
        CustomOffer.objects.select_related("conversation", "seller", "buyer", "offer", "order")
        .filter(Q(seller=user) | Q(buyer=user), pk=pk)
        .first()
    )
    if custom is None:
        raise NotFound("There is no such offer.")
    return custom


def custom_offer_for_checkout(*, custom_offer_id, buyer, now: datetime | None = None):
    """The terms orders' checkout prices a custom offer at: only its buyer, only while open."""
    now = now or timezone.now()
    custom = custom_offer_for_user(custom_offer_id=custom_offer_id, user=buyer)
    if custom.buyer_id != buyer.pk:
        raise NotFound("There is no such offer.")
    if custom.state != CustomOffer.State.PENDING or custom.expires_at <= now:
        state = (
            "expired"
            if custom.state == CustomOffer.State.PENDING
            else custom.get_state_display().lower()
        )
        raise Conflict(f"This custom offer is {state} and cannot be ordered.", code="offer_closed")
    if users_blocked(custom.seller_id, buyer.pk):
        raise Conflict("You cannot order from this seller.", code="blocked")
    return custom


def order_thread(*, order_id: int) -> Conversation | None:
    """The order's conversation, if anyone wrote in it (callers check the order's access)."""
    return (
        Conversation.objects.select_related("user_low", "user_high")
        .filter(order_id=order_id)
        .first()
    )


def flagged_messages() -> QuerySet[Message]:
    """Messages with contact details sent before an order existed, not yet reviewed."""
    return (
        Message.objects.filter(flagged_at__isnull=False, reviewed_at__isnull=True)
        .select_related("sender", "conversation__user_low", "conversation__user_high")
        .order_by("flagged_at", "id")
    )


@dataclass(frozen=True)
class ResponseStats:
    inquiries: int  # conversations others started, at least 24 hours old (or answered)
    answered_in_time: int  # of those, answered within 24 hours
    median_response: timedelta | None  # median time to the first answer

    @property
    def rate(self) -> float | None:
        """Share answered within 24 hours, 0–1; None without inquiries."""
        return self.answered_in_time / self.inquiries if self.inquiries else None

    @property
    def rate_percent(self) -> int | None:
        return None if self.rate is None else round(self.rate * 100)


def seller_response_stats(
    *, seller_id: int, since: datetime | None = None, now: datetime | None = None
) -> ResponseStats:
    """First-response time and response rate over conversations others started with the
    seller (not order threads) since ``since`` (default: the last 90 days). A conversation
    younger than 24 hours without an answer is not counted yet: the seller still has time."""
    now = now or timezone.now()
    since = since or now - timedelta(days=90)
    rows = (
        Conversation.objects.filter(
            Q(user_low_id=seller_id) | Q(user_high_id=seller_id),
            order__isnull=True,
            first_message_at__gte=since,
        )
        .exclude(first_message_by_id=seller_id)
        .filter(Q(first_reply_at__isnull=False) | Q(first_message_at__lte=now - RESPONSE_WINDOW))
        .values_list("first_message_at", "first_reply_at")
    )
    inquiries = 0
    in_time = 0
    delays = []
    for first, reply in rows:
        inquiries += 1
        if reply is not None:
            delays.append(reply - first)
            if reply - first <= RESPONSE_WINDOW:
                in_time += 1
    median = statistics.median(delays) if delays else None
    return ResponseStats(inquiries=inquiries, answered_in_time=in_time, median_response=median)


# --- added by API helper ---


def conversation_row_for_user(*, conversation_id, user) -> Conversation:
    """One conversation as the inbox lists it (``unread``, ``last_body``, ``last_sender_id``)
    with the user's own ``archived_at``, also before its first message; NotFound for anyone
    but its two people."""
    conversation = conversation_for_user(conversation_id=conversation_id, user=user)
    newest = Message.objects.filter(conversation=OuterRef("pk")).order_by("-id")
    mine = Participant.objects.filter(conversation=OuterRef("pk"), user=user)
    return (
        Conversation.objects.filter(pk=conversation.pk)
        .select_related("user_low", "user_high", "offer", "order")
        .annotate(
            unread=_unread_subquery(user),
            last_body=_shown_body(newest),
            last_sender_id=Subquery(newest.values("sender_id")[:1]),
            archived_at=Subquery(mine.values("archived_at")[:1]),
        )
        .get()
    )


# --- added by pages helper ---


def conversation_between(*, user, other_id) -> Conversation | None:
    """The general (not an order's) conversation of ``user`` with ``other_id``, if any."""
    try:
        other = int(other_id)
    except (TypeError, ValueError):
        return None
    low, high = (user.pk, other) if user.pk < other else (other, user.pk)
    return Conversation.objects.filter(
        user_low_id=low, user_high_id=high, order__isnull=True
    ).first()


# --- for trust's reports and moderation ---


def message_for_report(*, message_id, user) -> Message:
    """A message someone else sent in a conversation ``user`` takes part in (what they may
    report); NotFound for anything else, so ids of other conversations do not leak."""
    try:
        pk = int(message_id)
    except (TypeError, ValueError):
        raise NotFound("There is no such message.") from None
    if not getattr(user, "is_authenticated", False):
        raise NotFound("There is no such message.")
    message = (
        Message.objects.select_related("conversation", "sender")
        .filter(pk=pk, sender__isnull=False, hidden_at__isnull=True)
        .filter(Q(conversation__user_low=user) | Q(conversation__user_high=user))
        .first()
    )
    if message is None:
        raise NotFound("There is no such message.")
    return message


def message_with_context(*, message_id: int, around: int = 3) -> tuple[Message, list[Message]]:
    """For operators handling a report: the message (even if removed, with its text) and up to
    ``around`` messages of its conversation before and after it, oldest first."""
    message = (
        Message.objects.select_related(
            "sender", "conversation__user_low", "conversation__user_high"
        )
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        raise NotFound("There is no such message.")
    thread = Message.objects.filter(conversation_id=message.conversation_id).select_related(
        "sender"
    )
    before = list(thread.filter(id__lt=message.pk).order_by("-id")[:around])
    after = list(thread.filter(id__gt=message.pk).order_by("id")[:around])
    return message, [*reversed(before), message, *after]
