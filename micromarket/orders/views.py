"""Order pages: the order box's target, checkout, the cart, the buyer's orders, the order page
(timeline and the actions the current state allows), the seller's board and calendar.

Views parse input, call one service (or read selectors) and render. A service's refusal is shown
on its form (400, 403 for the wrong party, 409 for a state or stock conflict); success is a flash
message after a redirect. Orders a user may not see are 404, never 403, so ids do not leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from micromarket.catalog import selectors as catalog_selectors
from micromarket.core.errors import DomainError, NotFound
from micromarket.core.forms import form_add_domain_error
from micromarket.ledger import selectors as ledger_selectors
from micromarket.messaging import selectors as messaging_selectors
from micromarket.messaging import services as messaging_services
from micromarket.orders import rules, selectors, services
from micromarket.orders.forms import (
    CheckoutForm,
    SessionCancelForm,
    new_idempotency_key,
    order_item,
    transition_form,
)
from micromarket.orders.processes import (
    BUYER,
    PAYMENT_FAILED,
    PENDING_PAYMENT,
    SYSTEM,
    process_for,
)

PER_PAGE = 20
CART_KINDS = ("digital", "physical")
BOOKING_KINDS = ("experience", "rental", "task")
ITEM_SALT = "orders.checkout.item"
CALENDAR_WEEKS = 8

# How a state reads at a glance (badge colour).
TONES = {
    "completed": "ok",
    "received": "ok",
    "cancelled": "danger",
    "declined": "danger",
    "payment_failed": "danger",
    "disputed": "danger",
    "pending_payment": "warn",
    "requested": "warn",
    "requirements": "warn",
    "delivered": "warn",
    "revision_requested": "warn",
    "done": "warn",
    "checked_out": "warn",
}

# What the buyer is waiting for, or should do, per (kind, state) or state.
BUYER_HINTS = {
    PENDING_PAYMENT: "Complete the payment",
    "requirements": "Send your requirements so the work can start",
    "in_progress": "The seller is working on it",
    ("service", "delivered"): "Review the delivery: accept it or ask for a revision",
    ("digital", "delivered"): "Download your files",
    ("digital", "paid"): "Preparing your downloads",
    "revision_requested": "The seller is revising the work",
    "requested": "Waiting for the owner to accept",
    "accepted": "Confirmed — see you on the start date",
    "booked": "Booked — see you then",
    "checked_in": "Enjoy! Return it by the end date",
    "checked_out": "Returned — the deposit comes back soon",
    "done": "Approve the hours worked",
    ("physical", "paid"): "Waiting for the seller to ship",
    "shipped": "Confirm when it arrives",
    "received": "Received",
    "disputed": "An operator is looking at the dispute",
    "completed": "",
    "cancelled": "",
    "declined": "",
}

# The automatic step an order is waiting for, as a person would say it.
DEADLINE_TEXT = {
    "auto_complete": "Completes automatically",
    "complete": "Completes",
    "expire": "Expires unless accepted",
    "auto_approve": "Approved automatically",
    "auto_receive": "Marked received automatically",
    "start": "Starts",
    "deliver": "Delivered",
    "accept": "Accepted",
}

# Secondary or destructive actions are folded away (a <details>) until opened.
FOLDED = {
    "request_cancellation",
    "dispute",
    "seller_cancel",
    "decline",
    "cancel",
    "cancel_late",
    "withdraw",
    "request_revision",
    "resolve_refund",
    "resolve_release",
}
DANGER = {"seller_cancel", "decline", "cancel", "cancel_late", "withdraw", "dispute"}

# The seller's board: (column title, states, whether the seller has the next move).
BOARD_COLUMNS = (
    ("Requests to answer", ("requested",), True),
    ("Waiting for requirements", ("requirements",), False),
    ("In progress", ("in_progress",), True),
    ("Revision requested", ("revision_requested",), True),
    ("To ship", ("paid",), True),
    ("Delivered — waiting for the buyer", ("delivered",), False),
    ("Shipped", ("shipped", "received"), False),
    ("Upcoming bookings", ("accepted", "booked"), False),
    ("Checked in", ("checked_in",), True),
    ("Checked out — settle the deposit", ("checked_out",), True),
    ("Done — waiting for approval", ("done",), False),
    ("In dispute", ("disputed",), False),
)


def _not_found(exc: NotFound):
    raise Http404(exc.message) from None


def _order_or_404(request, order_id: int):
    try:
        return selectors.order_for_user(order_id=order_id, user=request.user)
    except NotFound as exc:
        _not_found(exc)


def _decorate(order) -> None:
    """What every list shows of an order: its state's label and colour."""
    process = process_for(order.kind)
    order.state_label = process.states.get(order.state, order.state)
    order.tone = TONES.get(order.state, "")
    order.kind_label = process.label


