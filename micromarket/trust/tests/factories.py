"""Shared builders for trust tests: real orders through the real checkout and processes.

``gig_order`` places a paid service order (in progress); ``delivered_order`` delivers it;
``completed_order`` has the buyer accept it (the seller is paid). Every area's tests use these,
so the trust app is always exercised against the money and the processes as they really are.
"""

from __future__ import annotations

import itertools

from micromarket.accounts.tests.factories import UserFactory
from micromarket.catalog import services as catalog_services
from micromarket.catalog.tests.factories import details, make_offer, seller
from micromarket.orders import services as order_services
from micromarket.payments.providers import sandbox

CARD = sandbox.CARD_SUCCEEDS
_keys = itertools.count(1)


def gig(owner=None, **overrides):
    """A published service gig (without questions, so orders start at once)."""
    offer = make_offer(owner or seller(), kind="service", **overrides)
    catalog_services.offer_update(
        offer_id=offer.pk, actor=offer.seller, details={**details("service"), "questions": []}
    )
    return catalog_services.offer_transition(offer_id=offer.pk, actor=offer.seller, action="submit")


def gig_order(buyer=None, offer=None, *, package: str = "basic"):
    """A paid service order, in progress."""
    buyer = buyer or UserFactory()
    offer = offer or gig()
    checkout = order_services.checkout_place(
        buyer=buyer,
        items=[{"offer": offer.pk, "package": package}],
        payment_method=CARD,
        idempotency_key=f"trust-{next(_keys)}",
        return_url="http://testserver/back/",
    )
    order = checkout.orders.get()
    assert order.state == "in_progress", order.state
    return order


def act(order, name, actor, now=None, **data):
    """Apply the transition ``name`` as ``actor`` (None: the system); returns the order."""
    return order_services.order_transition(
        order_id=order.pk, name=name, actor=actor, data=data, now=now
    )


def delivered_order(buyer=None, offer=None, now=None):
    order = gig_order(buyer, offer)
    return act(order, "deliver", order.seller, now=now, message="Here is your work.")


def completed_order(buyer=None, offer=None, now=None):
    """A completed service order: delivered and accepted by the buyer (the seller is paid)."""
    order = delivered_order(buyer, offer, now=now)
    return act(order, "accept", order.buyer, now=now)
