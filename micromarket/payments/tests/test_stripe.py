"""StripeProvider through the real ``stripe`` library, against a local fake of the Stripe API
(fake_stripe.py); webhook signatures are built here with hmac, the way Stripe builds them."""

from __future__ import annotations

import hashlib
import hmac
import inspect
import json
import socket
from datetime import UTC, datetime, timedelta

import pytest
import stripe

from micromarket.payments.providers.base import (
    ChargeResult,
    PaymentProvider,
    ProviderError,
    WebhookSignatureError,
)
from micromarket.payments.providers.stripe import StripeProvider

from .fake_stripe import (
    API_KEY,
    AUTHENTICATION_FAILED_MESSAGE,
    DECLINE_MESSAGE,
    FAILED_DESTINATION_MESSAGE,
    FakeStripe,
)

SECRET = "whsec_current"
OLD_SECRET = "whsec_previous"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def fake():
    server = FakeStripe().start()
    yield server
    server.stop()


@pytest.fixture
def provider(fake):
    return StripeProvider(
        api_key=API_KEY, webhook_secrets=[SECRET], api_base=fake.url, max_network_retries=0
    )


def charge(provider, payment_method="pm_card_visa", **overrides) -> ChargeResult:
    kwargs = {
        "amount": 2500,
        "currency": "EUR",
        "payment_method": payment_method,
        "description": "Pottery class for 2",
        "idempotency_key": "order-1-charge",
        "return_url": "https://market.example/orders/1/return",
        **overrides,
    }
    return provider.charge(**kwargs)


def test_provider_matches_the_interface_signatures(provider):
    """Services call every provider with the same keywords; a drifted signature breaks them."""
    assert provider.name == "stripe"
    methods = [
        name
        for name, value in vars(PaymentProvider).items()
        if inspect.isfunction(value) and not name.startswith("_")
    ]
    assert len(methods) == 8  # charge, charge_retrieve, charge_cancel, refund, …, webhook_event
    for name in methods:
        expected = inspect.signature(getattr(PaymentProvider, name)).parameters
        actual = inspect.signature(getattr(StripeProvider, name)).parameters
        assert [(p.name, p.kind) for p in actual.values()] == [
            (p.name, p.kind) for p in expected.values()
        ], name


# Charges -------------------------------------------------------------------------------------


def test_successful_charge_reports_the_stripe_fee(fake, provider):
    result = charge(provider)

    assert result.status == "succeeded"
    assert result.reference.startswith("pi_")
    assert (result.amount, result.currency) == (2500, "EUR")
    assert result.fee == 102  # 2.9 % + 30 on 25.00, read from the charge's balance transaction
    [sent] = fake.requests_to("POST", "/v1/payment_intents")
    assert sent.params["amount"] == "2500"
    assert sent.params["currency"] == "eur"
    assert sent.params["payment_method"] == "pm_card_visa"
    assert sent.params["confirm"] == "true"
    assert sent.params["payment_method_types[0]"] == "card"
    assert sent.params["return_url"] == "https://market.example/orders/1/return"
    assert sent.params["description"] == "Pottery class for 2"
    assert sent.params["expand[0]"] == "latest_charge.balance_transaction"
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert stripe.api_key is None  # the key lives in the provider's client, not in the module


def test_declined_card_surfaces_the_decline_message(fake, provider):
    result = charge(provider, "pm_card_chargeDeclined")

    assert result.status == "declined"
    assert result.decline_message == DECLINE_MESSAGE
    assert (result.amount, result.currency, result.fee) == (2500, "EUR", 0)
    # The failed PaymentIntent Stripe created is the reference, for support look-ups.
    assert fake.payment_intents[result.reference]["status"] == "requires_payment_method"


def test_three_d_secure_needs_action_then_succeeds(fake, provider):
    result = charge(provider, "pm_card_threeDSecure2Required")

    assert result.status == "requires_action"
    assert result.action_url == f"https://hooks.stripe.com/3d_secure_2/hosted/{result.reference}"
    assert provider.charge_retrieve(reference=result.reference).status == "requires_action"

    fake.complete_authentication(result.reference)
    after = provider.charge_retrieve(reference=result.reference)

    assert after.status == "succeeded"
    assert (after.reference, after.amount, after.currency, after.fee) == (
        result.reference,
        2500,
        "EUR",
        102,
    )
    [retrieve, *_] = fake.requests_to("GET", f"/v1/payment_intents/{result.reference}")
    assert retrieve.params["expand[0]"] == "latest_charge.balance_transaction"


