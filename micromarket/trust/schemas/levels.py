"""API shapes of the levels endpoints. Amounts are integers in minor units; rates in percent."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema


class CheckOut(Schema):
    key: str
    label: str
    figure: str = Field(description="The seller's figure, as shown on the levels page.")
    threshold: str
    met: bool
    missing: str = Field(description="What is missing, in words; empty when met.")


class LevelCheckOut(Schema):
    level: str
    label: str
    met: bool
    checks: list[CheckOut]


class LevelProgressOut(Schema):
    computed_at: datetime | None
    figures: dict = Field(description="The figures the level was computed from.")
    next_level: str | None = Field(description="The next level up; null at the top.")
    missing: list[str] = Field(description="What is missing for the next level, in words.")
    levels: list[LevelCheckOut]


class UserLevelOut(Schema):
    user_id: int
    level: str = Field(description="new, level1, level2 or top.")
    label: str
    progress: LevelProgressOut | None = Field(
        None, description="Only for the seller themselves: figures and what is missing."
    )


class ThresholdOut(Schema):
    level: str
    label: str
    rank: int
    window_days: int
    min_completed_orders: int
    min_earnings: int = Field(description="Minor units of earnings_currency (seller's net).")
    earnings_currency: str
    min_unique_buyers: int
    min_rating: str = Field(description="Plain average of public reviews; 0.00 = any.")
    min_response_rate: int
    min_on_time_rate: int
    min_completion_rate: int
    max_dispute_rate: int
    min_account_age_days: int
    clearing_days: int | None = Field(
        description="Days before earnings are available; null = the fee schedule's."
    )


class AppealIn(Schema):
    message: str = Field(min_length=1, max_length=3000)


class AppealOut(Schema):
    id: int
    level: str
    message: str
    status: str
    answer: str
    created_at: datetime
    answered_at: datetime | None
