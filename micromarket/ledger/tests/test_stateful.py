"""A Hypothesis state machine drives the money services at random — checkouts (card, declined
card, card needing confirmation, buyer credit, carts of two sellers), releases, refunds,
settlements, tips, clearing, payouts that succeed or fail, replays of idempotency keys and
requests that must be refused — and keeps its own model of every balance.

After every step the books must balance, ``ledger_verify`` must find nothing, no balance may be
negative, and every user's pending/available/credit balance, every escrow and every system
account must be exactly what the model says.

Each example runs inside its own atomic block that is rolled back at the end (the machine's
``__init__`` opens it, ``teardown`` rolls it back), within the test's ``db`` transaction.
After-commit work (the provider calls of refunds and payouts) is run when each service
returns, as the worker would.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import transaction
from django.test import TestCase as DjangoTestCase
from django.utils import timezone
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from micromarket.accounts.tests.factories import UserFactory
from micromarket.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from micromarket.ledger import selectors as ledger_selectors
from micromarket.ledger import services as ledger
from micromarket.ledger.models import (
    Account,
    AccountKind,
    Clearing,
    Escrow,
    Posting,
    Transaction,
)
from micromarket.payments import services
from micromarket.payments.models import (
    Payment,
    PaymentLine,
    Payout,
    Refund,
    SandboxObject,
)
from micromarket.payments.providers import sandbox
from micromarket.trust.tests.factories_verification import verified_seller

CURRENCIES = ("USD", "JPY")  # JPY has no minor unit: amounts are whole yen
USERS = 4
OK, DECLINED, CONFIRM = sandbox.CARD_SUCCEEDS, sandbox.CARD_DECLINED, sandbox.CARD_REQUIRES_ACTION
RETURN_URL = "http://testserver/back/"
SYSTEM = ("provider_clearing", "platform_revenue", "provider_fees", "payouts_in_flight")
# Fixed amounts of the fee schedule the machine sets up, per currency.
CURRENCY_FEES = {
    "USD": {
        "small_order_fee": 99,
        "small_order_threshold": 1_000,
        "payout_minimum": 500,
        "payout_fee": 25,
    },
    "JPY": {
        "small_order_fee": 50,
        "small_order_threshold": 500,
        "payout_minimum": 0,
        "payout_fee": 100,
    },
}

MAX_EXAMPLES = 60
STEPS = 50


def rdiv(numerator: int, denominator: int) -> int:
    """The model's own rounding: numerator / denominator, half to even, integers only."""
    quotient, remainder = divmod(numerator, denominator)
    if 2 * remainder > denominator or (2 * remainder == denominator and quotient % 2):
        quotient += 1
    return quotient


def bps_of(amount: int, bps: int) -> int:
    return rdiv(amount * bps, 10_000)


def sandbox_fee(amount: int) -> int:
    return min(amount, bps_of(amount, 290) + 30)  # the sandbox's 2.9% + 30


@dataclass
class Order:
    reference: str
    buyer: int
    seller: int
    currency: str
    subtotal: int
    service_fee: int
    commission_bps: int
    credit_amount: int
    card_amount: int
    paid: bool = False  # the payment succeeded
    status: str = "awaiting_payment"
    refunded_sub: int = 0
    refunded_fee: int = 0
    card_refunded: int = 0  # sent back to the card (refunds that became credit excluded)

    @property
    def total(self) -> int:
        return self.subtotal + self.service_fee

    @property
    def held(self) -> int:
        if self.status == "held":
            return self.total - self.refunded_sub - self.refunded_fee
        if self.status == "awaiting_payment":
            return self.credit_amount  # credit applied while the card payment is unfinished
        return 0


@dataclass(repr=False)
class PaymentCall:
    buyer: int
    key: str
    kwargs: dict
    payment_id: int
    status: str
    references: list[str]
    provider_reference: str = ""

    def __repr__(self) -> str:
        return f"<payment {self.key} of user {self.buyer}: {self.kwargs}>"


@dataclass(repr=False)
class PayoutCall:
    owner: int
    key: str
    amount: int
    currency: str
    method: str
    payout_id: int
    fee: int
    status: str = "requested"

    def __repr__(self) -> str:
        return f"<payout {self.key}: {self.amount} {self.currency} to the {self.method} account>"