def test_failed_three_d_secure_is_a_decline_with_stripes_message(fake, provider):
    result = charge(provider, "pm_card_threeDSecure2Required")
    fake.complete_authentication(result.reference, succeed=False)

    after = provider.charge_retrieve(reference=result.reference)

    assert after.status == "declined"
    assert after.decline_message == AUTHENTICATION_FAILED_MESSAGE


def test_processing_payment_intent_is_reported_as_processing(fake, provider):
    result = charge(provider, "pm_card_threeDSecure2Required")
    fake.payment_intents[result.reference].update(status="processing", next_action=None)

    assert provider.charge_retrieve(reference=result.reference).status == "processing"


def test_retrieving_an_unknown_payment_intent_is_a_provider_error(provider):
    with pytest.raises(ProviderError, match="No such payment_intent: 'pi_missing'"):
        provider.charge_retrieve(reference="pi_missing")


def test_idempotency_key_is_forwarded_and_a_retry_does_not_charge_twice(fake, provider):
    first = charge(provider, idempotency_key="order-7-charge")
    retried = charge(provider, idempotency_key="order-7-charge")

    assert retried == first
    assert len(fake.payment_intents) == 1
    assert len(fake.charges) == 1
    sent = fake.requests_to("POST", "/v1/payment_intents")
    assert [request.idempotency_key for request in sent] == ["order-7-charge", "order-7-charge"]


def test_a_new_idempotency_key_is_a_new_charge(fake, provider):
    first = charge(provider, idempotency_key="order-7-charge")
    second = charge(provider, idempotency_key="order-8-charge")

    assert first.reference != second.reference
    assert len(fake.payment_intents) == 2


def test_retried_decline_replays_the_decline(fake, provider):
    first = charge(provider, "pm_card_chargeDeclined", idempotency_key="order-9-charge")
    retried = charge(provider, "pm_card_chargeDeclined", idempotency_key="order-9-charge")

    assert retried == first
    assert retried.decline_message == DECLINE_MESSAGE
    assert len(fake.payment_intents) == 1


def test_reusing_an_idempotency_key_for_another_amount_is_refused(fake, provider):
    charge(provider, idempotency_key="order-10-charge")

    with pytest.raises(ProviderError, match="idempotency key was already used"):
        charge(provider, amount=9900, idempotency_key="order-10-charge")
    assert len(fake.payment_intents) == 1


# Provider errors -----------------------------------------------------------------------------


@pytest.fixture
def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize(
    "call",
    [
        lambda p: charge(p),
        lambda p: p.charge_retrieve(reference="pi_123"),
        lambda p: p.refund(
            charge_reference="pi_123", amount=100, currency="EUR", idempotency_key="k"
        ),
        lambda p: p.payout(
            destination="acct_1", amount=100, currency="EUR", description="", idempotency_key="k"
        ),
        lambda p: p.payout_retrieve(reference="tr_123"),
        lambda p: p.records(since=NOW - timedelta(days=1), until=NOW),
    ],
    ids=["charge", "charge_retrieve", "refund", "payout", "payout_retrieve", "records"],
)
def test_unreachable_stripe_is_a_provider_error(closed_port_url, call):
    provider = StripeProvider(
        api_key=API_KEY, webhook_secrets=[SECRET], api_base=closed_port_url, max_network_retries=0
    )

    with pytest.raises(ProviderError, match="could not reach Stripe") as caught:
        call(provider)
    assert isinstance(caught.value.__cause__, stripe.APIConnectionError)


def test_wrong_api_key_is_a_provider_error_naming_the_key(fake):
    provider = StripeProvider(
        api_key="sk_test_wrong", webhook_secrets=[SECRET], api_base=fake.url, max_network_retries=0
    )

    with pytest.raises(ProviderError, match="Stripe rejected the API key"):
        charge(provider)
    assert fake.payment_intents == {}


