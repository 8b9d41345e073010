"""API of the budget area: envelopes with balances, the allocation rules, moves, spending, the
history and "safe to spend". Only the caller's own envelopes exist for them (404 otherwise).
See docs/books/budget.md."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.pagination import paginate

from micromarket.books.models import Envelope, EnvelopeMovement
from micromarket.books.schemas.budget import (
    EnvelopeOut,
    MoveIn,
    MovementOut,
    MoveOut,
    RulesIn,
    SafeToSpendOut,
    SpendIn,
)
from micromarket.books.selectors import budget as selectors
from micromarket.books.selectors import insights as insights_selectors
from micromarket.books.services import budget as services
from micromarket.core.api import PROBLEM_RESPONSES, LimitOffsetPage
from micromarket.core.money import currency_check

router = Router(tags=["books"])


def envelope_out(envelope: Envelope, balances: dict[str, int]) -> dict:
    return {
        "id": envelope.pk,
        "name": envelope.name,
        "role": envelope.role,
        "percent_bps": envelope.percent_bps,
        "position": envelope.position,
        "archived": envelope.archived_at is not None,
        "balances": balances,
    }


def movement_out(m: EnvelopeMovement) -> dict:
    return {
        "id": m.pk,
        "envelope_id": m.envelope_id,
        "envelope_name": m.envelope.name,
        "kind": m.kind,
        "amount": m.amount,
        "currency": m.currency,
        "entry_id": m.entry_id,
        "counterpart_id": m.counterpart_id,
        "note": m.note,
        "created_at": m.created_at,
    }


def _all_out(owner) -> list[dict]:
    return [envelope_out(e, b) for e, b in selectors.envelope_balances(owner)]


@router.get(
    "/envelopes",
    response=list[EnvelopeOut],
    summary="Your envelopes and what each holds",
    description="The default four (taxes 25%, business expenses 15%, emergency fund 10%, owner "
    "pay 50%) are created on first use.",
)
@paginate(LimitOffsetPage)
def envelopes_list(request: HttpRequest):
    services.envelopes_ensure_default(owner=request.auth)
    return _all_out(request.auth)


@router.get(
    "/envelopes/{int:envelope_id}",
    response={200: EnvelopeOut, **PROBLEM_RESPONSES},
    summary="One of your envelopes",
)
def envelope_get(request: HttpRequest, envelope_id: int):
    envelope = selectors.envelope_get(request.auth, envelope_id)
    balances = {
        c: b
        for c in selectors.budget_currencies(request.auth)
        if (b := selectors.envelope_balance(envelope, c))
    }
    return envelope_out(envelope, balances)


@router.get(
    "/envelopes/{int:envelope_id}/movements",
    response={200: list[MovementOut], **PROBLEM_RESPONSES},
    summary="One envelope's history, newest first",
)
@paginate(LimitOffsetPage)
def envelope_movements(request: HttpRequest, envelope_id: int):
    envelope = selectors.envelope_get(request.auth, envelope_id)
    return [movement_out(m) for m in selectors.movements(request.auth, envelope=envelope)]


@router.post(
    "/envelopes/{int:envelope_id}/spend",
    response={201: MovementOut, **PROBLEM_RESPONSES},
    summary="Record money spent from an envelope",
    description="- **201** the movement.\n- **404** not one of your envelopes.\n"
    "- **422** `insufficient_balance` — the envelope holds less in that currency.",
)
def envelope_spend(request: HttpRequest, envelope_id: int, payload: SpendIn):
    movement = services.envelope_spend(
        owner=request.auth,
        envelope_id=envelope_id,
        amount=payload.amount,
        currency=payload.currency,
        note=payload.note,
    )
    return Status(201, movement_out(movement))


@router.get(
    "/budget/movements",
    response=list[MovementOut],
    summary="Every envelope's history, newest first",
)
@paginate(LimitOffsetPage)
def movements_list(request: HttpRequest, currency: str | None = None):
    return [
        movement_out(m)
        for m in selectors.movements(request.auth, currency=(currency or "").upper() or None)
    ]


@router.put(
    "/budget/rules",
    response={200: list[EnvelopeOut], **PROBLEM_RESPONSES},
    summary="Change the allocation rules",
    description="Rename, re-weigh, add (`envelope_id: null`) and remove (`archive: true`) "
    "envelopes in one go.\n- **422** `total_not_100` — the active envelopes must total exactly "
    "10000 basis points; `archive_not_empty` — move the money out first.\n"
    "- **404** an `envelope_id` that is not yours.",
)
def rules_set(request: HttpRequest, payload: RulesIn):
    services.allocation_rules_set(
        owner=request.auth,
        rules=[
            services.Rule(r.envelope_id, r.name, r.percent_bps, r.archive) for r in payload.rules
        ],
    )
    return _all_out(request.auth)


@router.post(
    "/budget/rules/reset",
    response=list[EnvelopeOut],
    summary="Back to the default rules (25 / 15 / 10 / 50)",
)
def rules_reset(request: HttpRequest):
    services.allocation_rules_reset(owner=request.auth)
    return _all_out(request.auth)


@router.post(
    "/budget/moves",
    response={201: MoveOut, **PROBLEM_RESPONSES},
    summary="Move money between two of your envelopes",
    description="- **422** `insufficient_balance`, `same_envelope`.\n"
    "- **404** either envelope is not yours.",
)
def move_create(request: HttpRequest, payload: MoveIn):
    out, in_ = services.envelope_move(
        owner=request.auth,
        from_envelope_id=payload.from_envelope_id,
        to_envelope_id=payload.to_envelope_id,
        amount=payload.amount,
        currency=payload.currency,
        note=payload.note,
    )
    return Status(201, {"moved_out": movement_out(out), "moved_in": movement_out(in_)})


@router.get(
    "/budget/safe-to-spend",
    response={200: SafeToSpendOut, **PROBLEM_RESPONSES},
    summary="What you can spend on yourself now",
    description="Owner pay minus what the Taxes envelope lacks for the next tax payment.",
)
def safe_to_spend(request: HttpRequest, currency: str | None = Query(None)):
    code = (
        currency_check(currency) if currency else insights_selectors.default_currency(request.auth)
    )
    return selectors.safe_to_spend(request.auth, code).__dict__
