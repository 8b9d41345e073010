"""/api/v1/disputes: the resolution center. Endpoints validate, call one service or selector,
serialise (see docs/trust.md).

- ``POST /disputes`` opens a dispute on an order (JSON, or multipart with ``files``).
- Anyone but the dispute's buyer, seller and operators gets 404 on every dispute endpoint,
  never 403, so ids do not leak; ``/decide`` is for operators (403 for the two sides).
"""

import json

from django.http import FileResponse, HttpRequest
from django.urls import reverse
from ninja import Router, Status
from ninja.errors import ValidationError
from ninja.pagination import paginate
from pydantic import ValidationError as PydanticValidationError

from micromarket.core.api import PROBLEM_RESPONSES, LimitOffsetPage
from micromarket.trust.schemas.disputes import (
    DecideIn,
    DisputeOpenIn,
    DisputeOut,
    DisputeSummary,
    EscalateIn,
    ProposalIn,
    ProposalOut,
    TextIn,
)
from micromarket.trust.selectors import disputes as selectors
from micromarket.trust.services import disputes as services

router = Router(tags=["trust"])


def _person(user) -> dict | None:
    return {"id": user.pk, "display_name": user.display_name} if user else None


def _summary(dispute, role: str) -> dict:
    return {
        "id": dispute.pk,
        "order_id": dispute.order_id,
        "role": role,
        "opener_role": dispute.opener_role,
        "reason": dispute.reason,
        "status": dispute.status,
        "outcome": dispute.outcome,
        "buyer_amount": dispute.buyer_amount,
        "currency": dispute.order.currency,
        "respond_by": dispute.respond_by,
        "created_at": dispute.created_at,
        "resolved_at": dispute.resolved_at,
    }


def _evidence(request, dispute, item) -> dict:
    url = (
        request.build_absolute_uri(reverse("api:dispute_evidence", args=[dispute.pk, item.pk]))
        if item.file
        else None
    )
    return {
        "id": item.pk,
        "kind": "file" if item.file else "message",
        "name": item.name,
        "content_type": item.content_type,
        "size": item.size,
        "url": url,
        "message_id": item.message_id,
        "excerpt_author": item.excerpt_author,
        "excerpt_sent_at": item.excerpt_sent_at,
        "excerpt": item.excerpt,
    }


def _proposal(p) -> dict:
    return {
        "id": p.pk,
        "proposed_by": _person(p.proposed_by),
        "buyer_amount": p.buyer_amount,
        "message": p.message,
        "status": p.status,
        "created_at": p.created_at,
        "answered_at": p.answered_at,
    }


def _dispute(request, dispute_id: int) -> dict:
    dispute, role = selectors.dispute_for_user(dispute_id=dispute_id, user=request.auth)
    return {
        **_summary(dispute, role),
        "description": dispute.description,
        "held": services.held_for(dispute.order),
        "decision_note": dispute.decision_note,
        "events": [
            {
                "id": e.pk,
                "kind": e.kind,
                "description": e.get_kind_display(),
                "role": e.role,
                "actor": _person(e.actor),
                "message": e.message,
                "data": e.data,
                "created_at": e.created_at,
                "evidence": [_evidence(request, dispute, item) for item in e.items],
            }
            for e in selectors.dispute_timeline(dispute)
        ],
        "proposals": [_proposal(p) for p in selectors.dispute_proposals(dispute)],
    }


def _errors(exc: PydanticValidationError, where: str) -> list[dict]:
    return [
        {"loc": [where, *err["loc"]], "msg": err["msg"], "type": err["type"]}
        for err in exc.errors()
    ]


def _input(request: HttpRequest, schema):
    """JSON, or multipart/form-data with ``files`` (and ``message_ids`` repeated)."""
    if request.content_type == "multipart/form-data":
        data = {k: request.POST.get(k) for k in request.POST if k != "message_ids"}
        data["message_ids"] = request.POST.getlist("message_ids")
        files = request.FILES.getlist("files") + request.FILES.getlist("files[]")
        where = "form"
    else:
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            raise ValidationError(
                [{"loc": ["body"], "msg": "Send JSON or multipart/form-data.", "type": "json"}]
            ) from None
        files, where = [], "body"
    try:
        return schema.model_validate(data), files
    except PydanticValidationError as exc:
        raise ValidationError(_errors(exc, where)) from None


MULTIPART = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "properties": {
                "files": {
                    "type": "array",
                    "items": {"type": "string", "format": "binary"},
                    "maxItems": services.MAX_EVIDENCE_FILES,
                },
                "message_ids": {"type": "array", "items": {"type": "integer"}},
            },
        }
    }
}


def _body(schema) -> dict:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema.model_json_schema()}, **MULTIPART},
        }
    }


@router.post(
    "/disputes",
    response={201: DisputeOut, **PROBLEM_RESPONSES},
    summary="Open a dispute on one of your orders (JSON, or multipart with files)",
    description=(
        "The order's `dispute` step: the payment is frozen and the other side has 3 days to "
        "answer, else the dispute is decided for you. Up to 5 files of 10 MB (judged by "
        "content), and `message_ids` of the order's conversation to cite.\n\n"
        "- **404** not your order. **403** operators do not open disputes. **409** the order "
        "cannot be disputed now (or already was). **422** bad input; nothing is written."
    ),
    openapi_extra=_body(DisputeOpenIn),
)
def dispute_create(request: HttpRequest):
    payload, files = _input(request, DisputeOpenIn)
    dispute = services.dispute_open(
        order_id=payload.order_id,
        actor=request.auth,
        reason=payload.reason,
        description=payload.description,
        files=files,
        message_ids=payload.message_ids,
    )
    return Status(201, _dispute(request, dispute.pk))