# Refunds -------------------------------------------------------------------------------------


def test_refund_of_a_charge(fake, provider):
    paid = charge(provider)

    result = provider.refund(
        charge_reference=paid.reference, amount=1000, currency="EUR", idempotency_key="refund-1"
    )

    assert result.status == "succeeded"
    assert result.reference.startswith("re_")
    assert (result.amount, result.currency) == (1000, "EUR")
    [sent] = fake.requests_to("POST", "/v1/refunds")
    assert sent.params == {"payment_intent": paid.reference, "amount": "1000"}
    assert sent.idempotency_key == "refund-1"


def test_retried_refund_refunds_once(fake, provider):
    paid = charge(provider)
    kwargs = {
        "charge_reference": paid.reference,
        "amount": 1000,
        "currency": "EUR",
        "idempotency_key": "refund-1",
    }

    assert provider.refund(**kwargs) == provider.refund(**kwargs)
    assert len(fake.refunds) == 1


def test_pending_refund(provider):
    paid = charge(provider, "pm_card_pendingRefund")

    result = provider.refund(
        charge_reference=paid.reference, amount=2500, currency="EUR", idempotency_key="refund-2"
    )

    assert result.status == "pending"
    assert result.reference.startswith("re_")


def test_refund_stripe_refuses_is_failed_with_its_message(fake, provider):
    paid = charge(provider)

    result = provider.refund(
        charge_reference=paid.reference, amount=3000, currency="EUR", idempotency_key="refund-3"
    )

    assert result.status == "failed"
    assert "greater than unrefunded amount" in result.failure_message
    assert (result.amount, result.currency) == (3000, "EUR")
    assert fake.refunds == {}


# Payouts -------------------------------------------------------------------------------------


def test_payout_is_a_connect_transfer(fake, provider):
    result = provider.payout(
        destination="acct_1Seller",
        amount=4000,
        currency="EUR",
        description="Payout for May",
        idempotency_key="payout-1",
    )

    assert result.status == "paid"
    assert result.reference.startswith("tr_")
    assert (result.amount, result.currency) == (4000, "EUR")
    [sent] = fake.requests_to("POST", "/v1/transfers")
    assert sent.params == {
        "amount": "4000",
        "currency": "eur",
        "destination": "acct_1Seller",
        "description": "Payout for May",
    }
    assert sent.idempotency_key == "payout-1"
    assert provider.payout_retrieve(reference=result.reference) == result


def test_payout_stripe_refuses_is_failed_with_its_message(fake, provider):
    result = provider.payout(
        destination="acct_fail",
        amount=4000,
        currency="EUR",
        description="Payout for May",
        idempotency_key="payout-2",
    )

    assert result.status == "failed"
    assert result.failure_message == FAILED_DESTINATION_MESSAGE
    assert fake.transfers == {}


def test_reversed_transfer_is_a_failed_payout(fake, provider):
    paid = provider.payout(
        destination="acct_1Seller",
        amount=4000,
        currency="EUR",
        description="",
        idempotency_key="payout-3",
    )
    fake.reverse_transfer(paid.reference)

    result = provider.payout_retrieve(reference=paid.reference)

    assert result.status == "failed"
    assert result.failure_message == "The transfer was reversed."


# Reconciliation ------------------------------------------------------------------------------


