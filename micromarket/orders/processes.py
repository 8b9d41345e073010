"""The transaction process of each kind of offer, declared in one place.

A process is a table of states and transitions. Each transition names the states it starts from,
the state it leads to (``None``: stays, e.g. asking for a cancellation), who may take it
(``buyer``, ``seller``, ``operator``, ``system``), an optional guard (why it is refused now), the
input it needs, its effects (money through the payments services, stock, deliveries) and who is
told. A state may carry a deadline: when it passes, the sweeper applies the named automatic
transition. ``services.order_transition`` is the only code that applies them;
``docs/orders.md`` shows every process as a diagram generated from these tables
(``micromarket orders_diagrams``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from micromarket.orders import rules

BUYER, SELLER, OPERATOR, SYSTEM = "buyer", "seller", "operator", "system"
PARTIES = frozenset({BUYER, SELLER})

# States every process shares.
PENDING_PAYMENT = "pending_payment"
PAYMENT_FAILED = "payment_failed"
COMPLETED = "completed"
CANCELLED = "cancelled"
DISPUTED = "disputed"

# Hours after which an automatic step happens (documented in docs/orders.md).
AUTO_COMPLETE_AFTER = timedelta(days=3)  # service delivery, task work, digital download
RENTAL_ANSWER_WITHIN = timedelta(hours=24)
RENTAL_CLAIM_WINDOW = timedelta(hours=48)  # after check-out, to claim from the deposit
RECEIVE_AUTO_AFTER = timedelta(days=14)  # after shipping


@dataclass(frozen=True)
class Transition:
    name: str
    label: str  # the button: "Deliver", "Accept delivery"
    sources: tuple[str, ...]
    target: str | None  # None: the order stays in its state
    actors: frozenset[str]
    guard: Callable | None = None  # (ctx) -> reason it is refused, or None
    needs: Callable | None = None  # (data, order) -> cleaned input; raises ValidationFailed
    effects: tuple[Callable, ...] = ()  # (ctx) -> None, in order, in the transition's transaction
    notify: frozenset[str] = PARTIES  # who gets an email (the actor is never emailed)
    form: str = ""  # the page's form for the input: "", "message", "delivery", …
    past: str = ""  # the timeline's wording: "delivered the order"


@dataclass(frozen=True)
class Deadline:
    """When ``state`` is entered, ``when(order, now)`` gives the time at which the system
    applies ``transition`` (None: no deadline this time)."""

    transition: str
    when: Callable[[object, datetime], datetime | None]


@dataclass(frozen=True)
class Process:
    name: str
    label: str
    states: dict[str, str]  # state → what the buyer and seller see
    transitions: dict[str, Transition]
    # state → its deadlines, first that applies wins (a rental request: accepted at once when
    # the offer books instantly, else it expires after 24 hours)
    deadlines: dict[str, tuple[Deadline, ...]] = field(default_factory=dict)
    active: frozenset[str] = frozenset()  # states that hold a booking (seats, dates)

    def __post_init__(self):
        for t in self.transitions.values():
            for state in (*t.sources, t.target):
                if state is not None and state not in self.states:
                    raise ValueError(f"{self.name}.{t.name}: unknown state {state}")
        for state, deadlines in self.deadlines.items():
            for deadline in deadlines:
                t = self.transitions[deadline.transition]
                if SYSTEM not in t.actors or state not in t.sources:
                    raise ValueError(f"{self.name}: deadline of {state} cannot run {t.name}")

    @property
    def terminal(self) -> frozenset[str]:
        leaving = {s for t in self.transitions.values() for s in t.sources}
        return frozenset(s for s in self.states if s not in leaving)


def T(name, label, sources, target, actors, **kw) -> tuple[str, Transition]:
    if isinstance(sources, str):
        sources = (sources,)
    if isinstance(actors, str):
        actors = (actors,)
    return name, Transition(name, label, tuple(sources), target, frozenset(actors), **kw)


def _after(delta: timedelta):
    return lambda order, now: now + delta


def _now(order, now):
    return now


# Transitions every process has: payment, mutual cancellation, disputes and their endings — an
# operator's decision (full refund, release or split), a partial refund both sides agreed on, or
# the opener's win when the other side did not answer in time (the trust app's resolution
# center, docs/trust.md, drives them and keeps the dispute's file in step).
def _common(
    *,
    cancellable: tuple[str, ...],
    disputable: tuple[str, ...],
    placed: str,
    pay_notify: frozenset[str] = PARTIES,
    booking: bool = False,
    custom_offers: bool = False,
) -> dict:
    late = (
        [
            T(
                "refund_late_payment",
                "Refund a late payment",
                placed,
                CANCELLED,
                SYSTEM,
                effects=(rules.refund_all,),
                past="cancelled: the payment was confirmed after the booking had started — "
                "refunded in full",
            )
        ]
        if booking
        else []
    )
    return dict(
        [
            *late,
            T(
                "pay",
                "Payment received",
                PENDING_PAYMENT,
                placed,
                SYSTEM,
                effects=(
                    rules.mark_placed,
                    *((rules.custom_offer_accepted,) if custom_offers else ()),
                ),
                notify=pay_notify,
                past="paid — the order is placed",
            ),
            T(
                "payment_fail",
                "Payment failed",
                PENDING_PAYMENT,
                PAYMENT_FAILED,
                SYSTEM,
                effects=(
                    rules.release_stock,
                    *((rules.custom_offer_reopened,) if custom_offers else ()),
                ),
                notify=frozenset(),
                past="payment did not complete",
            ),
            T(
                "request_cancellation",
                "Ask to cancel",
                cancellable,
                None,
                PARTIES,
                guard=rules.no_cancellation_pending,
                needs=rules.need_message,
                effects=(rules.cancellation_requested,),
                form="message",
                past="asked to cancel the order",
            ),
            T(
                "accept_cancellation",
                "Agree to cancel",
                cancellable,
                CANCELLED,
                PARTIES,
                guard=rules.cancellation_asked_by_other,
                effects=(rules.refund_all, rules.release_stock),
                past="agreed to cancel — the buyer is refunded in full",
            ),
            T(
                "decline_cancellation",
                "Keep the order",
                cancellable,
                None,
                PARTIES,
                guard=rules.cancellation_asked_by_other,
                effects=(rules.cancellation_cleared,),
                past="declined to cancel",
            ),
            T(
                "dispute",
                "Open a dispute",
                disputable,
                DISPUTED,
                PARTIES,
                needs=rules.need_dispute,
                effects=(rules.dispute_recorded,),
                notify=frozenset(),  # the resolution center tells the other side
                form="dispute",
                past="opened a dispute — the payment is frozen",
            ),
            T(
                "resolve_refund",
                "Refund the buyer",
                DISPUTED,
                CANCELLED,
                OPERATOR,
                needs=rules.need_message,
                effects=(rules.dispute_settled, rules.refund_all, rules.release_stock),
                notify=frozenset(),
                form="message",
                past="resolved the dispute with a full refund",
            ),
            T(
                "resolve_release",
                "Pay the seller",
                DISPUTED,
                COMPLETED,
                OPERATOR,
                needs=rules.need_message,
                effects=(rules.dispute_settled, rules.release_all),
                notify=frozenset(),
                form="message",
                past="resolved the dispute in the seller's favour",
            ),
            T(
                "resolve_split",
                "Split the payment",
                DISPUTED,
                COMPLETED,
                OPERATOR,
                needs=rules.need_split,
                effects=(rules.dispute_settled, rules.split_by_amount),
                notify=frozenset(),
                form="split",
                past="resolved the dispute with a partial refund",
            ),
            T(
                "settle_agreed",
                "Settle as agreed",
                DISPUTED,
                COMPLETED,
                SYSTEM,
                needs=rules.need_agreed,
                effects=(rules.dispute_settled, rules.split_by_amount),
                notify=frozenset(),
                past="settled the dispute with the partial refund both sides agreed on",
            ),
            T(
                "resolve_default_refund",
                "Refund the buyer (no answer)",
                DISPUTED,
                CANCELLED,
                SYSTEM,
                needs=rules.need_message_optional,
                effects=(rules.dispute_settled, rules.refund_all, rules.release_stock),
                notify=frozenset(),
                past="resolved the dispute for the buyer: the seller did not answer in time — "
                "refunded in full",
            ),
            T(
                "resolve_default_release",
                "Pay the seller (no answer)",
                DISPUTED,
                COMPLETED,
                SYSTEM,
                needs=rules.need_message_optional,
                effects=(rules.dispute_settled, rules.release_all),
                notify=frozenset(),
                past="resolved the dispute for the seller: the buyer did not answer in time — "
                "the seller is paid",
            ),
        ]
    )


def _booking_cancellations(
    state: str, *, seller_actors=(SELLER,), seller_needs=rules.need_message
) -> dict:
    """A booking's two cancellations before it starts: the buyer's, refunded by the order's
    policy, and the seller's, refunded in full."""
    return dict(
        [
            T(
                "cancel",
                "Cancel my booking",
                state,
                CANCELLED,
                BUYER,
                guard=rules.before_start,
                effects=(rules.refund_by_policy,),
                past="cancelled the booking",
            ),
            T(
                "seller_cancel",
                "Cancel this booking",
                state,
                CANCELLED,
                seller_actors,
                needs=seller_needs,
                effects=(rules.refund_all,),
                form="message",
                past="cancelled the booking — refunded in full",
            ),
        ]
    )


