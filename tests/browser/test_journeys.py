"""What a person sees going through the account journeys in a real browser."""

from __future__ import annotations

import base64
import re
from urllib.parse import urlsplit

from django.core import mail
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from micromarket.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

PHONE = {"width": 390, "height": 844}
PASSWORD_LABEL = re.compile(r"^Password:?$")  # not "Password again"
VERIFY_LINK = re.compile(r"https?://\S+?(/accounts/verify/[^/\s]+/)")


def email_to(page: Page, address: str, *, timeout_ms: int = 10_000) -> mail.EmailMessage:
    """The first email sent to ``address``; it is sent after commit, so wait for it a little."""
    waited = 0
    while waited <= timeout_ms:
        for message in mail.outbox:
            if address in message.to:
                return message
        page.wait_for_timeout(50)
        waited += 50
    raise AssertionError(f"no email to {address} within {timeout_ms} ms: {mail.outbox!r}")


def totp_code(key: bytes, *, step: int = 30, t0: int = 0, digits: int = 6, drift: int = 0) -> str:
    return str(TOTP(key, step, t0, digits, drift).token()).zfill(digits)


def log_in(page: Page, email: str, password: str = DEFAULT_PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label(PASSWORD_LABEL).fill(password)
    page.get_by_role("button", name="Log in").click()


def test_sign_up_verify_email_and_open_a_shop(page: Page):
    email = "amara@example.test"
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()

    # The whole form by keyboard: type, Tab to the next field, Tab to the button, Enter.
    page.get_by_label("Your name").focus()
    page.keyboard.type("Amara Obi")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Email address")).to_be_focused()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type("a-long-and-unusual-password")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password again")).to_be_focused()
    page.keyboard.type("a-long-and-unusual-password")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Create account")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text(
        f"Welcome, Amara Obi! We sent a link to {email}"
    )
    banner = page.get_by_role("note")
    expect(banner).to_contain_text(f"Please verify your email address ({email})")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    message = email_to(page, email)
    link = VERIFY_LINK.search(message.body)
    assert link, message.body
    page.goto(urlsplit(link.group(0)).path)

    expect(page.get_by_role("status")).to_contain_text(f"Thanks — {email} is verified.")
    expect(banner).to_have_count(0)

    page.get_by_role("link", name="Become a seller").click()
    expect(page.get_by_role("heading", name="Open your shop")).to_be_visible()
    page.get_by_label("Shop name").fill("Obi Bakes")
    page.get_by_label("Tagline").fill("Sourdough and celebration cakes, baked to order")
    page.get_by_label("About the shop").fill("A home bakery in Enugu.\nCollection or delivery.")
    page.get_by_role("button", name="Open my shop").click()

    expect(page).to_have_url(re.compile(r"/shops/obi-bakes/$"))
    expect(page.get_by_role("status")).to_contain_text("Your shop “Obi Bakes” is open.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Obi Bakes")
    expect(page.get_by_text("Sourdough and celebration cakes, baked to order")).to_be_visible()
    seller = page.get_by_role("complementary", name="About the seller")
    expect(seller.get_by_role("heading", name="Amara Obi")).to_be_visible()
    expect(seller.get_by_text("Email verified")).to_be_visible()
    expect(page.get_by_role("link", name="My shop")).to_be_visible()
    expect(page.get_by_role("link", name="Become a seller")).to_have_count(0)

    # On a phone the shop page fits the screen: nothing to scroll sideways.
    page.set_viewport_size(PHONE)
    expect(page.get_by_role("heading", level=1)).to_be_in_viewport()
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"], f"page is {scroll_width}px wide at 390px"


def test_log_in_with_an_authenticator_code(page: Page):
    user = UserFactory(email="kofi@example.test", display_name="Kofi Boateng")
    device = TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)

    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label(PASSWORD_LABEL).fill(DEFAULT_PASSWORD)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Log in")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/accounts/login/code/$"))
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)

    code = page.get_by_label("Code")
    expect(code).to_be_focused()  # autofocus: the code can be typed straight away
    device.refresh_from_db()
    page.keyboard.type(
        totp_code(
            device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift
        )
    )
    page.keyboard.press("Enter")

    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("link", name="Log in")).to_have_count(0)


def test_operator_sets_up_two_factor_before_reaching_operations(page: Page):
    UserFactory(email="ops@example.test", display_name="Olu Adebayo", operator=True)

    log_in(page, "ops@example.test")
    expect(page).to_have_url(re.compile(r"/settings/security/$"))
    expect(page.get_by_role("alert")).to_contain_text(
        "As an operator you must turn on two-factor authentication"
    )

    # Operations stay closed until 2FA is on.
    page.goto("/ops/")
    expect(page).to_have_url(re.compile(r"/settings/security/$"))

    page.get_by_role("button", name="Set up two-factor authentication").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    secret = "".join(page.locator("#totp-secret").inner_text().split())
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label("Code").fill(totp_code(key))
    page.get_by_role("button", name="Turn on").click()

    expect(page.get_by_role("heading", name="Your backup codes")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Two-factor authentication is on.")
    codes = page.locator("#backup-codes li")
    expect(codes).to_have_count(10)
    expect(codes.first).to_have_text(re.compile(r"^\w{6,}$"))

    page.get_by_role("link", name="Operations").click()
    expect(page).to_have_url(re.compile(r"/ops/$"))
    expect(page.get_by_role("heading", name="Operations", level=1)).to_be_visible()
