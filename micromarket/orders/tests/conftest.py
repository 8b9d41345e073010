"""Fixtures for order tests: a published offer of each kind, a buyer, and ``place`` to check
out through the sandbox provider with a test card."""

from __future__ import annotations

import itertools

import pytest

from micromarket.accounts.tests.factories import UserFactory
from micromarket.catalog.tests.factories import make_offer
from micromarket.ledger import selectors as ledger_selectors
from micromarket.orders import services
from micromarket.payments.providers import sandbox

CARD = sandbox.CARD_SUCCEEDS
_keys = itertools.count(1)


@pytest.fixture(autouse=True)
def _after_commit_runs_inline(django_capture_on_commit_callbacks, monkeypatch):
    """After-commit work (emails, provider refunds) runs when each service returns, as the
    worker would run it moments later."""
    from micromarket.orders import services as module

    depth = [0]

    def wrap(func):
        def run(**kwargs):
            if depth[0]:  # called by another wrapped service: its caller runs the callbacks
                return func(**kwargs)
            depth[0] += 1
            try:
                with django_capture_on_commit_callbacks(execute=True):
                    return func(**kwargs)
            finally:
                depth[0] -= 1

        return run

    for name in ("order_transition", "checkout_place", "deadlines_apply", "session_cancel"):
        monkeypatch.setattr(module, name, wrap(getattr(module, name)))


@pytest.fixture
def buyer():
    return UserFactory()


@pytest.fixture
def offer_of():
    """offer_of("rental", **catalog overrides) → a published offer of that kind."""
    return lambda kind, **kw: make_offer(kind=kind, publish=True, **kw)


def place(buyer, *items, card=CARD, key=None, country="US", address="1 Main St", credit=0):
    """Check ``items`` out; returns the checkout (its orders placed when the card succeeds)."""
    return services.checkout_place(
        buyer=buyer,
        items=list(items),
        payment_method=card,
        idempotency_key=key or f"test-{next(_keys)}",
        return_url="http://testserver/back/",
        address=address,
        country=country,
        credit=credit,
    )


def held(reference: str) -> int:
    """What the escrow for ``reference`` still holds (0 once released or refunded)."""
    escrow = ledger_selectors.escrow_for_reference(reference)
    return escrow.account.balance if escrow else 0


def books_balance() -> bool:
    return ledger_selectors.ledger_verify() == []


# --- added by the service-level tests (test_processes / test_checkout / test_concurrency) -----


def offer_details(offer, **changes):
    """Change ``offer``'s kind details through the catalog service: the factory's details for
    its kind with ``changes`` (e.g. ``questions=[]``, ``instant_booking=True``)."""
    from micromarket.catalog import services as catalog_services
    from micromarket.catalog.tests.factories import details

    return catalog_services.offer_update(
        offer_id=offer.pk, actor=offer.seller, details={**details(offer.kind), **changes}
    )


def act(order, name, actor, **data):
    """Apply the transition ``name`` to ``order`` as ``actor`` (None: the system)."""
    return services.order_transition(order_id=order.pk, name=name, actor=actor, data=data)


def refunded(reference: str) -> int:
    """What went back to the buyer for ``reference``: price and service fee, card or credit."""
    from micromarket.payments.models import Refund

    return sum(r.total for r in Refund.objects.filter(line__reference=reference))


def pending_earnings(user, currency: str = "USD") -> int:
    """The seller's earnings waiting for clearing, read from the ledger."""
    return ledger_selectors.user_balances(user).get(currency, {}).get("pending", 0)


def place_milestone(buyer, seller=None, *, amount=5000, card=CARD, key=None, origin=None):
    """Order and pay for a milestone (a project task's unit, as the projects app does);
    returns the checkout."""
    from micromarket.catalog.models import Category
    from micromarket.catalog.tests.factories import seller as make_seller

    seller = seller or make_seller()
    n = next(_keys)
    return services.milestone_checkout_place(
        buyer=buyer,
        milestones=[
            services.Milestone(
                origin=origin or f"test.milestone:{n}",
                origin_url="/projects/",
                seller=seller,
                title="Translate 10 product pages",
                amount=amount,
                category_id=Category.objects.get(slug="writing-translation").pk,
                delivery_days=3,
                revisions=1,
                brief="Into Spanish, keeping the HTML tags.",
            )
        ],
        currency="USD",
        payment_method=card,
        idempotency_key=key or f"test-{n}",
        return_url="http://testserver/back/",
    )
