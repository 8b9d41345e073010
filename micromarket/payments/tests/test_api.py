"""/api/v1 money endpoints: wallet, payouts with Idempotency-Key, receipts, fee quotes and the
Stripe webhook (signed like Stripe signs, against the fake Stripe API)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from micromarket.accounts.tests.factories import UserFactory
from micromarket.core.models import IdempotencyRecord
from micromarket.ledger import services as ledger
from micromarket.payments import services
from micromarket.payments.models import Payment, Payout, WebhookEvent
from micromarket.payments.providers import sandbox
from micromarket.trust.tests.factories_verification import verified_seller

from .fake_stripe import FakeStripe

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def buyer():
    return UserFactory()


@pytest.fixture
def seller():
    return verified_seller(UserFactory())


def pay_and_clear(buyer, seller, subtotal=10_000, ref="order:1"):
    services.payment_start(
        buyer=buyer,
        currency="USD",
        orders=[
            services.OrderCharge(
                reference=ref, seller=seller, subtotal=subtotal, description="Website copy"
            )
        ],
        payment_method=sandbox.CARD_SUCCEEDS,
        idempotency_key=ref,
        return_url="http://testserver/",
    )
    services.escrow_release(reference=ref, idempotency_key=f"release:{ref}", clearing_days=0)
    ledger.clearing_apply_due(now=timezone.now() + timedelta(seconds=1))


@pytest.fixture
def seller_client(client, seller):
    client.force_login(seller)
    return client


@pytest.fixture
def method(seller):
    return services.payout_method_add(owner=seller, destination=sandbox.BANK_SUCCEEDS)


def test_wallet_shows_each_balance(seller_client, buyer, seller):
    pay_and_clear(buyer, seller)
    body = seller_client.get("/api/v1/wallet").json()
    assert body["balances"] == [
        {
            "currency": "USD",
            "pending": 0,
            "available": 9_000,
            "in_payout": 0,
            "credit": 0,
            "next_clearing_at": None,
        }
    ]


def test_wallet_transactions_have_a_running_balance(seller_client, buyer, seller):
    pay_and_clear(buyer, seller, ref="order:1")
    pay_and_clear(buyer, seller, subtotal=2_000, ref="order:2")
    body = seller_client.get("/api/v1/wallet/transactions?currency=USD&limit=1").json()
    assert body["count"] == 2
    assert [(i["amount"], i["balance"]) for i in body["items"]] == [(1_800, 10_800)]
    assert body["next"].endswith("offset=1")
    older = seller_client.get(body["next"]).json()
    assert [(i["amount"], i["balance"]) for i in older["items"]] == [(9_000, 9_000)]


def test_wallet_needs_authentication(client):
    response = client.get("/api/v1/wallet")
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM


def post_payout(client, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(
        "/api/v1/payouts", json.dumps(body), content_type="application/json", **headers
    )


def test_payout_with_idempotency_key_is_made_once(
    seller_client, buyer, seller, method, django_capture_on_commit_callbacks
):
    pay_and_clear(buyer, seller)
    body = {"amount": 5_000, "currency": "USD", "method_id": method.pk}
    with django_capture_on_commit_callbacks(execute=True):
        first = post_payout(seller_client, body, key="k-1")
    again = post_payout(seller_client, body, key="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Payout.objects.count() == 1
    assert seller_client.get("/api/v1/wallet").json()["balances"][0]["available"] == 4_000


def test_same_key_other_parameters_is_refused(seller_client, buyer, seller, method):
    pay_and_clear(buyer, seller)
    post_payout(
        seller_client, {"amount": 5_000, "currency": "USD", "method_id": method.pk}, key="k-1"
    )
    response = post_payout(
        seller_client, {"amount": 6_000, "currency": "USD", "method_id": method.pk}, key="k-1"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_mismatch"
    assert Payout.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "currency", "code"),
    [
        (0, "USD", "validation_failed"),
        (-100, "USD", "validation_failed"),
        ("12.50", "USD", "validation_failed"),
        (100, "XYZ", "validation_failed"),
        (1_000_000, "USD", "insufficient_funds"),
        (100, "EUR", "insufficient_funds"),
    ],
)
def test_bad_payouts_are_refused_and_write_nothing(
    seller_client, buyer, seller, method, amount, currency, code
):
    pay_and_clear(buyer, seller)
    response = post_payout(
        seller_client, {"amount": amount, "currency": currency, "method_id": method.pk}, key="k-bad"
    )
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == code
    assert not Payout.objects.exists()
    assert seller_client.get("/api/v1/wallet").json()["balances"][0]["available"] == 9_000


def test_a_failed_request_replays_the_same_error(seller_client, method):
    body = {"amount": 100, "currency": "USD", "method_id": method.pk}
    first = post_payout(seller_client, body, key="k-2")
    again = post_payout(seller_client, body, key="k-2")
    assert first.status_code == again.status_code == 422
    assert again.json()["code"] == "insufficient_funds"


def test_idempotency_keys_are_forgotten_after_the_retention(seller_client, method):
    from micromarket.core.jobs import purge_idempotency_keys

    post_payout(
        seller_client, {"amount": 100, "currency": "USD", "method_id": method.pk}, key="old"
    )
    assert purge_idempotency_keys(now=timezone.now() + timedelta(hours=23)) == 0
    assert purge_idempotency_keys(now=timezone.now() + timedelta(hours=49)) == 1
    assert not IdempotencyRecord.objects.exists()


def test_payout_with_someone_elses_method_is_not_found(client, buyer, seller):
    pay_and_clear(buyer, seller)
    other_method = services.payout_method_add(owner=buyer, destination=sandbox.BANK_SUCCEEDS)
    client.force_login(seller)
    response = post_payout(client, {"amount": 100, "currency": "USD", "method_id": other_method.pk})
    assert response.status_code == 404
    assert not Payout.objects.exists()


def test_another_user_cannot_read_a_payout_or_remove_a_method(client, buyer, seller, method):
    pay_and_clear(buyer, seller)
    payout = services.payout_request(
        owner=seller, amount=1_000, currency="USD", method_id=method.pk, idempotency_key="x"
    )
    client.force_login(UserFactory())
    assert client.get(f"/api/v1/payouts/{payout.pk}").status_code == 404
    assert client.delete(f"/api/v1/payout-methods/{method.pk}").status_code == 404
    assert client.get("/api/v1/payouts").json()["count"] == 0
    method.refresh_from_db()
    assert method.removed_at is None


def test_payout_methods_are_listed_without_the_full_number(seller_client, method):
    body = seller_client.get("/api/v1/payout-methods").json()
    assert body == [
        {
            "id": method.pk,
            "provider": "sandbox",
            "label": "Account ending 6789",
            "destination_last4": "6789",
            "created_at": body[0]["created_at"],
        }
    ]
    bad = seller_client.post(
        "/api/v1/payout-methods", {"destination": "not a number"}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["body", "destination"]


def test_receipt_is_visible_to_the_buyer_only(client, buyer, seller):
    pay_and_clear(buyer, seller)
    payment = Payment.objects.get()
    client.force_login(buyer)
    receipt = client.get(f"/api/v1/payments/{payment.pk}").json()
    assert receipt["total"] == 10_500
    assert receipt["lines"][0]["service_fee"] == 500
    client.force_login(seller)
    assert client.get(f"/api/v1/payments/{payment.pk}").status_code == 404


def test_fee_quote_is_public(client):
    body = client.get("/api/v1/fees/quote?subtotal=2000&currency=usd").json()
    assert (body["service_fee"], body["total"], body["seller_net"]) == (100, 2_100, 1_800)
    assert body["buyer_fee_percent"] == "5%"
    assert client.get("/api/v1/fees/quote?subtotal=0").status_code == 422


# Stripe webhook ---------------------------------------------------------------------------

SECRET = "whsec_test"


def signed(payload: bytes, secret: str = SECRET, at: int | None = None) -> dict:
    at = int(time.time()) if at is None else at
    sig = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return {"HTTP_STRIPE_SIGNATURE": f"t={at},v1={sig}"}


@pytest.fixture
def stripe_settings(settings):
    fake = FakeStripe().start()
    settings.PAYMENTS_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = fake.api_key
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_WEBHOOK_SECRETS = ["whsec_new", SECRET]
    yield fake
    fake.stop()


def test_stripe_payment_confirmed_by_webhook_moves_money_into_escrow(
    client, buyer, seller, stripe_settings
):
    payment = services.payment_start(
        buyer=buyer,
        currency="USD",
        orders=[
            services.OrderCharge(
                reference="order:9", seller=seller, subtotal=4_000, description="Tour"
            )
        ],
        payment_method="pm_card_threeDSecure2Required",
        idempotency_key="p",
        return_url="http://testserver/back",
    )
    assert payment.status == "requires_action"
    event = {
        "id": "evt_1",
        "type": "payment_intent.succeeded",
        "object": "event",
        "data": {
            "object": {
                "id": payment.provider_reference,
                "object": "payment_intent",
                "amount": 4_200,
                "amount_received": 4_200,
                "currency": "usd",
                "status": "succeeded",
            }
        },
    }
    payload = json.dumps(event).encode()
    response = client.post(
        "/api/v1/payments/stripe/webhook",
        payload,
        content_type="application/json",
        **signed(payload),
    )
    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    from micromarket.ledger import selectors

    assert selectors.escrow_for_reference("order:9").account.balance == 4_200
    # Stripe redelivers: acknowledged, applied once.
    again = client.post(
        "/api/v1/payments/stripe/webhook",
        payload,
        content_type="application/json",
        **signed(payload),
    )
    assert again.json()["outcome"] == "duplicate event, already processed"
    assert WebhookEvent.objects.count() == 1
    assert selectors.ledger_verify() == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_STRIPE_SIGNATURE": "garbage"},
        "wrong-secret",
        "expired",
    ],
)
def test_unverified_webhooks_are_refused_and_change_nothing(client, stripe_settings, headers):
    payload = json.dumps(
        {"id": "evt_2", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_x"}}}
    ).encode()
    if headers == "wrong-secret":
        headers = signed(payload, secret="whsec_attacker")
    elif headers == "expired":
        headers = signed(payload, at=int(time.time()) - 3600)
    response = client.post(
        "/api/v1/payments/stripe/webhook", payload, content_type="application/json", **headers
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_signature"
    assert not WebhookEvent.objects.exists()


def test_stripe_sellers_get_a_connect_account_and_an_onboarding_link(
    seller_client, seller, stripe_settings
):
    first = seller_client.post(
        "/api/v1/payout-methods/stripe-onboarding",
        {"country": "FR"},
        content_type="application/json",
    )
    assert first.status_code == 201
    body = first.json()
    assert body["onboarding_url"].startswith("https://connect.stripe.test/setup/acct_")
    again = seller_client.post(
        "/api/v1/payout-methods/stripe-onboarding",
        {"country": "FR"},
        content_type="application/json",
    ).json()
    assert again["method"]["id"] == body["method"]["id"]  # one account, a fresh link
    assert len(stripe_settings.requests_to("POST", "/v1/accounts")) == 1
    created = stripe_settings.requests_to("POST", "/v1/accounts")[0]
    assert created.params["email"] == seller.email


def test_stripe_onboarding_is_refused_with_the_sandbox(seller_client):
    response = seller_client.post(
        "/api/v1/payout-methods/stripe-onboarding",
        {"country": "FR"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "provider_not_stripe"


def test_connect_with_stripe_from_the_payout_methods_page(seller_client, stripe_settings):
    page = seller_client.get("/earnings/payout-methods/")
    assert "Connect with Stripe" in page.text
    response = seller_client.post("/earnings/payout-methods/stripe/", {"country": "DE"})
    assert response.status_code == 302
    assert response["Location"].startswith("https://connect.stripe.test/setup/acct_")
    assert "Open Stripe" in seller_client.get("/earnings/payout-methods/").text


def test_more_than_the_balance_is_explained_in_money_not_cents(seller_client, method):
    response = post_payout(
        seller_client, {"amount": 100, "currency": "USD", "method_id": method.pk}
    )
    assert response.json()["detail"] == "That is more than your available balance ($0.00)."


def test_a_webhook_that_fails_to_apply_is_applied_when_stripe_retries(
    client, buyer, seller, stripe_settings, monkeypatch
):
    payment = services.payment_start(
        buyer=buyer,
        currency="USD",
        orders=[
            services.OrderCharge(
                reference="order:7", seller=seller, subtotal=4_000, description="Class"
            )
        ],
        payment_method="pm_card_threeDSecure2Required",
        idempotency_key="p7",
        return_url="http://testserver/back",
    )
    event = {
        "id": "evt_7",
        "type": "payment_intent.succeeded",
        "object": "event",
        "data": {
            "object": {
                "id": payment.provider_reference,
                "object": "payment_intent",
                "amount": 4_200,
                "amount_received": 4_200,
                "currency": "usd",
                "status": "succeeded",
            }
        },
    }
    payload = json.dumps(event).encode()
    real = services.payment_record_result

    def database_hiccup(**kwargs):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(services, "payment_record_result", database_hiccup)
    client.raise_request_exception = False
    first = client.post(
        "/api/v1/payments/stripe/webhook",
        payload,
        content_type="application/json",
        **signed(payload),
    )
    assert first.status_code == 500  # Stripe retries anything but 2xx
    assert not WebhookEvent.objects.exists()
    monkeypatch.setattr(services, "payment_record_result", real)
    retry = client.post(
        "/api/v1/payments/stripe/webhook",
        payload,
        content_type="application/json",
        **signed(payload),
    )
    assert retry.status_code == 200
    payment.refresh_from_db()
    assert payment.status == "succeeded"
