"""Order pages (buyers' orders, sellers' board, checkout, calendar)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from micromarket.orders import selectors


@login_required
def order_detail(request, order_id: int):
    order = selectors.order_for_user(order_id=order_id, user=request.user)
    return render(request, "orders/order_detail.html", {"order": order})
