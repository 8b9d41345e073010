"""API shapes of the orders endpoints. Amounts are integers in minor units (cents).

Input schemas check the shape only (types, lengths); the rules (prices, dates, stock, who may do
what and when) are the services' and come back as problem+json with a ``code`` and ``field``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import field_validator, model_validator

MAX_TEXT = 5000  # as orders.rules.MAX_MESSAGE


# --- input ------------------------------------------------------------------------------------


class ItemIn(Schema):
    """One thing to order. ``offer`` always; the other members by kind of offer."""

    offer: int = Field(description="The listing's id.")
    package: Literal["basic", "standard", "premium"] | None = Field(
        None, description="Service gig: the package (default basic)."
    )
    extras: list[int] | None = Field(None, description="Service gig: ids of the extras.")
    session: int | None = Field(None, description="Experience: the session's id.")
    seats: int | None = Field(None, ge=1, description="Experience: seats (default 1).")
    start: str | None = Field(
        None,
        max_length=40,
        description="Rental: first day (YYYY-MM-DD), or an ISO date-time for hourly rentals.",
    )
    end: str | None = Field(
        None, max_length=40, description="Rental by night/day: the return date (YYYY-MM-DD)."
    )
    hours: Decimal | None = Field(
        None,
        gt=0,
        max_digits=6,
        decimal_places=2,
        description="Hourly rental: whole hours; local task: estimated hours in quarter hours.",
    )
    starts_at: datetime | None = Field(None, description="Local task: when it starts.")
    address: str | None = Field(None, max_length=500, description="Local task: where.")
    variation: int | None = Field(None, description="Physical product: the option's id.")
    quantity: int | None = Field(None, ge=1, description="Physical product (default 1).")

    def as_item(self) -> dict[str, Any]:
        """The item dict the services take (``orders.pricing``), with only what was sent."""
        return self.model_dump(mode="json", exclude_none=True)


class PaymentIn(Schema):
    """How the buyer pays: a card (or payment method) and optionally their credit first."""

    payment_method: str = Field(
        min_length=1,
        max_length=200,
        description="Sandbox test cards: 4242424242424242 succeeds, 4000000000000002 is "
        "declined, 4000002760003184 needs the buyer's confirmation (payment.action_url).",
    )
    credit: int = Field(0, ge=0, description="Minor units of your buyer credit to use first.")
    return_url: str | None = Field(
        None,
        max_length=500,
        description="Where the payment provider sends the buyer back after an extra step "
        "(default: this site's checkout return page, which places the orders).",
    )

    @field_validator("return_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("Enter an http(s) URL.")
        return value


class CheckoutIn(PaymentIn):
    items: list[ItemIn] = Field(
        default_factory=list, max_length=50, description="What to order (or set from_cart)."
    )
    from_cart: bool = Field(False, description="Order everything in your cart instead of items.")
    address: str = Field("", max_length=500, description="Shipping address (physical products).")
    country: str = Field("", max_length=2, description="Shipping country, ISO 3166 alpha-2.")
    note: str = Field("", max_length=MAX_TEXT, description="A note to the seller(s).")

    @model_validator(mode="after")
    def _items_or_cart(self):
        if self.from_cart and self.items:
            raise ValueError("Send items or from_cart, not both.")
        return self


class TransitionIn(Schema):
    """The input of a transition; which members count depends on its ``form``
    (see ``transitions`` on the order)."""

    message: str = Field(
        "",
        max_length=MAX_TEXT,
        description="form message/delivery: the message (required by some transitions); "
        "form deposit: why part of the deposit is kept.",
    )
    answers: list[str] | None = Field(
        None, max_length=50, description="form requirements: one answer per question, in order."
    )
    carrier: str | None = Field(None, max_length=60, description="form tracking.")
    tracking_number: str | None = Field(None, max_length=80, description="form tracking.")
    hours_worked: Decimal | None = Field(
        None, gt=0, max_digits=6, decimal_places=2, description="form hours: e.g. 2.5."
    )
    claim: int | None = Field(
        None, ge=0, description="form deposit: minor units of the deposit kept (0: all back)."
    )
    reason: str | None = Field(None, description="form dispute: a dispute reason (default other).")
    description: str | None = Field(
        None, max_length=MAX_TEXT, description="form dispute: what went wrong (else message)."
    )
    buyer_amount: int | None = Field(
        None, ge=0, description="form split: minor units of the price back to the buyer."
    )

    def as_data(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


# --- output -----------------------------------------------------------------------------------


class PartyOut(Schema):
    id: int
    display_name: str


class OrderItemOut(Schema):
    id: int
    offer_id: int
    description: str
    package: str | None = Field(None, description="Service gig: the package tier.")
    variation_id: int | None
    extras: list[dict[str, Any]]
    unit_price: int
    quantity: int
    amount: int


class EventOut(Schema):
    transition: str
    description: str = Field(description="What happened, as the timeline says it.")
    role: str = Field(description="buyer, seller, operator or system.")
    from_state: str
    to_state: str
    message: str
    data: dict[str, Any]
    created_at: datetime


class DeliveryFileOut(Schema):
    id: int
    name: str
    size: int
    content_type: str
    url: str = Field(description="The download, for the order's parties (signed-in session).")


class DeliveryOut(Schema):
    id: int
    message: str
    created_at: datetime
    files: list[DeliveryFileOut]


class TransitionOut(Schema):
    name: str = Field(description="POST it to /orders/{id}/transitions/{name}.")
    label: str
    form: str = Field(
        description='The input it takes: "" (none), message, requirements, delivery, tracking, '
        "hours, deposit, dispute or split (see TransitionIn; disputes are best opened with "
        "POST /disputes, which also takes evidence)."
    )
    message_required: bool
    target: str | None = Field(description="The state it leads to (null: the state stays).")


class OrderSummary(Schema):
    id: int
    kind: str
    state: str
    state_label: str
    title: str
    currency: str
    subtotal: int = Field(description="The price, shipping included.")
    shipping: int
    deposit: int = Field(description="Rental security deposit, paid apart and given back.")
    buyer: PartyOut
    seller: PartyOut
    starts_at: datetime | None
    ends_at: datetime | None
    due_at: datetime | None
    deadline_at: datetime | None
    deadline_transition: str
    created_at: datetime
    placed_at: datetime | None
    closed_at: datetime | None


class OrderOut(OrderSummary):
    checkout_id: int
    offer_id: int | None = Field(description="None for a project task (kind `milestone`).")
    origin: str = Field(
        description="A project task's order: what it pays for, e.g. `projects.assignment:12`."
    )
    items: list[OrderItemOut]
    seats: int
    session_id: int | None
    cancellation_policy: str
    cancellation_requested_by: str | None = Field(
        description="buyer or seller when a cancellation waits for the other side's answer."
    )
    revisions_allowed: int
    revisions_used: int
    requirements: list[dict[str, Any]]
    hourly_rate: int | None
    minutes_booked: int | None
    minutes_worked: int | None
    address: str
    ship_country: str
    carrier: str
    tracking_number: str
    deposit_claimed: int
    deposit_claim_reason: str
    note: str
    updated_at: datetime
    events: list[EventOut]
    deliveries: list[DeliveryOut]
    transitions: list[TransitionOut] = Field(description="What you can do now.")


class CheckoutPaymentOut(Schema):
    id: int
    status: str
    total: int = Field(description="What the buyer pays: prices, deposits and service fees.")
    action_url: str = Field(description="When status is requires_action: send the buyer here.")


class CheckoutOut(Schema):
    id: int
    status: Literal["pending", "paid", "failed"]
    currency: str
    failure_message: str
    created_at: datetime
    payment: CheckoutPaymentOut | None
    orders: list[OrderOut]


class OrdersQuery(Schema):
    role: Literal["buyer", "seller"] = Field("buyer", description="Orders you bought or sold.")
    state: str | None = Field(None, max_length=24, description="Only orders in this state.")
    kind: Literal["service", "experience", "rental", "task", "digital", "physical"] | None = None


class CartItemOut(Schema):
    id: int
    offer_id: int
    title: str
    kind: str
    currency: str
    spec: dict[str, Any] = Field(description="The choices, as in an order item (without offer).")
    created_at: datetime
