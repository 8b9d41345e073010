"""Demo reviews, written through the real services on the orders demo's completed gig (alex
bought a bug fix from kwame): both sides review it, so both reviews are public, and kwame
replies. A second, new order (ravi buys priya's Notion planner, a digital order that completes
by itself) gets the buyer's review only, so it stays hidden from everyone but ravi until priya
reviews too or the window ends."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from micromarket.catalog import selectors as catalog_selectors
from micromarket.core.errors import DomainError
from micromarket.orders import selectors as order_selectors
from micromarket.orders import services as order_services
from micromarket.trust.selectors import reviews as review_selectors
from micromarket.trust.services import reviews as review_services

DOMAIN = "demo.micromarket.test"
CARD = "4242424242424242"  # the sandbox card that always succeeds
GIG = "I will fix bugs in your Django or Flask project"
DIGITAL = "Freelancer budget planner for Notion"
PLACED_AGO = timedelta(days=4)


def _user(name: str):
    return get_user_model().objects.filter(email=f"{name}@{DOMAIN}").first()


def _completed(buyer, seller):
    return (
        order_selectors.orders_for_user(user=buyer, role="buyer", state="completed")
        .filter(seller=seller, offer__title=GIG)
        .first()
    )


def _second_order(buyer, seller, now):
    """ravi's own digital order from priya, placed four days ago: it is delivered at once and
    completes by itself three days later (the deadlines are applied at their own times, so it
    closed a day ago). A digital order, so the orders demo keeps its one completed gig."""
    offer = (
        catalog_selectors.offers_for_seller(seller=seller, status="active")
        .filter(title=DIGITAL)
        .first()
    )
    if offer is None:
        return None
    checkout = order_services.checkout_place(
        buyer=buyer,
        items=[{"offer": offer.pk}],
        payment_method=CARD,
        idempotency_key="demo:reviews-digital",
        return_url="/orders/",
        note="Demo order",
        now=now - PLACED_AGO,
    )
    order = checkout.orders.get()
    for _ in range(3):
        if order.state == "completed" or order.deadline_at is None or order.deadline_at > now:
            break
        order_services.order_deadline_apply(order_id=order.pk, now=order.deadline_at)
        order = order_selectors.order_for_user(order_id=order.pk, user=buyer)
    return order if order.state == "completed" else None


def build(*, stdout, create: bool = True) -> list[str]:
    alex, ravi, kwame, priya = (_user(n) for n in ("alex", "ravi", "kwame", "priya"))
    if None in (alex, ravi, kwame, priya):
        return []
    first = _completed(alex, kwame)
    if create and first is not None and not review_selectors.reviews_written(user=alex).exists():
        try:
            with transaction.atomic():
                review = review_services.review_create(
                    order_id=first.pk,
                    author=alex,
                    rating=5,
                    communication=5,
                    accuracy=5,
                    value=4,
                    text="Kwame found the timezone bug in an hour and added a test so it stays "
                    "fixed. Clear explanations throughout.",
                )
                review_services.review_create(
                    order_id=first.pk,
                    author=kwame,
                    rating=5,
                    text="Alex sent a clear bug report with steps to reproduce. A pleasure.",
                )
                review_services.review_reply(
                    review_id=review.pk,
                    actor=kwame,
                    text="Thanks Alex! Ping me if anything else in the booking form misbehaves.",
                )
                second = _second_order(ravi, priya, timezone.now())
                if second is not None:
                    review_services.review_create(
                        order_id=second.pk,
                        author=ravi,
                        rating=4,
                        communication=4,
                        accuracy=5,
                        value=4,
                        text="Exactly the planner shown in the pictures. A short how-to video "
                        "would help first-time Notion users.",
                    )
        except DomainError as exc:
            stdout.write(f"  reviews: skipped: {exc.message}\n")
            return []
    rep = review_selectors.reputation(user=kwame, role="seller")
    if not rep.count:
        return []
    return [
        f"Reviews: kwame@ has {rep.count} public review(s) (Bayesian {rep.rating:.2f}) with a "
        "reply; ravi@'s review of priya@ stays hidden until priya reviews or the window ends "
        f"(see /reviews/, and /people/{alex.pk}/ for alex's buyer reputation)"
    ]
