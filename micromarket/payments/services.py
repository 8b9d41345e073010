"""Payments: charge buyers into escrow, refund, settle, tip, pay sellers out, take webhooks,
reconcile with the provider, and the operator's fee settings.

Money moves only through ``ledger.services``; these services decide *what* moves, talk to the
provider and keep the request rows (Payment, Refund, Payout) in step. A provider call never
happens inside a database transaction that holds locks: rows are written first, the call is
made with an idempotency key derived from the row, and the result is recorded in a second
transaction that applies at most once (conditional on the row's state).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from micromarket.core.errors import NotFound, PermissionDenied, ValidationFailed
from micromarket.core.money import currency_check, money_format
from micromarket.ledger import selectors as ledger_selectors
from micromarket.ledger import services as ledger
from micromarket.payments import fees
from micromarket.payments.models import (
    CategoryCommission,
    CurrencyFees,
    FeeSchedule,
    Payment,
    PaymentLine,
    PaymentStatus,
    Payout,
    PayoutMethod,
    PayoutStatus,
    ReconciliationDifference,
    ReconciliationRun,
    Refund,
    RefundStatus,
    SandboxControl,
    WebhookEvent,
)
from micromarket.payments.providers import get_provider
from micromarket.payments.providers.base import ChargeResult, ProviderError

logger = logging.getLogger(__name__)

TERMINAL_PAYMENT = (PaymentStatus.SUCCEEDED, PaymentStatus.DECLINED, PaymentStatus.CANCELLED)


def _fingerprint(params: dict) -> str:
    text = json.dumps(params, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _mismatch() -> ValidationFailed:
    return ValidationFailed(
        "This idempotency key was already used with different parameters.",
        code="idempotency_mismatch",
    )


def _check_key(key: str) -> str:
    if not key or len(key) > 160:  # API keys (≤ 120) arrive as "api:<user>:<key>"
        raise ValidationFailed(
            "An idempotency key of 1–160 characters is required.", field="idempotency_key"
        )
    return key


def _check_positive(amount, field: str = "amount") -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationFailed("Amounts are whole numbers of minor units (cents).", field=field)
    if amount <= 0:
        raise ValidationFailed("Enter an amount greater than zero.", field=field)
    if amount > ledger.MAX_AMOUNT:
        raise ValidationFailed("That amount is too large.", field=field)
    return amount


# ---------------------------------------------------------------------------------------------
# Charging buyers


@dataclass(frozen=True)
class OrderCharge:
    """One order to pay for: its reference (``order:12``), seller, price and category."""

    reference: str
    seller: object
    subtotal: int
    description: str
    category_id: int | None = None
    parent_category_id: int | None = None
    fee_free: bool = False  # held only (a rental deposit): no service fee, no commission


def _card_last4(provider: str, payment_method: str) -> str:
    """The sandbox takes test card numbers; other providers' tokens (pm_…) reveal nothing."""
    if provider != "sandbox":
        return ""
    return "".join(c for c in payment_method if c.isdigit())[-4:]