def test_records_maps_charges_refunds_and_transfers(fake, provider):
    since, until = NOW, NOW + timedelta(days=1)
    fake.clock = lambda: (since - timedelta(seconds=1)).timestamp()
    charge(provider, idempotency_key="too-early")
    fake.clock = lambda: since.timestamp()
    paid = charge(provider, idempotency_key="in-window")
    fake.clock = lambda: (since + timedelta(hours=1)).timestamp()
    refunded = provider.refund(
        charge_reference=paid.reference, amount=500, currency="EUR", idempotency_key="r"
    )
    paid_out = provider.payout(
        destination="acct_1Seller", amount=1500, currency="EUR", description="", idempotency_key="p"
    )
    fake.add_balance_transaction(
        type="stripe_fee", amount=-200, currency="eur", source="fee_1", created=int(NOW.timestamp())
    )
    fake.clock = lambda: until.timestamp()
    charge(provider, idempotency_key="too-late")

    records = provider.records(since=since, until=until)

    by_kind = {record.kind: record for record in records}
    assert len(records) == 3
    assert by_kind["charge"].reference == paid.reference  # the PaymentIntent, not the ch_
    assert (by_kind["charge"].amount, by_kind["charge"].fee) == (2500, 102)
    assert by_kind["charge"].status == "succeeded"
    assert by_kind["charge"].created_at == since
    assert by_kind["refund"].reference == refunded.reference
    assert by_kind["refund"].amount == 500
    assert by_kind["payout"].reference == paid_out.reference
    assert (by_kind["payout"].amount, by_kind["payout"].status) == (1500, "paid")
    assert {record.currency for record in records} == {"EUR"}
    [sent] = fake.requests_to("GET", "/v1/balance_transactions")
    assert sent.params["created[gte]"] == str(int(since.timestamp()))
    assert sent.params["created[lt]"] == str(int(until.timestamp()))


def test_records_follows_pagination(fake, provider):
    for number in range(130):
        fake.add_balance_transaction(
            type="payment",
            amount=100 + number,
            currency="usd",
            source=f"py_{number}",
            created=int(NOW.timestamp()) + number,
        )

    records = provider.records(since=NOW, until=NOW + timedelta(hours=1))

    assert len(records) == 130
    assert {record.reference for record in records} == {f"py_{n}" for n in range(130)}
    assert {(r.kind, r.currency) for r in records} == {("charge", "USD")}
    pages = fake.requests_to("GET", "/v1/balance_transactions")
    assert len(pages) == 2
    assert "starting_after" not in pages[0].params
    assert pages[1].params["starting_after"].startswith("txn_")


def test_records_refuses_naive_datetimes(provider):
    with pytest.raises(ValueError, match="timezone-aware"):
        provider.records(since=datetime(2025, 6, 1), until=datetime(2025, 6, 2))


# Webhooks ------------------------------------------------------------------------------------


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return int(NOW.timestamp())


@pytest.fixture
def hooks():
    """A provider for webhook tests only: never talks to the API."""
    return StripeProvider(api_key="sk_test_unused", webhook_secrets=[SECRET])


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def header(payload: bytes, timestamp: int, secret: str = SECRET) -> dict[str, str]:
    return {"Stripe-Signature": f"t={timestamp},v1={sign(payload, secret, timestamp)}"}


def event_body(event_type: str, obj: dict, event_id: str = "evt_1") -> bytes:
    return json.dumps(
        {"id": event_id, "object": "event", "type": event_type, "data": {"object": obj}}
    ).encode()


SUCCEEDED = event_body(
    "payment_intent.succeeded",
    {
        "id": "pi_1",
        "object": "payment_intent",
        "amount": 2500,
        "amount_received": 2500,
        "currency": "eur",
        "status": "succeeded",
    },
)


def test_valid_webhook_is_accepted(hooks, frozen):
    event = hooks.webhook_event(payload=SUCCEEDED, headers=header(SUCCEEDED, frozen))

    assert (event.id, event.kind, event.reference) == ("evt_1", "charge.succeeded", "pi_1")


@pytest.mark.parametrize("name", ["stripe-signature", "STRIPE-SIGNATURE", "Stripe-Signature"])
def test_signature_header_name_is_case_insensitive(hooks, frozen, name):
    signature = header(SUCCEEDED, frozen)["Stripe-Signature"]
    headers = {"Content-Type": "application/json", name: signature}

    assert hooks.webhook_event(payload=SUCCEEDED, headers=headers).kind == "charge.succeeded"


def test_webhook_at_the_edge_of_the_tolerance_is_accepted(hooks, frozen):
    for timestamp in (frozen - 300, frozen + 300):
        event = hooks.webhook_event(payload=SUCCEEDED, headers=header(SUCCEEDED, timestamp))
        assert event.kind == "charge.succeeded"


def test_expired_webhook_is_rejected(hooks, frozen):
    with pytest.raises(WebhookSignatureError, match="expired: signed 301s ago"):
        hooks.webhook_event(payload=SUCCEEDED, headers=header(SUCCEEDED, frozen - 301))