COMMON_STATES = {
    PENDING_PAYMENT: "Awaiting payment",
    PAYMENT_FAILED: "Payment failed",
    COMPLETED: "Completed",
    CANCELLED: "Cancelled",
    DISPUTED: "In dispute",
}


SERVICE = Process(
    name="service",
    label="Service gig",
    states={
        **COMMON_STATES,
        "requirements": "Waiting for the buyer's requirements",
        "in_progress": "In progress",
        "delivered": "Delivered",
        "revision_requested": "Revision requested",
    },
    transitions={
        **_common(
            cancellable=("requirements", "in_progress", "delivered", "revision_requested"),
            disputable=("in_progress", "delivered", "revision_requested"),
            placed="requirements",
            custom_offers=True,
        ),
        **dict(
            [
                T(
                    "seller_cancel",
                    "Cancel and refund",
                    "requirements",
                    CANCELLED,
                    SELLER,
                    needs=rules.need_message,
                    effects=(rules.refund_all,),
                    form="message",
                    past="cancelled the order before it started — refunded in full",
                ),
                T(
                    "submit_requirements",
                    "Send requirements",
                    "requirements",
                    "in_progress",
                    BUYER,
                    needs=rules.need_requirements,
                    effects=(rules.save_requirements, rules.start_clock),
                    form="requirements",
                    past="sent the requirements — the work starts",
                ),
                T(
                    "start",
                    "Start",
                    "requirements",
                    "in_progress",
                    SYSTEM,
                    effects=(rules.start_clock,),
                    notify=frozenset({SELLER}),
                    past="started the order (no requirements asked)",
                ),
                T(
                    "deliver",
                    "Deliver",
                    ("in_progress", "revision_requested"),
                    "delivered",
                    SELLER,
                    needs=rules.need_delivery,
                    effects=(rules.save_delivery,),
                    form="delivery",
                    past="delivered the order",
                ),
                T(
                    "request_revision",
                    "Request a revision",
                    "delivered",
                    "revision_requested",
                    BUYER,
                    guard=rules.revisions_left,
                    needs=rules.need_message,
                    effects=(rules.count_revision,),
                    form="message",
                    past="asked for a revision",
                ),
                T(
                    "accept",
                    "Accept delivery",
                    "delivered",
                    COMPLETED,
                    BUYER,
                    effects=(rules.release_all,),
                    past="accepted the delivery — the seller is paid",
                ),
                T(
                    "auto_complete",
                    "Complete",
                    "delivered",
                    COMPLETED,
                    SYSTEM,
                    effects=(rules.release_all,),
                    past="completed automatically 3 days after delivery",
                ),
                T(
                    "cancel_late",
                    "Cancel (late delivery)",
                    ("in_progress", "revision_requested"),
                    CANCELLED,
                    BUYER,
                    guard=rules.delivery_late,
                    effects=(rules.refund_all,),
                    past="cancelled a late order — refunded in full",
                ),
            ]
        ),
    },
    deadlines={
        "requirements": (Deadline("start", rules.now_if_no_questions),),
        "delivered": (Deadline("auto_complete", _after(AUTO_COMPLETE_AFTER)),),
    },
)


