"""API shapes of the entries area. Amounts are integers in minor units of ``currency``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema


class EntryIn(Schema):
    kind: str = Field(description="income or expense.")
    date: dt.date
    amount: int = Field(description="Minor units (1250 = 12.50 USD), above zero.")
    currency: str = Field(description="ISO 4217 code.")
    category: str = Field(description="A category key (GET /books/categories).")
    payee: str = ""
    note: str = ""


class EntryPatch(Schema):
    kind: str | None = None
    date: dt.date | None = None
    amount: int | None = None
    currency: str | None = None
    category: str | None = None
    payee: str | None = None
    note: str | None = None
    receipt_remove: bool = False


class EntryOut(Schema):
    id: int
    kind: str
    date: dt.date
    amount: int
    currency: str
    category: str
    payee: str
    note: str
    source: str = Field(description="manual, platform, import, recurring, mileage or invoice.")
    source_ref: str
    has_receipt: bool
    receipt_type: str
    receipt_url: str | None = Field(description="Download (the owner only); null without one.")
    created_at: dt.datetime
    updated_at: dt.datetime


class CategoryOut(Schema):
    key: str
    label: str
    kind: str
    schedule_c: str = Field(description="IRS Schedule C line; empty when not deductible there.")
    schedule_c_label: str
    uk_box: str = Field(description="HMRC SA103F box; empty when not allowable.")
    uk_box_label: str
    help: str


class MileageIn(Schema):
    date: dt.date
    distance: Decimal = Field(description="One decimal place.")
    unit: str = Field("mi", description="mi or km.")
    origin: str = ""
    destination: str = ""
    purpose: str


class MileageOut(Schema):
    id: int
    date: dt.date
    distance: Decimal
    unit: str
    origin: str
    destination: str
    purpose: str
    rate: int = Field(description="Per mile, in 1/rate_scale minor units.")
    rate_scale: int
    currency: str
    deduction: int | None = Field(description="The expense recorded, minor units.")
    entry_id: int | None


class RecurringIn(Schema):
    payee: str
    amount: int
    currency: str
    category: str
    frequency: str = Field(description="weekly, monthly, quarterly or yearly.")
    start_date: dt.date
    end_date: dt.date | None = None
    note: str = ""


class RecurringOut(Schema):
    id: int
    payee: str
    amount: int
    currency: str
    category: str
    frequency: str
    start_date: dt.date
    next_date: dt.date
    end_date: dt.date | None
    active: bool
    note: str


class SyncOut(Schema):
    copied: int = Field(description="Ledger transactions newly copied into your books.")
