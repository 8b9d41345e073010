"""Writes of the disputes area: the resolution center (see docs/trust.md).

A dispute is the file kept beside an order in the ``disputed`` state. The order's process owns
the money and the state: opening applies the order's ``dispute`` transition (which freezes the
escrow and calls ``dispute_record`` from its effect), and every ending is an order transition
too — ``resolve_refund``/``resolve_release``/``resolve_split`` (an operator),
``settle_agreed`` (a proposal accepted), ``resolve_default_refund``/``resolve_default_release``
(the other side did not answer in time). Each of those calls ``dispute_settle_record`` from its
effect, under the order's row lock, so the file and the order never disagree and a dispute is
settled exactly once (the second attempt finds the order no longer disputed).

Lock order: the order (by ``order_transition``) before the dispute row, everywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from micromarket.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from micromarket.core.files import file_sniff
from micromarket.core.money import money_format
from micromarket.ledger import selectors as ledger_selectors
from micromarket.messaging import selectors as messaging_selectors
from micromarket.messaging import services as messaging_services
from micromarket.orders import selectors as order_selectors
from micromarket.orders import services as order_services
from micromarket.trust.models import Dispute, DisputeEvent, DisputeEvidence, DisputeProposal
from micromarket.trust.selectors import disputes as dispute_selectors
from micromarket.trust.services import moderation

logger = logging.getLogger(__name__)

DISPUTE_RESPONSE_WINDOW = timedelta(days=3)  # for the other side to answer, else the opener wins
MAX_TEXT = 5000
MAX_PROPOSAL_MESSAGE = 2000
MAX_EVIDENCE_FILES = 5  # per step (opening, answer, comment)
EVIDENCE_FILE_MAX_BYTES = 10 * 1024 * 1024
MAX_EXCERPTS = 20  # messages cited per step

BUYER, SELLER, OPERATOR, SYSTEM = "buyer", "seller", "operator", "system"
OPEN_STATUSES = (
    Dispute.Status.AWAITING_RESPONSE,
    Dispute.Status.IN_DISCUSSION,
    Dispute.Status.ESCALATED,
)

# The order transition that carries out each operator decision.
DECISIONS = {"refund": "resolve_refund", "release": "resolve_release", "split": "resolve_split"}
# What each ending order transition means for the dispute's file.
OUTCOMES = {
    "resolve_refund": Dispute.Outcome.REFUND,
    "resolve_release": Dispute.Outcome.RELEASE,
    "resolve_split": Dispute.Outcome.SPLIT,
    "settle_agreed": Dispute.Outcome.AGREED,
    "resolve_default_refund": Dispute.Outcome.DEFAULT,
    "resolve_default_release": Dispute.Outcome.DEFAULT,
}


# --- helpers ----------------------------------------------------------------------------------


role_of = dispute_selectors.role_of


def _get(dispute_id, *, lock: bool = False) -> Dispute:
    try:
        pk = int(dispute_id)
    except (TypeError, ValueError):
        raise NotFound("There is no such dispute.") from None
    queryset = Dispute.objects.select_related("order__buyer", "order__seller", "opened_by")
    if lock:
        # NO KEY UPDATE: new events and evidence (foreign keys to the row) are not blocked.
        queryset = queryset.select_for_update(of=("self",), no_key=True)
    dispute = queryset.filter(pk=pk).first()
    if dispute is None:
        raise NotFound("There is no such dispute.")
    return dispute


def _party(dispute: Dispute, actor) -> str:
    role = role_of(dispute, actor)
    if role == OPERATOR:
        raise PermissionDenied("Only the buyer and the seller can do that.", code="parties_only")
    return role


def _other(role: str) -> str:
    return SELLER if role == BUYER else BUYER


def _open(dispute: Dispute) -> None:
    if dispute.status == Dispute.Status.RESOLVED:
        raise Conflict("This dispute is resolved.", code="dispute_resolved")


def _text(value, *, field: str, required: bool, label: str, limit: int = MAX_TEXT) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationFailed(f"Write {label}.", field=field)
    if len(text) > limit:
        raise ValidationFailed(f"Keep it under {limit} characters.", field=field)
    return text


def held_for(order) -> int:
    """What is still held of the order's price (the deposit, if any, is apart)."""
    escrow = ledger_selectors.escrow_for_reference(order.reference)
    if escrow is None or escrow.status != "held":
        return 0
    return escrow.subtotal - escrow.refunded_subtotal


