"""Account pages, driven through the Django test client as a browser would."""

from __future__ import annotations

import html
import io
import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image

from micromarket.accounts import services
from micromarket.accounts.models import ApiToken, Shop, User
from micromarket.accounts.tests.factories import DEFAULT_PASSWORD, ShopFactory, UserFactory

pytestmark = pytest.mark.django_db

BACKEND = "micromarket.accounts.backends.EmailBackend"
STRONG_PASSWORD = "violet-harbour-lantern-42"
VERIFY_BANNER = "Please verify your email address"


# --- helpers --------------------------------------------------------------------------------


def login_as(client: Client, user: User) -> Client:
    client.force_login(user, backend=BACKEND)
    return client


def logged_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def field_errors(response, field: str) -> str:
    """The text of the error list rendered next to ``field`` ('' when there is none)."""
    match = re.search(
        rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', response.text, re.DOTALL
    )
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))) if match else ""


def page_text(response) -> str:
    return html.unescape(response.text)


def current_totp(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def wrong_totp(device: TOTPDevice) -> str:
    """A code that no step inside the device's tolerance window would accept."""
    accepted = {
        f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + d):06d}"
        for d in range(-device.tolerance - 1, device.tolerance + 2)
    }
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in accepted)


def totp_user(**kwargs) -> tuple[User, TOTPDevice]:
    user = UserFactory(**kwargs)
    device = TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    return user, device


def png_upload(name="me.png") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 140, 150)).save(buf, format="PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def post_login(client: Client, email: str, password: str, **extra):
    return client.post("/accounts/login/", {"username": email, "password": password}, **extra)


# --- sign-up and verification ---------------------------------------------------------------


class TestSignUp:
    def test_invalid_form_shows_errors_next_to_fields_and_creates_nothing(
        self, client, django_capture_on_commit_callbacks, mailoutbox
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/accounts/signup/",
                {
                    "display_name": "Bo",
                    "email": "not-an-email",
                    "password": STRONG_PASSWORD,
                    "password_confirm": "something-else-entirely",
                },
            )

        assert response.status_code == 200
        assert "Please fix the problems below." in response.text
        assert "Enter a valid email address." in field_errors(response, "email")
        assert "The two passwords are not the same." in field_errors(response, "password_confirm")
        assert field_errors(response, "display_name") == ""
        assert not User.objects.exists()
        assert logged_in_user_id(client) is None
        assert mailoutbox == []

    def test_weak_password_error_is_shown_on_the_password_field(self, client):
        response = client.post(
            "/accounts/signup/",
            {
                "display_name": "Bo",
                "email": "bo@example.com",
                "password": "password123",
                "password_confirm": "password123",
            },
        )

        assert response.status_code == 200
        assert "too common" in field_errors(response, "password")
        assert not User.objects.exists()

    def test_taken_email_is_shown_on_the_email_field(self, client):
        UserFactory(email="bo@example.com")

        response = client.post(
            "/accounts/signup/",
            {
                "display_name": "Another Bo",
                "email": "BO@example.com",
                "password": STRONG_PASSWORD,
                "password_confirm": STRONG_PASSWORD,
            },
        )

        assert response.status_code == 200
        assert "already exists" in field_errors(response, "email")
        assert User.objects.count() == 1
        assert logged_in_user_id(client) is None

    def test_sign_up_logs_in_shows_verify_banner_and_link_verifies(
        self, client, django_capture_on_commit_callbacks, mailoutbox
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/accounts/signup/",
                {
                    "display_name": "Bo Diddley",
                    "email": "Bo@Example.com",
                    "password": STRONG_PASSWORD,
                    "password_confirm": STRONG_PASSWORD,
                },
                follow=True,
            )

        assert response.redirect_chain == [("/", 302)]
        user = User.objects.get()
        assert user.email == "bo@example.com"
        assert logged_in_user_id(client) == str(user.pk)
        text = page_text(response)
        assert "Welcome, Bo Diddley!" in text
        assert VERIFY_BANNER in text
        assert len(mailoutbox) == 1
        path = re.search(r"/accounts/verify/[^/\s]+/", mailoutbox[0].body).group(0)

        response = client.get(path, follow=True)

        assert response.redirect_chain == [("/", 302)]
        assert "bo@example.com is verified" in page_text(response)
        assert VERIFY_BANNER not in page_text(response)
        user.refresh_from_db()
        assert user.is_email_verified

    def test_signed_in_user_is_sent_home_from_sign_up(self, client):
        login_as(client, UserFactory())

        response = client.get("/accounts/signup/")

        assert response.status_code == 302
        assert response["Location"] == "/"

    def test_bad_verification_link_shows_failure_page(self, client):
        user = UserFactory(unverified=True)

        response = client.get("/accounts/verify/not-a-real-token/")

        assert response.status_code == 400
        assert "We could not verify your email" in response.text
        assert "This verification link is not valid." in response.text
        user.refresh_from_db()
        assert not user.is_email_verified

    def test_expired_verification_link_says_so(self, client):
        user = UserFactory(unverified=True)
        token = services.email_verification_token(user=user)

        with time_machine.travel(timezone.now() + timedelta(days=4)):
            response = client.get(f"/accounts/verify/{token}/")

        assert response.status_code == 400
        assert "expired" in response.text
        user.refresh_from_db()
        assert not user.is_email_verified

    def test_resend_verification_email(
        self, client, django_capture_on_commit_callbacks, mailoutbox
    ):
        user = UserFactory(unverified=True)
        login_as(client, user)

        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/accounts/verify/resend/", {"next": "/settings/profile/"}, follow=True
            )

        assert response.redirect_chain[0] == ("/settings/profile/", 302)
        assert f"We sent a new verification link to {user.email}" in page_text(response)
        assert len(mailoutbox) == 1
        assert mailoutbox[0].to == [user.email]

    def test_resend_does_not_redirect_off_site(self, client):
        login_as(client, UserFactory(unverified=True))

        response = client.post("/accounts/verify/resend/", {"next": "https://evil.example/"})

        assert response.status_code == 302
        assert response["Location"] == "/settings/account/"


