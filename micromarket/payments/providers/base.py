"""The one interface every payment provider implements (sandbox, Stripe).

Amounts are integer minor units with an ISO 4217 code. Every call that moves money takes the
caller's idempotency key and passes it to the provider, so a retried call never charges, refunds
or pays out twice. Providers return plain results; they never touch the ledger — the payments
services turn results into ledger transactions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

ChargeStatus = Literal["succeeded", "requires_action", "declined", "processing"]
RefundStatus = Literal["succeeded", "pending", "failed"]
PayoutStatus = Literal["pending", "paid", "failed"]


class ProviderError(Exception):
    """The provider could not be reached or refused the request for a technical reason.

    Nothing happened at the provider (or it is unknown and safe to retry with the same key).
    """


@dataclass(frozen=True)
class ChargeResult:
    status: ChargeStatus
    reference: str  # the provider's id: "sbx_ch_…", "pi_…"
    amount: int
    currency: str
    fee: int = 0  # the provider's own fee, once known (succeeded charges)
    decline_message: str = ""  # shown to the buyer when declined
    action_url: str = ""  # where the buyer completes the extra step (requires_action)


@dataclass(frozen=True)
class RefundResult:
    status: RefundStatus
    reference: str  # "sbx_re_…", "re_…"
    amount: int
    currency: str
    failure_message: str = ""


@dataclass(frozen=True)
class PayoutResult:
    status: PayoutStatus
    reference: str  # "sbx_po_…", "tr_…"
    amount: int
    currency: str
    failure_message: str = ""


@dataclass(frozen=True)
class ProviderRecord:
    """One money movement as the provider's books show it (for reconciliation)."""

    kind: Literal["charge", "refund", "payout"]
    reference: str
    amount: int  # positive
    currency: str
    status: str
    created_at: datetime
    fee: int = 0


@dataclass(frozen=True)
class WebhookEvent:
    """A verified provider event, normalised. ``kind`` is one of:
    charge.succeeded, charge.failed, refund.succeeded, refund.failed, payout.paid, payout.failed,
    or "ignored" for event types we do not act on."""

    id: str
    kind: str
    reference: str  # the object the event is about (charge / refund / payout reference)
    amount: int = 0
    currency: str = ""
    fee: int = 0
    failure_message: str = ""
    raw_type: str = ""
    data: dict = field(default_factory=dict)


class PaymentProvider(Protocol):
    name: str

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
        """Charge the buyer's payment method (sandbox: a test card number; Stripe: a pm_ id).

        ``return_url`` is where the provider sends the buyer back after an extra step.
        """

    def charge_retrieve(self, *, reference: str) -> ChargeResult:
        """The charge's current state (after the buyer's extra step, or to poll)."""

    def charge_cancel(self, *, reference: str) -> ChargeResult:
        """Withdraw a charge the buyer has not completed; returns its state afterwards (a
        charge that succeeded meanwhile stays succeeded)."""

    def refund(
        self, *, charge_reference: str, amount: int, currency: str, idempotency_key: str
    ) -> RefundResult:
        """Return ``amount`` (≤ what is left of the charge) to the card that paid it."""

    def payout(
        self,
        *,
        destination: str,
        amount: int,
        currency: str,
        description: str,
        idempotency_key: str,
    ) -> PayoutResult:
        """Send ``amount`` to the seller's payout destination (sandbox: a test bank account
        number; Stripe: a Connect account id "acct_…")."""

    def payout_retrieve(self, *, reference: str) -> PayoutResult:
        """The payout's current state (sandbox payouts settle after a delay)."""

    def records(self, *, since: datetime, until: datetime) -> list[ProviderRecord]:
        """Charges, refunds and payouts created in [since, until), for reconciliation."""

    def webhook_event(self, *, payload: bytes, headers: dict[str, str]) -> WebhookEvent:
        """Verify a webhook request and normalise its event; raise ``WebhookSignatureError``
        when the signature is missing, wrong, or too old."""


class WebhookSignatureError(Exception):
    """The webhook request is not provably from the provider; answer 400 and do nothing."""
