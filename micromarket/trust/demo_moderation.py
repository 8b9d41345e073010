"""Demo reports, sent through the real services on top of the earlier demos' people, offers
and conversations: Kwame reports Ravi's message asking to talk by phone, Alex and Chloé report
the same listing (one card in the queue with two reports), and Ravi's report of a tool rental
was already dismissed by the operator (its audit entry is in the log)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from micromarket.catalog import selectors as catalog_selectors
from micromarket.core.errors import DomainError
from micromarket.messaging import selectors as messaging_selectors
from micromarket.trust.models import Report
from micromarket.trust.services import moderation as services

DOMAIN = "demo.micromarket.test"


def _user(name: str):
    return get_user_model().objects.filter(email=f"{name}@{DOMAIN}").first()


def _offer(title_start: str):
    """A demo seller's active offer whose title starts so."""
    for seller in get_user_model().objects.filter(email__endswith=f"@{DOMAIN}", shop__isnull=False):
        offer = (
            catalog_selectors.offers_for_seller(seller=seller, status="active")
            .filter(title__startswith=title_start)
            .first()
        )
        if offer is not None:
            return offer
    return None


def _message_report() -> bool:
    ravi, kwame = _user("ravi"), _user("kwame")
    conversation = (
        kwame and ravi and messaging_selectors.conversation_between(user=kwame, other_id=ravi.pk)
    )
    if not conversation:
        return False
    page = messaging_selectors.messages_page(conversation=conversation)
    asked = next((m for m in page.messages if m.sender_id == ravi.pk), None)
    if asked is None:
        return False
    services.report_create(
        reporter=kwame,
        target_kind="message",
        target_id=asked.pk,
        reason="off_platform",
        details="He wants to sort the job out by phone, outside the platform.",
    )
    return True


def _offer_reports() -> bool:
    offer = _offer("Vintage 1970s East German coffee set")
    alex, chloe = _user("alex"), _user("chloe")
    if not (offer and alex and chloe):
        return False
    services.report_create(
        reporter=alex,
        target_kind="offer",
        target_id=offer.pk,
        reason="fake",
        details="The photos look like a museum catalogue, not a real set.",
    )
    services.report_create(reporter=chloe, target_kind="offer", target_id=offer.pk, reason="fake")
    return True


def _handled_report() -> bool:
    offer = _offer("Cordless drill and tool kit to borrow")
    ravi, operator = _user("ravi"), _user("ops")
    if not (offer and ravi and operator):
        return False
    report = services.report_create(
        reporter=ravi, target_kind="offer", target_id=offer.pk, reason="spam"
    )
    services.report_handle(
        actor=operator,
        report_id=report.pk,
        action="dismiss",
        reason="Checked the listing: an ordinary tool rental with real photos.",
    )
    return True


SCENARIOS = (_handled_report, _message_report, _offer_reports)


def build(*, stdout, create: bool = True) -> list[str]:
    if create and not Report.objects.exists():
        for scenario in SCENARIOS:
            try:
                with transaction.atomic():
                    done = scenario()
            except DomainError as exc:
                stdout.write(f"  moderation: skipped {scenario.__name__}: {exc.message}\n")
                continue
            if not done:
                stdout.write(f"  moderation: skipped {scenario.__name__} (demo data missing)\n")
    if not Report.objects.exists():
        return []
    return [
        "Moderation: open reports on a message (kwame@ about ravi@) and an offer (two reports), "
        "one dismissed with its audit entry — see /ops/trust/reports/ and /ops/trust/audit/"
    ]
