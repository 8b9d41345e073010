"""Messaging racing itself on PostgreSQL: a buyer accepting the same custom offer twice at
once (a double click, two tabs), and two people writing to each other for the first time at
the same moment. Each thread has its own connection; a barrier releases them together."""

from __future__ import annotations

import pytest

from micromarket.catalog.tests import factories as catalog_factories
from micromarket.catalog.tests.factories import seller as make_seller
from micromarket.core.errors import Conflict
from micromarket.core.tests.concurrency import race
from micromarket.messaging import services
from micromarket.messaging.models import Conversation, CustomOffer, Message, Participant
from micromarket.messaging.tests.factories import accept, custom_offer, gig, order_gig, start
from micromarket.orders.models import Checkout, Order
from micromarket.payments.models import Payment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _categories():
    catalog_factories.seed_categories()


def test_accepting_one_offer_twice_at_once_places_one_order(buyer):
    service = gig()
    seller = service.seller
    conversation = start(buyer, seller, offer_id=service.pk).conversation
    custom = custom_offer(conversation, seller, service)

    outcomes = race(2, lambda i: accept(custom, buyer, key=f"tab-{i}"))

    won = [o for o in outcomes if not isinstance(o, Exception)]
    lost = [o for o in outcomes if isinstance(o, Exception)]
    assert len(won) == 1, outcomes
    (refused,) = lost
    assert isinstance(refused, Conflict), refused
    assert refused.code == "offer_closed"
    checkout = won[0]
    assert checkout.status == "paid", checkout.failure_message
    order = checkout.orders.get()
    assert Checkout.objects.filter(buyer=buyer).get() == checkout  # the loser left nothing
    assert Order.objects.filter(buyer=buyer).get() == order
    assert Payment.objects.filter(buyer=buyer).count() == 1  # charged once
    custom.refresh_from_db()
    assert (custom.state, custom.order) == (CustomOffer.State.ACCEPTED, order)
    assert conversation.messages.filter(kind=Message.Kind.SYSTEM).count() == 1


def test_two_people_writing_to_each_other_first_at_once_share_one_conversation():
    ana, ben = make_seller(), make_seller()  # sellers: anyone may write to them first
    pairs = [(ana, ben), (ben, ana)]

    outcomes = race(2, lambda i: start(pairs[i][0], pairs[i][1], f"Hi, this is {i}"))

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    conversation = Conversation.objects.get()
    assert {m.conversation_id for m in outcomes} == {conversation.pk}
    assert conversation.messages.count() == 2
    assert Participant.objects.filter(conversation=conversation).count() == 2


def test_the_seller_withdrawing_while_the_buyer_accepts_one_of_them_wins(buyer):
    service = gig()
    seller = service.seller
    conversation = start(buyer, seller, offer_id=service.pk).conversation
    custom = custom_offer(conversation, seller, service)

    accepted, withdrawn = race(
        2,
        lambda i: (
            accept(custom, buyer)
            if i == 0
            else services.custom_offer_withdraw(custom_offer_id=custom.pk, seller=seller)
        ),
    )

    custom.refresh_from_db()
    if isinstance(accepted, Exception):  # the seller was first: nothing was charged
        assert isinstance(accepted, Conflict), accepted
        assert accepted.code == "offer_closed"
        assert custom.state == CustomOffer.State.WITHDRAWN
        assert not Checkout.objects.filter(buyer=buyer).exists()
        assert not Payment.objects.filter(buyer=buyer).exists()
    else:  # the buyer was first: the offer is theirs, the withdrawal is refused
        assert isinstance(withdrawn, Conflict), withdrawn
        assert withdrawn.code == "offer_closed"
        assert accepted.status == "paid", accepted.failure_message
        assert (custom.state, custom.order) == (
            CustomOffer.State.ACCEPTED,
            accepted.orders.get(),
        )


def test_buyer_and_seller_opening_the_order_thread_at_once_share_it(buyer):
    service = gig()
    order = order_gig(buyer, service).orders.get()
    people = [buyer, service.seller]

    outcomes = race(2, lambda i: services.conversation_for_order(order_id=order.pk, user=people[i]))

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    thread = Conversation.objects.get(order=order)
    assert {c.pk for c in outcomes} == {thread.pk}
    assert Participant.objects.filter(conversation=thread).count() == 2
