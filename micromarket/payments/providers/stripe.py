"""Stripe implementation of :class:`~micromarket.payments.providers.base.PaymentProvider`.

Charges are PaymentIntents confirmed at creation, refunds are Refunds of a PaymentIntent, and
payouts are Connect Transfers from the platform balance to the seller's connected account
("acct_…"). All calls go through one :class:`stripe.StripeClient` owned by the provider (no global
``stripe.api_key``). Every money-moving call forwards the caller's idempotency key as Stripe's
``Idempotency-Key``, so a retry replays Stripe's first answer instead of moving money again.

Webhooks are verified here (not with ``stripe.WebhookSignature.verify_header``, which accepts
timestamps from the future and only knows one secret): see :meth:`StripeProvider.webhook_event`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import stripe

from .base import (
    ChargeResult,
    PayoutResult,
    ProviderError,
    ProviderRecord,
    RefundResult,
    WebhookEvent,
    WebhookSignatureError,
)

SIGNATURE_HEADER = "Stripe-Signature"

# Balance transaction types → ProviderRecord kinds (see StripeProvider.records).
_RECORD_KINDS = {
    "charge": "charge",
    "payment": "charge",
    "refund": "refund",
    "payment_refund": "refund",
    "transfer": "payout",
}
_RECORD_STATUS = {"charge": "succeeded", "refund": "succeeded", "payout": "paid"}


def _provider_error(action: str, exc: stripe.StripeError) -> ProviderError:
    """A ProviderError whose message tells an operator what went wrong, not just that it did."""
    detail = " ".join((exc.user_message or str(exc) or type(exc).__name__).split())
    if isinstance(exc, stripe.APIConnectionError):
        reason = "could not reach Stripe"
    elif isinstance(exc, stripe.AuthenticationError):
        reason = "Stripe rejected the API key"
    elif isinstance(exc, stripe.PermissionError):
        reason = "the API key is not allowed to do this"
    elif isinstance(exc, stripe.RateLimitError):
        reason = "Stripe is rate limiting requests"
    elif isinstance(exc, stripe.IdempotencyError):
        reason = "the idempotency key was already used with different parameters"
    elif isinstance(exc, stripe.InvalidRequestError):
        reason = "Stripe refused the request"
    else:
        reason = "Stripe returned an error"
    status = f" (HTTP {exc.http_status})" if exc.http_status else ""
    return ProviderError(f"{action} failed: {reason}{status}: {detail}")


def _fee_of(payment_intent: Mapping[str, Any]) -> int:
    """The Stripe fee of a succeeded PaymentIntent whose ``latest_charge.balance_transaction``
    was expanded; 0 when it is not available (not expanded, not yet settled)."""
    charge = payment_intent.get("latest_charge")
    if not isinstance(charge, Mapping):
        return 0
    balance_transaction = charge.get("balance_transaction")
    if not isinstance(balance_transaction, Mapping):
        return 0
    return int(balance_transaction.get("fee") or 0)


def _charge_result(payment_intent: Mapping[str, Any]) -> ChargeResult:
    """Map a PaymentIntent (as a plain dict) to a ChargeResult.

    succeeded → succeeded (with the fee); requires_action → requires_action (with the redirect
    URL when Stripe gives one); processing and requires_capture → processing (not final yet);
    requires_payment_method (the confirmation failed) and canceled → declined.
    """
    status = payment_intent.get("status")
    common = {
        "reference": payment_intent["id"],
        "amount": int(payment_intent.get("amount") or 0),
        "currency": str(payment_intent.get("currency") or "").upper(),
    }
    if status == "succeeded":
        return ChargeResult(status="succeeded", fee=_fee_of(payment_intent), **common)
    if status == "requires_action":
        next_action = payment_intent.get("next_action") or {}
        redirect = next_action.get("redirect_to_url") or {}
        return ChargeResult(
            status="requires_action", action_url=str(redirect.get("url") or ""), **common
        )
    if status in ("processing", "requires_capture"):
        return ChargeResult(status="processing", **common)
    if status == "canceled":
        return ChargeResult(
            status="declined", decline_message="The payment was canceled.", **common
        )
    if status in ("requires_payment_method", "requires_confirmation"):
        error = payment_intent.get("last_payment_error") or {}
        message = error.get("message") or "The payment was not completed."
        return ChargeResult(status="declined", decline_message=str(message), **common)
    raise ProviderError(
        f"Stripe returned PaymentIntent {payment_intent['id']} with unknown status {status!r}"
    )


def _refund_result(refund: Mapping[str, Any]) -> RefundResult:
    """succeeded → succeeded; pending / requires_action → pending; failed / canceled → failed."""
    status = refund.get("status")
    common = {
        "reference": refund["id"],
        "amount": int(refund.get("amount") or 0),
        "currency": str(refund.get("currency") or "").upper(),
    }
    if status == "succeeded":
        return RefundResult(status="succeeded", **common)
    if status in ("pending", "requires_action"):
        return RefundResult(status="pending", **common)
    if status in ("failed", "canceled"):
        return RefundResult(status="failed", failure_message=_refund_failure(refund), **common)
    raise ProviderError(f"Stripe returned Refund {refund['id']} with unknown status {status!r}")


def _refund_failure(refund: Mapping[str, Any]) -> str:
    reason = refund.get("failure_reason")
    if refund.get("status") == "canceled":
        return "The refund was canceled."
    if reason:
        return f"The refund failed ({str(reason).replace('_', ' ')})."
    return "The refund failed."


def _payout_result(transfer: Mapping[str, Any]) -> PayoutResult:
    """A Transfer is paid as soon as it exists; a reversed Transfer is failed."""
    common = {
        "reference": transfer["id"],
        "amount": int(transfer.get("amount") or 0),
        "currency": str(transfer.get("currency") or "").upper(),
    }
    if transfer.get("reversed"):
        return PayoutResult(status="failed", failure_message="The transfer was reversed.", **common)
    return PayoutResult(status="paid", **common)


def _unix(moment: datetime, *, name: str) -> float:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")
    return moment.timestamp()


class StripeProvider:
    """Payments through Stripe (PaymentIntents, Refunds, Connect Transfers, webhooks).

    ``webhook_secrets`` are the signing secrets ("whsec_…") of the webhook endpoint; list the new
    one next to the old one while rolling a secret. ``api_base`` points the client somewhere
    else than https://api.stripe.com (tests, stripe-mock). ``tolerance`` is how old (or how far in
    the future) a webhook's signed timestamp may be, in seconds. ``max_network_retries`` is how
    often the client retries a request that failed on the network; safe, because every
    money-moving request carries an idempotency key.
    """

    name = "stripe"

    def __init__(
        self,
        *,
        api_key: str,
        webhook_secrets: list[str],
        api_base: str | None = None,
        tolerance: int = 300,
        max_network_retries: int = 2,
    ) -> None:
        self.webhook_secrets = [secret for secret in webhook_secrets if secret]
        self.tolerance = tolerance
        self.client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_network_retries,
        )

    # Charges ---------------------------------------------------------------------------------

    def charge(
        self,
        *,
        amount: int,
        currency: str,
        payment_method: str,
        description: str,
        idempotency_key: str,
        return_url: str,
    ) -> ChargeResult:
        params: dict[str, Any] = {
            "amount": amount,
            "currency": currency.lower(),
            "payment_method": payment_method,
            # An explicit list instead of automatic payment methods: we only take cards.
            "payment_method_types": ["card"],
            "confirm": True,
            "expand": ["latest_charge.balance_transaction"],
        }
        if description:
            params["description"] = description
        if return_url:
            params["return_url"] = return_url
        try:
            payment_intent = self.client.v1.payment_intents.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        except stripe.CardError as exc:
            # The PaymentIntent exists (status requires_payment_method) and is in the error.
            error = exc.json_body.get("error", {}) if isinstance(exc.json_body, dict) else {}
            failed_intent = error.get("payment_intent") or {}
            return ChargeResult(
                status="declined",
                reference=str(failed_intent.get("id") or ""),
                amount=amount,
                currency=currency.upper(),
                decline_message=exc.user_message or "Your card was declined.",
            )
        except stripe.StripeError as exc:
            raise _provider_error("Stripe charge", exc) from exc
        return _charge_result(payment_intent.to_dict())

    def charge_retrieve(self, *, reference: str) -> ChargeResult:
        try:
            payment_intent = self.client.v1.payment_intents.retrieve(
                reference, {"expand": ["latest_charge.balance_transaction"]}
            )
        except stripe.StripeError as exc:
            raise _provider_error(f"Retrieving Stripe PaymentIntent {reference}", exc) from exc
        return _charge_result(payment_intent.to_dict())

    # Refunds ---------------------------------------------------------------------------------

    def refund(
        self, *, charge_reference: str, amount: int, currency: str, idempotency_key: str
    ) -> RefundResult:
        """Refund ``amount`` of the PaymentIntent ``charge_reference``.

        Stripe refusing the refund itself (already refunded, more than is left, a dispute) is a
        failed refund with Stripe's message, not a ProviderError: retrying would not help.
        """
        try:
            refund = self.client.v1.refunds.create(
                {"payment_intent": charge_reference, "amount": amount},
                {"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as exc:
            return RefundResult(
                status="failed",
                reference="",
                amount=amount,
                currency=currency.upper(),
                failure_message=exc.user_message or "Stripe refused the refund.",
            )
        except stripe.StripeError as exc:
            raise _provider_error("Stripe refund", exc) from exc
        return _refund_result(refund.to_dict())

    def charge_cancel(self, *, reference: str) -> ChargeResult:
        """Cancel a PaymentIntent the buyer never completed. Stripe refuses to cancel one that
        succeeded meanwhile; then its current state is returned."""
        try:
            payment_intent = self.client.v1.payment_intents.cancel(reference)
        except stripe.InvalidRequestError:
            return self.charge_retrieve(reference=reference)
        except stripe.StripeError as exc:
            raise _provider_error(f"Cancelling Stripe PaymentIntent {reference}", exc) from exc
        return _charge_result(payment_intent.to_dict())

    # Payouts ---------------------------------------------------------------------------------

    def payout(
        self,
        *,
        destination: str,
        amount: int,
        currency: str,
        description: str,
        idempotency_key: str,
    ) -> PayoutResult:
        """A Connect Transfer of ``amount`` to the connected account ``destination``.

        Stripe refusing the transfer (insufficient platform balance, an account that cannot
        receive transfers) is a failed payout with Stripe's message, not a ProviderError.
        """
        params: dict[str, Any] = {
            "amount": amount,
            "currency": currency.lower(),
            "destination": destination,
        }
        if description:
            params["description"] = description
        try:
            transfer = self.client.v1.transfers.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as exc:
            return PayoutResult(
                status="failed",
                reference="",
                amount=amount,
                currency=currency.upper(),
                failure_message=exc.user_message or "Stripe refused the transfer.",
            )
        except stripe.StripeError as exc:
            raise _provider_error("Stripe payout", exc) from exc
        return _payout_result(transfer.to_dict())

    def payout_retrieve(self, *, reference: str) -> PayoutResult:
        try:
            transfer = self.client.v1.transfers.retrieve(reference)
        except stripe.StripeError as exc:
            raise _provider_error(f"Retrieving Stripe Transfer {reference}", exc) from exc
        return _payout_result(transfer.to_dict())

    # Connect onboarding -----------------------------------------------------------------------

    def connect_account_create(self, *, email: str, country: str, idempotency_key: str) -> str:
        """A Connect Express account for a seller (payouts go to it); returns its "acct_…" id."""
        try:
            account = self.client.v1.accounts.create(
                {  # type: ignore[arg-type]
                    "type": "express",
                    "email": email,
                    "country": country,
                    "capabilities": {"transfers": {"requested": True}},
                },
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _provider_error("Creating the Stripe account", exc) from exc
        return account.id

    def connect_onboarding_url(self, *, account: str, refresh_url: str, return_url: str) -> str:
        """Where the seller completes Stripe's onboarding (identity, bank account)."""
        try:
            link = self.client.v1.account_links.create(
                {  # type: ignore[arg-type]
                    "account": account,
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                    "type": "account_onboarding",
                }
            )
        except stripe.StripeError as exc:
            raise _provider_error("Creating the Stripe onboarding link", exc) from exc
        return link.url

    # Reconciliation --------------------------------------------------------------------------

    def records(self, *, since: datetime, until: datetime) -> list[ProviderRecord]:
        """The balance transactions created in [since, until), as ProviderRecords.

        Mapped balance transaction types:

        - ``charge`` / ``payment`` → kind "charge", status "succeeded"; reference is the
          charge's PaymentIntent ("pi_…", what :meth:`charge` returns) when Stripe gives it,
          else the source id ("ch_…", "py_…"); amount is the gross amount, fee Stripe's fee.
        - ``refund`` / ``payment_refund`` → kind "refund", status "succeeded"; reference is the
          Refund ("re_…"); amount positive (Stripe books it negative).
        - ``transfer`` → kind "payout", status "paid"; reference is the Transfer ("tr_…");
          amount positive.

        Every other type (Stripe fees, adjustments, transfer reversals, refund failures,
        disputes, payouts to the platform's bank) is left out. The status is the movement's
        outcome, not the balance transaction's availability (pending/available). Naive
        datetimes are refused (ValueError); currencies are upper-case.
        """
        created = {
            "gte": math.ceil(_unix(since, name="since")),
            "lt": math.ceil(_unix(until, name="until")),
        }
        records: list[ProviderRecord] = []
        try:
            page = self.client.v1.balance_transactions.list(
                {"created": created, "limit": 100, "expand": ["data.source"]}
            )
            for item in page.auto_paging_iter():
                record = self._record(item.to_dict())
                if record is not None:
                    records.append(record)
        except stripe.StripeError as exc:
            raise _provider_error("Listing Stripe balance transactions", exc) from exc
        return records

    @staticmethod
    def _record(transaction: Mapping[str, Any]) -> ProviderRecord | None:
        kind = _RECORD_KINDS.get(str(transaction.get("type")))
        if kind is None:
            return None
        source = transaction.get("source")
        if isinstance(source, Mapping):
            reference = str(source.get("id") or "")
            if kind == "charge" and source.get("payment_intent"):
                payment_intent = source["payment_intent"]
                reference = (
                    str(payment_intent.get("id"))
                    if isinstance(payment_intent, Mapping)
                    else str(payment_intent)
                )
        else:
            reference = str(source or transaction.get("id"))
        return ProviderRecord(
            kind=kind,  # type: ignore[arg-type]
            reference=reference,
            amount=abs(int(transaction.get("amount") or 0)),
            currency=str(transaction.get("currency") or "").upper(),
            status=_RECORD_STATUS[kind],
            created_at=datetime.fromtimestamp(int(transaction["created"]), tz=UTC),
            fee=int(transaction.get("fee") or 0),
        )

    # Webhooks --------------------------------------------------------------------------------

    def webhook_event(self, *, payload: bytes, headers: dict[str, str]) -> WebhookEvent:
        """Verify the ``Stripe-Signature`` header and normalise the event.

        The header is ``t=<unix>,v1=<hex>[,v1=<hex>…][,v0=…]``; each v1 is the hex HMAC-SHA256 of
        ``b"<t>." + payload`` under an endpoint secret. The request is accepted when any v1
        matches any configured secret (secret rolling) and ``t`` is within ``tolerance`` seconds
        of now, in either direction. Anything else raises WebhookSignatureError saying why; so
        does a signed body that is not a Stripe event.

        Normalised kinds: payment_intent.succeeded → charge.succeeded; payment_intent.
        payment_failed → charge.failed; refund.created / refund.updated / charge.refund.updated
        → refund.succeeded or refund.failed by the refund's status (pending ones are ignored);
        transfer.created → payout.paid; transfer.reversed → payout.failed; anything else →
        "ignored". ``data`` is the event's ``data.object``.
        """
        self._verify_signature(payload, headers)
        try:
            event = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise WebhookSignatureError(f"Webhook body is not valid JSON: {exc}") from exc
        if (
            not isinstance(event, dict)
            or not isinstance(event.get("id"), str)
            or not isinstance(event.get("type"), str)
            or not isinstance(event.get("data"), dict)
            or not isinstance(event["data"].get("object"), dict)
        ):
            raise WebhookSignatureError("Webhook body is not a Stripe event (id, type, data)")
        return _normalise(event)

    def _verify_signature(self, payload: bytes, headers: Mapping[str, str]) -> None:
        header = next(
            (value for key, value in headers.items() if key.lower() == SIGNATURE_HEADER.lower()),
            None,
        )
        if not header:
            raise WebhookSignatureError("Missing Stripe-Signature header")
        if not self.webhook_secrets:
            raise WebhookSignatureError("No Stripe webhook secret is configured")

        timestamps: list[str] = []
        signatures: list[str] = []
        for item in header.split(","):
            key, sep, value = item.strip().partition("=")
            if not sep:
                raise WebhookSignatureError(f"Malformed Stripe-Signature header: {item!r}")
            if key == "t":
                timestamps.append(value)
            elif key == "v1":
                signatures.append(value)
        if len(timestamps) != 1 or not (timestamps[0].isascii() and timestamps[0].isdigit()):
            raise WebhookSignatureError(
                "Malformed Stripe-Signature header: it needs exactly one numeric t= timestamp"
            )
        if not signatures:
            raise WebhookSignatureError("Malformed Stripe-Signature header: no v1 signature")
        timestamp = int(timestamps[0])

        signed_payload = timestamps[0].encode("ascii") + b"." + payload
        expected = [
            hmac.new(secret.encode("utf-8"), signed_payload, hashlib.sha256).hexdigest()
            for secret in self.webhook_secrets
        ]
        if not any(
            hmac.compare_digest(candidate.encode("utf-8"), signature.encode("utf-8"))
            for candidate in expected
            for signature in signatures
        ):
            raise WebhookSignatureError(
                "No Stripe-Signature v1 signature matches the payload under any configured "
                "webhook secret"
            )

        age = time.time() - timestamp
        if age > self.tolerance:
            raise WebhookSignatureError(
                f"Stripe-Signature timestamp expired: signed {int(age)}s ago, "
                f"tolerance is {self.tolerance}s"
            )
        if -age > self.tolerance:
            raise WebhookSignatureError(
                f"Stripe-Signature timestamp is {int(-age)}s in the future, "
                f"tolerance is {self.tolerance}s"
            )