def payment_start(
    *,
    buyer,
    currency: str,
    orders: list[OrderCharge],
    payment_method: str,
    idempotency_key: str,
    return_url: str,
    credit: int = 0,
) -> Payment:
    """Charge the buyer for one or more orders (one escrow each) in one payment.

    ``credit`` (minor units) of the buyer's credit is used first; the rest is charged to
    ``payment_method``. Returns the Payment: ``succeeded`` (escrows hold the money),
    ``requires_action`` (send the buyer to ``action_url``), ``processing`` or ``declined``
    (with ``decline_message``; any credit was returned). The same key replays the payment.
    """
    _check_key(idempotency_key)
    currency = currency_check(currency)
    if not orders:
        raise ValidationFailed("There is nothing to pay for.")
    references = [o.reference for o in orders]
    if len(set(references)) != len(references):
        raise ValidationFailed("Each order can be paid once per payment.")
    for order in orders:
        _check_positive(order.subtotal, "subtotal")
        if order.seller.pk == buyer.pk:
            raise ValidationFailed("You cannot buy from yourself.", code="self_dealing")
    if isinstance(credit, bool) or not isinstance(credit, int) or credit < 0:
        raise ValidationFailed("Credit is a whole, non-negative amount.", field="credit")
    fingerprint = _fingerprint(
        {
            "currency": currency,
            "orders": [(o.reference, o.seller.pk, o.subtotal, o.fee_free) for o in orders],
            "credit": credit,
            "method": payment_method,
        }
    )
    existing = Payment.objects.filter(buyer=buyer, idempotency_key=idempotency_key).first()
    if existing:
        if existing.fingerprint != fingerprint:
            raise _mismatch()
        return existing

    schedule = fees.schedule_at()
    quotes = [
        fees.fee_quote(
            subtotal=o.subtotal,
            currency=currency,
            category_id=o.category_id,
            parent_category_id=o.parent_category_id,
            schedule=schedule,
            fee_free=o.fee_free,
        )
        for o in orders
    ]
    total = sum(q.total for q in quotes)
    if credit > total:
        credit = total  # never take more credit than the payment needs
    if credit:
        balance = ledger_selectors.user_balances(buyer).get(currency, {}).get("credit", 0)
        if credit > balance:
            raise ValidationFailed(
                "That is more than your buyer credit.", code="insufficient_funds", field="credit"
            )
    provider = get_provider()
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                buyer=buyer,
                currency=currency,
                total=total,
                card_amount=total - credit,
                credit_amount=credit,
                provider=provider.name,
                card_last4=_card_last4(provider.name, payment_method),
                description="; ".join(o.description for o in orders)[:300],
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
                fee_schedule=schedule if schedule.pk else None,
            )
            credit_left = credit
            for order, quote in zip(orders, quotes, strict=True):
                escrow = ledger.escrow_open(
                    reference=order.reference,
                    buyer=buyer,
                    seller=order.seller,
                    currency=currency,
                    subtotal=quote.subtotal,
                    service_fee=quote.service_fee,
                    commission_bps=quote.commission_bps,
                    description=order.description,
                )
                from_credit = min(credit_left, quote.total)
                credit_left -= from_credit
                if from_credit:
                    ledger.credit_hold(
                        escrow=escrow,
                        amount=from_credit,
                        idempotency_key=f"payment:{payment.pk}:credit:{escrow.pk}",
                    )
                PaymentLine.objects.create(
                    payment=payment,
                    escrow=escrow,
                    reference=order.reference,
                    seller=order.seller,
                    description=order.description,
                    subtotal=quote.subtotal,
                    service_fee=quote.service_fee,
                    commission_bps=quote.commission_bps,
                    commission=quote.commission,
                    card_amount=quote.total - from_credit,
                    credit_amount=from_credit,
                )
    except IntegrityError:
        existing = Payment.objects.filter(buyer=buyer, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        if existing.fingerprint != fingerprint:
            raise _mismatch() from None
        return existing
    return _payment_charge(payment, payment_method=payment_method, return_url=return_url)


def tip_start(
    *,
    buyer,
    seller,
    reference: str,
    amount: int,
    currency: str,
    payment_method: str,
    idempotency_key: str,
    return_url: str,
) -> Payment:
    """Charge a tip for a completed order (``reference``) to the seller. The platform keeps the
    schedule's tip share (0% unless the operator set one)."""
    _check_key(idempotency_key)
    _check_positive(amount)
    currency = currency_check(currency)
    if seller.pk == buyer.pk:
        raise ValidationFailed("You cannot tip yourself.", code="self_dealing")
    fingerprint = _fingerprint(
        {"tip": reference, "seller": seller.pk, "amount": amount, "currency": currency}
    )
    existing = Payment.objects.filter(buyer=buyer, idempotency_key=idempotency_key).first()
    if existing:
        if existing.fingerprint != fingerprint:
            raise _mismatch()
        return existing
    schedule = fees.schedule_at()
    provider = get_provider()
    try:
        payment = Payment.objects.create(
            buyer=buyer,
            purpose=Payment.Purpose.TIP,
            currency=currency,
            total=amount,
            card_amount=amount,
            provider=provider.name,
            card_last4=_card_last4(provider.name, payment_method),
            description=f"Tip for {reference}",
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
            fee_schedule=schedule if schedule.pk else None,
            tip_seller=seller,
            tip_reference=reference,
            tip_platform_bps=schedule.tip_platform_bps,
        )
    except IntegrityError:
        return tip_start(
            buyer=buyer,
            seller=seller,
            reference=reference,
            amount=amount,
            currency=currency,
            payment_method=payment_method,
            idempotency_key=idempotency_key,
            return_url=return_url,
        )
    return _payment_charge(payment, payment_method=payment_method, return_url=return_url)


def _payment_charge(payment: Payment, *, payment_method: str, return_url: str) -> Payment:
    if payment.card_amount == 0:  # all from credit
        return payment_record_result(
            payment=payment,
            result=ChargeResult(
                status="succeeded", reference="", amount=0, currency=payment.currency
            ),
        )
    provider = get_provider(payment.provider)
    try:
        result = provider.charge(
            amount=payment.card_amount,
            currency=payment.currency,
            payment_method=payment_method,
            description=payment.description,
            idempotency_key=f"payment:{payment.pk}",
            return_url=return_url,
        )
    except ProviderError as exc:
        logger.warning("charge of payment %s failed at the provider: %s", payment.pk, exc)
        return payment_record_result(
            payment=payment,
            result=ChargeResult(
                status="declined",
                reference="",
                amount=payment.card_amount,
                currency=payment.currency,
                # If the provider did charge before the connection broke, the daily
                # reconciliation reports the charge as "at the provider, not in our records".
                decline_message="We could not reach the payment service, so this payment "
                "was not completed. Please try again.",
            ),
        )
    return payment_record_result(payment=payment, result=result)


def payment_record_result(*, payment: Payment, result: ChargeResult) -> Payment:
    """Apply what the provider said about a payment — once. Success moves the money into
    escrow (or to the seller, for a tip); a decline returns any credit held."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status in TERMINAL_PAYMENT:
            return payment
        if result.reference:
            payment.provider_reference = result.reference
        if result.status == "succeeded":
            if payment.card_amount and result.amount != payment.card_amount:
                raise ValidationFailed(
                    f"The provider charged {result.amount}, the payment is {payment.card_amount}.",
                    code="amount_mismatch",
                )
            payment.provider_fee = result.fee
            if payment.purpose == Payment.Purpose.TIP:
                ledger.tip_record(
                    buyer=payment.buyer,
                    seller=payment.tip_seller,
                    amount=payment.card_amount,
                    currency=payment.currency,
                    platform_bps=payment.tip_platform_bps,
                    provider_fee=result.fee,
                    clearing_days=_clearing_days(payment.tip_seller_id),
                    reference=payment.reference,
                    description=payment.description,
                    idempotency_key=f"{payment.reference}:tip",
                )
            else:
                ledger.charge_record(
                    funding=[
                        (line.escrow, line.card_amount)
                        for line in payment.lines.select_related("escrow")
                    ],
                    currency=payment.currency,
                    provider_fee=result.fee,
                    reference=payment.reference,
                    description=f"Payment {payment.pk}: {payment.description}",
                    idempotency_key=f"{payment.reference}:charge",
                )
            payment.status = PaymentStatus.SUCCEEDED
            payment.paid_at = timezone.now()
            payment.action_url = ""
        elif result.status == "declined":
            for line in payment.lines.select_related("escrow"):
                ledger.credit_return(
                    escrow=line.escrow,
                    idempotency_key=f"{payment.reference}:credit_return:{line.escrow_id}",
                )
            payment.status = PaymentStatus.DECLINED
            payment.decline_message = result.decline_message[:300] or "The card was declined."
            payment.action_url = ""
        elif result.status == "requires_action":
            payment.status = PaymentStatus.REQUIRES_ACTION
            payment.action_url = result.action_url
        else:
            payment.status = PaymentStatus.PROCESSING
        payment.save(
            update_fields=[
                "status",
                "provider_reference",
                "provider_fee",
                "paid_at",
                "decline_message",
                "action_url",
            ]
        )
        return payment


def payment_refresh(*, payment: Payment) -> Payment:
    """Ask the provider where an unfinished payment stands (after the buyer's extra step, or
    by the sweeper) and record it."""
    if payment.status in TERMINAL_PAYMENT or not payment.provider_reference:
        return payment
    try:
        result = get_provider(payment.provider).charge_retrieve(
            reference=payment.provider_reference
        )
    except ProviderError:
        return payment
    return payment_record_result(payment=payment, result=result)


def payment_cancel_stale(*, now: datetime | None = None, older_than=timedelta(days=1)) -> int:
    """Payments the buyer never confirmed: cancel them and return held credit."""
    now = now or timezone.now()
    stale = Payment.objects.filter(
        status__in=[PaymentStatus.CREATED, PaymentStatus.REQUIRES_ACTION, PaymentStatus.PROCESSING],
        created_at__lt=now - older_than,
    ).values_list("pk", flat=True)
    return sum(payment_cancel(payment_id=pk) for pk in list(stale[:200]))


def payment_cancel(*, payment_id: int) -> bool:
    """Withdraw a payment the buyer has not confirmed (held credit goes back). False when it
    finished meanwhile (then that result is recorded) or the provider could not be reached
    (try again later)."""
    payment = payment_refresh(payment=Payment.objects.get(pk=payment_id))
    if payment.status in TERMINAL_PAYMENT:
        return False
    if payment.provider_reference:
        # Withdraw the charge at the provider first, so the buyer cannot still confirm it;
        # if it went through meanwhile, that is what gets recorded.
        try:
            result = get_provider(payment.provider).charge_cancel(
                reference=payment.provider_reference
            )
        except ProviderError:
            return False
        if result.status == "succeeded":
            payment_record_result(payment=payment, result=result)
            return False
    payment_record_result(
        payment=payment,
        result=ChargeResult(
            status="declined",
            reference="",
            amount=payment.card_amount,
            currency=payment.currency,
            decline_message="The payment was not confirmed in time.",
        ),
    )
    return bool(
        Payment.objects.filter(pk=payment_id, status=PaymentStatus.DECLINED).update(
            status=PaymentStatus.CANCELLED
        )
    )


# ---------------------------------------------------------------------------------------------
# Escrow outcomes: release, refund, settlement


def _clearing_days(seller_id: int | None = None) -> int:
    """The schedule's clearing period, or the seller's level's when it is shorter (trust is
    imported here: it sits above payments, decision 0009)."""
    schedule_days = fees.schedule_at().clearing_days
    if seller_id is None:
        return schedule_days
    from micromarket.trust.selectors import levels as trust_levels

    level_days = trust_levels.clearing_days_for_seller(seller_id)
    return schedule_days if level_days is None else min(level_days, schedule_days)


def _line_for(reference: str) -> PaymentLine:
    line = (
        PaymentLine.objects.select_related("payment", "escrow", "seller", "payment__buyer")
        .filter(reference=reference, payment__status=PaymentStatus.SUCCEEDED)
        .first()
    )
    if line is None:
        raise NotFound("No paid order with that reference.", code="unknown_order")
    return line


def escrow_release(
    *, reference: str, idempotency_key: str, clearing_days: int | None = None, actor=None
) -> None:
    """Pay the seller what is held for the order (called by the order process on
    completion). ``clearing_days`` overrides the schedule (sellers of a top level clear
    sooner)."""
    line = _line_for(reference)
    ledger.escrow_release(
        escrow=line.escrow,
        clearing_days=(_clearing_days(line.seller_id) if clearing_days is None else clearing_days),
        idempotency_key=idempotency_key,
        created_by=actor,
    )


def _can_refund(actor, line: PaymentLine) -> None:
    if actor is None or actor.is_staff or actor.pk == line.seller_id:
        return
    if actor.pk == line.payment.buyer_id:
        raise PermissionDenied("Ask the seller or open a dispute to get a refund.")
    raise NotFound("No paid order with that reference.", code="unknown_order")


def _card_refundable(line: PaymentLine) -> int:
    """What can still go back to the card that paid this line."""
    sent = (
        Refund.objects.filter(line=line, destination=Refund.Destination.CARD)
        .exclude(status=RefundStatus.CREDITED)
        .aggregate(s=Sum("amount") + Sum("fee_amount"))["s"]
        or 0
    )
    return line.card_amount - sent


def refund_create(
    *,
    reference: str,
    amount: int,
    to: str,
    reason: str,
    idempotency_key: str,
    actor=None,
) -> Refund:
    """Refund ``amount`` of an order's price (with its share of the buyer's service fee) to the
    card or as buyer credit. Allowed to the order's seller and operators (``actor`` None = the
    system, e.g. a cancellation by the order process)."""
    _check_key(idempotency_key)
    _check_positive(amount)
    if to not in Refund.Destination.values:
        raise ValidationFailed("Refund to 'card' or 'credit'.", field="to")
    if not reason.strip():
        raise ValidationFailed("Give the reason for the refund.", field="reason")
    line = _line_for(reference)
    _can_refund(actor, line)
    fingerprint = _fingerprint({"reference": reference, "amount": amount, "to": to})
    key = f"{actor.pk if actor else 'system'}:{idempotency_key}"
    existing = Refund.objects.filter(idempotency_key=key).first()
    if existing:
        if existing.fingerprint != fingerprint:
            raise _mismatch()
        return existing
    try:
        with transaction.atomic():
            refund = _refund_write(
                line,
                amount=amount,
                to=to,
                reason=reason.strip(),
                key=key,
                fingerprint=fingerprint,
                actor=actor,
            )
    except IntegrityError:
        existing = Refund.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        if existing.fingerprint != fingerprint:
            raise _mismatch() from None
        return existing
    return refund


def _refund_write(
    line, *, amount, to, reason, key, fingerprint, actor, settle_clearing_days: int | None = None
) -> Refund:
    escrow = line.escrow
    refund = Refund.objects.create(
        payment=line.payment,
        line=line,
        amount=0,
        fee_amount=0,
        currency=line.payment.currency,
        destination=to,
        status=RefundStatus.PENDING if to == "card" else RefundStatus.SUCCEEDED,
        reason=reason,
        idempotency_key=key,
        fingerprint=fingerprint,
        created_by=actor,
    )
    before = ledger.escrow_lock(escrow=escrow)  # held until commit: no refund slips between
    if settle_clearing_days is None:
        ledger.escrow_refund(
            escrow=escrow,
            amount=amount,
            to=to,
            reason=reason,
            idempotency_key=refund.reference,
            created_by=actor,
        )
    else:
        ledger.escrow_settle(
            escrow=escrow,
            buyer_amount=amount,
            to=to,
            clearing_days=settle_clearing_days,
            reason=reason,
            idempotency_key=refund.reference,
            created_by=actor,
        )
    after = ledger_selectors.escrow_get(escrow.pk)
    refund.amount = after.refunded_subtotal - before.refunded_subtotal
    refund.fee_amount = after.refunded_fee - before.refunded_fee
    if to == "card" and refund.total > _card_refundable(line):
        raise ValidationFailed(
            f"Only {_card_refundable(line)} can go back to the card; refund the rest as credit.",
            code="card_refund_exceeds_charge",
            field="amount",
        )
    if refund.total == 0:  # a settlement that pays everything to the seller
        refund.status = RefundStatus.SUCCEEDED
    refund.settled_at = timezone.now() if refund.status != RefundStatus.PENDING else None
    refund.save()
    if refund.status == RefundStatus.PENDING:
        from micromarket.payments.tasks import submit_refund

        transaction.on_commit(lambda: submit_refund.enqueue(refund.pk))
    return refund


def escrow_settlement(
    *,
    reference: str,
    buyer_amount: int,
    to: str,
    reason: str,
    idempotency_key: str,
    actor=None,
    clearing_days: int | None = None,
) -> Refund:
    """Split what is held for an order: ``buyer_amount`` of the price back to the buyer, the
    rest to the seller, in one ledger transaction (dispute decisions, agreed partial refunds)."""
    _check_key(idempotency_key)
    if isinstance(buyer_amount, bool) or not isinstance(buyer_amount, int) or buyer_amount < 0:
        raise ValidationFailed(
            "The buyer's part is a whole, non-negative amount.", field="buyer_amount"
        )
    if to not in Refund.Destination.values:
        raise ValidationFailed("Refund to 'card' or 'credit'.", field="to")
    line = _line_for(reference)
    if actor is not None and not actor.is_staff:
        raise PermissionDenied("Only operators settle a dispute.")
    fingerprint = _fingerprint({"settle": reference, "buyer_amount": buyer_amount, "to": to})
    key = f"settle:{idempotency_key}"
    existing = Refund.objects.filter(idempotency_key=key).first()
    if existing:
        if existing.fingerprint != fingerprint:
            raise _mismatch()
        return existing
    try:
        with transaction.atomic():
            return _refund_write(
                line,
                amount=buyer_amount,
                to=to,
                reason=reason.strip() or "settlement",
                key=key,
                fingerprint=fingerprint,
                actor=actor,
                settle_clearing_days=(
                    _clearing_days(line.seller_id) if clearing_days is None else clearing_days
                ),
            )
    except IntegrityError:  # the same key, committed meanwhile by a concurrent request
        existing = Refund.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        if existing.fingerprint != fingerprint:
            raise _mismatch() from None
        return existing


def refund_submit(*, refund_id: int) -> Refund:
    """Send a card refund to the provider (a task after commit; safe to repeat). A refund the
    provider refuses is paid to the buyer as credit instead — the buyer never loses it."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.status != RefundStatus.PENDING or refund.provider_reference:
        return refund  # done, or accepted by the provider and awaiting its webhook
    try:
        result = get_provider(refund.payment.provider).refund(
            charge_reference=refund.payment.provider_reference,
            amount=refund.total,
            currency=refund.currency,
            idempotency_key=refund.reference,
        )
    except ProviderError:
        return refund  # retried by the sweeper
    return refund_record_result(
        refund=refund,
        status=result.status,
        reference=result.reference,
        message=result.failure_message,
    )