# --- sign-in --------------------------------------------------------------------------------


class TestLogin:
    def test_login_with_any_case_of_email(self, client):
        user = UserFactory(email="case@example.com")

        response = post_login(client, "CASE@Example.COM", DEFAULT_PASSWORD)

        assert response.status_code == 302
        assert logged_in_user_id(client) == str(user.pk)

    def test_wrong_password_shows_error_and_does_not_log_in(self, client):
        UserFactory(email="ann@example.com")

        response = post_login(client, "ann@example.com", "not-the-password")

        assert response.status_code == 200
        assert "That email and password do not match an account." in response.text
        assert logged_in_user_id(client) is None

    def test_five_failures_lock_the_account_out_even_with_the_right_password(self, client):
        user = UserFactory(email="ann@example.com")
        for _ in range(4):
            response = post_login(client, "ann@example.com", "not-the-password")
            assert response.status_code == 200
            assert "do not match an account" in response.text
        post_login(client, "ann@example.com", "still-not-the-password")  # the fifth failure

        response = post_login(client, "ann@example.com", DEFAULT_PASSWORD)

        assert response.status_code == 429
        assert "Too many failed attempts" in response.text
        assert logged_in_user_id(client) is None
        user.refresh_from_db()
        assert user.last_login is None

    def test_lockout_cannot_be_dodged_by_changing_the_letter_case(self, client):
        UserFactory(email="ann@example.com")
        for spelling in ("ann@example.com", "Ann@example.com", "ANN@example.com"):
            post_login(client, spelling, "not-the-password")
        post_login(client, "ann@EXAMPLE.com", "not-the-password")
        post_login(client, "aNN@example.com", "not-the-password")

        response = post_login(client, "Ann@Example.Com", DEFAULT_PASSWORD)

        assert response.status_code == 429
        assert "Too many failed attempts" in response.text
        assert logged_in_user_id(client) is None

    def test_lockout_is_per_account_and_ends_after_the_cool_off(self, client):
        ann = UserFactory(email="ann@example.com")
        UserFactory(email="bob@example.com")
        for _ in range(5):
            post_login(client, "ann@example.com", "not-the-password")

        assert post_login(Client(), "bob@example.com", DEFAULT_PASSWORD).status_code == 302
        assert post_login(client, "ann@example.com", DEFAULT_PASSWORD).status_code == 429
        with time_machine.travel(timezone.now() + timedelta(minutes=16)):
            response = post_login(client, "ann@example.com", DEFAULT_PASSWORD)

        assert response.status_code == 302
        assert logged_in_user_id(client) == str(ann.pk)

    def test_closed_account_cannot_log_in(self, client):
        user = UserFactory(email="gone@example.com")
        services.account_delete(user=user, password=DEFAULT_PASSWORD)

        response = post_login(client, "gone@example.com", DEFAULT_PASSWORD)

        assert response.status_code == 200
        assert logged_in_user_id(client) is None


