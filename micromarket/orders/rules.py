"""What the transitions of ``orders.processes`` check and do.

Three kinds of function, all small and named for what a person would say:
- guards ``(ctx) -> str | None``: why the transition is refused right now (None: allowed);
- needs ``(data, order) -> dict``: the input it takes, cleaned, or ValidationFailed;
- effects ``(ctx) -> None``: run in the transition's transaction, in order. Money moves only
  through ``payments.services.escrow_close`` with a key derived from the order and transition,
  so a repeated effect never moves money twice.
Deadline functions ``(order, now) -> datetime | None`` say when an automatic step is due.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from micromarket.catalog import services as catalog_services
from micromarket.core.errors import ValidationFailed
from micromarket.core.files import file_sniff
from micromarket.ledger import selectors as ledger_selectors
from micromarket.ledger.arithmetic import percent, share
from micromarket.messaging import services as messaging_services
from micromarket.payments import services as payments

MAX_MESSAGE = 5000
MAX_DELIVERY_FILES = 10
DELIVERY_FILE_MAX_BYTES = 50 * 1024 * 1024
SHIPPING_GRACE = timedelta(days=3)  # after the promised ship-by date, the buyer may cancel
REVISION_WINDOW = timedelta(days=2)  # at least this long to deliver a requested revision

# Refunds when the buyer cancels a booking: (at least this long before the start, share of the
# price refunded in basis points); the first row that applies wins, otherwise nothing. The
# rental rows are what the offer form promises the seller (catalog.forms.RentalForm).
CANCELLATION_POLICIES: dict[str, list[tuple[timedelta, int]]] = {
    "flexible": [(timedelta(hours=24), 10_000)],
    "moderate": [(timedelta(days=5), 10_000), (timedelta(0), 5_000)],
    "strict": [(timedelta(days=14), 5_000)],
    "experience": [(timedelta(hours=24), 10_000)],
    "task": [(timedelta(hours=24), 10_000)],  # later: all but one hour (policy_refund)
}
POLICY_TEXT = {
    "flexible": "Full refund up to 24 hours before the start, then nothing.",
    "moderate": "Full refund up to 5 days before the start, then 50%.",
    "strict": "50% refund up to 14 days before the start, then nothing.",
    "experience": "Full refund up to 24 hours before the session, then nothing.",
    "task": "Full refund up to 24 hours before the task; later, one hour is charged.",
}


@dataclass
class Ctx:
    """What a guard or effect knows about the transition being applied."""

    order: object
    actor: object | None
    role: str
    transition: object
    now: datetime
    data: dict = field(default_factory=dict)
    event: object | None = None


# --- guards -----------------------------------------------------------------------------------


def no_cancellation_pending(ctx: Ctx) -> str | None:
    """No request to cancel is waiting for an answer."""
    if ctx.order.cancellation_requested_by_id:
        return "A request to cancel is already waiting for an answer."
    return None


def cancellation_asked_by_other(ctx: Ctx) -> str | None:
    """The other party asked to cancel."""
    asked = ctx.order.cancellation_requested_by_id
    if not asked:
        return "Nobody has asked to cancel this order."
    if ctx.actor is not None and asked == ctx.actor.pk:
        return "You asked to cancel; the other side answers."
    return None


def revisions_left(ctx: Ctx) -> str | None:
    """The package has revisions left."""
    order = ctx.order
    if order.revisions_used >= order.revisions_allowed:
        n = order.revisions_allowed
        what = "task" if order.kind == "milestone" else "package"
        return f"Your {what} includes {n} revision{'s' if n != 1 else ''}, all used."
    return None


def is_delivery_late(order, now: datetime) -> bool:
    """A gig being worked on (or revised) past its due date."""
    working = order.state in ("in_progress", "revision_requested")
    return working and order.due_at is not None and now > order.due_at


def delivery_late(ctx: Ctx) -> str | None:
    """The delivery is past its due date."""
    if not is_delivery_late(ctx.order, ctx.now):
        return "You can cancel once the delivery is late."
    return None


def shipping_late(ctx: Ctx) -> str | None:
    """Not shipped 3 days after the promised ship-by date."""
    if ctx.order.due_at is None or ctx.now <= ctx.order.due_at + SHIPPING_GRACE:
        return "You can cancel if the order has not shipped 3 days after the promised date."
    return None


def before_start(ctx: Ctx) -> str | None:
    """The booking has not started."""
    if ctx.order.starts_at and ctx.now >= ctx.order.starts_at:
        return "The booking has already started."
    return None


def after_start(ctx: Ctx) -> str | None:
    """The booked time has come."""
    if ctx.order.starts_at and ctx.now < ctx.order.starts_at:
        return "You can mark the task done once its booked time has come."
    return None


def check_in_open(ctx: Ctx) -> str | None:
    """From one day before the start."""
    if ctx.order.starts_at and ctx.now < ctx.order.starts_at - timedelta(days=1):
        return "Check-in opens one day before the start."
    return None


# --- input ------------------------------------------------------------------------------------


def _message(data: dict, *, required: bool, label: str = "message") -> str:
    text = str(data.get("message") or "").strip()
    if required and not text:
        raise ValidationFailed(f"Write a {label}.", field="message")
    if len(text) > MAX_MESSAGE:
        raise ValidationFailed(f"Keep the message under {MAX_MESSAGE} characters.", field="message")
    return text


def need_message(data: dict, order) -> dict:
    return {"message": _message(data, required=True)}


def need_message_optional(data: dict, order) -> dict:
    return {"message": _message(data, required=False)}


def need_requirements(data: dict, order) -> dict:
    answers = data.get("answers") or []
    if not isinstance(answers, list):
        raise ValidationFailed("Answers are a list, one per question.", field="answers")
    cleaned = []
    for i, question in enumerate(order.requirements):
        answer = str(answers[i] if i < len(answers) else "").strip()
        if question.get("required") and not answer:
            raise ValidationFailed(
                f"Answer “{question['question']}”.", field="answers", code="answer_required"
            )
        if len(answer) > MAX_MESSAGE:
            raise ValidationFailed("An answer is too long.", field="answers")
        cleaned.append({**question, "answer": answer})
    return {"requirements": cleaned, "message": _message(data, required=False)}


def need_delivery(data: dict, order) -> dict:
    files = list(data.get("files") or [])
    if len(files) > MAX_DELIVERY_FILES:
        raise ValidationFailed(
            f"Attach at most {MAX_DELIVERY_FILES} files.", field="files", code="too_many_files"
        )
    sniffed = [
        (upload, file_sniff(upload, field="files", max_bytes=DELIVERY_FILE_MAX_BYTES))
        for upload in files
    ]
    return {"message": _message(data, required=True, label="delivery message"), "files": sniffed}


def need_tracking(data: dict, order) -> dict:
    carrier = str(data.get("carrier") or "").strip()
    number = str(data.get("tracking_number") or "").strip()
    if not carrier:
        raise ValidationFailed("Name the carrier.", field="carrier")
    if not number:
        raise ValidationFailed("Enter the tracking number.", field="tracking_number")
    if len(carrier) > 60 or len(number) > 80:
        raise ValidationFailed("That carrier or tracking number is too long.", field="carrier")
    return {"carrier": carrier, "tracking_number": number}


def need_hours(data: dict, order) -> dict:
    try:
        hours = Decimal(str(data.get("hours_worked", "")).strip())
    except InvalidOperation:
        raise ValidationFailed("Enter the hours worked, e.g. 2.5.", field="hours_worked") from None
    if not hours.is_finite() or hours <= 0 or hours > 24 * 14:
        raise ValidationFailed("Enter the hours worked, e.g. 2.5.", field="hours_worked")
    minutes = int((hours * 60).to_integral_value())
    return {"minutes_worked": max(minutes, 1), "message": _message(data, required=False)}


def need_dispute(data: dict, order) -> dict:
    """A dispute is opened with a reason and a description (``message`` counts as the
    description, and the reason is "other" when none is given); the trust app checks them."""
    from micromarket.trust.services import disputes as trust_disputes

    return trust_disputes.dispute_input(data)


def _amount(data: dict) -> int:
    raw = data.get("buyer_amount")
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValidationFailed(
            "Give the buyer's part as a whole amount of minor units.", field="buyer_amount"
        )
    return raw


def need_split(data: dict, order) -> dict:
    """An operator's split: some of the price back to the buyer (more than nothing, less than
    all — those are the refund and the release), the rest to the seller, and why."""
    amount, held = _amount(data), _held(order.reference)
    if not 0 < amount < held:
        raise ValidationFailed(
            "The buyer's part is more than nothing and less than all that is held "
            f"({held} minor units); otherwise refund or pay the seller in full.",
            field="buyer_amount",
            code="split_out_of_range",
        )
    return {"buyer_amount": amount, "message": _message(data, required=True, label="note")}


def need_agreed(data: dict, order) -> dict:
    """The partial refund both sides agreed on (the trust app's accepted proposal)."""
    amount, held = _amount(data), _held(order.reference)
    if not 0 <= amount < held:
        raise ValidationFailed(
            "The agreed part is less than all that is held.", field="buyer_amount"
        )
    proposal = data.get("proposal")
    if isinstance(proposal, bool) or not isinstance(proposal, int):
        raise ValidationFailed("Name the accepted proposal.", field="proposal")
    return {"buyer_amount": amount, "proposal": proposal, "message": _message(data, required=False)}


def need_deposit_claim(data: dict, order) -> dict:
    raw = data.get("claim") or 0
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValidationFailed("The claim is a whole amount of minor units.", field="claim")
    if raw < 0 or raw > order.deposit:
        raise ValidationFailed("You can keep between nothing and the whole deposit.", field="claim")
    reason = _message(data, required=False)
    if raw and not reason:
        raise ValidationFailed(
            "Say why you keep part of the deposit (the renter sees it).", field="message"
        )
    return {"claim": raw, "message": reason}


# --- effects ----------------------------------------------------------------------------------


def _held(reference: str) -> int:
    escrow = ledger_selectors.escrow_for_reference(reference)
    if escrow is None or escrow.status != "held":
        return 0
    return escrow.subtotal - escrow.refunded_subtotal


def _close(ctx: Ctx, reference: str, buyer_amount: int, reason: str) -> None:
    if ledger_selectors.escrow_for_reference(reference) is None:
        return
    payments.escrow_close(
        reference=reference,
        buyer_amount=buyer_amount,
        reason=reason,
        idempotency_key=f"{reference}:{ctx.transition.name}",
    )


def _deposit_back(ctx: Ctx, claim: int = 0) -> None:
    order = ctx.order
    if order.deposit and _held(order.deposit_reference):
        reason = order.deposit_claim_reason or "deposit returned"
        _close(ctx, order.deposit_reference, order.deposit - claim, reason)


def mark_placed(ctx: Ctx) -> None:
    order = ctx.order
    order.placed_at = ctx.now
    escrow = ledger_selectors.escrow_for_reference(order.reference)
    order.service_fee = escrow.service_fee if escrow else 0  # what the buyer paid on top
    if order.kind in ("physical", "milestone"):  # the clock starts when paid
        order.due_at = ctx.now + timedelta(days=order.delivery_days or 0)


def custom_offer_accepted(ctx: Ctx) -> None:
    """An order paid for a custom offer: the offer is accepted and its conversation told."""
    messaging_services.custom_offer_settle(order_id=ctx.order.pk, paid=True, now=ctx.now)


def custom_offer_reopened(ctx: Ctx) -> None:
    """The payment for a custom offer failed: the offer is open to the buyer again."""
    messaging_services.custom_offer_settle(order_id=ctx.order.pk, paid=False, now=ctx.now)


def release_stock(ctx: Ctx) -> None:
    order = ctx.order
    if order.kind != "physical" or order.stock_released or order.tracking_number:
        return  # a shipped parcel's items left the shelf: a refund does not restock them
    for item in order.items.order_by("offer_id", "variation_id"):  # as reserved: no deadlock
        catalog_services.stock_release(
            offer_id=item.offer_id, variation_id=item.variation_id, quantity=item.quantity
        )
    order.stock_released = True


def cancellation_requested(ctx: Ctx) -> None:
    ctx.order.cancellation_requested_by = ctx.actor


def cancellation_cleared(ctx: Ctx) -> None:
    ctx.order.cancellation_requested_by = None


def refund_all(ctx: Ctx) -> None:
    order = ctx.order
    reason = ctx.data.get("message") or ctx.transition.past
    _close(ctx, order.reference, _held(order.reference), reason)
    _deposit_back(ctx)
    order.cancellation_requested_by = None


def release_all(ctx: Ctx) -> None:
    """Pay the seller what is held (a task: the hours worked, as on approval) and return the
    deposit less any claim. A session the host cancelled is refunded instead (a payment that
    raced the cancellation)."""
    order = ctx.order
    if order.kind == "experience" and order.session and order.session.cancelled_at:
        refund_all(ctx)
        return
    if order.kind == "task" and order.minutes_worked is not None:
        charge_actual_hours(ctx)
        return
    _close(ctx, order.reference, 0, "completed")
    _deposit_back(ctx, claim=order.deposit_claimed)


def split_by_amount(ctx: Ctx) -> None:
    """A dispute settled in part: ``buyer_amount`` of the price back to the buyer (with its
    share of the service fee), the rest to the seller; a rental's deposit goes back as on
    completion."""
    order = ctx.order
    reason = ctx.data.get("message") or ctx.transition.past
    _close(ctx, order.reference, ctx.data["buyer_amount"], reason)
    _deposit_back(ctx, claim=order.deposit_claimed)
    order.cancellation_requested_by = None
    ctx.data["refund"] = ctx.data["buyer_amount"]  # the order's timeline shows it


def dispute_recorded(ctx: Ctx) -> None:
    """Opening a dispute opens its file in the resolution center (trust), in this transaction."""
    from micromarket.trust.services import disputes as trust_disputes

    dispute = trust_disputes.dispute_record(
        order=ctx.order,
        actor=ctx.actor,
        role=ctx.role,
        reason=ctx.data["reason"],
        description=ctx.data["description"],
        now=ctx.now,
    )
    ctx.data["dispute"] = dispute.pk


def dispute_settled(ctx: Ctx) -> None:
    """Whichever way a dispute ends (an operator's button, an agreement, the other side's
    silence), its file in the resolution center says so, in this transaction. Runs before the
    money moves, so ``held`` is what the decision divides."""
    from micromarket.trust.services import disputes as trust_disputes

    trust_disputes.dispute_settle_record(
        order=ctx.order,
        transition=ctx.transition.name,
        actor=ctx.actor,
        role=ctx.role,
        data=ctx.data,
        held=_held(ctx.order.reference),
        now=ctx.now,
    )


def policy_refund(order, now: datetime) -> int:
    """What a buyer cancelling now gets back of the order's price, by its policy."""
    held = _held(order.reference)
    before = order.starts_at - now if order.starts_at else timedelta.max
    for at_least, bps in CANCELLATION_POLICIES.get(order.cancellation_policy, []):
        if before >= at_least:
            return percent(held, bps)
    if order.kind == "task":  # late: all but one hour
        return max(held - (order.hourly_rate or 0), 0)
    return 0


def refund_by_policy(ctx: Ctx) -> None:
    order = ctx.order
    refund = policy_refund(order, ctx.now)
    ctx.data["refund"] = refund
    text = POLICY_TEXT.get(order.cancellation_policy, "")
    _close(ctx, order.reference, refund, f"cancelled by the buyer. {text}".strip())
    _deposit_back(ctx)


def save_requirements(ctx: Ctx) -> None:
    ctx.order.requirements = ctx.data["requirements"]


def start_clock(ctx: Ctx) -> None:
    ctx.order.due_at = ctx.now + timedelta(days=ctx.order.delivery_days or 0)


def save_delivery(ctx: Ctx) -> None:
    from micromarket.orders.models import Delivery, DeliveryFile

    delivery = Delivery.objects.create(
        order=ctx.order, event=ctx.event, message=ctx.data["message"]
    )
    for upload, sniffed in ctx.data.pop("files"):
        upload.seek(0)  # stored in chunks from the upload, never read whole into memory
        item = DeliveryFile(
            delivery=delivery,
            name=(getattr(upload, "name", "") or "file")[-200:],
            size=sniffed.size,
            content_type=sniffed.content_type,
            sha256=sniffed.sha256,
        )
        item.file.save(item.name, upload, save=False)
        item.save()
    ctx.data["files"] = delivery.files.count()


def count_revision(ctx: Ctx) -> None:
    """A revision counts against the package, and the seller gets at least
    ``REVISION_WINDOW`` to deliver it before the order counts as late."""
    order = ctx.order
    order.revisions_used += 1
    order.due_at = max(order.due_at or ctx.now, ctx.now + REVISION_WINDOW)


def save_tracking(ctx: Ctx) -> None:
    ctx.order.carrier = ctx.data["carrier"]
    ctx.order.tracking_number = ctx.data["tracking_number"]


def save_hours(ctx: Ctx) -> None:
    ctx.order.minutes_worked = ctx.data["minutes_worked"]


def save_deposit_claim(ctx: Ctx) -> None:
    ctx.order.deposit_claimed = ctx.data["claim"]
    ctx.order.deposit_claim_reason = ctx.data["message"]


def charge_for_minutes(order, minutes: int) -> int:
    return share(order.hourly_rate, minutes, 60)


def charge_actual_hours(ctx: Ctx) -> None:
    """The buyer pays for the hours worked, never more than was authorised at booking."""
    order = ctx.order
    held = _held(order.reference)
    charge = min(held, charge_for_minutes(order, order.minutes_worked or 0))
    ctx.data["charged"] = charge
    _close(ctx, order.reference, held - charge, "hours worked were fewer than booked")


# --- deadlines ----------------------------------------------------------------------------------


def now_if_no_questions(order, now: datetime) -> datetime | None:
    """At once when the offer asks no questions."""
    return now if not order.requirements else None


def now_if_instant(order, now: datetime) -> datetime | None:
    """At once when the offer books instantly."""
    return now if order.instant_booking else None


def at_end(order, now: datetime) -> datetime | None:
    """When the session ends."""
    return order.ends_at


def now_if_session_cancelled(order, now: datetime) -> datetime | None:
    """At once when the host cancelled the session (a payment confirmed after the
    cancellation is refunded)."""
    session = order.session
    return now if session is not None and session.cancelled_at is not None else None


def now_if_paid_after_start(order, now: datetime) -> datetime | None:
    """At once when the payment was confirmed only after the booked time had begun."""
    late = order.starts_at is not None and order.placed_at and order.placed_at >= order.starts_at
    return now if late else None