EXPERIENCE = Process(
    name="experience",
    label="Experience",
    states={**COMMON_STATES, "booked": "Booked"},
    transitions={
        **_common(cancellable=(), disputable=("booked",), placed="booked", booking=True),
        **_booking_cancellations(
            "booked", seller_actors=(SELLER, SYSTEM), seller_needs=rules.need_message_optional
        ),
        **dict(
            [
                T(
                    "complete",
                    "Complete",
                    "booked",
                    COMPLETED,
                    SYSTEM,
                    effects=(rules.release_all,),
                    past="completed after the session",
                ),
            ]
        ),
    },
    deadlines={
        "booked": (
            Deadline("refund_late_payment", rules.now_if_paid_after_start),
            Deadline("seller_cancel", rules.now_if_session_cancelled),
            Deadline("complete", rules.at_end),
        )
    },
    active=frozenset({PENDING_PAYMENT, "booked"}),
)


RENTAL = Process(
    name="rental",
    label="Rental",
    states={
        **COMMON_STATES,
        "requested": "Requested — waiting for the owner",
        "declined": "Declined",
        "accepted": "Confirmed",
        "checked_in": "Checked in",
        "checked_out": "Checked out",
    },
    transitions={
        **_common(
            cancellable=(),
            disputable=("accepted", "checked_in", "checked_out"),
            placed="requested",
            booking=True,
        ),
        **_booking_cancellations("accepted"),
        **dict(
            [
                T(
                    "accept",
                    "Accept request",
                    "requested",
                    "accepted",
                    (SELLER, SYSTEM),
                    past="accepted the booking",
                ),
                T(
                    "decline",
                    "Decline request",
                    "requested",
                    "declined",
                    SELLER,
                    needs=rules.need_message_optional,
                    effects=(rules.refund_all,),
                    form="message",
                    past="declined the request — refunded in full",
                ),
                T(
                    "expire",
                    "Expire",
                    "requested",
                    "declined",
                    SYSTEM,
                    effects=(rules.refund_all,),
                    past="expired: the owner did not answer within 24 hours — refunded in full",
                ),
                T(
                    "withdraw",
                    "Withdraw request",
                    "requested",
                    CANCELLED,
                    BUYER,
                    effects=(rules.refund_all,),
                    past="withdrew the request — refunded in full",
                ),
                T(
                    "check_in",
                    "Check in",
                    "accepted",
                    "checked_in",
                    SELLER,
                    guard=rules.check_in_open,
                    past="handed over — checked in",
                ),
                T(
                    "check_out",
                    "Check out",
                    "checked_in",
                    "checked_out",
                    SELLER,
                    past="got it back — checked out",
                ),
                T(
                    "complete",
                    "Complete and return the deposit",
                    "checked_out",
                    COMPLETED,
                    SELLER,
                    needs=rules.need_deposit_claim,
                    effects=(rules.save_deposit_claim, rules.release_all),
                    form="deposit",
                    past="completed the rental",
                ),
                T(
                    "auto_complete",
                    "Complete",
                    "checked_out",
                    COMPLETED,
                    SYSTEM,
                    effects=(rules.release_all,),
                    past="completed automatically; the deposit is returned",
                ),
            ]
        ),
    },
    deadlines={
        "requested": (
            Deadline("refund_late_payment", rules.now_if_paid_after_start),
            Deadline("accept", rules.now_if_instant),
            Deadline("expire", _after(RENTAL_ANSWER_WITHIN)),
        ),
        "checked_out": (Deadline("auto_complete", _after(RENTAL_CLAIM_WINDOW)),),
    },
    active=frozenset({PENDING_PAYMENT, "requested", "accepted", "checked_in", "checked_out"}),
)


