"""Builders for verification: an ID picture, a trader submission, and ``verified_seller`` for
any test that pays a seller out (payouts need approved trader details)."""

from __future__ import annotations

import io

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from micromarket.accounts.tests.factories import ShopFactory, UserFactory
from micromarket.payments import selectors as payments_selectors
from micromarket.payments import services as payments_services
from micromarket.payments.providers import sandbox
from micromarket.trust.services import verification as services


def id_picture(name: str = "passport.jpg", colour=(200, 180, 150)) -> SimpleUploadedFile:
    """A JPEG with EXIF metadata (which the service must strip)."""
    image = Image.new("RGB", (640, 400), colour)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    buf = io.BytesIO()
    image.save(buf, format="JPEG", exif=exif)
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def trader_fields(**overrides) -> dict:
    data = {
        "legal_name": "Maria Rossi",
        "address_line": "Via Roma 12",
        "city": "Bologna",
        "postal_code": "40121",
        "country": "IT",
        "trade_register_number": "BO-123456",
    }
    data.update(overrides)
    return data


def payout_method_of(user):
    method = payments_selectors.payout_methods_for_owner(owner=user).first()
    return method or payments_services.payout_method_add(
        owner=user, destination=sandbox.BANK_SUCCEEDS
    )


def submit(user, method=None, **overrides):
    method = method or payout_method_of(user)
    return services.trader_submit(
        user=user,
        payout_method_id=method.pk,
        document=id_picture(),
        **trader_fields(**overrides),
    )


def _operator():
    """An existing operator if there is one: tests that count operators' emails stay true."""
    return get_user_model().objects.filter(is_staff=True, is_active=True).order_by(
        "pk"
    ).first() or UserFactory(operator=True)


def verified_seller(user, *, method=None, operator=None):
    """Give ``user`` a shop if they have none, and approved trader details (through the real
    services, reviewed by an operator), so payouts are allowed. Returns the user.

    Without ``method``, the payout account checked is made for the purpose and removed after,
    so the seller's payout methods stay as the test makes them."""
    if not hasattr(user, "shop"):
        ShopFactory(owner=user)
        user.refresh_from_db()
    temporary = None
    if method is None:
        temporary = method = payments_services.payout_method_add(
            owner=user, destination=sandbox.BANK_SUCCEEDS, label="Checked with the identity"
        )
    row = submit(user, method)
    services.trader_review(
        actor=operator or _operator(),
        verification_id=row.pk,
        approve=True,
        note="",
    )
    if temporary is not None:
        payments_services.payout_method_remove(owner=user, method_id=temporary.pk)
    return user