class TestTwoFactorLogin:
    def test_password_step_asks_for_code_and_does_not_log_in(self, client):
        user, _device = totp_user(email="two@example.com")

        response = post_login(client, "two@example.com", DEFAULT_PASSWORD)

        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/code/"
        assert logged_in_user_id(client) is None
        page = client.get("/accounts/login/code/")
        assert page.status_code == 200
        assert "Enter your code" in page.text
        assert client.get("/settings/profile/")["Location"].startswith("/accounts/login/")
        user.refresh_from_db()
        assert user.last_login is None

    def test_valid_code_logs_in_verified(self, client):
        user, device = totp_user(email="two@example.com")
        post_login(client, "two@example.com", DEFAULT_PASSWORD)

        response = client.post("/accounts/login/code/", {"token": current_totp(device)})

        assert response.status_code == 302
        assert response["Location"] == "/"
        assert logged_in_user_id(client) == str(user.pk)
        home = client.get("/")
        assert home.wsgi_request.user.is_verified()

    def test_wrong_code_is_refused(self, client):
        _user, device = totp_user(email="two@example.com")
        post_login(client, "two@example.com", DEFAULT_PASSWORD)
        wrong = wrong_totp(device)

        response = client.post("/accounts/login/code/", {"token": wrong})

        assert response.status_code == 200
        assert "That code is not valid" in field_errors(response, "token")
        assert logged_in_user_id(client) is None

    def test_next_is_kept_through_the_code_step(self, client):
        _user, device = totp_user(email="two@example.com")
        client.post(
            "/accounts/login/?next=/settings/tokens/",
            {"username": "two@example.com", "password": DEFAULT_PASSWORD},
        )

        response = client.post("/accounts/login/code/", {"token": current_totp(device)})

        assert response["Location"] == "/settings/tokens/"

    def test_password_step_expires(self, client):
        _user, device = totp_user(email="two@example.com")
        post_login(client, "two@example.com", DEFAULT_PASSWORD)

        with time_machine.travel(timezone.now() + timedelta(minutes=6)):
            response = client.post("/accounts/login/code/", {"token": current_totp(device)})

        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/"
        assert logged_in_user_id(client) is None

    def test_code_page_without_password_step_sends_to_login(self, client):
        response = client.get("/accounts/login/code/")

        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/"

    def test_backup_code_works_once(self, client):
        user, _device = totp_user(email="two@example.com")
        static = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
        StaticToken.objects.create(device=static, token="backup12")
        StaticToken.objects.create(device=static, token="backup34")
        post_login(client, "two@example.com", DEFAULT_PASSWORD)

        response = client.post("/accounts/login/code/", {"token": "backup12"})

        assert response.status_code == 302
        assert logged_in_user_id(client) == str(user.pk)
        assert client.get("/").wsgi_request.user.is_verified()
        assert list(StaticToken.objects.values_list("token", flat=True)) == ["backup34"]

        client.post("/accounts/logout/")
        assert logged_in_user_id(client) is None
        post_login(client, "two@example.com", DEFAULT_PASSWORD)
        response = client.post("/accounts/login/code/", {"token": "backup12"})

        assert response.status_code == 200
        assert "That code is not valid" in field_errors(response, "token")
        assert logged_in_user_id(client) is None


