"""Demo verification: verified phones and approved trader details for two sellers (Maria, whose
payout the payments demo makes, and Kwame), and Aiko's details waiting in the operators' queue
(/ops/trust/verifications/). Everything goes through the real services."""

from __future__ import annotations

import io
import re

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image, ImageDraw

from micromarket.payments import selectors as payments_selectors
from micromarket.payments import services as payments_services
from micromarket.trust import sms
from micromarket.trust.models import TraderVerification
from micromarket.trust.selectors import verification as selectors
from micromarket.trust.services import verification as services

DOMAIN = "demo.micromarket.test"
# The sandbox's bank account that is always paid out (shown as help on the payout methods page).
SANDBOX_BANK = "000123456789"

TRADERS = {
    "maria": {
        "legal_name": "Maria Rossi",
        "address_line": "Via dell'Indipendenza 24",
        "city": "Bologna",
        "postal_code": "40121",
        "country": "IT",
        "trade_register_number": "BO-482913",
    },
    "kwame": {
        "legal_name": "Kwame Mensah Studio Ltd",
        "address_line": "14 Canal Street",
        "city": "Manchester",
        "postal_code": "M1 3HW",
        "country": "GB",
        "trade_register_number": "12345678",
    },
    "aiko": {
        "legal_name": "Aiko Tanaka",
        "address_line": "Torstraße 101",
        "city": "Berlin",
        "postal_code": "10119",
        "country": "DE",
        "trade_register_number": "",
    },
}
PHONES = {"maria": "+39 312 345 6789", "kwame": "+44 7911 123456"}
APPROVED = ("maria", "kwame")
PENDING = ("aiko",)


def _user(name: str):
    return get_user_model().objects.filter(email=f"{name}@{DOMAIN}").first()


def _id_card(name: str) -> SimpleUploadedFile:
    """A drawn stand-in for an ID card (the demo has no real documents)."""
    image = Image.new("RGB", (856, 540), (226, 232, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 300, 360), fill=(148, 163, 184))
    draw.text((340, 60), "IDENTITY CARD — DEMO", fill=(15, 23, 42))
    draw.text((340, 120), name, fill=(15, 23, 42))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return SimpleUploadedFile("id-card.png", buf.getvalue(), content_type="image/png")


def _payout_method(user):
    return payments_selectors.payout_methods_for_owner(
        owner=user
    ).first() or payments_services.payout_method_add(
        owner=user, destination=SANDBOX_BANK, label="Demo bank"
    )


def trader_submit(*, user, method=None) -> TraderVerification:
    """Send the demo trader details of ``user`` (a key of TRADERS, by their email)."""
    name = user.email.split("@")[0]
    fields = TRADERS[name]
    return services.trader_submit(
        user=user,
        payout_method_id=(method or _payout_method(user)).pk,
        document=_id_card(fields["legal_name"]),
        **fields,
    )


def verify_trader(*, user, operator, method=None) -> None:
    """Approved trader details for a demo seller, so payouts work (the payments demo uses it
    before Maria's payout)."""
    if selectors.payouts_allowed(user=user):
        return
    latest = selectors.trader_latest(user=user)
    row = (
        latest if latest and latest.status == "pending" else trader_submit(user=user, method=method)
    )
    services.trader_review(
        actor=operator, verification_id=row.pk, approve=True, note="Demo: matches the document."
    )


def _verify_phone(user, phone: str) -> None:
    """Through the real code flow: the console provider keeps the text, the demo reads it."""
    if selectors.phone_for(user=user) is not None:
        return
    with override_settings(SMS_PROVIDER="micromarket.trust.sms.ConsoleSMS"):
        services.phone_start(user=user, phone=phone)
    code = re.search(r"\b(\d{6})\b", sms.outbox[-1].body).group(1)
    services.phone_confirm(user=user, code=code)


def build(*, stdout, create: bool = True) -> list[str]:
    operator = _user("ops")
    if operator is None:
        return []
    if create:
        for name in APPROVED:
            user = _user(name)
            if user is None or not hasattr(user, "shop"):
                continue
            _verify_phone(user, PHONES[name])
            verify_trader(user=user, operator=operator)
        for name in PENDING:
            user = _user(name)
            if user is None or not hasattr(user, "shop"):
                continue
            if selectors.trader_latest(user=user) is None:
                trader_submit(user=user)
    waiting = selectors.trader_queue().count()
    verified = TraderVerification.objects.filter(status="approved").count()
    stdout.write(f"  verification: {verified} approved traders, {waiting} waiting\n")
    return [
        f"Verification: {verified} verified traders (badges on their shops), {waiting} waiting "
        "— see /settings/verification/ and /ops/trust/verifications/"
    ]
