"""What operators rely on: fee schedules, reconciliation with the provider, the sweeper's
follow-up of unfinished payments, refunds and payouts, and corrections by reversal."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from micromarket.accounts.tests.factories import UserFactory
from micromarket.catalog.models import Category
from micromarket.core.errors import PermissionDenied, ValidationFailed
from micromarket.ledger import selectors as ledger_selectors
from micromarket.ledger import services as ledger
from micromarket.payments import fees, services
from micromarket.payments.models import (
    PaymentStatus,
    Payout,
    PayoutStatus,
    SandboxObject,
)
from micromarket.payments.providers import sandbox
from micromarket.trust.tests.factories_verification import verified_seller

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    return UserFactory(operator=True)


@pytest.fixture
def buyer():
    return UserFactory()


@pytest.fixture
def seller():
    return verified_seller(UserFactory())


def pay(buyer, seller, subtotal=10_000, ref="order:1", card=sandbox.CARD_SUCCEEDS, **kw):
    return services.payment_start(
        buyer=buyer,
        currency="USD",
        orders=[
            services.OrderCharge(
                reference=ref, seller=seller, subtotal=subtotal, description="Bike rental", **kw
            )
        ],
        payment_method=card,
        idempotency_key=ref,
        return_url="http://testserver/",
    )


# Fees -------------------------------------------------------------------------------------


def test_new_schedule_applies_from_its_start_and_old_receipts_keep_theirs(operator, buyer, seller):
    first = pay(buyer, seller)
    start = timezone.now() + timedelta(days=1)
    services.fee_schedule_create(
        operator=operator, effective_from=start, commission_bps=2000, buyer_fee_bps=300
    )
    assert fees.fee_quote(subtotal=10_000, currency="USD").service_fee == 500  # not yet
    with time_machine.travel(start + timedelta(minutes=1)):
        quote = fees.fee_quote(subtotal=10_000, currency="USD")
        assert (quote.service_fee, quote.commission) == (300, 2_000)
        second = pay(buyer, seller, ref="order:2")
    assert first.lines.get().service_fee == 500
    assert second.lines.get().service_fee == 300


def test_small_orders_pay_the_fixed_fee_and_categories_their_own_commission(operator):
    design = Category.objects.filter(parent__isnull=False).first()
    services.fee_schedule_create(
        operator=operator,
        effective_from=timezone.now(),
        commission_bps=1000,
        buyer_fee_bps=500,
        category_commissions={design.parent_id: 1500},
        currency_fees={"USD": {"small_order_fee": 200, "small_order_threshold": 4000}},
    )
    small = fees.fee_quote(subtotal=2_000, currency="USD")
    assert (small.service_fee, small.small_order_fee, small.total) == (300, 200, 2_300)
    assert fees.fee_quote(subtotal=4_000, currency="USD").small_order_fee == 0
    assert fees.fee_quote(subtotal=2_000, currency="EUR").small_order_fee == 0
    in_category = fees.fee_quote(
        subtotal=10_000, currency="USD", category_id=design.pk, parent_category_id=design.parent_id
    )
    assert in_category.commission == 1_500


def test_only_operators_set_fees_and_rates_are_checked(operator, buyer):
    with pytest.raises(PermissionDenied):
        services.fee_schedule_create(
            operator=buyer, effective_from=timezone.now(), commission_bps=0, buyer_fee_bps=0
        )
    with pytest.raises(ValidationFailed) as exc:
        services.fee_schedule_create(
            operator=operator, effective_from=timezone.now(), commission_bps=10_001, buyer_fee_bps=0
        )
    assert exc.value.field == "commission_bps"
    with pytest.raises(ValidationFailed):
        services.fee_schedule_create(
            operator=operator,
            effective_from=timezone.now() - timedelta(days=1),
            commission_bps=0,
            buyer_fee_bps=0,
        )


# Reconciliation -----------------------------------------------------------------------------


def test_reconciliation_matches_a_clean_day(buyer, seller):
    pay(buyer, seller)
    run = services.reconciliation_run(day=timezone.localdate())
    assert (run.matched, run.differences, run.ledger_problems) == (1, 0, [])
    assert mail.outbox == []


def test_reconciliation_reports_each_kind_of_difference_to_operators(
    operator, buyer, seller, django_capture_on_commit_callbacks
):
    pay(buyer, seller, ref="order:1")
    pay(buyer, seller, ref="order:2")
    # The provider's books say something else about order 1 and know a charge we do not.
    charge = SandboxObject.objects.filter(kind="charge").order_by("id").first()
    SandboxObject.objects.filter(pk=charge.pk).update(amount=charge.amount + 1)
    SandboxObject.objects.create(
        kind="charge",
        reference="sbx_ch_stranger",
        idempotency_key="x",
        amount=999,
        currency="USD",
        status="succeeded",
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = services.reconciliation_run(day=timezone.localdate())
    kinds = sorted(run.difference_rows.values_list("kind", flat=True))
    assert kinds == ["amount", "missing_in_ledger"]
    assert run.matched == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [operator.email]
    assert "2 differences" in mail.outbox[0].subject


# The sweeper's follow-ups ---------------------------------------------------------------------


def test_unconfirmed_payment_is_cancelled_after_a_day_and_its_credit_returned(buyer, seller):
    pay(buyer, seller)
    services.refund_create(
        reference="order:1",
        amount=10_000,
        to="credit",
        reason="x",
        idempotency_key="r",
        actor=seller,
    )
    payment = pay(buyer, seller, subtotal=20_000, ref="order:2", card=sandbox.CARD_REQUIRES_ACTION)
    payment = services.payment_start(
        buyer=buyer,
        currency="USD",
        orders=[
            services.OrderCharge(
                reference="order:3", seller=seller, subtotal=20_000, description="x"
            )
        ],
        payment_method=sandbox.CARD_REQUIRES_ACTION,
        idempotency_key="order:3",
        return_url="http://testserver/",
        credit=10_500,
    )
    assert payment.status == PaymentStatus.REQUIRES_ACTION
    assert ledger_selectors.user_balances(buyer)["USD"]["credit"] == 0  # held for the payment
    assert services.payment_cancel_stale(now=timezone.now() + timedelta(hours=23)) == 0
    assert services.payment_cancel_stale(now=timezone.now() + timedelta(hours=25)) == 2
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELLED
    assert ledger_selectors.user_balances(buyer)["USD"]["credit"] == 10_500
    assert ledger_selectors.ledger_verify() == []


def test_a_payout_whose_task_was_lost_is_sent_by_the_sweeper(buyer, seller):
    pay(buyer, seller)
    services.escrow_release(reference="order:1", idempotency_key="rel", clearing_days=0)
    ledger.clearing_apply_due(now=timezone.now() + timedelta(seconds=1))
    method = services.payout_method_add(owner=seller, destination=sandbox.BANK_SUCCEEDS)
    payout = services.payout_request(
        owner=seller, amount=9_000, currency="USD", method_id=method.pk, idempotency_key="p"
    )  # no task ran
    assert Payout.objects.get().status == PayoutStatus.REQUESTED
    assert services.payouts_poll(now=timezone.now() + timedelta(minutes=1)) == 0
    services.payouts_poll(now=timezone.now() + timedelta(minutes=6))
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.IN_FLIGHT
    assert SandboxObject.objects.filter(kind="payout").count() == 1


def test_reversal_undoes_an_adjustment_once_and_a_retry_gets_the_first(seller, operator):
    available = ledger.account_for("available", "USD", seller)
    revenue = ledger.account_for("platform_revenue", "USD")
    goodwill = ledger.adjustment_post(
        lines=[ledger.Line(revenue, 500), ledger.Line(available, -500)],
        description="Goodwill credit for a platform outage",
        reference="adjustment:1",
        idempotency_key="adj-1",
        created_by=operator,
    )
    assert ledger_selectors.user_balances(seller)["USD"]["available"] == 500
    first = ledger.transaction_reverse(
        txn=goodwill, reason="posted twice", idempotency_key="rev", created_by=operator
    )
    again = ledger.transaction_reverse(
        txn=goodwill, reason="posted twice", idempotency_key="rev", created_by=operator
    )
    assert again.pk == first.pk
    assert ledger_selectors.user_balances(seller)["USD"]["available"] == 0
    with pytest.raises(ValidationFailed) as exc:
        ledger.transaction_reverse(txn=goodwill, reason="again", idempotency_key="rev2")
    assert exc.value.code == "already_reversed"


def test_escrow_money_is_not_corrected_by_reversal(buyer, seller, operator):
    pay(buyer, seller)
    services.escrow_release(reference="order:1", idempotency_key="rel")
    release = ledger_selectors.transactions_for_reference("order:1").get(kind="release")
    with pytest.raises(ValidationFailed) as exc:
        ledger.transaction_reverse(txn=release, reason="x", idempotency_key="rev")
    assert exc.value.code == "not_reversible"
    assert ledger_selectors.user_balances(seller)["USD"]["pending"] == 9_000
    assert ledger_selectors.ledger_verify() == []


def test_a_stale_payment_is_withdrawn_at_the_provider_before_it_is_cancelled(buyer, seller):
    payment = pay(buyer, seller, card=sandbox.CARD_REQUIRES_ACTION)
    assert services.payment_cancel_stale(now=timezone.now() + timedelta(days=2)) == 1
    # The buyer comes back to the bank page too late: nothing is charged.
    services.sandbox_authenticate(reference=payment.provider_reference, approve=True)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELLED
    charge = SandboxObject.objects.get(reference=payment.provider_reference)
    assert charge.status == "declined"
    assert ledger_selectors.escrow_for_reference("order:1").account.balance == 0


def test_a_payment_confirmed_just_before_the_sweep_stays_paid(buyer, seller):
    payment = pay(buyer, seller, card=sandbox.CARD_REQUIRES_ACTION)
    sandbox.SandboxProvider().authenticate(reference=payment.provider_reference, approve=True)
    assert services.payment_cancel_stale(now=timezone.now() + timedelta(days=2)) == 0
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert ledger_selectors.escrow_for_reference("order:1").account.balance == 10_500
