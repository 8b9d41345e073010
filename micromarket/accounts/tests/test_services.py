"""Services of the accounts app: what each write does, and what it refuses to do."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image

from micromarket.accounts import selectors, services
from micromarket.accounts.models import ApiToken, Shop, User
from micromarket.accounts.tests.factories import DEFAULT_PASSWORD, ShopFactory, UserFactory
from micromarket.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "violet-harbour-lantern-42"
VERIFY_LINK = re.compile(r"(https?://[^\s\"<>]+)?(/accounts/verify/(?P<token>[^/\s\"<>]+)/)")


# --- helpers --------------------------------------------------------------------------------


def png_upload(width=800, height=600, name="me.png", colour=(200, 80, 40)) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buf, format="PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def jpeg_with_gps() -> SimpleUploadedFile:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (52.0, 31.0, 12.0)
    buf = io.BytesIO()
    Image.new("RGB", (300, 300), (10, 120, 200)).save(buf, format="JPEG", exif=exif)
    return SimpleUploadedFile("holiday.jpg", buf.getvalue(), content_type="image/jpeg")


def current_totp(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def wrong_totp(device: TOTPDevice) -> str:
    """A code that no step inside the device's tolerance window would accept."""
    accepted = {
        f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + d):06d}"
        for d in range(-device.tolerance - 1, device.tolerance + 2)
    }
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in accepted)


def can_log_in(email: str, password: str) -> bool:
    request = RequestFactory().post("/accounts/login/")
    return authenticate(request=request, username=email, password=password) is not None


# --- sign-up and email verification ---------------------------------------------------------


class TestSignUp:
    def test_creates_account_with_lowercase_email_and_usable_password(self):
        user = services.user_sign_up(
            email="  Ann.Lee@Example.COM ", password=STRONG_PASSWORD, display_name=" Ann Lee "
        )

        user.refresh_from_db()
        assert user.email == "ann.lee@example.com"
        assert user.display_name == "Ann Lee"
        assert user.is_email_verified is False
        assert can_log_in("ANN.LEE@example.com", STRONG_PASSWORD)

    def test_sends_verification_email_with_working_link_after_commit(
        self, django_capture_on_commit_callbacks, mailoutbox
    ):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            user = services.user_sign_up(
                email="bo@example.com", password=STRONG_PASSWORD, display_name="Bo"
            )
            # Nothing goes out while the transaction is still open.
            assert mailoutbox == []

        assert len(callbacks) >= 1
        assert len(mailoutbox) == 1
        message = mailoutbox[0]
        assert message.to == ["bo@example.com"]
        assert "Verify your email" in message.subject
        match = VERIFY_LINK.search(message.body)
        assert match, message.body

        verified = services.email_verify(token=match.group("token"))

        assert verified.pk == user.pk
        user.refresh_from_db()
        assert user.is_email_verified

    def test_duplicate_email_in_other_case_is_refused_and_nothing_created(
        self, django_capture_on_commit_callbacks, mailoutbox
    ):
        UserFactory(email="taken@example.com")

        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(Conflict) as exc,
        ):
            services.user_sign_up(
                email="TAKEN@Example.com", password=STRONG_PASSWORD, display_name="Copycat"
            )

        assert exc.value.code == "email_taken"
        assert exc.value.field == "email"
        assert User.objects.count() == 1
        assert not User.objects.filter(display_name="Copycat").exists()
        assert mailoutbox == []

    @pytest.mark.parametrize("password", ["short1", "password123", "1234567890123", "bo@example"])
    def test_weak_password_is_refused_on_the_password_field(
        self, password, django_capture_on_commit_callbacks, mailoutbox
    ):
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(ValidationFailed) as exc,
        ):
            services.user_sign_up(email="bo@example.com", password=password, display_name="Bo")

        assert exc.value.field == "password"
        assert not User.objects.exists()
        assert mailoutbox == []

    @pytest.mark.parametrize(
        ("email", "display_name", "field"),
        [("not-an-email", "Bo", "email"), ("bo@example.com", "   ", "display_name")],
    )
    def test_bad_email_or_name_is_refused(self, email, display_name, field):
        with pytest.raises(ValidationFailed) as exc:
            services.user_sign_up(email=email, password=STRONG_PASSWORD, display_name=display_name)

        assert exc.value.field == field
        assert not User.objects.exists()


