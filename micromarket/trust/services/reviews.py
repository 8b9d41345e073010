"""Writes of the reviews area: writing a review, the double-blind reveal, the subject's reply and
operators hiding a review (see docs/trust.md).

Publishing a review (``revealed_at``) always goes through ``_publish``: a conditional UPDATE on
the still-unrevealed row, so whichever path gets there first (the second review arriving, the
after-commit re-check, the sweeper) publishes it, exactly once, and only that path tells the
subject and refreshes the offer's rating in the search index.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from micromarket.catalog import services as catalog_services
from micromarket.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from micromarket.messaging import services as messaging_services
from micromarket.orders import selectors as order_selectors
from micromarket.trust.models import Review
from micromarket.trust.selectors import reviews as review_selectors
from micromarket.trust.services import moderation

TEXT_MAX = 5000
REPLY_MAX = 2000
REASON_MAX = 300
DETAILS = {
    "communication": "communication",
    "accuracy": "quality as described",
    "value": "value",
}


def _stars(value, *, field: str, label: str, required: bool = True) -> int | None:
    if value in (None, ""):
        if required:
            raise ValidationFailed(f"Rate the {label} from 1 to 5 stars.", field=field)
        return None
    if isinstance(value, bool):
        stars = 0
    elif isinstance(value, int):
        stars = value
    else:
        text = str(value).strip()
        stars = int(text) if text.isdigit() else 0
    if not 1 <= stars <= 5:
        raise ValidationFailed(f"Rate the {label} from 1 to 5 stars.", field=field)
    return stars


def _order_url(order_id: int) -> str:
    return reverse("orders:detail", args=[order_id])


def _refresh_offer(review: Review) -> None:
    """A buyer's review counts in its offer's rating: keep the search index's copy current."""
    if review.role != Review.Role.BUYER or review.offer_id is None:
        return
    rating, count = review_selectors.offer_ratings([review.offer_id])[review.offer_id]
    catalog_services.offer_reputation_set(
        offer_id=review.offer_id, rating=rating, rating_count=count
    )


def _publish(review_id: int, now: datetime) -> bool:
    """Reveal one review if nobody has yet (inside the caller's transaction); True if this call
    did it, and then the subject is told and the offer's rating refreshed."""
    if not Review.objects.filter(pk=review_id, revealed_at__isnull=True).update(revealed_at=now):
        return False
    review = Review.objects.select_related("author", "subject").get(pk=review_id)
    if review.hidden_at is None:
        side = "buyer" if review.role == Review.Role.BUYER else "seller"
        messaging_services.notification_send(
            user=review.subject,
            category="reviews",
            title=f"{review.author.display_name} reviewed you: {review.rating} of 5 stars",
            body=f"The {side}'s review of order {review.order_id} is now public.",
            url=_order_url(review.order_id),
            group_key=f"review:{review.pk}",
            now=now,
        )
        _refresh_offer(review)
    return True


def _reveal_order(order_id: int, now: datetime) -> int:
    """Both sides have written: publish both reviews (those not yet published)."""
    pending = list(Review.objects.filter(order_id=order_id).values_list("pk", "revealed_at"))
    if len(pending) < 2:
        return 0
    return sum(_publish(pk, now) for pk, revealed in pending if revealed is None)


def review_create(
    *,
    order_id: int,
    author,
    rating,
    text: str,
    communication=None,
    accuracy=None,
    value=None,
    now: datetime | None = None,
) -> Review:
    """The buyer's review of the seller (overall, communication, accuracy, value and text) or
    the seller's of the buyer (overall and text), once per side, on a completed order, within
    REVIEW_WINDOW of its closing. It stays hidden from everyone else until the other side has
    reviewed too, or the window ends.

    NotFound: not the order's party (operators are told PermissionDenied: they do not review).
    Conflict: not completed, the window has closed, or already reviewed. ValidationFailed: bad
    ratings or text."""
    now = now or timezone.now()
    order = order_selectors.order_for_user(order_id=order_id, user=author)
    role = order_selectors.order_role(order, author)
    if role not in ("buyer", "seller"):
        raise PermissionDenied("Only the buyer and the seller can review an order.")
    end = review_selectors.window_end(order)
    if end is None:
        raise Conflict("You can review an order once it is completed.", code="order_not_completed")
    if now >= end:
        raise Conflict(
            f"The review window closed on {timezone.localtime(end):%d %b %Y}.",
            code="review_window_closed",
        )
    fields = {"rating": _stars(rating, field="rating", label="overall experience")}
    is_buyer = role == "buyer"
    for name, label in DETAILS.items():
        given = {"communication": communication, "accuracy": accuracy, "value": value}[name]
        if is_buyer:
            fields[name] = _stars(given, field=name, label=label)
        elif given not in (None, ""):
            raise ValidationFailed(
                "Detailed ratings are for the buyer's review of the seller.", field=name
            )
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("Write a few words about how it went.", field="text")
    if len(text) > TEXT_MAX:
        raise ValidationFailed(f"Keep the review under {TEXT_MAX} characters.", field="text")
    if Review.objects.filter(order_id=order.pk, role=role).exists():
        raise Conflict("You have already reviewed this order.", code="already_reviewed")
    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint: a lost race leaves nothing behind
                review = Review.objects.create(
                    order_id=order.pk,
                    offer_id=order.offer_id,
                    author=author,
                    subject_id=order.seller_id if is_buyer else order.buyer_id,
                    role=role,
                    text=text,
                    created_at=now,
                    reveal_at=end,
                    **fields,
                )
        except IntegrityError:
            raise Conflict(
                "You have already reviewed this order.", code="already_reviewed"
            ) from None
        _reveal_order(order.pk, now)
        # Two reviews committed at the same moment do not see each other in their own
        # transactions; the one that commits last does see both right after its commit.
        transaction.on_commit(lambda: _reveal_after_commit(order.pk))
    review.refresh_from_db()
    return review


