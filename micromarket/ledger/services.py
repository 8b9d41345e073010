"""Writes to the ledger. The only code that creates transactions or changes balances.

Every service here takes an ``idempotency_key``. Calling it again with the same key and the same
parameters returns the first result and writes nothing; the same key with other parameters
raises ``ValidationFailed`` (code ``idempotency_mismatch``).

Locks are taken in one fixed order — escrow rows by id, then tracked accounts by id — so two
services touching the same rows wait for each other instead of deadlocking. System accounts
(clearing, revenue, fees, payouts in flight) are never locked: they carry no balance column.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from micromarket.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from micromarket.core.money import currency_check, money_format
from micromarket.ledger.arithmetic import fee_refund_due, percent
from micromarket.ledger.models import (
    SYSTEM_KINDS,
    USER_KINDS,
    Account,
    AccountKind,
    Clearing,
    Escrow,
    EscrowStatus,
    Posting,
    Transaction,
    TransactionKind,
)

logger = logging.getLogger(__name__)

__all__ = [
    "Line",
    "account_for",
    "adjustment_post",
    "charge_record",
    "clearing_apply_due",
    "credit_hold",
    "credit_return",
    "escrow_lock",
    "escrow_open",
    "escrow_refund",
    "escrow_release",
    "escrow_settle",
    "payout_hold",
    "payout_paid",
    "payout_return",
    "refund_failed_to_credit",
    "tip_record",
    "transaction_post",
    "transaction_reverse",
]

MAX_AMOUNT = 10**15  # far beyond any real payment; keeps sums inside 64-bit columns


@dataclass(frozen=True)
class Line:
    """One posting to be written: ``amount`` > 0 debits the account, < 0 credits it."""

    account: Account
    amount: int


# ---------------------------------------------------------------------------------------------
# Accounts


def account_for(kind: str, currency: str, owner=None) -> Account:
    """The system account (owner None) or user account of ``kind`` in ``currency``.

    Created on first use; safe when two requests create it at once.
    """
    currency = currency_check(currency)
    if kind in SYSTEM_KINDS:
        if owner is not None:
            raise ValueError("system accounts have no owner")
        lookup = {"kind": kind, "currency": currency, "owner": None}
    elif kind in USER_KINDS:
        if owner is None:
            raise ValueError("user accounts need an owner")
        lookup = {"kind": kind, "currency": currency, "owner": owner}
    else:
        raise ValueError(f"account_for does not create {kind} accounts")
    account = Account.objects.filter(**lookup).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(**lookup)
    except IntegrityError:  # created meanwhile by a concurrent request
        return Account.objects.get(**lookup)


def _system_accounts(currency: str, *kinds: str) -> dict[str, Account]:
    """Several system accounts of one currency in one query (created on first use)."""
    found = {
        a.kind: a
        for a in Account.objects.filter(kind__in=kinds, currency=currency, owner__isnull=True)
    }
    for kind in kinds:
        if kind not in found:
            found[kind] = account_for(kind, currency)
    return found


# ---------------------------------------------------------------------------------------------
# The core: one balanced transaction


def _fingerprint(params: dict) -> str:
    text = json.dumps(params, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _replayed(idempotency_key: str, fingerprint: str) -> Transaction | None:
    existing = Transaction.objects.filter(idempotency_key=idempotency_key).first()
    if existing is None:
        return None
    if existing.fingerprint != fingerprint:
        raise ValidationFailed(
            "This idempotency key was already used with different parameters.",
            code="idempotency_mismatch",
        )
    return existing


def _check_amount(amount: int, *, field: str = "amount", allow_zero: bool = False) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationFailed("Amounts are whole numbers of minor units (cents).", field=field)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationFailed("Enter an amount greater than zero.", field=field)
    if amount > MAX_AMOUNT:
        raise ValidationFailed("That amount is too large.", field=field)
    return amount


def transaction_post(
    *,
    kind: str,
    description: str,
    reference: str,
    idempotency_key: str,
    lines: Iterable[Line],
    params: dict | None = None,
    created_by=None,
    reverses: Transaction | None = None,
    replay_checked: bool = False,
) -> Transaction:
    """Write one balanced transaction and update the balances of its tracked accounts.

    ``params`` describe the request for idempotency (defaults to the lines themselves).
    ``replay_checked``: the caller already looked for this key while holding a lock that every
    request with the key takes (an escrow row), so it is not looked up again. Raises
    ``ValidationFailed`` if the lines do not sum to zero per currency, if a posting's currency
    differs from its account's, or if a tracked balance would go below zero; nothing is written.
    """
    lines = [line for line in lines if line.amount != 0]
    if not idempotency_key or len(idempotency_key) > 200:
        raise ValidationFailed(
            "An idempotency key of 1–200 characters is required.", field="idempotency_key"
        )
    if params is None:
        params = {"lines": [(line.account.pk, line.amount) for line in lines]}
    fingerprint = _fingerprint({"kind": kind, "reference": reference, **params})
    if not replay_checked and (existing := _replayed(idempotency_key, fingerprint)) is not None:
        return existing
    if not lines:
        raise ValidationFailed("A transaction needs at least one non-zero posting.")
    sums: dict[str, int] = defaultdict(int)
    for line in lines:
        if isinstance(line.amount, bool) or not isinstance(line.amount, int):
            raise ValidationFailed("Amounts are whole numbers of minor units (cents).")
        if abs(line.amount) > MAX_AMOUNT:
            raise ValidationFailed("That amount is too large.")
        sums[line.account.currency] += line.amount
    if any(sums.values()):
        raise ValidationFailed(
            "The postings do not balance: "
            + ", ".join(f"{c} {s:+d}" for c, s in sorted(sums.items()) if s),
            code="unbalanced",
        )

    try:
        with transaction.atomic():
            # Lock every tracked account in id order, then check the new balances.
            deltas: dict[int, int] = defaultdict(int)
            for line in lines:
                if line.account.is_tracked:
                    deltas[line.account.pk] -= line.amount  # credit-side balance
            locked = {
                a.pk: a
                for a in Account.objects.select_for_update().filter(pk__in=deltas).order_by("pk")
            }
            # A concurrent request with this key may have committed while we waited.
            if (
                not replay_checked
                and (existing := _replayed(idempotency_key, fingerprint)) is not None
            ):
                return existing
            for pk, delta in deltas.items():
                account = locked.get(pk)
                if account is None:
                    raise NotFound("Unknown ledger account.", code="unknown_account")
                if account.balance + delta < 0:
                    raise ValidationFailed(
                        f"That is more than {_label(account)} "
                        f"({money_format(account.balance, account.currency)}).",
                        code="insufficient_funds",
                        field="amount",
                    )
            txn = Transaction.objects.create(
                kind=kind,
                description=description[:300],
                reference=reference,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
                created_by=created_by,
                reverses=reverses,
            )
            Posting.objects.bulk_create(
                Posting(
                    transaction=txn,
                    account_id=line.account.pk,
                    amount=line.amount,
                    currency=line.account.currency,
                )
                for line in lines
            )
            for pk, delta in deltas.items():
                if delta:
                    Account.objects.filter(pk=pk).update(balance=F("balance") + delta)
    except IntegrityError:
        # The same key was committed by a concurrent request while we waited: replay it.
        if (existing := _replayed(idempotency_key, fingerprint)) is not None:
            return existing
        raise
    return txn


def _label(account: Account) -> str:
    """How the account's owner calls it in an error message."""
    if account.kind == AccountKind.ESCROW:
        return "the amount held for this order"
    return {
        AccountKind.PENDING: "your pending earnings",
        AccountKind.AVAILABLE: "your available balance",
        AccountKind.CREDIT: "your buyer credit",
    }.get(account.kind, f"the {account.get_kind_display().lower()}")


