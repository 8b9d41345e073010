"""Reads of the reviews area: who may see which review, reputations and ratings (see
docs/trust.md).

``role`` in ``reputation``, ``public_reviews`` and ``rating_since`` is the *subject's* side: a
user's reputation as a seller is built from the reviews buyers wrote of them (``Review.role ==
"buyer"``, the author's side), and the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.utils import timezone

from micromarket.accounts import selectors as accounts_selectors
from micromarket.core.errors import NotFound, ValidationFailed
from micromarket.orders import selectors as order_selectors
from micromarket.trust.models import Review

# The two parties may review during this long after the order closed; then unrevealed
# reviews are published by the sweeper (``services.reviews.reviews_reveal_due``).
REVIEW_WINDOW = timedelta(days=14)

# Bayesian average: every rating starts from REPUTATION_PRIOR_WEIGHT pseudo-reviews of
# REPUTATION_PRIOR_MEAN stars, so a handful of reviews cannot outrank a long record:
# rating = (C·m + Σ ratings) / (C + n). One 5★ review gives ≈4.58; two hundred of 4.9★ ≈4.89.
REPUTATION_PRIOR_MEAN = 4.5
REPUTATION_PRIOR_WEIGHT = 5

# Trend: the average of the last TREND_PERIOD against the TREND_PERIOD before it, shown only
# when both periods hold TREND_MIN_REVIEWS and the averages differ by TREND_MIN_CHANGE.
TREND_PERIOD = timedelta(days=90)
TREND_MIN_REVIEWS = 3
TREND_MIN_CHANGE = 0.1

ROLES = ("seller", "buyer")
# The subject's side → the side of the reviews written of them.
AUTHOR_SIDE = {"seller": Review.Role.BUYER, "buyer": Review.Role.SELLER}


def _role(role: str) -> str:
    if role not in ROLES:
        raise ValidationFailed("Choose the seller or the buyer side.", field="role")
    return role


def bayesian(total: int, count: int) -> float | None:
    """The Bayesian average of ``count`` ratings summing to ``total`` (None without ratings)."""
    if not count:
        return None
    return (REPUTATION_PRIOR_WEIGHT * REPUTATION_PRIOR_MEAN + total) / (
        REPUTATION_PRIOR_WEIGHT + count
    )


def _public() -> QuerySet[Review]:
    return Review.objects.filter(revealed_at__isnull=False, hidden_at__isnull=True)


def public_reviews(*, subject_id: int, role: str) -> QuerySet[Review]:
    """Published, not hidden reviews of ``subject_id`` as ``role`` ("seller": by buyers), newest
    first."""
    return (
        _public()
        .filter(subject_id=subject_id, role=AUTHOR_SIDE[_role(role)])
        .select_related("author", "subject", "offer")
        .order_by("-revealed_at", "-id")
    )


def offer_reviews(*, offer_id: int) -> QuerySet[Review]:
    """The offer's public reviews by buyers, newest first."""
    return (
        _public()
        .filter(offer_id=offer_id, role=Review.Role.BUYER)
        .select_related("author", "subject")
        .order_by("-revealed_at", "-id")
    )


def reviews_list(
    *, user_id: int | None = None, role: str | None = None, offer_id: int | None = None
) -> QuerySet[Review]:
    """Public reviews filtered by subject (and side) and/or offer (the API's list)."""
    reviews = _public().select_related("author", "subject", "offer").order_by("-revealed_at", "-id")
    if user_id is not None:
        reviews = reviews.filter(subject_id=user_id)
    if role is not None:
        reviews = reviews.filter(role=AUTHOR_SIDE[_role(role)])
    if offer_id is not None:  # a listing's reviews are its buyers'
        reviews = reviews.filter(offer_id=offer_id, role=Review.Role.BUYER)
    return reviews


# --- reputation -------------------------------------------------------------------------------


@dataclass
class Reputation:
    rating: float | None  # Bayesian average (what ranks and what is shown first)
    average: float | None  # plain average
    count: int
    recent_average: float | None  # the last TREND_PERIOD
    recent_count: int
    trend: str | None  # "up", "down", "steady" or None (too few reviews to tell)
    distribution: dict[int, int] = field(default_factory=dict)  # stars → reviews

    @property
    def rounded(self) -> float | None:
        return None if self.rating is None else round(self.rating, 1)


def _summary(reviews: QuerySet[Review], now: datetime) -> Reputation:
    """One aggregate query over public ``reviews``: counts, sums, stars and the two periods."""
    recent = Q(revealed_at__gt=now - TREND_PERIOD)
    before = Q(revealed_at__gt=now - 2 * TREND_PERIOD, revealed_at__lte=now - TREND_PERIOD)
    figures = reviews.aggregate(
        n=Count("id"),
        total=Sum("rating"),
        recent_n=Count("id", filter=recent),
        recent_total=Sum("rating", filter=recent),
        before_n=Count("id", filter=before),
        before_total=Sum("rating", filter=before),
        **{f"s{stars}": Count("id", filter=Q(rating=stars)) for stars in range(1, 6)},
    )
    n, total = figures["n"], figures["total"] or 0
    recent_n, before_n = figures["recent_n"], figures["before_n"]
    recent_avg = (figures["recent_total"] or 0) / recent_n if recent_n else None
    before_avg = (figures["before_total"] or 0) / before_n if before_n else None
    trend = None
    if recent_n >= TREND_MIN_REVIEWS and before_n >= TREND_MIN_REVIEWS:
        change = recent_avg - before_avg
        if abs(change) < TREND_MIN_CHANGE - 1e-9:
            trend = "steady"
        else:
            trend = "up" if change > 0 else "down"
    return Reputation(
        rating=bayesian(total, n),
        average=total / n if n else None,
        count=n,
        recent_average=recent_avg,
        recent_count=recent_n,
        trend=trend,
        distribution={stars: figures[f"s{stars}"] for stars in range(5, 0, -1)},
    )