class TestOperatorTwoFactor:
    def test_operator_without_2fa_is_sent_to_security_settings(self, client):
        UserFactory(operator=True, email="ops@example.com")

        response = post_login(client, "ops@example.com", DEFAULT_PASSWORD, follow=True)

        assert response.redirect_chain[-1] == ("/settings/security/", 302)
        assert "you must turn on two-factor authentication" in response.text
        for path in ("/", "/settings/profile/", "/sell/", "/ops/"):
            blocked = client.get(path)
            assert blocked.status_code == 302, path
            assert blocked["Location"] == "/settings/security/", path

    def test_operator_without_2fa_gets_problem_from_the_api(self, client):
        login_as(client, UserFactory(operator=True))

        response = client.get("/api/v1/me")

        assert response.status_code == 403
        assert response.json()["code"] == "2fa_required"

    def test_operator_who_sets_up_2fa_can_continue(self, client):
        operator = UserFactory(operator=True)
        login_as(client, operator)

        client.post("/settings/security/", {"action": "start"})
        page = client.get("/settings/security/")
        assert "Scan this code" in page.text
        device = TOTPDevice.objects.get(user=operator, confirmed=False)
        response = client.post(
            "/settings/security/", {"action": "confirm", "token": current_totp(device)}
        )

        assert response.status_code == 200
        assert "Your backup codes" in response.text
        assert len(re.findall(r"<li>\w+</li>", response.text)) == services.BACKUP_CODE_COUNT
        assert client.get("/").status_code == 200
        assert client.get("/ops/").status_code == 200

    def test_operator_with_2fa_signs_in_with_a_code(self, client):
        operator, device = totp_user(operator=True, email="ops@example.com")

        post_login(client, "ops@example.com", DEFAULT_PASSWORD)
        response = client.post("/accounts/login/code/", {"token": current_totp(device)})

        assert logged_in_user_id(client) == str(operator.pk)
        assert response["Location"] == "/"
        assert client.get("/ops/").status_code == 200

    def test_unverified_operator_session_is_asked_for_a_code_and_returns(self, client):
        operator, device = totp_user(operator=True)
        login_as(client, operator)  # signed in, but this session never passed the code step

        blocked = client.get("/settings/profile/")
        assert blocked.status_code == 302
        assert blocked["Location"] == "/accounts/login/code/?next=/settings/profile/"

        response = client.post(blocked["Location"], {"token": current_totp(device)})

        assert response["Location"] == "/settings/profile/"
        assert client.get("/settings/profile/").status_code == 200

    def test_operator_cannot_turn_2fa_off(self, client):
        operator, device = totp_user(operator=True)
        login_as(client, operator)
        client.post("/accounts/login/code/", {"token": current_totp(device)})

        response = client.post(
            "/settings/security/", {"action": "disable", "password": DEFAULT_PASSWORD}
        )

        assert response.status_code == 400
        assert "Operators must keep two-factor authentication on." in page_text(response)
        assert TOTPDevice.objects.filter(user=operator, confirmed=True).exists()