class TestEmailVerify:
    def test_valid_token_marks_the_address_verified(self):
        user = UserFactory(unverified=True)
        token = services.email_verification_token(user=user)

        services.email_verify(token=token)

        user.refresh_from_db()
        assert user.email_verified_at is not None

    def test_using_the_link_twice_keeps_the_first_verification_time(self):
        user = UserFactory(unverified=True)
        token = services.email_verification_token(user=user)
        services.email_verify(token=token)
        user.refresh_from_db()
        first = user.email_verified_at

        with time_machine.travel(timezone.now() + timedelta(hours=1)):
            services.email_verify(token=token)

        user.refresh_from_db()
        assert user.email_verified_at == first

    def test_expired_token_is_refused(self):
        user = UserFactory(unverified=True)
        token = services.email_verification_token(user=user)

        with (
            time_machine.travel(timezone.now() + timedelta(days=3, minutes=1)),
            pytest.raises(ValidationFailed) as exc,
        ):
            services.email_verify(token=token)

        assert exc.value.code == "link_expired"
        user.refresh_from_db()
        assert user.email_verified_at is None

    def test_token_still_valid_just_before_three_days(self):
        user = UserFactory(unverified=True)
        token = services.email_verification_token(user=user)

        with time_machine.travel(timezone.now() + timedelta(days=2, hours=23)):
            services.email_verify(token=token)

        user.refresh_from_db()
        assert user.is_email_verified

    def test_tampered_token_is_refused(self):
        user = UserFactory(unverified=True)
        token = services.email_verification_token(user=user)
        tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")

        with pytest.raises(ValidationFailed) as exc:
            services.email_verify(token=tampered)

        assert exc.value.code == "link_invalid"
        user.refresh_from_db()
        assert user.email_verified_at is None

    def test_token_for_a_previous_email_address_is_refused(self):
        user = UserFactory(unverified=True, email="old@example.com")
        token = services.email_verification_token(user=user)
        User.objects.filter(pk=user.pk).update(email="new@example.com")

        with pytest.raises(ValidationFailed) as exc:
            services.email_verify(token=token)

        assert exc.value.code == "link_invalid"
        user.refresh_from_db()
        assert user.email_verified_at is None

    def test_resend_for_verified_address_is_refused(
        self, django_capture_on_commit_callbacks, mailoutbox
    ):
        user = UserFactory()

        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(Conflict) as exc,
        ):
            services.email_verification_send(user=user)

        assert exc.value.code == "already_verified"
        assert mailoutbox == []

    def test_resend_for_unverified_address_sends_a_new_link(
        self, django_capture_on_commit_callbacks, mailoutbox
    ):
        user = UserFactory(unverified=True)

        with django_capture_on_commit_callbacks(execute=True):
            services.email_verification_send(user=user)

        assert len(mailoutbox) == 1
        assert mailoutbox[0].to == [user.email]
        assert "/accounts/verify/" in mailoutbox[0].body


# --- profile --------------------------------------------------------------------------------