def transaction_reverse(
    *, txn: Transaction, reason: str, idempotency_key: str, created_by=None
) -> Transaction:
    """A new transaction with every posting of ``txn`` negated (corrections never edit).

    Only for transactions outside an order's escrow life (adjustments, tips, payouts …):
    escrow money is corrected through refunds and settlements, which keep the escrow's state
    and the seller's clearing in step."""
    if not reason.strip():
        raise ValidationFailed("Say why the transaction is reversed.", field="reason")
    fingerprint = _fingerprint(
        {"kind": TransactionKind.REVERSAL, "reference": txn.reference, "reverses": txn.pk}
    )
    if (existing := _replayed(idempotency_key, fingerprint)) is not None:
        return existing
    if Transaction.objects.filter(reverses=txn).exists():
        raise ValidationFailed("This transaction was already reversed.", code="already_reversed")
    postings = list(txn.postings.select_related("account"))
    if (
        any(p.account.kind == AccountKind.ESCROW for p in postings)
        or Clearing.objects.filter(transaction=txn).exists()
    ):
        raise ValidationFailed(
            "Money of an order's escrow is corrected with a refund or a settlement, not a "
            "reversal.",
            code="not_reversible",
        )
    return transaction_post(
        kind=TransactionKind.REVERSAL,
        description=f"Reversal of #{txn.pk}: {reason.strip()}",
        reference=txn.reference,
        idempotency_key=idempotency_key,
        lines=[Line(p.account, -p.amount) for p in postings],
        params={"reverses": txn.pk},
        created_by=created_by,
        reverses=txn,
    )


