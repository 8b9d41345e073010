"""/api/v1/conversations, /attachments, /custom-offers and /blocks. Endpoints validate, call
one service or selector, serialise.

- Conversations and everything in them (messages, files, custom offers) are visible to their
  two people only: anyone else gets 404, never 403, so ids do not leak.
- Messages page by cursor: ``GET /conversations/{id}/messages`` answers the newest page with a
  ``next_cursor`` (pass it as ``before`` for older ones) and ``newest_id`` (pass it as ``after``
  to poll for new ones).
- ``POST /custom-offers/{id}/accept`` is a checkout, so it lives in ``orders.api`` beside
  ``POST /orders`` and answers the same checkout shape.
"""

import json

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import prefetch_related_objects
from django.http import FileResponse, HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Status
from ninja.errors import ValidationError
from ninja.pagination import paginate
from pydantic import ValidationError as PydanticValidationError

from micromarket.core.api import PROBLEM_RESPONSES, LimitOffsetPage, Problem
from micromarket.messaging import contact_details, selectors, services
from micromarket.messaging.schemas import (
    BlockIn,
    BlockOut,
    ConversationOut,
    ConversationsQuery,
    ConversationStarted,
    ConversationStartIn,
    CustomOfferDeclineIn,
    CustomOfferIn,
    CustomOfferOut,
    MessageIn,
    MessageOut,
    MessagePage,
    MessagesQuery,
)

router = Router(tags=["conversations"])

PROBLEMS = {**PROBLEM_RESPONSES, 429: Problem}
EXCERPT = 140


# --- serialisation ----------------------------------------------------------------------------


def _person(user) -> dict:
    return {"id": user.pk, "display_name": user.display_name}


