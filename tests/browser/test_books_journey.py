"""The back office in the browser: a seller records an expense with a receipt, sees it on the
dashboard, tracks time for a direct client (by hand and with the timer), turns the tracked time
into an invoice and sends it."""

from __future__ import annotations

import io
import re

from PIL import Image
from playwright.sync_api import Page, expect

from micromarket.accounts.tests.factories import DEFAULT_PASSWORD, ShopFactory, UserFactory
from micromarket.books.models import Entry, Invoice, TimeEntry
from micromarket.books.services import invoices as invoice_services

PASSWORD_LABEL = re.compile(r"^Password:?$")


def log_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label(PASSWORD_LABEL).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def receipt_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 400), "white").save(buffer, "PNG")
    return buffer.getvalue()


def test_seller_records_an_expense_tracks_time_and_invoices_it(page: Page, live_server, settings):
    settings.SITE_URL = live_server.url
    seller = UserFactory(email="rosa@example.test", display_name="Rosa Ruiz")
    ShopFactory(owner=seller, name="Rosa Studio", slug="rosa-studio")
    invoice_services.client_create(
        owner=seller,
        name="Acme Bakery",
        email="ap@acme.example",
        currency="USD",
        default_rate=6000,
    )
    log_in(page, seller.email)

    # An expense with a photo of the receipt.
    page.goto("/books/entries/new/")
    expect(page.get_by_role("heading", name="Record income or an expense")).to_be_visible()
    page.get_by_label("Expense").check()
    page.get_by_label("Date").fill("2025-03-03")
    page.get_by_label("Amount").fill("24.99")
    page.get_by_label("Currency").select_option("USD")
    page.get_by_label("Category").select_option(label="Software and subscriptions")
    page.get_by_label("Paid to / received from").fill("Design Tools Inc")
    page.get_by_label(re.compile(r"^Receipt")).set_input_files(
        {"name": "receipt.png", "mimeType": "image/png", "buffer": receipt_png()}
    )
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Expense of $24.99 recorded.")).to_be_visible()
    entry = Entry.objects.get(owner=seller)
    assert entry.receipt
    assert entry.category == "software"

    # The dashboard.
    page.get_by_role("link", name="Books").first.click()
    expect(page.get_by_role("heading", name="Your back office")).to_be_visible()

    # Time: two hours by hand for the client, then the timer.
    page.get_by_role("link", name="Time", exact=True).click()
    expect(page.get_by_role("heading", name="Time", exact=True)).to_be_visible()
    manual = page.locator("form", has=page.get_by_role("button", name="Add the time"))
    manual.get_by_label("Date").fill("2025-03-04")
    manual.get_by_label("Time worked").fill("2:00")
    manual.get_by_label("Client").select_option(label="Acme Bakery")
    manual.get_by_label("What you worked on").fill("Menu design")
    manual.get_by_role("button", name="Add the time").click()
    expect(page.get_by_text("Time recorded.")).to_be_visible()

    timer = page.locator("form", has=page.get_by_role("button", name="Start the timer"))
    timer.get_by_label("What you worked on").fill("Admin")
    timer.get_by_role("button", name="Start the timer").click()
    expect(page.get_by_text("Timer started.")).to_be_visible()
    page.get_by_role("button", name="Stop the timer").click()
    expect(page.get_by_text(re.compile(r"Timer stopped: \d+:\d\d recorded\."))).to_be_visible()
    assert TimeEntry.objects.filter(owner=seller, ended_at__isnull=False).count() == 2

    # The unbilled time becomes a draft invoice, which the seller sends.
    expect(page.get_by_text("Acme Bakery: 2:00, $120.00")).to_be_visible()
    page.get_by_role("button", name="Create a draft invoice from the ticked time").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Invoice \(draft\)"))).to_be_visible()
    expect(page.get_by_text("$120.00").first).to_be_visible()
    page.get_by_role("button", name="Issue and send").click()
    invoice = Invoice.objects.get(owner=seller)
    expect(
        page.get_by_role("heading", name=re.compile(rf"^Invoice {invoice.number}"))
    ).to_be_visible()
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.SENT
    assert invoice.total == 12000
    assert invoice.sent_at is not None