def adjustment_post(
    *,
    lines: list[Line],
    description: str,
    reference: str,
    idempotency_key: str,
    created_by,
) -> Transaction:
    """An operator's correction: any balanced set of postings, with a reason."""
    if not description.strip():
        raise ValidationFailed("Describe the adjustment.", field="description")
    return transaction_post(
        kind=TransactionKind.ADJUSTMENT,
        description=description.strip(),
        reference=reference,
        idempotency_key=idempotency_key,
        lines=lines,
        created_by=created_by,
    )


# ---------------------------------------------------------------------------------------------
# Escrow


def escrow_open(
    *,
    reference: str,
    buyer,
    seller,
    currency: str,
    subtotal: int,
    service_fee: int,
    commission_bps: int,
    description: str,
) -> Escrow:
    """Create the escrow of one order (empty until paid). An order whose earlier payment did not
    complete is reopened; one already paid or being paid is a ``Conflict`` (``already_paid``,
    ``payment_in_progress``)."""
    currency = currency_check(currency)
    _check_amount(subtotal, field="subtotal")
    _check_amount(service_fee, field="service_fee", allow_zero=True)
    if not 0 <= commission_bps <= 10_000:
        raise ValidationFailed("Commission is between 0 and 100%.", field="commission_bps")
    if buyer.pk == seller.pk:
        raise ValidationFailed("Buyer and seller must be different people.", code="self_dealing")
    terms = {
        "buyer_id": buyer.pk,
        "seller_id": seller.pk,
        "currency": currency,
        "subtotal": subtotal,
        "service_fee": service_fee,
        "commission_bps": commission_bps,
    }
    try:  # the usual case is a new order: insert, and look only if the reference is taken
        with transaction.atomic():
            account = Account.objects.create(kind=AccountKind.ESCROW, currency=currency)
            return Escrow.objects.create(
                reference=reference, account=account, description=description[:300], **terms
            )
    except IntegrityError:
        pass
    # The order was checked out before. Only an escrow whose payment did not complete (declined,
    # abandoned: status cancelled, empty) may be paid again, possibly at today's fees.
    reopened = Escrow.objects.filter(
        reference=reference, status=EscrowStatus.CANCELLED, account__balance=0
    ).update(
        status=EscrowStatus.AWAITING_PAYMENT, closed_at=None, description=description[:300], **terms
    )
    existing = Escrow.objects.select_related("account").get(reference=reference)
    if reopened:
        if existing.account.currency != currency:
            raise ValidationFailed(
                "An order keeps the currency it was first priced in.", field="currency"
            )
        return existing
    if existing.status == EscrowStatus.AWAITING_PAYMENT:
        raise Conflict(
            f"A payment for {reference} is already in progress.", code="payment_in_progress"
        )
    raise Conflict(f"{reference} is already paid.", code="already_paid")


