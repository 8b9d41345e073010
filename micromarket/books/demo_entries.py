"""Demo books for priya (Austin, USD): released platform earnings copied from the ledger, a few
outside incomes and expenses (one with a PDF receipt), business trips in the mileage log, and
recurring software and coworking expenses. Idempotent: every item has its own source_ref or is
looked up before it is created, so a second run adds nothing."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from micromarket.books.models import Entry, MileageTrip, RecurringExpense
from micromarket.books.services import entries as services
from micromarket.core.errors import DomainError

DOMAIN = "demo.micromarket.test"
RECEIPT = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _items(today: date):
    """(key, kind, days ago, amount, category, payee, note)."""
    return [
        (
            "client-1",
            "income",
            75,
            180_000,
            "direct_clients",
            "Hill Country Bakery",
            "Brand refresh, paid by bank transfer",
        ),
        ("etsy-1", "income", 50, 42_350, "other_platforms", "Etsy", "Template sales, payout"),
        ("cash-1", "income", 20, 12_000, "cash", "Austin craft fair", "Printed posters"),
        ("adobe-1", "expense", 70, 5_999, "software", "Adobe", "Creative Cloud"),
        ("tablet-1", "expense", 60, 39_900, "depreciation", "Best Buy", "Drawing tablet"),
        ("lunch-1", "expense", 45, 6_420, "meals", "Salt Lick BBQ", "Lunch with a client"),
        ("ads-1", "expense", 30, 15_000, "advertising", "Instagram", "Promoted post"),
        ("etsyfee-1", "expense", 50, 2_540, "commissions_fees", "Etsy", "Etsy fees"),
    ]


def build(*, stdout, create: bool = True) -> list[str]:
    priya = get_user_model().objects.filter(email=f"priya@{DOMAIN}").first()
    if priya is None:
        return []
    if create:
        copied = services.platform_income_sync()
        stdout.write(f"  entries: copied {copied} released earnings from the ledger\n")
        today = timezone.localdate()
        try:
            for key, kind, ago, amount, category, payee, note in _items(today):
                kwargs = {
                    "owner": priya,
                    "date": today - timedelta(days=ago),
                    "amount": amount,
                    "currency": "USD",
                    "category": category,
                    "payee": payee,
                    "note": note,
                    "source": Entry.Source.MANUAL,
                    "source_ref": f"demo:{key}",
                }
                if kind == "income":
                    services.entry_record_income(**kwargs)
                else:
                    receipt = None
                    if (
                        key == "tablet-1"
                        and not Entry.objects.filter(
                            owner=priya, source_ref="demo:tablet-1"
                        ).exists()
                    ):
                        receipt = SimpleUploadedFile("receipt.pdf", RECEIPT, "application/pdf")
                    services.entry_record_expense(**kwargs, receipt=receipt)
            for ago, miles, purpose in (
                (40, "18.4", "Client meeting at Hill Country Bakery"),
                (12, "32.0", "Craft fair set-up and take-down"),
            ):
                day = today - timedelta(days=ago)
                if not MileageTrip.objects.filter(owner=priya, date=day, purpose=purpose).exists():
                    services.mileage_trip_create(
                        owner=priya,
                        date=day,
                        distance=miles,
                        origin="Home studio",
                        destination="Austin",
                        purpose=purpose,
                    )
            for payee, amount, category, frequency, ago in (
                ("Figma", 1_500, "software", "monthly", 80),
                ("Coworking Austin", 22_500, "rent", "monthly", 85),
            ):
                if not RecurringExpense.objects.filter(owner=priya, payee=payee).exists():
                    services.recurring_expense_create(
                        owner=priya,
                        payee=payee,
                        amount=amount,
                        currency="USD",
                        category=category,
                        frequency=frequency,
                        start_date=today - timedelta(days=ago),
                    )
            services.recurring_expenses_record_due(today=today)
        except DomainError as exc:
            stdout.write(f"  entries: skipped part of the demo: {exc.message}\n")
    count = Entry.objects.filter(owner=priya).count()
    if not count:
        return []
    return [
        f"Books: priya@ has {count} entries (platform earnings, outside income, expenses with "
        "a receipt, mileage, recurring) — /books/entries/, /books/mileage/, /books/imports/"
    ]
