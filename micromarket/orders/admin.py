"""Orders in Django's admin: to look, never to change.

An order's state, deadline and money change only through ``services.order_transition`` (which
checks the actor and the state, moves the escrow, records an ``OrderEvent`` and emails the
parties in one transaction). Editing a row here would skip all of that and leave the order, its
escrow and its history disagreeing, so every order model is read-only in the admin; operators
act on an order from its page (``/orders/<id>/``), where the process offers them its steps.
"""

from django.contrib import admin
from django.urls import reverse

from micromarket.orders.models import Checkout, Order, OrderEvent, OrderItem


class ReadOnlyAdminMixin:
    """View permission only: no add, change or delete (state changes go through the service)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrderItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OrderItem
    fields = ["description", "offer", "package", "variation", "unit_price", "quantity", "amount"]
    extra = 0


class OrderEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OrderEvent
    fields = ["created_at", "transition", "role", "actor", "from_state", "to_state", "message"]
    ordering = ["created_at", "id"]
    extra = 0


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "state",
        "buyer",
        "seller",
        "subtotal",
        "currency",
        "deadline_at",
        "deadline_transition",
    ]
    list_filter = ["kind", "state", "currency"]
    list_select_related = ["buyer", "seller"]
    search_fields = ["=id", "title", "buyer__email", "seller__email"]
    date_hierarchy = "created_at"
    inlines = [OrderItemInline, OrderEventInline]

    def view_on_site(self, obj):
        return reverse("orders:detail", args=[obj.pk])


class OrderInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Order
    fk_name = "checkout"
    fields = ["kind", "state", "seller", "title", "subtotal", "deposit", "currency"]
    show_change_link = True
    extra = 0


@admin.register(Checkout)
class CheckoutAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "buyer", "status", "currency", "from_cart", "created_at"]
    list_filter = ["status", "currency"]
    list_select_related = ["buyer"]
    search_fields = ["=id", "buyer__email", "idempotency_key"]
    date_hierarchy = "created_at"
    inlines = [OrderInline]
