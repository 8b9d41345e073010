"""Money in the browser: a buyer confirms a card payment on the sandbox's security page; the
seller, once the order's money has cleared, adds a bank account and requests a payout."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import Page, expect

from micromarket.accounts.tests.factories import DEFAULT_PASSWORD, ShopFactory, UserFactory
from micromarket.ledger import services as ledger
from micromarket.payments import services
from micromarket.payments.providers import sandbox
from micromarket.trust.tests.factories_verification import verified_seller

PASSWORD_LABEL = re.compile(r"^Password:?$")


def log_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label(PASSWORD_LABEL).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_buyer_confirms_a_payment_and_seller_is_paid_out(page: Page, live_server, settings):
    settings.SITE_URL = live_server.url  # the sandbox's confirmation page lives on this site
    buyer = UserFactory(email="bea@example.test", display_name="Bea Buyer")
    seller = UserFactory(email="sol@example.test", display_name="Sol Seller")
    ShopFactory(owner=seller, name="Sol Studio", slug="sol-studio")
    verified_seller(seller)  # payouts start once an operator approved the trader details
    payment = services.payment_start(
        buyer=buyer,
        currency="USD",
        orders=[
            services.OrderCharge(
                reference="order:1", seller=seller, subtotal=10_000, description="Brand identity"
            )
        ],
        payment_method=sandbox.CARD_REQUIRES_ACTION,
        idempotency_key="checkout-1",
        return_url="/payments/",
    )

    # The buyer confirms on the sandbox's stand-in for the bank's 3-D Secure page.
    log_in(page, buyer.email)
    page.get_by_role("link", name="Payments").first.click()
    page.get_by_role("link", name="Confirm payment").first.click()
    expect(page.get_by_role("heading", name="Confirm your payment")).to_be_visible()
    expect(page.get_by_text("$105.00")).to_be_visible()
    page.get_by_role("button", name="Confirm payment").click()
    expect(page).to_have_url(re.compile(r"/payments/$"))
    page.goto(f"/payments/{payment.pk}/")
    expect(page.get_by_text("Paid").first).to_be_visible()
    expect(page.get_by_text("$5.00").first).to_be_visible()  # the service fee on the receipt
    page.get_by_role("button", name="Log out").click()

    # The order is accepted and its earnings clear (the order process and sweeper do this).
    services.escrow_release(reference="order:1", idempotency_key="release-1", clearing_days=0)
    ledger.clearing_apply_due(now=timezone.now() + timedelta(seconds=1))

    log_in(page, seller.email)
    page.get_by_role("link", name="Earnings").first.click()
    expect(page.get_by_text("$90.00").first).to_be_visible()
    page.get_by_role("link", name="Payout methods").click()
    page.get_by_label(re.compile("^Bank account number")).fill(sandbox.BANK_SUCCEEDS)
    page.get_by_label(re.compile("^Label")).fill("Savings")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status")).to_contain_text("Savings")

    page.get_by_role("link", name="Earnings").first.click()
    payout_form = page.locator("#payout")
    payout_form.get_by_label(re.compile("^Amount")).fill("50")
    payout_form.get_by_role("button", name="Request payout").click()
    expect(page.get_by_role("status")).to_contain_text("Payout")
    expect(page.get_by_text("On its way").first).to_be_visible()
    expect(page.get_by_text("$40.00").first).to_be_visible()  # what is left available
