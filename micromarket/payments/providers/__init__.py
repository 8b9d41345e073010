"""Payment providers behind one interface (``base.PaymentProvider``)."""

from __future__ import annotations

from django.conf import settings

from micromarket.payments.providers.base import PaymentProvider


def get_provider(name: str | None = None) -> PaymentProvider:
    """The provider called ``name`` (default: ``settings.PAYMENTS_PROVIDER``)."""
    name = name or settings.PAYMENTS_PROVIDER
    if name == "sandbox":
        from micromarket.payments.providers.sandbox import SandboxProvider

        return SandboxProvider()
    if name == "stripe":
        from micromarket.payments.providers.stripe import StripeProvider

        return StripeProvider(
            api_key=settings.STRIPE_SECRET_KEY,
            webhook_secrets=settings.STRIPE_WEBHOOK_SECRETS,
            api_base=settings.STRIPE_API_BASE or None,
        )
    raise ValueError(f"Unknown payment provider {name!r}")