def _url(dispute: Dispute) -> str:
    return reverse("trust:dispute_detail", args=[dispute.pk])


def _tell(dispute: Dispute, roles: Iterable[str], title: str, body: str = "") -> None:
    order = dispute.order
    for role in roles:
        messaging_services.notification_send(
            user=order.buyer if role == BUYER else order.seller,
            category="disputes",
            title=f"Dispute on order {order.pk}: {title}"[:200],
            body=body[:500],
            url=_url(dispute),
            group_key=f"dispute:{dispute.pk}",
        )


def _money(amount: int, order) -> str:
    return money_format(amount, order.currency)


def _event(dispute, *, kind, actor, role, message="", data=None, now) -> DisputeEvent:
    return DisputeEvent.objects.create(
        dispute=dispute,
        kind=kind,
        actor=actor,
        role=role,
        message=message,
        data=data or {},
        created_at=now,
    )


# --- evidence ---------------------------------------------------------------------------------


def _sniff(files) -> list:
    files = list(files or [])
    if len(files) > MAX_EVIDENCE_FILES:
        raise ValidationFailed(
            f"Attach at most {MAX_EVIDENCE_FILES} files at a time.",
            field="files",
            code="too_many_files",
        )
    return [
        (upload, file_sniff(upload, field="files", max_bytes=EVIDENCE_FILE_MAX_BYTES))
        for upload in files
    ]


def _excerpts(order_id: int, message_ids) -> list:
    """The cited messages, which must all be in the order's own conversation."""
    ids = []
    for raw in message_ids or []:
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            raise ValidationFailed(
                "Pick messages of this order's conversation.", field="message_ids"
            ) from None
    ids = sorted(set(ids))
    if not ids:
        return []
    if len(ids) > MAX_EXCERPTS:
        raise ValidationFailed(f"Cite at most {MAX_EXCERPTS} messages.", field="message_ids")
    thread = messaging_selectors.order_thread(order_id=order_id)
    found = (
        list(
            thread.messages.filter(pk__in=ids, hidden_at__isnull=True)  # not removed ones
            .select_related("sender")
            .order_by("id")
        )
        if thread is not None
        else []
    )
    if len(found) != len(ids):
        raise ValidationFailed(
            "You can only cite messages of this order's conversation.",
            field="message_ids",
            code="message_not_in_order",
        )
    return found


def _attach(dispute, event, actor, sniffed, messages, now) -> int:
    for upload, info in sniffed:
        upload.seek(0)  # stored in chunks from the upload
        name = (getattr(upload, "name", "") or "file").rsplit("/", 1)[-1][-200:]
        item = DisputeEvidence(
            dispute=dispute,
            event=event,
            added_by=actor,
            name=name,
            content_type=info.content_type,
            size=info.size,
            sha256=info.sha256,
            created_at=now,
        )
        item.file.save(name, upload, save=False)
        item.save()
    for message in messages:
        author = message.sender.display_name if message.sender_id else "Micromarket"
        DisputeEvidence.objects.create(
            dispute=dispute,
            event=event,
            added_by=actor,
            message_id=message.pk,
            excerpt_author=author[:80],
            excerpt_sent_at=message.created_at,
            excerpt=message.body,
            created_at=now,
        )
    return len(sniffed) + len(messages)


# --- opening ----------------------------------------------------------------------------------


