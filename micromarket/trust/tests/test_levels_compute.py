"""Seller levels computed from real orders: the figures (orders, earnings, buyers, on-time,
completion), the daily job (standing, history, notification, search index), an operator's
recompute, and the shorter clearing period of a level."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from micromarket.accounts.tests.factories import UserFactory
from micromarket.catalog.search_models import OfferSearch
from micromarket.catalog.tests.factories import seller as make_seller
from micromarket.core.errors import PermissionDenied
from micromarket.ledger import selectors as ledger_selectors
from micromarket.ledger import services as ledger_services
from micromarket.messaging.models import Notification
from micromarket.trust import demo_levels, jobs
from micromarket.trust.models import AuditEntry, LevelChange, LevelThreshold, SellerStanding
from micromarket.trust.selectors import levels as sel
from micromarket.trust.services import levels as services
from micromarket.trust.tests.factories import act, completed_order, gig, gig_order

pytestmark = pytest.mark.django_db


def easy_thresholds(level: str = "level1", **changes) -> None:
    """Make ``level`` reachable with one completed order (every other criterion relaxed)."""
    LevelThreshold.objects.filter(level=level).update(
        min_completed_orders=1,
        min_earnings=0,
        min_unique_buyers=1,
        min_rating=0,
        min_response_rate=0,
        min_on_time_rate=0,
        min_completion_rate=0,
        max_dispute_rate=100,
        min_account_age_days=0,
        **changes,
    )


def test_figures_from_real_orders():
    offer = gig()
    seller = offer.seller
    alice, bob = UserFactory(), UserFactory()
    completed_order(alice, offer)
    completed_order(alice, offer)
    completed_order(bob, offer)
    late = gig_order(bob, offer)  # delivered after its delivery date
    act(late, "deliver", seller, now=late.due_at + timedelta(hours=1), message="Late, sorry.")
    act(late, "accept", bob, now=late.due_at + timedelta(hours=2))
    cancelled = gig_order(alice, offer)
    act(cancelled, "cancel_late", alice, now=cancelled.due_at + timedelta(days=1))
    gig_order(UserFactory(), offer)  # still in progress: placed, not closed

    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        figures = sel.figures_compute(seller=seller)

    pending = ledger_selectors.user_balances(seller)["USD"]["pending"]
    assert figures.completed_orders == 4
    assert figures.unique_buyers == 2
    assert figures.earnings == pending > 0  # the seller's net, as the ledger paid it
    assert (figures.with_due_date, figures.on_time) == (4, 3)
    assert figures.cancelled == 1
    assert figures.completion_rate == 80
    assert figures.placed == 6
    assert figures.disputes == 0
    assert figures.rating is None  # no public review yet
    assert figures.inquiries == 0
    assert figures.account_age_days >= 0


def test_orders_in_another_currency_do_not_count_toward_earnings():
    offer = gig()
    completed_order(offer=offer)
    figures = sel.figures_compute(seller=offer.seller, currency="EUR")
    assert figures.completed_orders == 1
    assert figures.earnings == 0


def test_orders_outside_the_window_do_not_count():
    offer = gig()
    completed_order(offer=offer)
    with time_machine.travel(timezone.now() + timedelta(days=366), tick=False):
        figures = sel.figures_compute(seller=offer.seller)
    assert figures.completed_orders == 0
    assert figures.earnings == 0


def test_the_daily_job_promotes_records_notifies_and_indexes(django_capture_on_commit_callbacks):
    easy_thresholds("level1")
    offer = gig()
    seller = offer.seller
    idle = make_seller()  # a seller without orders stays New, without a history row
    completed_order(offer=offer)

    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.seller_levels(now=timezone.now()) >= 2

    standing = SellerStanding.objects.get(seller=seller)
    assert standing.level == "level1"
    assert standing.figures["completed_orders"] == 1
    change = LevelChange.objects.get(seller=seller)
    assert (change.from_level, change.to_level) == ("new", "level1")
    note = Notification.objects.get(user=seller, category="account")
    assert note.title == "You are now Level 1"
    assert note.url == "/seller/level/"
    row = OfferSearch.objects.get(offer_id=offer.pk)
    assert (row.seller_level, row.completed_orders) == ("level1", 1)
    assert SellerStanding.objects.get(seller=idle).level == "new"
    assert not LevelChange.objects.filter(seller=idle).exists()

    # The next run with nothing changed records nothing new.
    services.levels_compute_all()
    assert LevelChange.objects.filter(seller=seller).count() == 1


def test_a_demotion_is_recorded_and_says_what_is_missing():
    easy_thresholds("level1")
    offer = gig()
    completed_order(offer=offer)
    services.levels_compute_all()
    LevelThreshold.objects.filter(level="level1").update(min_completed_orders=3)
    services.levels_compute_all()
    standing = sel.standing_for(seller_id=offer.seller_id)
    assert standing.level == "new"
    change = LevelChange.objects.filter(seller=offer.seller).first()
    assert (change.from_level, change.to_level) == ("level1", "new")
    note = Notification.objects.filter(user=offer.seller, category="account").first()
    assert note.title == "Your seller level is now New seller"
    assert "2 more completed orders" in note.body
    assert OfferSearch.objects.get(offer_id=offer.pk).seller_level == "new"


def test_search_reputation_feeds_an_offer_entering_the_index():
    easy_thresholds("level1")
    offer = gig()
    completed_order(offer=offer)
    services.levels_compute_all()
    reputation = sel.search_reputation([offer.pk])
    assert reputation[offer.pk]["seller_level"] == "level1"
    assert reputation[offer.pk]["completed_orders"] == 1
    # A second offer of the same seller enters the index with the seller's level.
    other = gig(offer.seller)
    assert OfferSearch.objects.get(offer_id=other.pk).seller_level == "level1"


def test_an_operator_recomputes_one_seller_with_an_audit_entry():
    easy_thresholds("level1")
    offer = gig()
    completed_order(offer=offer)
    operator = UserFactory(operator=True)
    standing = services.level_recompute(
        seller_id=offer.seller_id, actor=operator, reason="Appeal 12: figures checked"
    )
    assert standing.level == "level1"
    entry = AuditEntry.objects.get(action="level_recompute")
    assert entry.target_user_id == offer.seller_id
    assert entry.data == {"from": "new", "to": "level1"}


def test_only_operators_recompute():
    offer = gig()
    with pytest.raises(PermissionDenied) as excinfo:
        services.level_recompute(seller_id=offer.seller_id, actor=offer.seller, reason="me")
    assert excinfo.value.status == 403
    assert not SellerStanding.objects.filter(seller=offer.seller).exists()


def test_a_top_rated_seller_is_paid_out_after_7_days_not_14():
    easy_thresholds("level1")
    easy_thresholds("level2")
    easy_thresholds("top")
    offer = gig()
    seller = offer.seller
    completed_order(offer=offer)
    services.levels_compute_all()
    assert sel.standing_for(seller_id=seller.pk).level == "top"
    assert sel.clearing_days_for_seller(seller.pk) == 7

    before = ledger_selectors.user_balances(seller)["USD"]
    completed_order(offer=offer)
    now = timezone.now()
    earned = ledger_selectors.user_balances(seller)["USD"]["pending"] - before["pending"]
    assert earned > 0
    ledger_services.clearing_apply_due(now=now + timedelta(days=6, hours=23))
    assert ledger_selectors.user_balances(seller)["USD"]["available"] == before["available"]
    ledger_services.clearing_apply_due(now=now + timedelta(days=7, minutes=1))
    assert ledger_selectors.user_balances(seller)["USD"]["available"] == (
        before["available"] + earned
    )


def test_new_sellers_clear_on_the_schedule():
    offer = gig()
    assert sel.clearing_days_for_seller(offer.seller_id) is None
    completed_order(offer=offer)
    clearing = ledger_selectors.pending_clearings(offer.seller).get()
    days = (clearing.available_at - timezone.now()).days
    assert days in (13, 14)


def test_the_demo_computes_every_seller():
    offer = gig()
    lines = demo_levels.build(stdout=io.StringIO())
    assert SellerStanding.objects.filter(seller=offer.seller).exists()
    assert len(lines) == 1
    assert "Seller levels" in lines[0]
