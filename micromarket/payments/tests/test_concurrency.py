"""Money requests racing each other on PostgreSQL: double clicks, retries and many buyers at
once. Each thread has its own database connection; a barrier releases them together.

Whatever the interleaving, an idempotency key gives one result, a balance is spent once and
never goes below zero, an escrow is released or refunded once, and the books balance.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from micromarket.accounts.tests.factories import UserFactory
from micromarket.core.errors import DomainError, ValidationFailed
from micromarket.core.tests.concurrency import race
from micromarket.ledger import selectors as ledger_selectors
from micromarket.ledger import services as ledger
from micromarket.ledger.arithmetic import percent
from micromarket.ledger.models import Clearing, Posting, Transaction
from micromarket.payments import services
from micromarket.payments.models import Payment, PaymentStatus, Payout, Refund, SandboxObject
from micromarket.payments.providers import sandbox
from micromarket.trust.tests.factories_verification import verified_seller

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def succeeded(outcomes: list) -> list:
    return [o for o in outcomes if not isinstance(o, Exception)]


def failed(outcomes: list) -> list:
    return [o for o in outcomes if isinstance(o, Exception)]


def balances(user, currency="USD"):
    return ledger_selectors.user_balances(user).get(
        currency, {"pending": 0, "available": 0, "credit": 0}
    )


def assert_books_balance():
    _, totals = ledger_selectors.trial_balance()
    assert all(total == 0 for total in totals.values()), totals
    assert ledger_selectors.ledger_verify() == []


def pay(buyer, seller, reference="order:1", subtotal=10_000, key=None, credit=0):
    return services.payment_start(
        buyer=buyer,
        currency="USD",
        orders=[
            services.OrderCharge(
                reference=reference,
                seller=seller,
                subtotal=subtotal,
                description=f"Logo design ({reference})",
            )
        ],
        payment_method=sandbox.CARD_SUCCEEDS,
        idempotency_key=key or f"pay-{reference}",
        return_url="http://testserver/back/",
        credit=credit,
    )


@pytest.fixture
def buyer():
    return UserFactory()


@pytest.fixture
def seller():
    return verified_seller(UserFactory())


@pytest.fixture
def paid_order(buyer, seller):
    """order:1 paid: 100.00 + 5.00 service fee held in escrow."""
    payment = pay(buyer, seller)
    assert payment.status == PaymentStatus.SUCCEEDED
    return ledger_selectors.escrow_for_reference("order:1")


@pytest.fixture
def seller_with_90_available(paid_order, seller):
    """The seller earned 90.00 (100.00 minus 10% commission), cleared and available."""
    services.escrow_release(reference="order:1", idempotency_key="release", clearing_days=0)
    ledger.clearing_apply_due(now=timezone.now() + timedelta(seconds=1))
    assert balances(seller)["available"] == 9_000
    return seller


# ---------------------------------------------------------------------------------------------
# Payouts


def test_one_payout_request_sent_twenty_times_at_once_pays_out_once(seller_with_90_available):
    seller = seller_with_90_available
    method = services.payout_method_add(owner=seller, destination=sandbox.BANK_SUCCEEDS)

    outcomes = race(
        THREADS,
        lambda i: services.payout_request(
            owner=seller, amount=5_000, currency="USD", method_id=method.pk, idempotency_key="po"
        ),
    )

    assert failed(outcomes) == []
    assert len({payout.pk for payout in outcomes}) == 1
    assert Payout.objects.filter(owner=seller).count() == 1
    assert Transaction.objects.filter(kind="payout").count() == 1
    assert SandboxObject.objects.filter(kind="payout").count() == 1
    assert balances(seller)["available"] == 4_000
    assert_books_balance()


def test_twenty_payouts_of_the_whole_balance_at_once_pay_out_once(seller_with_90_available):
    seller = seller_with_90_available
    method = services.payout_method_add(owner=seller, destination=sandbox.BANK_SUCCEEDS)

    outcomes = race(
        THREADS,
        lambda i: services.payout_request(
            owner=seller,
            amount=9_000,
            currency="USD",
            method_id=method.pk,
            idempotency_key=f"po-{i}",
        ),
    )

    assert len(succeeded(outcomes)) == 1
    refusals = failed(outcomes)
    assert len(refusals) == THREADS - 1
    assert all(isinstance(e, ValidationFailed) for e in refusals), refusals
    assert {e.code for e in refusals} == {"insufficient_funds"}
    assert Payout.objects.filter(owner=seller).count() == 1
    assert Transaction.objects.filter(kind="payout").count() == 1
    assert balances(seller)["available"] == 0
    assert_books_balance()


# ---------------------------------------------------------------------------------------------
# Refunds and releases


@pytest.mark.parametrize("to", ["credit", "card"])
def test_one_refund_sent_twenty_times_at_once_refunds_once(paid_order, buyer, seller, to):
    outcomes = race(
        THREADS,
        lambda i: services.refund_create(
            reference="order:1",
            amount=4_000,
            to=to,
            reason="Only part was delivered",
            idempotency_key="refund",
            actor=seller,
        ),
    )

    assert failed(outcomes) == []
    assert len({refund.pk for refund in outcomes}) == 1
    refund = Refund.objects.get()
    # 40.00 of the price and 40% of the 5.00 service fee.
    assert (refund.amount, refund.fee_amount) == (4_000, 200)
    assert Transaction.objects.filter(kind="refund").count() == 1
    paid_order.refresh_from_db()
    assert (paid_order.refunded_subtotal, paid_order.account.balance) == (4_000, 6_300)
    if to == "credit":
        assert balances(buyer)["credit"] == 4_200
    else:
        assert SandboxObject.objects.filter(kind="refund", amount=4_200).count() == 1
    assert_books_balance()


def test_twenty_full_refunds_at_once_refund_once(paid_order, buyer, seller):
    outcomes = race(
        THREADS,
        lambda i: services.refund_create(
            reference="order:1",
            amount=10_000,
            to="credit",
            reason="Cancelled",
            idempotency_key=f"refund-{i}",
            actor=seller,
        ),
    )

    assert len(succeeded(outcomes)) == 1
    refusals = failed(outcomes)
    assert len(refusals) == THREADS - 1
    assert all(isinstance(e, ValidationFailed) for e in refusals), refusals
    assert {e.code for e in refusals} == {"escrow_not_held"}
    assert Refund.objects.count() == 1
    assert Transaction.objects.filter(kind="refund").count() == 1
    assert balances(buyer)["credit"] == 10_500
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.account.balance) == ("refunded", 0)
    assert_books_balance()


def test_twenty_partial_refunds_at_once_each_record_their_own_amount(paid_order, buyer, seller):
    outcomes = race(
        THREADS,
        lambda i: services.refund_create(
            reference="order:1",
            amount=100,
            to="credit",
            reason="One item missing",
            idempotency_key=f"refund-{i}",
            actor=seller,
        ),
    )

    assert failed(outcomes) == []
    paid_order.refresh_from_db()
    assert paid_order.refunded_subtotal == THREADS * 100
    refunds = list(Refund.objects.all())
    assert sum(r.total for r in refunds) == balances(buyer)["credit"]
    assert [r.amount for r in refunds] == [100] * THREADS
    assert_books_balance()


def test_twenty_releases_of_one_escrow_at_once_release_once(paid_order, seller):
    outcomes = race(
        THREADS,
        lambda i: services.escrow_release(
            reference="order:1", idempotency_key=f"release-{i}", clearing_days=0
        ),
    )

    assert len(succeeded(outcomes)) == 1
    refusals = failed(outcomes)
    assert all(isinstance(e, ValidationFailed) for e in refusals), refusals
    assert {e.code for e in refusals} == {"escrow_not_held"}
    assert Transaction.objects.filter(kind="release").count() == 1
    assert Clearing.objects.count() == 1
    assert balances(seller)["pending"] == 9_000
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.account.balance) == ("released", 0)
    assert_books_balance()


def test_a_release_and_a_refund_at_once_settle_the_escrow_one_way(paid_order, buyer, seller):
    def request(i):
        if i % 2:
            return services.escrow_release(reference="order:1", idempotency_key=f"release-{i}")
        return services.refund_create(
            reference="order:1",
            amount=10_000,
            to="credit",
            reason="Cancelled",
            idempotency_key=f"refund-{i}",
            actor=seller,
        )

    outcomes = race(THREADS, request)

    assert len(succeeded(outcomes)) == 1
    assert {e.code for e in failed(outcomes)} == {"escrow_not_held"}
    paid_order.refresh_from_db()
    if paid_order.status == "released":
        assert (balances(seller)["pending"], balances(buyer)["credit"]) == (9_000, 0)
    else:
        assert paid_order.status == "refunded"
        assert (balances(seller)["pending"], balances(buyer)["credit"]) == (0, 10_500)
    assert paid_order.account.balance == 0
    assert_books_balance()


def test_twenty_workers_clearing_at_once_make_earnings_available_once(paid_order, seller):
    services.escrow_release(reference="order:1", idempotency_key="release", clearing_days=0)
    later = timezone.now() + timedelta(seconds=1)

    outcomes = race(THREADS, lambda i: ledger.clearing_apply_due(now=later))

    assert failed(outcomes) == []
    assert sum(outcomes) == 1
    assert Transaction.objects.filter(kind="clearing").count() == 1
    assert balances(seller) == {"pending": 0, "available": 9_000, "credit": 0}
    assert_books_balance()


# ---------------------------------------------------------------------------------------------
# Checkouts


def test_one_checkout_sent_twenty_times_at_once_charges_the_card_once(buyer, seller):
    outcomes = race(THREADS, lambda i: pay(buyer, seller, key="checkout"))

    assert failed(outcomes) == []
    assert len({payment.pk for payment in outcomes}) == 1
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert SandboxObject.objects.filter(kind="charge").count() == 1
    assert Transaction.objects.filter(kind="charge").count() == 1
    assert ledger_selectors.escrow_for_reference("order:1").account.balance == 10_500
    assert_books_balance()


def test_buyer_credit_spent_by_twenty_checkouts_at_once_is_spent_once(buyer, seller):
    """The buyer has 105.00 of credit and opens twenty checkouts that each use all of it."""
    pay(buyer, seller)
    services.refund_create(
        reference="order:1",
        amount=10_000,
        to="credit",
        reason="Cancelled",
        idempotency_key="refund",
        actor=seller,
    )
    assert balances(buyer)["credit"] == 10_500

    outcomes = race(
        THREADS,
        lambda i: pay(buyer, seller, reference=f"order:{100 + i}", subtotal=10_000, credit=10_500),
    )

    assert len(succeeded(outcomes)) == 1
    refusals = failed(outcomes)
    assert all(isinstance(e, ValidationFailed) for e in refusals), refusals
    assert {e.code for e in refusals} == {"insufficient_funds"}
    assert balances(buyer)["credit"] == 0
    assert Payment.objects.filter(status=PaymentStatus.SUCCEEDED).count() == 2
    assert Transaction.objects.filter(kind="credit_hold").count() == 1
    assert_books_balance()


def test_two_checkouts_of_one_order_at_once_charge_it_once(buyer, seller):
    outcomes = race(2, lambda i: pay(buyer, seller, key=f"checkout-{i}"))

    assert len(succeeded(outcomes)) == 1
    assert all(isinstance(e, DomainError) for e in failed(outcomes)), failed(outcomes)
    assert SandboxObject.objects.filter(kind="charge").count() == 1
    assert_books_balance()


def test_many_buyers_checking_out_at_once_from_different_sellers():
    """16 buyers each pay 5 orders, every order from another seller, all at the same time."""
    buyers_count, orders_each = 16, 5
    buyers = [UserFactory() for _ in range(buyers_count)]
    sellers = [UserFactory() for _ in range(buyers_count)]

    def subtotal(i: int, k: int) -> int:
        return 1_000 + 37 * i + 101 * k

    def checkout(i: int) -> list:
        return [
            pay(
                buyers[i],
                sellers[(i + k + 1) % buyers_count],
                reference=f"order:{i}-{k}",
                subtotal=subtotal(i, k),
            )
            for k in range(orders_each)
        ]

    outcomes = race(buyers_count, checkout)

    assert failed(outcomes) == []
    payments = [payment for batch in outcomes for payment in batch]
    assert len(payments) == buyers_count * orders_each
    assert Counter(p.status for p in payments) == {PaymentStatus.SUCCEEDED: len(payments)}

    # Default fees: 5% buyer service fee; the sandbox takes 2.9% + 0.30 of each charge.
    totals = [
        subtotal(i, k) + percent(subtotal(i, k), 500)
        for i in range(buyers_count)
        for k in range(orders_each)
    ]
    provider_fees = [sandbox.sandbox_fee(total) for total in totals]
    assert sorted(p.total for p in payments) == sorted(totals)
    # One charge each: escrow, provider clearing, provider fee and the fee out of clearing.
    assert Transaction.objects.filter(kind="charge").count() == len(payments)
    assert Posting.objects.count() == 4 * len(payments)
    rows, _ = ledger_selectors.trial_balance()
    by_kind = {row.kind: row.total for row in rows if row.currency == "USD"}
    assert by_kind == {
        "escrow": -sum(totals),
        "provider_clearing": sum(totals) - sum(provider_fees),
        "provider_fees": sum(provider_fees),
    }
    assert_books_balance()