def test_webhook_from_the_future_is_rejected(hooks, frozen):
    with pytest.raises(WebhookSignatureError, match="301s in the future"):
        hooks.webhook_event(payload=SUCCEEDED, headers=header(SUCCEEDED, frozen + 301))


def test_tolerance_is_configurable(frozen):
    strict = StripeProvider(api_key="sk_test_unused", webhook_secrets=[SECRET], tolerance=10)

    with pytest.raises(WebhookSignatureError, match="expired"):
        strict.webhook_event(payload=SUCCEEDED, headers=header(SUCCEEDED, frozen - 11))


def test_tampered_body_is_rejected(hooks, frozen):
    headers = header(SUCCEEDED, frozen)
    tampered = SUCCEEDED.replace(b'"amount_received": 2500', b'"amount_received": 9900')
    assert tampered != SUCCEEDED

    with pytest.raises(WebhookSignatureError, match="No Stripe-Signature v1 signature matches"):
        hooks.webhook_event(payload=tampered, headers=headers)


def test_signature_under_an_unknown_secret_is_rejected(hooks, frozen):
    with pytest.raises(WebhookSignatureError, match="No Stripe-Signature v1 signature matches"):
        hooks.webhook_event(
            payload=SUCCEEDED, headers=header(SUCCEEDED, frozen, secret="whsec_attacker")
        )


def test_rotated_secrets_both_verify(frozen):
    rolling = StripeProvider(api_key="sk_test_unused", webhook_secrets=[OLD_SECRET, SECRET])

    for secret in (SECRET, OLD_SECRET):
        headers = header(SUCCEEDED, frozen, secret=secret)
        assert rolling.webhook_event(payload=SUCCEEDED, headers=headers).kind == "charge.succeeded"


def test_any_of_several_v1_signatures_may_match(hooks, frozen):
    stale = sign(SUCCEEDED, OLD_SECRET, frozen)
    current = sign(SUCCEEDED, SECRET, frozen)
    headers = {"Stripe-Signature": f"t={frozen},v1={stale},v1={current},v0=deadbeef"}

    assert hooks.webhook_event(payload=SUCCEEDED, headers=headers).kind == "charge.succeeded"


def test_legacy_v0_signature_alone_is_not_enough(hooks, frozen):
    headers = {"Stripe-Signature": f"t={frozen},v0={sign(SUCCEEDED, SECRET, frozen)}"}

    with pytest.raises(WebhookSignatureError, match="no v1 signature"):
        hooks.webhook_event(payload=SUCCEEDED, headers=headers)


def test_missing_signature_header_is_rejected(hooks, frozen):
    with pytest.raises(WebhookSignatureError, match="Missing Stripe-Signature header"):
        hooks.webhook_event(payload=SUCCEEDED, headers={"Content-Type": "application/json"})
    with pytest.raises(WebhookSignatureError, match="Missing Stripe-Signature header"):
        hooks.webhook_event(payload=SUCCEEDED, headers={"Stripe-Signature": ""})


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "t=,v1=abc",
        "t=yesterday,v1=abc",
        "t=1,t=2,v1=abc",
        "v1=abc",
        "t=²,v1=abc",
    ],
)
def test_malformed_signature_header_is_rejected(hooks, frozen, value):
    with pytest.raises(WebhookSignatureError, match="Malformed Stripe-Signature header"):
        hooks.webhook_event(payload=SUCCEEDED, headers={"Stripe-Signature": value})


def test_without_configured_secrets_nothing_verifies(frozen):
    unconfigured = StripeProvider(api_key="sk_test_unused", webhook_secrets=[])

    with pytest.raises(WebhookSignatureError, match="No Stripe webhook secret is configured"):
        unconfigured.webhook_event(payload=SUCCEEDED, headers=header(SUCCEEDED, frozen))


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"id": "evt_1"}'])
def test_signed_body_that_is_not_an_event_is_rejected(hooks, frozen, body):
    with pytest.raises(WebhookSignatureError, match=r"not valid JSON|not a Stripe event"):
        hooks.webhook_event(payload=body, headers=header(body, frozen))