@dataclass
class Pending:
    owner: int
    currency: str
    amount: int
    days: int
    cleared: bool = False


@dataclass
class Schedule:
    commission_bps: int
    buyer_fee_bps: int
    tip_bps: int
    clearing_days: int


@dataclass(repr=False)
class Replayable:
    kind: str  # payment, payout, release, refund, settlement, tip
    call: dict
    result_id: int | None = None
    extra: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"<{self.kind} {self.call}>"


def run_after_commit():
    """Run what the services schedule after commit (provider calls) when the block ends."""
    return DjangoTestCase.captureOnCommitCallbacks(execute=True)


def snapshot():
    """Everything a refused request must leave as it was."""
    counts = tuple(
        model.objects.count()
        for model in (
            Transaction,
            Posting,
            Escrow,
            Clearing,
            Payment,
            PaymentLine,
            Refund,
            Payout,
            SandboxObject,
        )
    )
    return counts, tuple(Account.objects.order_by("id").values_list("id", "balance"))


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.operator = UserFactory(operator=True)
        # Payouts need approved trader details (docs/trust.md).
        self.users = [verified_seller(UserFactory(), operator=self.operator) for _ in range(USERS)]
        self.methods = {
            (u, kind): services.payout_method_add(
                owner=user,
                destination=sandbox.BANK_SUCCEEDS if kind == "ok" else sandbox.BANK_FAILS,
            )
            for u, user in enumerate(self.users)
            for kind in ("ok", "fails")
        }
        # The model.
        self.balances = defaultdict(lambda: {"pending": 0, "available": 0, "credit": 0})
        self.system = defaultdict(int)  # (currency, kind) → sum of postings (debit +)
        self.orders: dict[str, Order] = {}
        self.payments: list[PaymentCall] = []
        self.payouts: list[PayoutCall] = []
        self.pending: list[Pending] = []
        self.replayable: list[Replayable] = []
        self.fail_refunds = False
        self.fail_payouts = False
        self.days = 0  # how far clearing has been run into the future
        self.counter = 0
        self.schedule: Schedule | None = None

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # -- helpers ----------------------------------------------------------------------------

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def credit_of(self, u: int, currency: str) -> int:
        return self.balances[(u, currency)]["credit"]

    def refused(self, call, error=DomainError, code: str | None = None):
        """``call`` must raise ``error`` (with ``code``) and change nothing.

        The call runs bare (no savepoint of its own), so anything written before the refusal
        would show, and a refusal that broke the surrounding transaction would fail the next
        check.
        """
        before = snapshot()
        raised = None
        try:
            with run_after_commit():
                call()
        except error as exc:
            raised = exc
        assert raised is not None, f"expected {error.__name__} {code or ''}, nothing was raised"
        event("refused", f"{sys._getframe(1).f_code.co_name}: {raised.code}")
        if code is not None:
            assert raised.code == code, f"expected {code}, got {raised.code}: {raised.message}"
        assert snapshot() == before, "a refused request changed the books"

    def unchanged(self, call):
        before = snapshot()
        with run_after_commit():
            result = call()
        assert snapshot() == before, "a replay wrote something"
        return result

    def quote(self, subtotal: int, currency: str) -> tuple[int, int]:
        fixed = CURRENCY_FEES[currency]
        small = fixed["small_order_fee"] if subtotal < fixed["small_order_threshold"] else 0
        return bps_of(subtotal, self.schedule.buyer_fee_bps) + small, self.schedule.commission_bps

    def release_effects(self, order: Order, days: int) -> None:
        gross = order.subtotal - order.refunded_sub
        fee_kept = order.service_fee - order.refunded_fee
        commission = bps_of(gross, order.commission_bps)
        net = gross - commission
        self.balances[(order.seller, order.currency)]["pending"] += net
        self.system[(order.currency, "platform_revenue")] -= commission + fee_kept
        if net > 0:
            self.pending.append(Pending(order.seller, order.currency, net, days))

    def buyer_refund_effects(self, order: Order, amount: int, to: str) -> tuple[int, str]:
        """The ledger part of refunding ``amount`` of the price; returns (total, status)."""
        fee = rdiv(order.service_fee * (order.refunded_sub + amount), order.subtotal)
        fee -= order.refunded_fee
        total = amount + fee
        order.refunded_sub += amount
        order.refunded_fee += fee
        if total == 0:
            return 0, "succeeded"
        if to == "credit":
            self.balances[(order.buyer, order.currency)]["credit"] += total
            return total, "succeeded"
        self.system[(order.currency, "provider_clearing")] -= total
        if self.fail_refunds:  # the provider refuses: paid as buyer credit instead
            self.system[(order.currency, "provider_clearing")] += total
            self.balances[(order.buyer, order.currency)]["credit"] += total
            return total, "credited"
        order.card_refunded += total
        return total, "succeeded"

    def refund_parts(self, order: Order, amount: int) -> int:
        fee = rdiv(order.service_fee * (order.refunded_sub + amount), order.subtotal)
        return amount + fee - order.refunded_fee

    def charge_effects(self, call: PaymentCall, card_amount: int) -> None:
        currency = call.kwargs["currency"]
        for reference in call.references:
            self.orders[reference].status = "held"
            self.orders[reference].paid = True
        if card_amount:
            fee = sandbox_fee(card_amount)
            self.system[(currency, "provider_clearing")] += card_amount - fee
            self.system[(currency, "provider_fees")] += fee

    def decline_effects(self, call: PaymentCall) -> None:
        for reference in call.references:
            order = self.orders[reference]
            self.balances[(order.buyer, order.currency)]["credit"] += order.credit_amount
            order.status = "cancelled"

    def actor(self, order: Order, who: str):
        if who == "seller":
            return self.users[order.seller]
        if who == "operator":
            return self.operator
        if who == "buyer":
            return self.users[order.buyer]
        stranger = next(u for u in range(USERS) if u not in (order.buyer, order.seller))
        return self.users[stranger]

    def paid_orders(self) -> list[str]:
        return sorted(r for r, o in self.orders.items() if o.paid)

    def held_orders(self) -> list[str]:
        return sorted(r for r, o in self.orders.items() if o.status == "held")

    def pick_order(self, data, which: str) -> Order:
        """Mostly an order whose money is held (so that the request can succeed), sometimes
        any order (so that it must be refused)."""
        candidates = {
            "held": self.held_orders(),
            "paid": self.paid_orders(),
            "any": sorted(self.orders),
        }
        choice = candidates[which] or candidates["paid"] or candidates["any"]
        return self.orders[data.draw(st.sampled_from(choice), label="order")]

    # -- setup ------------------------------------------------------------------------------

    @initialize(
        commission_bps=st.sampled_from([0, 1000, 1250, 10_000]),
        buyer_fee_bps=st.sampled_from([0, 500, 550]),
        tip_bps=st.sampled_from([0, 1500]),
        clearing_days=st.sampled_from([0, 3, 14]),
    )
    def fee_schedule(self, commission_bps, buyer_fee_bps, tip_bps, clearing_days):
        services.fee_schedule_create(
            operator=self.operator,
            effective_from=timezone.now(),
            commission_bps=commission_bps,
            buyer_fee_bps=buyer_fee_bps,
            tip_platform_bps=tip_bps,
            clearing_days=clearing_days,
            currency_fees=CURRENCY_FEES,
        )
        self.schedule = Schedule(commission_bps, buyer_fee_bps, tip_bps, clearing_days)

    @initialize(
        opening=st.lists(
            st.tuples(
                st.integers(0, USERS - 1),
                st.sampled_from(CURRENCIES),
                st.sampled_from(["available", "available", "credit"]),
                st.integers(1, 100_000),
            ),
            min_size=1,
            max_size=4,
        )
    )
    def opening_balances(self, opening):
        """Some users start with money: an operator's adjustment from provider clearing."""
        for n, (u, currency, kind, amount) in enumerate(opening):
            ledger.adjustment_post(
                lines=[
                    ledger.Line(
                        ledger.account_for(AccountKind.PROVIDER_CLEARING, currency), amount
                    ),
                    ledger.Line(ledger.account_for(kind, currency, self.users[u]), -amount),
                ],
                description="Opening balance",
                reference=f"opening:{n}",
                idempotency_key=f"opening:{n}",
                created_by=self.operator,
            )
            self.system[(currency, "provider_clearing")] += amount
            self.balances[(u, currency)][kind] += amount

    # -- checkout ---------------------------------------------------------------------------

    @rule(
        people=st.permutations(range(USERS)),
        cart=st.sampled_from([1, 1, 2]),
        currency=st.sampled_from(CURRENCIES),
        subtotals=st.lists(
            st.one_of(st.integers(1, 1_500), st.integers(1, 200_000)), min_size=2, max_size=2
        ),
        card=st.sampled_from([OK, OK, OK, DECLINED, CONFIRM]),
        use_credit=st.sampled_from(["none"] * 3 + ["all", "half"] * 2 + ["too_much"]),
    )
    def pay(self, people, cart, currency, subtotals, card, use_credit):
        buyer, sellers = people[0], people[1 : 1 + cart]
        balance = self.credit_of(buyer, currency)
        credit = {
            "none": 0,
            "all": balance,
            "half": balance // 2,
            "too_much": balance + 1,
        }[use_credit]
        orders = []
        for seller, subtotal in zip(sellers, subtotals, strict=False):
            fee, bps = self.quote(subtotal, currency)
            orders.append((self.next_id("order:"), seller, subtotal, fee, bps))
        total = sum(subtotal + fee for _, _, subtotal, fee, _ in orders)
        key = self.next_id("pay-")
        kwargs = {
            "currency": currency,
            "orders": [(ref, seller, subtotal) for ref, seller, subtotal, _, _ in orders],
            "card": card,
            "credit": credit,
        }
        call = lambda: self.start_payment(buyer, key, kwargs)  # noqa: E731
        used = min(credit, total)
        if used > balance:
            self.refused(call, ValidationFailed, "insufficient_funds")
            return
        with run_after_commit():
            payment = call()
        card_amount = total - used
        assert (payment.total, payment.credit_amount, payment.card_amount) == (
            total,
            used,
            card_amount,
        )
        credit_left = used
        references = []
        for reference, seller, subtotal, fee, bps in orders:
            from_credit = min(credit_left, subtotal + fee)
            credit_left -= from_credit
            self.orders[reference] = Order(
                reference,
                buyer,
                seller,
                currency,
                subtotal,
                fee,
                bps,
                credit_amount=from_credit,
                card_amount=subtotal + fee - from_credit,
            )
            references.append(reference)
        self.balances[(buyer, currency)]["credit"] -= used
        record = PaymentCall(buyer, key, kwargs, payment.pk, payment.status, references)
        self.payments.append(record)
        self.replayable.append(
            Replayable("payment", {"buyer": buyer, "key": key, "kwargs": kwargs}, payment.pk)
        )
        if card_amount == 0 or card == OK:
            assert payment.status == "succeeded", payment.decline_message
            self.charge_effects(record, card_amount)
        elif card == DECLINED:
            assert payment.status == "declined"
            assert payment.decline_message == "Your card was declined."
            self.decline_effects(record)
        else:
            assert payment.status == "requires_action"
            record.provider_reference = payment.provider_reference
        record.status = payment.status
        event("payment", f"{payment.status}, {len(references)} order(s), credit {use_credit}")

    def start_payment(self, buyer: int, key: str, kwargs: dict):
        return services.payment_start(
            buyer=self.users[buyer],
            currency=kwargs["currency"],
            orders=[
                services.OrderCharge(
                    reference=ref,
                    seller=self.users[seller],
                    subtotal=subtotal,
                    description=f"Order {ref}",
                )
                for ref, seller, subtotal in kwargs["orders"]
            ],
            payment_method=kwargs["card"],
            idempotency_key=key,
            return_url=RETURN_URL,
            credit=kwargs["credit"],
        )

    @precondition(lambda self: any(p.status == "requires_action" for p in self.payments))
    @rule(data=st.data(), approve=st.booleans())
    def confirm(self, data, approve):
        """The buyer answers the card's confirmation page."""
        waiting = [p for p in self.payments if p.status == "requires_action"]
        call = data.draw(st.sampled_from(waiting), label="payment")
        services.sandbox_authenticate(reference=call.provider_reference, approve=approve)
        payment = Payment.objects.get(pk=call.payment_id)
        if approve:
            assert payment.status == "succeeded"
            self.charge_effects(call, sum(self.orders[r].card_amount for r in call.references))
        else:
            assert payment.status == "declined"
            self.decline_effects(call)
        call.status = payment.status

    # -- release, refund, settle ------------------------------------------------------------

    @precondition(lambda self: self.held_orders())
    @rule(
        data=st.data(),
        which=st.sampled_from(["held", "held", "any"]),
        clearing_days=st.sampled_from([None, None, 0, 1, 7]),
    )
    def release(self, data, which, clearing_days):
        order = self.pick_order(data, which)
        reference = order.reference
        key = self.next_id("release-")
        call = lambda: services.escrow_release(  # noqa: E731
            reference=reference, idempotency_key=key, clearing_days=clearing_days
        )
        if not order.paid:
            self.refused(call, NotFound, "unknown_order")
            return
        if order.status != "held":
            self.refused(call, ValidationFailed, "escrow_not_held")
            return
        with run_after_commit():
            call()
        event("released", "after partial refunds" if order.refunded_sub else "in full")
        days = self.schedule.clearing_days if clearing_days is None else clearing_days
        self.release_effects(order, days)
        order.status = "settled" if order.refunded_sub else "released"
        self.replayable.append(
            Replayable("release", {"reference": reference, "key": key, "days": clearing_days})
        )

    @precondition(lambda self: self.held_orders())
    @rule(
        data=st.data(),
        how_much=st.sampled_from(["all", "part", "part", "third", "third", "one", "too_much"]),
        to=st.sampled_from(["card", "credit"]),
        who=st.sampled_from(["seller"] * 4 + ["operator"] * 2 + ["buyer", "stranger"]),
        which=st.sampled_from(["held", "held", "held", "paid"]),
    )
    def refund(self, data, how_much, to, who, which):
        order = self.pick_order(data, which)
        reference = order.reference
        left = order.subtotal - order.refunded_sub
        if how_much == "part":
            amount = data.draw(st.integers(1, max(1, left)), label="part")
        else:
            third = min(left, max(1, order.subtotal // 3))  # thirds round the fee differently
            amount = {"all": left, "third": third, "one": 1, "too_much": left + 1}[how_much]
        actor = self.actor(order, who)
        key = self.next_id("refund-")
        call = lambda: services.refund_create(  # noqa: E731
            reference=reference,
            amount=amount,
            to=to,
            reason="Changed plans",
            idempotency_key=key,
            actor=actor,
        )
        if amount <= 0:  # "all" of an order already refunded in full
            self.refused(call, ValidationFailed, "validation_failed")
        elif who == "buyer":
            self.refused(call, PermissionDenied)
        elif who == "stranger":
            self.refused(call, NotFound, "unknown_order")
        elif order.status != "held":
            self.refused(call, ValidationFailed, "escrow_not_held")
        elif amount > left:
            self.refused(call, ValidationFailed, "refund_exceeds_escrow")
        elif to == "card" and self.refund_parts(order, amount) > (
            order.card_amount - order.card_refunded
        ):
            self.refused(call, ValidationFailed, "card_refund_exceeds_charge")
        else:
            with run_after_commit():
                refund = call()
            refund.refresh_from_db()
            total, status = self.buyer_refund_effects(order, amount, to)
            if order.refunded_sub == order.subtotal:
                order.status = "refunded"
            assert (refund.amount, refund.total, refund.status) == (amount, total, status)
            event("refunded", f"to {to}, {status}, {order.status}")
            self.replayable.append(
                Replayable(
                    "refund",
                    {"reference": reference, "amount": amount, "to": to, "key": key},
                    refund.pk,
                    {"actor": actor},
                )
            )

    @precondition(lambda self: self.held_orders())
    @rule(
        data=st.data(),
        how_much=st.sampled_from(["none", "part", "all", "too_much"]),
        to=st.sampled_from(["card", "credit"]),
        clearing_days=st.sampled_from([None, 0, 2]),
        by_operator=st.sampled_from([True] * 5 + [False]),
        which=st.sampled_from(["held", "held", "held", "paid"]),
    )
    def settle(self, data, how_much, to, clearing_days, by_operator, which):
        """An operator splits what is held (a dispute decision)."""
        order = self.pick_order(data, which)
        reference = order.reference
        left = order.subtotal - order.refunded_sub
        if how_much == "part":
            buyer_amount = data.draw(st.integers(0, left), label="part")
        else:
            buyer_amount = {"none": 0, "all": left, "too_much": left + 1}[how_much]
        actor = self.operator if by_operator else self.users[order.seller]
        key = self.next_id("settle-")
        call = lambda: services.escrow_settlement(  # noqa: E731
            reference=reference,
            buyer_amount=buyer_amount,
            to=to,
            reason="Dispute decided",
            idempotency_key=key,
            actor=actor,
            clearing_days=clearing_days,
        )
        if not by_operator:
            self.refused(call, PermissionDenied)
        elif order.status != "held":
            self.refused(call, ValidationFailed, "escrow_not_held")
        elif buyer_amount > left:
            self.refused(call, ValidationFailed, "refund_exceeds_escrow")
        elif to == "card" and self.refund_parts(order, buyer_amount) > (
            order.card_amount - order.card_refunded
        ):
            self.refused(call, ValidationFailed, "card_refund_exceeds_charge")
        else:
            with run_after_commit():
                refund = call()
            refund.refresh_from_db()
            total, status = self.buyer_refund_effects(order, buyer_amount, to)
            days = self.schedule.clearing_days if clearing_days is None else clearing_days
            self.release_effects(order, days)
            if order.refunded_sub == order.subtotal:
                order.status = "refunded"
            else:
                order.status = "settled" if order.refunded_sub else "released"
            assert (refund.amount, refund.total, refund.status) == (buyer_amount, total, status)
            event("settled", f"{how_much} to {to}, {status}, {order.status}")
            self.replayable.append(
                Replayable(
                    "settlement",
                    {"reference": reference, "amount": buyer_amount, "to": to, "key": key},
                    refund.pk,
                    {"days": clearing_days},
                )
            )

    @precondition(lambda self: self.replayable)
    @rule(data=st.data(), same=st.booleans())
    def replay(self, data, same):
        """A request sent again with its idempotency key (a retry, a double click): with the
        same parameters it returns the first result, with others it is refused; either way
        nothing is written."""
        item = data.draw(st.sampled_from(self.replayable), label="request")
        call = self.replay_call(item, same, data)
        if not same:
            self.refused(call, ValidationFailed, "idempotency_mismatch")
            return
        result = self.unchanged(call)
        if item.kind != "release":  # the service returns nothing
            assert result.pk == item.result_id

    def replay_call(self, item: Replayable, same: bool, data):
        c = item.call
        if item.kind == "payment":
            kwargs = dict(c["kwargs"])
            if not same:
                change = data.draw(st.sampled_from(["subtotal", "credit", "card"]), label="change")
                if change == "subtotal":
                    (ref, seller, subtotal), *rest = kwargs["orders"]
                    kwargs["orders"] = [(ref, seller, subtotal + 1), *rest]
                elif change == "credit":
                    kwargs["credit"] += 1
                else:
                    kwargs["card"] = DECLINED if kwargs["card"] != DECLINED else OK
            return lambda: self.start_payment(c["buyer"], c["key"], kwargs)
        if item.kind == "payout":
            p = item.extra["call"]
            amount = p.amount if same else p.amount + 1
            return lambda: self.request_payout(p.owner, p.key, amount, p.currency, p.method)
        if item.kind == "release":
            days = c["days"] if same else (c["days"] or 0) + 30
            return lambda: services.escrow_release(
                reference=c["reference"], idempotency_key=c["key"], clearing_days=days
            )
        if item.kind == "tip":
            amount = c["amount"] if same else c["amount"] + 1
            return lambda: self.send_tip(self.orders[c["reference"]], {**c, "amount": amount})
        if item.kind == "refund":
            return lambda: services.refund_create(
                reference=c["reference"],
                amount=c["amount"] if same else c["amount"] + 1,
                to=c["to"],
                reason="Again",
                idempotency_key=c["key"],
                actor=item.extra["actor"],
            )
        return lambda: services.escrow_settlement(
            reference=c["reference"],
            buyer_amount=c["amount"] if same else c["amount"] + 1,
            to=c["to"],
            reason="Again",
            idempotency_key=c["key"],
            actor=self.operator,
            clearing_days=item.extra["days"],
        )

    # -- tips -------------------------------------------------------------------------------

    def completed_orders(self) -> list[str]:
        return sorted(r for r, o in self.orders.items() if o.status in ("released", "settled"))

    @precondition(lambda self: self.completed_orders())
    @rule(data=st.data(), amount=st.integers(1, 5_000), card=st.sampled_from([OK, OK, DECLINED]))
    def tip(self, data, amount, card):
        """The buyer of a completed order tips its seller."""
        done = self.completed_orders()
        order = self.orders[data.draw(st.sampled_from(done), label="order")]
        key = self.next_id("tip-")
        call = {"reference": order.reference, "amount": amount, "card": card, "key": key}
        with run_after_commit():
            payment = self.send_tip(order, call)
        if card == DECLINED:
            assert payment.status == "declined"
            return
        assert payment.status == "succeeded"
        event("tip", f"{order.currency} {'with' if self.schedule.tip_bps else 'without'} a share")
        share = bps_of(amount, self.schedule.tip_bps)
        fee = sandbox_fee(amount)
        currency = order.currency
        self.balances[(order.seller, currency)]["pending"] += amount - share
        self.system[(currency, "platform_revenue")] -= share
        self.system[(currency, "provider_clearing")] += amount - fee
        self.system[(currency, "provider_fees")] += fee
        if amount - share > 0:
            days = self.schedule.clearing_days
            self.pending.append(Pending(order.seller, currency, amount - share, days))
        self.replayable.append(Replayable("tip", call, payment.pk))

    def send_tip(self, order: Order, call: dict):
        return services.tip_start(
            buyer=self.users[order.buyer],
            seller=self.users[order.seller],
            reference=call["reference"],
            amount=call["amount"],
            currency=order.currency,
            payment_method=call["card"],
            idempotency_key=call["key"],
            return_url=RETURN_URL,
        )

    # -- clearing and payouts ---------------------------------------------------------------

    @precondition(lambda self: any(not p.cleared for p in self.pending))
    @rule(days=st.sampled_from([0, 1, 2, 7, 14]))
    def clearing(self, days):
        """Time passes (by ``days``) and the clearing job runs."""
        self.days += days
        done = ledger.clearing_apply_due(now=timezone.now() + timedelta(days=self.days))
        due = [p for p in self.pending if not p.cleared and p.days <= self.days]
        assert done == len(due)
        event("clearings applied", min(done, 3))
        for item in due:
            item.cleared = True
            self.balances[(item.owner, item.currency)]["pending"] -= item.amount
            self.balances[(item.owner, item.currency)]["available"] += item.amount

    @precondition(lambda self: any(b["available"] for b in list(self.balances.values())))
    @rule(
        who=st.sampled_from(["funded", "funded", "funded", "anyone"]),
        how_much=st.sampled_from(["all"] * 3 + ["part"] * 3 + ["one", "too_much"]),
        method=st.sampled_from(["ok", "ok", "fails"]),
        data=st.data(),
    )
    def payout(self, who, how_much, method, data):
        funded = sorted(k for k, b in list(self.balances.items()) if b["available"] > 0)
        if who == "funded" and funded:
            owner, currency = data.draw(st.sampled_from(funded), label="owner, currency")
        else:
            owner = data.draw(st.integers(0, USERS - 1), label="owner")
            currency = data.draw(st.sampled_from(CURRENCIES), label="currency")
        available = self.balances[(owner, currency)]["available"]
        fixed = CURRENCY_FEES[currency]
        if how_much == "part":  # mostly above the minimum and the fee
            lowest = min(available, max(fixed["payout_minimum"], fixed["payout_fee"] + 1))
            amount = data.draw(st.integers(max(1, lowest), max(1, available)), label="part")
        elif how_much == "too_much":
            amount = max(available + 1, fixed["payout_minimum"], fixed["payout_fee"] + 1)
        else:
            amount = {"all": available, "one": 1}[how_much]
        key = self.next_id("payout-")
        call = lambda: self.request_payout(owner, key, amount, currency, method)  # noqa: E731
        if amount <= 0:
            self.refused(call, ValidationFailed)
        elif amount < fixed["payout_minimum"]:
            self.refused(call, ValidationFailed, "below_minimum")
        elif amount <= fixed["payout_fee"]:
            self.refused(call, ValidationFailed)
        elif amount > available:
            self.refused(call, ValidationFailed, "insufficient_funds")
        else:
            with run_after_commit():
                payout = call()
            payout.refresh_from_db()
            fee = fixed["payout_fee"]
            record = PayoutCall(owner, key, amount, currency, method, payout.pk, fee)
            self.payouts.append(record)
            self.replayable.append(Replayable("payout", {"key": key}, payout.pk, {"call": record}))
            self.balances[(owner, currency)]["available"] -= amount
            self.system[(currency, "payouts_in_flight")] -= amount - fee
            self.system[(currency, "platform_revenue")] -= fee
            if method == "fails" or self.fail_payouts:
                self.balances[(owner, currency)]["available"] += amount
                self.system[(currency, "payouts_in_flight")] += amount - fee
                self.system[(currency, "platform_revenue")] += fee
                record.status = "failed"
            else:
                record.status = "in_flight"
            assert (payout.status, payout.amount, payout.fee) == (record.status, amount, fee)
            event("payout", f"{payout.status} ({currency})")

    def request_payout(self, owner, key, amount, currency, method):
        return services.payout_request(
            owner=self.users[owner],
            amount=amount,
            currency=currency,
            method_id=self.methods[(owner, method)].pk,
            idempotency_key=key,
        )

    @precondition(lambda self: any(p.status == "in_flight" for p in self.payouts))
    @rule()
    def provider_pays_out(self):
        """Later, the sweeper asks the provider about payouts on their way."""
        later = timezone.now() + timedelta(seconds=django_settings.SANDBOX_PAYOUT_DELAY + 1)
        with time_machine.travel(later):
            done = services.payouts_poll()
        flying = [p for p in self.payouts if p.status == "in_flight"]
        assert done == len(flying)
        event("payouts paid", min(done, 3))
        for p in flying:
            p.status = "paid"
            self.system[(p.currency, "payouts_in_flight")] += p.amount - p.fee
            self.system[(p.currency, "provider_clearing")] -= p.amount - p.fee

    @rule(fail_refunds=st.booleans(), fail_payouts=st.booleans())
    def operator_switches_sandbox_failures(self, fail_refunds, fail_payouts):
        services.sandbox_control_set(
            operator=self.operator,
            fail_charges=False,
            fail_refunds=fail_refunds,
            fail_payouts=fail_payouts,
        )
        self.fail_refunds, self.fail_payouts = fail_refunds, fail_payouts

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def books_balance(self):
        rows, totals = ledger_selectors.trial_balance()
        assert all(total == 0 for total in totals.values()), totals
        assert ledger_selectors.ledger_verify() == []
        assert not Account.objects.filter(balance__lt=0).exists()
        # Per currency and kind of account, the postings are what the model says.
        by_kind = {(r.currency, r.kind): r.total for r in rows}
        for currency in CURRENCIES:
            for kind in SYSTEM:
                expected = self.system[(currency, kind)]
                assert by_kind.get((currency, kind), 0) == expected, (currency, kind)
            held = sum(o.held for o in self.orders.values() if o.currency == currency)
            assert by_kind.get((currency, AccountKind.ESCROW), 0) == -held, currency
            for kind in ("pending", "available", "credit"):
                owed = sum(self.balances[(u, currency)][kind] for u in range(USERS))
                assert by_kind.get((currency, kind), 0) == -owed, (currency, kind)

    @invariant()
    def balances_are_what_the_model_says(self):
        for u, user in enumerate(self.users):
            shown = ledger_selectors.user_balances(user)
            for currency in CURRENCIES:
                expected = self.balances[(u, currency)]
                assert min(expected.values()) >= 0, (u, currency, expected)
                actual = shown.get(currency, {"pending": 0, "available": 0, "credit": 0})
                assert actual == expected, (u, currency)

    @invariant()
    def escrows_are_what_the_model_says(self):
        escrows = {
            e.reference: (e.account.balance, e.status, e.refunded_subtotal, e.refunded_fee)
            for e in Escrow.objects.select_related("account")
        }
        expected = {
            o.reference: (o.held, o.status, o.refunded_sub, o.refunded_fee)
            for o in self.orders.values()
        }
        assert escrows == expected

    @invariant()
    def payouts_are_what_the_model_says(self):
        assert dict(Payout.objects.values_list("pk", "status")) == {
            p.payout_id: p.status for p in self.payouts
        }


@pytest.mark.django_db
def test_money_state_machine():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(max_examples=MAX_EXAMPLES, stateful_step_count=STEPS, deadline=None),
    )