class TestSecuritySettings:
    def test_enrol_then_turn_off_with_password(self, client):
        user = UserFactory()
        login_as(client, user)
        client.post("/settings/security/", {"action": "start"})
        device = TOTPDevice.objects.get(user=user)

        wrong = wrong_totp(device)
        response = client.post("/settings/security/", {"action": "confirm", "token": wrong})
        assert response.status_code == 400
        assert "That code did not match" in field_errors(response, "token")
        assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()

        # A failed try throttles the device for a moment: wait it out without sleeping.
        with time_machine.travel(timezone.now() + timedelta(seconds=31)):
            response = client.post(
                "/settings/security/", {"action": "confirm", "token": current_totp(device)}
            )
        assert response.status_code == 200
        assert "Your backup codes" in response.text
        assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()

        response = client.post("/settings/security/", {"action": "disable", "password": "nope"})
        assert response.status_code == 400
        assert "Your password is not correct." in field_errors(response, "password")
        assert TOTPDevice.objects.filter(user=user).exists()

        response = client.post(
            "/settings/security/", {"action": "disable", "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 302
        assert not TOTPDevice.objects.filter(user=user).exists()
        assert not StaticDevice.objects.filter(user=user).exists()


# --- password reset -------------------------------------------------------------------------


class TestPasswordReset:
    def test_emailed_link_sets_a_new_password(
        self, client, django_capture_on_commit_callbacks, mailoutbox
    ):
        user = UserFactory(email="forgot@example.com")

        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/accounts/password/reset/", {"email": "Forgot@Example.com"})

        assert response.status_code == 302
        assert response["Location"] == "/accounts/password/reset/sent/"
        assert len(mailoutbox) == 1
        assert mailoutbox[0].to == ["forgot@example.com"]
        path = re.search(r"/accounts/password/reset/[^/\s]+/[^/\s]+/", mailoutbox[0].body)[0]

        form_page = client.get(path, follow=True)
        assert form_page.status_code == 200
        assert "Choose a new password" in form_page.text
        set_password_url = form_page.redirect_chain[-1][0]
        response = client.post(
            set_password_url,
            {"new_password1": STRONG_PASSWORD, "new_password2": STRONG_PASSWORD},
        )

        assert response.status_code == 302
        assert response["Location"] == "/accounts/password/reset/complete/"
        user.refresh_from_db()
        assert user.check_password(STRONG_PASSWORD)
        assert not user.check_password(DEFAULT_PASSWORD)
        assert post_login(Client(), "forgot@example.com", STRONG_PASSWORD).status_code == 302
        # The link works only once.
        again = client.get(path, follow=True)
        assert "This link does not work" in again.text

    def test_unknown_email_looks_the_same_but_sends_nothing(
        self, client, django_capture_on_commit_callbacks, mailoutbox
    ):
        UserFactory(email="somebody@example.com")

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})

        assert response.status_code == 302
        assert response["Location"] == "/accounts/password/reset/sent/"
        assert callbacks == []
        assert mailoutbox == []


# --- selling --------------------------------------------------------------------------------


class TestBecomeSeller:
    def test_unverified_user_sees_banner_and_cannot_open_a_shop(self, client):
        login_as(client, UserFactory(unverified=True))

        page = client.get("/sell/")
        response = client.post("/sell/", {"name": "Studio", "tagline": "", "description": ""})

        assert page.status_code == 200
        assert "Verify your email address first" in page.text
        assert 'name="name"' not in page.text
        assert response.status_code == 200
        assert "Verify your email address first" in response.text
        assert not Shop.objects.exists()

    def test_verified_user_opens_a_shop_and_lands_on_it(self, client):
        user = UserFactory()
        login_as(client, user)

        response = client.post(
            "/sell/",
            {"name": "Studio Naranja", "tagline": "Logos that feel like you", "description": ""},
            follow=True,
        )

        assert response.redirect_chain == [("/shops/studio-naranja/", 302)]
        text = page_text(response)
        assert "Your shop “Studio Naranja” is open." in text
        assert "Logos that feel like you" in text
        assert "Edit shop" in text
        assert Shop.objects.get().owner == user
        # A seller visiting the page again goes to their shop.
        assert client.get("/sell/")["Location"] == "/shops/studio-naranja/"

    def test_shop_name_errors_are_shown_and_nothing_created(self, client):
        login_as(client, UserFactory())

        response = client.post("/sell/", {"name": "!!", "tagline": "", "description": ""})

        assert response.status_code == 200
        assert "Use some letters or digits" in field_errors(response, "name")
        assert not Shop.objects.exists()

    def test_shop_settings_rename_keeps_address(self, client):
        user = UserFactory()
        services.shop_create(user=user, name="Studio")
        login_as(client, user)

        response = client.post(
            "/settings/shop/", {"name": "Studio Two", "tagline": "New", "description": ""}
        )

        assert response["Location"] == "/shops/studio/"
        assert "Studio Two" in client.get("/shops/studio/").text


