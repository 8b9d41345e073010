"""API shapes of the reviews endpoints. Input schemas check the shape only; the rules (who may
review, when, which ratings are required) are the services' and come back as problem+json."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema


class ReviewIn(Schema):
    rating: int = Field(ge=1, le=5, description="Overall, 1–5 stars.")
    text: str = Field(max_length=5000, description="Required, up to 5,000 characters.")
    communication: int | None = Field(
        None, ge=1, le=5, description="Buyer's review of the seller only (required there)."
    )
    accuracy: int | None = Field(
        None, ge=1, le=5, description="Quality as described; buyer's review only (required)."
    )
    value: int | None = Field(
        None, ge=1, le=5, description="Value for money; buyer's review only (required)."
    )


class ReplyIn(Schema):
    text: str = Field(max_length=2000, description="The subject's one public reply.")


class ReviewsQuery(Schema):
    user_id: int | None = Field(None, description="Reviews of this person.")
    role: Literal["seller", "buyer"] | None = Field(
        None, description="The reviewed person's side: seller (by buyers) or buyer (by sellers)."
    )
    offer_id: int | None = Field(None, description="Reviews of this listing (by its buyers).")


class PersonOut(Schema):
    id: int
    display_name: str


class ReviewOut(Schema):
    id: int
    order_id: int
    offer_id: int
    role: str = Field(description="The author's side: buyer (reviews the seller) or seller.")
    author: PersonOut
    subject: PersonOut
    rating: int
    communication: int | None
    accuracy: int | None
    value: int | None
    text: str
    created_at: datetime
    reveal_at: datetime = Field(description="When it becomes public at the latest.")
    revealed_at: datetime | None = Field(description="None: only its author sees it yet.")
    reply: str
    replied_at: datetime | None
    hidden: bool = Field(description="Hidden by the moderators (only its author sees it).")
    hidden_reason: str | None = Field(None, description="Shown to the author only.")


class ReputationOut(Schema):
    rating: float | None = Field(description="Bayesian average (prior 4.5 ★ × 5 reviews).")
    average: float | None
    count: int
    recent_average: float | None = Field(description="The last 90 days.")
    recent_count: int
    trend: Literal["up", "down", "steady"] | None
    distribution: dict[int, int] = Field(description="Stars → number of reviews.")


class LevelOut(Schema):
    level: str
    label: str


class UserReputationOut(Schema):
    user_id: int
    display_name: str
    seller: ReputationOut
    buyer: ReputationOut
    level: LevelOut | None = Field(None, description="The seller level, for sellers.")
