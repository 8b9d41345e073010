"""Seller levels on the pages: the seller's own page (figures, thresholds, ✓/✗, what is
missing, the appeal form), the badge, and the operators' thresholds and appeals pages (404 for
anyone else; every change audit-logged)."""

from __future__ import annotations

import pytest
from django.test import Client

from micromarket.accounts.tests.factories import UserFactory
from micromarket.catalog.tests.factories import seller as make_seller
from micromarket.messaging.models import Notification
from micromarket.payments.tests.test_views import operator_login, text
from micromarket.trust.models import AuditEntry, LevelAppeal, LevelThreshold, SellerStanding
from micromarket.trust.selectors import levels as sel
from micromarket.trust.services import levels as services
from micromarket.trust.tests.factories import completed_order, gig

pytestmark = pytest.mark.django_db

MESSAGE = "My delivery times were counted wrong for two orders in March."


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def threshold_post(level: str, **changes) -> dict:
    row = LevelThreshold.objects.get(level=level)
    data = {"level": level, f"{level}-level": level, f"{level}-reason": "Quarterly review"}
    for name in sel.THRESHOLD_FIELDS:
        value = getattr(row, name)
        data[f"{level}-{name}"] = "" if value is None else str(value)
    for name, value in changes.items():
        data[f"{level}-{name}"] = str(value)
    return data


def test_the_seller_sees_figures_thresholds_and_what_is_missing():
    offer = gig()
    completed_order(offer=offer)
    services.levels_compute_all()
    response = as_user(offer.seller).get("/seller/level/")
    assert response.status_code == 200
    page = text(response)
    assert "You are New seller" in page
    assert "What is missing for Level 1" in page
    assert "9 more completed orders" in page
    assert "a first rating of 4.40 or more" in page
    for threshold in ("at least 10", "at least 25", "at least 100"):
        assert threshold in page
    assert "✗" in page
    assert "Computed" in page


def test_a_buyer_without_a_shop_is_told_levels_are_for_sellers():
    response = as_user(UserFactory()).get("/seller/level/")
    assert response.status_code == 200
    assert "Levels are for sellers" in text(response)


def test_the_badge_shows_the_level_on_the_offer_page():
    offer = gig()
    SellerStanding.objects.create(seller=offer.seller, level="level2")
    page = text(Client().get(f"/offers/{offer.pk}/"))
    assert "Level 2" in page


def test_a_seller_appeals_once_and_the_operators_are_told():
    seller = make_seller()
    UserFactory(operator=True)
    client = as_user(seller)
    response = client.post("/seller/level/", {"message": MESSAGE})
    assert response.status_code == 302
    appeal = LevelAppeal.objects.get(seller=seller)
    assert appeal.status == "open"
    assert Notification.objects.filter(category="trust_queue").count() == 1

    again = client.post("/seller/level/", {"message": MESSAGE + " Again."})
    assert again.status_code == 400
    assert "already have an appeal waiting" in text(again)
    assert LevelAppeal.objects.filter(seller=seller).count() == 1
    assert "is waiting for an operator" in text(client.get("/seller/level/"))


def test_a_too_short_appeal_is_refused_with_nothing_written():
    seller = make_seller()
    response = as_user(seller).post("/seller/level/", {"message": "wrong"})
    assert response.status_code == 400
    assert "at least 20 characters" in text(response)
    assert not LevelAppeal.objects.exists()


@pytest.mark.parametrize("path", ["/ops/trust/levels/", "/ops/trust/appeals/"])
def test_operator_pages_are_404_for_everyone_else(path):
    assert as_user(make_seller()).get(path).status_code == 404
    assert Client().get(path).status_code == 302  # to sign in


def test_non_operators_cannot_change_thresholds_or_answer_appeals():
    seller = make_seller()
    appeal = services.level_appeal_create(seller=seller, message=MESSAGE)
    client = as_user(make_seller())
    response = client.post("/ops/trust/levels/", threshold_post("level1", min_completed_orders=1))
    assert response.status_code == 404
    assert LevelThreshold.objects.get(level="level1").min_completed_orders == 10
    answer = client.post(f"/ops/trust/appeals/{appeal.pk}/answer/", {f"a{appeal.pk}-answer": "x"})
    assert answer.status_code == 404
    appeal.refresh_from_db()
    assert appeal.status == "open"
    assert not AuditEntry.objects.exists()


def test_an_operator_changes_thresholds_with_an_audit_entry():
    client = Client()
    operator = operator_login(client)
    page = client.get("/ops/trust/levels/")
    assert page.status_code == 200
    assert "Top Rated" in text(page)
    response = client.post(
        "/ops/trust/levels/", threshold_post("level2", min_completed_orders=30, min_rating="4.70")
    )
    assert response.status_code == 302, text(response)
    row = LevelThreshold.objects.get(level="level2")
    assert (row.min_completed_orders, str(row.min_rating), row.updated_by) == (30, "4.70", operator)
    entry = AuditEntry.objects.get(action="level_thresholds_update")
    assert entry.actor == operator
    assert entry.reason == "Quarterly review"
    assert entry.data == {
        "level": "level2",
        "old": {"min_completed_orders": 25, "min_rating": "4.60"},
        "new": {"min_completed_orders": 30, "min_rating": "4.70"},
    }
    assert [t.min_completed_orders for t in sel.thresholds()] == [10, 30, 100]


def test_bad_thresholds_are_refused_with_nothing_changed():
    client = Client()
    operator_login(client)
    response = client.post("/ops/trust/levels/", threshold_post("top", min_response_rate=120))
    assert response.status_code == 400
    assert LevelThreshold.objects.get(level="top").min_response_rate == 90
    assert not AuditEntry.objects.exists()


def test_an_operator_answers_an_appeal_and_the_seller_is_told():
    seller = make_seller()
    appeal = services.level_appeal_create(seller=seller, message=MESSAGE)
    client = Client()
    operator = operator_login(client)
    queue = client.get("/ops/trust/appeals/")
    assert MESSAGE in text(queue)
    response = client.post(
        f"/ops/trust/appeals/{appeal.pk}/answer/",
        {f"a{appeal.pk}-answer": "We checked: both orders were delivered late."},
    )
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert (appeal.status, appeal.answered_by) == ("answered", operator)
    assert AuditEntry.objects.get(action="level_appeal_answer").target_user == seller
    note = Notification.objects.get(user=seller, category="account")
    assert note.title == "An operator answered your level appeal"
    # A second answer is refused.
    again = client.post(
        f"/ops/trust/appeals/{appeal.pk}/answer/", {f"a{appeal.pk}-answer": "Again"}
    )
    assert again.status_code == 400
    assert "already been answered" in text(again)
    assert AuditEntry.objects.filter(action="level_appeal_answer").count() == 1


def test_an_operator_recomputes_a_seller_from_the_page():
    offer = gig()
    completed_order(offer=offer)
    LevelThreshold.objects.filter(level="level1").update(
        min_completed_orders=1,
        min_earnings=0,
        min_unique_buyers=1,
        min_rating=0,
        min_response_rate=0,
        min_on_time_rate=0,
        min_completion_rate=0,
        max_dispute_rate=100,
        min_account_age_days=0,
    )
    client = Client()
    operator_login(client)
    response = client.post(
        "/ops/trust/levels/recompute/", {"seller_id": offer.seller_id, "reason": "Appeal"}
    )
    assert response.status_code == 302
    assert sel.standing_for(seller_id=offer.seller_id).level == "level1"
    assert AuditEntry.objects.filter(action="level_recompute").count() == 1
