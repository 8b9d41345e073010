"""Orders: checkout, the one service that moves an order through its process, deadlines.

- ``checkout_place`` prices the buyer's items, creates one order per seller (per booking) in
  ``pending_payment`` with the seats, dates or stock reserved under locks, then charges one
  payment with one escrow per order. An order counts as placed only after the payment
  succeeded (``checkout_sync`` applies ``pay``); a failed payment releases everything.
- ``order_transition`` is the only code that changes ``Order.state``: lock the order, check the
  actor and the state, run the guard and the effects, record an ``OrderEvent``, set the next
  deadline, email the other party after commit — all in one transaction.
- ``deadlines_apply`` is the sweeper's job: due automatic transitions, each applied once under
  the order's row lock (several workers may run it).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from micromarket.catalog import services as catalog_services
from micromarket.core.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from micromarket.messaging import services as messaging_services
from micromarket.orders import pricing, rules
from micromarket.orders.models import CartItem, Checkout, Order, OrderEvent, OrderItem
from micromarket.orders.processes import (
    BUYER,
    OPERATOR,
    PENDING_PAYMENT,
    SYSTEM,
    deadline_for,
    process_for,
)
from micromarket.orders.selectors import order_role
from micromarket.payments import selectors as payment_selectors
from micromarket.payments import services as payments
from micromarket.payments.services import OrderCharge

logger = logging.getLogger(__name__)

MAX_CHAINED = 5  # immediate automatic steps after one transition (paid → delivered …)
UNPAID_CHECKOUT_TIMEOUT = timedelta(minutes=30)  # crashed before the payment was started
CONFIRMATION_WINDOW = timedelta(minutes=30)  # to confirm a payment (3-D Secure) at checkout


# ---------------------------------------------------------------------------------------------
# Who is asking


# ---------------------------------------------------------------------------------------------
# Transitions


def _json_safe(data: dict) -> dict:
    return {k: v for k, v in data.items() if isinstance(v, str | int | float | bool | list)}


def _who(actors) -> str:
    names = sorted(a for a in actors if a != SYSTEM)
    return " or ".join(names) if names else "system"


def _notify(order: Order, event: OrderEvent, transition, role: str) -> None:
    for party in sorted(transition.notify):
        if party == role:
            continue
        user = order.buyer if party == BUYER else order.seller
        state_label = process_for(order.kind).states[order.state]
        path = reverse("orders:detail", args=[order.pk])
        messaging_services.notification_send(
            user=user,
            category="orders",
            title=f"Order {order.pk}: {transition.past}"[:200],
            body=f"{order.title} — now {state_label.lower()}",
            url=path,
            email_template="orders/email/transition",
            context={
                "order": order,
                "event": event,
                "transition": transition,
                "recipient_role": party,
                "state_label": state_label,
                "path": path,
            },
        )


def _apply(order: Order, *, name: str, actor, data: dict, now: datetime) -> Order:
    """Apply one transition to a locked order (inside the caller's transaction)."""
    process = process_for(order.kind)
    role = order_role(order, actor)  # first: a stranger learns nothing, not even the steps
    transition = process.transitions.get(name)
    if transition is None:
        raise ValidationFailed(
            f"An order of this kind has no step called “{name}”.", code="unknown_transition"
        )
    if role not in transition.actors:
        if role in (SYSTEM, OPERATOR):
            raise PermissionDenied(f"Only the {_who(transition.actors)} can do that.")
        raise PermissionDenied(
            f"Only the {_who(transition.actors)} can “{transition.label.lower()}”.",
            code="wrong_party",
        )
    if order.state not in transition.sources:
        raise Conflict(
            f"“{transition.label}” is not possible while the order is "
            f"{process.states[order.state].lower()}.",
            code="illegal_transition",
        )
    ctx = rules.Ctx(order=order, actor=actor, role=role, transition=transition, now=now)
    if transition.guard and (reason := transition.guard(ctx)):
        raise Conflict(reason, code="not_allowed_now")
    ctx.data = transition.needs(data or {}, order) if transition.needs else {}
    from_state = order.state
    event = OrderEvent.objects.create(
        order=order,
        transition=name,
        actor=actor,
        role=role,
        from_state=from_state,
        to_state=transition.target or from_state,
        message=str(ctx.data.get("message", "")),
        created_at=now,
    )
    ctx.event = event
    for effect in transition.effects:
        effect(ctx)
    if transition.target and transition.target != from_state:
        order.state = transition.target
        answer = process.transitions.get("accept_cancellation")
        if answer is None or order.state not in answer.sources:
            order.cancellation_requested_by = None  # nobody can answer it any more
        due = deadline_for(process, order, now)
        order.deadline_at, order.deadline_transition = due if due else (None, "")
        if order.state in process.terminal:
            order.closed_at = now
            order.deadline_at, order.deadline_transition = None, ""
    order.updated_at = now
    order.save()
    event.data = _json_safe(ctx.data)
    event.save(update_fields=["data"])
    _notify(order, event, transition, role)
    return order


def order_transition(
    *, order_id: int, name: str, actor, data: dict | None = None, now: datetime | None = None
) -> Order:
    """Apply the transition ``name`` to the order as ``actor`` (None: the system), then any
    automatic step that is due at once. Raises NotFound (not a party), PermissionDenied (the
    wrong party), Conflict (not possible in this state, or its guard refuses), ValidationFailed
    (bad input) — and then nothing has changed."""
    now = now or timezone.now()
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",))  # not the buyer's and seller's rows
            .select_related("buyer", "seller")
            .filter(pk=order_id)
            .first()
        )
        if order is None:
            raise NotFound("There is no such order.")
        order = _apply(order, name=name, actor=actor, data=data or {}, now=now)
        for _ in range(MAX_CHAINED):
            if not (order.deadline_at and order.deadline_at <= now):
                break
            order = _apply(order, name=order.deadline_transition, actor=None, data={}, now=now)
        return order