def _buyer_hint(order, user) -> str:
    asked = order.cancellation_requested_by_id
    if asked and asked != user.pk:
        return "The seller asked to cancel — answer on the order page"
    if asked:
        return "You asked to cancel — waiting for the seller"
    return BUYER_HINTS.get((order.kind, order.state), BUYER_HINTS.get(order.state, ""))


def _deadlines(order, now, *, with_start: bool = True) -> list[dict]:
    """What matters about time for an order card or page: {label, when, late, whole_day}
    (``whole_day``: a nightly or daily rental, shown as a date)."""
    facts = []

    def fact(label, when, late=False, whole_day=False):
        facts.append({"label": label, "when": when, "late": late, "whole_day": whole_day})

    if (
        order.kind == "service"
        and order.due_at
        and order.state in ("in_progress", "revision_requested")
    ):
        fact("Due", order.due_at, late=rules.is_delivery_late(order, now))
    if order.kind == "physical" and order.due_at and order.state == "paid":
        fact("Ship by", order.due_at, late=now > order.due_at)
    started = process_for(order.kind).terminal | {"checked_in", "checked_out", "done"}
    upcoming = order.kind in BOOKING_KINDS and order.starts_at and order.state not in started
    if with_start and upcoming:
        whole_day = order.kind == "rental" and order.offer.rental.unit != "hour"
        fact("Starts", order.starts_at, whole_day=whole_day)
    if order.deadline_at and order.deadline_transition not in ("pay", "start", "deliver"):
        fact(DEADLINE_TEXT.get(order.deadline_transition, "Next step"), order.deadline_at)
    return facts


# --- the order box on an offer page -----------------------------------------------------------


def item_token(item: dict) -> str:
    """The item under checkout, signed so it travels in the checkout page's address."""
    return signing.dumps(item, salt=ITEM_SALT, compress=True)


def _item_from_token(token: str) -> dict | None:
    try:
        item = signing.loads(token, salt=ITEM_SALT)
    except signing.BadSignature:
        return None
    return item if isinstance(item, dict) and ("offer" in item or "custom_offer" in item) else None


@login_required
@require_POST
def offer_order(request, offer_id: int):
    """The order box: check the buyer's choices, then put them in the cart or go to checkout."""
    try:
        offer = catalog_selectors.offer_get_visible(offer_id=offer_id, viewer=request.user)
    except NotFound as exc:
        _not_found(exc)
    back = reverse("catalog:offer", args=[offer.pk]) + "#order"
    item = order_item(offer, request.POST)
    to_cart = request.POST.get("action") == "cart"
    try:
        if to_cart:
            if offer.kind not in CART_KINDS:
                messages.error(request, "Bookings and gigs are ordered one at a time.")
                return redirect(back)
            services.cart_add(buyer=request.user, item=item)
        else:
            selectors.order_item_check(buyer=request.user, item=item)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    if to_cart:
        messages.success(request, f"“{offer.title}” is in your cart.")
        return redirect("orders:cart")
    return redirect(f"{reverse('orders:checkout')}?{urlencode({'item': item_token(item)})}")


