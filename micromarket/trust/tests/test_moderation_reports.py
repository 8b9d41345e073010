"""Reports as the people who send them see them: each kind of target, the refusals (own
target, what they cannot see, unknown ids, duplicates, the daily limit), the report page and
link, and the API (a user reads only their own reports)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from micromarket.accounts.tests.factories import UserFactory
from micromarket.core.errors import Conflict, NotFound, RateLimited, ValidationFailed
from micromarket.messaging import services as messaging_services
from micromarket.messaging.models import Notification
from micromarket.trust.models import Report, Review
from micromarket.trust.services import moderation as services
from micromarket.trust.tests.factories import completed_order, gig

pytestmark = pytest.mark.django_db

API = "/api/v1"
PROBLEM = "application/problem+json"


# --- builders shared by the moderation tests ---------------------------------------------------


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_post(client: Client, path: str, body: dict):
    return client.post(API + path, json.dumps(body), content_type="application/json")


def assert_problem(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    if code:
        assert body["code"] == code, body
    return body


def chat(buyer, seller, body: str = "Pay me on paypal.me/someone instead"):
    """``seller`` answers ``buyer`` in a conversation the buyer started; returns the answer."""
    first = messaging_services.conversation_start(
        sender=buyer, recipient_id=seller.pk, body="Hello, is this available?"
    )
    return messaging_services.message_send(
        conversation_id=first.conversation_id, sender=seller, body=body
    )


def public_review(order=None, text: str = "Terrible, avoid this seller!!!") -> Review:
    """A revealed review of the order's seller by its buyer (written as the reviews area
    stores it: these tests are about moderating it, not about writing it)."""
    order = order or completed_order()
    now = timezone.now()
    return Review.objects.create(
        order=order,
        offer_id=order.offer_id,
        author=order.buyer,
        subject=order.seller,
        role=Review.Role.BUYER,
        rating=1,
        text=text,
        reveal_at=now,
        revealed_at=now,
    )


def report(reporter, kind: str, target_id: int, reason: str = "spam", **kwargs) -> Report:
    return services.report_create(
        reporter=reporter, target_kind=kind, target_id=target_id, reason=reason, **kwargs
    )


# --- every kind -------------------------------------------------------------------------------


def test_each_kind_can_be_reported_and_names_its_owner():
    reporter = UserFactory()
    offer = gig()
    message = chat(reporter, offer.seller)
    review = public_review()

    on_offer = report(reporter, "offer", offer.pk, "prohibited", details="Sells exam answers")
    on_profile = report(reporter, "user", offer.seller_id, "fake")
    on_message = report(reporter, "message", message.pk, "off_platform")
    on_review = report(reporter, "review", review.pk, "harassment")

    assert on_offer.target_user_id == offer.seller_id
    assert on_offer.details == "Sells exam answers"
    assert on_profile.target_user_id == offer.seller_id
    assert on_message.target_user_id == offer.seller_id
    assert on_review.target_user_id == review.author_id
    assert {r.status for r in Report.objects.all()} == {"open"}


def test_operators_are_told_in_one_folded_notification():
    operator = UserFactory(operator=True)
    offer = gig()
    for _ in range(3):
        report(UserFactory(), "offer", offer.pk)
    notes = Notification.objects.filter(user=operator, category="moderation")
    assert notes.count() == 1
    assert notes.get().count == 3
    assert notes.get().url == "/ops/trust/reports/"


def test_own_things_cannot_be_reported():
    offer = gig()
    seller = offer.seller
    message = chat(UserFactory(), seller)
    review = public_review()
    for kind, target_id, who in (
        ("offer", offer.pk, seller),
        ("user", seller.pk, seller),
        ("message", message.pk, seller),
        ("review", review.pk, review.author),
    ):
        with pytest.raises(ValidationFailed) as refused:
            report(who, kind, target_id)
        assert refused.value.code == "own_target"
    assert not Report.objects.exists()


def test_what_the_reporter_cannot_see_is_not_found():
    reporter = UserFactory()
    other_conversation = chat(UserFactory(), gig().seller)  # reporter takes no part in it
    hidden_review = public_review()
    Review.objects.filter(pk=hidden_review.pk).update(revealed_at=None)  # not public yet
    draft = gig()
    draft.status = "paused"
    draft.save(update_fields=["status"])
    closed = UserFactory(is_active=False)
    for kind, target_id in (
        ("message", other_conversation.pk),
        ("review", hidden_review.pk),
        ("offer", draft.pk),
        ("user", closed.pk),
        ("offer", 999_999),
        ("user", 999_999),
        ("message", 999_999),
        ("review", 999_999),
        ("order", 1),
    ):
        with pytest.raises(NotFound):
            report(reporter, kind, target_id)
    assert not Report.objects.exists()


def test_one_open_report_per_reporter_and_target():
    reporter = UserFactory()
    offer = gig()
    report(reporter, "offer", offer.pk)
    with pytest.raises(Conflict) as refused:
        report(reporter, "offer", offer.pk, "fake")
    assert refused.value.code == "already_reported"
    report(UserFactory(), "offer", offer.pk)  # someone else may
    assert Report.objects.count() == 2


def test_a_reporter_may_report_again_once_the_first_is_closed():
    operator = UserFactory(operator=True)
    reporter = UserFactory()
    offer = gig()
    first = report(reporter, "offer", offer.pk)
    services.report_handle(actor=operator, report_id=first.pk, action="dismiss", reason="Fine")
    assert report(reporter, "offer", offer.pk).status == "open"


def test_twenty_reports_a_day_then_rate_limited():
    reporter = UserFactory()
    offers = [gig() for _ in range(services.REPORTS_PER_DAY + 1)]
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for offer in offers[:-1]:
            report(reporter, "offer", offer.pk)
        with pytest.raises(RateLimited):
            report(reporter, "offer", offers[-1].pk)
    with time_machine.travel(start + timedelta(hours=24, minutes=1), tick=False):
        assert report(reporter, "offer", offers[-1].pk).pk


def test_bad_reason_and_long_details_are_refused():
    offer = gig()
    with pytest.raises(ValidationFailed):
        report(UserFactory(), "offer", offer.pk, "boring")
    with pytest.raises(ValidationFailed):
        report(UserFactory(), "offer", offer.pk, details="x" * 3001)
    assert not Report.objects.exists()


# --- the API ----------------------------------------------------------------------------------


def test_api_reports_and_refusals():
    reporter = UserFactory()
    client = as_user(reporter)
    offer = gig()
    created = api_post(
        client,
        "/reports",
        {"target_kind": "offer", "target_id": offer.pk, "reason": "spam", "details": "Bot"},
    )
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "open"
    assert_problem(
        api_post(
            client, "/reports", {"target_kind": "offer", "target_id": offer.pk, "reason": "spam"}
        ),
        409,
        "already_reported",
    )
    assert_problem(
        api_post(
            client, "/reports", {"target_kind": "offer", "target_id": 999999, "reason": "spam"}
        ),
        404,
    )
    assert_problem(
        api_post(
            client, "/reports", {"target_kind": "user", "target_id": reporter.pk, "reason": "spam"}
        ),
        422,
        "own_target",
    )


def test_api_rate_limit_is_429():
    reporter = UserFactory()
    client = as_user(reporter)
    offers = [gig() for _ in range(services.REPORTS_PER_DAY + 1)]
    for offer in offers[:-1]:
        report(reporter, "offer", offer.pk)
    response = api_post(
        client, "/reports", {"target_kind": "offer", "target_id": offers[-1].pk, "reason": "spam"}
    )
    assert_problem(response, 429, "rate_limited")


def test_a_user_reads_only_their_own_reports():
    mine = report(UserFactory(), "offer", gig().pk)
    theirs = report(UserFactory(), "offer", gig().pk)
    client = as_user(mine.reporter)
    listed = client.get(f"{API}/reports").json()
    assert [r["id"] for r in listed["items"]] == [mine.pk]
    assert client.get(f"{API}/reports/{mine.pk}").json()["status"] == "open"
    assert_problem(client.get(f"{API}/reports/{theirs.pk}"), 404)
    assert Client().get(f"{API}/reports").status_code == 401


# --- pages ------------------------------------------------------------------------------------


def test_report_page_sends_a_report_and_thanks():
    reporter = UserFactory()
    offer = gig(title="Quince marmalade masterclass")
    client = as_user(reporter)
    form = client.get(f"/report/offer/{offer.pk}/?next=/offers/{offer.pk}/")
    assert form.status_code == 200
    assert "Quince marmalade masterclass" in form.text
    assert "Spam or scam" in form.text
    sent = client.post(
        f"/report/offer/{offer.pk}/",
        {"reason": "fake", "details": "Copied photos", "next": f"/offers/{offer.pk}/"},
        follow=True,
    )
    assert "Thanks, our moderators will look at it" in sent.text
    assert f'href="/offers/{offer.pk}/"' in sent.text
    saved = Report.objects.get()
    assert (saved.reporter, saved.reason, saved.details) == (reporter, "fake", "Copied photos")
    again = client.post(f"/report/offer/{offer.pk}/", {"reason": "fake"})
    assert again.status_code == 409
    assert "already reported" in again.text
    assert Report.objects.count() == 1


def test_report_page_hides_what_the_user_cannot_see():
    client = as_user(UserFactory())
    other = chat(UserFactory(), gig().seller)
    assert client.get(f"/report/message/{other.pk}/").status_code == 404
    assert client.get("/report/offer/999999/").status_code == 404
    assert client.get("/report/order/1/").status_code == 404
    assert Client().get(f"/report/offer/{gig().pk}/").status_code == 302  # sign in first


def test_report_link_on_offer_page_and_messages_not_for_the_owner():
    offer = gig()
    buyer = UserFactory()
    answer = chat(buyer, offer.seller)
    page = as_user(buyer).get(f"/offers/{offer.pk}/")
    assert f'href="/report/offer/{offer.pk}/' in page.text
    assert (
        f'href="/report/offer/{offer.pk}/'
        not in as_user(offer.seller).get(f"/offers/{offer.pk}/").text
    )
    assert "/report/offer/" not in Client().get(f"/offers/{offer.pk}/").text
    thread = f"/inbox/{answer.conversation_id}/"
    buyer_view = as_user(buyer).get(thread).text
    assert f'href="/report/message/{answer.pk}/' in buyer_view
    first_id = answer.conversation.messages.order_by("id").first().pk
    assert f"/report/message/{first_id}/" not in buyer_view  # their own message
    assert f"/report/message/{answer.pk}/" not in as_user(offer.seller).get(thread).text


def test_my_reports_page_shows_status():
    mine = report(UserFactory(), "offer", gig().pk)
    page = as_user(mine.reporter).get("/report/mine/")
    assert "Waiting for a moderator" in page.text
