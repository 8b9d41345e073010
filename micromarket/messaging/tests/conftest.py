"""Fixtures for messaging tests: a buyer, a seller with a published service gig, a third
person, and the conversation the buyer started about the gig. Builders are in ``factories``."""

from __future__ import annotations

import pytest

from micromarket.accounts.tests.factories import UserFactory
from micromarket.messaging.tests import factories


@pytest.fixture
def buyer():
    return UserFactory(display_name="Rosie Baker")


@pytest.fixture
def gig():
    """A published service gig of its own seller (``gig.seller``)."""
    return factories.gig(title="I will design a logo for your bakery")


@pytest.fixture
def seller_with_gig(gig):
    """The seller of ``gig``."""
    return gig.seller


@pytest.fixture
def stranger():
    """Someone who takes part in nothing."""
    return UserFactory(display_name="Mallory")


@pytest.fixture
def conversation(buyer, seller_with_gig, gig):
    """The buyer wrote to the seller about the gig (one message, from the buyer)."""
    return factories.start(buyer, seller_with_gig, offer_id=gig.pk).conversation