@login_required
def custom_offer_checkout(request, custom_offer_id: int):
    """“Accept & pay” on a custom offer card: the usual checkout page, for the offer's terms
    (the page itself says so if the offer is no longer open)."""
    item = {"custom_offer": custom_offer_id}
    return redirect(f"{reverse('orders:checkout')}?{urlencode({'item': item_token(item)})}")


# --- checkout -----------------------------------------------------------------------------------


@dataclass
class _Source:
    """What is being checked out: one item from an offer page, or the cart in one currency."""

    items: list[dict]
    cart_ids: list[int] | None
    query: str  # kept in the checkout page's address and its form's action
    back_url: str
    back_label: str


def _checkout_source(request) -> _Source | None:
    params = request.GET
    if params.get("from") == "cart":
        cart = list(selectors.cart_for_buyer(buyer=request.user))
        currency = (params.get("currency") or "").upper()
        currencies = {c.offer.currency for c in cart}
        if not currency and len(currencies) == 1:
            currency = currencies.pop()
        chosen = [c for c in cart if c.offer.currency == currency]
        if not chosen:
            return None
        return _Source(
            items=[c.as_item() for c in chosen],
            cart_ids=[c.pk for c in chosen],
            query=urlencode({"from": "cart", "currency": currency}),
            back_url=reverse("orders:cart"),
            back_label="Back to the cart",
        )
    item = _item_from_token(params.get("item") or "")
    if item is None:
        return None
    if "custom_offer" in item:  # accepted from a conversation
        back_url, back_label = reverse("messaging:inbox"), "Back to your messages"
    else:
        back_url, back_label = reverse("catalog:offer", args=[item["offer"]]), "Back to the offer"
    return _Source(
        items=[item],
        cart_ids=None,
        query=urlencode({"item": params["item"]}),
        back_url=back_url,
        back_label=back_label,
    )


def _preview(request, source: _Source, country: str):
    """(preview, error that stops the checkout, error of the shipping country)."""
    try:
        return (
            selectors.checkout_preview(buyer=request.user, items=source.items, country=country),
            None,
            None,
        )
    except DomainError as exc:
        if not (country and exc.field == "country"):
            return None, exc, None
        country_error = exc
    try:  # the country is not shipped to: show the rest, ask for another country
        preview = selectors.checkout_preview(buyer=request.user, items=source.items, country="")
    except DomainError as exc:
        return None, exc, None
    return preview, None, country_error


def _after_checkout(request, checkout) -> HttpResponse | str:
    """Where the buyer goes once the checkout was placed; the failure message when the payment
    did not go through (nothing was charged then)."""
    payment = checkout.payment
    if checkout.status == "paid":
        orders = list(checkout.orders.order_by("pk").values_list("pk", flat=True))
        if len(orders) == 1:
            messages.success(request, "Payment received — your order is placed.")
            return redirect("orders:detail", orders[0])
        messages.success(request, f"Payment received — your {len(orders)} orders are placed.")
        return redirect("orders:list")
    if checkout.status == "pending":
        if payment is not None and payment.status == "requires_action" and payment.action_url:
            return redirect(payment.action_url)
        messages.info(
            request,
            "Your payment is being processed; your order is placed as soon as it completes.",
        )
        return redirect("orders:list")
    return checkout.failure_message or "The payment did not go through."


def _place(request, source: _Source, form: CheckoutForm) -> HttpResponse | int:
    data = form.cleaned_data
    key = data["idempotency_key"]
    try:
        checkout = services.checkout_place(
            buyer=request.user,
            items=source.items,
            payment_method=data["card_number"],
            idempotency_key=key,
            return_url=request.build_absolute_uri(reverse("orders:checkout_return", args=[key])),
            credit=form.credit_used,
            address=data.get("address", ""),
            country=data.get("country", ""),
            note=data.get("note", ""),
            cart_item_ids=source.cart_ids,
        )
    except DomainError as exc:
        if exc.code == "idempotency_mismatch":
            form.add_error(
                None, "This page was already sent with other details. Check them and pay again."
            )
        else:
            form_add_domain_error(form, exc)
        return 409 if exc.status == 409 else 400
    result = _after_checkout(request, checkout)
    if isinstance(result, HttpResponse):
        return result
    form.add_error("card_number", f"{result} Nothing was charged.")
    return 400


