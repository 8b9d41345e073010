"""Reads of orders used by pages, the API and other apps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from micromarket.catalog import selectors as catalog_selectors
from micromarket.catalog import services as catalog_services
from micromarket.core.errors import DomainError, NotFound
from micromarket.ledger import selectors as ledger_selectors
from micromarket.orders import pricing, rules
from micromarket.orders.models import CartItem, Checkout, DeliveryFile, Order
from micromarket.orders.processes import (
    BUYER,
    OPERATOR,
    PAYMENT_FAILED,
    PENDING_PAYMENT,
    SELLER,
    SYSTEM,
    process_for,
)
from micromarket.payments import selectors as payment_selectors


def order_role(order: Order, user) -> str:
    """``buyer``, ``seller`` or ``operator`` for ``user`` on ``order``; NotFound for anyone
    else, so an order's existence does not leak."""
    if user is None:
        return SYSTEM
    if not getattr(user, "is_authenticated", False):
        raise NotFound("There is no such order.")
    if user.pk == order.buyer_id:
        return BUYER
    if user.pk == order.seller_id:
        return SELLER
    if user.is_staff:
        return OPERATOR
    raise NotFound("There is no such order.")


def order_for_user(*, order_id: int, user) -> Order:
    """The order if ``user`` is its buyer, its seller or an operator; NotFound otherwise.
    A seller does not see an order before it is paid."""
    order = (
        Order.objects.select_related("buyer", "seller", "offer", "session", "checkout__payment")
        .prefetch_related("items", "events__actor", "deliveries__files")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise NotFound("There is no such order.")
    role = order_role(order, user)
    if role == "seller" and order.state in (PENDING_PAYMENT, PAYMENT_FAILED):
        raise NotFound("There is no such order.")
    return order


def transitions_available(*, order: Order, user, now=None) -> list:
    """The transitions ``user`` may take on ``order`` right now (guards checked, input not)."""
    from django.utils import timezone

    role = order_role(order, user)
    ctx = rules.Ctx(order=order, actor=user, role=role, transition=None, now=now or timezone.now())
    available = []
    for transition in process_for(order.kind).transitions.values():
        if role not in transition.actors or order.state not in transition.sources:
            continue
        ctx.transition = transition
        if transition.guard and transition.guard(ctx):
            continue
        available.append(transition)
    return available


def orders_for_buyer(*, buyer) -> QuerySet[Order]:
    return Order.objects.filter(buyer=buyer).select_related("seller", "offer").order_by("-id")


def orders_for_seller(*, seller) -> QuerySet[Order]:
    return (
        Order.objects.filter(seller=seller)
        .exclude(state__in=(PENDING_PAYMENT, PAYMENT_FAILED))
        .select_related("buyer", "offer")
        .order_by("-id")
    )


def orders_exist_between(*, user_a_id: int, user_b_id: int) -> bool:
    """Have the two ever had a placed (paid) order together, either way round?"""
    return Order.objects.filter(
        Q(buyer_id=user_a_id, seller_id=user_b_id) | Q(buyer_id=user_b_id, seller_id=user_a_id),
        placed_at__isnull=False,
    ).exists()


def cart_for_buyer(*, buyer) -> QuerySet[CartItem]:
    return CartItem.objects.filter(buyer=buyer).select_related("offer").order_by("pk")


# --- API reads (orders.api) -------------------------------------------------------------------


def orders_for_user(
    *, user, role: str = "buyer", state: str | None = None, kind: str | None = None
):
    """The orders ``user`` bought (``role="buyer"``) or sold (``"seller"``: paid ones only),
    newest first, optionally in one state or of one kind."""
    orders = orders_for_seller(seller=user) if role == "seller" else orders_for_buyer(buyer=user)
    if state:
        orders = orders.filter(state=state)
    if kind:
        orders = orders.filter(kind=kind)
    return orders.select_related("buyer", "seller")


def checkout_for_buyer(*, checkout_id: int, buyer):
    """The buyer's checkout with its payment; NotFound for anyone else's."""
    checkout = (
        Checkout.objects.select_related("payment").filter(pk=checkout_id, buyer=buyer).first()
        if getattr(buyer, "is_authenticated", False)
        else None
    )
    if checkout is None:
        raise NotFound("There is no such checkout.")
    return checkout


def checkout_orders(*, checkout) -> list[Order]:
    """The checkout's orders, loaded as ``order_for_user`` loads one."""
    return list(
        Order.objects.filter(checkout_id=checkout.pk)
        .select_related("buyer", "seller", "offer", "session", "checkout__payment")
        .prefetch_related("items__package", "events__actor", "deliveries__files")
        .order_by("pk")
    )


# --- pages (orders.views): checkout preview, cart, order box, money, calendar -----------------


def order_item_check(*, buyer, item: dict, now=None):
    """Price one item as the checkout would (ValidationFailed/NotFound when it cannot be
    ordered as chosen); nothing is reserved."""
    return pricing.line_for(buyer=buyer, item=item, now=now)


@dataclass
class PreviewOrder:
    """One order a checkout would create and what the buyer pays for it."""

    lines: list  # pricing.Line
    shipping: int | None  # None: not known until the buyer chooses the country
    deposit: int
    fee: object  # payments FeeQuote of the price (items and shipping)

    @property
    def first(self):
        return self.lines[0]

    @property
    def kind(self) -> str:
        return self.first.kind

    @property
    def offer(self):
        return self.first.offer

    @property
    def seller(self):
        return self.first.offer.seller

    @property
    def items_amount(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def subtotal(self) -> int:
        return self.items_amount + (self.shipping or 0)

    @property
    def service_fee(self) -> int:
        return self.fee.service_fee

    @property
    def total(self) -> int:
        return self.fee.total + self.deposit

    @property
    def policy_text(self) -> str:
        return rules.POLICY_TEXT.get(self.first.policy, "")


@dataclass
class CheckoutPreview:
    orders: list[PreviewOrder]
    currency: str
    needs_address: bool
    shipping_known: bool

    @property
    def items_amount(self) -> int:
        return sum(o.items_amount for o in self.orders)

    @property
    def shipping(self) -> int:
        return sum(o.shipping or 0 for o in self.orders)

    @property
    def service_fee(self) -> int:
        return sum(o.service_fee for o in self.orders)

    @property
    def deposit(self) -> int:
        return sum(o.deposit for o in self.orders)

    @property
    def total(self) -> int:
        return sum(o.total for o in self.orders)


def checkout_preview(*, buyer, items: list[dict], country: str = "", now=None) -> CheckoutPreview:
    """What ``checkout_place`` would create for ``items`` and what the buyer would pay: one
    entry per order with its lines, shipping (None until a country is chosen), deposit (held,
    fee-free) and the service fee of the fees in effect now. Raises the pricing errors."""
    country = (country or "").strip().upper()[:2]
    shipping_known = bool(country)
    groups = pricing.lines_grouped(buyer=buyer, items=items, country=country or None, now=now)
    schedule = payment_selectors.schedule_at()
    currency = groups[0].first.offer.currency
    orders = []
    for group in groups:
        offer = group.first.offer
        physical = group.first.kind == "physical"
        shipping = group.shipping if shipping_known or not physical else None
        subtotal = group.subtotal if shipping is not None else group.subtotal - group.shipping
        orders.append(
            PreviewOrder(
                lines=group.lines,
                shipping=shipping if physical else 0,
                deposit=group.deposit,
                fee=payment_selectors.fee_quote(
                    subtotal=subtotal,
                    currency=currency,
                    category_id=offer.category_id,
                    parent_category_id=offer.category.parent_id,
                    schedule=schedule,
                ),
            )
        )
    return CheckoutPreview(
        orders=orders,
        currency=currency,
        needs_address=any(o.kind == "physical" for o in orders),
        shipping_known=shipping_known,
    )


def checkout_for_key(*, buyer, idempotency_key: str):
    """The buyer's checkout placed with ``idempotency_key`` (None if there is none)."""
    if not getattr(buyer, "is_authenticated", False) or not idempotency_key:
        return None
    return (
        Checkout.objects.select_related("payment")
        .filter(buyer=buyer, idempotency_key=idempotency_key)
        .first()
    )


def last_ship_country(*, buyer) -> str:
    """The country the buyer's last physical order shipped to ("" if none)."""
    return (
        Order.objects.filter(buyer=buyer, kind="physical")
        .exclude(ship_country="")
        .order_by("-id")
        .values_list("ship_country", flat=True)
        .first()
        or ""
    )


@dataclass
class CartLine:
    item: CartItem
    line: object | None  # pricing.Line; None when the item cannot be ordered as it is
    error: str = ""

    @property
    def currency(self) -> str:
        return self.item.offer.currency


def cart_lines(*, buyer, now=None) -> list[CartLine]:
    """The buyer's cart, each item priced as it is now (or with why it cannot be ordered)."""
    lines = []
    for item in cart_for_buyer(buyer=buyer):
        try:
            line = pricing.line_for(buyer=buyer, item=item.as_item(), now=now)
        except DomainError as exc:
            lines.append(CartLine(item=item, line=None, error=exc.message))
        else:
            lines.append(CartLine(item=item, line=line))
    return lines


def session_seats_booked(session_ids) -> dict[int, int]:
    """Seats held per experience session (paid bookings and checkouts under way)."""
    rows = (
        Order.objects.filter(
            session_id__in=list(session_ids), state__in=process_for("experience").active
        )
        .values("session_id")
        .annotate(seats=Sum("seats"))
    )
    return {row["session_id"]: row["seats"] or 0 for row in rows}


@dataclass
class SessionSeats:
    session: object
    booked: int

    @property
    def left(self) -> int:
        return max(self.session.capacity - self.booked, 0)


def sessions_open(*, offer, now=None) -> list[SessionSeats]:
    """The offer's upcoming sessions that are not cancelled, with the seats still free."""
    from django.utils import timezone

    now = now or timezone.now()
    sessions = [s for s in offer.sessions.all() if s.cancelled_at is None and s.starts_at > now]
    booked = session_seats_booked(s.pk for s in sessions)
    return [SessionSeats(session=s, booked=booked.get(s.pk, 0)) for s in sessions]


@dataclass
class OrderMoney:
    """Where the order's money stands, read from the ledger's escrows."""

    service_fee: int = 0
    refunded: int = 0  # price and service fee returned to the buyer
    escrow_status: str = ""
    deposit_status: str = ""
    deposit_returned: int = 0


def order_money(order: Order) -> OrderMoney:

    money = OrderMoney()
    escrow = ledger_selectors.escrow_for_reference(order.reference)
    if escrow is not None:
        money.service_fee = escrow.service_fee
        money.refunded = escrow.refunded_subtotal + escrow.refunded_fee
        money.escrow_status = escrow.get_status_display()
    if order.deposit:
        deposit = ledger_selectors.escrow_for_reference(order.deposit_reference)
        if deposit is not None:
            money.deposit_status = deposit.status
            if deposit.status in ("released", "refunded", "settled"):
                money.deposit_returned = order.deposit - order.deposit_claimed
    return money


def delivery_file_for_user(*, order_id: int, file_id: int, user):
    """A delivered file of the order, for its buyer, its seller or an operator; NotFound for
    anyone else (and for a file of another order)."""
    order = order_for_user(order_id=order_id, user=user)
    item = DeliveryFile.objects.filter(pk=file_id, delivery__order_id=order.pk).first()
    if item is None:
        raise NotFound("There is no such file.")
    return item


@dataclass
class CalendarEntry:
    starts_at: object
    ends_at: object | None
    kind: str  # session, rental, task
    title: str
    session: object | None = None
    order: Order | None = None
    booked: int = 0
    capacity: int = 0
    whole_days: bool = False  # nightly/daily rentals: dates, not times


def seller_calendar(*, seller, start, end) -> list[CalendarEntry]:
    """The seller's experience sessions, rental bookings and local tasks between ``start`` and
    ``end`` (datetimes), by start time."""
    entries: list[CalendarEntry] = []
    offers = [
        o
        for o in catalog_selectors.offers_for_seller(seller=seller).prefetch_related("sessions")
        if o.kind == "experience"
    ]
    sessions = [
        (offer, s) for offer in offers for s in offer.sessions.all() if start <= s.starts_at < end
    ]
    booked = session_seats_booked(s.pk for _, s in sessions)
    for offer, s in sessions:
        entries.append(
            CalendarEntry(
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                kind="session",
                title=offer.title,
                session=s,
                booked=booked.get(s.pk, 0),
                capacity=s.capacity,
            )
        )
    orders = (
        orders_for_seller(seller=seller)
        .filter(kind__in=("rental", "task"), starts_at__lt=end, ends_at__gt=start)
        .filter(state__in=("requested", "accepted", "checked_in", "checked_out", "booked", "done"))
        .select_related("offer__rental")
    )
    for order in orders:
        whole_days = order.kind == "rental" and order.offer.rental.unit != "hour"
        entries.append(
            CalendarEntry(
                starts_at=max(order.starts_at, start),
                ends_at=order.ends_at,
                kind=order.kind,
                title=order.title,
                order=order,
                whole_days=whole_days,
            )
        )
    entries.sort(key=lambda e: (e.starts_at, e.title))
    return entries


def session_for_seller(*, seller, session_id: int):
    """The seller's experience session; NotFound for anyone else's."""
    offers = catalog_selectors.offers_for_seller(seller=seller).prefetch_related("sessions")
    for offer in offers.filter(sessions__pk=session_id).distinct():
        for session in offer.sessions.all():
            if session.pk == session_id:
                return session
    raise NotFound("There is no such session.")


def session_bookings(*, session_id: int) -> QuerySet[Order]:
    """The paid bookings of a session (what cancelling it refunds)."""
    return Order.objects.filter(session_id=session_id, state="booked").select_related("buyer")


# --- operators ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpsOrders:
    disputed: list[Order]  # waiting for an operator's decision, oldest first
    overdue: list[Order]  # automatic steps the sweeper should have applied (is the worker up?)
    late: list[Order]  # gigs past their delivery date, parcels past their ship-by date
    by_state: list[tuple[str, str, int]]  # (kind label, state label, count) of open orders
    placed_7d: int


def ops_orders(*, now=None, overdue_after=timedelta(minutes=10)) -> OpsOrders:
    """What operators watch: disputes to decide, automatic steps not applied in time, late
    orders, and how many orders are open in each state."""
    now = now or timezone.now()
    base = Order.objects.select_related("buyer", "seller")
    open_orders = Order.objects.filter(closed_at__isnull=True).exclude(state=PENDING_PAYMENT)
    counts = open_orders.values("kind", "state").annotate(n=Count("pk")).order_by("kind", "state")
    kinds = dict(Order.Kind.choices)
    return OpsOrders(
        disputed=list(base.filter(state="disputed").order_by("updated_at")[:100]),
        overdue=list(
            base.filter(deadline_at__lt=now - overdue_after)
            .exclude(deadline_transition="")
            .order_by("deadline_at")[:100]
        ),
        late=list(
            base.filter(
                state__in=("in_progress", "revision_requested", "paid"),
                kind__in=("service", "physical"),
                due_at__lt=now,
            ).order_by("due_at")[:100]
        ),
        by_state=[
            (kinds[row["kind"]], process_for(row["kind"]).states[row["state"]], row["n"])
            for row in counts
        ],
        placed_7d=Order.objects.filter(placed_at__gte=now - timedelta(days=7)).count(),
    )


def order_downloads(*, order: Order, user) -> list[dict]:
    """The buyer's expiring download links for a digital order that has been delivered:
    ``[{"file", "url"}]``, each offer's files once (one query for all of them)."""
    if order.kind != "digital" or order.state not in ("delivered", "completed"):
        return []
    if user.pk != order.buyer_id:
        return []
    offer_ids = list(dict.fromkeys(item.offer_id for item in order.items.all()))
    return [
        {"file": f, "url": catalog_services.digital_file_link(file=f, for_user=user)}
        for f in catalog_selectors.digital_files_for_offers(offer_ids=offer_ids)
    ]


# --- added by the trust levels helper ---------------------------------------------------------


@dataclass
class SellerDeliveryStats:
    """A seller's record since a date, as the seller levels measure it (trust.selectors.levels).

    Completed and cancelled count orders *closed* since the date; ``placed`` counts orders
    placed (paid) since the date, the base of the dispute rate. ``on_time`` is of the completed
    orders that had a delivery date (``due_at``): those whose first delivery came on or before
    it. ``earnings`` is the seller's net (price − refunds − commission, from the ledger's
    escrow) of the completed orders, per currency, in minor units."""

    completed: int = 0
    cancelled: int = 0  # cancelled after being placed (paid)
    unique_buyers: int = 0
    with_due_date: int = 0
    on_time: int = 0
    placed: int = 0
    earnings: dict[str, int] | None = None


def seller_delivery_stats(*, seller_id: int, since) -> SellerDeliveryStats:
    from django.db.models import Min, OuterRef, Subquery

    from micromarket.ledger.arithmetic import percent
    from micromarket.orders.models import OrderEvent
    from micromarket.orders.processes import CANCELLED, COMPLETED

    def first(*transitions):
        return (
            OrderEvent.objects.filter(order=OuterRef("pk"), transition__in=transitions)
            .values("order")
            .annotate(at=Min("created_at"))
            .values("at")
        )

    # A gig's delivery and a parcel's shipping are what the due date promises.
    completed = list(
        Order.objects.filter(seller_id=seller_id, state=COMPLETED, closed_at__gte=since)
        .annotate(
            delivered_at=Subquery(first("deliver", "ship")),
            started_at=Subquery(first("start")),
        )
        .values_list(
            "pk",
            "buyer_id",
            "currency",
            "due_at",
            "delivered_at",
            "kind",
            "started_at",
            "delivery_days",
        )
    )
    stats = SellerDeliveryStats(earnings={})
    stats.completed = len(completed)
    stats.unique_buyers = len({row[1] for row in completed})
    for _, _, _, due_at, delivered_at, kind, started_at, days in completed:
        if kind == "service" and started_at is not None and due_at is not None:
            # A revision moves due_at later; the first delivery answers the original promise.
            due_at = started_at + timedelta(days=days or 0)
        if due_at is not None:
            stats.with_due_date += 1
            if delivered_at is not None and delivered_at <= due_at:
                stats.on_time += 1
    stats.cancelled = Order.objects.filter(
        seller_id=seller_id, state=CANCELLED, placed_at__isnull=False, closed_at__gte=since
    ).count()
    stats.placed = Order.objects.filter(seller_id=seller_id, placed_at__gte=since).count()
    # One escrow read per completed order: the ledger has no bulk read by reference yet.
    for pk, *_ in completed:
        escrow = ledger_selectors.escrow_for_reference(f"order:{pk}")
        if escrow is None or escrow.status not in ("released", "settled"):
            continue
        gross = escrow.subtotal - escrow.refunded_subtotal
        net = gross - percent(gross, escrow.commission_bps)
        stats.earnings[escrow.currency] = stats.earnings.get(escrow.currency, 0) + net
    return stats


def order_offer_ids(*, order_ids) -> dict[int, int]:
    """Order id → its (first item's) offer id, for the books' effective hourly rate per offer."""
    return dict(Order.objects.filter(pk__in=list(order_ids)).values_list("pk", "offer_id"))


def orders_by_origin(*, origins: list[str]) -> dict[str, Order]:
    """Origin key (``projects.assignment:12``) → the newest order placed for it."""
    newest: dict[str, Order] = {}
    for order in Order.objects.filter(origin__in=list(origins)).order_by("pk"):
        newest[order.origin] = order
    return newest


@dataclass(frozen=True)
class PaidOut:
    """What became of an order's price: still held, paid to the seller or refunded."""

    held: int = 0
    paid: int = 0  # released (or settled) to the seller, before commission
    refunded: int = 0  # returned to the buyer


def orders_paid_out(*, orders) -> dict[int, PaidOut]:
    """Order id → PaidOut, read from the orders' escrows (one query)."""
    orders = list(orders)
    escrows = ledger_selectors.escrows_for_references([o.reference for o in orders])
    result = {}
    for order in orders:
        escrow = escrows.get(order.reference)
        if escrow is None or escrow.status in ("awaiting_payment", "cancelled"):
            result[order.pk] = PaidOut()
            continue
        refunded = escrow.refunded_subtotal
        if escrow.status in ("released", "settled"):
            result[order.pk] = PaidOut(paid=escrow.subtotal - refunded, refunded=refunded)
        elif escrow.status == "refunded":
            result[order.pk] = PaidOut(refunded=refunded)
        else:
            result[order.pk] = PaidOut(held=escrow.subtotal - refunded, refunded=refunded)
    return result