def refund_record_result(
    *, refund: Refund, status: str, reference: str, message: str = ""
) -> Refund:
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("payment").get(pk=refund.pk)
        if refund.status != RefundStatus.PENDING:
            return refund
        if reference:
            refund.provider_reference = reference
        if status == "succeeded":
            refund.status = RefundStatus.SUCCEEDED
            refund.settled_at = timezone.now()
        elif status == "failed":
            ledger.refund_failed_to_credit(
                buyer=refund.payment.buyer,
                amount=refund.total,
                currency=refund.currency,
                reason=message or "refused by the provider",
                reference=refund.reference,
                idempotency_key=f"{refund.reference}:failed",
            )
            refund.status = RefundStatus.CREDITED
            refund.failure_message = message[:300]
            refund.settled_at = timezone.now()
        refund.save()
        return refund


# ---------------------------------------------------------------------------------------------
# Payouts


def payout_method_add(*, owner, destination: str, label: str = "") -> PayoutMethod:
    """Add where payouts go: a bank account number at the sandbox, or a Stripe Connect account
    id ("acct_…") with the Stripe provider."""
    provider = settings.PAYMENTS_PROVIDER
    destination = destination.strip().replace(" ", "")
    if provider == "stripe":
        if not destination.startswith("acct_") or len(destination) < 10:
            raise ValidationFailed("Enter your Stripe account id (acct_…).", field="destination")
    elif not destination.isdigit() or not 6 <= len(destination) <= 17:
        raise ValidationFailed(
            "Enter a bank account number of 6 to 17 digits.", field="destination"
        )
    label = label.strip() or f"Account ending {destination[-4:]}"
    return PayoutMethod.objects.create(
        owner=owner, provider=provider, destination=destination, label=label[:80]
    )


