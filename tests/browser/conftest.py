"""Browser journeys: Playwright driving Debian's Chromium against pytest-django's live server.

- One headless Chromium (/usr/bin/chromium, never a Playwright download) for the session; each
  test gets a fresh context (cookies, storage) and a ``page`` whose relative URLs go to the
  live server, so a test can write ``page.goto("/accounts/login/")``.
- Every test in this folder is marked ``browser``: ``make test-browser`` runs them and
  ``make test`` leaves them out.
- A failing test leaves a full-page screenshot in test-results/<test name>.png (git-ignored).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from micromarket.catalog.tests.factories import seed_categories

# Playwright's sync API keeps an asyncio event loop running in the main thread, so Django would
# refuse ORM calls made by the test itself (creating users, reading devices) as "async unsafe".
# They are not: the test and the live server never use the database at the same moment.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000
VIEWPORT = {"width": 1280, "height": 900}
HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE.parents[1] / "test-results"

_reports = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # This hook sees every collected item, not only this folder's: mark ours before
    # ``-m browser`` / ``-m "not browser"`` selects.
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    item.stash.setdefault(_reports, {})[report.when] = report
    return report


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh (make test-browser)")
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _categories(transactional_db):
    """Each journey starts with the seeded categories (the previous one's flush removed them)."""
    seed_categories()


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(viewport=VIEWPORT, base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    reports = request.node.stash.get(_reports, {})
    if any(report.failed for report in reports.values()):
        RESULTS_DIR.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        page.screenshot(path=RESULTS_DIR / f"{name}.png", full_page=True)
    context.close()