def _reveal_after_commit(order_id: int) -> None:
    with transaction.atomic():
        _reveal_order(order_id, timezone.now())


def reviews_reveal_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """The sweeper: publish reviews whose window has ended although the other side never wrote
    one. Each in its own transaction; returns how many this call published."""
    now = now or timezone.now()
    due = list(
        Review.objects.filter(revealed_at__isnull=True, reveal_at__lte=now)
        .order_by("reveal_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    published = 0
    for pk in due:
        with transaction.atomic():
            published += _publish(pk, now)
    return published


def review_reply(*, review_id: int, actor, text: str, now: datetime | None = None) -> Review:
    """The subject's one public reply to a public review. NotFound if ``actor`` may not see the
    review; PermissionDenied for anyone but its subject; Conflict if it is not public or already
    has a reply."""
    now = now or timezone.now()
    text = (text or "").strip()
    with transaction.atomic():
        review = (
            Review.objects.select_for_update(of=("self",))
            .select_related("author", "subject")
            .filter(pk=review_id)
            .first()
        )
        if review is None or not review_selectors.can_see(review, actor):
            raise NotFound("There is no such review.")
        if actor.pk != review.subject_id:
            raise PermissionDenied("Only the person reviewed can reply.", code="not_subject")
        if not review.is_public:
            raise Conflict("You can reply once the review is public.", code="review_not_public")
        if review.replied_at is not None:
            raise Conflict("You have already replied to this review.", code="already_replied")
        if not text:
            raise ValidationFailed("Write your reply.", field="text")
        if len(text) > REPLY_MAX:
            raise ValidationFailed(f"Keep the reply under {REPLY_MAX} characters.", field="text")
        review.reply, review.replied_at = text, now
        review.save(update_fields=["reply", "replied_at"])
        messaging_services.notification_send(
            user=review.author,
            category="reviews",
            title=f"{review.subject.display_name} replied to your review",
            body=text[:200],
            url=_order_url(review.order_id),
            group_key=f"review:{review.pk}:reply",
            now=now,
        )
    return review


def review_hide(*, review_id: int, actor, reason: str, now: datetime | None = None) -> Review:
    """An operator takes a review out of public view for a policy reason (its author is told,
    and still sees it with the reason); it no longer counts in any rating."""
    moderation.operator_required(actor)
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say which policy the review breaks.", field="reason")
    if len(reason) > REASON_MAX:
        raise ValidationFailed(f"Keep the reason under {REASON_MAX} characters.", field="reason")
    with transaction.atomic():
        review = _locked(review_id)
        if review.hidden_at is not None:
            raise Conflict("This review is already hidden.", code="already_hidden")
        review.hidden_at, review.hidden_reason, review.hidden_by = now, reason, actor
        review.save(update_fields=["hidden_at", "hidden_reason", "hidden_by"])
        moderation.audit_record(
            actor=actor,
            action="review_hide",
            target_kind="review",
            target_id=review.pk,
            target_user=review.author,
            reason=reason,
            data={"order_id": review.order_id, "subject_id": review.subject_id},
            now=now,
        )
        messaging_services.notification_send(
            user=review.author,
            category="account",
            title="We have hidden one of your reviews",
            body=f"Your review of order {review.order_id} is hidden from others: {reason}",
            url=_order_url(review.order_id),
            now=now,
        )
        _refresh_offer(review)
    return review


def review_unhide(*, review_id: int, actor, reason: str, now: datetime | None = None) -> Review:
    """An operator puts a hidden review back (e.g. after the author's appeal)."""
    moderation.operator_required(actor)
    now = now or timezone.now()
    with transaction.atomic():
        review = _locked(review_id)
        if review.hidden_at is None:
            raise Conflict("This review is not hidden.", code="not_hidden")
        moderation.audit_record(
            actor=actor,
            action="review_unhide",
            target_kind="review",
            target_id=review.pk,
            target_user=review.author,
            reason=reason,
            data={"hidden_reason": review.hidden_reason, "order_id": review.order_id},
            now=now,
        )
        review.hidden_at, review.hidden_reason, review.hidden_by = None, "", None
        review.save(update_fields=["hidden_at", "hidden_reason", "hidden_by"])
        messaging_services.notification_send(
            user=review.author,
            category="account",
            title="Your review is visible again",
            body=f"Your review of order {review.order_id} is shown again.",
            url=_order_url(review.order_id),
            now=now,
        )
        _refresh_offer(review)
    return review


def _locked(review_id: int) -> Review:
    review = (
        Review.objects.select_for_update(of=("self",))
        .select_related("author")
        .filter(pk=review_id)
        .first()
    )
    if review is None:
        raise NotFound("There is no such review.")
    return review
