"""API of the levels area: a user's level (public; the seller themselves also gets figures and
what is missing), the published thresholds, and a seller's appeals. See docs/trust.md."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status
from ninja.pagination import paginate

from micromarket.accounts.auth import optional_api_auth
from micromarket.core.api import PROBLEM_RESPONSES, LimitOffsetPage
from micromarket.trust.schemas.levels import (
    AppealIn,
    AppealOut,
    ThresholdOut,
    UserLevelOut,
)
from micromarket.trust.selectors import levels as selectors
from micromarket.trust.services import levels as services

router = Router(tags=["trust"])


def _progress(seller) -> dict:
    progress = selectors.progress_for(seller=seller)
    evaluation = progress.evaluation
    nxt = evaluation.next_level
    return {
        "computed_at": progress.computed_at,
        "figures": progress.figures.as_dict(),
        "next_level": nxt.level if nxt else None,
        "missing": nxt.missing if nxt else [],
        "levels": [
            {
                "level": lc.level,
                "label": lc.label,
                "met": lc.met,
                "checks": [c.__dict__ for c in lc.checks],
            }
            for lc in evaluation.levels
        ],
    }


@router.get(
    "/users/{user_id}/level",
    response={200: UserLevelOut, **PROBLEM_RESPONSES},
    auth=optional_api_auth,
    summary="A seller's level",
    description="Public: the level and its label. The seller themselves also gets the figures "
    "it was computed from and what is missing for the next level. **404** for anyone who is "
    "not an active seller.",
)
def user_level(request: HttpRequest, user_id: int):
    seller = selectors.seller_get_public(seller_id=user_id)
    standing = selectors.standing_for(seller_id=seller.pk)
    body = {"user_id": seller.pk, "level": standing.level, "label": standing.label}
    if getattr(request.auth, "pk", None) == seller.pk:
        body["progress"] = _progress(seller)
    return body


@router.get(
    "/levels",
    response=list[ThresholdOut],
    auth=optional_api_auth,
    summary="The published level thresholds",
)
def levels_list(request: HttpRequest):
    return [{**t.as_dict(), "label": t.label} for t in selectors.thresholds()]


@router.post(
    "/levels/appeals",
    response={201: AppealOut, **PROBLEM_RESPONSES},
    summary="Appeal your level (sellers; one open appeal at a time)",
    description="- **201** the appeal, sent to the operators.\n"
    "- **403** `not_a_seller`.\n- **409** `appeal_open` — one is already waiting.\n"
    "- **422** the message is too short or too long.",
)
def appeal_create(request: HttpRequest, payload: AppealIn):
    appeal = services.level_appeal_create(seller=request.auth, message=payload.message)
    return Status(201, appeal)


@router.get("/levels/appeals", response=list[AppealOut], summary="Your level appeals")
@paginate(LimitOffsetPage)
def appeals_list(request: HttpRequest):
    return selectors.appeals_for_seller(seller=request.auth)


@router.get(
    "/levels/appeals/{appeal_id}",
    response={200: AppealOut, **PROBLEM_RESPONSES},
    summary="One of your level appeals",
)
def appeal_get(request: HttpRequest, appeal_id: int):
    return selectors.appeal_for_user(appeal_id=appeal_id, user=request.auth)
