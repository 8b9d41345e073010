"""A small in-process stand-in for the Stripe REST API, for tests through the real ``stripe``
library (nothing reaches api.stripe.com).

It speaks just enough of API v1: PaymentIntents (create with confirm, retrieve, ``expand`` of
``latest_charge`` / ``latest_charge.balance_transaction``), Refunds, Transfers and the balance
transaction list (``created`` filters, ``starting_after`` pagination, ``expand[]=data.source``).
Requests are form-encoded like Stripe's; answers are JSON objects shaped like Stripe's (id,
object, amount, lower-case currency, status, created …), errors are Stripe's ``{"error": …}``
with the same HTTP status codes. The ``Idempotency-Key`` header is honoured: the same key
replays the stored answer (with ``Idempotent-Replayed: true``), the same key with other
parameters is a 400 ``idempotency_error``.

Test payment methods (as in Stripe's test mode):

- ``pm_card_visa`` → succeeded, fee 2.9 % + 30 (rounded down);
- ``pm_card_chargeDeclined`` → 402 ``card_error`` / ``card_declined``;
- ``pm_card_threeDSecure2Required`` → requires_action with ``next_action.redirect_to_url``,
  completed by :meth:`FakeStripe.complete_authentication`;
- ``pm_card_pendingRefund`` → succeeded; its refunds stay pending.

Transfers to ``acct_fail`` answer 400 ``invalid_request_error``. Every request is recorded in
:attr:`FakeStripe.requests` (method, path, flat form/query params, lower-cased headers).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

API_KEY = "sk_test_fake"

DECLINE_MESSAGE = "Your card was declined."
AUTHENTICATION_FAILED_MESSAGE = (
    "We are unable to authenticate your payment method. Please choose a different payment "
    "method and try again."
)
FAILED_DESTINATION = "acct_fail"
FAILED_DESTINATION_MESSAGE = (
    "Your destination account needs to have at least one of the following capabilities "
    "enabled: transfers, crypto_transfers, legacy_payments"
)


class _StripeHTTPError(Exception):
    def __init__(self, status: int, type_: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type_, "message": message, **extra}}


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, str]  # flat, as sent: {"amount": "2500", "expand[0]": "…"}
    headers: dict[str, str]  # lower-cased names

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


@dataclass
class FakeStripe:
    """Start with :meth:`start`, point ``StripeProvider(api_base=fake.url)`` at it, stop with
    :meth:`stop`. ``clock`` gives the ``created`` timestamps (replace it to control them)."""

    api_key: str = API_KEY
    clock: Callable[[], float] = time.time
    requests: list[RecordedRequest] = field(default_factory=list)
    payment_intents: dict[str, dict] = field(default_factory=dict)
    charges: dict[str, dict] = field(default_factory=dict)
    refunds: dict[str, dict] = field(default_factory=dict)
    transfers: dict[str, dict] = field(default_factory=dict)
    balance_transactions: dict[str, dict] = field(default_factory=dict)
    accounts: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._idempotent: dict[str, tuple[tuple, int, dict]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeStripe:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self)

            def do_POST(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    @property
    def url(self) -> str:
        assert self._server is not None, "FakeStripe is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # Test helpers ----------------------------------------------------------------------------

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def complete_authentication(self, payment_intent_id: str, *, succeed: bool = True) -> None:
        """The buyer finishes (or fails) the 3-D Secure step of a requires_action intent."""
        with self._lock:
            intent = self.payment_intents[payment_intent_id]
            assert intent["status"] == "requires_action", intent["status"]
            intent["next_action"] = None
            if succeed:
                self._succeed(intent)
            else:
                intent["status"] = "requires_payment_method"
                intent["last_payment_error"] = {
                    "type": "card_error",
                    "code": "payment_intent_authentication_failure",
                    "message": AUTHENTICATION_FAILED_MESSAGE,
                }

    def reverse_transfer(self, transfer_id: str) -> None:
        with self._lock:
            transfer = self.transfers[transfer_id]
            transfer["reversed"] = True
            transfer["amount_reversed"] = transfer["amount"]

    def add_balance_transaction(
        self, *, type: str, amount: int, currency: str, source: str, created: int, fee: int = 0
    ) -> dict:
        """Book a movement directly (e.g. Stripe's own fees) for the reconciliation list."""
        with self._lock:
            return self._book(
                type=type, amount=amount, currency=currency, source=source, fee=fee, created=created
            )

    # Request handling ------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        if handler.command == "POST":
            length = int(handler.headers.get("Content-Length") or 0)
            raw = handler.rfile.read(length).decode("utf-8")
        else:
            raw = split.query
        params = dict(parse_qsl(raw, keep_blank_values=True))
        headers = {name.lower(): value for name, value in handler.headers.items()}
        request = RecordedRequest(handler.command, split.path, params, headers)

        replayed = False
        with self._lock:
            self.requests.append(request)
            try:
                key = request.idempotency_key if request.method == "POST" else None
                if key is not None and key in self._idempotent:
                    fingerprint, status, body = self._idempotent[key]
                    if fingerprint != (request.path, sorted(params.items())):
                        raise _StripeHTTPError(
                            400,
                            "idempotency_error",
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with. Try using a key other than "
                            f"'{key}' if you meant to execute a different request.",
                        )
                    replayed = True
                else:
                    try:
                        status, body = self._route(request)
                    except _StripeHTTPError as exc:
                        # Like Stripe: a request that got as far as the card network (a decline)
                        # is saved under its key; validation errors are not.
                        if exc.status != 402:
                            raise
                        status, body = exc.status, exc.body
                    if key is not None:
                        fingerprint = (request.path, sorted(params.items()))
                        self._idempotent[key] = (fingerprint, status, body)
            except _StripeHTTPError as exc:
                status, body = exc.status, exc.body

        payload = json.dumps(body).encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.send_header("Request-Id", f"req_{next(self._ids)}")
        if replayed:
            handler.send_header("Idempotent-Replayed", "true")
        handler.end_headers()
        handler.wfile.write(payload)

    def _route(self, request: RecordedRequest) -> tuple[int, dict]:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            raise _StripeHTTPError(401, "invalid_request_error", "Invalid API Key provided.")
        parts = request.path.strip("/").split("/")
        params = request.params
        match request.method, parts:
            case "POST", ["v1", "payment_intents"]:
                return self._create_payment_intent(params)
            case "POST", ["v1", "payment_intents", intent_id, "cancel"]:
                intent = self._get(self.payment_intents, intent_id, "payment_intent")
                if intent["status"] in ("succeeded", "canceled"):
                    raise _StripeHTTPError(
                        400,
                        "invalid_request_error",
                        f"You cannot cancel this PaymentIntent because it has a status of "
                        f"{intent['status']}.",
                    )
                intent["status"] = "canceled"
                return 200, dict(intent)
            case "GET", ["v1", "payment_intents", intent_id]:
                intent = self._get(self.payment_intents, intent_id, "payment_intent")
                return 200, self._expand_intent(intent, _expands(params))
            case "POST", ["v1", "refunds"]:
                return self._create_refund(params)
            case "POST", ["v1", "transfers"]:
                return self._create_transfer(params)
            case "GET", ["v1", "transfers", transfer_id]:
                return 200, dict(self._get(self.transfers, transfer_id, "transfer"))
            case "GET", ["v1", "balance_transactions"]:
                return self._list_balance_transactions(params)
            case "POST", ["v1", "accounts"]:
                account = {
                    "id": self._new_id("acct"),
                    "object": "account",
                    "type": _required(params, "type"),
                    "email": params.get("email"),
                    "country": params.get("country"),
                    "created": self._now(),
                }
                self.accounts[account["id"]] = account
                return 200, dict(account)
            case "POST", ["v1", "account_links"]:
                account_id = _required(params, "account")
                self._get(self.accounts, account_id, "account")
                return 200, {
                    "object": "account_link",
                    "created": self._now(),
                    "url": f"https://connect.stripe.test/setup/{account_id}",
                }
        raise _StripeHTTPError(
            404,
            "invalid_request_error",
            f"Unrecognized request URL ({request.method}: {request.path}).",
        )

    # Resources -------------------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):08d}"

    def _now(self) -> int:
        return int(self.clock())

    def _get(self, store: dict[str, dict], object_id: str, kind: str) -> dict:
        try:
            return store[object_id]
        except KeyError:
            raise _StripeHTTPError(
                404,
                "invalid_request_error",
                f"No such {kind}: '{object_id}'",
                code="resource_missing",
                param="id",
            ) from None

    def _create_payment_intent(self, params: dict[str, str]) -> tuple[int, dict]:
        amount = _positive_int(params, "amount")
        currency = _required(params, "currency").lower()
        payment_method = _required(params, "payment_method")
        intent = {
            "id": self._new_id("pi"),
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "currency": currency,
            "status": "requires_confirmation",
            "created": self._now(),
            "description": params.get("description"),
            "payment_method": payment_method,
            "payment_method_types": [
                value for key, value in params.items() if key.startswith("payment_method_types[")
            ]
            or ["card"],
            "latest_charge": None,
            "next_action": None,
            "last_payment_error": None,
            "livemode": False,
            "metadata": {},
        }
        self.payment_intents[intent["id"]] = intent
        if params.get("confirm") != "true":
            return 200, dict(intent)
        if payment_method == "pm_card_chargeDeclined":
            intent["status"] = "requires_payment_method"
            error = {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "generic_decline",
                "message": DECLINE_MESSAGE,
            }
            intent["last_payment_error"] = error
            raise _StripeHTTPError(
                402,
                "card_error",
                DECLINE_MESSAGE,
                code="card_declined",
                decline_code="generic_decline",
                payment_intent=dict(intent),
            )
        if payment_method == "pm_card_threeDSecure2Required":
            intent["status"] = "requires_action"
            intent["next_action"] = {
                "type": "redirect_to_url",
                "redirect_to_url": {
                    "url": f"https://hooks.stripe.com/3d_secure_2/hosted/{intent['id']}",
                    "return_url": params.get("return_url"),
                },
            }
        elif payment_method in ("pm_card_visa", "pm_card_pendingRefund"):
            self._succeed(intent)
        else:
            raise _StripeHTTPError(
                400,
                "invalid_request_error",
                f"No such PaymentMethod: '{payment_method}'",
                code="resource_missing",
                param="payment_method",
            )
        return 200, self._expand_intent(intent, _expands(params))

    def _succeed(self, intent: dict) -> None:
        amount, currency = intent["amount"], intent["currency"]
        charge_id = self._new_id("ch")
        transaction = self._book(
            type="charge",
            amount=amount,
            currency=currency,
            source=charge_id,
            fee=amount * 29 // 1000 + 30,
            created=self._now(),
        )
        self.charges[charge_id] = {
            "id": charge_id,
            "object": "charge",
            "amount": amount,
            "amount_refunded": 0,
            "currency": currency,
            "status": "succeeded",
            "paid": True,
            "payment_intent": intent["id"],
            "payment_method": intent["payment_method"],
            "balance_transaction": transaction["id"],
            "created": transaction["created"],
        }
        intent.update(status="succeeded", amount_received=amount, latest_charge=charge_id)

    def _book(
        self, *, type: str, amount: int, currency: str, source: str, fee: int, created: int
    ) -> dict:
        transaction = {
            "id": self._new_id("txn"),
            "object": "balance_transaction",
            "amount": amount,
            "currency": currency,
            "fee": fee,
            "net": amount - fee,
            "type": type,
            "source": source,
            "status": "available",
            "created": created,
        }
        self.balance_transactions[transaction["id"]] = transaction
        return transaction

    def _expand_intent(self, intent: dict, expands: list[str]) -> dict:
        result = dict(intent)
        charge_id = intent["latest_charge"]
        wanted = {"latest_charge", "latest_charge.balance_transaction"} & set(expands)
        if charge_id and wanted:
            charge = dict(self.charges[charge_id])
            if "latest_charge.balance_transaction" in expands:
                charge["balance_transaction"] = dict(
                    self.balance_transactions[charge["balance_transaction"]]
                )
            result["latest_charge"] = charge
        return result

    def _create_refund(self, params: dict[str, str]) -> tuple[int, dict]:
        intent_id = _required(params, "payment_intent")
        intent = self._get(self.payment_intents, intent_id, "payment_intent")
        if intent["status"] != "succeeded":
            raise _StripeHTTPError(
                400,
                "invalid_request_error",
                f"PaymentIntent {intent['id']} does not have a successful charge to refund.",
            )
        charge = self.charges[intent["latest_charge"]]
        left = charge["amount"] - charge["amount_refunded"]
        amount = _positive_int(params, "amount") if "amount" in params else left
        if amount > left:
            raise _StripeHTTPError(
                400,
                "invalid_request_error",
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                param="amount",
            )
        charge["amount_refunded"] += amount
        refund = {
            "id": self._new_id("re"),
            "object": "refund",
            "amount": amount,
            "currency": charge["currency"],
            "charge": charge["id"],
            "payment_intent": intent["id"],
            "status": "succeeded",
            "failure_reason": None,
            "balance_transaction": None,
            "created": self._now(),
        }
        if intent["payment_method"] == "pm_card_pendingRefund":
            refund["status"] = "pending"
        else:
            booked = self._book(
                type="refund",
                amount=-amount,
                currency=refund["currency"],
                source=refund["id"],
                fee=0,
                created=refund["created"],
            )
            refund["balance_transaction"] = booked["id"]
        self.refunds[refund["id"]] = refund
        return 200, dict(refund)

    def _create_transfer(self, params: dict[str, str]) -> tuple[int, dict]:
        amount = _positive_int(params, "amount")
        currency = _required(params, "currency").lower()
        destination = _required(params, "destination")
        if destination == FAILED_DESTINATION:
            raise _StripeHTTPError(
                400, "invalid_request_error", FAILED_DESTINATION_MESSAGE, param="destination"
            )
        transfer = {
            "id": self._new_id("tr"),
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "currency": currency,
            "description": params.get("description"),
            "destination": destination,
            "reversed": False,
            "balance_transaction": None,
            "created": self._now(),
        }
        booked = self._book(
            type="transfer",
            amount=-amount,
            currency=currency,
            source=transfer["id"],
            fee=0,
            created=transfer["created"],
        )
        transfer["balance_transaction"] = booked["id"]
        self.transfers[transfer["id"]] = transfer
        return 200, dict(transfer)

    def _list_balance_transactions(self, params: dict[str, str]) -> tuple[int, dict]:
        limit = int(params.get("limit", "10"))
        if not 1 <= limit <= 100:
            raise _StripeHTTPError(400, "invalid_request_error", "Invalid limit", param="limit")
        bounds = {
            op: int(params[f"created[{op}]"])
            for op in ("gt", "gte", "lt", "lte")
            if f"created[{op}]" in params
        }
        checks = {
            "gt": lambda c, b: c > b,
            "gte": lambda c, b: c >= b,
            "lt": lambda c, b: c < b,
            "lte": lambda c, b: c <= b,
        }
        # Newest first, like Stripe (ties broken by insertion order, newest first).
        ordered = [
            t
            for t in reversed(list(self.balance_transactions.values()))
            if all(checks[op](t["created"], bound) for op, bound in bounds.items())
        ]
        ordered.sort(key=lambda t: t["created"], reverse=True)
        if "starting_after" in params:
            ids = [t["id"] for t in ordered]
            ordered = ordered[ids.index(params["starting_after"]) + 1 :]
        page = ordered[:limit]
        expands = _expands(params)
        data = []
        for transaction in page:
            item = dict(transaction)
            if "data.source" in expands:
                item["source"] = self._source(item["source"])
            data.append(item)
        return 200, {
            "object": "list",
            "url": "/v1/balance_transactions",
            "has_more": len(ordered) > limit,
            "data": data,
        }

    def _source(self, source_id: str) -> dict | str:
        for store in (self.charges, self.refunds, self.transfers):
            if source_id in store:
                return dict(store[source_id])
        return source_id


def _expands(params: dict[str, str]) -> list[str]:
    return [value for key, value in params.items() if key.startswith("expand[")]


def _required(params: dict[str, str], name: str) -> str:
    if not params.get(name):
        raise _StripeHTTPError(
            400, "invalid_request_error", f"Missing required param: {name}.", param=name
        )
    return params[name]


def _positive_int(params: dict[str, str], name: str) -> int:
    value = _required(params, name)
    if not value.isdigit() or int(value) < 1:
        raise _StripeHTTPError(
            400, "invalid_request_error", f"Invalid positive integer: {name}", param=name
        )
    return int(value)