def _excerpt(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"


def _conversation(conversation, me, *, archived: bool) -> dict:
    other = conversation.user_high if conversation.user_low_id == me.pk else conversation.user_low
    offer = conversation.offer
    return {
        "id": conversation.pk,
        "other": _person(other),
        "offer": {"id": offer.pk, "title": offer.title} if offer else None,
        "order_id": conversation.order_id,
        "unread": conversation.unread,
        "archived": archived,
        "last_message_at": conversation.last_message_at,
        "last_message": _excerpt(conversation.last_body),
        "last_message_mine": conversation.last_sender_id == me.pk,
        "created_at": conversation.created_at,
    }


def _conversation_response(request: HttpRequest, conversation_id: int) -> dict:
    row = selectors.conversation_row_for_user(conversation_id=conversation_id, user=request.auth)
    return _conversation(row, request.auth, archived=row.archived_at is not None)


class _Mapped:
    """A queryset the paginator counts and slices; the page's rows come out serialised."""

    def __init__(self, queryset, serialise):
        self.queryset = queryset
        self.serialise = serialise

    def __len__(self) -> int:
        return self.queryset.count()

    def __getitem__(self, window: slice) -> list[dict]:
        return [self.serialise(row) for row in self.queryset[window]]


def _state(custom, now) -> str:
    """The offer's state as the buyer can act on it: an open offer past its date is expired
    (the sweeper writes that a little later)."""
    if custom.state == "pending" and custom.expires_at <= now:
        return "expired"
    return custom.state


STATE_LABELS = {
    "pending": "Waiting for the buyer",
    "reserved": "Being paid",
    "accepted": "Accepted",
    "declined": "Declined",
    "withdrawn": "Withdrawn",
    "expired": "Expired",
}


def _custom_offer(custom, me, people: dict | None = None) -> dict:
    """``people``: the conversation's two users by id, so a thread's cards need no queries."""
    people = people or {}
    state = _state(custom, timezone.now())
    actions = []
    if state == "pending":
        actions = ["accept", "decline"] if custom.buyer_id == me.pk else ["withdraw"]
    return {
        "id": custom.pk,
        "conversation_id": custom.conversation_id,
        "message_id": custom.message_id,
        "state": state,
        "state_label": STATE_LABELS.get(state, state),
        "seller": _person(people.get(custom.seller_id) or custom.seller),
        "buyer": _person(people.get(custom.buyer_id) or custom.buyer),
        "listing": {"id": custom.offer_id, "title": custom.offer.title},
        "title": custom.title,
        "description": custom.description,
        "price": custom.price,
        "currency": custom.currency,
        "delivery_days": custom.delivery_days,
        "revisions": custom.revisions,
        "expires_at": custom.expires_at,
        "order_id": custom.order_id,
        "decline_reason": custom.decline_reason,
        "created_at": custom.created_at,
        "responded_at": custom.responded_at,
        "actions": actions,
    }


def _custom_offer_response(request: HttpRequest, custom_offer_id: int) -> dict:
    custom = selectors.custom_offer_for_user(custom_offer_id=custom_offer_id, user=request.auth)
    return _custom_offer(custom, request.auth)


def _custom_offer_of(message):
    try:
        return message.custom_offer
    except ObjectDoesNotExist:  # a text or system message
        return None


def _message(request: HttpRequest, message, people: dict | None = None) -> dict:
    me = request.auth
    custom = _custom_offer_of(message)
    return {
        "id": message.pk,
        "sender_id": message.sender_id,
        "mine": message.sender_id == me.pk,
        "kind": message.kind,
        "body": message.body,
        "warnings": [
            {"kind": kind, "label": contact_details.KIND_LABELS.get(kind, kind)}
            for kind in message.warnings or []
        ],
        "created_at": message.created_at,
        "attachments": [
            {
                "id": a.pk,
                "name": a.name,
                "content_type": a.content_type,
                "size": a.size,
                "width": a.width,
                "height": a.height,
                "url": request.build_absolute_uri(reverse("api:attachment_get", args=[a.pk])),
            }
            for a in message.attachments.all()
        ],
        "custom_offer": _custom_offer(custom, me, people) if custom is not None else None,
    }


def _message_response(request: HttpRequest, message) -> dict:
    """A message just written, loaded as the thread loads it (files, custom offer)."""
    conversation = selectors.conversation_for_user(
        conversation_id=message.conversation_id, user=request.auth
    )
    page = selectors.messages_page(conversation=conversation, after=message.pk - 1, limit=1)
    return _message(request, page.messages[0])


def _message_input(request: HttpRequest) -> tuple[str, list]:
    """The text and files of a new message: JSON ``{"body"}`` or multipart ``body`` +
    ``files`` (the service checks every file by its content)."""
    if request.content_type == "multipart/form-data":
        files = request.FILES.getlist("files") + request.FILES.getlist("files[]")
        body = request.POST.get("body", "")
        try:
            return MessageIn(body=body).body, files
        except PydanticValidationError as exc:
            raise ValidationError(_errors(exc, "form")) from None
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise ValidationError(
            [{"loc": ["body"], "msg": "Send JSON or multipart/form-data.", "type": "json_invalid"}]
        ) from None
    try:
        return MessageIn.model_validate(data).body, []
    except PydanticValidationError as exc:
        raise ValidationError(_errors(exc, "body")) from None


def _errors(exc: PydanticValidationError, where: str) -> list[dict]:
    return [
        {"loc": [where, *err["loc"]], "msg": err["msg"], "type": err["type"]}
        for err in exc.errors()
    ]


# --- conversations ----------------------------------------------------------------------------


@router.get(
    "/conversations",
    response=list[ConversationOut],
    summary="Your conversations, newest activity first",
    description="Your inbox; `archived=true` for your archive, `unread=true` for those with "
    "messages you have not read.",
)
@paginate(LimitOffsetPage)
def conversations_list(request: HttpRequest, filters: Query[ConversationsQuery]):
    me = request.auth
    rows = selectors.conversations_for_user(
        user=me, archived=filters.archived, unread_only=filters.unread
    )
    return _Mapped(rows, lambda row: _conversation(row, me, archived=filters.archived))


@router.post(
    "/conversations",
    response={201: ConversationStarted, **PROBLEMS},
    summary="Write to someone (in your existing conversation with them, if any)",
    description=(
        "- **201** the conversation and the message.\n"
        "- **403** `blocked` — one of you blocked the other.\n"
        "- **404** no such person, or `offer_id` is not an available listing.\n"
        "- **422** bad input (`errors` name the field), `self` (writing to yourself).\n"
        "- **429** `rate_limited` — you wrote to too many new people in the last 24 hours; "
        "your existing conversations still work."
    ),
)
def conversation_create(request: HttpRequest, payload: ConversationStartIn):
    message = services.conversation_start(
        sender=request.auth,
        recipient_id=payload.recipient_id,
        body=payload.body,
        offer_id=payload.offer_id,
    )
    return Status(
        201,
        {
            "conversation": _conversation_response(request, message.conversation_id),
            "message": _message_response(request, message),
        },
    )


@router.get(
    "/conversations/{conversation_id}",
    response={200: ConversationOut, **PROBLEMS},
    summary="One of your conversations",
)
def conversation_get(request: HttpRequest, conversation_id: int):
    return _conversation_response(request, conversation_id)


@router.post(
    "/conversations/{conversation_id}/read",
    response={200: ConversationOut, **PROBLEMS},
    summary="Mark everything in the conversation read",
)
def conversation_read(request: HttpRequest, conversation_id: int):
    services.conversation_mark_read(conversation_id=conversation_id, user=request.auth)
    return _conversation_response(request, conversation_id)


@router.post(
    "/conversations/{conversation_id}/archive",
    response={200: ConversationOut, **PROBLEMS},
    summary="Move the conversation to your archive (a new message brings it back)",
)
def conversation_archive(request: HttpRequest, conversation_id: int):
    services.conversation_archive(conversation_id=conversation_id, user=request.auth)
    return _conversation_response(request, conversation_id)


@router.post(
    "/conversations/{conversation_id}/unarchive",
    response={200: ConversationOut, **PROBLEMS},
    summary="Move the conversation back to your inbox",
)
def conversation_unarchive(request: HttpRequest, conversation_id: int):
    services.conversation_archive(
        conversation_id=conversation_id, user=request.auth, archived=False
    )
    return _conversation_response(request, conversation_id)


# --- messages ---------------------------------------------------------------------------------


@router.get(
    "/conversations/{conversation_id}/messages",
    response={200: MessagePage, **PROBLEMS},
    summary="Messages of a conversation, a page at a time (oldest first within the page)",
    description=(
        "Without parameters: the newest `limit` messages. `before=<next_cursor>`: the page "
        "before that (older); `next_cursor` is null on the page that starts the conversation. "
        "`after=<newest_id>`: only messages newer than that id, oldest first, at most "
        "`limit` (poll every few seconds; when a full page comes back, ask again with the "
        "new `newest_id`). Reading does not mark messages read: `POST .../read` does."
    ),
)
def messages_list(request: HttpRequest, conversation_id: int, params: Query[MessagesQuery]):
    conversation = selectors.conversation_for_user(
        conversation_id=conversation_id, user=request.auth
    )
    page = selectors.messages_page(
        conversation=conversation, before=params.before, after=params.after, limit=params.limit
    )
    # The cards' gigs in one query (the selector loads the custom offers, not their gigs).
    prefetch_related_objects(
        [m for m in page.messages if _custom_offer_of(m) is not None], "custom_offer__offer"
    )
    people = {u.pk: u for u in (conversation.user_low, conversation.user_high)}
    return {
        "items": [_message(request, m, people) for m in page.messages],
        "next_cursor": page.older_cursor,
        "newest_id": page.newest_id,
    }


@router.post(
    "/conversations/{conversation_id}/messages",
    response={201: MessageOut, **PROBLEMS},
    summary="Send a message (JSON {body}, or multipart: body and files)",
    description=(
        "At most 5 files of 10 MB each; a file's type is read from its content (images, PDF, "
        "office documents, text, archives — never programs). Images are re-encoded (location "
        "and other metadata removed) and get `width` and `height`.\n\n"
        "- **201** the message. Contact details written before the two of you have an order "
        "come back in `warnings` (both sides see them).\n"
        "- **403** `blocked` — one of you blocked the other.\n"
        "- **404** not your conversation.\n"
        "- **422** empty message, too long, or a refused file (`file_type_not_allowed`, "
        "`file_too_large`, `file_empty`; `field` is `files`). Nothing is written."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": MessageIn.model_json_schema()},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "body": {"type": "string", "maxLength": 5000},
                            "files": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                                "maxItems": 5,
                            },
                        },
                    }
                },
            },
        }
    },
)
def message_create(request: HttpRequest, conversation_id: int):
    body, files = _message_input(request)
    message = services.message_send(
        conversation_id=conversation_id, sender=request.auth, body=body, files=files
    )
    return Status(201, _message_response(request, message))


