"""Reviews pages: the order page's reviews box, the review form, the person page, offer and shop
pages, the reviews hub and the operators' hide page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from micromarket.accounts.tests.factories import UserFactory
from micromarket.payments.tests.test_views import operator_login, text
from micromarket.trust.models import AuditEntry, Review
from micromarket.trust.services import reviews as services
from micromarket.trust.tests.factories import completed_order, gig_order

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def both_reviews(order):
    mine = services.review_create(
        order_id=order.pk,
        author=order.buyer,
        rating=5,
        communication=5,
        accuracy=5,
        value=4,
        text="Lovely logo, quick turnaround.",
    )
    theirs = services.review_create(
        order_id=order.pk, author=order.seller, rating=4, text="Clear brief, kind buyer."
    )
    return mine, theirs


def test_the_order_page_invites_the_buyer_to_review_and_the_form_writes_it():
    order = completed_order()
    buyer = client_for(order.buyer)
    page = text(buyer.get(f"/orders/{order.pk}/"))
    assert "Write a review" in page
    form = buyer.get(f"/orders/{order.pk}/review/")
    assert form.status_code == 200
    assert "Quality as described" in text(form)

    bad = buyer.post(f"/orders/{order.pk}/review/", {"rating": "5", "text": "Good"})
    assert bad.status_code == 400
    assert not Review.objects.exists()

    response = buyer.post(
        f"/orders/{order.pk}/review/",
        {"rating": "5", "communication": "4", "accuracy": "5", "value": "4", "text": "Great."},
    )
    assert response.status_code == 302
    page = text(buyer.get(f"/orders/{order.pk}/"))
    assert "Your review" in page
    assert "Hidden until" in page
    assert "or until the other side reviews" in page
    # The seller does not see it yet, but knows one is waiting.
    seller_page = text(client_for(order.seller).get(f"/orders/{order.pk}/"))
    assert "Great." not in seller_page
    assert "The other side has written a review" in seller_page


def test_the_seller_sees_the_buyers_reputation_on_an_order_in_progress():
    past = completed_order()
    services.review_create(order_id=past.pk, author=past.seller, rating=5, text="Model buyer.")
    services.reviews_reveal_due(now=past.closed_at + timedelta(days=14))
    order = gig_order(buyer=past.buyer)  # a new order, not completed
    page = text(client_for(order.seller).get(f"/orders/{order.pk}/"))
    assert "Buyer reputation: 4.6 from 1 review by sellers" in page
    assert "Write a review" not in page
    # The buyer does not see their own "buyer reputation" line on the order.
    assert "Buyer reputation" not in text(client_for(order.buyer).get(f"/orders/{order.pk}/"))


def test_both_reviews_show_once_public_and_the_seller_replies():
    order = completed_order()
    mine, _ = both_reviews(order)
    seller = client_for(order.seller)
    page = text(seller.get(f"/orders/{order.pk}/"))
    assert "The buyer's review of you" in page
    assert "Lovely logo" in page
    response = seller.post(
        f"/reviews/{mine.pk}/reply/", {"text": "Thank you!", "next": f"/orders/{order.pk}/"}
    )
    assert response.status_code == 302
    assert "Reply from" in text(seller.get(f"/orders/{order.pk}/"))
    # A stranger's reply to a review they can see is refused; nothing changes.
    client_for(UserFactory()).post(f"/reviews/{mine.pk}/reply/", {"text": "Me too"})
    mine.refresh_from_db()
    assert mine.reply == "Thank you!"


def test_a_stranger_gets_404_for_the_review_form():
    order = completed_order()
    assert client_for(UserFactory()).get(f"/orders/{order.pk}/review/").status_code == 404
    response = client_for(UserFactory()).post(
        f"/orders/{order.pk}/review/", {"rating": "5", "text": "x"}
    )
    assert response.status_code == 404
    assert not Review.objects.exists()


def test_the_person_page_shows_buyer_reputation_and_reviews_by_sellers():
    order = completed_order()
    both_reviews(order)
    page = text(Client().get(f"/people/{order.buyer_id}/"))
    assert order.buyer.display_name in page
    assert "4.4" in page
    assert "from 1 review by seller" in page
    assert "Clear brief, kind buyer." in page
    seller_page = text(Client().get(f"/people/{order.seller_id}/"))
    assert "Visit" in seller_page  # the seller's shop link


def test_the_person_page_is_404_for_inactive_or_deleted_people():
    gone = UserFactory(is_active=False)
    deleted = UserFactory(deleted_at=timezone.now())
    assert Client().get(f"/people/{gone.pk}/").status_code == 404
    assert Client().get(f"/people/{deleted.pk}/").status_code == 404
    assert Client().get("/people/999999/").status_code == 404


def test_offer_and_shop_pages_show_ratings_and_reviews():
    order = completed_order()
    both_reviews(order)
    offer_page = text(Client().get(f"/offers/{order.offer_id}/"))
    assert "★★★★★" in offer_page
    assert "from 1 review" in offer_page
    assert "Lovely logo" in offer_page
    assert "Quality as described 5/5" in offer_page
    assert "Clear brief" not in offer_page  # the seller's review of the buyer is not the offer's
    shop = order.offer.shop
    shop_page = text(Client().get(f"/shops/{shop.slug}/"))
    assert "Reviews of" in shop_page
    assert "Lovely logo" in shop_page
    all_reviews = Client().get(f"/people/{order.seller_id}/reviews/?as=seller")
    assert "Lovely logo" in text(all_reviews)
    assert "Lovely logo" in text(Client().get(f"/reviews/offers/{order.offer_id}/"))


def test_the_hub_lists_reviews_to_write_and_written():
    order = completed_order()
    hub = client_for(order.buyer)
    assert order.title in text(hub.get("/reviews/"))
    both_reviews(order)
    page = text(hub.get("/reviews/"))
    assert "Nothing to review right now" in page
    assert "Clear brief, kind buyer." in page  # of you
    assert "Lovely logo" in page  # you wrote


def test_only_operators_hide_reviews_from_the_ops_page(client):
    order = completed_order()
    mine, _ = both_reviews(order)
    url = f"/ops/trust/reviews/{mine.pk}/"
    assert client_for(order.seller).get(url).status_code == 404
    assert client_for(order.seller).post(url, {"reason": "x"}).status_code == 404
    mine.refresh_from_db()
    assert mine.hidden_at is None
    operator_login(client)
    assert client.get(url).status_code == 200
    assert client.post(url, {"reason": "Shares a phone number"}).status_code == 302
    mine.refresh_from_db()
    assert mine.hidden_reason == "Shares a phone number"
    assert AuditEntry.objects.filter(action="review_hide", target_id=mine.pk).exists()
    assert "Lovely logo" not in text(Client().get(f"/offers/{order.offer_id}/"))
    # Its author still sees it on the order, with the reason.
    page = text(client_for(order.buyer).get(f"/orders/{order.pk}/"))
    assert "Hidden from others: Shares a phone number" in page