def reputation(*, user, role: str = "seller", now: datetime | None = None) -> Reputation:
    """``user``'s reputation as a seller (from buyers' reviews) or a buyer (from sellers')."""
    user_id = getattr(user, "pk", user)
    return _summary(public_reviews(subject_id=user_id, role=role), now or timezone.now())


def offer_reputation(*, offer_id: int, now: datetime | None = None) -> Reputation:
    """The offer's rating from its buyers' public reviews."""
    return _summary(offer_reviews(offer_id=offer_id), now or timezone.now())


def offer_ratings(offer_ids: list[int]) -> dict[int, tuple[float | None, int]]:
    """Bayesian rating and count per offer, for the search index ((None, 0) without reviews)."""
    ratings: dict[int, tuple[float | None, int]] = {int(i): (None, 0) for i in offer_ids}
    rows = (
        _public()
        .filter(offer_id__in=list(ratings), role=Review.Role.BUYER)
        .values("offer_id")
        .annotate(n=Count("id"), total=Sum("rating"))
    )
    for row in rows:
        ratings[row["offer_id"]] = (bayesian(row["total"], row["n"]), row["n"])
    return ratings


def rating_since(*, seller_id: int, since: datetime) -> tuple[float | None, int]:
    """Plain average and count of the seller's public reviews published since ``since``."""
    figures = (
        public_reviews(subject_id=seller_id, role="seller")
        .filter(revealed_at__gte=since)
        .aggregate(avg=Avg("rating"), n=Count("id"))
    )
    return (float(figures["avg"]) if figures["avg"] is not None else None, figures["n"])


# --- one review, for a viewer -----------------------------------------------------------------


def can_see(review: Review, user) -> bool:
    """Its author always (a hidden one with its reason); operators always; everyone else only
    once it is public."""
    if getattr(user, "is_authenticated", False) and (user.pk == review.author_id or user.is_staff):
        return True
    return review.is_public


def review_for_user(*, review_id: int, user) -> Review:
    """The review if ``user`` may see it; NotFound otherwise (its existence does not leak)."""
    review = (
        Review.objects.select_related("author", "subject", "offer", "order")
        .filter(pk=review_id)
        .first()
    )
    if review is None or not can_see(review, user):
        raise NotFound("There is no such review.")
    return review


def reviews_written(*, user) -> QuerySet[Review]:
    return (
        Review.objects.filter(author=user)
        .select_related("subject", "offer", "order")
        .order_by("-created_at", "-id")
    )


def reviews_received(*, user) -> QuerySet[Review]:
    """Public reviews of ``user``, either side."""
    return (
        _public()
        .filter(subject=user)
        .select_related("author", "offer", "order")
        .order_by("-revealed_at", "-id")
    )


# --- orders and reviews -----------------------------------------------------------------------


def window_end(order) -> datetime | None:
    """When the order's review window closes (None: the order is not completed)."""
    if order.state != "completed" or order.closed_at is None:
        return None
    return order.closed_at + REVIEW_WINDOW


def orders_to_review(*, user, now: datetime | None = None) -> list:
    """Completed orders whose review window is open and that ``user`` has not reviewed yet,
    soonest-closing first; each with ``review_role`` ("buyer"/"seller") and ``review_until``."""
    if not getattr(user, "is_authenticated", False):
        return []
    now = now or timezone.now()
    orders = []
    for role in ROLES:
        rows = (
            order_selectors.orders_for_user(user=user, role=role, state="completed")
            .filter(closed_at__gt=now - REVIEW_WINDOW)
            .exclude(reviews__role=role)
        )
        for order in rows:
            order.review_role = role
            order.review_until = order.closed_at + REVIEW_WINDOW
            orders.append(order)
    orders.sort(key=lambda o: (o.review_until, o.pk))
    return orders


@dataclass
class OrderReviews:
    """What the order page shows about reviews to one of its parties."""

    role: str
    may_review: bool
    window_end: datetime | None
    mine: Review | None
    theirs: Review | None  # the other side's review, once public (or hidden: None)
    theirs_waiting: bool  # the other side has written one that is not public yet
    other_reputation: Reputation | None = None  # the buyer's, for the seller
    to_review_count: int = 0


def order_reviews(*, order, user, now: datetime | None = None) -> OrderReviews | None:
    """Reviews on the order as its buyer or seller sees them (None for anyone else)."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.pk == order.buyer_id:
        role = "buyer"
    elif user.pk == order.seller_id:
        role = "seller"
    else:
        return None
    now = now or timezone.now()
    reviews = {r.role: r for r in Review.objects.filter(order_id=order.pk)}
    mine = reviews.get(role)
    other = reviews.get("seller" if role == "buyer" else "buyer")
    end = window_end(order)
    return OrderReviews(
        role=role,
        may_review=mine is None and end is not None and now < end,
        window_end=end,
        mine=mine,
        theirs=other if other is not None and other.is_public else None,
        theirs_waiting=other is not None and other.revealed_at is None,
        other_reputation=(
            reputation(user=order.buyer_id, role="buyer", now=now) if role == "seller" else None
        ),
        to_review_count=len(orders_to_review(user=user, now=now)),
    )


def person_get(*, user_id: int):
    """An active, not deleted user for their public page; NotFound otherwise."""
    person = accounts_selectors.user_get_active(user_id=user_id)
    if person is None:
        raise NotFound("There is no such person.")
    return person