@login_required
def checkout(request):
    """GET: what the buyer is about to pay, order by order. POST: place and pay."""
    if request.method == "POST" and "recalculate" not in request.POST:
        # The same page sent twice (a double click, a retry after a timeout): show what the
        # first submission did, before anything — like the buyer's credit — is read again.
        placed = selectors.checkout_for_key(
            buyer=request.user, idempotency_key=request.POST.get("idempotency_key", "")
        )
        if placed is not None:
            result = _after_checkout(request, services.checkout_sync(checkout_id=placed.pk))
            if isinstance(result, HttpResponse):
                return result
            messages.error(request, f"{result} Nothing was charged.")
            return redirect(f"{reverse('orders:checkout')}?{request.GET.urlencode()}")
    source = _checkout_source(request)
    if source is None:
        messages.error(request, "There is nothing to check out. Choose an offer first.")
        return redirect("orders:cart")
    posted = request.method == "POST"
    params = request.POST if posted else request.GET
    country = params.get("country")
    if country is None:
        country = selectors.last_ship_country(buyer=request.user)
    country = country.strip().upper()[:2]
    preview, error, country_error = _preview(request, source, country)
    credit = 0
    if preview is not None:
        balances = ledger_selectors.user_balances(request.user)
        credit = balances.get(preview.currency, {}).get("credit", 0)
    form_kw = {
        "needs_address": bool(preview and preview.needs_address),
        "credit": credit,
        "total": preview.total if preview else 0,
        "sandbox": settings.PAYMENTS_PROVIDER == "sandbox",
    }
    recalculate = posted and "recalculate" in request.POST
    if posted and not recalculate:
        form = CheckoutForm(request.POST, **form_kw)
    else:
        initial = {"country": country}
        if recalculate:
            initial.update(
                address=request.POST.get("address", ""),
                note=request.POST.get("note", ""),
                use_credit=bool(request.POST.get("use_credit")),
            )
        form = CheckoutForm(initial=initial, **form_kw)
    url = f"{reverse('orders:checkout')}?{source.query}"
    if "country" in form.fields:
        form.fields["country"].widget.attrs.update(
            {"hx-get": url, "hx-target": "#breakdown", "hx-swap": "outerHTML"}
        )
    status = 200
    if error is not None:
        if posted:
            status = 409 if error.status == 409 else 400
    elif posted and not recalculate:
        if country_error is not None:
            form.is_valid()
            status = 400
        elif form.is_valid():
            result = _place(request, source, form)
            if isinstance(result, HttpResponse):
                return result
            status = result
        else:
            status = 400
    if country_error is not None and "country" in form.fields:
        form.fields["country"].widget.attrs["aria-invalid"] = "true"
    context = {
        "source": source,
        "preview": preview,
        "error": error,
        "country_error": country_error,
        "form": form,
        "credit": credit,
        "url": url,
        "idempotency_key": new_idempotency_key(),
    }
    if request.htmx and not posted:
        return render(request, "orders/checkout.html#breakdown", context)
    return render(request, "orders/checkout.html", context, status=status)


@login_required
def checkout_return(request, key: str):
    """Back from the payment provider's extra step (the sandbox's confirmation page)."""
    found = selectors.checkout_for_key(buyer=request.user, idempotency_key=key)
    if found is None:
        raise Http404("There is no such checkout.")
    try:
        checkout = services.checkout_return(checkout_id=found.pk, buyer=request.user)
    except NotFound as exc:
        _not_found(exc)
    result = _after_checkout(request, checkout)
    if isinstance(result, HttpResponse):
        return result
    messages.error(request, f"The payment did not go through: {result} Nothing was charged.")
    if checkout.from_cart:
        return redirect("orders:cart")
    first = checkout.orders.order_by("pk").values("offer_id", "origin_url").first()
    if first and first["offer_id"]:
        return redirect("catalog:offer", first["offer_id"])
    if first and first["origin_url"]:  # a project task's funding: back to its task
        return redirect(first["origin_url"])
    return redirect("orders:list")


