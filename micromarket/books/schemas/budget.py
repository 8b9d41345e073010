"""API shapes of the budget and insights endpoints. Amounts are integers in minor units of
``currency``; percentages are basis points (2500 = 25%)."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema


class EnvelopeOut(Schema):
    id: int
    name: str
    role: str = Field(description="taxes, expenses, emergency, owner_pay or other.")
    percent_bps: int = Field(description="Share of every income in basis points (2500 = 25%).")
    position: int
    archived: bool
    balances: dict[str, int] = Field(description="Balance per currency, minor units.")


class RuleIn(Schema):
    envelope_id: int | None = Field(None, description="null adds a new envelope.")
    name: str = Field("", max_length=60)
    percent_bps: int = Field(ge=0, le=10000)
    archive: bool = Field(False, description="Remove the envelope (0% and empty only).")


class RulesIn(Schema):
    rules: list[RuleIn] = Field(
        description="Envelopes not listed keep their name and share. The active envelopes must "
        "total exactly 10000 basis points."
    )


class MovementOut(Schema):
    id: int
    envelope_id: int
    envelope_name: str
    kind: str = Field(description="allocation, move_in, move_out, spend or reversal.")
    amount: int = Field(description="Signed: positive into the envelope.")
    currency: str
    entry_id: int | None
    counterpart_id: int | None = Field(description="The other envelope of a move.")
    note: str
    created_at: datetime


class MoveIn(Schema):
    from_envelope_id: int
    to_envelope_id: int
    amount: int = Field(gt=0, description="Minor units.")
    currency: str = Field(min_length=3, max_length=3)
    note: str = Field("", max_length=300)


class MoveOut(Schema):
    moved_out: MovementOut
    moved_in: MovementOut


class SpendIn(Schema):
    amount: int = Field(gt=0, description="Minor units.")
    currency: str = Field(min_length=3, max_length=3)
    note: str = Field("", max_length=300)


class SafeToSpendOut(Schema):
    currency: str
    amount: int
    owner_pay: int
    taxes_held: int
    tax_due: int | None = Field(description="The next tax payment, when in this currency.")
    tax_shortfall: int
    steps: list[str] = Field(description="How the figure was computed, in words.")
