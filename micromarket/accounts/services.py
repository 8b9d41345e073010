"""Writes about people and shops. Each service is one transaction; errors are DomainErrors."""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from datetime import timedelta

from babel.numbers import list_currencies
from django.conf import settings
from django.contrib.auth import password_validation
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from micromarket.accounts.models import ApiToken, Shop, User
from micromarket.catalog import services as catalog_services
from micromarket.core.emails import email_send_after_commit
from micromarket.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from micromarket.core.images import image_normalise

EMAIL_VERIFY_SALT = "micromarket.accounts.verify-email"
TOKEN_PREFIX = "mm_"  # noqa: S105 — a public prefix, not a secret
BACKUP_CODE_COUNT = 10
MAX_LIST_ITEMS = 20
MAX_LIST_ITEM_LENGTH = 40
CURRENCIES = frozenset(list_currencies())
TIMEZONES = frozenset(zoneinfo.available_timezones())


# --- sign-up and email verification ---------------------------------------------------------


def _normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationFailed("Enter a valid email address.", field="email") from None
    return email


def _check_password(password: str, *, user: User, field: str = "password") -> None:
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), field=field, code="weak_password") from None


@transaction.atomic
def user_sign_up(*, email: str, password: str, display_name: str) -> User:
    """Create an account and send the email-verification link (after commit)."""
    email = _normalise_email(email)
    display_name = (display_name or "").strip()
    if not display_name:
        raise ValidationFailed("Tell people what to call you.", field="display_name")
    if len(display_name) > 80:
        raise ValidationFailed("Use at most 80 characters.", field="display_name")
    candidate = User(email=email, display_name=display_name)
    _check_password(password, user=candidate)
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(
            "An account with this email already exists. Sign in or reset your password.",
            field="email",
            code="email_taken",
        )
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email, password=password, display_name=display_name
            )
    except IntegrityError:  # the same email signed up a moment ago
        raise Conflict(
            "An account with this email already exists.", field="email", code="email_taken"
        ) from None
    email_verification_send(user=user)
    return user


def email_verification_token(*, user: User) -> str:
    return signing.dumps({"u": user.pk, "e": user.email}, salt=EMAIL_VERIFY_SALT, compress=True)


def email_verification_send(*, user: User) -> None:
    if user.is_email_verified:
        raise Conflict("Your email address is already verified.", code="already_verified")
    token = email_verification_token(user=user)
    email_send_after_commit(
        to=user.email,
        template="accounts/email/verify_email",
        context={
            "display_name": user.display_name,
            "verify_url": f"{settings.SITE_URL}/accounts/verify/{token}/",
            "valid_days": settings.EMAIL_VERIFICATION_MAX_AGE.days,
        },
    )


@transaction.atomic
def email_verify(*, token: str) -> User:
    """Mark the address in ``token`` verified. Valid for EMAIL_VERIFICATION_MAX_AGE."""
    try:
        data = signing.loads(
            token,
            salt=EMAIL_VERIFY_SALT,
            max_age=settings.EMAIL_VERIFICATION_MAX_AGE.total_seconds(),
        )
    except signing.SignatureExpired:
        raise ValidationFailed(
            "This verification link has expired. Sign in and ask for a new one.",
            code="link_expired",
        ) from None
    except signing.BadSignature:
        raise ValidationFailed(
            "This verification link is not valid.", code="link_invalid"
        ) from None
    user = (
        User.objects.select_for_update()
        .filter(pk=data.get("u"), email=data.get("e"), deleted_at__isnull=True)
        .first()
    )
    if user is None:
        raise ValidationFailed("This verification link is not valid.", code="link_invalid")
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    return user


# --- profile --------------------------------------------------------------------------------


def _clean_list(values, *, field: str) -> list[str]:
    if isinstance(values, str):
        values = values.split(",")
    cleaned: list[str] = []
    for value in values or []:
        item = " ".join(str(value).split())
        if not item:
            continue
        if len(item) > MAX_LIST_ITEM_LENGTH:
            raise ValidationFailed(
                f"“{item[:20]}…” is too long; use at most {MAX_LIST_ITEM_LENGTH} characters.",
                field=field,
            )
        if item.casefold() not in {c.casefold() for c in cleaned}:
            cleaned.append(item)
    if len(cleaned) > MAX_LIST_ITEMS:
        raise ValidationFailed(f"List at most {MAX_LIST_ITEMS}.", field=field)
    return cleaned


