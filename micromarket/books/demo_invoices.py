"""Demo clients and invoices, through the invoices services: priya (US, USD) invoices two
direct clients — one invoice paid, one partly paid, one overdue, a draft, a voided one and a
monthly retainer — and sam (UK) a GBP invoice with 20% VAT. Invoices are issued, not emailed
(no demo mail). Idempotent: a seller who already has clients gets nothing new."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from micromarket.books.models import Client, Invoice
from micromarket.books.services import invoices as services
from micromarket.core.errors import DomainError

DOMAIN = "demo.micromarket.test"


def _user(email: str):
    return get_user_model().objects.filter(email=email).first()


def _priya(owner, today) -> None:
    bakery = services.client_create(
        owner=owner,
        name="Blue Door Bakery",
        email="orders@bluedoor.example",
        address="410 Congress Ave",
        city="Austin",
        postcode="78701",
        country="US",
        currency="USD",
        default_rate=6500,
    )
    studio = services.client_create(
        owner=owner,
        name="Northwind Studio LLC",
        email="ap@northwind.example",
        address="88 Lake St",
        city="Chicago",
        postcode="60601",
        country="US",
        company_id="36-1234567",
        currency="USD",
        default_rate=8000,
    )

    def invoice(client, days_ago, lines, **kw):
        draft = services.invoice_create(owner=owner, client=client, lines=lines, **kw)
        return services.invoice_issue(
            owner=owner, invoice=draft, today=today - timedelta(days=days_ago)
        )

    paid = invoice(
        bakery,
        50,
        [
            {"description": "Seasonal menu design", "quantity": "1", "unit_price": 45000},
            {"description": "Print-ready files", "quantity": "3", "unit_price": 2500},
        ],
        terms_days=30,
        notes="Thank you! Bank transfer to the account on file.",
    )
    services.invoice_payment_record(
        owner=owner,
        invoice=paid,
        amount=paid.total,
        date=today - timedelta(days=25),
        method="Bank transfer",
    )
    partly = invoice(
        studio,
        20,
        [
            {
                "description": "Website copy (landing + 4 pages)",
                "quantity": "12",
                "unit": "HUR",
                "unit_price": 8000,
            },
        ],
        terms_days=30,
        discount_bps=500,
    )
    services.invoice_payment_record(
        owner=owner,
        invoice=partly,
        amount=40000,
        date=today - timedelta(days=5),
        method="ACH",
    )
    invoice(
        bakery,
        40,
        [
            {"description": "Instagram post templates", "quantity": "10", "unit_price": 3000},
        ],
        terms_days=14,
        late_fee_bps=150,
    )
    voided = invoice(
        studio,
        35,
        [
            {"description": "Logo refresh (sent to the wrong contact)", "unit_price": 30000},
        ],
    )
    services.invoice_void(owner=owner, invoice=voided, reason="Sent to the wrong contact")
    services.invoice_create(
        owner=owner,
        client=studio,
        lines=[
            {"description": "Newsletter template", "quantity": "1", "unit_price": 35000},
        ],
        notes="Draft: waiting for the final brief.",
    )
    services.recurring_invoice_create(
        owner=owner,
        client=bakery,
        frequency="monthly",
        next_date=today + timedelta(days=7),
        send_automatically=False,
        lines=[{"description": "Social media retainer", "quantity": "1", "unit_price": 60000}],
    )
    services.invoices_apply_late_fees(now=timezone.now())


def _sam(owner, today) -> None:
    # Issuing a 20% VAT invoice needs the seller's VAT number (EN 16931 BR-S-02).
    services.invoice_settings_update(
        owner=owner,
        legal_name="Sam's Studio Ltd",
        vat_id="GB987654321",
        business_address="4 Bridge Street\nManchester M3 3BW",
    )
    client = services.client_create(
        owner=owner,
        name="Harbour Coffee Ltd",
        email="accounts@harbour.example",
        address="12 Deansgate",
        city="Manchester",
        postcode="M3 2BW",
        country="GB",
        vat_id="GB123456789",
        currency="GBP",
    )
    draft = services.invoice_create(
        owner=owner,
        client=client,
        lines=[
            {
                "description": "Product photography (half day)",
                "quantity": "1",
                "unit_price": 42000,
                "tax_rate_bps": 2000,
            },
            {
                "description": "Retouching",
                "quantity": "15",
                "unit_price": 1200,
                "tax_rate_bps": 2000,
            },
        ],
        terms_days=30,
    )
    services.invoice_issue(owner=owner, invoice=draft, today=today - timedelta(days=10))


def build(*, stdout, create: bool = True) -> list[str]:
    today = timezone.localdate()
    sellers = [(_user(f"priya@{DOMAIN}"), _priya), (_user(f"sam@{DOMAIN}"), _sam)]
    if create:
        for owner, make in sellers:
            if owner is None or Client.objects.filter(owner=owner).exists():
                continue
            try:
                make(owner, today)
                stdout.write(f"  invoices: made clients and invoices for {owner.email}\n")
            except DomainError as exc:
                stdout.write(f"  invoices: skipped {owner.email}: {exc.message}\n")
    count = Invoice.objects.filter(owner__email__endswith=f"@{DOMAIN}").count()
    if not count:
        return []
    return [
        f"Invoices: {count} demo invoices (priya@ and sam@): paid, partly paid, overdue, "
        "draft, void and a monthly retainer on /books/invoices/; each has a public page and a "
        "Factur-X PDF"
    ]
