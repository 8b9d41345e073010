"""Custom offers: a seller's tailored terms inside a conversation, based on one of their
published service gigs; declined, withdrawn or expired; accepted and paid through orders'
checkout into a service-gig order on those terms — and open again when the payment fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from micromarket.catalog import services as catalog_services
from micromarket.catalog.tests import factories as catalog_factories
from micromarket.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from micromarket.messaging import selectors, services
from micromarket.messaging.models import CustomOffer, Message, Notification
from micromarket.messaging.tests import factories
from micromarket.messaging.tests.factories import CARD_DECLINED, accept, custom_offer
from micromarket.orders import services as order_services
from micromarket.orders.models import Checkout, Order
from micromarket.payments.models import Payment
from micromarket.payments.providers import sandbox

pytestmark = pytest.mark.django_db

T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(T0, tick=False)
    return time_machine


@pytest.fixture
def seller(seller_with_gig):
    return seller_with_gig


@pytest.fixture
def offer(conversation, seller, gig):
    """A pending custom offer: 120.00, 4 days, 2 revisions, valid 7 days."""
    return custom_offer(conversation, seller, gig)


def unread(user, conversation) -> int:
    return selectors.conversations_for_user(user=user).get(pk=conversation.pk).unread


def state(custom) -> str:
    custom.refresh_from_db()
    return custom.state


def nothing_charged(buyer) -> bool:
    return (
        not Checkout.objects.filter(buyer=buyer).exists()
        and not Payment.objects.filter(buyer=buyer).exists()
        and not Order.objects.filter(buyer=buyer).exists()
    )


# ---------------------------------------------------------------------------------------------
# Sending


def test_a_custom_offer_is_a_card_in_the_conversation_and_the_buyer_is_told(
    conversation, buyer, seller, gig
):
    custom = custom_offer(
        conversation,
        seller,
        gig,
        title="  Logo for Rosie's Bakery ",
        price=12_000,
        delivery_days=4,
        revisions=2,
        valid_days=3,
    )

    assert custom.state == "pending"
    assert (custom.buyer, custom.seller, custom.offer) == (buyer, seller, gig)
    assert custom.title == "Logo for Rosie's Bakery"
    assert (custom.price, custom.currency) == (12_000, gig.currency)
    assert (custom.delivery_days, custom.revisions) == (4, 2)
    assert custom.expires_at == T0 + timedelta(days=3)
    card = custom.message
    assert (card.kind, card.sender, card.conversation) == ("offer", seller, conversation)
    assert selectors.messages_page(conversation=conversation).messages[-1] == card
    assert unread(buyer, conversation) == 1
    (told,) = Notification.objects.filter(user=buyer, category="offers")
    assert seller.display_name in told.title
    assert told.body == "Logo for Rosie's Bakery"
    assert told.url.endswith(f"#offer-{custom.pk}")
    assert not Notification.objects.filter(user=seller, category="offers").exists()


def test_an_offer_is_valid_seven_days_unless_the_seller_says_otherwise(offer):
    assert offer.expires_at == T0 + timedelta(days=7)


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("title", {"title": "   "}),
        ("title", {"title": "x" * 121}),
        ("description", {"description": ""}),
        ("description", {"description": "x" * 3001}),
        ("price", {"price": 0}),
        ("price", {"price": -500}),
        ("price", {"price": 12.5}),
        ("price", {"price": "a lot"}),
        ("price", {"price": 10_000_001}),
        ("delivery_days", {"delivery_days": 0}),
        ("revisions", {"revisions": -1}),
        ("valid_days", {"valid_days": 0}),
        ("valid_days", {"valid_days": 31}),
    ],
)
def test_the_terms_are_checked(conversation, seller, gig, buyer, field, change):
    with pytest.raises(ValidationFailed) as exc:
        custom_offer(conversation, seller, gig, **change)
    assert exc.value.field == field
    assert not CustomOffer.objects.exists()
    assert unread(buyer, conversation) == 0


@pytest.mark.parametrize("basis", ["another seller's gig", "a product", "a draft gig", "none"])
def test_an_offer_is_based_on_one_of_the_sellers_own_published_gigs(conversation, seller, basis):
    based_on = {
        "another seller's gig": factories.gig,
        "a product": lambda: catalog_factories.make_offer(seller, "physical", publish=True),
        "a draft gig": lambda: catalog_factories.make_offer(seller, "service"),
        "none": lambda: type("Missing", (), {"pk": 999_999})(),
    }[basis]()
    with pytest.raises(ValidationFailed) as exc:
        custom_offer(conversation, seller, based_on)
    assert exc.value.field == "offer"
    assert not CustomOffer.objects.exists()


def test_gigs_for_custom_offers_are_the_sellers_published_service_gigs(seller, gig):
    catalog_factories.make_offer(seller, "physical", publish=True)
    catalog_factories.make_offer(seller, "service")  # a draft
    factories.gig()  # someone else's
    assert list(selectors.gigs_for_custom_offers(seller=seller)) == [gig]


def test_someone_outside_the_conversation_cannot_send_an_offer_in_it(conversation, stranger):
    with pytest.raises(NotFound):
        services.custom_offer_send(
            conversation_id=conversation.pk,
            seller=stranger,
            offer_id=1,
            title="Cheap logo",
            description="Trust me",
            price=100,
            delivery_days=1,
        )
    assert not CustomOffer.objects.exists()


# ---------------------------------------------------------------------------------------------
# Declining, withdrawing, expiry


def test_the_buyer_declines_and_the_seller_is_told_why(offer, buyer, seller):
    declined = services.custom_offer_decline(
        custom_offer_id=offer.pk, buyer=buyer, reason="  Over my budget, sorry. "
    )

    assert declined.state == "declined"
    assert declined.decline_reason == "Over my budget, sorry."
    assert declined.responded_at == T0
    (told,) = Notification.objects.filter(user=seller, category="offers")
    assert buyer.display_name in told.title
    assert "declined" in told.title
    assert "Over my budget" in told.body


def test_only_the_buyer_can_decline(offer, seller, stranger):
    with pytest.raises(PermissionDenied) as exc:
        services.custom_offer_decline(custom_offer_id=offer.pk, buyer=seller)
    assert exc.value.code == "wrong_party"
    with pytest.raises(NotFound):
        services.custom_offer_decline(custom_offer_id=offer.pk, buyer=stranger)
    assert state(offer) == "pending"


def test_declining_twice_is_a_conflict_and_a_declined_offer_cannot_be_accepted(offer, buyer):
    services.custom_offer_decline(custom_offer_id=offer.pk, buyer=buyer)
    with pytest.raises(Conflict) as exc:
        services.custom_offer_decline(custom_offer_id=offer.pk, buyer=buyer)
    assert exc.value.code == "offer_closed"
    assert "declined" in exc.value.message
    with pytest.raises(Conflict):
        accept(offer, buyer)
    assert nothing_charged(buyer)
    assert state(offer) == "declined"


def test_only_the_seller_can_withdraw_and_then_it_cannot_be_accepted(
    offer, buyer, seller, stranger
):
    with pytest.raises(PermissionDenied) as exc:
        services.custom_offer_withdraw(custom_offer_id=offer.pk, seller=buyer)
    assert exc.value.code == "wrong_party"
    with pytest.raises(NotFound):
        services.custom_offer_withdraw(custom_offer_id=offer.pk, seller=stranger)

    assert services.custom_offer_withdraw(custom_offer_id=offer.pk, seller=seller).state == (
        "withdrawn"
    )
    with pytest.raises(Conflict) as exc:
        accept(offer, buyer)
    assert exc.value.code == "offer_closed"
    with pytest.raises(Conflict):
        services.custom_offer_decline(custom_offer_id=offer.pk, buyer=buyer)
    assert nothing_charged(buyer)


def test_offers_expire_at_their_date(offer, buyer):
    assert services.custom_offers_expire(now=T0 + timedelta(days=7) - timedelta(seconds=1)) == 0
    assert state(offer) == "pending"

    assert services.custom_offers_expire(now=T0 + timedelta(days=7)) == 1

    assert state(offer) == "expired"
    with pytest.raises(Conflict) as exc:
        accept(offer, buyer)
    assert exc.value.code == "offer_closed"
    with pytest.raises(Conflict):
        services.custom_offer_decline(custom_offer_id=offer.pk, buyer=buyer)
    assert nothing_charged(buyer)


def test_the_sweeper_expires_offers_every_few_minutes(offer):
    from micromarket.core import sweeper

    (job,) = [j for j in sweeper.registered_jobs() if j.name == "messaging.expire_custom_offers"]
    assert job.every <= timedelta(minutes=5)
    assert job.func(now=T0 + timedelta(days=7, minutes=1)) == 1
    assert state(offer) == "expired"


def test_an_offer_past_its_date_cannot_be_accepted_before_the_sweeper_runs(clock, offer, buyer):
    clock.shift(timedelta(days=7, minutes=1))
    with pytest.raises(Conflict) as exc:
        accept(offer, buyer)
    assert exc.value.code == "offer_closed"
    assert "expired" in exc.value.message
    with pytest.raises(Conflict) as exc:
        services.custom_offer_decline(custom_offer_id=offer.pk, buyer=buyer)
    assert "expired" in exc.value.message
    assert nothing_charged(buyer)


# ---------------------------------------------------------------------------------------------
# Accepting and paying


def test_accepting_places_a_gig_order_on_the_offers_terms(offer, conversation, buyer, seller, gig):
    checkout = accept(offer, buyer)

    assert checkout.status == "paid", checkout.failure_message
    order = checkout.orders.get()
    assert (order.buyer, order.seller, order.offer, order.kind) == (buyer, seller, gig, "service")
    assert order.state == "requirements"  # the gig asks the buyer a question first
    assert order.subtotal == 12_000
    assert (order.delivery_days, order.revisions_allowed) == (4, 2)
    assert order.placed_at is not None
    assert [q["question"] for q in order.requirements] == ["What is the business called?"]
    assert "Logo for Rosie's Bakery" in order.items.get().description
    payment = Payment.objects.get(buyer=buyer)
    assert payment.total == 12_000 + 12_000 * 5 // 100  # price and the buyer's service fee

    offer.refresh_from_db()
    assert (offer.state, offer.order) == ("accepted", order)
    assert offer.responded_at is not None
    (notice,) = conversation.messages.filter(kind=Message.Kind.SYSTEM)
    assert notice.sender is None
    assert "Logo for Rosie's Bakery" in notice.body
    assert str(order.pk) in notice.body
    assert unread(seller, conversation) == 1  # the seller sees the news
    assert unread(buyer, conversation) == 0  # the buyer just did it


def test_an_accepted_offer_cannot_be_accepted_again(offer, buyer):
    order = accept(offer, buyer).orders.get()
    with pytest.raises(Conflict) as exc:
        accept(offer, buyer)
    assert exc.value.code == "offer_closed"
    assert list(Order.objects.filter(buyer=buyer)) == [order]
    assert Payment.objects.filter(buyer=buyer).count() == 1


def test_retrying_with_the_same_key_returns_the_same_checkout(offer, buyer):
    first = accept(offer, buyer, key="accept-once")
    again = accept(offer, buyer, key="accept-once")
    assert again.pk == first.pk
    assert Order.objects.filter(buyer=buyer).count() == 1
    assert Payment.objects.filter(buyer=buyer).count() == 1


def test_a_declined_card_leaves_the_offer_open_to_accept_later(offer, buyer):
    failed = accept(offer, buyer, card=CARD_DECLINED)

    assert failed.status == "failed"
    assert "declined" in failed.failure_message.lower()
    offer.refresh_from_db()
    assert (offer.state, offer.order) == ("pending", None)
    assert not offer.conversation.messages.filter(kind=Message.Kind.SYSTEM).exists()

    paid = accept(offer, buyer)

    assert paid.status == "paid", paid.failure_message
    order = paid.orders.get()
    offer.refresh_from_db()
    assert (offer.state, offer.order) == ("accepted", order)
    assert Order.objects.filter(buyer=buyer, placed_at__isnull=False).get() == order


def test_while_the_payment_waits_for_the_buyer_the_offer_is_held(offer, buyer):
    checkout = accept(offer, buyer, card=sandbox.CARD_REQUIRES_ACTION)

    assert checkout.status == "pending"
    assert state(offer) == "reserved"
    with pytest.raises(Conflict) as exc:
        accept(offer, buyer)
    assert exc.value.code == "offer_closed"
    with pytest.raises(Conflict):
        services.custom_offer_decline(custom_offer_id=offer.pk, buyer=buyer)
    assert state(offer) == "reserved"


def test_a_payment_never_confirmed_releases_the_offer(clock, offer, buyer):
    checkout = accept(offer, buyer, card=sandbox.CARD_REQUIRES_ACTION)
    assert state(offer) == "reserved"

    clock.shift(timedelta(minutes=31))
    order_services.checkouts_sync()

    checkout.refresh_from_db()
    assert checkout.status == "failed"
    offer.refresh_from_db()
    assert (offer.state, offer.order) == ("pending", None)
    assert accept(offer, buyer).status == "paid"
    assert state(offer) == "accepted"


def test_only_the_buyer_can_accept(offer, seller, stranger, buyer):
    with pytest.raises(NotFound):
        accept(offer, stranger)
    with pytest.raises(PermissionDenied) as exc:
        accept(offer, seller)
    assert exc.value.code == "wrong_party"
    for user in (stranger, seller, buyer):
        assert nothing_charged(user)
    assert state(offer) == "pending"


def test_an_offer_on_a_gig_no_longer_for_sale_cannot_be_accepted(offer, buyer, seller, gig):
    catalog_services.offer_transition(offer_id=gig.pk, actor=seller, action="pause")
    with pytest.raises(Conflict) as exc:
        accept(offer, buyer)
    assert exc.value.code == "offer_closed"
    assert nothing_charged(buyer)
    assert state(offer) == "pending"


def test_a_block_stops_custom_offers_both_ways(offer, conversation, buyer, seller, gig):
    services.user_block(blocker=buyer, blocked_id=seller.pk)

    with pytest.raises(PermissionDenied) as exc:
        custom_offer(conversation, seller, gig, title="Another try")
    assert exc.value.code == "blocked"
    with pytest.raises(Conflict) as exc:
        accept(offer, buyer)
    assert exc.value.code == "blocked"
    assert nothing_charged(buyer)
    assert CustomOffer.objects.count() == 1

    services.user_unblock(blocker=buyer, blocked_id=seller.pk)
    assert accept(offer, buyer).status == "paid"


# ---------------------------------------------------------------------------------------------
# Emails


def test_the_buyer_is_emailed_the_offer_and_both_hear_about_the_order(
    conversation, buyer, seller, gig, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        custom = custom_offer(conversation, seller, gig)
    (mail,) = mailoutbox
    assert mail.to == [buyer.email]
    assert "Logo for Rosie's Bakery" in mail.subject + mail.body
    assert "List-Unsubscribe" in mail.extra_headers
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        order = accept(custom, buyer).orders.get()

    assert sorted(m.to[0] for m in mailoutbox) == sorted([buyer.email, seller.email])
    assert all(f"Order {order.pk}" in m.subject for m in mailoutbox)
