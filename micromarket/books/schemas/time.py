"""API shapes of the time area. Amounts are integers in minor units; durations in seconds."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Schema


class TimeEntryOut(Schema):
    id: int
    client_id: int | None
    offer_id: int | None
    project: str
    description: str
    started_at: datetime
    ended_at: datetime | None = Field(description="null while the timer runs.")
    duration_seconds: int
    billable: bool
    rate: int | None = Field(description="Per hour, minor units; null = the client's default.")
    currency: str
    invoice_line_id: int | None = Field(description="Set once the time is on an invoice.")


class TimerStartIn(Schema):
    client_id: int | None = None
    offer_id: int | None = None
    project: str = ""
    description: str = ""
    billable: bool = True
    rate: int | None = Field(None, ge=0)
    currency: str = ""


class TimeEntryIn(TimerStartIn):
    started_at: datetime
    duration_seconds: int = Field(gt=0, le=86400)


class TimeEntryPatch(Schema):
    client_id: int | None = None
    offer_id: int | None = None
    project: str | None = None
    description: str | None = None
    billable: bool | None = None
    rate: int | None = Field(None, ge=0)
    currency: str | None = None
    started_at: datetime | None = None
    duration_seconds: int | None = Field(None, gt=0, le=86400)


class TimesheetRowOut(Schema):
    label: str
    seconds: list[int] = Field(description="Seven days, Monday first.")
    total: int
    billable_seconds: int


class TimesheetOut(Schema):
    week_start: date
    days: list[date]
    rows: list[TimesheetRowOut]
    day_totals: list[int]
    total: int
    billable: int


class EffectiveRateOut(Schema):
    id: int
    label: str
    seconds: int
    earned: dict[str, int] = Field(description="Currency → minor units.")
    per_hour: dict[str, int] = Field(description="Currency → minor units per tracked hour.")


class EffectiveRatesOut(Schema):
    clients: list[EffectiveRateOut]
    offers: list[EffectiveRateOut]


class TimeInvoiceIn(Schema):
    client_id: int
    entry_ids: list[int] | None = Field(
        None, description="The entries to bill; omitted = all the client's unbilled time."
    )


class TimeInvoiceOut(Schema):
    invoice_id: int
    status: str
    currency: str
    total: int