TASK = Process(
    name="task",
    label="Local task",
    states={**COMMON_STATES, "booked": "Booked", "done": "Done — waiting for approval"},
    transitions={
        **_common(cancellable=(), disputable=("booked", "done"), placed="booked", booking=True),
        **_booking_cancellations("booked"),
        **dict(
            [
                T(
                    "complete_work",
                    "Mark as done",
                    "booked",
                    "done",
                    SELLER,
                    guard=rules.after_start,
                    needs=rules.need_hours,
                    effects=(rules.save_hours,),
                    form="hours",
                    past="finished the task",
                ),
                T(
                    "approve",
                    "Approve",
                    "done",
                    COMPLETED,
                    BUYER,
                    effects=(rules.charge_actual_hours,),
                    past="approved the work — the seller is paid for the hours worked",
                ),
                T(
                    "auto_approve",
                    "Approve",
                    "done",
                    COMPLETED,
                    SYSTEM,
                    effects=(rules.charge_actual_hours,),
                    past="approved automatically 3 days after the work",
                ),
            ]
        ),
    },
    deadlines={
        "booked": (Deadline("refund_late_payment", rules.now_if_paid_after_start),),
        "done": (Deadline("auto_approve", _after(AUTO_COMPLETE_AFTER)),),
    },
)