PROFILE_FIELDS = (
    "display_name",
    "bio",
    "location",
    "languages",
    "skills",
    "timezone",
    "preferred_currency",
)


@transaction.atomic
def profile_update(
    *,
    user: User,
    avatar=None,
    remove_avatar: bool = False,
    **changes,
) -> User:
    """Change any of PROFILE_FIELDS; ``avatar`` is an uploaded file (checked and resized)."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown profile field: {', '.join(sorted(unknown))}.")
    user = User.objects.select_for_update().get(pk=user.pk)
    if "display_name" in changes:
        name = " ".join((changes["display_name"] or "").split())
        if not name:
            raise ValidationFailed("Tell people what to call you.", field="display_name")
        if len(name) > 80:
            raise ValidationFailed("Use at most 80 characters.", field="display_name")
        user.display_name = name
    for field, limit in (("bio", 2000), ("location", 120)):
        if field in changes:
            value = (changes[field] or "").strip()
            if len(value) > limit:
                raise ValidationFailed(f"Use at most {limit} characters.", field=field)
            setattr(user, field, value)
    for field in ("languages", "skills"):
        if field in changes:
            setattr(user, field, _clean_list(changes[field], field=field))
    if "timezone" in changes:
        if changes["timezone"] not in TIMEZONES:
            raise ValidationFailed("Choose a timezone from the list.", field="timezone")
        user.timezone = changes["timezone"]
    if "preferred_currency" in changes:
        currency = (changes["preferred_currency"] or "").upper()
        if currency not in CURRENCIES:
            raise ValidationFailed(
                "Choose a currency by its ISO 4217 code, e.g. USD or EUR.",
                field="preferred_currency",
            )
        user.preferred_currency = currency
    old_avatar = user.avatar.name if user.avatar else ""
    if avatar is not None:
        image = image_normalise(
            avatar,
            field="avatar",
            max_bytes=settings.AVATAR_MAX_BYTES,
            max_side=settings.AVATAR_SIZE_PX,
            square=True,
        )
        user.avatar.save(image.name, image, save=False)
    elif remove_avatar:
        user.avatar = ""
    user.save()
    if old_avatar and old_avatar != (user.avatar.name or ""):
        storage = user.avatar.storage
        transaction.on_commit(lambda: storage.delete(old_avatar))
    return user


# --- shops ----------------------------------------------------------------------------------


def _unique_slug(name: str) -> str:
    base = slugify(name)[:80].strip("-") or "shop"
    slug, n = base, 1
    while Shop.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _clean_shop_fields(*, name: str, tagline: str, description: str) -> tuple[str, str, str]:
    name = " ".join((name or "").split())
    if len(name) < 2:
        raise ValidationFailed("Give your shop a name of at least 2 characters.", field="name")
    if len(name) > 80:
        raise ValidationFailed("Use at most 80 characters.", field="name")
    # Letters in any script count (京都, Москва); a name with no ASCII ones gets the slug "shop".
    if not any(ch.isalnum() for ch in name):
        raise ValidationFailed("Use some letters or digits in the name.", field="name")
    tagline = " ".join((tagline or "").split())
    if len(tagline) > 160:
        raise ValidationFailed("Use at most 160 characters.", field="tagline")
    description = (description or "").strip()
    if len(description) > 5000:
        raise ValidationFailed("Use at most 5000 characters.", field="description")
    return name, tagline, description


def shop_create(*, user: User, name: str, tagline: str = "", description: str = "") -> Shop:
    """Become a seller: open a shop with a unique, permanent slug. Needs a verified email."""
    name, tagline, description = _clean_shop_fields(
        name=name, tagline=tagline, description=description
    )
    if not user.is_email_verified:
        raise PermissionDenied(
            "Verify your email address before opening a shop.", code="email_not_verified"
        )
    for _attempt in range(5):
        try:
            with transaction.atomic():
                User.objects.select_for_update().get(pk=user.pk)
                if Shop.objects.filter(owner=user).exists():
                    raise Conflict("You already have a shop.", code="already_seller")
                return Shop.objects.create(
                    owner=user,
                    name=name,
                    slug=_unique_slug(name),
                    tagline=tagline,
                    description=description,
                )
        except IntegrityError:
            # Another shop took the same slug between our check and insert: pick again.
            continue
    raise Conflict("Could not reserve an address for your shop; try again.", code="slug_busy")


@transaction.atomic
def shop_update(*, user: User, name: str, tagline: str = "", description: str = "") -> Shop:
    """Rename or redescribe the caller's shop. The slug (its address) stays the same."""
    name, tagline, description = _clean_shop_fields(
        name=name, tagline=tagline, description=description
    )
    shop = Shop.objects.select_for_update().filter(owner=user).first()
    if shop is None:
        raise NotFound("You do not have a shop yet.")
    renamed = shop.name != name
    shop.name, shop.tagline, shop.description = name, tagline, description
    shop.save(update_fields=["name", "tagline", "description"])
    if renamed:
        catalog_services.shop_offers_reindex(shop_id=shop.pk)
    return shop