@router.get(
    "/disputes",
    response=list[DisputeSummary],
    summary="Disputes on your orders (as buyer or seller), newest first",
)
@paginate(LimitOffsetPage)
def dispute_list(request: HttpRequest):
    me = request.auth
    return [
        _summary(d, "buyer" if d.order.buyer_id == me.pk else "seller")
        for d in selectors.disputes_for_user(user=me)
    ]


@router.get(
    "/disputes/{dispute_id}",
    response={200: DisputeOut, **PROBLEM_RESPONSES},
    summary="One dispute: its timeline, evidence and proposals",
)
def dispute_get(request: HttpRequest, dispute_id: int):
    return _dispute(request, dispute_id)


@router.get(
    "/disputes/{dispute_id}/evidence/{evidence_id}",
    response={200: None, **PROBLEM_RESPONSES},
    url_name="dispute_evidence",
    summary="Download an evidence file",
)
def evidence_get(request: HttpRequest, dispute_id: int, evidence_id: int):
    item = selectors.evidence_for_user(
        dispute_id=dispute_id, evidence_id=evidence_id, user=request.auth
    )
    return FileResponse(
        item.file.open("rb"), as_attachment=True, filename=item.name, content_type=item.content_type
    )


@router.post(
    "/disputes/{dispute_id}/respond",
    response={200: DisputeOut, **PROBLEM_RESPONSES},
    summary="Answer a dispute the other side opened (before respond_by)",
    openapi_extra=_body(TextIn),
)
def dispute_respond(request: HttpRequest, dispute_id: int):
    payload, files = _input(request, TextIn)
    services.dispute_respond(
        dispute_id=dispute_id,
        actor=request.auth,
        message=payload.message,
        files=files,
        message_ids=payload.message_ids,
    )
    return _dispute(request, dispute_id)


@router.post(
    "/disputes/{dispute_id}/comments",
    response={201: DisputeOut, **PROBLEM_RESPONSES},
    summary="Add a comment or evidence (until the dispute is resolved)",
    openapi_extra=_body(TextIn),
)
def dispute_comment(request: HttpRequest, dispute_id: int):
    payload, files = _input(request, TextIn)
    services.dispute_comment(
        dispute_id=dispute_id,
        actor=request.auth,
        message=payload.message,
        files=files,
        message_ids=payload.message_ids,
    )
    return Status(201, _dispute(request, dispute_id))


@router.post(
    "/disputes/{dispute_id}/proposals",
    response={201: ProposalOut, **PROBLEM_RESPONSES},
    summary="Propose a partial refund (one pending proposal at a time)",
)
def proposal_create(request: HttpRequest, dispute_id: int, payload: ProposalIn):
    proposal = services.proposal_create(
        dispute_id=dispute_id,
        actor=request.auth,
        buyer_amount=payload.buyer_amount,
        message=payload.message,
    )
    return Status(201, _proposal(proposal))


@router.post(
    "/disputes/{dispute_id}/proposals/{proposal_id}/accept",
    response={200: DisputeOut, **PROBLEM_RESPONSES},
    summary="Accept the other side's proposal: the dispute is settled at once",
)
def proposal_accept(request: HttpRequest, dispute_id: int, proposal_id: int):
    services.proposal_accept(dispute_id=dispute_id, proposal_id=proposal_id, actor=request.auth)
    return _dispute(request, dispute_id)


@router.post(
    "/disputes/{dispute_id}/proposals/{proposal_id}/decline",
    response={200: DisputeOut, **PROBLEM_RESPONSES},
    summary="Decline the other side's proposal",
)
def proposal_decline(request: HttpRequest, dispute_id: int, proposal_id: int):
    services.proposal_decline(dispute_id=dispute_id, proposal_id=proposal_id, actor=request.auth)
    return _dispute(request, dispute_id)


@router.post(
    "/disputes/{dispute_id}/proposals/{proposal_id}/withdraw",
    response={200: DisputeOut, **PROBLEM_RESPONSES},
    summary="Withdraw your proposal",
)
def proposal_withdraw(request: HttpRequest, dispute_id: int, proposal_id: int):
    services.proposal_withdraw(dispute_id=dispute_id, proposal_id=proposal_id, actor=request.auth)
    return _dispute(request, dispute_id)


@router.post(
    "/disputes/{dispute_id}/escalate",
    response={200: DisputeOut, **PROBLEM_RESPONSES},
    summary="Ask an operator to decide (after an answer or a declined proposal)",
)
def dispute_escalate(request: HttpRequest, dispute_id: int, payload: EscalateIn):
    services.dispute_escalate(dispute_id=dispute_id, actor=request.auth, message=payload.message)
    return _dispute(request, dispute_id)


@router.post(
    "/disputes/{dispute_id}/decide",
    response={200: DisputeOut, **PROBLEM_RESPONSES},
    summary="Operators: decide a dispute (refund, release or split)",
    description="- **403** not an operator. **409** already resolved. **422** a split's "
    "`buyer_amount` must be more than 0 and less than what is held.",
)
def dispute_decide(request: HttpRequest, dispute_id: int, payload: DecideIn):
    services.dispute_decide(
        actor=request.auth,
        dispute_id=dispute_id,
        outcome=payload.outcome,
        buyer_amount=payload.buyer_amount,
        note=payload.note,
    )
    return _dispute(request, dispute_id)