class TestProfileUpdate:
    def test_changes_fields_and_cleans_lists(self):
        user = UserFactory()

        services.profile_update(
            user=user,
            display_name="  Ana   María ",
            bio=" Potter. ",
            location="Leipzig",
            languages="German, english, English , ,",
            skills=["ceramics", "  glazing  "],
            timezone="Europe/Berlin",
            preferred_currency="eur",
        )

        user.refresh_from_db()
        assert user.display_name == "Ana María"
        assert user.bio == "Potter."
        assert user.location == "Leipzig"
        assert user.languages == ["German", "english"]
        assert user.skills == ["ceramics", "glazing"]
        assert user.timezone == "Europe/Berlin"
        assert user.preferred_currency == "EUR"

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
            ({"preferred_currency": "XYZ"}, "preferred_currency"),
            ({"preferred_currency": ""}, "preferred_currency"),
            ({"languages": [f"language {i}" for i in range(21)]}, "languages"),
            ({"skills": ["x" * 41]}, "skills"),
            ({"display_name": "  "}, "display_name"),
            ({"display_name": "n" * 81}, "display_name"),
            ({"bio": "b" * 2001}, "bio"),
            ({"location": "l" * 121}, "location"),
        ],
    )
    def test_invalid_value_is_refused_and_nothing_changes(self, changes, field):
        user = UserFactory(display_name="Before", timezone="UTC", preferred_currency="USD")

        # A valid change sent alongside must not be saved either.
        alongside = {"location": "Elsewhere"} if field != "location" else {"bio": "New bio"}

        with pytest.raises(ValidationFailed) as exc:
            services.profile_update(user=user, **alongside, **changes)

        assert exc.value.field == field
        user.refresh_from_db()
        assert user.display_name == "Before"
        assert user.bio == user.location == ""
        assert user.timezone == "UTC"
        assert user.preferred_currency == "USD"
        assert user.languages == []
        assert user.skills == []

    def test_unknown_field_is_refused(self):
        user = UserFactory()

        with pytest.raises(ValidationFailed):
            services.profile_update(user=user, is_staff=True)

        user.refresh_from_db()
        assert user.is_staff is False

    def test_avatar_png_is_stored_as_square_webp_at_most_512px(self):
        user = UserFactory()

        services.profile_update(user=user, avatar=png_upload(1200, 700))

        user.refresh_from_db()
        assert user.avatar.name.startswith(f"avatars/{user.pk}/")
        assert user.avatar.name.endswith(".webp")
        with user.avatar.open("rb") as fh, Image.open(fh) as img:
            assert img.format == "WEBP"
            assert img.width == img.height == 512

    def test_small_avatar_is_cropped_square_without_upscaling(self):
        user = UserFactory()

        services.profile_update(user=user, avatar=png_upload(300, 200))

        user.refresh_from_db()
        with user.avatar.open("rb") as fh, Image.open(fh) as img:
            assert img.size == (200, 200)

    def test_text_file_named_png_is_refused_and_nothing_saved(self):
        user = UserFactory(display_name="Before")
        fake = SimpleUploadedFile("me.png", b"just some text, honest", content_type="image/png")

        with pytest.raises(ValidationFailed) as exc:
            services.profile_update(user=user, display_name="After", avatar=fake)

        assert exc.value.code == "image_invalid"
        assert exc.value.field == "avatar"
        user.refresh_from_db()
        assert not user.avatar
        assert user.display_name == "Before"

    def test_image_over_the_size_limit_is_refused(self, settings):
        settings.AVATAR_MAX_BYTES = 1024
        user = UserFactory()
        # Noise does not compress, so the PNG is well over 1 KB.
        noise = Image.effect_noise((600, 600), 100).convert("RGB")
        buf = io.BytesIO()
        noise.save(buf, format="PNG")
        upload = SimpleUploadedFile("big.png", buf.getvalue(), content_type="image/png")
        assert upload.size > settings.AVATAR_MAX_BYTES

        with pytest.raises(ValidationFailed) as exc:
            services.profile_update(user=user, avatar=upload)

        assert exc.value.code == "image_too_large"
        user.refresh_from_db()
        assert not user.avatar

    def test_exif_gps_is_stripped_from_avatar(self):
        user = UserFactory()
        upload = jpeg_with_gps()
        with Image.open(io.BytesIO(upload.read())) as original:
            assert original.getexif().get_ifd(0x8825)  # the upload really carries GPS
        upload.seek(0)

        services.profile_update(user=user, avatar=upload)

        user.refresh_from_db()
        with user.avatar.open("rb") as fh, Image.open(fh) as img:
            assert "exif" not in img.info
            assert not img.getexif().get_ifd(0x8825)
            assert 0x010F not in img.getexif()

    def test_replacing_avatar_deletes_the_old_file_after_commit(
        self, django_capture_on_commit_callbacks
    ):
        user = UserFactory()
        services.profile_update(user=user, avatar=png_upload())
        user.refresh_from_db()
        old_name = user.avatar.name
        storage = user.avatar.storage

        with django_capture_on_commit_callbacks(execute=True):
            services.profile_update(user=user, avatar=png_upload(colour=(0, 0, 0)))

        user.refresh_from_db()
        assert user.avatar.name != old_name
        assert storage.exists(user.avatar.name)
        assert not storage.exists(old_name)

    def test_remove_avatar(self):
        user = UserFactory()
        services.profile_update(user=user, avatar=png_upload())

        services.profile_update(user=user, remove_avatar=True)

        user.refresh_from_db()
        assert not user.avatar


# --- shops ----------------------------------------------------------------------------------