class TestShopPage:
    def test_public_shop_page(self, client):
        shop = ShopFactory(name="Kyoto Slow Walks", owner__display_name="Aiko Tanaka")

        response = client.get(f"/shops/{shop.slug}/")

        assert response.status_code == 200
        assert "Kyoto Slow Walks" in response.text
        assert "Aiko Tanaka" in response.text
        assert "Edit shop" not in response.text

    def test_deactivated_shop_is_not_found(self, client):
        shop = ShopFactory(name="Closed Down", is_active=False)

        response = client.get(f"/shops/{shop.slug}/")

        assert response.status_code == 404
        assert "Page not found" in response.text
        assert "Closed Down" not in response.text

    def test_shop_of_closed_account_is_not_found(self, client):
        shop = ShopFactory(name="Gone")
        services.account_delete(user=shop.owner, password=DEFAULT_PASSWORD)

        assert client.get(f"/shops/{shop.slug}/").status_code == 404


# --- settings -------------------------------------------------------------------------------


def profile_post(**overrides) -> dict:
    data = {
        "display_name": "Ann Lee",
        "bio": "",
        "location": "",
        "languages": "",
        "skills": "",
        "timezone": "UTC",
        "preferred_currency": "USD",
    }
    data.update(overrides)
    return data


class TestProfileSettings:
    def test_save_profile_with_avatar(self, client):
        user = UserFactory(display_name="Ann")
        login_as(client, user)

        response = client.post(
            "/settings/profile/",
            profile_post(
                display_name="Ann Lee",
                languages="English, Korean",
                timezone="Asia/Seoul",
                preferred_currency="KRW",
                avatar=png_upload(),
            ),
            follow=True,
        )

        assert response.redirect_chain == [("/settings/profile/", 302)]
        assert "Your profile is saved." in response.text
        user.refresh_from_db()
        assert user.display_name == "Ann Lee"
        assert user.languages == ["English", "Korean"]
        assert user.timezone == "Asia/Seoul"
        assert user.preferred_currency == "KRW"
        assert user.avatar.name.endswith(".webp")
        assert 'value="English, Korean"' in response.text

    def test_non_image_upload_shows_error_and_changes_nothing(self, client):
        user = UserFactory(display_name="Ann")
        login_as(client, user)
        fake = SimpleUploadedFile("cat.png", b"%PDF-1.4 not a picture", content_type="image/png")

        response = client.post(
            "/settings/profile/", profile_post(display_name="Changed", avatar=fake)
        )

        assert response.status_code == 200
        assert "That file is not an image we can read." in field_errors(response, "avatar")
        user.refresh_from_db()
        assert user.display_name == "Ann"
        assert not user.avatar

    def test_unknown_timezone_is_refused(self, client):
        user = UserFactory()
        login_as(client, user)

        response = client.post("/settings/profile/", profile_post(timezone="Mars/Base"))

        assert response.status_code == 200
        assert field_errors(response, "timezone")
        user.refresh_from_db()
        assert user.timezone == "UTC"

    def test_settings_need_sign_in(self, client):
        response = client.get("/settings/profile/")

        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=/settings/profile/")


class TestAccountSettings:
    def test_export_is_a_json_attachment_with_my_data(self, client):
        shop = ShopFactory(name="My Shop", owner__email="me@example.com")
        ShopFactory(name="Someone else's", owner__email="them@example.com")
        login_as(client, shop.owner)

        response = client.get("/settings/account/export/")

        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response["Content-Disposition"].startswith("attachment;")
        assert ".json" in response["Content-Disposition"]
        data = json.loads(response.content)
        assert data["account"]["email"] == "me@example.com"
        assert data["shop"]["name"] == "My Shop"
        assert data["shop"]["slug"] == shop.slug
        assert "them@example.com" not in response.content.decode()

    def test_delete_account_logs_out_and_erases_data(self, client):
        user = UserFactory(email="bye@example.com", display_name="Bye Bye")
        shop = ShopFactory(owner=user)
        login_as(client, user)

        response = client.post(
            "/settings/account/delete/",
            {"password": DEFAULT_PASSWORD, "confirm": "on"},
            follow=True,
        )

        assert response.redirect_chain == [("/", 302)]
        assert "Your account is closed" in response.text
        assert logged_in_user_id(client) is None
        user.refresh_from_db()
        assert user.email != "bye@example.com"
        assert user.display_name == "Deleted user"
        assert not user.is_active
        assert client.get(f"/shops/{shop.slug}/").status_code == 404
        assert post_login(Client(), "bye@example.com", DEFAULT_PASSWORD).status_code == 200

    @pytest.mark.parametrize(
        "data",
        [{"password": "wrong-password", "confirm": "on"}, {"password": DEFAULT_PASSWORD}],
    )
    def test_delete_account_needs_password_and_confirmation(self, client, data):
        user = UserFactory(email="stay@example.com")
        login_as(client, user)

        response = client.post("/settings/account/delete/", data)

        assert response.status_code == 400
        assert "Please fix the problem below." in response.text
        user.refresh_from_db()
        assert user.email == "stay@example.com"
        assert user.is_active
        assert logged_in_user_id(client) == str(user.pk)


