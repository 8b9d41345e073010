"""``micromarket demo``: a believable small marketplace, built idempotently, logins printed.

Each app contributes through ``<app>/demo.py`` with ``build(*, stdout) -> list[str]`` (lines to
print, e.g. logins); they run in INSTALLED_APPS order, so later apps can rely on earlier ones.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from micromarket.core.discovery import app_modules


class Command(BaseCommand):
    help = "Create demo sellers, shops, buyers and an operator (idempotent); print the logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Only build when the database has no users yet (first run); always print logins.",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Build even when DEBUG is off. Demo accounts have published passwords!",
        )

    def handle(self, *args, if_empty: bool, allow_production: bool, **options):
        from django.contrib.auth import get_user_model

        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "Refusing to create demo accounts with published passwords while DEBUG is off. "
                "Pass --allow-production if this really is a demo site."
            )
        skip = if_empty and get_user_model().objects.exists()
        lines: list[str] = []
        modules = app_modules("demo")
        for index, module in enumerate(modules, start=1):
            label = module.__name__.split(".")[-2]
            if not skip:
                self.stdout.write(f"demo [{index}/{len(modules)}] {label}…")
            with transaction.atomic():
                lines += module.build(stdout=self.stdout, create=not skip)
        if skip:
            self.stdout.write("Demo data already present (delete var/ to start afresh).")
        self.stdout.write(self.style.SUCCESS("\n".join(["", *lines, ""])))