@router.get(
    "/attachments/{attachment_id}",
    response={200: None, **PROBLEMS},
    summary="Download a file sent in one of your conversations",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file, as an attachment (its detected content type).",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
)
def attachment_get(request: HttpRequest, attachment_id: int):
    attachment = selectors.attachment_for_user(attachment_id=attachment_id, user=request.auth)
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type,
    )


# --- custom offers ----------------------------------------------------------------------------


@router.post(
    "/conversations/{conversation_id}/custom-offers",
    response={201: CustomOfferOut, **PROBLEMS},
    summary="Send the other person a custom offer (sellers; based on a published service gig)",
    description=(
        "It shows in the conversation as a card; the buyer accepts and pays "
        "(`POST /custom-offers/{id}/accept`) or declines, until it expires after "
        "`valid_days`.\n\n"
        "- **403** `blocked`.\n- **404** not your conversation.\n"
        "- **422** bad terms (`field` names which), or `offer` is not one of your published "
        "service gigs."
    ),
)
def custom_offer_create(request: HttpRequest, conversation_id: int, payload: CustomOfferIn):
    custom = services.custom_offer_send(
        conversation_id=conversation_id,
        seller=request.auth,
        offer_id=payload.offer_id,
        title=payload.title,
        description=payload.description,
        price=payload.price,
        delivery_days=payload.delivery_days,
        revisions=payload.revisions,
        valid_days=payload.valid_days,
    )
    return Status(201, _custom_offer_response(request, custom.pk))