def dispute_input(data: dict) -> dict:
    """The order's ``dispute`` transition input: a reason of ``Dispute.Reason`` ("other" when
    none is given, as for a bare message) and a description (``message`` counts as one)."""
    reason = str(data.get("reason") or Dispute.Reason.OTHER)
    if reason not in Dispute.Reason.values:
        raise ValidationFailed("Pick a reason from the list.", field="reason")
    description = _text(
        data.get("description") or data.get("message"),
        field="description",
        required=True,
        label="what went wrong",
    )
    return {"reason": reason, "description": description, "message": description}


def dispute_record(*, order, actor, role: str, reason: str, description: str, now) -> Dispute:
    """Open the dispute's file. Called by the order's ``dispute`` transition (inside its
    transaction, the order locked), never on its own."""
    if role not in (BUYER, SELLER):
        raise PermissionDenied("Only the buyer and the seller can open a dispute.")
    try:
        with transaction.atomic():
            dispute = Dispute.objects.create(
                order=order,
                opened_by=actor,
                opener_role=role,
                reason=reason,
                description=description,
                respond_by=now + DISPUTE_RESPONSE_WINDOW,
                created_at=now,
            )
    except IntegrityError:
        raise Conflict("This order was already disputed.", code="already_disputed") from None
    _event(
        dispute,
        kind=DisputeEvent.Kind.OPENED,
        actor=actor,
        role=role,
        message=description,
        data={"reason": reason},
        now=now,
    )
    who = "The buyer" if role == BUYER else "The seller"
    _tell(
        dispute,
        [_other(role)],
        f"{who} opened a dispute",
        f"{Dispute.Reason(reason).label}. Answer by "
        f"{timezone.localtime(dispute.respond_by):%d %b %Y %H:%M} or the dispute is decided "
        "for them; the payment is frozen until then.",
    )
    return dispute


def dispute_open(
    *,
    order_id: int,
    actor,
    reason: str,
    description: str,
    files=(),
    message_ids=(),
    now: datetime | None = None,
) -> Dispute:
    """The buyer or the seller disputes the order: the order's ``dispute`` transition (the
    escrow is frozen, automatic steps stop), the dispute's file and its first evidence, in one
    transaction. The other side has ``DISPUTE_RESPONSE_WINDOW`` to answer."""
    now = now or timezone.now()
    order = order_selectors.order_for_user(order_id=order_id, user=actor)  # NotFound first
    data = dispute_input({"reason": reason, "description": description})
    sniffed = _sniff(files)
    messages = _excerpts(order.pk, message_ids)
    with transaction.atomic():
        order_services.order_transition(
            order_id=order.pk, name="dispute", actor=actor, data=data, now=now
        )
        dispute = _get(Dispute.objects.get(order_id=order.pk).pk)
        event = dispute.events.get(kind=DisputeEvent.Kind.OPENED)
        _attach(dispute, event, actor, sniffed, messages, now)
    return dispute


# --- the two sides ----------------------------------------------------------------------------


def _answered(dispute: Dispute, role: str, now) -> bool:
    """The side that did not open the dispute takes part: it has answered. Past the deadline it
    is too late for that: the opener has won by default (the sweeper applies it), so the step
    is refused and the caller's transaction rolls back whatever it wrote."""
    if dispute.status == Dispute.Status.AWAITING_RESPONSE and role != dispute.opener_role:
        if now > dispute.respond_by:
            raise Conflict("The time to answer has passed.", code="too_late")
        dispute.status = Dispute.Status.IN_DISCUSSION
        dispute.save(update_fields=["status"])
        return True
    return False


def dispute_respond(
    *,
    dispute_id,
    actor,
    message: str,
    files=(),
    message_ids=(),
    now: datetime | None = None,
) -> DisputeEvent:
    """The other side answers before ``respond_by``; the dispute is then discussed (and can be
    escalated) instead of being decided for the opener."""
    now = now or timezone.now()
    with transaction.atomic():
        dispute = _get(dispute_id, lock=True)
        role = _party(dispute, actor)
        _open(dispute)
        if role == dispute.opener_role:
            raise PermissionDenied(
                "You opened this dispute; the other side answers it.", code="opener_cannot_answer"
            )
        if dispute.status != Dispute.Status.AWAITING_RESPONSE:
            raise Conflict("This dispute has already been answered.", code="already_answered")
        if now > dispute.respond_by:
            raise Conflict("The time to answer has passed.", code="too_late")
        text = _text(message, field="message", required=True, label="your answer")
        sniffed = _sniff(files)
        messages = _excerpts(dispute.order_id, message_ids)
        event = _event(
            dispute, kind=DisputeEvent.Kind.RESPONDED, actor=actor, role=role, message=text, now=now
        )
        _attach(dispute, event, actor, sniffed, messages, now)
        _answered(dispute, role, now)
        _tell(dispute, [dispute.opener_role], f"the {role} answered", text)
        return event