def order_deadline_apply(*, order_id: int, now: datetime | None = None) -> bool:
    """Apply the order's automatic transition if it is due; False when it is not (another
    worker applied it, or the order moved on)."""
    now = now or timezone.now()
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",))  # not the buyer's and seller's rows
            .select_related("buyer", "seller")
            .filter(pk=order_id, deadline_at__lte=now)
            .exclude(deadline_transition="")
            .first()
        )
        if order is None:
            return False
        order = _apply(order, name=order.deadline_transition, actor=None, data={}, now=now)
        for _ in range(MAX_CHAINED):  # immediate steps, as after order_transition
            if not (order.deadline_at and order.deadline_at <= now):
                break
            order = _apply(order, name=order.deadline_transition, actor=None, data={}, now=now)
        return True


def deadlines_apply(*, now: datetime | None = None, limit: int = 500) -> int:
    """The sweeper's job: every due automatic transition, once each."""
    now = now or timezone.now()
    due = list(
        Order.objects.filter(deadline_at__lte=now)
        .exclude(deadline_transition="")
        .order_by("deadline_at")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for pk in due:
        try:
            done += order_deadline_apply(order_id=pk, now=now)
        except Exception:  # one broken order must not hold up the others; retried next run
            logger.exception("automatic transition of order %s failed", pk)
    return done


# ---------------------------------------------------------------------------------------------
# Checkout


def _fingerprint(params: dict) -> str:
    text = json.dumps(params, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _stock_key(line: pricing.Line) -> tuple[int, int]:
    return line.offer.pk, line.variation.pk if line.variation else 0


def _lock_order(group: pricing.Group) -> tuple:
    """Checkouts reserve (lock) seats, dates and stock in this order, the same for everyone,
    so two carts holding the same things in another order do not deadlock."""
    line = group.first
    return line.seller.pk, line.kind, line.offer.pk, line.session.pk if line.session else 0


def _reserve(order: Order, group: pricing.Group) -> None:
    """Take the order's seats, dates or stock — or raise Conflict and take nothing (the
    caller's transaction rolls back)."""
    line = group.first
    if order.kind == "experience":
        session = catalog_services.session_lock(session_id=line.session.pk)
        if session.cancelled_at is not None:
            raise Conflict("That session has been cancelled.", code="session_cancelled")
        taken = sum(
            Order.objects.filter(session_id=session.pk, state__in=process_for("experience").active)
            .exclude(pk=order.pk)  # this order's own seats are counted below
            .values_list("seats", flat=True)
        )
        if taken + order.seats > session.capacity:
            left = max(session.capacity - taken, 0)
            raise Conflict(
                f"Only {left} seat{'s' if left != 1 else ''} left for that session."
                if left
                else "That session is full.",
                code="sold_out",
                field="seats",
            )
    elif order.kind == "rental":
        offer = catalog_services.offer_lock(offer_id=order.offer_id)
        blocked = any(
            pricing._midnight(b.start) < order.ends_at
            and pricing._midnight(b.end) > order.starts_at
            for b in offer.blocks.all()
        )
        booked = Order.objects.filter(
            offer_id=offer.pk,
            kind="rental",
            state__in=process_for("rental").active,
            starts_at__lt=order.ends_at,
            ends_at__gt=order.starts_at,
        ).exclude(pk=order.pk)
        if blocked or booked.exists():
            raise Conflict(
                "Those dates are no longer available.", code="dates_taken", field="start"
            )
    elif line.custom_offer is not None:
        messaging_services.custom_offer_reserve(
            custom_offer_id=line.custom_offer,
            buyer_id=order.buyer_id,
            order_id=order.pk,
            now=order.created_at,
        )
    elif order.kind == "physical":
        for item in sorted(group.lines, key=_stock_key):  # a fixed order: no deadlock
            catalog_services.stock_reserve(
                offer_id=item.offer.pk,
                variation_id=item.variation.pk if item.variation else None,
                quantity=item.quantity,
            )


def _order_create(
    checkout: Checkout,
    group: pricing.Group,
    *,
    address: str,
    country: str,
    note: str,
    now: datetime,
) -> Order:
    line = group.first
    days = [item.delivery_days or 0 for item in group.lines]  # a parcel waits for its slowest item
    order = Order.objects.create(
        checkout=checkout,
        buyer=checkout.buyer,
        seller=line.seller,
        offer=line.offer,
        kind=line.kind,
        state=PENDING_PAYMENT,
        title=group.title,
        currency=checkout.currency,
        subtotal=group.subtotal,
        shipping=group.shipping,
        deposit=group.deposit,
        requirements=line.questions,
        delivery_days=max(days) if line.kind == "physical" else line.delivery_days,
        revisions_allowed=line.revisions,
        session=line.session,
        seats=line.quantity if line.kind == "experience" else 0,
        starts_at=line.starts_at,
        ends_at=line.ends_at,
        cancellation_policy=line.policy,
        instant_booking=line.instant,
        hourly_rate=line.hourly_rate,
        minutes_booked=line.minutes_booked,
        address=line.address or (address if line.kind == "physical" else ""),
        ship_country=country if line.kind == "physical" else "",
        note=note,
        created_at=now,
        updated_at=now,
    )
    OrderItem.objects.bulk_create(
        [
            OrderItem(
                order=order,
                offer=item.offer,
                description=item.description[:300],
                package=item.package,
                variation=item.variation,
                extras=item.extras,
                unit_price=item.unit_price,
                quantity=item.quantity,
                amount=item.amount,
            )
            for item in group.lines
        ]
    )
    OrderEvent.objects.create(
        order=order,
        transition="create",
        actor=checkout.buyer,
        role=BUYER,
        from_state="",
        to_state=PENDING_PAYMENT,
        created_at=now,
    )
    _reserve(order, group)
    return order


def _charges(orders: list[Order]) -> list[OrderCharge]:
    charges = []
    for order in orders:
        category = order.offer.category if order.offer_id else order.category
        charges.append(
            OrderCharge(
                reference=order.reference,
                seller=order.seller,
                subtotal=order.subtotal,
                description=f"Order {order.pk}: {order.title}"[:200],
                category_id=category.pk,
                parent_category_id=category.parent_id,
            )
        )
        if order.deposit:
            charges.append(
                OrderCharge(
                    reference=order.deposit_reference,
                    seller=order.seller,
                    subtotal=order.deposit,
                    description=f"Order {order.pk}: security deposit",
                    fee_free=True,
                )
            )
    return charges


def checkout_place(
    *,
    buyer,
    items: list[dict],
    payment_method: str,
    idempotency_key: str,
    return_url: str,
    credit: int = 0,
    address: str = "",
    country: str = "",
    note: str = "",
    cart_item_ids: list[int] | None = None,
    now: datetime | None = None,
) -> Checkout:
    """Order ``items`` and pay for them in one payment (see the module docstring).

    The same ``idempotency_key`` returns the first checkout; with other items it is refused.
    Sold out, taken dates or a full session raise Conflict before anything is charged."""
    now = now or timezone.now()
    if not idempotency_key or len(idempotency_key) > 160:
        raise ValidationFailed("An idempotency key of 1–160 characters is required.")
    address, country = address.strip()[: pricing.MAX_ADDRESS], country.strip().upper()[:2]
    fingerprint = _fingerprint(
        {
            "items": items,
            "method": payment_method,
            "credit": credit,
            "address": address,
            "country": country,
            "note": note,
        }
    )
    existing = Checkout.objects.filter(buyer=buyer, idempotency_key=idempotency_key).first()
    if existing is None:
        groups = pricing.lines_grouped(buyer=buyer, items=items, country=country, now=now)
        try:
            with transaction.atomic():
                checkout = Checkout.objects.create(
                    buyer=buyer,
                    idempotency_key=idempotency_key,
                    fingerprint=fingerprint,
                    currency=groups[0].first.offer.currency,
                    from_cart=bool(cart_item_ids),
                    cart_item_ids=cart_item_ids or [],
                    created_at=now,
                )
                for group in sorted(groups, key=_lock_order):  # locks in a fixed order
                    _order_create(
                        checkout, group, address=address, country=country, note=note, now=now
                    )
        except IntegrityError:
            existing = Checkout.objects.filter(buyer=buyer, idempotency_key=idempotency_key).first()
            if existing is None:
                raise
    if existing is not None:
        if existing.fingerprint != fingerprint:
            raise ValidationFailed(
                "This idempotency key was already used for another checkout.",
                code="idempotency_mismatch",
            )
        checkout = existing
        if checkout.payment_id or checkout.status != Checkout.Status.PENDING:
            return checkout_sync(checkout_id=checkout.pk, now=now)
    return _checkout_pay(
        checkout,
        payment_method=payment_method,
        return_url=return_url,
        credit=credit,
        now=now,
    )


def _checkout_pay(
    checkout: Checkout, *, payment_method: str, return_url: str, credit: int, now: datetime
) -> Checkout:
    """Charge one payment for the checkout's orders (one escrow each), then sync."""
    buyer = checkout.buyer
    orders = list(checkout.orders.select_related("seller", "offer__category", "category"))
    try:
        payment = payments.payment_start(
            buyer=buyer,
            currency=checkout.currency,
            orders=_charges(orders),
            payment_method=payment_method,
            idempotency_key=_payment_key(checkout),
            return_url=return_url,
            credit=credit,
        )
    except DomainError as exc:
        _checkout_fail(checkout, message=exc.message, now=now)
        raise
    Checkout.objects.filter(pk=checkout.pk).update(payment=payment)
    return checkout_sync(checkout_id=checkout.pk, now=now)


@dataclass(frozen=True)
class Milestone:
    """A unit of work to order without an offer (a project's task, in the projects app).

    ``origin`` is the caller's key for what the order pays for (``projects.assignment:12``);
    ``origin_url`` is the page about it. ``amount`` is the seller's price in minor units."""

    origin: str
    origin_url: str
    seller: object
    title: str
    amount: int
    category_id: int
    delivery_days: int
    revisions: int
    brief: str


def milestone_checkout_create(
    *,
    buyer,
    milestones: list[Milestone],
    currency: str,
    idempotency_key: str,
    payment_method: str = "",
    credit: int = 0,
    now: datetime | None = None,
) -> Checkout:
    """The checkout for ``milestones``: one order of the ``milestone`` process each, waiting
    for payment (``checkout_pay`` charges it). One transaction, so a caller can link its own
    rows to the orders in the same transaction. The same ``idempotency_key`` returns the first
    checkout; with other milestones, method or credit it is refused."""
    now = now or timezone.now()
    if not idempotency_key or len(idempotency_key) > 160:
        raise ValidationFailed("An idempotency key of 1–160 characters is required.")
    if not milestones:
        raise ValidationFailed("There is nothing to pay for.")
    if len({m.origin for m in milestones}) != len(milestones):
        raise ValidationFailed("Each piece of work can be paid once per payment.")
    for m in milestones:
        if m.amount <= 0:
            raise ValidationFailed("A price must be more than zero.", field="amount")
        if m.seller.pk == buyer.pk:
            raise ValidationFailed("You cannot buy from yourself.", code="self_dealing")
    fingerprint = _fingerprint(
        {
            "milestones": [(m.origin, m.seller.pk, m.amount) for m in milestones],
            "currency": currency,
            "method": payment_method,
            "credit": credit,
        }
    )
    existing = Checkout.objects.filter(buyer=buyer, idempotency_key=idempotency_key).first()
    if existing is None:
        try:
            with transaction.atomic():
                checkout = Checkout.objects.create(
                    buyer=buyer,
                    idempotency_key=idempotency_key,
                    fingerprint=fingerprint,
                    currency=currency,
                    created_at=now,
                )
                for m in milestones:
                    order = Order.objects.create(
                        checkout=checkout,
                        buyer=buyer,
                        seller=m.seller,
                        offer=None,
                        category_id=m.category_id,
                        origin=m.origin[:60],
                        origin_url=m.origin_url[:200],
                        kind=Order.Kind.MILESTONE,
                        state=PENDING_PAYMENT,
                        title=m.title[:200],
                        currency=currency,
                        subtotal=m.amount,
                        delivery_days=m.delivery_days,
                        revisions_allowed=m.revisions,
                        note=m.brief,
                        created_at=now,
                        updated_at=now,
                    )
                    OrderEvent.objects.create(
                        order=order,
                        transition="create",
                        actor=buyer,
                        role=BUYER,
                        from_state="",
                        to_state=PENDING_PAYMENT,
                        created_at=now,
                    )
                return checkout
        except IntegrityError:
            existing = Checkout.objects.filter(buyer=buyer, idempotency_key=idempotency_key).first()
            if existing is None:
                raise
    if existing.fingerprint != fingerprint:
        raise ValidationFailed(
            "This idempotency key was already used for another checkout.",
            code="idempotency_mismatch",
        )
    return existing


def checkout_pay(
    *,
    checkout_id: int,
    buyer,
    payment_method: str,
    return_url: str,
    credit: int = 0,
    now: datetime | None = None,
) -> Checkout:
    """Charge a checkout made by ``milestone_checkout_create`` (once: a checkout whose payment
    started is only synced)."""
    now = now or timezone.now()
    checkout = Checkout.objects.filter(pk=checkout_id, buyer=buyer).first()
    if checkout is None:
        raise NotFound("There is no such checkout.")
    if checkout.payment_id or checkout.status != Checkout.Status.PENDING:
        return checkout_sync(checkout_id=checkout.pk, now=now)
    return _checkout_pay(
        checkout, payment_method=payment_method, return_url=return_url, credit=credit, now=now
    )


def milestone_checkout_place(
    *,
    buyer,
    milestones: list[Milestone],
    currency: str,
    payment_method: str,
    idempotency_key: str,
    return_url: str,
    credit: int = 0,
    now: datetime | None = None,
) -> Checkout:
    """Order and pay for ``milestones`` in one payment, each an order of the ``milestone``
    process with its own escrow: ``milestone_checkout_create`` then ``checkout_pay``. The
    payment may need the buyer's extra step (``checkout.payment.action_url``)."""
    checkout = milestone_checkout_create(
        buyer=buyer,
        milestones=milestones,
        currency=currency,
        idempotency_key=idempotency_key,
        payment_method=payment_method,
        credit=credit,
        now=now,
    )
    return checkout_pay(
        checkout_id=checkout.pk,
        buyer=buyer,
        payment_method=payment_method,
        return_url=return_url,
        credit=credit,
        now=now,
    )


def _checkout_fail(checkout: Checkout, *, message: str, now: datetime | None = None) -> None:
    with transaction.atomic():
        updated = Checkout.objects.filter(pk=checkout.pk, status=Checkout.Status.PENDING).update(
            status=Checkout.Status.FAILED, failure_message=message[:300]
        )
        if not updated:
            return
        for order_id in checkout.orders.filter(state=PENDING_PAYMENT).values_list("pk", flat=True):
            order_transition(order_id=order_id, name="payment_fail", actor=None, now=now)


def _payment_key(checkout: Checkout) -> str:
    return f"checkout:{checkout.pk}"


def checkout_sync(
    *, checkout_id: int, give_up_unlinked: bool = False, now: datetime | None = None
) -> Checkout:
    """Bring the checkout's orders in line with its payment: placed when it succeeded,
    released when it failed; unchanged while the buyer still has a step to take."""
    checkout = Checkout.objects.select_related("payment").get(pk=checkout_id)
    if checkout.status != Checkout.Status.PENDING:
        return checkout
    payment = checkout.payment
    if payment is None:
        # The process stopped between charging and linking: find the payment by its key.
        payment = payment_selectors.payment_for_key(
            buyer=checkout.buyer, idempotency_key=_payment_key(checkout)
        )
        if payment is None:
            if give_up_unlinked:  # never reached the provider: release the reservations
                _checkout_fail(checkout, message="The payment was never started.", now=now)
            return Checkout.objects.select_related("payment").get(pk=checkout.pk)
        Checkout.objects.filter(pk=checkout.pk).update(payment=payment)
    if payment.status == "succeeded":
        with transaction.atomic():
            if not Checkout.objects.filter(pk=checkout.pk, status=Checkout.Status.PENDING).update(
                status=Checkout.Status.PAID
            ):
                return Checkout.objects.get(pk=checkout.pk)
            for order_id in checkout.orders.filter(state=PENDING_PAYMENT).values_list(
                "pk", flat=True
            ):
                order_transition(order_id=order_id, name="pay", actor=None, now=now)
            if checkout.cart_item_ids:
                CartItem.objects.filter(
                    buyer=checkout.buyer_id, pk__in=checkout.cart_item_ids
                ).delete()
    elif payment.status in ("declined", "cancelled"):
        _checkout_fail(checkout, message=payment.decline_message or "The payment failed.", now=now)
    return Checkout.objects.select_related("payment").get(pk=checkout.pk)


def checkouts_sync(*, now: datetime | None = None) -> int:
    """The sweeper's job: checkouts whose payment finished elsewhere (a webhook, the provider's
    confirmation page, the stale-payment job), and checkouts that never reached the provider."""
    now = now or timezone.now()
    done = 0
    pending = Checkout.objects.filter(status=Checkout.Status.PENDING)
    finished = pending.filter(
        payment__status__in=("succeeded", "declined", "cancelled")
    ).values_list("pk", flat=True)
    # A confirmation the buyer abandoned must not hold seats, dates or stock for long.
    for payment_id in pending.filter(
        payment__status__in=("created", "requires_action", "processing"),
        created_at__lt=now - CONFIRMATION_WINDOW,
    ).values_list("payment_id", flat=True)[:200]:
        try:
            payments.payment_cancel(payment_id=payment_id)
        except Exception:
            logger.exception("withdrawing the payment %s of a checkout failed", payment_id)
    unlinked = pending.filter(payment__isnull=True, created_at__lt=now - UNPAID_CHECKOUT_TIMEOUT)
    for pk in list(finished[:200]) + list(unlinked.values_list("pk", flat=True)[:200]):
        try:
            checkout_sync(checkout_id=pk, give_up_unlinked=True, now=now)
        except Exception:  # one broken checkout must not hold up the others
            logger.exception("syncing checkout %s failed", pk)
            continue
        done += 1
    return done


def checkout_return(*, checkout_id: int, buyer) -> Checkout:
    """The buyer is back from the provider's extra step: ask the provider, then sync."""
    checkout = (
        Checkout.objects.select_related("payment").filter(pk=checkout_id, buyer=buyer).first()
    )
    if checkout is None:
        raise NotFound("There is no such checkout.")
    if checkout.payment is not None:
        payments.payment_refresh(payment=checkout.payment)
    return checkout_sync(checkout_id=checkout.pk)


# ---------------------------------------------------------------------------------------------
# Experience sessions


def session_cancel(*, session_id: int, actor, message: str = "") -> int:
    """The seller calls a session off: it is closed to new bookings and every attendee is
    refunded in full. Returns how many bookings were cancelled."""
    with transaction.atomic():
        session = catalog_services.experience_session_cancel(session_id=session_id, actor=actor)
        order_ids = list(
            Order.objects.filter(session_id=session.pk, state="booked").values_list("pk", flat=True)
        )
        for order_id in order_ids:
            order_transition(
                order_id=order_id,
                name="seller_cancel",
                actor=actor,
                data={"message": message or "The session was cancelled by the host."},
            )
    return len(order_ids)


# ---------------------------------------------------------------------------------------------
# Cart


def cart_add(*, buyer, item: dict) -> CartItem:
    """Put an item in the buyer's cart after checking it prices (it is checked again at
    checkout, when stock, seats and dates are reserved)."""
    line = pricing.line_for(buyer=buyer, item=item)
    spec = {k: v for k, v in item.items() if k != "offer"}
    if CartItem.objects.filter(buyer=buyer).count() >= 50:
        raise ValidationFailed("Your cart is full (50 items).", code="cart_full")
    return CartItem.objects.create(buyer=buyer, offer=line.offer, spec=spec)


def cart_remove(*, buyer, item_id: int) -> None:
    deleted, _ = CartItem.objects.filter(buyer=buyer, pk=item_id).delete()
    if not deleted:
        raise NotFound("That item is not in your cart.")
