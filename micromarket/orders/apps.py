from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """Transaction processes per kind of offer, checkout, deadlines and the order pages."""

    name = "micromarket.orders"
    label = "orders"
    verbose_name = "Orders"
