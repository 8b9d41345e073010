"""A project in the browser: a buyer posts a project with three tasks, two sellers find them
and propose, the buyer compares and awards both, funds both units in one payment, each seller
submits, the buyer approves both, and both sellers are paid — each from their own escrow."""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from micromarket.accounts.tests.factories import UserFactory
from micromarket.catalog.tests.factories import seller
from micromarket.ledger import selectors as ledger_selectors
from micromarket.projects.models import Assignment
from tests.browser.test_orders_journey import log_in, log_out

DEADLINE = (date.today() + timedelta(days=30)).isoformat()
TASK_DEADLINE = (date.today() + timedelta(days=20)).isoformat()


def add_task(page: Page, title: str, budget: str, skills: str) -> None:
    page.get_by_role("link", name="Add a task").first.click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Brief").fill(f"{title}: details in the attached notes.")
    page.get_by_label("Budget per unit").fill(budget)
    page.get_by_label("Deadline").fill(TASK_DEADLINE)
    page.get_by_label("Skills (optional)").fill(skills)
    page.get_by_role("button", name="Add the task").click()
    expect(page.get_by_role("link", name=title).first).to_be_visible()


def propose(page: Page, title: str, price: str, message: str) -> None:
    page.goto("/projects/tasks/")
    page.get_by_label("Search tasks").fill(title.split()[0])
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=title).first.click()
    page.get_by_label("Your price for one unit").fill(price)
    page.get_by_label("Days to deliver").fill("3")
    page.get_by_label("Message to the buyer").fill(message)
    page.get_by_role("button", name="Send the proposal").click()
    expect(page.get_by_text(re.compile("proposal", re.I)).first).to_be_visible()


def submit_work(page: Page, message: str) -> None:
    page.goto("/projects/work/")
    page.get_by_role("link", name="Open the order").first.click()
    page.get_by_label("Delivery message").fill(message)
    page.get_by_role("button", name="Submit the work").click()
    expect(page.get_by_text("Submitted").first).to_be_visible()


def test_a_project_of_three_tasks_two_sellers_awarded_approved_and_paid(
    page: Page, live_server, settings
):
    settings.SITE_URL = live_server.url
    bea = UserFactory(email="bea@example.test", display_name="Bea Buyer")
    sol = seller(email="sol@example.test", display_name="Sol Translator")
    max_ = seller(email="max@example.test", display_name="Max Designer")

    # The buyer posts the project and splits it into three tasks, then publishes it.
    log_in(page, bea.email)
    page.get_by_role("link", name="Projects").first.click()
    page.get_by_role("link", name="Post a project").click()
    page.get_by_label("Title").fill("Open our shop in Spain")
    page.get_by_label("Description").fill("Translate the shop and make a Spanish banner.")
    page.get_by_label("Category").select_option(label="Writing & translation")
    page.get_by_label("Budget").fill("500")
    page.get_by_label("Deadline").fill(DEADLINE)
    page.get_by_role("button", name="Save and add tasks").click()
    add_task(page, "Translate the product pages", "120", "spanish, translation")
    add_task(page, "Design a Spanish banner", "80", "design")
    add_task(page, "Proofread the checkout texts", "40", "spanish")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Open").first).to_be_visible()
    board_url = page.url
    log_out(page)

    # Two sellers find a task each and propose.
    log_in(page, sol.email)
    propose(page, "Translate the product pages", "110", "Native speaker, 200 shops done.")
    log_out(page)
    log_in(page, max_.email)
    propose(page, "Design a Spanish banner", "80", "Bold, warm colours; two drafts.")
    log_out(page)

    # The buyer compares each task's proposal (with the seller's reputation) and awards it.
    log_in(page, bea.email)
    for title, name in (
        ("Translate the product pages", "Sol Translator"),
        ("Design a Spanish banner", "Max Designer"),
    ):
        page.goto(board_url)
        page.get_by_role("link", name=title).first.click()
        expect(page.get_by_text(name).first).to_be_visible()
        page.get_by_role("button", name="Award").first.click()
        expect(page.get_by_label("Card number")).to_be_visible()  # the fund page

    # Both awards are paid for in one payment: two orders, two escrows.
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Pay and start the work").click()
    expect(page.get_by_text(re.compile("escrow", re.I)).first).to_be_visible()
    assignments = list(Assignment.objects.select_related("order").order_by("pk"))
    assert [a.order.state for a in assignments] == ["in_progress", "in_progress"]
    escrows = [ledger_selectors.escrow_for_reference(a.order.reference) for a in assignments]
    assert [e.status for e in escrows] == ["held", "held"]
    assert [e.subtotal for e in escrows] == [11000, 8000]  # each unit's price, apart
    log_out(page)

    # Each seller submits their work on its order page.
    log_in(page, sol.email)
    submit_work(page, "All product pages are translated.")
    log_out(page)
    log_in(page, max_.email)
    submit_work(page, "The banner, in two sizes.")
    log_out(page)

    # The buyer approves both; each seller is paid from their own escrow.
    log_in(page, bea.email)
    for a in assignments:
        page.goto(f"/orders/{a.order_id}/")
        page.get_by_role("button", name="Approve the work").click()
        expect(page.get_by_text("Completed").first).to_be_visible()
    page.goto(board_url)
    expect(page.get_by_text("Approved and paid").first).to_be_visible()
    log_out(page)

    for a, who in zip(assignments, (sol, max_), strict=True):
        escrow = ledger_selectors.escrow_for_reference(a.order.reference)
        assert escrow.status == "released"
        assert ledger_selectors.user_balances(who)["USD"]["pending"] > 0
    assert ledger_selectors.ledger_verify() == []