def dispute_comment(
    *,
    dispute_id,
    actor,
    message: str = "",
    files=(),
    message_ids=(),
    now: datetime | None = None,
) -> DisputeEvent:
    """A comment or more evidence, any time before the dispute is resolved (operators may
    comment too, e.g. to ask for a photo). From the side that has not answered yet, a comment
    before the deadline counts as its answer."""
    now = now or timezone.now()
    with transaction.atomic():
        dispute = _get(dispute_id, lock=True)
        role = role_of(dispute, actor)
        _open(dispute)
        text = _text(message, field="message", required=False, label="a comment")
        sniffed = _sniff(files)
        messages = _excerpts(dispute.order_id, message_ids)
        if not (text or sniffed or messages):
            raise ValidationFailed("Write a comment or add evidence.", field="message")
        answering = (
            dispute.status == Dispute.Status.AWAITING_RESPONSE
            and role in (BUYER, SELLER)
            and role != dispute.opener_role
        )
        if answering and now > dispute.respond_by:
            raise Conflict("The time to answer has passed.", code="too_late")
        kind = (
            DisputeEvent.Kind.RESPONDED
            if answering
            else (DisputeEvent.Kind.COMMENT if text else DisputeEvent.Kind.EVIDENCE)
        )
        event = _event(dispute, kind=kind, actor=actor, role=role, message=text, now=now)
        _attach(dispute, event, actor, sniffed, messages, now)
        if answering:
            _answered(dispute, role, now)
        parties = [r for r in (BUYER, SELLER) if r != role]
        _tell(
            dispute,
            parties,
            f"{'an operator' if role == OPERATOR else 'the ' + role} "
            f"{'answered' if answering else 'added to the dispute'}",
            text,
        )
        return event