DIGITAL = Process(
    name="digital",
    label="Digital product",
    states={**COMMON_STATES, "paid": "Paid", "delivered": "Ready to download"},
    transitions={
        **_common(
            cancellable=(),
            disputable=("delivered",),
            placed="paid",
            pay_notify=frozenset({SELLER}),  # the buyer gets one email: the download links
        ),
        **dict(
            [
                T(
                    "deliver",
                    "Deliver",
                    "paid",
                    "delivered",
                    SYSTEM,
                    notify=frozenset({BUYER}),
                    past="sent the download links",
                ),
                T(
                    "complete",
                    "Complete",
                    "delivered",
                    COMPLETED,
                    SYSTEM,
                    effects=(rules.release_all,),
                    past="completed",
                ),
            ]
        ),
    },
    deadlines={
        "paid": (Deadline("deliver", _now),),
        "delivered": (Deadline("complete", _after(AUTO_COMPLETE_AFTER)),),
    },
)


PHYSICAL = Process(
    name="physical",
    label="Physical product",
    states={
        **COMMON_STATES,
        "paid": "Paid — to be shipped",
        "shipped": "Shipped",
        "received": "Received",
    },
    transitions={
        **_common(cancellable=("paid",), disputable=("shipped",), placed="paid"),
        **dict(
            [
                T(
                    "ship",
                    "Mark as shipped",
                    "paid",
                    "shipped",
                    SELLER,
                    needs=rules.need_tracking,
                    effects=(rules.save_tracking,),
                    form="tracking",
                    past="shipped the order",
                ),
                T(
                    "seller_cancel",
                    "Cancel and refund",
                    "paid",
                    CANCELLED,
                    SELLER,
                    needs=rules.need_message,
                    effects=(rules.refund_all, rules.release_stock),
                    form="message",
                    past="cancelled the order — refunded in full",
                ),
                T(
                    "cancel_late",
                    "Cancel (not shipped in time)",
                    "paid",
                    CANCELLED,
                    BUYER,
                    guard=rules.shipping_late,
                    effects=(rules.refund_all, rules.release_stock),
                    past="cancelled an order that was not shipped in time — refunded in full",
                ),
                T(
                    "confirm_received",
                    "I received it",
                    "shipped",
                    "received",
                    BUYER,
                    past="confirmed it arrived — the seller is paid",
                ),
                T(
                    "auto_receive",
                    "Received",
                    "shipped",
                    "received",
                    SYSTEM,
                    past="marked received 14 days after shipping — the seller is paid",
                ),
                T(
                    "complete",
                    "Complete",
                    "received",
                    COMPLETED,
                    SYSTEM,
                    effects=(rules.release_all,),
                    notify=frozenset(),  # told with "received" a moment before
                    past="completed — the seller is paid",
                ),
            ]
        ),
    },
    deadlines={
        "shipped": (Deadline("auto_receive", _after(RECEIVE_AUTO_AFTER)),),
        "received": (Deadline("complete", _now),),
    },
)


