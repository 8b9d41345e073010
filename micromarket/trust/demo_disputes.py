"""Demo disputes, opened and moved through the resolution center's real services: a parcel of
bowls whose buyer escalated to an operator (waiting in /ops/trust/disputes/), and a delivered
gig whose seller proposed a partial refund the buyer has not answered yet.

The orders are placed here, through the real checkout and transitions, rather than taken from
the orders demo: that demo keeps one order in each state (its test counts on them), and a
disputed order leaves its state for good."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from micromarket.catalog import selectors as catalog_selectors
from micromarket.core.errors import DomainError
from micromarket.orders import services as order_services
from micromarket.trust.models import Dispute
from micromarket.trust.selectors import disputes as dispute_selectors
from micromarket.trust.services import disputes as services

DOMAIN = "demo.micromarket.test"
CARD = "4242424242424242"  # the sandbox provider's card that always succeeds


def _user(name: str):
    return get_user_model().objects.filter(email=f"{name}@{DOMAIN}").first()


def _offer(seller_name: str, title: str):
    seller = _user(seller_name)
    if seller is None:
        return None
    return (
        catalog_selectors.offers_for_seller(seller=seller, status="active")
        .filter(title=title)
        .first()
    )


def _place(buyer, key: str, item: dict, **where):
    checkout = order_services.checkout_place(
        buyer=buyer,
        items=[item],
        payment_method=CARD,
        idempotency_key=f"demo:dispute-{key}",
        return_url="/orders/",
        note="Demo order",
        **where,
    )
    return checkout.orders.get()


def _act(order, name: str, actor, **data):
    return order_services.order_transition(order_id=order.pk, name=name, actor=actor, data=data)


def _escalated_parcel() -> bool:
    buyer, offer = _user("chloe"), _offer("lena", "Set of four ceramic breakfast bowls")
    if buyer is None or offer is None:
        return False
    order = _place(
        buyer, "bowls", {"offer": offer.pk}, address="12 rue Mercière, 69002 Lyon", country="FR"
    )
    order = _act(order, "ship", order.seller, carrier="La Poste", tracking_number="6A12345678901")
    cited = [m.pk for m in dispute_selectors.order_messages(order_id=order.pk) if m.body][:2]
    dispute = services.dispute_open(
        order_id=order.pk,
        actor=order.buyer,
        reason="damage",
        description="Two of the four bowls arrived cracked; the box was dented on one corner. "
        "I would like a refund for the broken bowls.",
        message_ids=cited,
    )
    services.dispute_respond(
        dispute_id=dispute.pk,
        actor=order.seller,
        message="They left my studio wrapped in three layers. The carrier must have dropped "
        "the parcel — I can replace the bowls but not refund the whole order.",
    )
    services.dispute_escalate(
        dispute_id=dispute.pk,
        actor=order.buyer,
        message="I do not want replacements that may break again; please decide.",
    )
    return True


def _proposal_on_gig() -> bool:
    buyer = _user("alex")
    offer = _offer("kwame", "I will fix bugs in your Django or Flask project")
    if buyer is None or offer is None:
        return False
    order = _place(buyer, "bugfix", {"offer": offer.pk, "package": "basic"})
    if order.state == "requirements":
        answers = ["The CSV export times out on large shops."] * len(order.requirements)
        order = _act(order, "submit_requirements", order.buyer, answers=answers)
    order = _act(order, "deliver", order.seller, message="Fixed the export: it now streams.")
    dispute = services.dispute_open(
        order_id=order.pk,
        actor=order.buyer,
        reason="not_as_described",
        description="The export no longer times out, but the totals column is now empty. "
        "The fix is half done.",
    )
    services.proposal_create(
        dispute_id=dispute.pk,
        actor=order.seller,
        buyer_amount=services.held_for(order) // 4,
        message="Sorry about the totals. A quarter back, and I will fix the column today?",
    )
    return True


def build(*, stdout, create: bool = True) -> list[str]:
    if create and not Dispute.objects.exists():
        for part in (_escalated_parcel, _proposal_on_gig):
            try:
                with transaction.atomic():
                    if not part():
                        stdout.write(f"  disputes: skipped {part.__name__} (no offer)\n")
            except DomainError as exc:
                stdout.write(f"  disputes: skipped {part.__name__}: {exc.message}\n")
    count = Dispute.objects.count()
    if not count:
        return []
    return [
        f"Disputes: {count} in the resolution center — chloe@ and lena@ wait for an operator "
        "(/ops/trust/disputes/), alex@ has kwame@'s partial refund to answer "
        "(/disputes/)"
    ]