class TestShopCreate:
    def test_unverified_user_cannot_open_a_shop(self):
        user = UserFactory(unverified=True)

        with pytest.raises(PermissionDenied) as exc:
            services.shop_create(user=user, name="Studio")

        assert exc.value.code == "email_not_verified"
        assert not Shop.objects.exists()

    def test_slugs_are_unique(self):
        first = services.shop_create(user=UserFactory(), name="Studio", tagline="  Logos  ")
        second = services.shop_create(user=UserFactory(), name="Studio")

        assert first.slug == "studio"
        assert first.tagline == "Logos"
        assert second.slug == "studio-2"
        assert selectors.user_roles(user=first.owner) == ["buyer", "seller"]

    def test_second_shop_is_refused(self):
        user = UserFactory()
        services.shop_create(user=user, name="Studio")

        with pytest.raises(Conflict) as exc:
            services.shop_create(user=user, name="Another one")

        assert exc.value.code == "already_seller"
        assert list(Shop.objects.filter(owner=user).values_list("name", flat=True)) == ["Studio"]

    def test_names_in_other_scripts_are_accepted(self):
        kyoto = services.shop_create(user=UserFactory(), name="京都の散歩")
        moscow = services.shop_create(user=UserFactory(), name="Москва Керамика")
        cafe = services.shop_create(user=UserFactory(), name="Café Ünïcode")

        assert kyoto.name == "京都の散歩"
        assert kyoto.slug == "shop"
        assert moscow.slug == "shop-2"
        assert cafe.slug == "cafe-unicode"
        assert selectors.shop_get_public(slug="shop-2") == moscow

    @pytest.mark.parametrize("name", ["", "a", "!!!", "-- __ --", "n" * 81])
    def test_bad_name_is_refused(self, name):
        with pytest.raises(ValidationFailed) as exc:
            services.shop_create(user=UserFactory(), name=name)

        assert exc.value.field == "name"
        assert not Shop.objects.exists()


class TestShopUpdate:
    def test_rename_keeps_the_slug(self):
        user = UserFactory()
        shop = services.shop_create(user=user, name="Studio")

        services.shop_update(user=user, name="Studio Naranja", tagline="New", description="Hi")

        shop.refresh_from_db()
        assert shop.name == "Studio Naranja"
        assert shop.slug == "studio"
        assert shop.tagline == "New"
        assert shop.description == "Hi"

    def test_user_without_shop_gets_not_found(self):
        other = ShopFactory(name="Theirs")

        with pytest.raises(NotFound):
            services.shop_update(user=UserFactory(), name="Mine now")

        other.refresh_from_db()
        assert other.name == "Theirs"


# --- API tokens -----------------------------------------------------------------------------


class TestTokens:
    def test_create_returns_raw_secret_and_stores_only_its_digest(self):
        user = UserFactory()

        token, raw = services.token_create(user=user, name="  laptop   script ")

        assert raw.startswith("mm_")
        assert len(raw) > 40
        stored = ApiToken.objects.get(pk=token.pk)
        assert stored.name == "laptop script"
        assert stored.digest == hashlib.sha256(raw.encode()).hexdigest()
        assert stored.prefix == raw[:10]
        stored_values = [
            str(v) for v in ApiToken.objects.filter(pk=token.pk).values().get().values()
        ]
        assert raw not in stored_values

    def test_authenticate_returns_the_owner_and_records_use(self):
        user = UserFactory()
        token, raw = services.token_create(user=user, name="script")

        assert services.token_authenticate(raw=raw) == user

        token.refresh_from_db()
        assert token.last_used_at is not None

    @pytest.mark.parametrize("raw", ["", "mm_not-a-real-token", "ghp_something", "mm_" + "x" * 200])
    def test_unknown_tokens_do_not_authenticate(self, raw):
        services.token_create(user=UserFactory(), name="script")

        assert services.token_authenticate(raw=raw) is None

    def test_revoked_token_does_not_authenticate(self):
        user = UserFactory()
        token, raw = services.token_create(user=user, name="script")

        services.token_revoke(user=user, token_id=token.pk)

        token.refresh_from_db()
        assert token.revoked_at is not None
        assert services.token_authenticate(raw=raw) is None

    def test_expired_token_does_not_authenticate(self):
        user = UserFactory()
        _token, raw = services.token_create(user=user, name="script", expires_in_days=30)

        with time_machine.travel(timezone.now() + timedelta(days=29)):
            assert services.token_authenticate(raw=raw) == user
        with time_machine.travel(timezone.now() + timedelta(days=30, minutes=1)):
            assert services.token_authenticate(raw=raw) is None

    def test_token_of_a_closed_account_does_not_authenticate(self):
        user = UserFactory()
        _token, raw = services.token_create(user=user, name="script")
        User.objects.filter(pk=user.pk).update(is_active=False)

        assert services.token_authenticate(raw=raw) is None

    def test_revoking_another_users_token_is_not_found_and_it_keeps_working(self):
        owner = UserFactory()
        token, raw = services.token_create(user=owner, name="script")

        with pytest.raises(NotFound):
            services.token_revoke(user=UserFactory(), token_id=token.pk)

        token.refresh_from_db()
        assert token.revoked_at is None
        assert services.token_authenticate(raw=raw) == owner

    def test_revoking_twice_is_not_found(self):
        user = UserFactory()
        token, _raw = services.token_create(user=user, name="script")
        services.token_revoke(user=user, token_id=token.pk)

        with pytest.raises(NotFound):
            services.token_revoke(user=user, token_id=token.pk)

    @pytest.mark.parametrize(
        ("name", "days", "field"),
        [("", None, "name"), ("n" * 81, None, "name"), ("ok", 0, "expires_in_days")],
    )
    def test_bad_input_is_refused(self, name, days, field):
        user = UserFactory()

        with pytest.raises(ValidationFailed) as exc:
            services.token_create(user=user, name=name, expires_in_days=days)

        assert exc.value.field == field
        assert not ApiToken.objects.exists()

    def test_at_most_twenty_active_tokens(self):
        user = UserFactory()
        for i in range(20):
            services.token_create(user=user, name=f"t{i}")

        with pytest.raises(Conflict) as exc:
            services.token_create(user=user, name="one too many")

        assert exc.value.code == "too_many_tokens"
        assert ApiToken.objects.filter(user=user).count() == 20


