"""Writes of the messaging app: conversations, messages, blocks, custom offers.

Notifications (one service every app uses) live in ``notifications.py`` and are re-exported
here, so other apps reach them as ``messaging.services.notification_send``.

Orders and messaging know each other: a custom offer becomes an order through orders'
checkout, and orders asks messaging whether two people blocked each other and tells it when a
custom offer's payment succeeded or failed. Both directions go through services and selectors
only, imported as modules so the load order does not matter (decision 0008).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from micromarket.catalog import selectors as catalog_selectors
from micromarket.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from micromarket.core.files import file_sniff
from micromarket.core.images import image_normalise
from micromarket.messaging import contact_details, selectors
from micromarket.messaging.models import (
    MAX_BODY,
    Attachment,
    Block,
    Conversation,
    CustomOffer,
    Message,
    Participant,
)
from micromarket.messaging.notifications import (
    notification_send,
    notify_operators,
)
from micromarket.orders import selectors as order_selectors
from micromarket.orders import services as order_services

MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
OFFER_VALIDITY_DAYS = (1, 30)  # a custom offer expires after 1–30 days (default 7)
MAX_OFFER_PRICE = 10_000_000  # 100,000.00 in a two-decimal currency
PREVIEW_CHARS = 140
TEXT_NAMES = (".txt", ".csv", ".md", ".log", ".json")  # text files keep these names


@dataclass(frozen=True)
class Upload:
    """A file as it arrived (Django UploadedFile or any file object with a name)."""

    file: object
    name: str


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _excerpt(text: str, limit: int = PREVIEW_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ---------------------------------------------------------------------------------------------
# Conversations


def _participants_create(conversation: Conversation) -> None:
    Participant.objects.bulk_create(
        [
            Participant(conversation=conversation, user_id=conversation.user_low_id),
            Participant(conversation=conversation, user_id=conversation.user_high_id),
        ]
    )


def _recipient(recipient_id) -> object:
    from micromarket.accounts import selectors as account_selectors

    try:
        user_id = int(recipient_id)
    except (TypeError, ValueError):
        raise NotFound("There is no such person.", field="recipient") from None
    user = account_selectors.user_get_active(user_id=user_id)
    if user is None:
        raise NotFound("There is no such person.", field="recipient")
    return user


def _check_new_contacts_limit(sender, now: datetime) -> None:
    limit = settings.MESSAGING_NEW_CONTACTS_PER_DAY
    started = Conversation.objects.filter(
        started_by=sender, order__isnull=True, created_at__gte=now - timedelta(days=1)
    ).count()
    if started >= limit:
        raise RateLimited(
            f"You have written to {limit} new people in the last 24 hours, the most we allow. "
            "You can still answer your existing conversations.",
        )


def conversation_start(
    *,
    sender,
    recipient_id: int,
    body: str,
    offer_id: int | None = None,
    files: list[Upload] | tuple = (),
    now: datetime | None = None,
) -> Message:
    """Write to someone: in the pair's existing conversation if there is one, else in a new
    one (limited to ``MESSAGING_NEW_CONTACTS_PER_DAY`` new people a day)."""
    now = _now(now)
    recipient = _recipient(recipient_id)
    if recipient.pk == sender.pk:
        raise ValidationFailed("You cannot write to yourself.", field="recipient", code="self")
    offer = None
    if offer_id:
        try:
            offer = catalog_selectors.offer_get_visible(offer_id=int(offer_id), viewer=sender)
        except (NotFound, TypeError, ValueError):
            raise NotFound("That offer is not available.", field="offer") from None
        if offer.seller_id != recipient.pk:
            raise ValidationFailed("That offer is not theirs.", field="offer")
    low, high = _pair(sender.pk, recipient.pk)
    with transaction.atomic():
        conversation = Conversation.objects.filter(
            user_low_id=low, user_high_id=high, order__isnull=True
        ).first()
        if conversation is None:
            if not selectors.can_write_first(sender=sender, recipient=recipient):
                raise NotFound("There is no such person.", field="recipient")
            if selectors.users_blocked(sender.pk, recipient.pk):
                raise PermissionDenied(_blocked_message(sender.pk, recipient.pk), code="blocked")
            _check_new_contacts_limit(sender, now)
            try:
                with transaction.atomic():
                    conversation = Conversation.objects.create(
                        user_low_id=low,
                        user_high_id=high,
                        started_by=sender,
                        offer=offer,
                        created_at=now,
                    )
                    _participants_create(conversation)
            except IntegrityError:  # the other person started it at the same moment
                conversation = Conversation.objects.get(
                    user_low_id=low, user_high_id=high, order__isnull=True
                )
        elif offer is not None and conversation.offer_id != offer.pk:
            Conversation.objects.filter(pk=conversation.pk).update(offer=offer)
        return message_send(
            conversation_id=conversation.pk, sender=sender, body=body, files=files, now=now
        )


def conversation_for_order(*, order_id: int, user) -> Conversation:
    """The order's own thread, created the first time it is needed. Only the buyer and the
    seller take part; anyone else gets NotFound (operators read it from the order page)."""
    order = order_selectors.order_for_user(order_id=order_id, user=user)
    if user.pk not in (order.buyer_id, order.seller_id) or order.placed_at is None:
        # An unpaid order is no channel: its thread would skip the warnings and the limit.
        raise NotFound("There is no such conversation.")
    existing = Conversation.objects.filter(order_id=order.pk).first()
    if existing is not None:
        return existing
    low, high = _pair(order.buyer_id, order.seller_id)
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                user_low_id=low,
                user_high_id=high,
                started_by=user,
                order_id=order.pk,
                offer_id=order.offer_id,
            )
            _participants_create(conversation)
    except IntegrityError:
        conversation = Conversation.objects.get(order_id=order.pk)
    return conversation


def _blocked_message(user_id: int, other_id: int) -> str:
    if Block.objects.filter(blocker_id=user_id, blocked_id=other_id).exists():
        return "You blocked this person. Unblock them to write to them again."
    return "This person is not accepting messages from you."


def _file_name(name: str, limit: int = 150) -> str:
    """The name without any path, shortened before its extension so ``.pdf`` survives."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
    if len(name) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or len(extension) > 10:
        return name[:limit]
    return stem[: limit - len(extension) - 1] + "." + extension