# --- cart -----------------------------------------------------------------------------------------


@login_required
def cart(request):
    groups: dict[str, dict] = {}
    for line in selectors.cart_lines(buyer=request.user):
        group = groups.setdefault(
            line.currency,
            {"currency": line.currency, "lines": [], "total": 0, "problems": 0},
        )
        group["lines"].append(line)
        if line.line is None:
            group["problems"] += 1
        else:
            group["total"] += line.line.amount
    for group in groups.values():
        query = urlencode({"from": "cart", "currency": group["currency"]})
        group["checkout_url"] = f"{reverse('orders:checkout')}?{query}"
    return render(request, "orders/cart.html", {"groups": list(groups.values())})


@login_required
@require_POST
def cart_remove(request, item_id: int):
    try:
        services.cart_remove(buyer=request.user, item_id=item_id)
    except NotFound as exc:
        _not_found(exc)
    messages.success(request, "Removed from your cart.")
    return redirect("orders:cart")


# --- the buyer's orders and the order page --------------------------------------------------------


@login_required
def order_list(request):
    orders = selectors.orders_for_buyer(buyer=request.user).exclude(state=PAYMENT_FAILED)
    page = Paginator(orders, PER_PAGE).get_page(request.GET.get("page"))
    for order in page:
        _decorate(order)
        order.hint = _buyer_hint(order, request.user)
    return render(request, "orders/order_list.html", {"page": page})


def _who(event, viewer) -> str:
    if event.role == SYSTEM or event.actor is None:
        return ""
    if event.actor_id == viewer.pk:
        return "You"
    role = {"buyer": "the buyer", "seller": "the seller", "operator": "an operator"}
    return f"{event.actor.display_name} ({role.get(event.role, event.role)})"


def _order_context(request, order, failed=None) -> dict:
    """Everything the order page shows. ``failed`` = (transition, bound form) to show again
    with its errors."""
    user = request.user
    now = timezone.now()
    role = selectors.order_role(order, user)
    process = process_for(order.kind)
    _decorate(order)

    actions = []
    failed_shown = False
    for transition in selectors.transitions_available(order=order, user=user, now=now):
        form = transition_form(transition, order)
        if failed and failed[0].name == transition.name:
            form, failed_shown = failed[1], True
        actions.append(
            {
                "transition": transition,
                "form": form,
                "folded": transition.name in FOLDED and not form.errors,
                "danger": transition.name in DANGER,
            }
        )
    actions.sort(key=lambda a: a["transition"].name in FOLDED)  # the main steps first
    action_error = ""
    if failed and not failed_shown:
        errors = failed[1].errors
        action_error = (
            " ".join(str(message) for field in errors.values() for message in field)
            or "That is not possible now."
        )

    deliveries = {d.event_id: d for d in order.deliveries.all()}
    timeline = []
    for event in order.events.all():
        if event.transition == "create":
            text = "ordered"
        else:
            t = process.transitions.get(event.transition)
            text = t.past if t and t.past else event.transition.replace("_", " ")
        who = _who(event, user)
        timeline.append(
            {
                "event": event,
                "who": who,
                "text": text if who else text[:1].upper() + text[1:],
                "state_label": process.states.get(event.to_state, event.to_state),
                "moved": event.to_state != event.from_state,
                "delivery": deliveries.get(event.pk),
                "refund": event.data.get("refund") if isinstance(event.data, dict) else None,
                "charged": event.data.get("charged") if isinstance(event.data, dict) else None,
            }
        )

    cancellation = None
    if order.cancellation_requested_by_id:
        asked = next(
            (e for e in reversed(timeline) if e["event"].transition == "request_cancellation"),
            None,
        )
        mine = order.cancellation_requested_by_id == user.pk
        by_buyer = order.cancellation_requested_by_id == order.buyer_id
        cancellation = {
            "who": "You" if mine else ("The buyer" if by_buyer else "The seller"),
            "mine": mine,
            "message": asked["event"].message if asked else "",
        }

    downloads = selectors.order_downloads(order=order, user=user) if role == BUYER else []

    payment = order.checkout.payment if order.checkout_id else None
    pay_url = ""
    if (
        order.state == PENDING_PAYMENT
        and role == BUYER
        and payment is not None
        and payment.status == "requires_action"
    ):
        pay_url = payment.action_url
    refund_now = None
    if any(a["transition"].name == "cancel" for a in actions):
        refund_now = rules.policy_refund(order, now)
    late = order.kind == "service" and rules.is_delivery_late(order, now)
    rental_unit = order.offer.rental.unit if order.kind == "rental" else ""
    return {
        "order": order,
        "role": role,
        "process": process,
        "actions": actions,
        "action_error": action_error,
        "timeline": timeline,
        "cancellation": cancellation,
        "downloads": downloads,
        "pay_url": pay_url,
        "money": selectors.order_money(order),
        "items": list(order.items.all()),
        "policy_text": rules.POLICY_TEXT.get(order.cancellation_policy, ""),
        "refund_now": refund_now,
        "late": late,
        "deadlines": _deadlines(order, now, with_start=False),
        "rental_unit": rental_unit,
        "hours_booked": (order.minutes_booked or 0) / 60 if order.minutes_booked else None,
        "hours_worked": (order.minutes_worked or 0) / 60 if order.minutes_worked else None,
        "requirements_answered": any("answer" in q for q in order.requirements or []),
        "is_closed": order.state in process.terminal,
    }