def payout_method_stripe_onboarding(
    *, owner, country: str, refresh_url: str, return_url: str
) -> tuple[PayoutMethod, str]:
    """With the Stripe provider: the seller's Connect Express account (created on first use)
    and a fresh link to Stripe's onboarding, where they verify identity and add a bank."""
    if settings.PAYMENTS_PROVIDER != "stripe":
        raise ValidationFailed(
            "Payouts go through the sandbox here; add a bank account.", code="provider_not_stripe"
        )
    country = (country or "").upper()
    if len(country) != 2 or not country.isalpha():
        raise ValidationFailed("Choose the country of your bank.", field="country")
    provider = get_provider("stripe")
    method = PayoutMethod.objects.filter(
        owner=owner, provider="stripe", removed_at__isnull=True
    ).first()
    if method is None:
        account = provider.connect_account_create(
            email=owner.email, country=country, idempotency_key=f"connect:{owner.pk}"
        )
        method = PayoutMethod.objects.create(
            owner=owner, provider="stripe", destination=account, label="Stripe account"
        )
    url = provider.connect_onboarding_url(
        account=method.destination, refresh_url=refresh_url, return_url=return_url
    )
    return method, url


def payout_method_remove(*, owner, method_id: int) -> None:
    updated = PayoutMethod.objects.filter(
        pk=method_id, owner=owner, removed_at__isnull=True
    ).update(removed_at=timezone.now())
    if not updated:
        raise NotFound("No such payout method.")


