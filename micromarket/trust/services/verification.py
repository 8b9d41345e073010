"""Writes of the verification area: phone numbers confirmed by a code sent by SMS, and sellers'
identity and trader details (EU Digital Services Act art. 30) reviewed by an operator.

Phone codes: 6 digits from ``secrets``, valid for 10 minutes, 5 tries, at most 3 codes an hour
per person; only an HMAC of the code is stored. Trader details: one submission waiting at a
time; the ID document must decode as an image and is kept only as a re-encoded WebP (metadata
stripped), served to operators by a view, never by a public URL. See docs/trust.md.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

import phonenumbers
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from micromarket.accounts import selectors as accounts_selectors
from micromarket.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from micromarket.core.images import image_normalise
from micromarket.messaging import services as messaging_services
from micromarket.payments import selectors as payments_selectors
from micromarket.trust import sms
from micromarket.trust.models import PhoneVerification, TraderVerification
from micromarket.trust.selectors import verification as selectors
from micromarket.trust.services import moderation

PHONE_CODE_TTL = timedelta(minutes=10)
PHONE_CODE_ATTEMPTS = 5
PHONE_CODES_PER_HOUR = 3
DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
DOCUMENT_MAX_SIDE = 2400  # enough to read a passport; smaller than a phone photo


# --- phone ------------------------------------------------------------------------------------


def _code_digest(*, user_id: int, phone: str, code: str) -> str:
    """Bound to the person and number, so a digest is worthless anywhere else."""
    message = f"trust.phone:{user_id}:{phone}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def phone_normalise(phone: str, *, region: str | None = None) -> str:
    """E.164 form of ``phone`` or ValidationFailed on ``phone``. Without a region the number
    must start with + and the country code."""
    invalid = ValidationFailed(
        "Enter a valid mobile number with its country code, like +44 7911 123456.",
        field="phone",
        code="phone_invalid",
    )
    try:
        parsed = phonenumbers.parse((phone or "").strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise invalid from exc
    if not phonenumbers.is_valid_number(parsed):
        raise invalid
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _region_hint(user) -> str | None:
    """The country of the person's trader details, if they gave any: lets them type a local
    number. Anyone else writes +country."""
    latest = TraderVerification.objects.filter(user=user).only("country").first()
    return latest.country if latest else None


def phone_start(*, user, phone: str, now=None) -> PhoneVerification:
    """Send a code to ``phone``; ``phone_confirm`` with the code makes it the person's phone."""
    now = now or timezone.now()
    number = phone_normalise(phone, region=_region_hint(user))
    with transaction.atomic():
        # Lock the person's row so two requests at once cannot both pass the hourly limit.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        current = selectors.phone_for(user=user)
        if current is not None and current.phone == number:
            raise Conflict("That number is already verified.", field="phone", code="phone_verified")
        recent = PhoneVerification.objects.filter(
            user=user, created_at__gt=now - timedelta(hours=1)
        ).order_by("created_at")
        if recent.count() >= PHONE_CODES_PER_HOUR:
            wait = recent.first().created_at + timedelta(hours=1) - now
            minutes = max(1, int(wait.total_seconds() // 60) + 1)
            raise RateLimited(
                f"You asked for {PHONE_CODES_PER_HOUR} codes in the last hour. "
                f"Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
                field="phone",
            )
        code = f"{secrets.randbelow(1_000_000):06d}"
        row = PhoneVerification.objects.create(
            user=user,
            phone=number,
            code_digest=_code_digest(user_id=user.pk, phone=number, code=code),
            created_at=now,
            expires_at=now + PHONE_CODE_TTL,
        )
        # Inside the transaction: if the provider refuses, no code is recorded (nor counted).
        minutes = int(PHONE_CODE_TTL.total_seconds() // 60)
        sms.sms_provider().send(
            to=number,
            body=f"Your {settings.SITE_NAME} code is {code}. It expires in {minutes} minutes. "
            "Never share it.",
        )
    return row


def phone_confirm(*, user, code: str, now=None) -> PhoneVerification:
    """Check ``code`` against the person's newest code; a wrong code uses up one of 5 tries
    (kept even though the call fails)."""
    now = now or timezone.now()
    code = "".join((code or "").split())
    failure: ValidationFailed | None = None
    with transaction.atomic():
        row = (
            PhoneVerification.objects.select_for_update()
            .filter(user=user, verified_at__isnull=True)
            .order_by("-created_at", "-id")
            .first()
        )
        if row is None:
            raise ValidationFailed(
                "There is no code to check. Enter your number to get one.",
                field="code",
                code="no_code",
            )
        if row.expires_at <= now:
            raise ValidationFailed(
                "That code has expired. Ask for a new one.", field="code", code="code_expired"
            )
        if row.attempts >= PHONE_CODE_ATTEMPTS:
            raise ValidationFailed(
                "Too many wrong codes. Ask for a new one.", field="code", code="too_many_attempts"
            )
        expected = row.code_digest
        given = _code_digest(user_id=user.pk, phone=row.phone, code=code)
        if not (code.isdigit() and len(code) == 6 and hmac.compare_digest(expected, given)):
            row.attempts += 1
            row.save(update_fields=["attempts"])
            left = PHONE_CODE_ATTEMPTS - row.attempts
            failure = ValidationFailed(
                f"That code is not right. {left} tr{'ies' if left != 1 else 'y'} left."
                if left
                else "That code is not right, and that was the last try. Ask for a new one.",
                field="code",
                code="code_wrong",
            )
        else:
            row.verified_at = now
            row.save(update_fields=["verified_at"])
    if failure is not None:
        raise failure
    return row


# --- identity and trader details --------------------------------------------------------------


def _required(value: str, *, field: str, label: str, max_length: int) -> str:
    value = " ".join((value or "").split())
    if not value:
        raise ValidationFailed(f"Enter your {label}.", field=field)
    if len(value) > max_length:
        raise ValidationFailed(f"Your {label} can be at most {max_length} characters.", field=field)
    return value


def trader_submit(
    *,
    user,
    legal_name: str,
    address_line: str,
    city: str,
    postal_code: str,
    country: str,
    payout_method_id: int,
    document,
    trade_register_number: str = "",
    now=None,
) -> TraderVerification:
    """A seller's identity and trader details, for an operator to review. Payouts wait until
    the newest submission is approved."""
    now = now or timezone.now()
    if accounts_selectors.shop_for_user(user=user) is None:
        raise PermissionDenied(
            "Only sellers give trader details. Open a shop first.", code="sellers_only"
        )
    fields = {
        "legal_name": _required(legal_name, field="legal_name", label="legal name", max_length=200),
        "address_line": _required(
            address_line, field="address_line", label="street address", max_length=300
        ),
        "city": _required(city, field="city", label="city", max_length=120),
        "postal_code": _required(
            postal_code, field="postal_code", label="postal code", max_length=20
        ),
    }
    country = (country or "").strip().upper()
    if country not in selectors.countries():
        raise ValidationFailed("Choose your country.", field="country")
    register = " ".join((trade_register_number or "").split())
    if len(register) > 80:
        raise ValidationFailed(
            "The trade register number can be at most 80 characters.",
            field="trade_register_number",
        )
    method = (
        payments_selectors.payout_methods_for_owner(owner=user).filter(pk=payout_method_id).first()
        if str(payout_method_id or "").isdigit()
        else None
    )
    if method is None:
        raise NotFound("No such payout method.", field="payout_method")
    if document is None:
        raise ValidationFailed("Add a photo or scan of your ID document.", field="document")
    image = image_normalise(
        document, field="document", max_bytes=DOCUMENT_MAX_BYTES, max_side=DOCUMENT_MAX_SIDE
    )
    data = image.read()
    image.seek(0)
    digest = hashlib.sha256(data).hexdigest()
    stored = None
    try:
        with transaction.atomic():
            if TraderVerification.objects.filter(user=user, status="pending").exists():
                raise Conflict(
                    "Your details are already waiting for review. "
                    "You can send new ones once they are reviewed.",
                    code="verification_pending",
                )
            row = TraderVerification(
                user=user,
                **fields,
                country=country,
                trade_register_number=register,
                payout_method=method,
                document_sha256=digest,
                created_at=now,
            )
            row.document.save(f"{digest[:32]}.webp", image, save=False)
            stored = row.document.name
            row.save()
            messaging_services.notify_operators(
                category="trust_queue",
                title=f"Trader details to review: {user.display_name}",
                body="A seller sent their identity and trader details.",
                url=reverse("trust:verification_ops_detail", args=[row.pk]),
                group_key="trust_trader_queue",
            )
    except BaseException as exc:
        if stored:  # the row was not written: do not keep an identity document without it
            default_storage.delete(stored)
        if isinstance(exc, IntegrityError):  # the same seller submitting twice at once
            raise Conflict(
                "Your details are already waiting for review.", code="verification_pending"
            ) from None
        raise
    return row


def trader_review(
    *, actor, verification_id: int, approve: bool, note: str = "", now=None
) -> TraderVerification:
    """An operator accepts or rejects a submission; a rejection says why (the seller sees it)."""
    moderation.operator_required(actor)
    now = now or timezone.now()
    note = " ".join((note or "").split())
    if not approve and not note:
        raise ValidationFailed(
            "Say why, so the seller knows what to fix.", field="note", code="reason_required"
        )
    if len(note) > 500:
        raise ValidationFailed("At most 500 characters.", field="note")
    with transaction.atomic():
        row = (
            TraderVerification.objects.select_for_update()
            .select_related("user")
            .filter(pk=verification_id)
            .first()
        )
        if row is None:
            raise NotFound("No such submission.")
        if row.user_id == actor.pk:
            raise PermissionDenied(
                "Another operator must review your own details.", code="own_submission"
            )
        if row.status != TraderVerification.Status.PENDING:
            raise Conflict(
                f"This submission was already reviewed ({row.get_status_display().lower()}).",
                code="already_reviewed",
            )
        row.status = (
            TraderVerification.Status.APPROVED if approve else TraderVerification.Status.REJECTED
        )
        row.reviewer = actor
        row.review_note = note
        row.reviewed_at = now
        row.save(update_fields=["status", "reviewer", "review_note", "reviewed_at"])
        moderation.audit_record(
            actor=actor,
            action="trader_approve" if approve else "trader_reject",
            target_kind="trader_verification",
            target_id=row.pk,
            target_user=row.user,
            reason=note or "Identity and trader details checked against the document.",
            data={"status": row.status, "document_sha256": row.document_sha256},
            now=now,
        )
        messaging_services.notification_send(
            user=row.user,
            category="account",
            title="Your identity is verified: payouts are on"
            if approve
            else "Your trader details were not accepted",
            body="" if approve else f"Reason: {note}",
            url=reverse("trust:verification"),
        )
    return row
