from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The shared kernel: errors, API conventions, the web shell, the worker and its sweeper."""

    name = "micromarket.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Periodic jobs are registered at import time by each app's ``jobs`` module.
        from micromarket.core import sweeper

        sweeper.autodiscover()