def _attachments_prepare(files) -> list[dict]:
    """Check every file before anything is written; images are re-encoded (metadata such as
    GPS position stripped) so they can be previewed safely."""
    files = list(files or [])
    if len(files) > MAX_ATTACHMENTS:
        raise ValidationFailed(
            f"Attach at most {MAX_ATTACHMENTS} files to one message.", field="files"
        )
    prepared = []
    for upload in files:
        raw = upload.file if isinstance(upload, Upload) else upload
        name = (upload.name if isinstance(upload, Upload) else getattr(raw, "name", "")) or "file"
        name = _file_name(name)
        sniffed = file_sniff(raw, field="files", max_bytes=MAX_ATTACHMENT_BYTES)
        if sniffed.content_type in IMAGE_TYPES:
            content = image_normalise(
                raw, field="files", max_bytes=MAX_ATTACHMENT_BYTES, max_side=2560
            )
            from PIL import Image

            content.seek(0)
            with Image.open(content) as image:
                width, height = image.size
            content.seek(0)
            stem = name.rsplit(".", 1)[0] or "image"
            prepared.append(
                {
                    "content": content,
                    "name": f"{stem}.webp",
                    "content_type": "image/webp",
                    "size": content.size,
                    "width": width,
                    "height": height,
                }
            )
        else:
            raw.seek(0)
            if sniffed.content_type == "text/plain" and not name.lower().endswith(TEXT_NAMES):
                name = _file_name(name + ".txt")  # “run.bat”, “page.html” download as text
            prepared.append(
                {
                    "content": raw,
                    "name": name,
                    "content_type": sniffed.content_type,
                    "size": sniffed.size,
                    "width": None,
                    "height": None,
                }
            )
    return prepared


