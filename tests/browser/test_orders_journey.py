"""An order in the browser: a buyer orders a gig with an extra, the seller delivers, the buyer
asks for a revision, the seller delivers again, the buyer accepts, and the seller sees the
earnings pending."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from micromarket.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from micromarket.catalog.tests.factories import make_offer, seller

PASSWORD_LABEL = re.compile(r"^Password:?$")


def log_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label(PASSWORD_LABEL).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()


def test_gig_ordered_with_an_extra_delivered_revised_accepted(page: Page, live_server, settings):
    settings.SITE_URL = live_server.url
    sol = seller(email="sol@example.test", display_name="Sol Seller")
    offer = make_offer(owner=sol, kind="service", publish=True)
    bea = UserFactory(email="bea@example.test", display_name="Bea Buyer")

    # The buyer picks the Standard package (90.00) and the 24-hour extra (20.00) and pays.
    log_in(page, bea.email)
    page.goto(f"/offers/{offer.pk}/")
    page.get_by_label(re.compile("^Standard")).check()
    page.get_by_label(re.compile("^24-hour delivery")).check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("$110.00").first).to_be_visible()  # the items
    expect(page.get_by_text("$115.50").first).to_be_visible()  # + 5% service fee
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name=re.compile("^Pay and place")).click()

    # The order is placed and asks for the requirements.
    expect(page.get_by_role("heading", name=re.compile("requirements", re.I)).first).to_be_visible()
    page.get_by_label("What is the business called?").fill("Crumb & Co bakery")
    page.get_by_role("button", name="Send requirements").click()
    expect(page.get_by_text("In progress").first).to_be_visible()
    order_url = page.url
    log_out(page)

    # The seller delivers from the sales board.
    log_in(page, sol.email)
    page.get_by_role("link", name="Sales").first.click()
    page.get_by_role("link", name=re.compile(offer.title)).first.click()
    expect(page.get_by_text("Crumb & Co bakery")).to_be_visible()
    page.get_by_label("Delivery message").fill("Here is your logo, in two colours.")
    page.get_by_role("button", name="Deliver").click()
    expect(page.get_by_text("Delivered").first).to_be_visible()
    log_out(page)

    # The buyer asks for a revision.
    log_in(page, bea.email)
    page.goto(order_url)
    expect(page.get_by_text("Here is your logo, in two colours.")).to_be_visible()
    page.get_by_text("Request a revision", exact=True).first.click()  # opens the disclosure
    page.get_by_label("What should change?").fill("Could the croissant be bigger?")
    page.get_by_role("button", name="Request a revision").click()
    expect(page.get_by_text("Revision requested").first).to_be_visible()
    log_out(page)

    # The seller delivers again.
    log_in(page, sol.email)
    page.goto(order_url)
    expect(page.get_by_text("Could the croissant be bigger?")).to_be_visible()
    page.get_by_label("Delivery message").fill("Bigger croissant, as asked.")
    page.get_by_role("button", name="Deliver").click()
    expect(page.get_by_text("Delivered").first).to_be_visible()
    log_out(page)

    # The buyer accepts; the order is complete.
    log_in(page, bea.email)
    page.goto(order_url)
    page.get_by_role("button", name="Accept delivery").click()
    expect(page.get_by_text("Completed").first).to_be_visible()
    log_out(page)

    # The seller's earnings: 110.00 minus 10% commission, pending until they clear.
    log_in(page, sol.email)
    page.get_by_role("link", name="Earnings").first.click()
    expect(page.get_by_text("$99.00").first).to_be_visible()
