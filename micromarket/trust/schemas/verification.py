"""API shapes of the verification area."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema


class PhoneStartIn(Schema):
    phone: str = Field(max_length=32, examples=["+44 7911 123456"])


class PhoneConfirmIn(Schema):
    code: str = Field(max_length=12, examples=["123456"])


class PhoneStarted(Schema):
    phone: str  # E.164
    expires_at: datetime


class BadgesOut(Schema):
    email: bool
    phone: bool
    identity: bool
    email_verified_at: datetime | None
    phone_verified_at: datetime | None
    identity_verified_at: datetime | None


class TraderOut(Schema):
    id: int
    status: str  # pending, approved, rejected
    legal_name: str
    address_line: str
    city: str
    postal_code: str
    country: str
    trade_register_number: str
    payout_method_id: int
    review_note: str  # the reason of a rejection
    created_at: datetime
    reviewed_at: datetime | None


class VerificationOut(Schema):
    badges: BadgesOut
    phone: str | None  # the verified number
    phone_pending: str | None  # a number with a code waiting to be entered
    trader: TraderOut | None  # the newest submission
    payouts_allowed: bool
