"""``micromarket orders_diagrams``: regenerate the process diagrams and tables in
docs/orders.md from ``orders.processes`` (``--check``: fail if the page is out of date)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from micromarket.orders import diagrams


class Command(BaseCommand):
    help = "Rewrite the generated process diagrams in docs/orders.md (--check: only compare)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Write nothing; exit with an error if the page differs from the declarations.",
        )
        parser.add_argument(
            "--path",
            type=Path,
            default=diagrams.DOC_PATH,
            help=f"The page to update (default: {diagrams.DOC_PATH}).",
        )

    def handle(self, *args, check: bool, path: Path, **options):
        try:
            current = path.read_text(encoding="utf-8")
            rendered = diagrams.doc_render(current)
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if rendered == current:
            self.stdout.write(f"{path} is up to date.")
            return
        if check:
            raise CommandError(
                f"{path} is out of date with micromarket/orders/processes.py; "
                "run `micromarket orders_diagrams` and commit the result."
            )
        path.write_text(rendered, encoding="utf-8")
        self.stdout.write(self.style.SUCCESS(f"Rewrote the process diagrams in {path}."))
