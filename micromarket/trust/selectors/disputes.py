"""Reads of the disputes area (see docs/trust.md): a person's disputes, one dispute with its
timeline, the operators' queue, evidence files, and the figures seller levels use."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from micromarket.core.errors import NotFound
from micromarket.messaging import selectors as messaging_selectors
from micromarket.trust.models import Dispute, DisputeEvidence, DisputeProposal

MAX_THREAD = 2000  # messages of the order's conversation shown to an operator


def role_of(dispute: Dispute, user) -> str:
    """``buyer``, ``seller`` or ``operator``; NotFound for anyone else (ids do not leak)."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotFound("There is no such dispute.")
    order = dispute.order
    if user.pk == order.buyer_id:
        return "buyer"
    if user.pk == order.seller_id:
        return "seller"
    if user.is_staff:
        return "operator"
    raise NotFound("There is no such dispute.")


def _related(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("order__buyer", "order__seller", "opened_by", "decided_by")


def disputes_for_user(*, user) -> QuerySet[Dispute]:
    """The disputes on ``user``'s orders, as buyer or as seller, newest first."""
    return _related(Dispute.objects.filter(Q(order__buyer=user) | Q(order__seller=user))).order_by(
        "-created_at", "-id"
    )


def dispute_for_user(*, dispute_id, user) -> tuple[Dispute, str]:
    """The dispute and ``user``'s role on it; NotFound for anyone but its two sides and
    operators."""
    try:
        pk = int(dispute_id)
    except (TypeError, ValueError):
        raise NotFound("There is no such dispute.") from None
    dispute = _related(Dispute.objects.filter(pk=pk)).first()
    if dispute is None:
        raise NotFound("There is no such dispute.")
    return dispute, role_of(dispute, user)


def dispute_for_order(*, order_id: int) -> Dispute | None:
    """The order's dispute, if it was disputed (callers check the order's access)."""
    return _related(Dispute.objects.filter(order_id=order_id)).first()


def dispute_timeline(dispute: Dispute) -> list:
    """Events oldest first, each with its evidence (``event.items``)."""
    events = list(dispute.events.select_related("actor").order_by("created_at", "id"))
    by_event: dict[int, list] = {}
    for item in dispute.evidence.select_related("added_by").order_by("created_at", "id"):
        by_event.setdefault(item.event_id, []).append(item)
    for event in events:
        event.items = by_event.get(event.pk, [])
    return events


def dispute_proposals(dispute: Dispute) -> list[DisputeProposal]:
    return list(dispute.proposals.select_related("proposed_by").order_by("-created_at", "-id"))


def pending_proposal(dispute: Dispute) -> DisputeProposal | None:
    return dispute.proposals.filter(status=DisputeProposal.Status.PENDING).first()


def evidence_for_user(*, dispute_id, evidence_id, user) -> DisputeEvidence:
    """An evidence file, for the dispute's two sides and operators; NotFound otherwise."""
    dispute, _role = dispute_for_user(dispute_id=dispute_id, user=user)
    try:
        pk = int(evidence_id)
    except (TypeError, ValueError):
        raise NotFound("There is no such file.") from None
    item = dispute.evidence.filter(pk=pk).exclude(file="").first()
    if item is None:
        raise NotFound("There is no such file.")
    return item


def order_messages(*, order_id: int, limit: int = MAX_THREAD) -> list:
    """The order's whole conversation, oldest first (up to ``limit``): what the two sides can
    cite as evidence, and what an operator reads before deciding."""
    thread = messaging_selectors.order_thread(order_id=order_id)
    if thread is None:
        return []
    pages, before = [], None
    count = 0
    while count < limit:
        page = messaging_selectors.messages_page(conversation=thread, before=before, limit=100)
        pages.append(page.messages)
        count += len(page.messages)
        if page.older_cursor is None:
            break
        before = page.older_cursor
    return [m for page in reversed(pages) for m in page][-limit:]


def ops_queue() -> list[Dispute]:
    """Open disputes for operators: escalated first, then those whose answer is overdue, then
    the rest; oldest first within each."""
    now = timezone.now()
    rank = Case(
        When(status=Dispute.Status.ESCALATED, then=Value(0)),
        When(status=Dispute.Status.AWAITING_RESPONSE, respond_by__lte=now, then=Value(1)),
        When(status=Dispute.Status.AWAITING_RESPONSE, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    return list(
        _related(Dispute.objects.exclude(status=Dispute.Status.RESOLVED))
        .annotate(rank=rank)
        .order_by("rank", "created_at", "id")
    )


def dispute_counts(*, seller_id: int, since: datetime) -> tuple[int, int]:
    """Disputes opened on the seller's orders placed since ``since``, and how many of those
    were decided against the seller: a full refund, an operator's split, or a default won by
    the buyer. A partial refund the seller agreed to is not counted as lost."""
    disputes = Dispute.objects.filter(order__seller_id=seller_id, order__placed_at__gte=since)
    opened = disputes.count()
    lost = disputes.filter(
        Q(outcome__in=[Dispute.Outcome.REFUND, Dispute.Outcome.SPLIT])
        | Q(outcome=Dispute.Outcome.DEFAULT, opener_role="buyer")
    ).count()
    return opened, lost
