"""Reads of the ledger: balances, statements with running balances, the trial balance and the
checks that the books are consistent."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Sum

from micromarket.ledger.models import (
    TRACKED_KINDS,
    Account,
    AccountKind,
    Clearing,
    Escrow,
    EscrowStatus,
    Posting,
    Transaction,
    TransactionKind,
)

__all__ = [
    "AccountKind",
    "EscrowStatus",
    "account_balance",
    "account_get",
    "account_statement",
    "accounts_list",
    "escrow_for_reference",
    "escrow_get",
    "ledger_verify",
    "pending_clearings",
    "seller_earnings",
    "transactions_for_reference",
    "trial_balance",
    "user_balances",
]


def shown_balance(account: Account, posting_sum: int) -> int:
    """Balance on the account's natural side (assets/expenses debit, everything else credit)."""
    return posting_sum if account.is_debit_normal else -posting_sum


def account_balance(account: Account) -> int:
    if account.is_tracked:
        return account.balance
    total = Posting.objects.filter(account=account).aggregate(s=Sum("amount"))["s"] or 0
    return shown_balance(account, total)


def account_get(pk: int) -> Account | None:
    return Account.objects.select_related("owner").filter(pk=pk).first()


def user_balances(user) -> dict[str, dict[str, int]]:
    """{currency: {"pending": …, "available": …, "credit": …}} for the user's accounts."""
    result: dict[str, dict[str, int]] = defaultdict(
        lambda: {"pending": 0, "available": 0, "credit": 0}
    )
    for account in Account.objects.filter(owner=user).order_by("currency", "kind"):
        result[account.currency][account.kind] = account.balance
    return dict(result)


@dataclass(frozen=True)
class StatementLine:
    posting_id: int
    transaction: Transaction
    amount: int  # change of the shown balance (+ = the balance grew)
    balance: int  # running balance after this line


def account_statement(
    account: Account, *, limit: int = 50, offset: int = 0
) -> tuple[list[StatementLine], int]:
    """The account's postings, newest first, each with the balance after it; and the count."""
    sign = 1 if account.is_debit_normal else -1
    postings = Posting.objects.filter(account=account)
    count = postings.count()
    page = list(postings.select_related("transaction").order_by("-id")[offset : offset + limit])
    if not page:
        return [], count
    # Balance after the newest line on this page = everything up to and including it.
    upto = postings.filter(id__lte=page[0].id).aggregate(s=Sum("amount"))["s"] or 0
    running = sign * upto
    lines = []
    for p in page:
        lines.append(StatementLine(p.id, p.transaction, sign * p.amount, running))
        running -= sign * p.amount
    return lines, count


def accounts_list(*, kind: str | None = None, currency: str | None = None):
    qs = Account.objects.select_related("owner", "escrow").annotate(
        postings_count=Count("postings"), posting_sum=Sum("postings__amount")
    )
    if kind:
        qs = qs.filter(kind=kind)
    if currency:
        qs = qs.filter(currency=currency)
    return qs.order_by("currency", "kind", "id")


@dataclass(frozen=True)
class TrialBalanceRow:
    currency: str
    kind: str
    label: str
    debit_normal: bool
    total: int  # sum of postings (debit +, credit −)
    shown: int  # the balance on its natural side


def trial_balance() -> tuple[list[TrialBalanceRow], dict[str, int]]:
    """Per currency and account kind: the sum of postings; and per currency the grand total,
    which double entry keeps at exactly zero."""
    rows = (
        Posting.objects.values("currency", "account__kind")
        .annotate(total=Sum("amount"))
        .order_by("currency", "account__kind")
    )
    labels = dict(AccountKind.choices)
    result = []
    totals: dict[str, int] = defaultdict(int)
    for r in rows:
        debit_normal = r["account__kind"] in (
            AccountKind.PROVIDER_CLEARING,
            AccountKind.PROVIDER_FEES,
        )
        result.append(
            TrialBalanceRow(
                currency=r["currency"],
                kind=r["account__kind"],
                label=labels[r["account__kind"]],
                debit_normal=debit_normal,
                total=r["total"],
                shown=r["total"] if debit_normal else -r["total"],
            )
        )
        totals[r["currency"]] += r["total"]
    return result, dict(totals)


@dataclass(frozen=True)
class LedgerProblem:
    what: str
    detail: str


def ledger_verify() -> list[LedgerProblem]:
    """Everything that would mean the books are wrong; an empty list when they are right:
    a currency whose postings do not sum to zero, a transaction that does not balance, a
    tracked balance that differs from its postings or is negative, a posting in another
    currency than its account, an escrow whose balance is not what is still held for it."""
    problems: list[LedgerProblem] = []
    _, totals = trial_balance()
    for currency, total in totals.items():
        if total:
            problems.append(LedgerProblem("trial balance", f"{currency} postings sum to {total}"))
    unbalanced = (
        Posting.objects.values("transaction_id", "currency")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
    )
    for row in unbalanced[:50]:
        problems.append(
            LedgerProblem(
                "unbalanced transaction",
                f"#{row['transaction_id']} sums to {row['total']} {row['currency']}",
            )
        )
    tracked = Account.objects.filter(kind__in=TRACKED_KINDS).annotate(
        posted=Sum("postings__amount")
    )
    for account in tracked.iterator():
        derived = -(account.posted or 0)
        if derived != account.balance:
            problems.append(
                LedgerProblem(
                    "balance drift",
                    f"{account}: balance {account.balance}, postings say {derived}",
                )
            )
        if account.balance < 0:
            problems.append(LedgerProblem("negative balance", f"{account}: {account.balance}"))
    wrong_currency = Posting.objects.exclude(currency=F("account__currency"))
    for p in wrong_currency[:50]:
        problems.append(LedgerProblem("currency", f"posting {p.pk} is not in its account's"))
    for escrow in Escrow.objects.select_related("account").iterator():
        held = _escrow_should_hold(escrow)
        if held is not None and escrow.account.balance != held:
            problems.append(
                LedgerProblem(
                    "escrow",
                    f"{escrow.reference} holds {escrow.account.balance}, should hold {held}",
                )
            )
    return problems


