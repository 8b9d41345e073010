"""API of the reviews area (see docs/trust.md). Endpoints validate, call one service or
selector, serialise.

- ``POST /orders/{id}/reviews`` writes the caller's review of a completed order (buyer or
  seller side, from who the caller is).
- ``GET /reviews`` lists public reviews (by subject and side, or by listing), without signing in.
- ``GET /reviews/{id}``: a public review, or your own in any state; anything else is 404.
- ``POST /reviews/{id}/reply``: the subject's one public reply.
- ``GET /users/{id}/reputation``: seller and buyer reputation, and the seller level.
"""

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.pagination import paginate

from micromarket.accounts import selectors as accounts_selectors
from micromarket.accounts.auth import optional_api_auth
from micromarket.core.api import PROBLEM_RESPONSES, LimitOffsetPage
from micromarket.trust.schemas.reviews import (
    ReplyIn,
    ReviewIn,
    ReviewOut,
    ReviewsQuery,
    UserReputationOut,
)
from micromarket.trust.selectors import levels as level_selectors
from micromarket.trust.selectors import reviews as selectors
from micromarket.trust.services import reviews as services

router = Router(tags=["trust"])


def _person(user) -> dict:
    return {"id": user.pk, "display_name": user.display_name}


def _review(review, viewer) -> dict:
    mine = getattr(viewer, "pk", None) == review.author_id
    return {
        "id": review.pk,
        "order_id": review.order_id,
        "offer_id": review.offer_id,
        "role": review.role,
        "author": _person(review.author),
        "subject": _person(review.subject),
        "rating": review.rating,
        "communication": review.communication,
        "accuracy": review.accuracy,
        "value": review.value,
        "text": review.text,
        "created_at": review.created_at,
        "reveal_at": review.reveal_at,
        "revealed_at": review.revealed_at,
        "reply": review.reply,
        "replied_at": review.replied_at,
        "hidden": review.hidden_at is not None,
        "hidden_reason": review.hidden_reason if mine and review.hidden_at else None,
    }


def _reputation(rep) -> dict:
    return {
        "rating": rep.rating,
        "average": rep.average,
        "count": rep.count,
        "recent_average": rep.recent_average,
        "recent_count": rep.recent_count,
        "trend": rep.trend,
        "distribution": rep.distribution,
    }


class _Serialised:
    """A queryset that paginates lazily and serialises only the page."""

    def __init__(self, queryset, viewer):
        self.queryset, self.viewer = queryset, viewer

    def __len__(self) -> int:
        return self.queryset.count()

    def __getitem__(self, window: slice) -> list[dict]:
        return [_review(r, self.viewer) for r in self.queryset[window]]


@router.post(
    "/orders/{order_id}/reviews",
    response={201: ReviewOut, **PROBLEM_RESPONSES},
    summary="Review a completed order (buyer: the seller; seller: the buyer)",
)
def review_create(request: HttpRequest, order_id: int, payload: ReviewIn):
    review = services.review_create(order_id=order_id, author=request.auth, **payload.dict())
    return Status(
        201,
        _review(selectors.review_for_user(review_id=review.pk, user=request.auth), request.auth),
    )


@router.get(
    "/reviews",
    response={200: list[ReviewOut], **PROBLEM_RESPONSES},
    auth=optional_api_auth,
    summary="Public reviews, newest first (of a person on one side, or of a listing)",
)
@paginate(LimitOffsetPage)
def reviews_list(request: HttpRequest, filters: Query[ReviewsQuery]):
    reviews = selectors.reviews_list(
        user_id=filters.user_id, role=filters.role, offer_id=filters.offer_id
    )
    return _Serialised(reviews, request.auth)


@router.get(
    "/reviews/{review_id}",
    response={200: ReviewOut, **PROBLEM_RESPONSES},
    auth=optional_api_auth,
    summary="One review: public ones, or your own",
)
def review_get(request: HttpRequest, review_id: int):
    return _review(selectors.review_for_user(review_id=review_id, user=request.auth), request.auth)


@router.post(
    "/reviews/{review_id}/reply",
    response={200: ReviewOut, **PROBLEM_RESPONSES},
    summary="Reply publicly to a review of you (once)",
)
def review_reply(request: HttpRequest, review_id: int, payload: ReplyIn):
    review = services.review_reply(review_id=review_id, actor=request.auth, text=payload.text)
    return _review(selectors.review_for_user(review_id=review.pk, user=request.auth), request.auth)


@router.get(
    "/users/{user_id}/reputation",
    response={200: UserReputationOut, **PROBLEM_RESPONSES},
    auth=optional_api_auth,
    summary="A person's reputation as a seller and as a buyer, and their seller level",
)
def user_reputation(request: HttpRequest, user_id: int):
    person = selectors.person_get(user_id=user_id)
    level = None
    if accounts_selectors.shop_for_user(user=person) is not None:
        standing = level_selectors.standing_for(seller_id=person.pk)
        level = {"level": standing.level, "label": standing.label}
    return {
        "user_id": person.pk,
        "display_name": person.display_name,
        "seller": _reputation(selectors.reputation(user=person, role="seller")),
        "buyer": _reputation(selectors.reputation(user=person, role="buyer")),
        "level": level,
    }