# --- two-factor authentication --------------------------------------------------------------


class TestTwoFactor:
    def test_enrolment_with_a_correct_code_turns_2fa_on_and_returns_backup_codes(self):
        user = UserFactory()
        device = services.totp_device_start(user=user)
        assert not selectors.user_has_two_factor(user=user)

        confirmed, codes = services.totp_device_confirm(user=user, token=current_totp(device))

        assert confirmed.pk == device.pk
        assert TOTPDevice.objects.get(pk=device.pk).confirmed
        assert len(codes) == services.BACKUP_CODE_COUNT
        assert len(set(codes)) == len(codes)
        stored = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
        assert stored == set(codes)
        assert selectors.user_has_two_factor(user=user)

    def test_wrong_code_is_refused_and_device_stays_unconfirmed(self):
        user = UserFactory()
        device = services.totp_device_start(user=user)
        wrong = wrong_totp(device)

        with pytest.raises(ValidationFailed) as exc:
            services.totp_device_confirm(user=user, token=wrong)

        assert exc.value.field == "token"
        assert not TOTPDevice.objects.get(pk=device.pk).confirmed
        assert not StaticDevice.objects.filter(user=user).exists()
        assert not selectors.user_has_two_factor(user=user)

    def test_confirm_without_start_is_refused(self):
        user = UserFactory()

        with pytest.raises(Conflict):
            services.totp_device_confirm(user=user, token="123456")

        assert not selectors.user_has_two_factor(user=user)

    def test_start_again_replaces_the_unconfirmed_device(self):
        user = UserFactory()
        first = services.totp_device_start(user=user)

        second = services.totp_device_start(user=user)

        assert list(TOTPDevice.objects.filter(user=user)) == [second]
        assert first.key != second.key

    def test_start_when_already_on_is_refused(self):
        user = UserFactory()
        device = services.totp_device_start(user=user)
        services.totp_device_confirm(user=user, token=current_totp(device))

        with pytest.raises(Conflict):
            services.totp_device_start(user=user)

        assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1

    def _enrol(self, user):
        device = services.totp_device_start(user=user)
        services.totp_device_confirm(user=user, token=current_totp(device))

    def test_disable_with_password_removes_devices(self):
        user = UserFactory()
        self._enrol(user)

        services.two_factor_disable(user=user, password=DEFAULT_PASSWORD)

        assert not TOTPDevice.objects.filter(user=user).exists()
        assert not StaticDevice.objects.filter(user=user).exists()
        assert not selectors.user_has_two_factor(user=user)

    def test_operator_cannot_disable(self):
        operator = UserFactory(operator=True)
        self._enrol(operator)

        with pytest.raises(PermissionDenied) as exc:
            services.two_factor_disable(user=operator, password=DEFAULT_PASSWORD)

        assert exc.value.code == "2fa_required"
        assert selectors.user_has_two_factor(user=operator)

    def test_wrong_password_cannot_disable(self):
        user = UserFactory()
        self._enrol(user)

        with pytest.raises(ValidationFailed) as exc:
            services.two_factor_disable(user=user, password="not-my-password")

        assert exc.value.code == "bad_password"
        assert selectors.user_has_two_factor(user=user)

    def test_regenerating_backup_codes_replaces_the_old_ones(self):
        user = UserFactory()
        self._enrol(user)
        old = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))

        new = services.backup_codes_regenerate(user=user, password=DEFAULT_PASSWORD)

        stored = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
        assert stored == set(new)
        assert not old & stored