def _check_payouts_allowed(owner) -> None:
    """Payouts wait for the seller's identity and trader details to be approved (EU DSA
    art. 30; see docs/trust.md). Trust is above payments: imported here, as a module."""
    from micromarket.trust.selectors import verification as trust_verification

    if not trust_verification.payouts_allowed(user=owner):
        raise PermissionDenied(
            "Payouts start once an operator has verified your identity and trader details. "
            "Send or check them at /settings/verification/.",
            code="verification_required",
        )


def payout_request(
    *, owner, amount: int, currency: str, method_id: int, idempotency_key: str
) -> Payout:
    """Pay ``amount`` of the seller's available balance out to one of their payout methods.
    The schedule's payout fee is taken from it; below the minimum is refused. The money leaves
    the available balance at once and is returned if the provider fails the payout."""
    _check_key(idempotency_key)
    _check_positive(amount)
    currency = currency_check(currency)
    method = PayoutMethod.objects.filter(pk=method_id, owner=owner, removed_at__isnull=True).first()
    if method is None:
        raise NotFound("No such payout method.", field="method")
    fingerprint = _fingerprint({"amount": amount, "currency": currency, "method": method.pk})
    existing = Payout.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
    if existing:
        if existing.fingerprint != fingerprint:
            raise _mismatch()
        return existing
    _check_payouts_allowed(owner)
    schedule = fees.schedule_at()
    fixed = fees.currency_fees(schedule, currency)
    if amount < fixed.payout_minimum:
        raise ValidationFailed(
            f"The smallest payout is {money_format(fixed.payout_minimum, currency)}.",
            code="below_minimum",
            field="amount",
        )
    if amount <= fixed.payout_fee:
        raise ValidationFailed("The payout must be larger than its fee.", field="amount")
    try:
        with transaction.atomic():
            payout = Payout.objects.create(
                owner=owner,
                method=method,
                amount=amount,
                fee=fixed.payout_fee,
                currency=currency,
                provider=method.provider,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
            )
            ledger.payout_hold(
                owner=owner,
                amount=amount,
                fee=payout.fee,
                currency=currency,
                reference=payout.reference,
                idempotency_key=f"{payout.reference}:hold",
            )
    except IntegrityError:
        existing = Payout.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        if existing.fingerprint != fingerprint:
            raise _mismatch() from None
        return existing
    from micromarket.payments.tasks import submit_payout

    transaction.on_commit(lambda: submit_payout.enqueue(payout.pk))
    return payout


