"""API shapes of the tax endpoints. Amounts are integers in minor units (cents/pence)."""

from __future__ import annotations

from datetime import date

from ninja import Field, Schema


class TaxProfileOut(Schema):
    country: str = Field(description='"US" or "UK".')
    filing_status: str = Field(description="single, mfj, mfs or hoh (US).")
    other_wages: int
    withholding: int
    prior_year_tax: int | None
    prior_year_agi: int | None
    prior_year_full_year: bool
    uk_other_income: int
    uk_tax_deducted: int
    uk_last_year_bill: int | None
    uk_last_year_collected_at_source: int
    reminder_days: int
    currency: str


class TaxProfileIn(Schema):
    """Only the fields sent are changed."""

    country: str | None = None
    filing_status: str | None = None
    other_wages: int | None = None
    withholding: int | None = None
    prior_year_tax: int | None = None
    prior_year_agi: int | None = None
    prior_year_full_year: bool | None = None
    uk_other_income: int | None = None
    uk_tax_deducted: int | None = None
    uk_last_year_bill: int | None = None
    uk_last_year_collected_at_source: int | None = None
    reminder_days: int | None = None


class FigureOut(Schema):
    key: str
    label: str
    value: int
    currency: str
    how: str = Field(description="How the figure was computed, in words.")


class DueOut(Schema):
    period: str
    label: str
    due_date: date
    statutory_date: date | None
    amount: int
    paid: int
    remaining: int
    currency: str
    how: str


class SourceOut(Schema):
    title: str
    url: str


class EstimateOut(Schema):
    country: str
    year: int
    label: str
    currency: str
    disclaimer: str
    figures: list[FigureOut]
    schedule: list[DueOut]
    notes: list[str]
    unverified: list[str]
    sources: list[SourceOut]
    data_version: str


class TaxPaymentIn(Schema):
    tax_year: int
    period: str = Field(description='US: "Q1".."Q4"; UK: "POA1", "POA2" or "balancing".')
    date: date
    amount: int = Field(description="Minor units, greater than zero.")
    note: str = ""


class TaxPaymentOut(Schema):
    id: int
    country: str
    tax_year: int
    period: str
    date: date
    amount: int
    currency: str
    note: str


class NextPaymentOut(Schema):
    due_date: date
    amount: int
    currency: str
    period_label: str
    tax_year: int