def message_send(
    *,
    conversation_id: int,
    sender,
    body: str,
    files: list[Upload] | tuple = (),
    now: datetime | None = None,
) -> Message:
    """Add a message (text and/or files) to a conversation the sender takes part in.

    Before the two have an order together, contact details in the text get a warning shown
    to both and flag the message for operators (payments made outside are unprotected)."""
    now = _now(now)
    body = (body or "").strip()
    if len(body) > MAX_BODY:
        raise ValidationFailed(
            f"A message can be at most {MAX_BODY:,} characters long.", field="body"
        )
    if not body and not files:
        raise ValidationFailed("Write a message or attach a file.", field="body")
    conversation = selectors.conversation_for_user(conversation_id=conversation_id, user=sender)
    other_id = conversation.other(sender.pk)
    if selectors.users_blocked(sender.pk, other_id):
        raise PermissionDenied(_blocked_message(sender.pk, other_id), code="blocked")
    prepared = _attachments_prepare(files)
    warnings = []
    if (
        body
        and conversation.order_id is None
        and not order_selectors.orders_exist_between(user_a_id=sender.pk, user_b_id=other_id)
    ):
        warnings = contact_details.contact_kinds(body)
    with transaction.atomic():
        message = Message.objects.create(
            conversation=conversation,
            sender=sender,
            body=body,
            warnings=warnings,
            flagged_at=now if warnings else None,
            created_at=now,
        )
        for item in prepared:
            attachment = Attachment(
                message=message,
                name=item["name"],
                content_type=item["content_type"],
                size=item["size"],
                width=item["width"],
                height=item["height"],
            )
            attachment.file.save(item["name"], item["content"], save=False)
            attachment.save()
        _conversation_touch(conversation, message, sender_id=sender.pk, now=now)
        _notify_message(conversation, message, recipient_id=other_id, now=now)
        if warnings:
            # One unread notification per operator, counting up, rather than one per message.
            notify_operators(
                category="moderation",
                title="Messages flagged for review",
                body=f"{sender.display_name} shared {_kinds_text(warnings)} before any order.",
                url=reverse("messaging:ops"),
                group_key="flagged-messages",
            )
    return message


def _kinds_text(kinds: list[str]) -> str:
    labels = [contact_details.KIND_LABELS.get(kind, kind) for kind in kinds]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def _conversation_touch(conversation: Conversation, message: Message, *, sender_id, now) -> None:
    """Keep the list order, the response metrics and the read markers right after a message."""
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now)
    Conversation.objects.filter(pk=conversation.pk, first_message_at__isnull=True).update(
        first_message_at=now, first_message_by_id=sender_id
    )
    Conversation.objects.filter(
        Q(pk=conversation.pk, first_reply_at__isnull=True, first_message_at__isnull=False)
        & ~Q(first_message_by_id=sender_id)
    ).update(first_reply_at=now)
    # The sender has read everything up to their own message; a new message brings an
    # archived conversation back to both inboxes.
    Participant.objects.filter(conversation=conversation, user_id=sender_id).update(
        last_read_id=message.pk, archived_at=None
    )
    Participant.objects.filter(conversation=conversation).exclude(user_id=sender_id).update(
        archived_at=None
    )


def _thread_url(conversation: Conversation) -> str:
    return reverse("messaging:thread", args=[conversation.pk])


def _notify_message(conversation, message: Message, *, recipient_id: int, now) -> None:
    from micromarket.accounts import selectors as account_selectors

    recipient = account_selectors.user_get_active(user_id=recipient_id)
    if recipient is None:
        return
    sender_name = message.sender.display_name if message.sender else settings.SITE_NAME
    files = message.attachments.count()
    preview = _excerpt(message.body) or f"{files} file{'s' if files != 1 else ''}"
    notification_send(
        user=recipient,
        category="messages",
        title=f"New message from {sender_name}",
        body=preview,
        url=_thread_url(conversation),
        email_template="messaging/email/message",
        context={
            "sender_name": sender_name,
            "message": message,
            "preview": preview,
            "conversation": conversation,
            "path": _thread_url(conversation),
        },
        group_key=f"conversation:{conversation.pk}",
        now=now,
    )


