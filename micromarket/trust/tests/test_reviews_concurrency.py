"""Reviews racing each other on PostgreSQL: both sides at the same moment, one side twice, and
sweeper workers publishing the same review. Each thread has its own connection."""

from __future__ import annotations

import pytest

from micromarket.catalog.tests import factories as catalog_factories
from micromarket.core.errors import Conflict
from micromarket.core.tests.concurrency import race
from micromarket.messaging.models import Notification
from micromarket.trust.models import Review
from micromarket.trust.selectors import reviews as selectors
from micromarket.trust.services import reviews as services
from micromarket.trust.tests.factories import completed_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _categories():
    catalog_factories.seed_categories()


def buyer_review(order, text="Fast and careful work."):
    return services.review_create(
        order_id=order.pk,
        author=order.buyer,
        rating=5,
        communication=5,
        accuracy=4,
        value=5,
        text=text,
    )


def seller_review(order):
    return services.review_create(
        order_id=order.pk, author=order.seller, rating=4, text="Clear brief."
    )


def test_two_reviews_at_the_same_moment_are_both_published():
    order = completed_order()
    outcomes = race(2, lambda i: (buyer_review if i == 0 else seller_review)(order))
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert Review.objects.filter(order=order, revealed_at__isnull=False).count() == 2
    assert Notification.objects.filter(user=order.seller, category="reviews").count() == 1
    assert Notification.objects.filter(user=order.buyer, category="reviews").count() == 1


def test_the_same_side_twice_at_the_same_moment_writes_one_review():
    order = completed_order()
    outcomes = race(4, lambda i: buyer_review(order, text=f"Attempt {i}"))
    assert sum(isinstance(o, Review) for o in outcomes) == 1, outcomes
    assert all(isinstance(o, (Review, Conflict)) for o in outcomes), outcomes
    assert Review.objects.filter(order=order).count() == 1


def test_sweepers_racing_publish_each_review_once():
    order = completed_order()
    buyer_review(order)
    end = order.closed_at + selectors.REVIEW_WINDOW
    outcomes = race(3, lambda i: services.reviews_reveal_due(now=end))
    assert sorted(outcomes) == [0, 0, 1]
    assert Notification.objects.filter(user=order.seller, category="reviews").count() == 1
