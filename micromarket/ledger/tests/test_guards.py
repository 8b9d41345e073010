"""The ledger's rules hold even for code that bypasses the services: the database refuses edits
of the books, postings in the wrong currency, negative balances and (on PostgreSQL) unbalanced
transactions and deletions. And ``transaction_post`` refuses bad lines before writing anything,
and a refused request leaves the caller's transaction usable.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from micromarket.accounts.tests.factories import UserFactory
from micromarket.core.errors import DomainError, ValidationFailed
from micromarket.ledger import selectors
from micromarket.ledger import services as ledger
from micromarket.ledger.models import Account, AccountKind, Escrow, Posting, Transaction
from micromarket.ledger.services import Line, account_for, transaction_post

pytestmark = pytest.mark.django_db


def books():
    """Everything a guard must leave untouched: rows of the books and every balance."""
    return (
        list(Transaction.objects.order_by("id").values_list("id", "kind", "description")),
        list(Posting.objects.order_by("id").values_list("id", "account_id", "amount", "currency")),
        list(Account.objects.order_by("id").values_list("id", "balance")),
    )


@pytest.fixture
def seller():
    return UserFactory()


@pytest.fixture
def funded(seller):
    """A seller with 10.00 available, paid from provider clearing: (transaction, account)."""
    available = account_for(AccountKind.AVAILABLE, "USD", seller)
    txn = transaction_post(
        kind="adjustment",
        description="Opening balance",
        reference="test:1",
        idempotency_key="fund-1",
        lines=[
            Line(account_for(AccountKind.PROVIDER_CLEARING, "USD"), 1_000),
            Line(available, -1_000),
        ],
    )
    available.refresh_from_db()
    assert available.balance == 1_000
    return txn, available


# ---------------------------------------------------------------------------------------------
# Both engines


def test_a_posting_cannot_be_updated_in_bulk(funded):
    txn, available = funded
    before = books()
    posting = txn.postings.get(account=available)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Posting.objects.filter(pk=posting.pk).update(amount=-5_000)
    assert books() == before
    assert selectors.ledger_verify() == []


def test_a_posting_cannot_be_saved_with_another_amount(funded):
    txn, available = funded
    before = books()
    posting = txn.postings.get(account=available)
    posting.amount = -1
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        posting.save()
    assert books() == before


def test_a_posting_cannot_be_moved_to_another_account(funded, seller):
    txn, available = funded
    other = account_for(AccountKind.CREDIT, "USD", seller)
    before = books()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Posting.objects.filter(transaction=txn, account=available).update(account=other)
    assert books() == before


def test_a_transaction_cannot_be_updated(funded):
    txn, _ = funded
    before = books()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Transaction.objects.filter(pk=txn.pk).update(description="Something else")
    txn.kind = "refund"
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        txn.save()
    assert books() == before


def _post_in_euros_to(account: Account) -> None:
    with transaction.atomic():
        txn = Transaction.objects.create(
            kind="adjustment",
            description="Sneaky",
            reference="test:2",
            idempotency_key="sneaky",
            fingerprint="x",
        )
        euro = account_for(AccountKind.PROVIDER_CLEARING, "EUR")
        Posting.objects.create(transaction=txn, account=account, amount=-500, currency="EUR")
        Posting.objects.create(transaction=txn, account=euro, amount=500, currency="EUR")


def test_a_posting_in_another_currency_than_its_account_is_refused(funded):
    _, available = funded
    before = books()
    with pytest.raises(IntegrityError, match="differs from its account"):
        _post_in_euros_to(available)
    # (Only the EUR clearing account may have been created meanwhile: it holds nothing.)
    assert books()[:2] == before[:2]
    assert selectors.user_balances(available.owner)["USD"]["available"] == 1_000


@pytest.mark.parametrize("balance", [-1, -1_000_000])
def test_the_database_refuses_a_negative_tracked_balance(funded, balance):
    _, available = funded
    before = books()
    with (
        pytest.raises(IntegrityError, match="ledger_account_balance_not_negative"),
        transaction.atomic(),
    ):
        Account.objects.filter(pk=available.pk).update(balance=balance)
    assert books() == before
    assert selectors.user_balances(available.owner)["USD"]["available"] == 1_000


# ---------------------------------------------------------------------------------------------
# PostgreSQL: the zero-sum rule at commit, and no deletions


def _insert_directly(lines: list[tuple[Account, int]], key: str) -> Transaction:
    """Write a transaction and its postings without the services (atomically)."""
    with transaction.atomic():
        txn = Transaction.objects.create(
            kind="adjustment",
            description="Written without the services",
            reference="test:direct",
            idempotency_key=key,
            fingerprint="x",
        )
        Posting.objects.bulk_create(
            Posting(transaction=txn, account=account, amount=amount, currency=account.currency)
            for account, amount in lines
        )
    return txn


def _insert_and_check_now(lines: list[tuple[Account, int]], key: str) -> Transaction:
    """The same, asking PostgreSQL to run the deferred checks before the block ends."""
    with transaction.atomic():
        txn = _insert_directly(lines, key)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return txn


@pytest.mark.postgres
def test_postgres_refuses_unbalanced_postings_when_constraints_are_checked(funded):
    _, available = funded
    before = books()
    clearing = account_for(AccountKind.PROVIDER_CLEARING, "USD")
    with pytest.raises(IntegrityError, match="does not balance"):
        _insert_and_check_now([(clearing, 700), (available, -500)], key="unbalanced")
    assert books() == before


@pytest.mark.postgres
def test_postgres_accepts_balanced_postings_written_directly_and_verify_sees_the_drift(funded):
    """The control case: the trigger refuses only what does not balance. Postings written
    around the services leave the tracked balance behind, and ledger_verify says so."""
    _, available = funded
    clearing = account_for(AccountKind.PROVIDER_CLEARING, "USD")
    txn = _insert_and_check_now([(clearing, 500), (available, -300), (available, -200)], "ok")
    assert txn.postings.count() == 3
    problems = selectors.ledger_verify()
    assert [p.what for p in problems] == ["balance drift"]
    assert "balance 1000, postings say 1500" in problems[0].detail


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_refuses_to_commit_an_unbalanced_transaction():
    """Without SET CONSTRAINTS: the deferred trigger runs at COMMIT, and the commit fails."""
    seller = UserFactory()
    available = account_for(AccountKind.AVAILABLE, "USD", seller)
    clearing = account_for(AccountKind.PROVIDER_CLEARING, "USD")
    before = books()
    with pytest.raises(IntegrityError, match="does not balance"):
        _insert_directly([(clearing, 1_000), (available, -999)], key="unbalanced")
    assert books() == before
    assert not Transaction.objects.filter(idempotency_key="unbalanced").exists()
    # Balanced per transaction is not enough: each currency must balance on its own.
    euro = account_for(AccountKind.PROVIDER_CLEARING, "EUR")
    with pytest.raises(IntegrityError, match="does not balance"):
        _insert_directly([(clearing, 1_000), (euro, -1_000)], key="two-currencies")
    assert books()[:2] == before[:2]
    assert selectors.ledger_verify() == []


def _delete_transaction_row(pk: int) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_transaction WHERE id = %s", [pk])


@pytest.mark.postgres
def test_postgres_refuses_to_delete_a_posting_or_a_transaction(funded):
    txn, _ = funded
    before = books()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Posting.objects.filter(transaction=txn).delete()
    with pytest.raises(IntegrityError, match="append-only"):
        _delete_transaction_row(txn.pk)
    assert books() == before


# ---------------------------------------------------------------------------------------------
# In code: transaction_post writes nothing unless the lines are right


def _post(lines, key="post-1"):
    return transaction_post(
        kind="adjustment",
        description="Test",
        reference="test:3",
        idempotency_key=key,
        lines=lines,
    )


def _assert_key_still_free(available):
    """Nothing was written under the refused key: a correct request may still use it."""
    clearing = account_for(AccountKind.PROVIDER_CLEARING, "USD")
    txn = _post([Line(clearing, 1), Line(available, -1)])
    assert txn.postings.count() == 2


def test_transaction_post_refuses_lines_that_do_not_balance(funded):
    _, available = funded
    clearing = account_for(AccountKind.PROVIDER_CLEARING, "USD")
    before = books()
    with pytest.raises(ValidationFailed) as exc:
        _post([Line(clearing, 100), Line(available, -99)])
    assert exc.value.code == "unbalanced"
    assert "USD +1" in exc.value.message
    assert books() == before
    _assert_key_still_free(available)


def test_transaction_post_balances_each_currency_separately(funded):
    _, available = funded
    yen = account_for(AccountKind.PROVIDER_CLEARING, "JPY")
    before = books()
    with pytest.raises(ValidationFailed) as exc:
        _post([Line(yen, 100), Line(available, -100)])
    assert exc.value.code == "unbalanced"
    assert books() == before


@pytest.mark.parametrize(
    ("debit", "credit"),
    [(1.5, -1.5), (100.0, -100.0), (Decimal("100"), Decimal("-100")), ("100", -100), (True, -1)],
)
def test_transaction_post_refuses_amounts_that_are_not_whole_minor_units(funded, debit, credit):
    _, available = funded
    clearing = account_for(AccountKind.PROVIDER_CLEARING, "USD")
    before = books()
    with pytest.raises(ValidationFailed, match="whole numbers"):
        _post([Line(clearing, debit), Line(available, credit)])
    assert books() == before
    _assert_key_still_free(available)


def test_transaction_post_refuses_to_take_a_balance_below_zero(funded):
    _, available = funded
    clearing = account_for(AccountKind.PROVIDER_CLEARING, "USD")
    before = books()
    with pytest.raises(ValidationFailed) as exc:
        _post([Line(available, 1_001), Line(clearing, -1_001)])
    assert exc.value.code == "insufficient_funds"
    assert books() == before
    # Exactly the balance is fine.
    _post([Line(available, 1_000), Line(clearing, -1_000)], key="post-2")
    available.refresh_from_db()
    assert available.balance == 0
    assert selectors.ledger_verify() == []


def test_transaction_post_refuses_an_empty_transaction(funded):
    _, available = funded
    before = books()
    with pytest.raises(ValidationFailed):
        _post([Line(available, 0)])
    assert books() == before


def test_transaction_post_replays_a_key_and_refuses_it_with_other_lines(funded):
    _, available = funded
    clearing = account_for(AccountKind.PROVIDER_CLEARING, "USD")
    first = _post([Line(clearing, 10), Line(available, -10)])
    before = books()
    assert _post([Line(clearing, 10), Line(available, -10)]).pk == first.pk
    with pytest.raises(ValidationFailed) as exc:
        _post([Line(clearing, 11), Line(available, -11)])
    assert exc.value.code == "idempotency_mismatch"
    assert books() == before


# ---------------------------------------------------------------------------------------------
# A refusal leaves the caller's transaction usable


@pytest.fixture
def released_escrow(seller):
    """order:9 paid (10.00 + 0.50) and released to the seller."""
    escrow = ledger.escrow_open(
        reference="order:9",
        buyer=UserFactory(),
        seller=seller,
        currency="USD",
        subtotal=1_000,
        service_fee=50,
        commission_bps=1000,
        description="Logo",
    )
    ledger.charge_record(
        funding=[(escrow, 1_050)],
        currency="USD",
        provider_fee=0,
        reference="payment:9",
        description="Logo",
        idempotency_key="charge-9",
    )
    ledger.escrow_release(escrow=escrow, clearing_days=0, idempotency_key="release-9")
    escrow.refresh_from_db()
    assert escrow.status == "released"
    return escrow


def _try_then_carry_on(request) -> str | None:
    """What a caller such as an order transition does: inside its own transaction, try a
    request, handle the refusal, and carry on with the next query."""
    code = None
    with transaction.atomic():
        try:
            request()
        except DomainError as exc:
            code = exc.code
        Escrow.objects.count()
    return code


REFUSALS = {
    "release again": (
        lambda e: ledger.escrow_release(escrow=e, clearing_days=0, idempotency_key="release-10"),
        "escrow_not_held",
    ),
    "release key with other terms": (
        lambda e: ledger.escrow_release(escrow=e, clearing_days=5, idempotency_key="release-9"),
        "idempotency_mismatch",
    ),
    "refund after release": (
        lambda e: ledger.escrow_refund(
            escrow=e, amount=100, to="credit", reason="late", idempotency_key="refund-9"
        ),
        "escrow_not_held",
    ),
    "settle after release": (
        lambda e: ledger.escrow_settle(
            escrow=e,
            buyer_amount=100,
            to="credit",
            clearing_days=0,
            reason="dispute",
            idempotency_key="settle-9",
        ),
        "escrow_not_held",
    ),
    "credit into a paid escrow": (
        lambda e: ledger.credit_hold(escrow=e, amount=100, idempotency_key="credit-9"),
        "escrow_not_open",
    ),
    "charge a paid escrow": (
        lambda e: ledger.charge_record(
            funding=[(e, 1_050)],
            currency="USD",
            provider_fee=0,
            reference="payment:10",
            description="Logo",
            idempotency_key="charge-10",
        ),
        "escrow_not_open",
    ),
    "payout beyond the balance": (
        lambda e: ledger.payout_hold(
            owner=e.seller,
            amount=10_000,
            fee=0,
            currency="USD",
            reference="payout:9",
            idempotency_key="payout-9",
        ),
        "insufficient_funds",
    ),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_a_refused_request_leaves_the_callers_transaction_usable(released_escrow, name):
    request, code = REFUSALS[name]
    before = books()
    assert _try_then_carry_on(lambda: request(released_escrow)) == code
    after = books()
    assert after[:2] == before[:2]
    # Only empty accounts may have been opened on the way (account_for creates on first use).
    assert set(before[2]) <= set(after[2])
    assert all(balance == 0 for _, balance in set(after[2]) - set(before[2]))
