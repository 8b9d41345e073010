from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """Payment providers, buyer payments, refunds, payouts, fees, webhooks and reconciliation."""

    name = "micromarket.payments"
    label = "payments"
    verbose_name = "Payments"