@login_required
def order_detail(request, order_id: int):
    order = _order_or_404(request, order_id)
    context = _order_context(request, order)
    # The order's own conversation: the buyer and the seller write in it (opening the page
    # reads it); operators read it, e.g. to decide a dispute.
    party = request.user.pk in (order.buyer_id, order.seller_id)
    thread = messaging_selectors.order_thread(order_id=order.pk)
    page = new_divider = None
    if thread is not None:
        page = messaging_selectors.messages_page(conversation=thread, limit=30 if party else 100)
        if party:
            last_read = messaging_selectors.participant_for(
                conversation=thread, user=request.user
            ).last_read_id
            new_divider = next(
                (
                    m.pk
                    for m in page.messages
                    if m.pk > last_read and m.sender_id != request.user.pk
                ),
                None,
            )
            messaging_services.conversation_mark_read(conversation_id=thread.pk, user=request.user)
    context["chat"] = {
        "conversation": thread,
        "page": page,
        "new_divider": new_divider,
        "read_only": not party,
        "can_write": party
        and not messaging_selectors.users_blocked(order.buyer_id, order.seller_id),
        "send_url": reverse("messaging:order_send", args=[order.pk]),
        "now": timezone.now(),
    }
    return render(request, "orders/order_detail.html", context)


@login_required
@require_POST
def order_transition(request, order_id: int, name: str):
    """Take the step ``name`` on the order (its form's input), then back to the order page."""
    order = _order_or_404(request, order_id)
    transition = process_for(order.kind).transitions.get(name)
    if transition is None:
        raise Http404("There is no such step.")
    form = transition_form(transition, order, request.POST, request.FILES)
    status = 400
    if form.is_valid():
        try:
            services.order_transition(
                order_id=order.pk, name=name, actor=request.user, data=form.service_data()
            )
        except NotFound as exc:
            _not_found(exc)
        except DomainError as exc:
            form_add_domain_error(form, exc)
            status = exc.status if exc.status in (403, 409) else 400
        else:
            messages.success(request, f"You {transition.past or transition.label.lower()}.")
            return redirect("orders:detail", order.pk)
    order = _order_or_404(request, order_id)
    context = _order_context(request, order, failed=(transition, form))
    return render(request, "orders/order_detail.html", context, status=status)


@login_required
def delivery_file(request, order_id: int, file_id: int):
    """A delivered file, for the order's parties only."""
    try:
        item = selectors.delivery_file_for_user(
            order_id=order_id, file_id=file_id, user=request.user
        )
    except NotFound as exc:
        _not_found(exc)
    return FileResponse(
        item.file.open("rb"),
        as_attachment=True,
        filename=item.name,
        content_type=item.content_type,
    )


