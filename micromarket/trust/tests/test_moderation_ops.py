"""The operators' pages and API: the report queue grouped by target with its context, acting
from the queue and from a person's page, the audit log with filters; everyone else gets 404 on
the pages and 403 from the API, and nothing changes."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from micromarket.accounts.tests.factories import UserFactory
from micromarket.catalog.tests.factories import seller as make_seller
from micromarket.payments.tests.test_views import operator_login, text
from micromarket.trust.models import AuditEntry, Report
from micromarket.trust.services import moderation as services
from micromarket.trust.tests.factories import gig
from micromarket.trust.tests.test_moderation_reports import (
    API,
    as_user,
    assert_problem,
    chat,
    public_review,
    report,
)

pytestmark = pytest.mark.django_db

OPS_PAGES = ["/ops/trust/reports/", "/ops/trust/audit/", "/ops/trust/users/{user}/"]


@pytest.fixture
def ops():
    client = Client()
    client.operator = operator_login(client)
    return client


def test_queue_groups_reports_by_target_oldest_first_with_context(ops):
    buyer = UserFactory(display_name="Bea Buyer")
    offer = gig(title="Suspicious crypto coaching")
    answer = chat(buyer, offer.seller, body="Send the money to my wallet directly")
    on_message = report(buyer, "message", answer.pk, "off_platform")
    report(UserFactory(), "offer", offer.pk, "spam")
    report(UserFactory(), "offer", offer.pk, "spam")
    report(UserFactory(), "offer", offer.pk, "fake")
    review = public_review(text="Worst seller ever, a real crook")
    report(UserFactory(), "review", review.pk, "harassment")

    page = text(ops.get("/ops/trust/reports/"))
    assert page.index(f"Message {answer.pk}") < page.index(f"Offer {offer.pk}")  # oldest first
    assert "3 reports" in page
    assert "Spam or scam × 2" in page
    assert "Suspicious crypto coaching" in page
    assert "Send the money to my wallet directly" in page  # the excerpt of the conversation
    assert "Hello, is this available?" in page
    assert "Worst seller ever, a real crook" in page
    only_offers = text(ops.get("/ops/trust/reports/?kind=offer"))
    assert "Suspicious crypto coaching" in only_offers
    assert "Worst seller ever" not in only_offers
    assert on_message.status == "open"


def test_acting_from_the_queue(ops):
    offer = gig(title="Fake designer bags")
    reports = [report(UserFactory(), "offer", offer.pk, "prohibited") for _ in range(2)]
    done = ops.post(
        f"/ops/trust/reports/{reports[0].pk}/handle/",
        {"action": "remove_offer", "reason": "Counterfeits"},
        follow=True,
    )
    assert "the action is logged" in text(done)
    assert "Fake designer bags" not in text(done)
    offer.refresh_from_db()
    assert offer.status == "rejected"
    assert set(Report.objects.values_list("status", flat=True)) == {"actioned"}
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action) == (ops.operator, "offer_remove")


def test_a_refused_action_shows_on_the_form(ops):
    a_report = report(UserFactory(), "offer", gig().pk)
    response = ops.post(
        f"/ops/trust/reports/{a_report.pk}/handle/", {"action": "warn", "reason": "Rude"}
    )
    assert response.status_code == 400
    assert "Write the warning the person will read." in text(response)
    a_report.refresh_from_db()
    assert a_report.status == "open"


def test_person_page_shows_reports_audit_and_suspends(ops):
    person = make_seller(display_name="Pat Person")
    report(UserFactory(), "user", person.pk, "fake", details="Pretends to be a bank")
    page = text(ops.get(f"/ops/trust/users/{person.pk}/"))
    assert "Pretends to be a bank" in page
    assert "Active" in page
    assert "Seller level New seller" in page  # read from the levels area
    done = ops.post(
        f"/ops/trust/users/{person.pk}/", {"action": "suspend", "reason": "Impersonation"}
    )
    assert done.status_code == 302
    page = text(ops.get(f"/ops/trust/users/{person.pk}/"))
    assert "Suspended" in page
    assert "user_suspend" in page
    assert "Impersonation" in page
    person.refresh_from_db()
    assert not person.is_active


def test_audit_log_lists_filters_and_pages(ops):
    person = UserFactory()
    for n in range(3):
        services.audit_record(
            actor=ops.operator,
            action="dispute_decide",
            target_kind="dispute",
            target_id=n + 1,
            reason=f"Decision {n}",
        )
    services.user_moderate(
        actor=ops.operator, user_id=person.pk, action="warn", reason="Spam DMs", message="Stop."
    )
    page = text(ops.get("/ops/trust/audit/"))
    assert page.index("Spam DMs") < page.index("Decision 2") < page.index("Decision 0")
    filtered = text(ops.get("/ops/trust/audit/?action=user_warn"))
    assert "Spam DMs" in filtered
    assert "Decision 1" not in filtered
    by_target = text(ops.get("/ops/trust/audit/?target_kind=dispute&target_id=2"))
    assert "Decision 1" in by_target
    assert "Decision 2" not in by_target

    api = ops.get(f"{API}/ops/audit", {"target_kind": "dispute", "limit": 2})
    assert api.status_code == 200, api.content
    body = api.json()
    assert body["count"] == 3
    assert [e["reason"] for e in body["items"]] == ["Decision 2", "Decision 1"]
    assert body["next"]


def test_ops_api_lists_and_handles_reports(ops):
    offer = gig()
    first = report(UserFactory(), "offer", offer.pk, "spam")
    report(UserFactory(), "offer", offer.pk, "fake")
    listed = ops.get(f"{API}/ops/reports").json()
    assert listed["items"][0]["id"] == first.pk
    assert listed["items"][0]["open_on_target"] == 2
    handled = ops.post(
        f"{API}/ops/reports/{first.pk}/handle",
        json.dumps({"action": "dismiss", "reason": "Looks fine"}),
        content_type="application/json",
    )
    assert handled.status_code == 200, handled.content
    assert handled.json()["status"] == "dismissed"
    assert handled.json()["open_on_target"] == 0
    again = ops.post(
        f"{API}/ops/reports/{first.pk}/handle",
        json.dumps({"action": "dismiss", "reason": "Again"}),
        content_type="application/json",
    )
    assert_problem(again, 409, "already_handled")


# --- everyone else ------------------------------------------------------------------------------


def test_operator_pages_are_404_to_others_and_ask_visitors_to_sign_in():
    person = UserFactory()
    a_report = report(UserFactory(), "user", person.pk)
    client = as_user(UserFactory())
    for path in OPS_PAGES:
        url = path.format(user=person.pk)
        assert client.get(url).status_code == 404
        assert "/accounts/login/" in Client().get(url)["Location"]
    assert (
        client.post(
            f"/ops/trust/reports/{a_report.pk}/handle/", {"action": "dismiss", "reason": "x"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/ops/trust/users/{person.pk}/", {"action": "suspend", "reason": "x"}
        ).status_code
        == 404
    )
    a_report.refresh_from_db()
    person.refresh_from_db()
    assert a_report.status == "open"
    assert person.is_active
    assert not AuditEntry.objects.exists()


def test_operator_api_is_403_to_others_and_changes_nothing():
    a_report = report(UserFactory(), "offer", gig().pk)
    for client in (as_user(UserFactory()), as_user(a_report.reporter)):
        assert_problem(client.get(f"{API}/ops/reports"), 403, "operators_only")
        assert_problem(client.get(f"{API}/ops/audit"), 403, "operators_only")
        assert_problem(
            client.post(
                f"{API}/ops/reports/{a_report.pk}/handle",
                json.dumps({"action": "dismiss", "reason": "x"}),
                content_type="application/json",
            ),
            403,
            "operators_only",
        )
    assert Client().get(f"{API}/ops/audit").status_code == 401
    a_report.refresh_from_db()
    assert a_report.status == "open"
    assert not AuditEntry.objects.exists()
