"""API shapes of the projects endpoints. Money is integer minor units, always beside a
``currency``.

Input schemas check the shape only (types, lengths); the rules (budgets, units, who may see and
do what) are the services' and come back as problem+json with a ``code`` and ``field``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import field_validator

MAX_TEXT = 10000


# --- input ------------------------------------------------------------------------------------


class ProjectIn(Schema):
    """A project's every field (PUT and PATCH replace them all)."""

    title: str = Field(max_length=140)
    description: str = Field(max_length=MAX_TEXT)
    category_id: int = Field(description="A catalog category's id (GET /categories).")
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217, e.g. USD.")
    budget: int = Field(description="The most you will pay sellers in total, minor units.")
    deadline: date
    visibility: Literal["public", "invited"] = Field(
        "public", description="invited: only sellers you invite can find and see it."
    )


class ProjectPatch(Schema):
    """Some of a project's fields; the others keep their values."""

    title: str | None = Field(None, max_length=140)
    description: str | None = Field(None, max_length=MAX_TEXT)
    category_id: int | None = None
    currency: str | None = Field(None, min_length=3, max_length=3)
    budget: int | None = None
    deadline: date | None = None
    visibility: Literal["public", "invited"] | None = None


class InviteIn(Schema):
    email: str = Field(max_length=254, description="The seller's account email.")


class TaskIn(Schema):
    """A task's every field (PUT replaces them all; missing ones take their defaults)."""

    title: str = Field(max_length=140)
    brief: str = Field(max_length=5000)
    budget: int = Field(description="Price per unit, minor units of the project's currency.")
    deadline: date = Field(description="On or before the project's deadline.")
    quantity: int = Field(1, description="Units: how many sellers' worth of this work.")
    per_seller_limit: int = Field(1, description="Units one seller may take (≤ quantity).")
    skills: list[str] = Field(default_factory=list, max_length=20)
    delivery_days: int = Field(3, description="Days to deliver a directly claimed unit.")
    revisions: int = Field(1, description="Revisions the buyer may ask for (0–10).")
    claimable: bool = Field(
        False, description="Sellers may take a unit at the budget price without a proposal."
    )
    depends_on_id: int | None = Field(
        None, description="Another task of the project that must be finished first."
    )


class ProposalIn(Schema):
    price: int = Field(description="Your price for one unit, minor units of the currency.")
    days: int = Field(description="Days to deliver.")
    message: str = Field(max_length=3000)


class TaskSearchQuery(Schema):
    q: str = Field("", max_length=200, description="Words, as in offer search.")
    category: str = Field("", max_length=90, description="A category's slug (or its parent's).")
    skill: str = Field("", max_length=40)
    currency: str = Field("", max_length=3)
    budget_min: int | None = Field(
        None, ge=0, description="Minimum budget per unit (only together with currency)."
    )
    claimable: bool | None = Field(None, description="Only claimable (true) or not (false).")
    sort: Literal["best", "newest", "budget_desc", "deadline"] = "best"
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0)
    page: int | None = Field(None, ge=1, description="Instead of offset: page of `limit`.")


class AssignmentsQuery(Schema):
    project: int | None = Field(
        None, description="Your project's id: its assignments (as the buyer), oldest first."
    )


class FundIn(Schema):
    assignment_ids: list[int] = Field(min_length=1, max_length=50)
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


