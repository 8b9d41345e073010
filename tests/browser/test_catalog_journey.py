"""A seller lists a gig with three packages; a buyer finds it by search."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from micromarket.accounts.tests.factories import DEFAULT_PASSWORD, ShopFactory, UserFactory

PASSWORD_LABEL = re.compile(r"^Password:?$")


def test_seller_creates_a_gig_with_three_packages_and_a_buyer_finds_it(page: Page):
    seller = UserFactory(email="ines@example.test", display_name="Inês Costa")
    ShopFactory(owner=seller, name="Costa Copy", slug="costa-copy")

    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(seller.email)
    page.get_by_label(PASSWORD_LABEL).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("link", name="My offers").click()
    page.get_by_role("link", name="New offer").click()
    page.get_by_role("link", name="Service gig").click()
    expect(page.get_by_role("heading", name="New service gig")).to_be_visible()

    about = page.get_by_role("group", name="About the offer")
    about.get_by_label(re.compile("^Title")).fill("I will translate your shop into Portuguese")
    about.get_by_label(re.compile("^Description")).fill(
        "Natural **Brazilian and European Portuguese** for product pages and emails."
    )
    about.get_by_label(re.compile("^Category")).select_option("writing-translation")
    about.get_by_label(re.compile("^Currency")).select_option("EUR")
    about.get_by_label(re.compile("^Tags")).fill("translation, portuguese, localisation")
    for tier, (name, price, days) in {
        "Basic": ("Basic", "30", "2"),
        "Standard": ("Standard", "55.50", "3"),
        "Premium": ("Premium", "99", "5"),
    }.items():
        row = page.get_by_role("group", name=f"{tier} package")
        row.get_by_label(re.compile("^Name")).fill(name)
        row.get_by_label(re.compile("^Price")).fill(price)
        row.get_by_label(re.compile("^Delivery")).fill(days)
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_role("status")).to_contain_text("Draft saved")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_contain_text("is live")

    # A buyer (signed out) finds it by searching, and sees the three packages.
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Search").first.click()
    search_box = page.get_by_role("combobox", name="Search")  # a search input with suggestions
    search_box.fill("portuguese translation")
    search_box.press("Enter")
    result = page.get_by_role("link", name="I will translate your shop into Portuguese")
    expect(result).to_be_visible()
    expect(page).to_have_url(re.compile(r"/search/\?q=portuguese(\+|%20)translation$"))
    result.click()
    for name, price in (("Basic", "€30.00"), ("Standard", "€55.50"), ("Premium", "€99.00")):
        expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
        expect(page.get_by_text(price, exact=True)).to_be_visible()
    expect(page.get_by_text("From €30.00")).to_be_visible()
