"""Helpers for the entries and imports tests: sellers, ledger earnings, small files."""

from __future__ import annotations

import io
import itertools

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from micromarket.accounts.tests.factories import UserFactory
from micromarket.books.models import EnvelopeMovement
from micromarket.ledger import services as ledger

_counter = itertools.count(1)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def png_upload(name: str = "receipt.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def pdf_upload(name: str = "receipt.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def released_order(seller, *, subtotal=10_000, fee=500, bps=1000, refund=0, currency="USD"):
    """An order paid and released (optionally after refunding ``refund`` of its price by a
    split settlement). Returns the ledger transaction that paid the seller."""
    n = next(_counter)
    escrow = ledger.escrow_open(
        reference=f"order:{9000 + n}",
        buyer=UserFactory(),
        seller=seller,
        currency=currency,
        subtotal=subtotal,
        service_fee=fee,
        commission_bps=bps,
        description=f"Logo design #{n}",
    )
    ledger.charge_record(
        funding=[(escrow, subtotal + fee)],
        currency=currency,
        provider_fee=0,
        reference=f"payment:{9000 + n}",
        description="Logo",
        idempotency_key=f"charge-t{n}",
    )
    if refund:
        return ledger.escrow_settle(
            escrow=escrow,
            buyer_amount=refund,
            to="credit",
            clearing_days=14,
            reason="partly delivered",
            idempotency_key=f"settle-t{n}",
        )
    return ledger.escrow_release(escrow=escrow, clearing_days=14, idempotency_key=f"release-t{n}")


def tip(seller, *, amount=500, platform_bps=0, currency="USD"):
    n = next(_counter)
    return ledger.tip_record(
        buyer=UserFactory(),
        seller=seller,
        amount=amount,
        currency=currency,
        platform_bps=platform_bps,
        provider_fee=0,
        clearing_days=14,
        reference=f"tip:{n}",
        description="Tip for a great logo",
        idempotency_key=f"tip-t{n}",
    )


def allocated(entry) -> int:
    """The entry's current share-out between the budget envelopes."""
    return sum(
        EnvelopeMovement.objects.filter(entry=entry, kind="allocation").values_list(
            "amount", flat=True
        )
    )


def envelopes_total(owner) -> int:
    """Everything the owner's envelopes hold."""
    return sum(
        EnvelopeMovement.objects.filter(envelope__owner=owner).values_list("amount", flat=True)
    )
