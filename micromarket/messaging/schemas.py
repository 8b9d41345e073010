"""API shapes of the conversations, messages, custom offers and blocks endpoints.

Input schemas check the shape only (types, lengths); the rules (who may write to whom, blocks,
the daily limit on new contacts, file types, custom offer terms) are the services' and come
back as problem+json with a ``code`` and ``field``. Amounts are integers in minor units.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

MAX_BODY = 5000  # as messaging.models.MAX_BODY
PAGE_SIZE = 30  # as messaging.selectors.PAGE_SIZE


# --- input ------------------------------------------------------------------------------------


class ConversationsQuery(Schema):
    archived: bool = Field(False, description="Your archive instead of your inbox.")
    unread: bool = Field(False, description="Only conversations with messages you have not read.")


class ConversationStartIn(Schema):
    recipient_id: int = Field(description="The person you write to (a user id).")
    body: str = Field(min_length=1, max_length=MAX_BODY, description="The first message.")
    offer_id: int | None = Field(
        None, description="One of the recipient's listings the conversation is about."
    )


class MessageIn(Schema):
    body: str = Field(max_length=MAX_BODY, description="Plain text; links are shown as links.")


class MessagesQuery(Schema):
    before: int | None = Field(
        None, ge=1, description="A message id: the page of messages just older than it."
    )
    after: int | None = Field(
        None, ge=0, description="A message id: only messages newer than it (polling)."
    )
    limit: int = Field(PAGE_SIZE, ge=1, le=100, description="Messages per page.")


class CustomOfferIn(Schema):
    offer_id: int = Field(description="One of your published service gigs the offer is based on.")
    title: str = Field(min_length=1, max_length=120)
    description: str = Field(
        min_length=1, max_length=3000, description="What is included (the scope)."
    )
    price: int = Field(description="Minor units, in the gig's currency.")
    delivery_days: int = Field(description="1–365.")
    revisions: int = Field(0, description="0–99.")
    valid_days: int = Field(7, description="How long the buyer has to accept: 1–30 days.")


class CustomOfferDeclineIn(Schema):
    reason: str = Field("", max_length=500, description="Told to the seller.")


class BlockIn(Schema):
    user_id: int = Field(description="The person to block.")


# --- output -----------------------------------------------------------------------------------


class PersonOut(Schema):
    id: int
    display_name: str


class ListingRefOut(Schema):
    id: int
    title: str


class ConversationOut(Schema):
    id: int
    other: PersonOut = Field(description="The other person in the conversation.")
    offer: ListingRefOut | None = Field(description="The listing it was started about.")
    order_id: int | None = Field(description="Set for an order's own thread.")
    unread: int = Field(description="Messages from the other side you have not read.")
    archived: bool = Field(description="In your archive (a new message brings it back).")
    last_message_at: datetime | None
    last_message: str = Field(description="The newest message, shortened (plain text).")
    last_message_mine: bool = Field(description="Whether you wrote the newest message.")
    created_at: datetime


class WarningOut(Schema):
    kind: str = Field(description="email, phone, payment or iban.")
    label: str


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str = Field(description="Detected from the content, not the name.")
    size: int
    width: int | None = Field(description="Images only (re-encoded as WebP).")
    height: int | None
    url: str = Field(description="The download, for the conversation's two people only.")


class CustomOfferOut(Schema):
    id: int
    conversation_id: int
    message_id: int
    state: Literal["pending", "reserved", "accepted", "declined", "withdrawn", "expired"] = Field(
        description="pending (the buyer can accept), reserved (a payment for it is running), "
        "accepted (order_id is the order), declined, withdrawn or expired."
    )
    state_label: str
    seller: PersonOut
    buyer: PersonOut
    listing: ListingRefOut = Field(description="The seller's service gig it is based on.")
    title: str
    description: str
    price: int = Field(description="Minor units.")
    currency: str
    delivery_days: int
    revisions: int
    expires_at: datetime
    order_id: int | None
    decline_reason: str
    created_at: datetime
    responded_at: datetime | None
    actions: list[Literal["accept", "decline", "withdraw"]] = Field(
        description="What you can do with it now: POST /custom-offers/{id}/{action}."
    )


class MessageOut(Schema):
    id: int
    sender_id: int | None = Field(description="null: a notice from the platform.")
    mine: bool
    kind: Literal["text", "offer", "system"]
    body: str = Field(description="Plain text, never HTML: escape it when you display it.")
    warnings: list[WarningOut] = Field(
        description="Contact details found before the two had an order: payments made outside "
        "the platform are not protected."
    )
    created_at: datetime
    attachments: list[AttachmentOut]
    custom_offer: CustomOfferOut | None = Field(description="For kind offer.")


class MessagePage(Schema):
    items: list[MessageOut] = Field(description="Oldest first.")
    next_cursor: int | None = Field(
        description="Pass as `before` for the older page; null when this page starts the "
        "conversation (or when polling with `after`)."
    )
    newest_id: int = Field(description="Pass as `after` to poll for new messages.")


class ConversationStarted(Schema):
    conversation: ConversationOut
    message: MessageOut


class OrderRefOut(Schema):
    id: int
    kind: str
    state: str
    title: str
    currency: str
    subtotal: int
    url: str = Field(description="The order in the API (GET /orders/{id}).")


class PaymentOut(Schema):
    id: int
    status: str
    total: int = Field(description="What the buyer pays, service fee included.")
    action_url: str = Field(description="When status is requires_action: send the buyer here.")


class BlockOut(Schema):
    user: PersonOut
    created_at: datetime