def _normalise(event: dict[str, Any]) -> WebhookEvent:
    event_type: str = event["type"]
    obj: dict[str, Any] = event["data"]["object"]
    base = {
        "id": event["id"],
        "reference": str(obj.get("id") or ""),
        "currency": str(obj.get("currency") or "").upper(),
        "raw_type": event_type,
        "data": obj,
    }

    if event_type == "payment_intent.succeeded":
        amount = obj.get("amount_received") or obj.get("amount") or 0
        return WebhookEvent(kind="charge.succeeded", amount=int(amount), **base)
    if event_type == "payment_intent.payment_failed":
        error = obj.get("last_payment_error") or {}
        return WebhookEvent(
            kind="charge.failed",
            amount=int(obj.get("amount") or 0),
            failure_message=str(error.get("message") or "The payment failed."),
            **base,
        )
    if event_type in ("refund.created", "refund.updated", "charge.refund.updated"):
        status = obj.get("status")
        amount = int(obj.get("amount") or 0)
        if status == "succeeded":
            return WebhookEvent(kind="refund.succeeded", amount=amount, **base)
        if status in ("failed", "canceled"):
            return WebhookEvent(
                kind="refund.failed", amount=amount, failure_message=_refund_failure(obj), **base
            )
        return WebhookEvent(kind="ignored", amount=amount, **base)
    if event_type == "transfer.created":
        return WebhookEvent(kind="payout.paid", amount=int(obj.get("amount") or 0), **base)
    if event_type == "transfer.reversed":
        return WebhookEvent(
            kind="payout.failed",
            amount=int(obj.get("amount") or 0),
            failure_message="The transfer was reversed.",
            **base,
        )
    return WebhookEvent(kind="ignored", **base)