def conversation_mark_read(*, conversation_id: int, user) -> int:
    """Everything up to the newest message counts as read; returns that message's id."""
    conversation = selectors.conversation_for_user(conversation_id=conversation_id, user=user)
    newest = conversation.messages.order_by("-id").values_list("pk", flat=True).first() or 0
    Participant.objects.filter(
        conversation=conversation, user=user, last_read_id__lt=newest
    ).update(last_read_id=newest)
    from micromarket.messaging.notifications import notifications_mark_group_read

    notifications_mark_group_read(user=user, group_key=f"conversation:{conversation.pk}")
    return newest


def conversation_archive(*, conversation_id: int, user, archived: bool = True) -> None:
    """Move a conversation out of (or back into) the user's inbox; only their side changes."""
    conversation = selectors.conversation_for_user(conversation_id=conversation_id, user=user)
    Participant.objects.filter(conversation=conversation, user=user).update(
        archived_at=timezone.now() if archived else None
    )


# ---------------------------------------------------------------------------------------------
# Blocks


def user_block(*, blocker, blocked_id: int) -> Block:
    """``blocker`` stops all messages, custom offers and orders between them and ``blocked``."""
    blocked = _recipient(blocked_id)
    if blocked.pk == blocker.pk:
        raise ValidationFailed("You cannot block yourself.", code="self")
    block, _ = Block.objects.get_or_create(blocker=blocker, blocked=blocked)
    return block


def user_unblock(*, blocker, blocked_id: int) -> None:
    deleted, _ = Block.objects.filter(blocker=blocker, blocked_id=blocked_id).delete()
    if not deleted:
        raise NotFound("You have not blocked that person.")


# ---------------------------------------------------------------------------------------------
# Custom offers


