"""API shapes of the invoices area. Amounts are integers in minor units of the invoice's
currency; rates and discounts are basis points (2000 = 20%)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema


class ClientIn(Schema):
    name: str
    email: str = ""
    address: str = ""
    city: str = ""
    postcode: str = ""
    country: str = Field("", description="ISO 3166-1 alpha-2 (US, GB, FR …).")
    vat_id: str = ""
    company_id: str = ""
    currency: str = "USD"
    default_rate: int | None = Field(None, description="Per hour, minor units.")
    notes: str = ""


class ClientPatch(Schema):
    name: str | None = None
    email: str | None = None
    address: str | None = None
    city: str | None = None
    postcode: str | None = None
    country: str | None = None
    vat_id: str | None = None
    company_id: str | None = None
    currency: str | None = None
    default_rate: int | None = None
    notes: str | None = None
    archived: bool | None = None


class ClientOut(Schema):
    id: int
    name: str
    email: str
    address: str
    city: str
    postcode: str
    country: str
    vat_id: str
    company_id: str
    currency: str
    default_rate: int | None
    notes: str
    archived_at: dt.datetime | None


class LineIn(Schema):
    description: str
    quantity: Decimal = Field(Decimal(1), description="Up to three decimals.")
    unit: str = Field("C62", description="UN/ECE rec 20 unit: C62 (one), HUR (hour), DAY.")
    unit_price: int = Field(description="Minor units.")
    discount_bps: int = 0
    tax_rate_bps: int = 0


class LinePatch(Schema):
    description: str | None = None
    quantity: Decimal | None = None
    unit: str | None = None
    unit_price: int | None = None
    discount_bps: int | None = None
    tax_rate_bps: int | None = None


class LineOut(Schema):
    id: int
    position: int
    description: str
    quantity: Decimal
    unit: str
    unit_price: int
    discount_bps: int
    tax_rate_bps: int
    amount: int
    is_late_fee: bool = Field(description="Added by the late fee (outside the discount).")


class InvoiceIn(Schema):
    client_id: int
    currency: str | None = Field(None, description="Default: the client's currency.")
    terms_days: int = 14
    notes: str = ""
    discount_bps: int = 0
    late_fee_bps: int = 0
    late_fee_fixed: int = 0
    lines: list[LineIn] = []


class InvoicePatch(Schema):
    client_id: int | None = None
    currency: str | None = None
    terms_days: int | None = None
    notes: str | None = None
    discount_bps: int | None = None
    late_fee_bps: int | None = None
    late_fee_fixed: int | None = None


class PaymentIn(Schema):
    amount: int = Field(description="Minor units; at most the balance due.")
    date: dt.date | None = None
    method: str = ""
    note: str = ""


class PaymentOut(Schema):
    id: int
    date: dt.date
    amount: int
    method: str
    note: str
    entry_id: int | None


class InvoiceSettings(Schema):
    legal_name: str = Field("", description="Name on your invoices (blank: your account name).")
    vat_id: str = Field(
        "", description="Your VAT number; needed to issue an invoice with a tax rate above 0%."
    )
    business_address: str = ""


class SendIn(Schema):
    message: str = ""


class VoidIn(Schema):
    reason: str = ""


class EventOut(Schema):
    kind: str
    detail: str
    at: dt.datetime


class InvoiceOut(Schema):
    id: int
    number: str
    client_id: int
    status: str = Field(
        description="draft, sent, partly_paid, paid, void — or overdue "
        "(derived: sent or partly paid and past the due date)."
    )
    currency: str
    issue_date: dt.date | None
    terms_days: int
    due_date: dt.date | None
    notes: str
    discount_bps: int
    late_fee_bps: int
    late_fee_fixed: int
    subtotal: int
    discount_total: int
    tax_total: int
    total: int
    paid_total: int
    balance: int
    public_url: str | None
    lines: list[LineOut]


class InvoiceDetailOut(InvoiceOut):
    payments: list[PaymentOut]
    events: list[EventOut]