# --- the seller's board and calendar --------------------------------------------------------------


@login_required
def sales(request):
    """The seller's orders by where they stand; what needs the seller first."""
    now = timezone.now()
    orders = selectors.orders_for_seller(seller=request.user).select_related("offer__rental")
    open_orders = list(orders.filter(closed_at__isnull=True)[:500])
    closed = list(orders.filter(closed_at__isnull=False).order_by("-closed_at", "-id")[:PER_PAGE])
    for order in (*open_orders, *closed):
        _decorate(order)
        order.facts = _deadlines(order, now)
        order.cancel_asked_by_buyer = order.cancellation_requested_by_id == order.buyer_id
    columns = []
    placed = set()
    for title, states, your_move in BOARD_COLUMNS:
        cards = [o for o in open_orders if o.state in states]
        placed.update(o.pk for o in cards)
        if cards:
            columns.append({"title": title, "orders": cards, "your_move": your_move})
    others = [o for o in open_orders if o.pk not in placed]
    if others:
        columns.append({"title": "Other", "orders": others, "your_move": False})
    return render(
        request,
        "orders/sales.html",
        {"columns": columns, "closed": closed, "open_count": len(open_orders)},
    )


@login_required
def calendar(request):
    """The seller's sessions and bookings for the next weeks, by week and day."""
    today = timezone.localdate()
    start = timezone.make_aware(datetime.combine(today, time.min))
    end = start + timedelta(weeks=CALENDAR_WEEKS)
    entries = selectors.seller_calendar(seller=request.user, start=start, end=end)
    weeks: dict = {}
    for entry in entries:
        if entry.order is not None:
            _decorate(entry.order)
        if entry.whole_days:
            day = entry.starts_at.astimezone(UTC).date()
        else:
            day = timezone.localdate(entry.starts_at)
        day = max(day, today)
        monday = day - timedelta(days=day.weekday())
        week = weeks.setdefault(monday, {"start": monday, "days": {}})
        week["days"].setdefault(day, []).append(entry)
    weeks_list = [
        {
            "start": w["start"],
            "end": w["start"] + timedelta(days=6),
            "days": [{"date": d, "entries": e} for d, e in sorted(w["days"].items())],
        }
        for _, w in sorted(weeks.items())
    ]
    return render(
        request,
        "orders/calendar.html",
        {"weeks": weeks_list, "start": today, "end": (end - timedelta(days=1)).date()},
    )


@login_required
def session_cancel(request, session_id: int):
    """Call an experience session off: confirm, then every attendee is refunded in full."""
    try:
        session = selectors.session_for_seller(seller=request.user, session_id=session_id)
    except NotFound as exc:
        _not_found(exc)
    bookings = list(selectors.session_bookings(session_id=session.pk))
    form = SessionCancelForm(request.POST or None)
    status = 200
    if request.method == "POST" and session.cancelled_at is None:
        if form.is_valid():
            try:
                count = services.session_cancel(
                    session_id=session.pk,
                    actor=request.user,
                    message=form.cleaned_data["message"],
                )
            except NotFound as exc:
                _not_found(exc)
            except DomainError as exc:
                form_add_domain_error(form, exc)
                status = 409 if exc.status == 409 else 400
            else:
                messages.success(
                    request,
                    f"Session cancelled; {count} booking{'s' if count != 1 else ''} "
                    "refunded in full.",
                )
                return redirect("orders:calendar")
        else:
            status = 400
    return render(
        request,
        "orders/session_cancel.html",
        {
            "session": session,
            "bookings": bookings,
            "seats": sum(o.seats for o in bookings),
            "form": form,
        },
        status=status,
    )


@staff_member_required(login_url="accounts:login")
def ops_orders(request):
    """Operators: disputes to decide, automatic steps overdue, late orders, open orders."""
    return render(request, "orders/ops_orders.html", {"ops": selectors.ops_orders()})