class TestTokenSettings:
    def test_new_token_is_shown_once(self, client):
        user = UserFactory()
        login_as(client, user)

        response = client.post(
            "/settings/tokens/", {"name": "laptop script", "expires_in_days": "90"}, follow=True
        )

        assert response.redirect_chain == [("/settings/tokens/", 302)]
        raw = re.search(r'<code class="secret" id="new-token">([^<]+)</code>', response.text)[1]
        assert raw.startswith("mm_")
        assert "it will not be shown again" in response.text
        assert services.token_authenticate(raw=raw) == user
        token = ApiToken.objects.get(user=user)
        assert token.expires_at is not None

        again = client.get("/settings/tokens/")

        assert again.status_code == 200
        assert raw not in again.text
        assert "laptop script" in again.text
        assert token.prefix in again.text

    def test_revoke_own_token(self, client):
        user = UserFactory()
        token, raw = services.token_create(user=user, name="old script")
        login_as(client, user)

        response = client.post(f"/settings/tokens/{token.pk}/revoke/", follow=True)

        assert "Token “old script” is revoked." in page_text(response)
        assert services.token_authenticate(raw=raw) is None
        assert "No tokens yet." in response.text

    def test_revoking_another_users_token_is_not_found(self, client):
        token, raw = services.token_create(user=UserFactory(), name="theirs")
        login_as(client, UserFactory())

        response = client.post(f"/settings/tokens/{token.pk}/revoke/")

        assert response.status_code == 404
        token.refresh_from_db()
        assert token.revoked_at is None
        assert services.token_authenticate(raw=raw) == token.user

    def test_revoke_needs_post(self, client):
        user = UserFactory()
        token, _raw = services.token_create(user=user, name="script")
        login_as(client, user)

        response = client.get(f"/settings/tokens/{token.pk}/revoke/")

        assert response.status_code == 405
        token.refresh_from_db()
        assert token.revoked_at is None


# --- CSRF with htmx -------------------------------------------------------------------------


class TestCsrf:
    @pytest.mark.parametrize("source", ["cookie", "hx-headers"])
    def test_htmx_post_with_csrf_header_passes(self, source):
        user = UserFactory()
        client = login_as(Client(enforce_csrf_checks=True), user)
        page = client.get("/settings/tokens/")
        if source == "cookie":
            csrf = client.cookies["csrftoken"].value
        else:
            hx_headers = re.search(r"hx-headers='([^']+)'", page.text)[1]
            csrf = json.loads(hx_headers)["X-CSRFToken"]

        response = client.post(
            "/settings/tokens/",
            {"name": "from htmx", "expires_in_days": "30"},
            headers={"HX-Request": "true", "X-CSRFToken": csrf},
        )

        assert response.status_code == 302
        assert ApiToken.objects.filter(user=user, name="from htmx").exists()

    def test_post_without_csrf_token_is_refused(self):
        user = UserFactory()
        client = login_as(Client(enforce_csrf_checks=True), user)
        client.get("/settings/tokens/")

        response = client.post(
            "/settings/tokens/",
            {"name": "forged", "expires_in_days": "30"},
            headers={"HX-Request": "true"},
        )

        assert response.status_code == 403
        assert "Form expired" in response.text
        assert not ApiToken.objects.exists()
