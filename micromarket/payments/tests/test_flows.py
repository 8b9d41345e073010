"""The money flows end to end through the sandbox provider: what buyers, sellers and operators
would see in their balances after each step."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from micromarket.accounts.tests.factories import UserFactory
from micromarket.core.errors import NotFound, PermissionDenied, ValidationFailed
from micromarket.ledger import selectors as ledger_selectors
from micromarket.ledger import services as ledger
from micromarket.payments import services
from micromarket.payments.models import (
    PaymentStatus,
    PayoutStatus,
    RefundStatus,
    SandboxControl,
)
from micromarket.payments.providers import sandbox
from micromarket.trust.tests.factories_verification import verified_seller

pytestmark = pytest.mark.django_db

CARD = sandbox.CARD_SUCCEEDS


def balances(user, currency="USD"):
    return ledger_selectors.user_balances(user).get(
        currency, {"pending": 0, "available": 0, "credit": 0}
    )


def assert_books_balance():
    assert ledger_selectors.ledger_verify() == []


def pay(buyer, seller, subtotal=10_000, ref="order:1", card=CARD, credit=0, key=None):
    return services.payment_start(
        buyer=buyer,
        currency="USD",
        orders=[
            services.OrderCharge(
                reference=ref, seller=seller, subtotal=subtotal, description=f"Logo design ({ref})"
            )
        ],
        payment_method=card,
        idempotency_key=key or f"pay-{ref}",
        return_url="http://testserver/back/",
        credit=credit,
    )


@pytest.fixture(autouse=True)
def _tasks_run_after_each_commit(django_capture_on_commit_callbacks, monkeypatch):
    """Run after-commit work (provider calls) when each service returns, as the worker would."""
    from micromarket.payments import services as module

    def wrap(func):
        def run(**kwargs):
            with django_capture_on_commit_callbacks(execute=True):
                return func(**kwargs)

        return run

    for name in ("payout_request", "refund_create", "escrow_settlement"):
        monkeypatch.setattr(module, name, wrap(getattr(module, name)))


@pytest.fixture
def buyer():
    return UserFactory()


@pytest.fixture
def seller():
    return verified_seller(UserFactory())


def test_successful_payment_holds_price_and_fee_in_escrow(buyer, seller):
    payment = pay(buyer, seller)
    assert payment.status == PaymentStatus.SUCCEEDED
    # Default fees: 5% buyer service fee, 10% commission.
    assert payment.total == 10_500
    escrow = ledger_selectors.escrow_for_reference("order:1")
    assert escrow.account.balance == 10_500
    assert escrow.status == "held"
    assert balances(seller)["pending"] == 0
    assert_books_balance()


def test_declined_card_moves_no_money_and_says_why(buyer, seller):
    payment = pay(buyer, seller, card=sandbox.CARD_DECLINED)
    assert payment.status == PaymentStatus.DECLINED
    assert payment.decline_message == "Your card was declined."
    assert ledger_selectors.escrow_for_reference("order:1").account.balance == 0
    assert_books_balance()


def test_card_needing_confirmation_is_paid_after_the_buyer_confirms(buyer, seller):
    payment = pay(buyer, seller, card=sandbox.CARD_REQUIRES_ACTION)
    assert payment.status == PaymentStatus.REQUIRES_ACTION
    assert "/payments/sandbox/authenticate/" in payment.action_url
    sandbox.SandboxProvider().authenticate(reference=payment.provider_reference, approve=True)
    payment = services.payment_refresh(payment=payment)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert ledger_selectors.escrow_for_reference("order:1").account.balance == 10_500


def test_same_key_replays_and_other_parameters_are_refused(buyer, seller):
    first = pay(buyer, seller)
    again = pay(buyer, seller)
    assert again.pk == first.pk
    with pytest.raises(ValidationFailed) as exc:
        pay(buyer, seller, subtotal=5_000)
    assert exc.value.code == "idempotency_mismatch"
    assert ledger_selectors.escrow_for_reference("order:1").account.balance == 10_500


def test_release_clearing_and_payout(buyer, seller):
    pay(buyer, seller)
    services.escrow_release(reference="order:1", idempotency_key="release-1")
    # Commission 10% of 100.00 → seller earns 90.00, pending for 14 days.
    assert balances(seller) == {"pending": 9_000, "available": 0, "credit": 0}
    assert ledger.clearing_apply_due(now=timezone.now() + timedelta(days=13)) == 0
    assert ledger.clearing_apply_due(now=timezone.now() + timedelta(days=14, minutes=1)) == 1
    assert balances(seller) == {"pending": 0, "available": 9_000, "credit": 0}

    method = services.payout_method_add(owner=seller, destination=sandbox.BANK_SUCCEEDS)
    payout = services.payout_request(
        owner=seller, amount=9_000, currency="USD", method_id=method.pk, idempotency_key="po-1"
    )
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.IN_FLIGHT
    assert balances(seller)["available"] == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert services.payouts_poll() == 1
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PAID
    assert_books_balance()


def test_failed_payout_returns_the_money(buyer, seller):
    pay(buyer, seller)
    services.escrow_release(reference="order:1", idempotency_key="release-1", clearing_days=0)
    ledger.clearing_apply_due(now=timezone.now() + timedelta(seconds=1))
    method = services.payout_method_add(owner=seller, destination=sandbox.BANK_FAILS)
    payout = services.payout_request(
        owner=seller, amount=9_000, currency="USD", method_id=method.pk, idempotency_key="po-1"
    )
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.FAILED
    assert "does not exist" in payout.failure_message
    assert balances(seller)["available"] == 9_000
    assert_books_balance()


def test_payout_beyond_the_balance_is_refused_and_writes_nothing(buyer, seller):
    method = services.payout_method_add(owner=seller, destination=sandbox.BANK_SUCCEEDS)
    with pytest.raises(ValidationFailed) as exc:
        services.payout_request(
            owner=seller, amount=100, currency="USD", method_id=method.pk, idempotency_key="po-1"
        )
    assert exc.value.code == "insufficient_funds"
    assert not seller.payouts.exists()


def test_someone_elses_payout_method_is_not_found(seller):
    other = UserFactory()
    method = services.payout_method_add(owner=other, destination=sandbox.BANK_SUCCEEDS)
    with pytest.raises(NotFound):
        services.payout_request(
            owner=seller, amount=100, currency="USD", method_id=method.pk, idempotency_key="po-1"
        )


def test_partial_then_full_refund_returns_price_and_fee_exactly(buyer, seller):
    pay(buyer, seller, subtotal=999)  # fee 5% of 9.99 → 0.50
    r1 = services.refund_create(
        reference="order:1",
        amount=333,
        to="card",
        reason="late",
        idempotency_key="r1",
        actor=seller,
    )
    assert r1.status == RefundStatus.PENDING  # the provider is asked after commit
    r1.refresh_from_db()
    assert r1.status == RefundStatus.SUCCEEDED  # the sandbox refunded at once
    r2 = services.refund_create(
        reference="order:1",
        amount=666,
        to="credit",
        reason="rest",
        idempotency_key="r2",
        actor=seller,
    )
    assert r1.total + r2.total == 999 + 50
    assert balances(buyer)["credit"] == r2.total
    escrow = ledger_selectors.escrow_for_reference("order:1")
    assert escrow.status == "refunded"
    assert escrow.account.balance == 0
    assert_books_balance()


def test_buyer_cannot_refund_themselves_and_strangers_do_not_see_the_order(buyer, seller):
    pay(buyer, seller)
    with pytest.raises(PermissionDenied):
        services.refund_create(
            reference="order:1", amount=100, to="card", reason="x", idempotency_key="r", actor=buyer
        )
    with pytest.raises(NotFound):
        services.refund_create(
            reference="order:1",
            amount=100,
            to="card",
            reason="x",
            idempotency_key="r",
            actor=UserFactory(),
        )
    assert ledger_selectors.escrow_for_reference("order:1").account.balance == 10_500


def test_failed_card_refund_becomes_buyer_credit(buyer, seller):
    pay(buyer, seller)
    SandboxControl.objects.update_or_create(pk=1, defaults={"fail_refunds": True})
    refund = services.refund_create(
        reference="order:1",
        amount=10_000,
        to="card",
        reason="cancelled",
        idempotency_key="r",
        actor=seller,
    )
    refund.refresh_from_db()
    assert refund.status == RefundStatus.CREDITED
    assert balances(buyer)["credit"] == 10_500
    assert_books_balance()


def test_settlement_splits_between_buyer_and_seller(buyer, seller):
    pay(buyer, seller)
    operator = UserFactory(operator=True)
    services.escrow_settlement(
        reference="order:1",
        buyer_amount=4_000,
        to="credit",
        reason="dispute decided",
        idempotency_key="d1",
        actor=operator,
    )
    # Buyer: 40.00 + 40% of the 5.00 fee; seller: 60.00 − 10% commission.
    assert balances(buyer)["credit"] == 4_200
    assert balances(seller)["pending"] == 5_400
    assert ledger_selectors.escrow_for_reference("order:1").status == "settled"
    assert_books_balance()


def test_credit_pays_for_the_next_order(buyer, seller):
    pay(buyer, seller)
    services.refund_create(
        reference="order:1",
        amount=10_000,
        to="credit",
        reason="x",
        idempotency_key="r",
        actor=seller,
    )
    assert balances(buyer)["credit"] == 10_500
    payment = pay(buyer, seller, subtotal=2_000, ref="order:2", credit=10_500)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert (payment.credit_amount, payment.card_amount) == (2_100, 0)
    assert balances(buyer)["credit"] == 8_400
    assert_books_balance()


def test_declined_payment_gives_back_the_credit_it_used(buyer, seller):
    pay(buyer, seller)
    services.refund_create(
        reference="order:1",
        amount=10_000,
        to="credit",
        reason="x",
        idempotency_key="r",
        actor=seller,
    )
    payment = pay(
        buyer, seller, subtotal=20_000, ref="order:2", credit=10_500, card=sandbox.CARD_DECLINED
    )
    assert payment.status == PaymentStatus.DECLINED
    assert balances(buyer)["credit"] == 10_500
    assert_books_balance()


def test_tip_goes_to_the_seller_pending(buyer, seller):
    payment = services.tip_start(
        buyer=buyer,
        seller=seller,
        reference="order:1",
        amount=500,
        currency="USD",
        payment_method=CARD,
        idempotency_key="tip",
        return_url="http://testserver/",
    )
    assert payment.status == PaymentStatus.SUCCEEDED
    assert balances(seller)["pending"] == 500
    assert_books_balance()


def test_ledger_refuses_to_edit_postings(buyer, seller):
    from django.db import IntegrityError, transaction

    from micromarket.ledger.models import Posting

    pay(buyer, seller)
    with pytest.raises(IntegrityError), transaction.atomic():
        Posting.objects.filter(pk=Posting.objects.first().pk).update(amount=1)


def test_after_a_declined_card_the_buyer_can_pay_the_order_again(buyer, seller):
    assert pay(buyer, seller, card=sandbox.CARD_DECLINED, key="try-1").status == "declined"
    retry = pay(buyer, seller, key="try-2")
    assert retry.status == PaymentStatus.SUCCEEDED
    assert ledger_selectors.escrow_for_reference("order:1").account.balance == 10_500
    assert_books_balance()


def test_an_order_already_paid_cannot_be_paid_twice(buyer, seller):
    from micromarket.core.errors import Conflict

    pay(buyer, seller, key="first")
    with pytest.raises(Conflict) as exc:
        pay(buyer, seller, key="second")
    assert exc.value.code == "already_paid"
    assert ledger_selectors.escrow_for_reference("order:1").account.balance == 10_500