@router.get(
    "/custom-offers/{custom_offer_id}",
    response={200: CustomOfferOut, **PROBLEMS},
    summary="A custom offer you sent or received",
)
def custom_offer_get(request: HttpRequest, custom_offer_id: int):
    return _custom_offer_response(request, custom_offer_id)


@router.post(
    "/custom-offers/{custom_offer_id}/decline",
    response={200: CustomOfferOut, **PROBLEMS},
    summary="Decline a custom offer (the buyer)",
    description="**409** `offer_closed` when it is no longer open; **403** `wrong_party` for "
    "the seller (who withdraws instead).",
)
def custom_offer_decline(
    request: HttpRequest, custom_offer_id: int, payload: CustomOfferDeclineIn | None = None
):
    custom = services.custom_offer_decline(
        custom_offer_id=custom_offer_id,
        buyer=request.auth,
        reason=payload.reason if payload else "",
    )
    return _custom_offer(custom, request.auth)


@router.post(
    "/custom-offers/{custom_offer_id}/withdraw",
    response={200: CustomOfferOut, **PROBLEMS},
    summary="Withdraw a custom offer you sent (the seller)",
    description="**409** `offer_closed` when it is no longer open; **403** `wrong_party` for "
    "the buyer (who declines instead).",
)
def custom_offer_withdraw(request: HttpRequest, custom_offer_id: int):
    custom = services.custom_offer_withdraw(custom_offer_id=custom_offer_id, seller=request.auth)
    return _custom_offer(custom, request.auth)


# --- blocks -----------------------------------------------------------------------------------


def _block(block) -> dict:
    return {"user": _person(block.blocked), "created_at": block.created_at}


@router.get(
    "/blocks",
    response=list[BlockOut],
    summary="People you blocked, newest first",
)
@paginate(LimitOffsetPage)
def blocks_list(request: HttpRequest):
    return _Mapped(selectors.blocks_for_user(user=request.auth), _block)


@router.post(
    "/blocks",
    response={201: BlockOut, **PROBLEMS},
    summary="Block someone: neither of you can write to or order from the other",
    description="Blocking someone twice answers the same block. **404** no such person; "
    "**422** `self`.",
)
def block_create(request: HttpRequest, payload: BlockIn):
    block = services.user_block(blocker=request.auth, blocked_id=payload.user_id)
    return Status(201, _block(block))


@router.delete(
    "/blocks/{user_id}",
    response={204: None, **PROBLEMS},
    summary="Unblock someone",
    description="**404** when you have not blocked them.",
)
def block_delete(request: HttpRequest, user_id: int):
    services.user_unblock(blocker=request.auth, blocked_id=user_id)
    return Status(204, None)
