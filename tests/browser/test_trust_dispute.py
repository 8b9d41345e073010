"""A dispute in the browser: the buyer opens it from the order page with a reason, the seller
answers and proposes a partial refund, the buyer accepts; both see the dispute resolved and the
order page shows the refund."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from micromarket.accounts.tests.factories import UserFactory
from micromarket.catalog.tests.factories import seller
from micromarket.ledger import selectors as ledger_selectors
from micromarket.trust.tests.factories import delivered_order, gig
from tests.browser.test_orders_journey import log_in, log_out


def test_a_dispute_settled_by_an_accepted_partial_refund(page: Page, live_server, settings):
    settings.SITE_URL = live_server.url
    sol = seller(email="sol@example.test", display_name="Sol Seller")
    bea = UserFactory(email="bea@example.test", display_name="Bea Buyer")
    order = delivered_order(buyer=bea, offer=gig(sol))
    order_url = f"/orders/{order.pk}/"

    # The buyer opens a dispute from the order page.
    log_in(page, bea.email)
    page.goto(order_url)
    page.get_by_role("link", name="Open a dispute").click()
    expect(page.get_by_role("heading", name="Open a dispute")).to_be_visible()
    page.get_by_label("What is the problem?").select_option("not_as_described")
    page.get_by_label(re.compile("^Describe what went wrong")).fill(
        "The logo is blue, I asked for green."
    )
    page.get_by_role("button", name="Open the dispute").click()
    expect(page.get_by_text("You opened a dispute.")).to_be_visible()
    expect(page.get_by_text(re.compile("Waiting for the seller's answer"))).to_be_visible()
    log_out(page)

    # The seller answers and proposes a partial refund of 10.00.
    log_in(page, sol.email)
    page.goto("/disputes/")
    page.get_by_role("link", name=re.compile("Not as described")).click()
    expect(page.get_by_text("The logo is blue, I asked for green.")).to_be_visible()
    page.get_by_label("Your answer").fill("Blue was in the brief, but I can meet you halfway.")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_text("Your answer was added to the dispute.")).to_be_visible()
    page.get_by_text("Propose a partial refund", exact=True).click()  # opens the disclosure
    page.get_by_label("Back to the buyer").fill("10.00")
    page.get_by_role("button", name="Send the proposal").click()
    expect(page.get_by_text("Your proposal was sent to the other side.")).to_be_visible()
    log_out(page)

    # The buyer accepts: the dispute is settled at once.
    log_in(page, bea.email)
    page.goto(order_url)
    page.get_by_role("link", name="Open the dispute").click()
    expect(page.get_by_text("Blue was in the brief, but I can meet you halfway.")).to_be_visible()
    page.get_by_role("button", name="Accept $10.00 refund").click()
    expect(page.get_by_text(re.compile("Resolved: partial refund agreed"))).to_be_visible()
    escrow = ledger_selectors.escrow_for_reference(order.reference)
    refunded = escrow.refunded_subtotal + escrow.refunded_fee
    assert escrow.refunded_subtotal == 1000
    page.goto(order_url)
    resolved = "Dispute resolved: partial refund agreed by both sides."
    expect(page.get_by_text(resolved)).to_be_visible()
    expect(page.get_by_text(f"${refunded / 100:.2f}").first).to_be_visible()
    expect(page.get_by_text("Completed").first).to_be_visible()
    log_out(page)

    # The seller sees it resolved too.
    log_in(page, sol.email)
    page.goto("/disputes/")
    expect(page.get_by_text("Partial refund agreed by both sides")).to_be_visible()
