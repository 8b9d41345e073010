"""Operators' actions on reports and people, with the effect a user notices: a hidden review
leaves public lists, a hidden message reads "Removed by a moderator", a suspended person cannot
sign in (their session ends, their token is refused, their offers leave search), a removed offer
is rejected, a warning arrives. Each closes every open report on its target and writes one
audit entry; nobody but an operator can do any of it."""

from __future__ import annotations

import pytest
from django.test import Client

from micromarket.accounts import services as account_services
from micromarket.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from micromarket.catalog.tests.factories import seller as make_seller
from micromarket.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from micromarket.messaging.models import Message, Notification
from micromarket.trust.models import AuditEntry, Report
from micromarket.trust.selectors import reviews as review_selectors
from micromarket.trust.services import moderation as services
from micromarket.trust.tests.factories import gig
from micromarket.trust.tests.test_moderation_reports import (
    API,
    as_user,
    chat,
    public_review,
    report,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    return UserFactory(operator=True, display_name="Olga Operator")


def handle(operator, a_report, action: str, reason: str = "Against the rules", **kwargs):
    return services.report_handle(
        actor=operator, report_id=a_report.pk, action=action, reason=reason, **kwargs
    )


def assert_closed_and_logged(reports, *, operator, action: str, audit_action: str, reason: str):
    for r in reports:
        r.refresh_from_db()
        assert r.status == ("dismissed" if action == "dismiss" else "actioned")
        assert (r.action, r.handled_by) == (action, operator)
        assert r.handled_at is not None
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.reason) == (operator, audit_action, reason)
    assert sorted(entry.data["reports"]) == sorted(r.pk for r in reports)
    return entry


def search_text(client: Client, words: str) -> str:
    return client.get("/search/", {"q": words}).text


# --- each action --------------------------------------------------------------------------------


def test_dismiss_closes_every_open_report_on_the_target(operator):
    offer = gig()
    reports = [report(UserFactory(), "offer", offer.pk) for _ in range(3)]
    other = report(UserFactory(), "offer", gig().pk)
    handle(operator, reports[1], "dismiss", "Nothing wrong with it")
    entry = assert_closed_and_logged(
        reports,
        operator=operator,
        action="dismiss",
        audit_action="report_dismiss",
        reason="Nothing wrong with it",
    )
    assert (entry.target_kind, entry.target_id) == ("offer", offer.pk)
    other.refresh_from_db()
    assert other.status == "open"
    offer.refresh_from_db()
    assert offer.status == "active"
    told = Notification.objects.get(user=reports[0].reporter, category="account")
    assert "looked at your report" in told.title


def test_hide_review_takes_it_out_of_public_lists(operator):
    review = public_review(text="The seller is an idiot")
    public = review_selectors.public_reviews(subject_id=review.subject_id, role="seller")
    assert review in public
    a_report = report(UserFactory(), "review", review.pk, "harassment")
    handle(operator, a_report, "hide", "Insults")
    review.refresh_from_db()
    assert not review.is_public
    assert review.hidden_by == operator
    assert review not in review_selectors.public_reviews(
        subject_id=review.subject_id, role="seller"
    )
    entry = assert_closed_and_logged(
        [a_report], operator=operator, action="hide", audit_action="review_hide", reason="Insults"
    )
    assert entry.target_user == review.author
    assert entry.data["subject_id"] == review.subject_id  # the reviews area's own data, kept
    # hidden reviews cannot be reported any more: they are not public
    with pytest.raises(NotFound):
        report(UserFactory(), "review", review.pk)


def test_hide_message_shows_removed_for_everyone_and_leaves_the_api(operator):
    buyer = UserFactory()
    offer = gig()
    answer = chat(buyer, offer.seller, body="Pay me at paypal.me/cheater and skip fees")
    a_report = report(buyer, "message", answer.pk, "off_platform")
    handle(operator, a_report, "hide", "Off-platform payment")
    thread = f"/inbox/{answer.conversation_id}/"
    for person in (buyer, offer.seller):
        page = as_user(person).get(thread).text
        assert "Removed by a moderator" in page
        assert "paypal.me/cheater" not in page
        body = as_user(person).get(f"{API}/conversations/{answer.conversation_id}/messages").json()
        shown = next(m for m in body["items"] if m["id"] == answer.pk)
        assert shown["body"] == ""
        inbox = as_user(person).get("/inbox/").text
        assert "paypal.me/cheater" not in inbox
    message = Message.objects.get(pk=answer.pk)
    assert (message.hidden_by, message.hidden_reason) == (operator, "Off-platform payment")
    assert_closed_and_logged(
        [a_report],
        operator=operator,
        action="hide",
        audit_action="message_hide",
        reason="Off-platform payment",
    )


