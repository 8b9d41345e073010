"""Reviews: who may review what and when, the double-blind reveal, replies, hiding, reputation."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from micromarket.accounts.tests.factories import UserFactory
from micromarket.catalog.search_models import OfferSearch
from micromarket.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from micromarket.messaging.models import Notification
from micromarket.trust.models import AuditEntry, Review
from micromarket.trust.selectors import reviews as selectors
from micromarket.trust.services import reviews as services
from micromarket.trust.tests.factories import completed_order, delivered_order

pytestmark = pytest.mark.django_db


def buyer_review(order, now=None, **overrides):
    data = dict(rating=5, communication=5, accuracy=4, value=5, text="Fast and careful work.")
    data.update(overrides)
    return services.review_create(order_id=order.pk, author=order.buyer, now=now, **data)


def seller_review(order, now=None, **overrides):
    data = dict(rating=4, text="Clear brief, paid on time.")
    data.update(overrides)
    return services.review_create(order_id=order.pk, author=order.seller, now=now, **data)


# --- who may review ---------------------------------------------------------------------------


def test_an_order_that_is_not_completed_cannot_be_reviewed():
    order = delivered_order()
    with pytest.raises(Conflict) as err:
        buyer_review(order)
    assert err.value.code == "order_not_completed"
    assert not Review.objects.exists()


def test_a_stranger_cannot_review_someone_elses_order():
    order = completed_order()
    with pytest.raises(NotFound):
        services.review_create(
            order_id=order.pk,
            author=UserFactory(),
            rating=1,
            text="Never bought it.",
            communication=1,
            accuracy=1,
            value=1,
        )
    assert not Review.objects.exists()


def test_an_operator_does_not_review():
    order = completed_order()
    with pytest.raises(PermissionDenied):
        services.review_create(
            order_id=order.pk, author=UserFactory(operator=True), rating=3, text="Hm."
        )
    assert not Review.objects.exists()


def test_each_side_reviews_once():
    order = completed_order()
    buyer_review(order)
    with pytest.raises(Conflict) as err:
        buyer_review(order, rating=1, text="Changed my mind.")
    assert err.value.code == "already_reviewed"
    assert Review.objects.get().rating == 5


def test_the_buyer_must_give_every_detailed_rating_and_a_text():
    order = completed_order()
    with pytest.raises(ValidationFailed) as err:
        buyer_review(order, value=None)
    assert err.value.field == "value"
    with pytest.raises(ValidationFailed) as err:
        buyer_review(order, accuracy=6)
    assert err.value.field == "accuracy"
    with pytest.raises(ValidationFailed) as err:
        buyer_review(order, text="   ")
    assert err.value.field == "text"
    with pytest.raises(ValidationFailed) as err:
        buyer_review(order, text="x" * 5001)
    assert err.value.field == "text"
    assert not Review.objects.exists()


def test_the_seller_rates_the_buyer_overall_only():
    order = completed_order()
    with pytest.raises(ValidationFailed) as err:
        seller_review(order, communication=5)
    assert err.value.field == "communication"
    review = seller_review(order)
    assert review.subject == order.buyer
    assert review.role == "seller"
    assert review.communication is None


def test_no_review_after_the_window_closes():
    order = completed_order()
    closes = order.closed_at + selectors.REVIEW_WINDOW
    with pytest.raises(Conflict) as err:
        buyer_review(order, now=closes)
    assert err.value.code == "review_window_closed"
    assert not Review.objects.exists()
    assert selectors.orders_to_review(user=order.buyer, now=closes) == []
    # A second before, it was still open.
    assert buyer_review(order, now=closes - timedelta(seconds=1))


# --- the double-blind reveal ------------------------------------------------------------------


def test_a_review_stays_hidden_from_the_other_side_until_both_are_in():
    order = completed_order()
    with time_machine.travel(order.closed_at + timedelta(days=1), tick=False):
        mine = buyer_review(order)
        assert mine.revealed_at is None
        with pytest.raises(NotFound):
            selectors.review_for_user(review_id=mine.pk, user=order.seller)
        assert selectors.review_for_user(review_id=mine.pk, user=order.buyer) == mine
        seller_panel = selectors.order_reviews(order=order, user=order.seller)
        assert seller_panel.theirs is None
        assert seller_panel.theirs_waiting
        assert selectors.reputation(user=order.seller).count == 0
    with time_machine.travel(order.closed_at + timedelta(days=3), tick=False):
        theirs = seller_review(order)
        mine.refresh_from_db()
        assert mine.revealed_at == theirs.revealed_at == timezone.now()
        assert selectors.review_for_user(review_id=mine.pk, user=order.seller) == mine
        assert selectors.review_for_user(review_id=theirs.pk, user=UserFactory()) == theirs
        assert selectors.reputation(user=order.seller).count == 1
    # Each subject was told once.
    assert Notification.objects.filter(user=order.seller, category="reviews").count() == 1
    assert Notification.objects.filter(user=order.buyer, category="reviews").count() == 1


def test_the_sweeper_reveals_a_lone_review_at_the_end_of_the_window_exactly_once():
    order = completed_order()
    review = buyer_review(order, now=order.closed_at + timedelta(days=2))
    end = order.closed_at + timedelta(days=14)
    assert services.reviews_reveal_due(now=end - timedelta(seconds=1)) == 0
    assert services.reviews_reveal_due(now=end) == 1
    assert services.reviews_reveal_due(now=end + timedelta(minutes=5)) == 0
    review.refresh_from_db()
    assert review.revealed_at == end
    assert Notification.objects.filter(user=order.seller, category="reviews").count() == 1
    # The offer's rating reached the search index.
    rating, count = selectors.offer_ratings([order.offer_id])[order.offer_id]
    assert count == 1
    assert rating == pytest.approx((5 * 4.5 + 5) / 6)
    row = (
        OfferSearch.objects.filter(offer_id=order.offer_id).values("rating", "rating_count").first()
    )
    assert row["rating_count"] == 1
    assert row["rating"] == pytest.approx(rating)


# --- replies -----------------------------------------------------------------------------------


def test_only_the_subject_replies_and_only_once():
    order = completed_order()
    review = buyer_review(order)
    seller_review(order)  # both in: public
    with pytest.raises(PermissionDenied):
        services.review_reply(review_id=review.pk, actor=order.buyer, text="Me again")
    with pytest.raises(PermissionDenied):
        services.review_reply(review_id=review.pk, actor=UserFactory(), text="Hi")
    services.review_reply(review_id=review.pk, actor=order.seller, text="Thank you!")
    with pytest.raises(Conflict):
        services.review_reply(review_id=review.pk, actor=order.seller, text="And again")
    review.refresh_from_db()
    assert review.reply == "Thank you!"
    assert Notification.objects.filter(
        user=order.buyer, category="reviews", title__contains="replied"
    ).exists()


def test_no_reply_to_a_review_that_is_not_public():
    order = completed_order()
    review = buyer_review(order)
    with pytest.raises(NotFound):  # the seller cannot see it yet
        services.review_reply(review_id=review.pk, actor=order.seller, text="Thanks")
    review.refresh_from_db()
    assert review.reply == ""
    assert review.replied_at is None


# --- hiding -------------------------------------------------------------------------------------


def test_hiding_is_for_operators_only_and_is_audited():
    order = completed_order()
    review = buyer_review(order)
    seller_review(order)
    for someone in (order.seller, order.buyer, UserFactory()):
        with pytest.raises(PermissionDenied):
            services.review_hide(review_id=review.pk, actor=someone, reason="I dislike it")
    review.refresh_from_db()
    assert review.hidden_at is None
    assert not AuditEntry.objects.exists()
    assert selectors.reputation(user=order.seller).count == 1

    operator = UserFactory(operator=True)
    services.review_hide(review_id=review.pk, actor=operator, reason="Personal information")
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target_id, entry.actor) == ("review_hide", review.pk, operator)
    assert selectors.reputation(user=order.seller).count == 0
    assert selectors.offer_ratings([order.offer_id])[order.offer_id] == (None, 0)
    assert not selectors.public_reviews(subject_id=order.seller_id, role="seller").exists()
    # Its author still sees it, with the reason; others do not.
    mine = selectors.review_for_user(review_id=review.pk, user=order.buyer)
    assert mine.hidden_reason == "Personal information"
    with pytest.raises(NotFound):
        selectors.review_for_user(review_id=review.pk, user=order.seller)
    assert Notification.objects.filter(user=order.buyer, category="account").exists()

    services.review_unhide(review_id=review.pk, actor=operator, reason="Appeal accepted")
    assert selectors.reputation(user=order.seller).count == 1
    assert AuditEntry.objects.filter(action="review_unhide").exists()


# --- reputation -------------------------------------------------------------------------------


def test_bayesian_one_five_star_review_does_not_outrank_two_hundred_at_four_point_nine():
    assert selectors.bayesian(5, 1) == pytest.approx(4.583, abs=1e-3)
    assert selectors.bayesian(0, 0) is None
    assert selectors.bayesian(980, 200) == pytest.approx(4.890, abs=1e-3)
    assert selectors.bayesian(980, 200) > selectors.bayesian(5, 1)


def test_reputation_figures_and_trend(django_assert_max_num_queries):
    now = timezone.now()
    order = completed_order()
    seller = order.seller
    stars_and_age = [(5, 10), (5, 20), (4, 30), (3, 100), (3, 120), (4, 130)]
    _bulk(order, seller, [(stars, now - timedelta(days=days)) for stars, days in stars_and_age])
    with django_assert_max_num_queries(1):
        rep = selectors.reputation(user=seller, role="seller", now=now)
    assert rep.count == 6
    assert rep.average == pytest.approx(24 / 6)
    assert rep.rating == pytest.approx((5 * 4.5 + 24) / 11)
    assert rep.recent_count == 3
    assert rep.recent_average == pytest.approx(14 / 3)
    assert rep.trend == "up"
    assert rep.distribution == {5: 2, 4: 2, 3: 2, 2: 0, 1: 0}
    assert selectors.reputation(user=seller, role="buyer", now=now).count == 0
    assert selectors.rating_since(seller_id=seller.pk, since=now - timedelta(days=90)) == (
        pytest.approx(14 / 3),
        3,
    )


def _bulk(order, subject, rows):
    """Public reviews built directly, for numbers rather than flows: each on its own copy of
    ``order`` (test data only), as one review per side and order is the rule."""
    reviews = []
    for stars, when in rows:
        copy = type(order).objects.get(pk=order.pk)
        copy.pk = None
        copy.save()
        reviews.append(
            Review(
                order=copy,
                offer_id=order.offer_id,
                author=order.buyer,
                subject=subject,
                role="buyer",
                rating=stars,
                text="ok",
                reveal_at=when,
                revealed_at=when,
                created_at=when,
            )
        )
    Review.objects.bulk_create(reviews)


def test_two_hundred_good_reviews_outrank_one_perfect_one():
    now = timezone.now()
    big, small = completed_order(), completed_order()
    _bulk(big, big.seller, [(5, now)] * 180 + [(4, now)] * 20)  # average 4.9
    _bulk(small, small.seller, [(5, now)])
    many = selectors.reputation(user=big.seller, now=now)
    one = selectors.reputation(user=small.seller, now=now)
    assert many.average == pytest.approx(4.9)
    assert one.average == 5
    assert many.rating == pytest.approx(4.890, abs=1e-3)
    assert one.rating == pytest.approx(4.583, abs=1e-3)
    assert many.rating > one.rating
    ratings = selectors.offer_ratings([big.offer_id, small.offer_id])
    assert ratings[big.offer_id][0] > ratings[small.offer_id][0]


def test_the_after_commit_recheck_publishes_nothing_twice(django_capture_on_commit_callbacks):
    order = completed_order()
    with django_capture_on_commit_callbacks(execute=True):
        buyer_review(order)
    with django_capture_on_commit_callbacks(execute=True):
        seller_review(order)
    assert Review.objects.filter(revealed_at__isnull=True).count() == 0
    assert Notification.objects.filter(user=order.seller, category="reviews").count() == 1
    assert Notification.objects.filter(user=order.buyer, category="reviews").count() == 1
