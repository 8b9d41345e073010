"""Demo conversations, written through the real services over the last few days.

- Chloé asks María about a logo for her bakery; María answers and sends a custom offer, which
  Chloé accepts and pays for (sandbox card 4242…): a service-gig order from a conversation.
- Alex asks María for a pet portrait of two dogs; María's custom offer waits for him.
- Ravi asks Kwame about a web scraper and leaves his phone number before any order: both see
  the off-platform warning and the message waits in the operators' queue (/ops/messages/).
Each ends with something unread, so the inbox badges show.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from micromarket.catalog import selectors as catalog_selectors
from micromarket.core.errors import DomainError
from micromarket.messaging import services
from micromarket.messaging.models import Conversation

DOMAIN = "demo.micromarket.test"
CARD = "4242424242424242"


def _user(name: str):
    return get_user_model().objects.filter(email=f"{name}@{DOMAIN}").first()


def _gig(seller, title_start: str):
    return (
        catalog_selectors.offers_for_seller(seller=seller, status="active")
        .filter(title__startswith=title_start)
        .first()
    )


def _logo_conversation(now) -> bool:
    chloe, maria = _user("chloe"), _user("maria")
    gig = maria and _gig(maria, "I will design a modern minimalist logo")
    if not (chloe and gig):
        return False
    t = now - timedelta(days=3)
    first = services.conversation_start(
        sender=chloe,
        recipient_id=maria.pk,
        offer_id=gig.pk,
        body="Bonjour María! I'm opening a small bakery in Lyon, “Boulangerie Chloé”. "
        "Could you do a logo and also a simple design for the chalk menu board?",
        now=t,
    )
    conversation_id = first.conversation_id
    services.message_send(
        conversation_id=conversation_id,
        sender=maria,
        body="Hi Chloé, congratulations! Yes — I'd love to. The menu board isn't in my packages, "
        "so I'll send you a custom offer with both: 3 logo concepts, vector files, and a "
        "menu-board layout you can hand to a sign painter.",
        now=t + timedelta(hours=2),
    )
    custom = services.custom_offer_send(
        conversation_id=conversation_id,
        seller=maria,
        offer_id=gig.pk,
        title="Bakery logo + chalk menu board layout",
        description="3 logo concepts for Boulangerie Chloé, the chosen one refined with 3 "
        "revisions, vector files (SVG, PDF), and a menu-board layout (A1) in your colours.",
        price=16500,
        delivery_days=6,
        revisions=3,
        now=t + timedelta(hours=2, minutes=5),
    )
    services.custom_offer_accept(
        custom_offer_id=custom.pk,
        buyer=chloe,
        payment_method=CARD,
        idempotency_key=f"demo-custom-offer-{custom.pk}",
        return_url="http://127.0.0.1:8000/orders/",
    )
    services.message_send(
        conversation_id=conversation_id,
        sender=chloe,
        body="Done — paid! I'll fill in the requirements tonight. Merci!",
    )
    return True


def _portrait_conversation(now) -> bool:
    alex, maria = _user("alex"), _user("maria")
    gig = maria and _gig(maria, "I will draw a custom pet portrait")
    if not (alex and gig):
        return False
    t = now - timedelta(days=1, hours=4)
    first = services.conversation_start(
        sender=alex,
        recipient_id=maria.pk,
        offer_id=gig.pk,
        body="Hi! Could you paint both of my dogs in one portrait? A husky and a beagle.",
        now=t,
    )
    services.message_send(
        conversation_id=first.conversation_id,
        sender=maria,
        body="Two dogs together is lovely. Here's an offer for a full-body double portrait.",
        now=t + timedelta(minutes=40),
    )
    services.custom_offer_send(
        conversation_id=first.conversation_id,
        seller=maria,
        offer_id=gig.pk,
        title="Double pet portrait, full body",
        description="Both dogs in one full-body digital portrait, print-ready at A3.",
        price=9500,
        delivery_days=8,
        revisions=2,
        now=t + timedelta(minutes=42),
    )
    return True


def _scraper_conversation(now) -> bool:
    ravi, kwame = _user("ravi"), _user("kwame")
    gig = kwame and _gig(kwame, "I will write a Python web scraper")
    if not (ravi and gig):
        return False
    first = services.conversation_start(
        sender=ravi,
        recipient_id=kwame.pk,
        offer_id=gig.pk,
        body="Hi Kwame, I need prices from three supplier sites every morning. Easier to "
        "sort out by phone — call me on 07700 900123.",
        now=now - timedelta(hours=3),
    )
    services.message_send(
        conversation_id=first.conversation_id,
        sender=kwame,
        body="Hi Ravi, happy to help! Let's keep it here so the order and payment are "
        "protected. Which sites, and do they need a login?",
        now=now - timedelta(hours=1),
    )
    return True


SCENARIOS = (_logo_conversation, _portrait_conversation, _scraper_conversation)


def build(*, stdout, create: bool = True) -> list[str]:
    if create and not Conversation.objects.exists():
        now = timezone.now()
        for n, scenario in enumerate(SCENARIOS, start=1):
            try:
                with transaction.atomic():
                    done = scenario(now)
            except DomainError as exc:
                stdout.write(f"  messaging: skipped {scenario.__name__}: {exc.message}\n")
                continue
            if not done:
                stdout.write(f"  messaging: skipped {scenario.__name__} (people missing)\n")
            stdout.write(f"  conversations {n}/{len(SCENARIOS)}\r")
        stdout.write("\n")
    if not Conversation.objects.exists():
        return []
    return [
        "Messages: conversations with a custom offer accepted (chloe@ ↔ maria@), one waiting "
        "(alex@) and one flagged for operators (ravi@ ↔ kwame@) — see /inbox/ and /ops/messages/"
    ]