# --- personal access tokens -----------------------------------------------------------------


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def token_create(
    *, user: User, name: str, expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """Create a token; return it with the raw secret, which is never stored or shown again."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed("Name the token so you can recognise it later.", field="name")
    if len(name) > 80:
        raise ValidationFailed("Use at most 80 characters.", field="name")
    if expires_in_days is not None and not 1 <= expires_in_days <= 366:
        raise ValidationFailed("Expiry must be between 1 and 366 days.", field="expires_in_days")
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= 20:
        raise Conflict("You have 20 active tokens; revoke one first.", code="too_many_tokens")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[:10],
        digest=token_digest(raw),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    return token, raw


@transaction.atomic
def token_revoke(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of the caller's tokens. Someone else's token is NotFound, not Forbidden."""
    token = ApiToken.objects.select_for_update().filter(pk=token_id, user=user).first()
    if token is None or token.revoked_at is not None:
        raise NotFound("There is no such token.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    return token


def token_authenticate(*, raw: str) -> User | None:
    """The active user a raw bearer token belongs to, or None. Records its last use."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(raw), revoked_at__isnull=True)
        .first()
    )
    now = timezone.now()
    if token is None or not token.is_usable(now) or not token.user.is_active:
        return None
    if token.user.deleted_at is not None:
        return None
    # Touch last_used_at at most once a minute: one conditional UPDATE, no read-modify-write.
    ApiToken.objects.filter(pk=token.pk).exclude(
        last_used_at__gt=now - timedelta(minutes=1)
    ).update(last_used_at=now)
    return token.user


# --- two-factor authentication --------------------------------------------------------------


@transaction.atomic
def totp_device_start(*, user: User) -> TOTPDevice:
    """Begin enrolling an authenticator app: a fresh, unconfirmed device (replacing any other)."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise Conflict("Two-factor authentication is already on.", code="2fa_enabled")
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def _new_backup_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


@transaction.atomic
def totp_device_confirm(*, user: User, token: str) -> tuple[TOTPDevice, list[str]]:
    """Finish enrolling with a code from the app; returns the device and new backup codes."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None:
        raise Conflict("Start setting up two-factor authentication first.", code="2fa_not_started")
    if not device.verify_token((token or "").replace(" ", "")):
        raise ValidationFailed(
            "That code did not match. Check the time on your phone and try the newest code.",
            field="token",
            code="2fa_code_invalid",
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device, _new_backup_codes(user)


def _require_password(user: User, password: str) -> None:
    if not user.check_password(password or ""):
        raise ValidationFailed(
            "Your password is not correct.", field="password", code="bad_password"
        )


@transaction.atomic
def backup_codes_regenerate(*, user: User, password: str) -> list[str]:
    _require_password(user, password)
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise Conflict("Turn on two-factor authentication first.", code="2fa_disabled")
    return _new_backup_codes(user)


@transaction.atomic
def two_factor_disable(*, user: User, password: str) -> None:
    """Turn 2FA off (password required). Operators must keep it on."""
    _require_password(user, password)
    if user.is_staff:
        raise PermissionDenied(
            "Operators must keep two-factor authentication on.", code="2fa_required"
        )
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


# --- account deletion -----------------------------------------------------------------------


@transaction.atomic
def account_delete(*, user: User, password: str) -> None:
    """Close the account and erase personal data.

    The row stays (anonymised, inactive) so that records other people rely on — orders, reviews,
    ledger postings, all added by later parts — keep pointing at something; the person's data does
    not survive: email, name, profile, avatar, shop, tokens and 2FA devices are removed.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    _require_password(user, password)
    if user.deleted_at is not None:
        raise Conflict("This account is already closed.", code="already_deleted")
    avatar_name = user.avatar.name if user.avatar else ""
    storage = user.avatar.storage
    Shop.objects.filter(owner=user).update(is_active=False, tagline="", description="")
    catalog_services.seller_offers_withdraw(seller=user, reason="The seller closed their account.")
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    user.email = f"deleted-{user.pk}@deleted.invalid"
    user.display_name = "Deleted user"
    user.bio = user.location = ""
    user.languages, user.skills = [], []
    user.avatar = ""
    user.is_active = False
    user.is_staff = user.is_superuser = False
    user.deleted_at = timezone.now()
    user.set_unusable_password()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    if avatar_name:
        transaction.on_commit(lambda: storage.delete(avatar_name))


# --- suspension (operators; called by trust's moderation, which writes the audit log) -------


@transaction.atomic
def user_suspend(*, user_id: int, actor: User, reason: str) -> User:
    """Suspend an account: it cannot sign in, its sessions and API tokens stop working, and its
    shop and offers leave the public pages and search until an operator reinstates it.

    Reversible on purpose, unlike ``account_delete``: tokens are refused (not revoked) and
    offers keep their status, so ``user_reinstate`` restores everything as it was. Sessions end
    on their next request: Django's backend turns an inactive user into an anonymous one.
    """
    if actor is None or not actor.is_staff:
        raise PermissionDenied("Only operators can suspend accounts.", code="operators_only")
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationFailed("Say why the account is suspended.", field="reason")
    user = User.objects.select_for_update().filter(pk=user_id, deleted_at__isnull=True).first()
    if user is None:
        raise NotFound("There is no such user.")
    if user.pk == actor.pk or user.is_staff:
        raise Conflict(
            "Operators cannot be suspended; remove the operator role first.",
            code="cannot_suspend_operator",
        )
    if user.suspended_at is not None:
        raise Conflict("This account is already suspended.", code="already_suspended")
    user.suspended_at = timezone.now()
    user.suspended_reason = reason[:500]
    user.is_active = False
    user.save(update_fields=["suspended_at", "suspended_reason", "is_active"])
    for shop in Shop.objects.select_for_update().filter(owner=user, is_active=True):
        Shop.objects.filter(pk=shop.pk).update(is_active=False)
        catalog_services.shop_offers_reindex(shop_id=shop.pk)
    return user


@transaction.atomic
def user_reinstate(*, user_id: int, actor: User, reason: str) -> User:
    """Lift a suspension: the account signs in again and its shop and offers are back."""
    if actor is None or not actor.is_staff:
        raise PermissionDenied("Only operators can reinstate accounts.", code="operators_only")
    if not " ".join((reason or "").split()):
        raise ValidationFailed("Say why the account is reinstated.", field="reason")
    user = User.objects.select_for_update().filter(pk=user_id, deleted_at__isnull=True).first()
    if user is None:
        raise NotFound("There is no such user.")
    if user.suspended_at is None:
        raise Conflict("This account is not suspended.", code="not_suspended")
    user.suspended_at = None
    user.suspended_reason = ""
    user.is_active = True
    user.save(update_fields=["suspended_at", "suspended_reason", "is_active"])
    for shop in Shop.objects.select_for_update().filter(owner=user, is_active=False):
        Shop.objects.filter(pk=shop.pk).update(is_active=True)
        catalog_services.shop_offers_reindex(shop_id=shop.pk)
    return user