def _whole(value, *, field: str, label: str, minimum: int, maximum: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{label} must be a whole number.", field=field) from None
    if isinstance(value, float) and value != number:
        raise ValidationFailed(f"{label} must be a whole number.", field=field)
    if not minimum <= number <= maximum:
        raise ValidationFailed(f"{label} must be between {minimum} and {maximum:,}.", field=field)
    return number


def custom_offer_send(
    *,
    conversation_id: int,
    seller,
    offer_id: int,
    title: str,
    description: str,
    price: int,
    delivery_days: int,
    revisions: int = 0,
    valid_days: int = 7,
    now: datetime | None = None,
) -> CustomOffer:
    """A seller proposes tailored terms, based on one of their published gigs, to the other
    person in the conversation. It shows as a card; the buyer accepts and pays, or declines."""
    now = _now(now)
    conversation = selectors.conversation_for_user(conversation_id=conversation_id, user=seller)
    buyer_id = conversation.other(seller.pk)
    if selectors.users_blocked(seller.pk, buyer_id):
        raise PermissionDenied(_blocked_message(seller.pk, buyer_id), code="blocked")
    title, description = (title or "").strip(), (description or "").strip()
    if not title or len(title) > 120:
        raise ValidationFailed("Give the offer a title of up to 120 characters.", field="title")
    if not description or len(description) > 3000:
        raise ValidationFailed(
            "Describe what is included, in up to 3,000 characters.", field="description"
        )
    price = _whole(price, field="price", label="The price", minimum=1, maximum=MAX_OFFER_PRICE)
    delivery_days = _whole(
        delivery_days, field="delivery_days", label="Delivery days", minimum=1, maximum=365
    )
    revisions = _whole(revisions, field="revisions", label="Revisions", minimum=0, maximum=99)
    valid_days = _whole(
        valid_days,
        field="valid_days",
        label="The offer's validity in days",
        minimum=OFFER_VALIDITY_DAYS[0],
        maximum=OFFER_VALIDITY_DAYS[1],
    )
    offer = next(
        (o for o in selectors.gigs_for_custom_offers(seller=seller) if str(o.pk) == str(offer_id)),
        None,
    )
    if offer is None:
        raise ValidationFailed(
            "Base the offer on one of your published service gigs.", field="offer"
        )
    with transaction.atomic():
        message = Message.objects.create(
            conversation=conversation,
            sender=seller,
            kind=Message.Kind.OFFER,
            body=f"Custom offer: {title}",
            created_at=now,
        )
        custom = CustomOffer.objects.create(
            conversation=conversation,
            message=message,
            seller=seller,
            buyer_id=buyer_id,
            offer=offer,
            title=title,
            description=description,
            price=price,
            currency=offer.currency,
            delivery_days=delivery_days,
            revisions=revisions,
            expires_at=now + timedelta(days=valid_days),
            created_at=now,
        )
        _conversation_touch(conversation, message, sender_id=seller.pk, now=now)
        from micromarket.accounts import selectors as account_selectors

        buyer = account_selectors.user_get_active(user_id=buyer_id)
        if buyer is not None:
            notification_send(
                user=buyer,
                category="offers",
                title=f"{seller.display_name} sent you a custom offer",
                body=title,
                url=_thread_url(conversation) + f"#offer-{custom.pk}",
                email_template="messaging/email/custom_offer",
                context={
                    "custom": custom,
                    "seller_name": seller.display_name,
                    "path": _thread_url(conversation),
                },
                now=now,
            )
    return custom


def _custom_offer_respond(
    *, custom_offer_id: int, user, role: str, to_state: str, reason: str = ""
) -> CustomOffer:
    custom = selectors.custom_offer_for_user(custom_offer_id=custom_offer_id, user=user)
    if getattr(custom, f"{role}_id") != user.pk:
        who = "buyer" if role == "buyer" else "seller"
        raise PermissionDenied(f"Only the {who} can do that.", code="wrong_party")
    now = timezone.now()
    reason = reason[:500]
    with transaction.atomic():
        updated = CustomOffer.objects.filter(
            pk=custom.pk, state=CustomOffer.State.PENDING, expires_at__gt=now
        ).update(state=to_state, responded_at=now, decline_reason=reason)
        if not updated:
            custom.refresh_from_db()
            raise Conflict(
                f"This offer is {custom.get_state_display().lower()} and can no longer change."
                if custom.state != CustomOffer.State.PENDING
                else "This offer has expired.",
                code="offer_closed",
            )
        custom.refresh_from_db()
        declined = to_state == CustomOffer.State.DECLINED
        verb = "declined" if declined else "withdrew"
        note = Message.objects.create(
            conversation=custom.conversation,
            sender=None,
            kind=Message.Kind.SYSTEM,
            body=f"{user.display_name} {verb} the custom offer “{custom.title}”."
            + (f" Reason: {reason}" if reason else ""),
            created_at=now,
        )
        Conversation.objects.filter(pk=custom.conversation_id).update(last_message_at=now)
        Participant.objects.filter(conversation_id=custom.conversation_id, user=user).update(
            last_read_id=note.pk
        )
        notification_send(
            user=custom.seller if declined else custom.buyer,
            category="offers",
            title=f"{user.display_name} {verb} {'your' if declined else 'their'} custom offer",
            body=custom.title + (f" — “{_excerpt(reason)}”" if reason else ""),
            url=_thread_url(custom.conversation) + f"#offer-{custom.pk}",
        )
    return custom


def custom_offer_decline(*, custom_offer_id: int, buyer, reason: str = "") -> CustomOffer:
    return _custom_offer_respond(
        custom_offer_id=custom_offer_id,
        user=buyer,
        role="buyer",
        to_state=CustomOffer.State.DECLINED,
        reason=(reason or "").strip(),
    )


def custom_offer_withdraw(*, custom_offer_id: int, seller) -> CustomOffer:
    return _custom_offer_respond(
        custom_offer_id=custom_offer_id,
        user=seller,
        role="seller",
        to_state=CustomOffer.State.WITHDRAWN,
    )


def custom_offer_accept(
    *,
    custom_offer_id: int,
    buyer,
    payment_method: str,
    idempotency_key: str,
    return_url: str,
    credit: int = 0,
    now: datetime | None = None,
):
    """The buyer accepts and pays: orders' checkout places a service-gig order on the
    offer's terms (the offer is reserved while the payment runs). Returns the Checkout."""
    custom = selectors.custom_offer_for_user(custom_offer_id=custom_offer_id, user=buyer)
    if custom.buyer_id != buyer.pk:
        raise PermissionDenied("Only the buyer can accept this offer.", code="wrong_party")
    return order_services.checkout_place(
        buyer=buyer,
        items=[{"custom_offer": custom.pk}],
        payment_method=payment_method,
        idempotency_key=idempotency_key,
        return_url=return_url,
        credit=credit,
        now=now,
    )


def custom_offer_reserve(*, custom_offer_id: int, buyer_id: int, order_id: int, now: datetime):
    """Orders' checkout holds the offer for the order being paid (inside its transaction)."""
    if not CustomOffer.objects.filter(
        pk=custom_offer_id,
        buyer_id=buyer_id,
        state=CustomOffer.State.PENDING,
        expires_at__gt=now,
    ).update(state=CustomOffer.State.RESERVED, order_id=order_id):
        raise Conflict("This custom offer is no longer open.", code="offer_closed")


def custom_offer_settle(*, order_id: int, paid: bool, now: datetime | None = None) -> None:
    """Orders reports the payment of an order: its custom offer (if it came from one) is
    accepted, or open again after a failed payment."""
    now = _now(now)
    custom = (
        CustomOffer.objects.select_related("conversation", "buyer", "seller")
        .filter(order_id=order_id, state=CustomOffer.State.RESERVED)
        .first()
    )
    if custom is None:
        return
    if not paid:
        CustomOffer.objects.filter(pk=custom.pk, state=CustomOffer.State.RESERVED).update(
            state=CustomOffer.State.PENDING, order=None
        )
        return
    CustomOffer.objects.filter(pk=custom.pk, state=CustomOffer.State.RESERVED).update(
        state=CustomOffer.State.ACCEPTED, responded_at=now
    )
    note = Message.objects.create(
        conversation=custom.conversation,
        sender=None,
        kind=Message.Kind.SYSTEM,
        body=f"{custom.buyer.display_name} accepted the custom offer “{custom.title}” "
        f"and paid: order {order_id}.",
        created_at=now,
    )
    Conversation.objects.filter(pk=custom.conversation_id).update(last_message_at=now)
    Participant.objects.filter(conversation_id=custom.conversation_id).update(archived_at=None)
    Participant.objects.filter(
        conversation_id=custom.conversation_id, user_id=custom.buyer_id
    ).update(last_read_id=note.pk)


def custom_offers_expire(*, now: datetime | None = None) -> int:
    """The sweeper's job: open offers past their date expire."""
    now = _now(now)
    return CustomOffer.objects.filter(state=CustomOffer.State.PENDING, expires_at__lte=now).update(
        state=CustomOffer.State.EXPIRED
    )


# ---------------------------------------------------------------------------------------------
# Operators


def message_review(*, message_id: int, operator) -> Message:
    """An operator has looked at a flagged message; it leaves the queue (the warning stays)."""
    if not operator.is_staff:
        raise NotFound("There is no such message.")
    message = Message.objects.filter(pk=message_id, flagged_at__isnull=False).first()
    if message is None:
        raise NotFound("There is no such flagged message.")
    Message.objects.filter(pk=message.pk, reviewed_at__isnull=True).update(
        reviewed_at=timezone.now(), reviewed_by=operator
    )
    message.refresh_from_db()
    return message


@transaction.atomic
def message_hide(*, message_id: int, actor, reason: str) -> Message:
    """A moderator removes a message (trust's reports, which write the audit log): both people
    see "Removed by a moderator" instead of it, and its text and files are no longer served."""
    if actor is None or not actor.is_staff:
        raise PermissionDenied("Only operators can remove messages.", code="operators_only")
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationFailed("Say why the message is removed.", field="reason")
    message = Message.objects.select_for_update().filter(pk=message_id).first()
    if message is None or message.kind == Message.Kind.SYSTEM:
        raise NotFound("There is no such message.")
    if message.hidden_at is not None:
        raise Conflict("This message has already been removed.", code="already_hidden")
    message.hidden_at = timezone.now()
    message.hidden_reason = reason[:300]
    message.hidden_by = actor
    message.save(update_fields=["hidden_at", "hidden_reason", "hidden_by"])
    return message