def payout_submit(*, payout_id: int) -> Payout:
    """Ask the provider to send a requested payout (a task; safe to repeat: the provider gets
    the same idempotency key each time)."""
    payout = Payout.objects.select_related("method").get(pk=payout_id)
    if payout.status != PayoutStatus.REQUESTED:
        return payout
    try:
        result = get_provider(payout.provider).payout(
            destination=payout.method.destination,
            amount=payout.net,
            currency=payout.currency,
            description=f"micromarket payout {payout.pk}",
            idempotency_key=payout.reference,
        )
    except ProviderError:
        return payout  # the sweeper retries
    return payout_record_result(
        payout=payout,
        status=result.status,
        reference=result.reference,
        message=result.failure_message,
    )


def payout_record_result(
    *, payout: Payout, status: str, reference: str = "", message: str = ""
) -> Payout:
    """Apply the provider's word on a payout, once: paid → it leaves the books; failed → the
    whole amount, fee included, returns to the seller's available balance."""
    with transaction.atomic():
        payout = Payout.objects.select_for_update().get(pk=payout.pk)
        if payout.status in (PayoutStatus.PAID, PayoutStatus.FAILED):
            return payout
        if reference:
            payout.provider_reference = reference
        now = timezone.now()
        if status == "paid":
            ledger.payout_paid(
                net=payout.net,
                currency=payout.currency,
                reference=payout.reference,
                idempotency_key=f"{payout.reference}:paid",
            )
            payout.status = PayoutStatus.PAID
            payout.sent_at = payout.sent_at or now
            payout.settled_at = now
        elif status == "failed":
            ledger.payout_return(
                owner=payout.owner,
                amount=payout.amount,
                fee=payout.fee,
                currency=payout.currency,
                reason=message or "failed",
                reference=payout.reference,
                idempotency_key=f"{payout.reference}:failed",
            )
            payout.status = PayoutStatus.FAILED
            payout.failure_message = (message or "The provider could not pay it out.")[:300]
            payout.settled_at = now
        else:
            payout.status = PayoutStatus.IN_FLIGHT
            payout.sent_at = payout.sent_at or now
        payout.save()
        return payout


def payouts_poll(*, now: datetime | None = None) -> int:
    """Follow payouts at the provider: resubmit requested ones whose task was lost, settle the
    ones in flight that the provider has paid or failed."""
    now = now or timezone.now()
    done = 0
    lost = Payout.objects.filter(
        status=PayoutStatus.REQUESTED, created_at__lt=now - timedelta(minutes=5)
    )
    for pk in list(lost.values_list("pk", flat=True)[:200]):
        if payout_submit(payout_id=pk).status != PayoutStatus.REQUESTED:
            done += 1
    for payout in list(Payout.objects.filter(status=PayoutStatus.IN_FLIGHT)[:500]):
        try:
            result = get_provider(payout.provider).payout_retrieve(
                reference=payout.provider_reference
            )
        except ProviderError:
            continue
        if result.status in ("paid", "failed"):
            payout_record_result(
                payout=payout, status=result.status, message=result.failure_message
            )
            done += 1
    return done