def test_suspend_ends_login_session_token_and_search(operator):
    owner = make_seller(display_name="Sam Scammer")
    offer = gig(owner, title="Zanzibarian quince lessons")
    _token, raw = account_services.token_create(user=owner, name="script")
    session = Client()
    assert (
        session.post(
            "/accounts/login/", {"username": owner.email, "password": DEFAULT_PASSWORD}
        ).status_code
        == 302
    )
    assert session.get("/settings/profile/").status_code == 200
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert Client().get(f"{API}/me", **bearer).status_code == 200
    assert "Zanzibarian quince lessons" in search_text(Client(), "Zanzibarian quince")

    reports = [
        report(UserFactory(), "offer", offer.pk, "fake"),
        report(UserFactory(), "offer", offer.pk, "spam"),
    ]
    handle(operator, reports[0], "suspend", "Scam shop")

    owner.refresh_from_db()
    assert owner.suspended_at is not None
    assert not owner.is_active
    assert "/accounts/login/" in session.get("/settings/profile/")["Location"]  # logged out
    again = Client().post(
        "/accounts/login/", {"username": owner.email, "password": DEFAULT_PASSWORD}
    )
    assert again.status_code == 200  # the form again, not a redirect
    # Django's backend refuses inactive accounts before the password, so the page says the
    # same as for a wrong password (it does not tell a guesser the account exists).
    assert "That email and password do not match an account." in again.text
    assert Client().get(f"{API}/me", **bearer).status_code == 401
    assert "Zanzibarian quince lessons" not in search_text(Client(), "Zanzibarian quince")
    assert Client().get(f"/shops/{owner.shop.slug}/").status_code == 404
    entry = assert_closed_and_logged(
        reports,
        operator=operator,
        action="suspend",
        audit_action="user_suspend",
        reason="Scam shop",
    )
    assert (entry.target_kind, entry.target_id, entry.target_user) == ("user", owner.pk, owner)

    services.user_moderate(
        actor=operator, user_id=owner.pk, action="reinstate", reason="Appeal accepted"
    )
    owner.refresh_from_db()
    assert owner.is_active
    assert owner.suspended_at is None
    assert "Zanzibarian quince lessons" in search_text(Client(), "Zanzibarian quince")
    assert Client().get(f"{API}/me", **bearer).status_code == 200
    assert AuditEntry.objects.filter(action="user_reinstate", target_id=owner.pk).exists()


def test_remove_offer_rejects_it_with_the_reason(operator):
    offer = gig(title="Counterfeit watch repair")
    a_report = report(UserFactory(), "offer", offer.pk, "prohibited")
    handle(operator, a_report, "remove_offer", "Counterfeit goods are not allowed")
    offer.refresh_from_db()
    assert offer.status == "rejected"
    assert offer.rejection_reason == "Counterfeit goods are not allowed"
    assert Client().get(f"/offers/{offer.pk}/").status_code == 404
    assert_closed_and_logged(
        [a_report],
        operator=operator,
        action="remove_offer",
        audit_action="offer_remove",
        reason="Counterfeit goods are not allowed",
    )


def test_warn_notifies_the_owner_with_the_operators_message(operator):
    buyer = UserFactory()
    offer = gig()
    answer = chat(buyer, offer.seller, body="You are stupid")
    a_report = report(buyer, "message", answer.pk, "harassment")
    handle(operator, a_report, "warn", "Rude", message="Please stay polite with buyers.")
    note = Notification.objects.get(user=offer.seller, category="account")
    assert note.title == "A warning from the moderators"
    assert "Please stay polite with buyers." in note.body
    entry = assert_closed_and_logged(
        [a_report], operator=operator, action="warn", audit_action="user_warn", reason="Rude"
    )
    assert entry.data["message"] == "Please stay polite with buyers."
    assert Message.objects.get(pk=answer.pk).hidden_at is None


def test_warn_needs_a_message_and_changes_nothing_without(operator):
    a_report = report(UserFactory(), "offer", gig().pk)
    with pytest.raises(ValidationFailed):
        handle(operator, a_report, "warn", "Rude", message="  ")
    a_report.refresh_from_db()
    assert a_report.status == "open"
    assert not AuditEntry.objects.exists()


def test_actions_that_do_not_fit_the_target_are_refused(operator):
    offer_report = report(UserFactory(), "offer", gig().pk)
    with pytest.raises(ValidationFailed):
        handle(operator, offer_report, "hide")
    review_report = report(UserFactory(), "review", public_review().pk)
    with pytest.raises(ValidationFailed):
        handle(operator, review_report, "remove_offer")
    with pytest.raises(ValidationFailed):
        handle(operator, review_report, "dismiss", reason=" ")
    assert Report.objects.filter(status="open").count() == 2
    assert not AuditEntry.objects.exists()


def test_a_handled_report_cannot_be_handled_again(operator):
    a_report = report(UserFactory(), "offer", gig().pk)
    handle(operator, a_report, "dismiss")
    with pytest.raises(Conflict):
        handle(operator, a_report, "remove_offer")
    assert AuditEntry.objects.count() == 1


def test_operators_act_on_a_person_directly(operator):
    person = UserFactory()
    profile_report = report(UserFactory(), "user", person.pk, "fake")
    services.user_moderate(
        actor=operator,
        user_id=person.pk,
        action="warn",
        reason="Fake name",
        message="Use your name.",
    )
    assert Notification.objects.filter(user=person, category="account").exists()
    profile_report.refresh_from_db()
    assert (profile_report.status, profile_report.action) == ("actioned", "warn")
    services.user_moderate(actor=operator, user_id=person.pk, action="suspend", reason="Again")
    person.refresh_from_db()
    assert not person.is_active
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "user_warn",
        "user_suspend",
    ]
    with pytest.raises(Conflict):
        services.user_moderate(actor=operator, user_id=operator.pk, action="suspend", reason="x")


# --- nobody else --------------------------------------------------------------------------------


def test_non_operators_cannot_act_and_nothing_changes():
    offer = gig()
    a_report = report(UserFactory(), "offer", offer.pk)
    for somebody in (UserFactory(), offer.seller, a_report.reporter):
        for action in ("dismiss", "remove_offer", "suspend", "warn"):
            with pytest.raises(PermissionDenied):
                handle(somebody, a_report, action, message="hi")
        with pytest.raises(PermissionDenied):
            services.user_moderate(
                actor=somebody, user_id=offer.seller_id, action="suspend", reason="x"
            )
    a_report.refresh_from_db()
    offer.refresh_from_db()
    offer.seller.refresh_from_db()
    assert a_report.status == "open"
    assert offer.status == "active"
    assert offer.seller.is_active
    assert not AuditEntry.objects.exists()
