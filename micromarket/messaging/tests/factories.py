"""Builders for messaging tests, all going through the services: conversations, messages,
uploads (a real PNG, a PDF, a renamed executable), custom offers and accepting them."""

from __future__ import annotations

import io
import itertools

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from micromarket.catalog.tests import factories as catalog_factories
from micromarket.messaging import services
from micromarket.orders import services as order_services
from micromarket.payments.providers import sandbox

CARD = sandbox.CARD_SUCCEEDS
CARD_DECLINED = sandbox.CARD_DECLINED
_keys = itertools.count(1)


def gig(owner=None, **overrides):
    """A published service gig (basic package 50.00, one required question)."""
    return catalog_factories.make_offer(owner, "service", publish=True, **overrides)


def start(sender, recipient, body: str = "Hello! Can you help me with a logo?", **kwargs):
    """``sender`` writes to ``recipient``; returns the message."""
    return services.conversation_start(
        sender=sender, recipient_id=recipient.pk, body=body, **kwargs
    )


def send(conversation, sender, body: str = "Sounds good.", **kwargs):
    return services.message_send(
        conversation_id=conversation.pk, sender=sender, body=body, **kwargs
    )


def png(name: str = "sketch.png", size=(64, 48), exif: dict | None = None) -> SimpleUploadedFile:
    """A real PNG made by Pillow, optionally carrying EXIF tags (e.g. {0x010F: "Camera"})."""
    buf = io.BytesIO()
    image = Image.new("RGB", size, (200, 80, 40))
    if exif:
        data = Image.Exif()
        for tag, value in exif.items():
            data[tag] = value
        image.save(buf, format="PNG", exif=data.tobytes())
    else:
        image.save(buf, format="PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def pdf(name: str = "brief.pdf", size: int = 0) -> SimpleUploadedFile:
    """A PDF by its signature; ``size`` pads it to that many bytes."""
    head = b"%PDF-1.7\n% a small brief\n"
    return SimpleUploadedFile(
        name, head + b"0" * max(0, size - len(head)), content_type="application/pdf"
    )


def renamed_exe(name: str = "cv.pdf") -> SimpleUploadedFile:
    """A Windows executable (MZ header) dressed up as a PDF."""
    return SimpleUploadedFile(name, b"MZ\x90\x00" + b"\x00" * 200, content_type="application/pdf")


def custom_offer(conversation, seller, offer, **overrides):
    """``seller`` proposes terms in ``conversation`` based on their gig ``offer``."""
    fields = {
        "title": "Logo for Rosie's Bakery",
        "description": "Three concepts, vector files and a one-page brand guide.",
        "price": 12_000,
        "delivery_days": 4,
        "revisions": 2,
    }
    fields.update(overrides)
    return services.custom_offer_send(
        conversation_id=conversation.pk, seller=seller, offer_id=offer.pk, **fields
    )


def accept(custom, buyer, *, card: str = CARD, key: str | None = None):
    """The buyer accepts and pays for ``custom`` through orders' checkout (sandbox card)."""
    return services.custom_offer_accept(
        custom_offer_id=custom.pk,
        buyer=buyer,
        payment_method=card,
        idempotency_key=key or f"accept-{next(_keys)}",
        return_url="http://testserver/back/",
    )


def order_gig(buyer, offer, *, card: str = CARD, key: str | None = None):
    """The buyer orders ``offer``'s basic package through the normal checkout."""
    return order_services.checkout_place(
        buyer=buyer,
        items=[{"offer": offer.pk, "package": "basic"}],
        payment_method=card,
        idempotency_key=key or f"gig-{next(_keys)}",
        return_url="http://testserver/back/",
    )