def refunds_retry(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    # Only refunds the provider never accepted (no reference): one it holds as pending is
    # settled by its webhook, and asking to create it again could refund twice.
    pending = Refund.objects.filter(
        status=RefundStatus.PENDING,
        provider_reference="",
        created_at__lt=now - timedelta(minutes=5),
    )
    return sum(
        refund_submit(refund_id=pk).status != RefundStatus.PENDING
        for pk in list(pending.values_list("pk", flat=True)[:200])
    )


# ---------------------------------------------------------------------------------------------
# Webhooks


def webhook_receive(*, provider_name: str, payload: bytes, headers: dict[str, str]) -> str:
    """Verify and apply one provider event; each event id is applied once. Returns what was
    done (for the log and the response). Raises ``WebhookSignatureError`` when unverified."""
    event = get_provider(provider_name).webhook_event(payload=payload, headers=headers)
    # The event is stored and applied in one transaction: if applying fails, the row goes too
    # and the provider's retry applies it.
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = WebhookEvent.objects.create(
                    provider=provider_name,
                    event_id=event.id,
                    kind=event.kind,
                    raw_type=event.raw_type,
                    reference=event.reference,
                    payload=event.data,
                )
        except IntegrityError:
            return "duplicate event, already processed"
        outcome = _webhook_apply(provider_name, event)
        WebhookEvent.objects.filter(pk=row.pk).update(outcome=outcome[:300])
        return outcome


def _webhook_apply(provider_name: str, event) -> str:
    kind, ref = event.kind, event.reference
    if kind.startswith("charge."):
        payment = Payment.objects.filter(provider=provider_name, provider_reference=ref).first()
        if payment is None:
            return f"no payment {ref}"
        status = "succeeded" if kind == "charge.succeeded" else "declined"
        payment = payment_record_result(
            payment=payment,
            result=ChargeResult(
                status=status,
                reference=ref,
                amount=event.amount or payment.card_amount,
                currency=payment.currency,
                fee=event.fee,
                decline_message=event.failure_message,
            ),
        )
        return f"payment {payment.pk} {payment.status}"
    if kind.startswith("refund."):
        refund = Refund.objects.filter(provider_reference=ref).first()
        if refund is None:
            return f"no refund {ref}"
        refund = refund_record_result(
            refund=refund, status=kind.split(".")[1], reference=ref, message=event.failure_message
        )
        return f"refund {refund.pk} {refund.status}"
    if kind.startswith("payout."):
        payout = Payout.objects.filter(provider=provider_name, provider_reference=ref).first()
        if payout is None:
            return f"no payout {ref}"
        payout = payout_record_result(
            payout=payout, status=kind.split(".")[1], message=event.failure_message
        )
        return f"payout {payout.pk} {payout.status}"
    return f"ignored {event.raw_type}"


# ---------------------------------------------------------------------------------------------
# Reconciliation


def reconciliation_run(*, day: date, provider_name: str | None = None) -> ReconciliationRun:
    """Compare our records of one day (payments, card refunds, payouts) with the provider's,
    and check the ledger's own invariants. Differences are stored and operators emailed."""
    provider = get_provider(provider_name)
    tz = timezone.get_current_timezone()
    since = datetime.combine(day, time.min, tzinfo=tz)
    until = since + timedelta(days=1)
    theirs = {(r.kind, r.reference): r for r in provider.records(since=since, until=until)}
    ours: dict[tuple[str, str], tuple[int, str, int, str]] = {}
    for p in Payment.objects.filter(
        provider=provider.name, created_at__gte=since, created_at__lt=until
    ).exclude(provider_reference=""):
        ours[("charge", p.provider_reference)] = (
            p.card_amount,
            p.status,
            p.provider_fee,
            p.currency,
        )
    for r in Refund.objects.filter(
        payment__provider=provider.name, created_at__gte=since, created_at__lt=until
    ).exclude(provider_reference=""):
        ours[("refund", r.provider_reference)] = (r.total, r.status, 0, r.currency)
    for po in Payout.objects.filter(
        provider=provider.name, created_at__gte=since, created_at__lt=until
    ).exclude(provider_reference=""):
        ours[("payout", po.provider_reference)] = (po.net, po.status, 0, po.currency)

    diffs: list[ReconciliationDifference] = []
    matched = 0
    money_states = {"succeeded", "paid", "pending", "in_flight"}
    for key, (amount, status, fee, currency) in ours.items():
        record = theirs.get(key)
        kind, ref = key
        if record is None:
            if status in ("succeeded", "paid", "in_flight"):
                diffs.append(
                    ReconciliationDifference(
                        kind=ReconciliationDifference.Kind.MISSING_AT_PROVIDER,
                        currency=currency,
                        object_kind=kind,
                        reference=ref,
                        ours=amount,
                        detail=f"our {kind} is {status}",
                    )
                )
            continue
        if record.amount != amount or (kind == "charge" and record.fee != fee):
            diffs.append(
                ReconciliationDifference(
                    kind=ReconciliationDifference.Kind.AMOUNT,
                    currency=currency,
                    object_kind=kind,
                    reference=ref,
                    ours=amount,
                    theirs=record.amount,
                    detail=(
                        f"provider fee: ours {money_format(fee, currency)}, "
                        f"theirs {money_format(record.fee, currency)}"
                    )
                    if record.fee != fee
                    else "",
                )
            )
        elif (status in money_states) != (record.status in money_states):
            diffs.append(
                ReconciliationDifference(
                    kind=ReconciliationDifference.Kind.STATUS,
                    currency=currency,
                    object_kind=kind,
                    reference=ref,
                    ours=amount,
                    theirs=record.amount,
                    detail=f"ours {status}, theirs {record.status}",
                )
            )
        else:
            matched += 1
    for key, record in theirs.items():
        if key not in ours and record.status in ("succeeded", "paid", "pending"):
            diffs.append(
                ReconciliationDifference(
                    kind=ReconciliationDifference.Kind.MISSING_IN_LEDGER,
                    currency=record.currency,
                    object_kind=record.kind,
                    reference=record.reference,
                    theirs=record.amount,
                    detail=f"provider says {record.status}",
                )
            )
    problems = [f"{p.what}: {p.detail}" for p in ledger_selectors.ledger_verify()]
    with transaction.atomic():
        ReconciliationRun.objects.filter(provider=provider.name, day=day).delete()
        run = ReconciliationRun.objects.create(
            provider=provider.name,
            day=day,
            matched=matched,
            differences=len(diffs),
            ledger_problems=problems,
        )
        for d in diffs:
            d.run = run
        ReconciliationDifference.objects.bulk_create(diffs)
        if diffs or problems:
            _email_operators_about(run)
    return run


def _email_operators_about(run: ReconciliationRun) -> None:
    from micromarket.messaging import services as messaging_services

    day = run.day.isoformat()
    problems = f", {len(run.ledger_problems)} ledger problems" if run.ledger_problems else ""
    messaging_services.notify_operators(
        category="operations",
        title=f"Reconciliation of {day}: {run.differences} differences{problems}",
        body=f"The {run.provider} provider's records and ours differ; see the run's details.",
        url=f"/ops/finance/reconciliation/{run.pk}/",
        email_template="payments/email/reconciliation",
        context={"run": run},
    )


# ---------------------------------------------------------------------------------------------
# Operator settings


def fee_schedule_create(
    *,
    operator,
    effective_from: datetime,
    commission_bps: int,
    buyer_fee_bps: int,
    tip_platform_bps: int = 0,
    clearing_days: int = 14,
    category_commissions: dict[int, int] | None = None,
    currency_fees: dict[str, dict[str, int]] | None = None,
    note: str = "",
) -> FeeSchedule:
    """A new fee schedule from ``effective_from`` (not in the past: receipts already issued
    keep the fees they were priced with)."""
    if not operator.is_staff:
        raise PermissionDenied("Only operators set fees.")
    if effective_from < timezone.now() - timedelta(minutes=1):
        raise ValidationFailed("A fee schedule cannot start in the past.", field="effective_from")
    for name, value in (
        ("commission_bps", commission_bps),
        ("buyer_fee_bps", buyer_fee_bps),
        ("tip_platform_bps", tip_platform_bps),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10_000:
            raise ValidationFailed("A rate is between 0 and 100%.", field=name)
    if not 0 <= clearing_days <= 90:
        raise ValidationFailed("The clearing period is 0 to 90 days.", field="clearing_days")
    with transaction.atomic():
        schedule = FeeSchedule.objects.create(
            effective_from=effective_from,
            commission_bps=commission_bps,
            buyer_fee_bps=buyer_fee_bps,
            tip_platform_bps=tip_platform_bps,
            clearing_days=clearing_days,
            note=note[:200],
            created_by=operator,
        )
        for category_id, bps in (category_commissions or {}).items():
            if not 0 <= bps <= 10_000:
                raise ValidationFailed(
                    "A rate is between 0 and 100%.", field="category_commissions"
                )
            CategoryCommission.objects.create(
                schedule=schedule, category_id=category_id, commission_bps=bps
            )
        for currency, amounts in (currency_fees or {}).items():
            CurrencyFees.objects.create(
                schedule=schedule, currency=currency_check(currency), **amounts
            )
    return schedule


def sandbox_control_set(
    *, operator, fail_charges: bool, fail_refunds: bool, fail_payouts: bool
) -> SandboxControl:
    if not operator.is_staff:
        raise PermissionDenied("Only operators change the sandbox.")
    control = SandboxControl.current()
    control.fail_charges = fail_charges
    control.fail_refunds = fail_refunds
    control.fail_payouts = fail_payouts
    control.save()
    return control


def sandbox_authenticate(*, reference: str, approve: bool) -> str:
    """The buyer's answer on the sandbox's confirmation page. Records the payment's outcome
    at once (a real provider would also send a webhook) and returns where to send the buyer."""
    from micromarket.payments.providers.sandbox import SandboxProvider

    back = SandboxProvider().authenticate(reference=reference, approve=approve)
    payment = Payment.objects.filter(provider="sandbox", provider_reference=reference).first()
    if payment is not None:
        payment_refresh(payment=payment)
    return back


def escrow_close(
    *,
    reference: str,
    buyer_amount: int,
    reason: str,
    idempotency_key: str,
    clearing_days: int | None = None,
) -> None:
    """End what is held for an order the way its process decided: ``buyer_amount`` of the price
    back to the buyer, the rest to the seller (0 = release, all = full refund). The refund goes
    to the card that paid, or as buyer credit where the card paid less (credit at checkout)."""
    line = _line_for(reference)
    held = line.escrow.subtotal - line.escrow.refunded_subtotal
    if buyer_amount > held:
        raise ValidationFailed("That is more than is held for the order.", field="amount")
    if buyer_amount == 0:
        escrow_release(
            reference=reference, idempotency_key=idempotency_key, clearing_days=clearing_days
        )
        return
    for to in ("card", "credit"):
        try:
            with transaction.atomic():
                if buyer_amount == held:
                    refund_create(
                        reference=reference,
                        amount=buyer_amount,
                        to=to,
                        reason=reason,
                        idempotency_key=f"{idempotency_key}:{to}",
                    )
                else:
                    escrow_settlement(
                        reference=reference,
                        buyer_amount=buyer_amount,
                        to=to,
                        reason=reason,
                        idempotency_key=f"{idempotency_key}:{to}",
                        clearing_days=clearing_days,
                    )
            return
        except ValidationFailed as exc:
            if exc.code != "card_refund_exceeds_charge":
                raise
