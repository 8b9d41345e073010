from django.apps import AppConfig


class TrustConfig(AppConfig):
    """Reviews, reputation and seller levels, verification, disputes, reports and moderation."""

    name = "micromarket.trust"
    label = "trust"
    verbose_name = "Trust and safety"