# A unit of a buyer's project (projects app): no offer, funded into its own escrow when the
# buyer awards it; the seller submits, the buyer approves (or asks for a revision) within the
# review window, and approval releases the payment.
MILESTONE = Process(
    name="milestone",
    label="Project task",
    states={
        **COMMON_STATES,
        "in_progress": "In progress",
        "submitted": "Submitted — waiting for the buyer's review",
        "revision_requested": "Revision requested",
        "approved": "Approved",
    },
    transitions={
        **_common(
            cancellable=("in_progress", "submitted", "revision_requested"),
            disputable=("in_progress", "submitted", "revision_requested"),
            placed="in_progress",
        ),
        **dict(
            [
                T(
                    "seller_cancel",
                    "Withdraw and refund",
                    "in_progress",
                    CANCELLED,
                    SELLER,
                    needs=rules.need_message,
                    effects=(rules.refund_all,),
                    form="message",
                    past="withdrew from the task — the buyer is refunded in full",
                ),
                T(
                    "submit",
                    "Submit the work",
                    ("in_progress", "revision_requested"),
                    "submitted",
                    SELLER,
                    needs=rules.need_delivery,
                    effects=(rules.save_delivery,),
                    form="delivery",
                    past="submitted the work",
                ),
                T(
                    "request_revision",
                    "Request a revision",
                    "submitted",
                    "revision_requested",
                    BUYER,
                    guard=rules.revisions_left,
                    needs=rules.need_message,
                    effects=(rules.count_revision,),
                    form="message",
                    past="asked for a revision",
                ),
                T(
                    "approve",
                    "Approve the work",
                    "submitted",
                    "approved",
                    BUYER,
                    past="approved the work",
                ),
                T(
                    "auto_approve",
                    "Approve",
                    "submitted",
                    "approved",
                    SYSTEM,
                    past="approved automatically 3 days after the submission",
                ),
                T(
                    "release",
                    "Release the payment",
                    "approved",
                    COMPLETED,
                    SYSTEM,
                    effects=(rules.release_all,),
                    notify=frozenset({SELLER}),
                    past="released the payment — the seller is paid",
                ),
                T(
                    "cancel_late",
                    "Cancel (late submission)",
                    ("in_progress", "revision_requested"),
                    CANCELLED,
                    BUYER,
                    guard=rules.delivery_late,
                    effects=(rules.refund_all,),
                    past="cancelled a late task — refunded in full",
                ),
            ]
        ),
    },
    deadlines={
        "submitted": (Deadline("auto_approve", _after(AUTO_COMPLETE_AFTER)),),
        "approved": (Deadline("release", _now),),
    },
)


PROCESSES: dict[str, Process] = {
    p.name: p for p in (SERVICE, EXPERIENCE, RENTAL, TASK, DIGITAL, PHYSICAL, MILESTONE)
}


def process_for(kind: str) -> Process:
    return PROCESSES[kind]


def deadline_for(process: Process, order, now: datetime) -> tuple[datetime, str] | None:
    """The automatic transition due in ``order``'s current state, if any."""
    for deadline in process.deadlines.get(order.state, ()):
        when = deadline.when(order, now)
        if when is not None:
            return when, deadline.transition
    return None
