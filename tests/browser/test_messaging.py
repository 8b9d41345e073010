"""Two people in two browsers: a buyer writes to a seller from the offer page; the seller sees
the next message arrive without reloading, answers, and sends a custom offer; the buyer sees
the offer card arrive, accepts and pays it with the sandbox card, and lands on the order of a
service gig carrying the offer's title."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from micromarket.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from micromarket.catalog.tests.factories import make_offer, seller

PASSWORD_LABEL = re.compile(r"^Password:?$")
VIEWPORT = {"width": 1280, "height": 900}  # as conftest's ``page``
TIMEOUT_MS = 10_000


def log_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label(PASSWORD_LABEL).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def label(text: str) -> re.Pattern:
    return re.compile(rf"^{re.escape(text)}:?$")


def test_a_conversation_and_a_custom_offer_that_becomes_an_order(
    page: Page, browser, live_server, settings
):
    settings.SITE_URL = live_server.url
    sol = seller(email="sol@example.test", display_name="Sol Seller")
    gig = make_offer(owner=sol, kind="service", publish=True)
    bea = UserFactory(email="bea@example.test", display_name="Bea Buyer")

    seller_context = browser.new_context(viewport=VIEWPORT, base_url=live_server.url)
    seller_context.set_default_timeout(TIMEOUT_MS)
    seller_page = seller_context.new_page()
    try:
        # The buyer writes from the offer page.
        log_in(page, bea.email)
        page.goto(f"/offers/{gig.pk}/")
        page.get_by_role("link", name="Contact seller").click()
        expect(page.get_by_role("heading", name="Write to Sol Seller")).to_be_visible()
        page.get_by_label("Your message").fill("Hi Sol! Could you draw a croissant logo?")
        page.get_by_role("button", name="Send message").click()
        expect(page.get_by_text("Could you draw a croissant logo?")).to_be_visible()

        # The seller opens the conversation from the inbox.
        log_in(seller_page, sol.email)
        seller_page.goto("/inbox/")
        seller_page.get_by_role("link", name=re.compile("Bea Buyer")).click()
        expect(seller_page.get_by_text("Could you draw a croissant logo?")).to_be_visible()

        # The buyer adds something; it appears on the seller's page without a reload.
        page.get_by_label("Your message").fill("It is for a bakery in Leeds.")
        page.get_by_role("button", name="Send", exact=True).click()
        expect(page.get_by_text("It is for a bakery in Leeds.")).to_be_visible()
        expect(page.get_by_label("Your message")).to_have_value("")  # the form was reset
        seller_url = seller_page.url
        expect(seller_page.get_by_text("It is for a bakery in Leeds.")).to_be_visible()
        assert seller_page.url == seller_url  # arrived by the poll, not by navigating

        # The seller answers; the buyer sees it arrive.
        seller_page.get_by_label("Your message").fill("Happy to! I will send you an offer.")
        seller_page.get_by_role("button", name="Send", exact=True).click()
        expect(page.get_by_text("Happy to! I will send you an offer.")).to_be_visible()

        # The seller sends a custom offer.
        seller_page.get_by_text("Send a custom offer", exact=True).click()
        seller_page.get_by_label(label("Title")).fill("Croissant logo for Leeds")
        seller_page.get_by_label(label("What is included")).fill(
            "Two croissant concepts, vector files, one revision."
        )
        seller_page.get_by_label(label("Price")).fill("75.00")
        seller_page.get_by_label(label("Delivery (days)")).fill("4")
        seller_page.get_by_label(label("Revisions included")).fill("1")
        seller_page.get_by_role("button", name="Send offer").click()
        expect(seller_page.get_by_role("button", name="Withdraw")).to_be_visible()

        # The buyer sees the card arrive, accepts and pays.
        card = page.locator("article.chat-offer")
        expect(card.get_by_role("heading", name="Croissant logo for Leeds")).to_be_visible()
        expect(card.get_by_text("$75.00")).to_be_visible()
        card.get_by_role("link", name="Accept & pay").click()
        expect(page.get_by_text("$75.00").first).to_be_visible()
        page.get_by_label("Card number").fill("4242424242424242")
        page.get_by_role("button", name=re.compile("^Pay and place")).click()

        # The order page of a service gig, with the custom title.
        expect(page.get_by_text("Payment received — your order is placed.")).to_be_visible()
        assert re.search(r"/orders/\d+/$", page.url), page.url
        expect(
            page.get_by_role("heading", name="Custom offer: Croissant logo for Leeds")
        ).to_be_visible()
        expect(page.get_by_text("Service gig").first).to_be_visible()

        # Back in the conversation, the card says it was accepted.
        seller_page.reload()
        expect(seller_page.locator("article.chat-offer").get_by_text("Accepted")).to_be_visible()
    finally:
        seller_context.close()
