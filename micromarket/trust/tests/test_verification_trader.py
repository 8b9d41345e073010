"""Identity and trader details: sellers only, their own payout method, an image judged by its
content, one submission waiting at a time, reviewed by an operator (audited, notified), and
payouts refused until approved."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from micromarket.accounts.tests.factories import UserFactory
from micromarket.catalog.tests.factories import seller
from micromarket.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from micromarket.ledger import selectors as ledger_selectors
from micromarket.ledger import services as ledger
from micromarket.messaging.models import Notification
from micromarket.payments import services as payments_services
from micromarket.payments.providers import sandbox
from micromarket.payments.tests.test_views import operator_login, text
from micromarket.trust.models import AuditEntry, TraderVerification
from micromarket.trust.selectors import verification as selectors
from micromarket.trust.services import verification as services
from micromarket.trust.tests.factories import completed_order
from micromarket.trust.tests.factories_verification import (
    id_picture,
    payout_method_of,
    submit,
    trader_fields,
    verified_seller,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    return UserFactory(operator=True)


def test_a_seller_submits_details_the_document_is_kept_as_webp_without_metadata(operator):
    user = seller()
    row = submit(user)
    assert row.status == "pending"
    with row.document.open("rb") as fh:
        data = fh.read()
    assert hashlib.sha256(data).hexdigest() == row.document_sha256
    with Image.open(row.document.open("rb")) as img:
        assert img.format == "WEBP"
        assert not img.getexif()
    assert not selectors.payouts_allowed(user=user)
    assert Notification.objects.filter(user=operator, category="trust_queue").exists()


def test_someone_without_a_shop_cannot_submit():
    user = UserFactory()
    method = payments_services.payout_method_add(owner=user, destination=sandbox.BANK_SUCCEEDS)
    with pytest.raises(PermissionDenied):
        submit(user, method)
    assert not TraderVerification.objects.exists()


def test_someone_elses_payout_method_is_not_found_and_nothing_is_written():
    user, other = seller(), seller()
    with pytest.raises(NotFound) as exc:
        submit(user, payout_method_of(other))
    assert exc.value.field == "payout_method"
    assert not TraderVerification.objects.exists()


def test_a_text_file_named_like_a_picture_is_refused():
    user = seller()
    fake = SimpleUploadedFile("passport.jpg", b"I am not a picture at all", "image/jpeg")
    with pytest.raises(ValidationFailed) as exc:
        services.trader_submit(
            user=user,
            payout_method_id=payout_method_of(user).pk,
            document=fake,
            **trader_fields(),
        )
    assert exc.value.field == "document"
    assert not TraderVerification.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"), [("legal_name", ""), ("city", "  "), ("country", "XX"), ("postal_code", "")]
)
def test_missing_or_wrong_details_are_refused(field, value):
    user = seller()
    with pytest.raises(ValidationFailed) as exc:
        submit(user, **{field: value})
    assert exc.value.field == field
    assert not TraderVerification.objects.exists()


def test_one_submission_waits_at_a_time(operator):
    user = seller()
    first = submit(user)
    with pytest.raises(Conflict):
        submit(user)
    assert TraderVerification.objects.count() == 1
    services.trader_review(actor=operator, verification_id=first.pk, approve=False, note="Blurry")
    submit(user)  # once reviewed, new details can be sent
    assert TraderVerification.objects.count() == 2


def test_approval_allows_payouts_shows_trader_information_and_is_audited(operator):
    user = seller()
    row = submit(user)
    services.trader_review(actor=operator, verification_id=row.pk, approve=True, note="")
    assert selectors.payouts_allowed(user=user)
    assert selectors.badges(user=user).identity
    details = selectors.trader_details(user=user)
    assert details["legal_name"] == "Maria Rossi"
    assert details["country_name"] == "Italy"
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.target_id, entry.target_user) == (
        operator,
        "trader_approve",
        row.pk,
        user,
    )
    assert Notification.objects.filter(user=user, category="account").exists()
    with pytest.raises(Conflict):
        services.trader_review(actor=operator, verification_id=row.pk, approve=False, note="x")


def test_rejection_needs_a_reason_keeps_payouts_off_and_tells_the_seller(operator):
    user = seller()
    row = submit(user)
    with pytest.raises(ValidationFailed):
        services.trader_review(actor=operator, verification_id=row.pk, approve=False, note="")
    services.trader_review(
        actor=operator, verification_id=row.pk, approve=False, note="The name does not match"
    )
    assert not selectors.payouts_allowed(user=user)
    assert not selectors.badges(user=user).identity
    assert selectors.trader_details(user=user) is None
    assert AuditEntry.objects.get().action == "trader_reject"
    note = Notification.objects.get(user=user, category="account")
    assert "The name does not match" in note.body


def test_only_operators_review_and_not_their_own(operator):
    user = seller()
    row = submit(user)
    with pytest.raises(PermissionDenied):
        services.trader_review(actor=UserFactory(), verification_id=row.pk, approve=True)
    with pytest.raises(PermissionDenied):
        services.trader_review(actor=user, verification_id=row.pk, approve=True)
    assert TraderVerification.objects.get().status == "pending"
    assert not AuditEntry.objects.exists()


def test_payouts_are_refused_until_approved_then_work(operator):
    order = completed_order()
    user = order.seller
    ledger.clearing_apply_due(now=timezone.now() + timedelta(days=90))
    available = ledger_selectors.user_balances(user)[order.currency]["available"]
    assert available > 0
    method = payout_method_of(user)
    with pytest.raises(PermissionDenied) as exc:
        payments_services.payout_request(
            owner=user,
            amount=available,
            currency=order.currency,
            method_id=method.pk,
            idempotency_key="k1",
        )
    assert exc.value.code == "verification_required"
    assert "/settings/verification/" in exc.value.message
    assert ledger_selectors.user_balances(user)[order.currency]["available"] == available
    verified_seller(user, method=method, operator=operator)
    payout = payments_services.payout_request(
        owner=user,
        amount=available,
        currency=order.currency,
        method_id=method.pk,
        idempotency_key="k2",
    )
    assert payout.amount == available


def test_the_earnings_page_says_why_payouts_are_refused(client):
    order = completed_order()
    user = order.seller
    ledger.clearing_apply_due(now=timezone.now() + timedelta(days=90))
    client.force_login(user)
    method = payout_method_of(user)
    response = client.post(
        "/earnings/",
        {
            "amount": "20.00",
            "currency": order.currency,
            "method": method.pk,
            "idempotency_key": "earnings-page-key-1",
        },
    )
    assert response.status_code == 400
    assert "verified your identity" in text(response)


def test_a_new_submission_pauses_payouts_until_reviewed_but_keeps_the_badge(operator):
    user = verified_seller(seller(), operator=operator)
    submit(user, city="Modena")
    assert not selectors.payouts_allowed(user=user)
    assert selectors.badges(user=user).identity
    assert selectors.trader_details(user=user)["city"] == "Bologna"


# --- pages ------------------------------------------------------------------------------------


def test_the_settings_page_sends_details_and_shows_the_rejection_reason(client, operator):
    user = seller()
    method = payout_method_of(user)
    client.force_login(user)
    page = client.get("/settings/verification/")
    assert "Identity and trader details" in text(page)
    response = client.post(
        "/settings/verification/trader/",
        {**trader_fields(), "payout_method": method.pk, "document": id_picture()},
    )
    assert response.status_code == 302, text(response)
    assert "waiting for review" in text(client.get("/settings/verification/"))
    row = TraderVerification.objects.get()
    services.trader_review(
        actor=operator, verification_id=row.pk, approve=False, note="The photo is blurred"
    )
    page = text(client.get("/settings/verification/"))
    assert "not accepted" in page
    assert "The photo is blurred" in page


def test_a_renamed_text_file_on_the_page_is_explained(client):
    user = seller()
    client.force_login(user)
    fake = SimpleUploadedFile("id.png", b"plain text", "image/png")
    response = client.post(
        "/settings/verification/trader/",
        {**trader_fields(), "payout_method": payout_method_of(user).pk, "document": fake},
    )
    assert response.status_code == 400
    assert "not an image" in text(response)
    assert not TraderVerification.objects.exists()


def test_operators_review_from_the_queue(client):
    user = seller()
    older = submit(user)
    newer = submit(seller(), legal_name="Kwame Mensah")
    operator = operator_login(client)
    queue = client.get("/ops/trust/verifications/")
    assert queue.status_code == 200
    body = text(queue)
    assert body.index("Maria Rossi") < body.index("Kwame Mensah")  # oldest first
    detail = client.get(f"/ops/trust/verifications/{older.pk}/")
    assert "Via Roma 12" in text(detail)
    assert "BO-123456" in text(detail)
    assert f"/ops/trust/verifications/{older.pk}/document/" in detail.content.decode()
    refused = client.post(f"/ops/trust/verifications/{newer.pk}/", {"decision": "reject"})
    assert refused.status_code == 400
    assert "Say why" in text(refused)
    response = client.post(f"/ops/trust/verifications/{older.pk}/", {"decision": "approve"})
    assert response.status_code == 302
    assert selectors.payouts_allowed(user=user)
    assert AuditEntry.objects.get().actor == operator


def test_the_document_is_served_to_operators_only_and_never_cached(client):
    row = submit(seller())
    url = f"/ops/trust/verifications/{row.pk}/document/"
    client.force_login(row.user)  # not even its owner
    assert client.get(url).status_code == 404
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the sign-in page
    operator_login(client)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["Cache-Control"] == "private, no-store"
    assert "/media/" not in client.get(f"/ops/trust/verifications/{row.pk}/").content.decode()


def test_operator_pages_are_404_for_everyone_else(client):
    row = submit(seller())
    client.force_login(UserFactory())
    assert client.get("/ops/trust/verifications/").status_code == 404
    assert client.get(f"/ops/trust/verifications/{row.pk}/").status_code == 404
    response = client.post(f"/ops/trust/verifications/{row.pk}/", {"decision": "approve"})
    assert response.status_code == 404
    assert TraderVerification.objects.get().status == "pending"


def test_badges_and_trader_information_on_the_shop_and_offer_pages(client, operator):
    from micromarket.trust.tests.factories import gig

    offer = gig()
    user = offer.seller
    shop_url = f"/shops/{user.shop.slug}/"
    page = text(client.get(shop_url))
    assert "Email verified" in page
    assert "Identity verified" not in page
    assert "Trader information" not in page
    verified_seller(user, operator=operator)
    for url in (shop_url, f"/offers/{offer.pk}/"):
        response = client.get(url)
        assert response.status_code == 200
        page = text(response)
        assert "Identity verified" in page
        assert "Trader information" in page
        assert "Via Roma 12" in page
        assert "BO-123456" in page


# --- API --------------------------------------------------------------------------------------


def test_the_api_submits_details_and_reports_the_status(client):
    user = seller()
    client.force_login(user)
    response = client.post(
        "/api/v1/verification/trader",
        {
            **trader_fields(),
            "payout_method_id": payout_method_of(user).pk,
            "document": id_picture(),
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending"
    status = client.get("/api/v1/verification").json()
    assert status["trader"]["status"] == "pending"
    assert status["payouts_allowed"] is False
    again = client.post(
        "/api/v1/verification/trader",
        {
            **trader_fields(),
            "payout_method_id": payout_method_of(user).pk,
            "document": id_picture(),
        },
    )
    assert again.status_code == 409


def test_the_api_refuses_someone_elses_method_and_non_images(client):
    user, other = seller(), seller()
    client.force_login(user)
    response = client.post(
        "/api/v1/verification/trader",
        {
            **trader_fields(),
            "payout_method_id": payout_method_of(other).pk,
            "document": id_picture(),
        },
    )
    assert response.status_code == 404
    fake = SimpleUploadedFile("id.jpg", b"hello", "image/jpeg")
    response = client.post(
        "/api/v1/verification/trader",
        {**trader_fields(), "payout_method_id": payout_method_of(user).pk, "document": fake},
    )
    assert response.status_code == 422
    assert not TraderVerification.objects.exists()
    client.force_login(UserFactory())
    response = client.post(
        "/api/v1/verification/trader",
        {**trader_fields(), "payout_method_id": 1, "document": id_picture()},
    )
    assert response.status_code == 403


def test_public_badges_of_an_unknown_user_are_404(client):
    assert client.get("/api/v1/users/999999/badges").status_code == 404
