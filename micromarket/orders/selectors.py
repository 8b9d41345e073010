"""Reads of orders used by pages, the API and other apps."""

from __future__ import annotations

from django.db.models import QuerySet

from micromarket.core.errors import NotFound
from micromarket.orders import rules
from micromarket.orders.models import CartItem, Order, OrderEvent
from micromarket.orders.processes import PENDING_PAYMENT, PAYMENT_FAILED, process_for
from micromarket.orders.services import order_role


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


def order_events(order: Order) -> QuerySet[OrderEvent]:
    return order.events.select_related("actor").order_by("created_at", "id")


def cart_for_buyer(*, buyer) -> QuerySet[CartItem]:
    return CartItem.objects.filter(buyer=buyer).select_related("offer").order_by("pk")


def cart_items(*, buyer) -> list[dict]:
    """The buyer's cart as checkout items (``{"offer": id, **choices}``), oldest first."""
    return [{"offer": item.offer_id, **item.spec} for item in cart_for_buyer(buyer=buyer)]