def escrow_lock(*, escrow: Escrow) -> Escrow:
    """Lock the escrow row until the end of the caller's transaction and return it fresh
    (a caller reads its amounts before and after a ledger service, under the same lock)."""
    (locked,) = _lock_escrows([escrow])
    return locked


def _lock_escrows(escrows: Iterable[Escrow]) -> list[Escrow]:
    ids = sorted({e.pk for e in escrows})
    locked = list(
        Escrow.objects.select_for_update()
        .select_related("account")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    if len(locked) != len(ids):
        raise NotFound("Unknown escrow.", code="unknown_escrow")
    return locked


def credit_hold(*, escrow: Escrow, amount: int, idempotency_key: str) -> Transaction:
    """Move ``amount`` of the buyer's credit into the order's escrow (part of a checkout)."""
    _check_amount(amount)
    with transaction.atomic():
        params = {"escrow": escrow.pk, "amount": amount}
        escrow, existing = _lock_and_replay(
            escrow, TransactionKind.CREDIT_HOLD, params, idempotency_key
        )
        if existing is not None:
            return existing
        if escrow.status != EscrowStatus.AWAITING_PAYMENT:
            raise ValidationFailed("This order is already paid.", code="escrow_not_open")
        if escrow.account.balance + amount > escrow.total:
            raise ValidationFailed("That is more than the order costs.", field="amount")
        credit = account_for(AccountKind.CREDIT, escrow.currency, escrow.buyer)
        return transaction_post(
            kind=TransactionKind.CREDIT_HOLD,
            description=f"Credit applied to {escrow.description}",
            reference=escrow.reference,
            idempotency_key=idempotency_key,
            lines=[Line(credit, amount), Line(escrow.account, -amount)],
            params=params,
            replay_checked=True,
        )


def _lock_and_replay(
    escrow: Escrow, kind: str, params: dict, idempotency_key: str
) -> tuple[Escrow, Transaction | None]:
    """Lock the escrow (every request about it waits here), then look for an earlier request
    with this key: (the escrow as now stored, that request's transaction or None)."""
    (locked,) = _lock_escrows([escrow])
    return locked, _replayed(idempotency_key, _fp(kind, locked.reference, params))


def _fp(kind: str, reference: str, params: dict) -> str:
    return _fingerprint({"kind": kind, "reference": reference, **params})


def credit_return(*, escrow: Escrow, idempotency_key: str) -> Transaction | None:
    """The payment did not complete: give back any credit held and close the escrow."""
    with transaction.atomic():
        params = {"escrow": escrow.pk}
        escrow, existing = _lock_and_replay(
            escrow, TransactionKind.CREDIT_RETURN, params, idempotency_key
        )
        if existing is not None:
            return existing
        if escrow.status != EscrowStatus.AWAITING_PAYMENT:
            raise ValidationFailed("This order is already paid.", code="escrow_not_open")
        Escrow.objects.filter(pk=escrow.pk).update(
            status=EscrowStatus.CANCELLED, closed_at=timezone.now()
        )
        held = escrow.account.balance
        if not held:
            return None
        credit = account_for(AccountKind.CREDIT, escrow.currency, escrow.buyer)
        return transaction_post(
            kind=TransactionKind.CREDIT_RETURN,
            description=f"Credit returned: payment for {escrow.description} did not complete",
            reference=escrow.reference,
            idempotency_key=idempotency_key,
            lines=[Line(escrow.account, held), Line(credit, -held)],
            params=params,
            replay_checked=True,
        )


def charge_record(
    *,
    funding: list[tuple[Escrow, int]],
    currency: str,
    provider_fee: int,
    reference: str,
    description: str,
    idempotency_key: str,
) -> Transaction | None:
    """A successful card charge: the money enters provider clearing and each order's escrow.

    ``funding`` lists the card-paid part of each escrow; with credit held before, each escrow
    must then hold exactly its total (anything else is refused). The provider's fee is
    recorded as an expense against clearing.
    """
    currency = currency_check(currency)
    _check_amount(provider_fee, field="provider_fee", allow_zero=True)
    if not funding:
        raise ValidationFailed("Nothing to charge.")
    for _, amount in funding:
        _check_amount(amount, allow_zero=True)  # 0: the buyer's credit paid all of it
    params = {
        "funding": sorted((e.pk, a) for e, a in funding),
        "provider_fee": provider_fee,
        "currency": currency,
    }
    with transaction.atomic():
        escrows = {e.pk: e for e in _lock_escrows([e for e, _ in funding])}
        if (
            existing := _replayed(idempotency_key, _fp(TransactionKind.CHARGE, reference, params))
        ) is not None:
            return existing
        system = _system_accounts(
            currency, AccountKind.PROVIDER_CLEARING, AccountKind.PROVIDER_FEES
        )
        clearing = system[AccountKind.PROVIDER_CLEARING]
        lines: list[Line] = []
        card_total = 0
        for escrow_in, amount in funding:
            escrow = escrows[escrow_in.pk]
            if escrow.currency != currency:
                raise ValidationFailed(
                    "The payment's currency differs from the order's.", field="currency"
                )
            if escrow.status != EscrowStatus.AWAITING_PAYMENT:
                raise ValidationFailed(
                    f"{escrow.reference} is already paid.", code="escrow_not_open"
                )
            if escrow.account.balance + amount != escrow.total:
                raise ValidationFailed(
                    f"{escrow.reference} costs {escrow.total}; {escrow.account.balance} is "
                    f"held and {amount} was charged.",
                    code="amount_mismatch",
                )
            lines.append(Line(escrow.account, -amount))
            card_total += amount
        if card_total == 0:  # paid entirely with credit held before: nothing to post
            Escrow.objects.filter(pk__in=escrows).update(status=EscrowStatus.HELD)
            return None
        lines.append(Line(clearing, card_total))
        if provider_fee:
            lines += [
                Line(system[AccountKind.PROVIDER_FEES], provider_fee),
                Line(clearing, -provider_fee),
            ]
        txn = transaction_post(
            kind=TransactionKind.CHARGE,
            description=description,
            reference=reference,
            idempotency_key=idempotency_key,
            lines=lines,
            params=params,
            replay_checked=True,
        )
        Escrow.objects.filter(pk__in=escrows).update(status=EscrowStatus.HELD)
        return txn


def _refund_parts(escrow: Escrow, subtotal_amount: int) -> tuple[int, int]:
    """(subtotal part, fee part) of refunding ``subtotal_amount`` of the escrow's price."""
    left = escrow.subtotal - escrow.refunded_subtotal
    if subtotal_amount > left:
        raise ValidationFailed(
            f"At most {left} of this order can still be refunded.",
            code="refund_exceeds_escrow",
            field="amount",
        )
    fee = fee_refund_due(
        service_fee=escrow.service_fee,
        subtotal=escrow.subtotal,
        refunded_before=escrow.refunded_subtotal,
        refunded_now=subtotal_amount,
        fee_refunded_before=escrow.refunded_fee,
    )
    return subtotal_amount, fee


def _require_held(escrow: Escrow) -> None:
    if escrow.status != EscrowStatus.HELD:
        raise ValidationFailed(
            f"The money for {escrow.reference} is not held in escrow "
            f"({escrow.get_status_display().lower()}).",
            code="escrow_not_held",
        )


def _refund_destination(escrow: Escrow, to: str) -> Account:
    if to == "card":
        return account_for(AccountKind.PROVIDER_CLEARING, escrow.currency)
    if to == "credit":
        return account_for(AccountKind.CREDIT, escrow.currency, escrow.buyer)
    raise ValidationFailed("Refund to 'card' or 'credit'.", field="to")


def _release_lines(escrow: Escrow, refunded_sub: int, refunded_fee: int) -> tuple[list[Line], int]:
    """Postings that pay out what remains after refunds: (lines, seller's net)."""
    seller_gross = escrow.subtotal - refunded_sub
    fee_kept = escrow.service_fee - refunded_fee
    commission = percent(seller_gross, escrow.commission_bps)
    seller_net = seller_gross - commission
    lines = [
        Line(escrow.account, seller_gross + fee_kept),
        Line(account_for(AccountKind.PENDING, escrow.currency, escrow.seller), -seller_net),
        Line(account_for(AccountKind.PLATFORM_REVENUE, escrow.currency), -(commission + fee_kept)),
    ]
    return lines, seller_net


def _clearing_create(
    txn: Transaction, escrow_or_owner, amount: int, currency: str, clearing_days: int
) -> None:
    if amount <= 0:
        return
    Clearing.objects.get_or_create(
        transaction=txn,
        defaults={
            "owner": escrow_or_owner,
            "amount": amount,
            "currency": currency,
            "available_at": txn.created_at + timedelta(days=clearing_days),
        },
    )


def escrow_refund(
    *, escrow: Escrow, amount: int, to: str, reason: str, idempotency_key: str, created_by=None
) -> Transaction:
    """Refund ``amount`` of the order's price (plus the matching share of the buyer's service
    fee) from escrow to the buyer's card (through provider clearing) or to buyer credit.
    The rest stays held. Refunding the whole price closes the escrow as refunded."""
    _check_amount(amount)
    params = {"escrow": escrow.pk, "amount": amount, "to": to}
    with transaction.atomic():
        escrow, existing = _lock_and_replay(escrow, TransactionKind.REFUND, params, idempotency_key)
        if existing is not None:
            return existing
        _require_held(escrow)
        sub, fee = _refund_parts(escrow, amount)
        destination = _refund_destination(escrow, to)
        full = escrow.refunded_subtotal + sub == escrow.subtotal
        txn = transaction_post(
            kind=TransactionKind.REFUND,
            description=(
                f"Refund to {'card' if to == 'card' else 'buyer credit'} for "
                f"{escrow.description}: {reason}".strip().rstrip(":")
            ),
            reference=escrow.reference,
            idempotency_key=idempotency_key,
            lines=[Line(escrow.account, sub + fee), Line(destination, -(sub + fee))],
            params=params,
            created_by=created_by,
            replay_checked=True,
        )
        Escrow.objects.filter(pk=escrow.pk).update(
            refunded_subtotal=F("refunded_subtotal") + sub,
            refunded_fee=F("refunded_fee") + fee,
            **({"status": EscrowStatus.REFUNDED, "closed_at": timezone.now()} if full else {}),
        )
        return txn


def escrow_release(
    *, escrow: Escrow, clearing_days: int, idempotency_key: str, created_by=None
) -> Transaction:
    """The buyer accepted: what is held goes to the seller's pending earnings minus the
    platform's commission; the buyer's service fee and the commission go to platform revenue.
    The earnings become available after ``clearing_days``."""
    params = {"escrow": escrow.pk, "clearing_days": clearing_days}
    with transaction.atomic():
        escrow, existing = _lock_and_replay(
            escrow, TransactionKind.RELEASE, params, idempotency_key
        )
        if existing is not None:
            return existing
        _require_held(escrow)
        lines, seller_net = _release_lines(escrow, escrow.refunded_subtotal, escrow.refunded_fee)
        txn = transaction_post(
            kind=TransactionKind.RELEASE,
            description=f"Payment released for {escrow.description}",
            reference=escrow.reference,
            idempotency_key=idempotency_key,
            lines=lines,
            params=params,
            created_by=created_by,
            replay_checked=True,
        )
        _clearing_create(txn, escrow.seller, seller_net, escrow.currency, clearing_days)
        Escrow.objects.filter(pk=escrow.pk).update(
            status=EscrowStatus.SETTLED if escrow.refunded_subtotal else EscrowStatus.RELEASED,
            closed_at=timezone.now(),
        )
        return txn


def escrow_settle(
    *,
    escrow: Escrow,
    buyer_amount: int,
    to: str,
    clearing_days: int,
    reason: str,
    idempotency_key: str,
    created_by=None,
) -> Transaction:
    """Split what is held: ``buyer_amount`` of the price back to the buyer (with the matching
    share of the service fee), the rest released to the seller — in one transaction (dispute
    decisions and agreed partial refunds)."""
    _check_amount(buyer_amount, field="buyer_amount", allow_zero=True)
    params = {
        "escrow": escrow.pk,
        "buyer_amount": buyer_amount,
        "to": to,
        "clearing_days": clearing_days,
    }
    with transaction.atomic():
        escrow, existing = _lock_and_replay(
            escrow, TransactionKind.SETTLEMENT, params, idempotency_key
        )
        if existing is not None:
            return existing
        _require_held(escrow)
        sub, fee = _refund_parts(escrow, buyer_amount)
        refunded_sub = escrow.refunded_subtotal + sub
        refunded_fee = escrow.refunded_fee + fee
        lines, seller_net = _release_lines(escrow, refunded_sub, refunded_fee)
        if sub + fee:
            lines += [
                Line(escrow.account, sub + fee),
                Line(_refund_destination(escrow, to), -(sub + fee)),
            ]
        txn = transaction_post(
            kind=TransactionKind.SETTLEMENT,
            description=f"Settlement for {escrow.description}: {reason}".strip().rstrip(":"),
            reference=escrow.reference,
            idempotency_key=idempotency_key,
            lines=lines,
            params=params,
            created_by=created_by,
            replay_checked=True,
        )
        _clearing_create(txn, escrow.seller, seller_net, escrow.currency, clearing_days)
        full_refund = refunded_sub == escrow.subtotal
        Escrow.objects.filter(pk=escrow.pk).update(
            refunded_subtotal=refunded_sub,
            refunded_fee=refunded_fee,
            status=EscrowStatus.REFUNDED
            if full_refund
            else (EscrowStatus.SETTLED if refunded_sub else EscrowStatus.RELEASED),
            closed_at=timezone.now(),
        )
        return txn


# ---------------------------------------------------------------------------------------------
# Clearing, tips, payouts


def clearing_apply_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Move earnings whose clearing period ended from pending to available. Each clearing is
    claimed with a conditional UPDATE, so several workers never apply one twice."""
    now = now or timezone.now()
    done = 0
    due = list(
        Clearing.objects.filter(cleared_at__isnull=True, available_at__lte=now).values_list(
            "pk", flat=True
        )[:limit]
    )
    for pk in due:
        try:
            done += _clearing_apply(pk, now)
        except DomainError:  # one broken item must not hold back everyone else's earnings
            logger.exception("clearing %s could not be applied; left for an operator", pk)
    return done


def _clearing_apply(pk: int, now: datetime) -> int:
    with transaction.atomic():
        if not Clearing.objects.filter(pk=pk, cleared_at__isnull=True).update(cleared_at=now):
            return 0  # another worker took it
        item = Clearing.objects.select_related("owner").get(pk=pk)
        pending = account_for(AccountKind.PENDING, item.currency, item.owner)
        available = account_for(AccountKind.AVAILABLE, item.currency, item.owner)
        transaction_post(
            kind=TransactionKind.CLEARING,
            description="Earnings cleared and available for payout",
            reference=f"clearing:{item.pk}",
            idempotency_key=f"clearing:{item.pk}",
            lines=[Line(pending, item.amount), Line(available, -item.amount)],
        )
        return 1


def tip_record(
    *,
    buyer,
    seller,
    amount: int,
    currency: str,
    platform_bps: int,
    provider_fee: int,
    clearing_days: int,
    reference: str,
    description: str,
    idempotency_key: str,
) -> Transaction:
    """A tip the buyer's card paid: to the seller's pending earnings, minus the platform's
    configured share (0% by default)."""
    currency = currency_check(currency)
    _check_amount(amount)
    _check_amount(provider_fee, field="provider_fee", allow_zero=True)
    share = percent(amount, platform_bps)
    clearing = account_for(AccountKind.PROVIDER_CLEARING, currency)
    lines = [
        Line(clearing, amount),
        Line(account_for(AccountKind.PENDING, currency, seller), -(amount - share)),
        Line(account_for(AccountKind.PLATFORM_REVENUE, currency), -share),
    ]
    if provider_fee:
        lines += [
            Line(account_for(AccountKind.PROVIDER_FEES, currency), provider_fee),
            Line(clearing, -provider_fee),
        ]
    with transaction.atomic():
        txn = transaction_post(
            kind=TransactionKind.TIP,
            description=description,
            reference=reference,
            idempotency_key=idempotency_key,
            lines=lines,
            params={
                "buyer": buyer.pk,
                "seller": seller.pk,
                "amount": amount,
                "currency": currency,
                "platform_bps": platform_bps,
                "provider_fee": provider_fee,
            },
        )
        _clearing_create(txn, seller, amount - share, currency, clearing_days)
        return txn


def payout_hold(
    *, owner, amount: int, fee: int, currency: str, reference: str, idempotency_key: str
) -> Transaction:
    """Take ``amount`` from the seller's available balance for a payout: ``amount - fee`` is
    in flight to the seller, ``fee`` is platform revenue. Refused beyond the balance."""
    _check_amount(amount)
    _check_amount(fee, field="fee", allow_zero=True)
    if fee >= amount:
        raise ValidationFailed("The payout must be larger than its fee.", field="amount")
    currency = currency_check(currency)
    lines = [
        Line(account_for(AccountKind.AVAILABLE, currency, owner), amount),
        Line(account_for(AccountKind.PAYOUTS_IN_FLIGHT, currency), -(amount - fee)),
        Line(account_for(AccountKind.PLATFORM_REVENUE, currency), -fee),
    ]
    return transaction_post(
        kind=TransactionKind.PAYOUT,
        description="Payout requested",
        reference=reference,
        idempotency_key=idempotency_key,
        lines=lines,
        params={"owner": owner.pk, "amount": amount, "fee": fee, "currency": currency},
    )


def payout_paid(*, net: int, currency: str, reference: str, idempotency_key: str) -> Transaction:
    """The provider sent the payout: it leaves in-flight and our provider balance."""
    _check_amount(net)
    currency = currency_check(currency)
    return transaction_post(
        kind=TransactionKind.PAYOUT_PAID,
        description="Payout sent by the payment provider",
        reference=reference,
        idempotency_key=idempotency_key,
        lines=[
            Line(account_for(AccountKind.PAYOUTS_IN_FLIGHT, currency), net),
            Line(account_for(AccountKind.PROVIDER_CLEARING, currency), -net),
        ],
    )


def payout_return(
    *,
    owner,
    amount: int,
    fee: int,
    currency: str,
    reason: str,
    reference: str,
    idempotency_key: str,
) -> Transaction:
    """The payout failed: everything taken for it, fee included, returns to available."""
    _check_amount(amount)
    currency = currency_check(currency)
    return transaction_post(
        kind=TransactionKind.PAYOUT_FAILED,
        description=f"Payout failed ({reason}); funds returned"[:300],
        reference=reference,
        idempotency_key=idempotency_key,
        lines=[
            Line(account_for(AccountKind.PAYOUTS_IN_FLIGHT, currency), amount - fee),
            Line(account_for(AccountKind.PLATFORM_REVENUE, currency), fee),
            Line(account_for(AccountKind.AVAILABLE, currency, owner), -amount),
        ],
    )


def refund_failed_to_credit(
    *, buyer, amount: int, currency: str, reason: str, reference: str, idempotency_key: str
) -> Transaction:
    """The card refund failed at the provider: the buyer gets the money as credit instead."""
    _check_amount(amount)
    currency = currency_check(currency)
    return transaction_post(
        kind=TransactionKind.REFUND_FAILED,
        description=f"Card refund failed ({reason}); paid as buyer credit"[:300],
        reference=reference,
        idempotency_key=idempotency_key,
        lines=[
            Line(account_for(AccountKind.PROVIDER_CLEARING, currency), amount),
            Line(account_for(AccountKind.CREDIT, currency, buyer), -amount),
        ],
    )