def _escrow_should_hold(escrow: Escrow) -> int | None:
    """What the escrow must hold in its state (None: any amount up to the total, while the
    buyer's credit is applied before the card payment completes)."""
    if escrow.status == EscrowStatus.HELD:
        return escrow.total - escrow.refunded_subtotal - escrow.refunded_fee
    if escrow.status == EscrowStatus.AWAITING_PAYMENT:
        return None
    return 0


def escrow_get(pk: int) -> Escrow | None:
    return Escrow.objects.select_related("account", "buyer", "seller").filter(pk=pk).first()


def escrow_for_reference(reference: str) -> Escrow | None:
    return (
        Escrow.objects.select_related("account", "buyer", "seller")
        .filter(reference=reference)
        .first()
    )


def escrows_for_references(references) -> dict[str, Escrow]:
    """Reference → escrow, for many orders in one query."""
    return {e.reference: e for e in Escrow.objects.filter(reference__in=list(references))}


def transactions_for_reference(reference: str):
    return (
        Transaction.objects.filter(reference=reference)
        .prefetch_related("postings__account")
        .order_by("id")
    )


def pending_clearings(user, currency: str | None = None):
    qs = Clearing.objects.filter(owner=user, cleared_at__isnull=True)
    if currency:
        qs = qs.filter(currency=currency)
    return qs.order_by("available_at")


def user_account(user, *, kind: str, currency: str) -> Account | None:
    """The user's pending / available / credit account in ``currency`` (None before first use)."""
    return Account.objects.filter(owner=user, kind=kind, currency=currency.upper()).first()


def user_accounts(user, *, kinds: tuple[str, ...] | None = None):
    """The user's own accounts (pending, available, credit), by currency then kind."""
    qs = Account.objects.filter(owner=user)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return qs.order_by("currency", "kind", "id")


def user_account_get(user, account_id) -> Account | None:
    """One of the user's own accounts; None for anyone else's (pages answer 404)."""
    try:
        account_id = int(account_id)
    except (TypeError, ValueError):
        return None
    return Account.objects.filter(owner=user, pk=account_id).first()


def transaction_references(*, ids) -> dict[int, str]:
    """Transaction id → its reference ("order:12" …), for the books' earnings per offer."""
    return dict(Transaction.objects.filter(pk__in=list(ids)).values_list("pk", "reference"))


@dataclass(frozen=True)
class SellerEarning:
    """Earnings released to a seller by one ledger transaction (for the seller's books).

    ``gross`` is what the buyer paid for the work after refunds (a tip: the whole tip), ``net``
    what reached the seller's pending earnings; the difference is the platform's commission (or
    its share of the tip). The buyer's service fee is never part of either."""

    transaction_id: int
    kind: str  # "release", "settlement" or "tip"
    owner_id: int
    currency: str
    gross: int
    net: int
    created_at: datetime
    description: str
    reference: str


EARNING_KINDS = (TransactionKind.RELEASE, TransactionKind.SETTLEMENT, TransactionKind.TIP)


def seller_earnings(*, after_id: int = 0, owner=None, limit: int = 1000) -> list[SellerEarning]:
    """Release, settlement and tip transactions crediting a seller's *pending* account, oldest
    first, with ids above ``after_id`` (optionally one owner's)."""
    postings = (
        Posting.objects.filter(
            transaction__kind__in=EARNING_KINDS,
            transaction_id__gt=after_id,
            account__kind=AccountKind.PENDING,
            amount__lt=0,
        )
        .select_related("transaction", "account")
        .order_by("transaction_id", "id")
    )
    if owner is not None:
        postings = postings.filter(account__owner=owner)
    postings = list(postings[:limit])
    references = {
        p.transaction.reference for p in postings if p.transaction.kind != TransactionKind.TIP
    }
    escrows = {e.reference: e for e in Escrow.objects.filter(reference__in=references)}
    tip_ids = [p.transaction_id for p in postings if p.transaction.kind == TransactionKind.TIP]
    tip_shares: dict[int, int] = defaultdict(int)
    for row in (
        Posting.objects.filter(
            transaction_id__in=tip_ids, account__kind=AccountKind.PLATFORM_REVENUE
        )
        .values("transaction_id")
        .annotate(total=Sum("amount"))
        .order_by()
    ):
        tip_shares[row["transaction_id"]] = -row["total"]
    result = []
    for p in postings:
        txn = p.transaction
        net = -p.amount
        if txn.kind == TransactionKind.TIP:
            gross = net + tip_shares.get(txn.pk, 0)
        else:
            escrow = escrows.get(txn.reference)
            gross = escrow.subtotal - escrow.refunded_subtotal if escrow is not None else net
        result.append(
            SellerEarning(
                transaction_id=txn.pk,
                kind=txn.kind,
                owner_id=p.account.owner_id,
                currency=p.currency,
                gross=max(gross, net),
                net=net,
                created_at=txn.created_at,
                description=txn.description,
                reference=txn.reference,
            )
        )
    return result
