"""API shapes of the insights endpoint. Amounts are integers in minor units of ``currency``."""

from __future__ import annotations

from datetime import date

from ninja import Field, Schema


class MonthOut(Schema):
    month: date = Field(description="First day of the month.")
    label: str
    income: int
    expenses: int
    partial: bool = Field(description="The current month, so far.")


class AverageOut(Schema):
    window: int
    months: int = Field(description="Complete months actually averaged (fewer when new).")
    income: int
    expenses: int


class RunwayOut(Schema):
    emergency: int
    monthly_spending: int
    months: str | None = Field(description="Decimal, one place; null without spending.")
    explanation: str


class ShareOut(Schema):
    label: str
    amount: int


class InsightsOut(Schema):
    currency: str
    months: list[MonthOut]
    averages: list[AverageOut]
    coefficient_of_variation_percent: str | None
    variation: str = Field(description="steady, variable, very variable or empty.")
    best_month: MonthOut | None
    worst_month: MonthOut | None
    runway: RunwayOut
    by_source: list[ShareOut]
    by_category: list[ShareOut]