# --- account deletion -----------------------------------------------------------------------


class TestAccountDelete:
    def _full_account(self):
        user = UserFactory(email="erase.me@example.com", display_name="Erase Me")
        services.profile_update(
            user=user,
            bio="My life story",
            location="Somewhere",
            languages=["English"],
            skills=["pottery"],
            avatar=png_upload(),
        )
        services.shop_create(user=user, name="Erase Shop", tagline="Tag", description="Desc")
        _token, raw = services.token_create(user=user, name="script")
        device = services.totp_device_start(user=user)
        services.totp_device_confirm(user=user, token=current_totp(device))
        user.refresh_from_db()
        return user, raw

    def test_erases_personal_data_and_closes_the_account(self, django_capture_on_commit_callbacks):
        user, raw = self._full_account()
        avatar_name, storage = user.avatar.name, user.avatar.storage
        assert storage.exists(avatar_name)

        with django_capture_on_commit_callbacks(execute=True):
            services.account_delete(user=user, password=DEFAULT_PASSWORD)

        user.refresh_from_db()
        assert "erase.me" not in user.email
        assert user.display_name == "Deleted user"
        assert user.bio == user.location == ""
        assert user.languages == user.skills == []
        assert not user.avatar
        assert not storage.exists(avatar_name)
        assert user.is_active is False
        assert user.deleted_at is not None
        shop = Shop.objects.get(owner=user)
        assert shop.is_active is False
        assert shop.tagline == shop.description == ""
        with pytest.raises(NotFound):
            selectors.shop_get_public(slug=shop.slug)
        assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()
        assert services.token_authenticate(raw=raw) is None
        assert not TOTPDevice.objects.filter(user=user).exists()
        assert not StaticDevice.objects.filter(user=user).exists()
        assert not can_log_in("erase.me@example.com", DEFAULT_PASSWORD)
        assert not can_log_in(user.email, DEFAULT_PASSWORD)

    def test_email_can_be_used_again_after_deletion(self):
        user = UserFactory(email="again@example.com")
        services.account_delete(user=user, password=DEFAULT_PASSWORD)

        again = services.user_sign_up(
            email="again@example.com", password=STRONG_PASSWORD, display_name="Again"
        )

        assert again.pk != user.pk

    def test_wrong_password_changes_nothing(self):
        user, raw = self._full_account()

        with pytest.raises(ValidationFailed) as exc:
            services.account_delete(user=user, password="wrong-password-here")

        assert exc.value.code == "bad_password"
        user.refresh_from_db()
        assert user.email == "erase.me@example.com"
        assert user.display_name == "Erase Me"
        assert user.bio == "My life story"
        assert user.avatar
        assert user.is_active
        assert user.deleted_at is None
        assert Shop.objects.get(owner=user).is_active
        assert services.token_authenticate(raw=raw) == user
        assert selectors.user_has_two_factor(user=user)
        assert can_log_in("erase.me@example.com", DEFAULT_PASSWORD)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_sign_ups_with_one_email_create_one_account():
    """Two requests race past the existence check; the database's unique index decides."""
    import threading

    from django.db import connection

    from micromarket.core.errors import Conflict as ConflictError

    barrier = threading.Barrier(6)
    outcomes: list[str] = []
    lock = threading.Lock()

    def sign_up(n: int) -> None:
        try:
            barrier.wait()
            services.user_sign_up(
                email="Race@Example.test", password="correct-horse-battery", display_name=f"R{n}"
            )
            result = "created"
        except ConflictError as exc:
            result = exc.code
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=sign_up, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["created"] + ["email_taken"] * 5
    assert User.objects.filter(email__iexact="race@example.test").count() == 1