def _amount(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed("Give the amount in whole minor units.", field="buyer_amount")
    return value


def proposal_create(
    *, dispute_id, actor, buyer_amount: int, message: str = "", now: datetime | None = None
) -> DisputeProposal:
    """Either side proposes a partial refund: ``buyer_amount`` of the price back to the buyer,
    less than all that is held, the rest to the seller. One pending proposal at a time."""
    now = now or timezone.now()
    with transaction.atomic():
        dispute = _get(dispute_id, lock=True)
        role = _party(dispute, actor)
        _open(dispute)
        amount = _amount(buyer_amount)
        held = held_for(dispute.order)
        if not 0 <= amount < held:
            raise ValidationFailed(
                f"Propose less than the {_money(held, dispute.order)} held (a full refund is "
                "not a partial one; ask an operator for it).",
                field="buyer_amount",
                code="proposal_out_of_range",
            )
        text = _text(
            message, field="message", required=False, label="a message", limit=MAX_PROPOSAL_MESSAGE
        )
        if dispute.proposals.filter(status=DisputeProposal.Status.PENDING).exists():
            raise Conflict("A proposal is already waiting for an answer.", code="proposal_pending")
        try:
            with transaction.atomic():
                proposal = DisputeProposal.objects.create(
                    dispute=dispute,
                    proposed_by=actor,
                    buyer_amount=amount,
                    message=text,
                    created_at=now,
                )
        except IntegrityError:
            raise Conflict(
                "A proposal is already waiting for an answer.", code="proposal_pending"
            ) from None
        _event(
            dispute,
            kind=DisputeEvent.Kind.PROPOSED,
            actor=actor,
            role=role,
            message=text,
            data={"proposal": proposal.pk, "buyer_amount": amount},
            now=now,
        )
        _answered(dispute, role, now)
        _tell(
            dispute,
            [_other(role)],
            f"the {role} proposes a partial refund of {_money(amount, dispute.order)}",
            text,
        )
        return proposal


def _proposal(dispute: Dispute, proposal_id) -> DisputeProposal:
    try:
        pk = int(proposal_id)
    except (TypeError, ValueError):
        raise NotFound("There is no such proposal.") from None
    proposal = dispute.proposals.filter(pk=pk).first()
    if proposal is None:
        raise NotFound("There is no such proposal.")
    return proposal


def _pending(proposal: DisputeProposal) -> None:
    if proposal.status != DisputeProposal.Status.PENDING:
        raise Conflict(
            f"That proposal is {proposal.get_status_display().lower()}.", code="not_pending"
        )


def proposal_accept(*, dispute_id, proposal_id, actor, now: datetime | None = None) -> Dispute:
    """The other side accepts: the order's ``settle_agreed`` transition splits the escrow
    through the ledger and the dispute is resolved (outcome ``agreed``)."""
    now = now or timezone.now()
    with transaction.atomic():
        dispute = _get(dispute_id)  # locked below, after the order (see the module's note)
        role = _party(dispute, actor)
        proposal = _proposal(dispute, proposal_id)
        _open(dispute)
        _pending(proposal)
        if proposal.proposed_by_id == actor.pk:
            raise PermissionDenied("The other side accepts your proposal.", code="own_proposal")
        _event(
            dispute,
            kind=DisputeEvent.Kind.PROPOSAL_ACCEPTED,
            actor=actor,
            role=role,
            data={"proposal": proposal.pk, "buyer_amount": proposal.buyer_amount},
            now=now,
        )
        order_services.order_transition(
            order_id=dispute.order_id,
            name="settle_agreed",
            actor=None,
            data={
                "buyer_amount": proposal.buyer_amount,
                "proposal": proposal.pk,
                "message": f"partial refund agreed in dispute {dispute.pk}",
            },
            now=now,
        )
        return _get(dispute.pk)


def _answer_proposal(dispute_id, proposal_id, actor, now, *, withdraw: bool) -> DisputeProposal:
    now = now or timezone.now()
    with transaction.atomic():
        dispute = _get(dispute_id, lock=True)
        role = _party(dispute, actor)
        proposal = _proposal(dispute, proposal_id)
        _open(dispute)
        _pending(proposal)
        mine = proposal.proposed_by_id == actor.pk
        if withdraw and not mine:
            raise PermissionDenied("Only who proposed it can withdraw it.", code="not_yours")
        if not withdraw and mine:
            raise PermissionDenied(
                "The other side answers your proposal; you can withdraw it.", code="own_proposal"
            )
        proposal.status = (
            DisputeProposal.Status.WITHDRAWN if withdraw else DisputeProposal.Status.DECLINED
        )
        proposal.answered_at = now
        proposal.save(update_fields=["status", "answered_at"])
        kind = (
            DisputeEvent.Kind.PROPOSAL_WITHDRAWN
            if withdraw
            else DisputeEvent.Kind.PROPOSAL_DECLINED
        )
        _event(
            dispute,
            kind=kind,
            actor=actor,
            role=role,
            data={"proposal": proposal.pk, "buyer_amount": proposal.buyer_amount},
            now=now,
        )
        if not withdraw:
            _answered(dispute, role, now)
        verb = "withdrew" if withdraw else "declined"
        _tell(dispute, [_other(role)], f"the {role} {verb} the proposal")
        return proposal


def proposal_decline(*, dispute_id, proposal_id, actor, now: datetime | None = None):
    """The other side says no; either side may then escalate to an operator."""
    return _answer_proposal(dispute_id, proposal_id, actor, now, withdraw=False)


def proposal_withdraw(*, dispute_id, proposal_id, actor, now: datetime | None = None):
    """Who proposed takes it back (before it is answered)."""
    return _answer_proposal(dispute_id, proposal_id, actor, now, withdraw=True)


def dispute_escalate(
    *, dispute_id, actor, message: str = "", now: datetime | None = None
) -> Dispute:
    """Either side asks an operator to decide, once the other side has answered or a proposal
    was declined. Operators are told (the trust queue)."""
    now = now or timezone.now()
    with transaction.atomic():
        dispute = _get(dispute_id, lock=True)
        role = _party(dispute, actor)
        _open(dispute)
        if dispute.status == Dispute.Status.ESCALATED:
            raise Conflict("An operator has already been asked.", code="already_escalated")
        declined = dispute.proposals.filter(status=DisputeProposal.Status.DECLINED).exists()
        if dispute.status != Dispute.Status.IN_DISCUSSION and not declined:
            raise Conflict(
                "You can ask an operator once the other side has answered.",
                code="not_answered_yet",
            )
        text = _text(message, field="message", required=False, label="a message")
        dispute.status = Dispute.Status.ESCALATED
        dispute.save(update_fields=["status"])
        _event(
            dispute, kind=DisputeEvent.Kind.ESCALATED, actor=actor, role=role, message=text, now=now
        )
        _tell(dispute, [_other(role)], f"the {role} asked an operator to decide", text)
        messaging_services.notify_operators(
            category="trust_queue",
            title=f"Dispute {dispute.pk} (order {dispute.order_id}) waits for a decision",
            body=text[:500] or dispute.get_reason_display(),
            url=_url(dispute),
            group_key=f"dispute:{dispute.pk}",
        )
        return dispute


# --- endings ----------------------------------------------------------------------------------


def dispute_decide(
    *,
    actor,
    dispute_id,
    outcome: str,
    buyer_amount: int | None = None,
    note: str,
    now: datetime | None = None,
) -> Dispute:
    """An operator decides: ``refund`` (all back to the buyer), ``release`` (all to the
    seller) or ``split`` (``buyer_amount`` back, the rest to the seller), carried out by the
    order's transition of that name; audit-logged, pending proposals lapse, both sides told."""
    now = now or timezone.now()
    with transaction.atomic():
        dispute = _get(dispute_id)  # locked by the order transition's effect, after the order
        role_of(dispute, actor)  # strangers: NotFound before anything else
        moderation.operator_required(actor)
        _open(dispute)
        if outcome not in DECISIONS:
            raise ValidationFailed("Decide refund, release or split.", field="outcome")
        note = _text(note, field="note", required=True, label="why (both sides read it)")
        data = {"message": note}
        if outcome == "split":
            amount = _amount(buyer_amount)
            held = held_for(dispute.order)
            if not 0 < amount < held:
                raise ValidationFailed(
                    f"A split gives the buyer more than nothing and less than the "
                    f"{_money(held, dispute.order)} held.",
                    field="buyer_amount",
                    code="split_out_of_range",
                )
            data["buyer_amount"] = amount
        order_services.order_transition(
            order_id=dispute.order_id, name=DECISIONS[outcome], actor=actor, data=data, now=now
        )
        return _get(dispute.pk)


def dispute_settle_record(
    *, order, transition: str, actor, role: str, data: dict, held: int, now
) -> Dispute | None:
    """Mark the dispute resolved the way the order's ending transition decided. Called from
    that transition's effect (the order locked, before the money moves), so however the
    dispute ends — the dispute page, the order page's buttons, the API, the deadline job —
    the file says so. Raises Conflict (and the whole transition is undone) when the dispute
    is already resolved, the proposal is no longer pending, or a default is not due."""
    dispute = (
        Dispute.objects.select_for_update(of=("self",), no_key=True)
        .select_related("order__buyer", "order__seller")
        .filter(order_id=order.pk)
        .first()
    )
    if dispute is None:
        return None  # disputed before the resolution center existed: nothing to keep in step
    _open(dispute)
    outcome = OUTCOMES[transition]
    amount = {
        "resolve_refund": held,
        "resolve_release": 0,
        "resolve_default_refund": held,
        "resolve_default_release": 0,
    }.get(transition, data.get("buyer_amount"))
    late = dispute.status == Dispute.Status.AWAITING_RESPONSE and now >= dispute.respond_by
    if outcome == Dispute.Outcome.DEFAULT and not late:
        raise Conflict("The other side answered, or has time left.", code="not_due")
    if transition == "settle_agreed":
        accepted = DisputeProposal.objects.filter(
            pk=data["proposal"],
            dispute=dispute,
            status=DisputeProposal.Status.PENDING,
            buyer_amount=amount,
        ).update(status=DisputeProposal.Status.ACCEPTED, answered_at=now)
        if accepted != 1:
            raise Conflict("That proposal is no longer open.", code="not_pending")
    DisputeProposal.objects.filter(dispute=dispute, status=DisputeProposal.Status.PENDING).update(
        status=DisputeProposal.Status.LAPSED, answered_at=now
    )
    note = str(data.get("message") or "")
    dispute.status = Dispute.Status.RESOLVED
    dispute.outcome = outcome
    dispute.buyer_amount = amount
    dispute.decided_by = actor if role == OPERATOR else None
    dispute.decision_note = note if role == OPERATOR else ""
    dispute.resolved_at = now
    dispute.save(
        update_fields=[
            "status",
            "outcome",
            "buyer_amount",
            "decided_by",
            "decision_note",
            "resolved_at",
        ]
    )
    seller_part = held - amount
    summary = (
        f"{_money(amount, order)} back to the buyer, {_money(seller_part, order)} to the seller"
    )
    _event(
        dispute,
        kind=DisputeEvent.Kind.DECIDED,
        actor=actor if role == OPERATOR else None,
        role=role,
        message=note,
        data={"outcome": outcome, "buyer_amount": amount, "held": held, "transition": transition},
        now=now,
    )
    if role == OPERATOR:
        moderation.audit_record(
            actor=actor,
            action="dispute_decide",
            target_kind="dispute",
            target_id=dispute.pk,
            reason=note,
            target_user=order.seller,
            data={"order": order.pk, "outcome": outcome, "buyer_amount": amount, "held": held},
            now=now,
        )
    _tell(
        dispute,
        [BUYER, SELLER],
        f"resolved — {dispute.get_outcome_display().lower()}",
        summary + (f". {note}" if note else "."),
    )
    return dispute


def dispute_default_apply(*, dispute_id: int, now: datetime | None = None) -> bool:
    """Decide one unanswered dispute for its opener (buyer → full refund, seller → release);
    False when it is no longer due (answered meanwhile, resolved, or not late yet)."""
    now = now or timezone.now()
    dispute = Dispute.objects.filter(
        pk=dispute_id, status=Dispute.Status.AWAITING_RESPONSE, respond_by__lte=now
    ).first()
    if dispute is None:
        return False
    name = "resolve_default_refund" if dispute.opener_role == BUYER else "resolve_default_release"
    side = "seller" if dispute.opener_role == BUYER else "buyer"
    try:
        with transaction.atomic():
            order_services.order_transition(
                order_id=dispute.order_id,
                name=name,
                actor=None,
                data={"message": f"the {side} did not answer the dispute in time"},
                now=now,
            )
    except Conflict:
        return False  # another worker applied it, or the other side answered in time
    return True


def disputes_apply_defaults(*, now: datetime | None = None, limit: int = 200) -> int:
    """The job: every dispute whose other side did not answer by ``respond_by`` is decided for
    the opener, once (the order's row lock and the re-check under it)."""
    now = now or timezone.now()
    due = list(
        Dispute.objects.filter(status=Dispute.Status.AWAITING_RESPONSE, respond_by__lte=now)
        .order_by("respond_by")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for pk in due:
        try:
            done += dispute_default_apply(dispute_id=pk, now=now)
        except Exception:  # one broken dispute must not hold up the others; retried next run
            logger.exception("default resolution of dispute %s failed", pk)
    return done