class TransitionIn(Schema):
    message: str = Field(
        "",
        max_length=5000,
        description="The submission's message (submit), what to change (request_revision), "
        "or why (cancellations, disputes).",
    )
    reason: str | None = Field(None, max_length=40, description="dispute: a dispute reason.")
    description: str | None = Field(
        None, max_length=5000, description="dispute: what went wrong (else message)."
    )

    def as_data(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


# --- output -----------------------------------------------------------------------------------


class PartyOut(Schema):
    id: int
    display_name: str


class CategoryOut(Schema):
    id: int
    slug: str
    name: str


class UnitsOut(Schema):
    quantity: int
    taken: int = Field(description="Held by live assignments (funded or waiting to be).")
    done: int = Field(description="Approved and paid.")
    left: int


class TaskRefOut(Schema):
    id: int
    title: str


class TaskOut(Schema):
    id: int
    project_id: int
    project_title: str
    currency: str
    title: str
    brief: str
    budget: int = Field(description="Price per unit, minor units.")
    quantity: int
    per_seller_limit: int
    deadline: date
    skills: list[str]
    delivery_days: int
    revisions: int
    claimable: bool
    depends_on_id: int | None
    waiting_for: TaskRefOut | None = Field(
        description="The task whose work must finish before this one takes proposals."
    )
    status: str = Field(description="open or closed.")
    position: int
    units: UnitsOut
    pending_proposals: int | None = Field(
        None, description="For the project's buyer: proposals waiting for an answer."
    )
    created_at: datetime


class TaskHitOut(TaskOut):
    score: float = Field(description="Relevance blended with freshness (sort=best).")


class SkillCountOut(Schema):
    skill: str
    tasks: int


class TaskSearchOut(Schema):
    items: list[TaskHitOut]
    count: int
    limit: int
    offset: int
    next: str | None
    previous: str | None
    scanned_all: bool = Field(
        description="false: only the newest open tasks were examined; narrow the search."
    )
    skills: list[SkillCountOut] = Field(description="The matches' most common skills.")


class AttachmentOut(Schema):
    id: int
    name: str
    size: int
    content_type: str
    url: str = Field(description="The download (signed-in session).")


class InviteOut(Schema):
    seller: PartyOut
    created_at: datetime


class SpendOut(Schema):
    budget: int
    committed: int = Field(description="Prices of live assignments, funded or not.")
    funding: int = Field(description="Awarded or claimed, not yet paid for.")
    in_escrow: int = Field(description="Paid, held until you approve.")
    paid: int = Field(description="Released to sellers.")
    refunded: int
    left: int = Field(description="Budget not committed yet.")


class ProjectSummary(Schema):
    id: int
    title: str
    status: str = Field(description="draft, open or closed.")
    visibility: str
    currency: str
    budget: int
    deadline: date
    category: CategoryOut
    task_count: int
    created_at: datetime
    published_at: datetime | None
    closed_at: datetime | None


class ProjectOut(ProjectSummary):
    description: str
    buyer: PartyOut
    tasks: list[TaskOut]
    attachments: list[AttachmentOut]
    spend: SpendOut | None = Field(None, description="The buyer's view only.")
    invites: list[InviteOut] | None = Field(None, description="The buyer's view only.")
    to_fund: list[int] | None = Field(
        None, description="The buyer's view only: assignment ids waiting to be funded."
    )


class ProposalOut(Schema):
    id: int
    task_id: int
    task_title: str
    project_id: int
    seller: PartyOut
    price: int
    currency: str
    days: int
    message: str
    status: str = Field(description="pending, awarded, declined or withdrawn.")
    assignment_id: int | None
    created_at: datetime
    decided_at: datetime | None


class ProposalCardOut(ProposalOut):
    rating: float | None = Field(description="The seller's rating from public reviews.")
    reviews: int
    level: str = Field(description="The seller's level.")
    completed_orders: int


class OrderRefOut(Schema):
    id: int
    state: str
    state_label: str


class StepOut(Schema):
    name: str = Field(description="POST it to /projects/assignments/{id}/transitions/{name}.")
    label: str
    form: str = Field(description='"" (no input), message, delivery, dispute …')


class AssignmentOut(Schema):
    id: int
    task_id: int
    task_title: str
    project_id: int
    project_title: str
    seller: PartyOut
    via: str = Field(description="proposal or claim.")
    price: int
    currency: str
    days: int
    status: str = Field(description="active, lapsed or withdrawn.")
    stage: str = Field(
        description="funding, in_progress, submitted, revision_requested, completed, "
        "disputed or cancelled."
    )
    stage_label: str
    order: OrderRefOut | None = Field(
        description="The milestone order once funded (GET /orders/{id} has its timeline)."
    )
    created_at: datetime
    ended_at: datetime | None


class AssignmentDetailOut(AssignmentOut):
    transitions: list[StepOut] = Field(description="What you can do on the work now.")


class CheckoutPaymentOut(Schema):
    id: int
    status: str
    total: int = Field(description="What the buyer pays: prices and service fees.")
    action_url: str = Field(description="When status is requires_action: send the buyer here.")


class CheckoutOrderOut(Schema):
    id: int
    state: str
    state_label: str
    title: str
    currency: str
    subtotal: int
    seller: PartyOut
    assignment_id: int | None


class FundOut(Schema):
    id: int = Field(description="The checkout's id (GET /checkouts/{id}, POST …/sync).")
    status: Literal["pending", "paid", "failed"]
    currency: str
    failure_message: str
    created_at: datetime
    payment: CheckoutPaymentOut | None
    orders: list[CheckoutOrderOut] = Field(description="One milestone order per assignment.")