@pytest.mark.parametrize(
    ("event_type", "obj", "expected"),
    [
        (
            "payment_intent.succeeded",
            {
                "id": "pi_1",
                "object": "payment_intent",
                "amount": 2500,
                "amount_received": 2500,
                "currency": "eur",
                "status": "succeeded",
            },
            {"kind": "charge.succeeded", "reference": "pi_1", "amount": 2500, "currency": "EUR"},
        ),
        (
            "payment_intent.payment_failed",
            {
                "id": "pi_2",
                "object": "payment_intent",
                "amount": 1200,
                "amount_received": 0,
                "currency": "usd",
                "status": "requires_payment_method",
                "last_payment_error": {
                    "code": "card_declined",
                    "message": "Your card has insufficient funds.",
                },
            },
            {
                "kind": "charge.failed",
                "reference": "pi_2",
                "amount": 1200,
                "currency": "USD",
                "failure_message": "Your card has insufficient funds.",
            },
        ),
        (
            "charge.refund.updated",
            {
                "id": "re_1",
                "object": "refund",
                "amount": 500,
                "currency": "eur",
                "status": "succeeded",
                "payment_intent": "pi_1",
            },
            {"kind": "refund.succeeded", "reference": "re_1", "amount": 500, "currency": "EUR"},
        ),
        (
            "refund.updated",
            {
                "id": "re_2",
                "object": "refund",
                "amount": 500,
                "currency": "eur",
                "status": "failed",
                "failure_reason": "expired_or_canceled_card",
            },
            {
                "kind": "refund.failed",
                "reference": "re_2",
                "amount": 500,
                "currency": "EUR",
                "failure_message": "The refund failed (expired or canceled card).",
            },
        ),
        (
            "refund.created",
            {
                "id": "re_3",
                "object": "refund",
                "amount": 700,
                "currency": "gbp",
                "status": "succeeded",
            },
            {"kind": "refund.succeeded", "reference": "re_3", "amount": 700, "currency": "GBP"},
        ),
        (
            "refund.created",
            {
                "id": "re_4",
                "object": "refund",
                "amount": 700,
                "currency": "gbp",
                "status": "pending",
            },
            {"kind": "ignored", "reference": "re_4"},
        ),
        (
            "transfer.created",
            {
                "id": "tr_1",
                "object": "transfer",
                "amount": 4000,
                "currency": "eur",
                "destination": "acct_1",
                "reversed": False,
            },
            {"kind": "payout.paid", "reference": "tr_1", "amount": 4000, "currency": "EUR"},
        ),
        (
            "transfer.reversed",
            {
                "id": "tr_2",
                "object": "transfer",
                "amount": 4000,
                "currency": "eur",
                "destination": "acct_1",
                "reversed": True,
            },
            {
                "kind": "payout.failed",
                "reference": "tr_2",
                "amount": 4000,
                "currency": "EUR",
                "failure_message": "The transfer was reversed.",
            },
        ),
        (
            "customer.created",
            {"id": "cus_1", "object": "customer"},
            {"kind": "ignored", "reference": "cus_1"},
        ),
    ],
    ids=[
        "pi-succeeded",
        "pi-failed",
        "charge-refund-updated",
        "refund-failed",
        "refund-created",
        "refund-pending-ignored",
        "transfer-created",
        "transfer-reversed",
        "other-ignored",
    ],
)
def test_event_normalisation(hooks, frozen, event_type, obj, expected):
    body = event_body(event_type, obj, event_id="evt_42")

    event = hooks.webhook_event(payload=body, headers=header(body, frozen))

    assert event.id == "evt_42"
    assert event.raw_type == event_type
    assert event.data == obj
    for name, value in expected.items():
        assert getattr(event, name) == value, name


def test_cancelling_an_unconfirmed_payment_intent(provider, fake):
    pending = charge(provider, payment_method="pm_card_threeDSecure2Required")
    assert provider.charge_cancel(reference=pending.reference).status == "declined"
    paid = charge(provider, idempotency_key="order-2-charge")
    # Stripe refuses to cancel a PaymentIntent that succeeded: it stays paid.
    assert provider.charge_cancel(reference=paid.reference).status == "succeeded"
