"""API shapes of the disputes area (see docs/trust.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

MAX_TEXT = 5000


class DisputeOpenIn(Schema):
    order_id: int
    reason: str = Field(
        description="not_delivered, not_as_described, quality, late, damage, "
        "buyer_unresponsive, payment or other."
    )
    description: str = Field(max_length=MAX_TEXT)
    message_ids: list[int] = Field(
        default_factory=list,
        max_length=20,
        description="Messages of the order's conversation to cite (copied as they are now).",
    )


class TextIn(Schema):
    message: str = Field("", max_length=MAX_TEXT)
    message_ids: list[int] = Field(default_factory=list, max_length=20)


class ProposalIn(Schema):
    buyer_amount: int = Field(
        ge=0, description="Minor units of the price back to the buyer (less than all held)."
    )
    message: str = Field("", max_length=2000)


class EscalateIn(Schema):
    message: str = Field("", max_length=MAX_TEXT)


class DecideIn(Schema):
    outcome: Literal["refund", "release", "split"]
    buyer_amount: int | None = Field(
        None, ge=0, description="split only: minor units of the price back to the buyer."
    )
    note: str = Field(max_length=MAX_TEXT, description="Why; both sides read it.")


class PartyOut(Schema):
    id: int
    display_name: str


class EvidenceOut(Schema):
    id: int
    kind: str = Field(description='"file" or "message" (an excerpt of the conversation).')
    name: str
    content_type: str
    size: int
    url: str | None = Field(description="Download (the two sides and operators only).")
    message_id: int | None
    excerpt_author: str
    excerpt_sent_at: datetime | None
    excerpt: str


class EventOut(Schema):
    id: int
    kind: str
    description: str
    role: str
    actor: PartyOut | None
    message: str
    data: dict
    created_at: datetime
    evidence: list[EvidenceOut]


class ProposalOut(Schema):
    id: int
    proposed_by: PartyOut
    buyer_amount: int
    message: str
    status: str
    created_at: datetime
    answered_at: datetime | None


class DisputeSummary(Schema):
    id: int
    order_id: int
    role: str = Field(description="Your role: buyer, seller or operator.")
    opener_role: str
    reason: str
    status: str
    outcome: str
    buyer_amount: int | None
    currency: str
    respond_by: datetime | None
    created_at: datetime
    resolved_at: datetime | None


class DisputeOut(DisputeSummary):
    description: str
    held: int = Field(description="What is held in escrow now (minor units).")
    decision_note: str
    events: list[EventOut]
    proposals: list[ProposalOut]
