"""/api/v1/orders, /checkouts and /cart. Endpoints validate, call one service or selector,
serialise.

- ``POST /orders`` checks out (one payment for one or more orders) and honours the
  ``Idempotency-Key`` header (``micromarket.core.idempotency``).
- ``POST /orders/{id}/transitions/{name}`` applies one step of the order's process; the names a
  caller may use right now are in the order's ``transitions``. A delivery with files is
  ``POST /orders/{id}/deliveries`` (multipart), the same "deliver" step.
- Orders a caller is no party to are 404, never 403, so ids do not leak; a seller does not see an
  order before it is paid.
"""

from django.http import HttpRequest
from django.urls import reverse
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from micromarket.core.api import PROBLEM_RESPONSES, LimitOffsetPage, Problem
from micromarket.core.errors import DomainError, ValidationFailed
from micromarket.core.idempotency import idempotent
from micromarket.messaging import services as messaging_services
from micromarket.orders import rules, selectors, services
from micromarket.orders.processes import PROCESSES, process_for
from micromarket.orders.schemas import (
    CartItemOut,
    CheckoutIn,
    CheckoutOut,
    ItemIn,
    OrderOut,
    OrdersQuery,
    OrderSummary,
    PaymentIn,
    TransitionIn,
)

router = Router(tags=["orders"])

ALL_STATES = frozenset(state for process in PROCESSES.values() for state in process.states)
MESSAGE_REQUIRED = (rules.need_message, rules.need_delivery, rules.need_dispute, rules.need_split)
CREATED = "ordered — waiting for the payment"


class PaymentDeclined(DomainError):
    """The card was declined: the checkout failed and no order was placed (HTTP 402)."""

    status = 402
    code = "payment_declined"


# --- serialisation ----------------------------------------------------------------------------


def _party(user) -> dict:
    return {"id": user.pk, "display_name": user.display_name}


def _summary(order) -> dict:
    return {
        "id": order.pk,
        "kind": order.kind,
        "state": order.state,
        "state_label": process_for(order.kind).states.get(order.state, order.state),
        "title": order.title,
        "currency": order.currency,
        "subtotal": order.subtotal,
        "shipping": order.shipping,
        "deposit": order.deposit,
        "buyer": _party(order.buyer),
        "seller": _party(order.seller),
        "starts_at": order.starts_at,
        "ends_at": order.ends_at,
        "due_at": order.due_at,
        "deadline_at": order.deadline_at,
        "deadline_transition": order.deadline_transition,
        "created_at": order.created_at,
        "placed_at": order.placed_at,
        "closed_at": order.closed_at,
    }


class _Summaries:
    """A queryset the paginator counts and slices; the page's orders come out as summaries."""

    def __init__(self, queryset):
        self.queryset = queryset

    def __len__(self) -> int:
        return self.queryset.count()

    def __getitem__(self, window: slice) -> list[dict]:
        return [_summary(order) for order in self.queryset[window]]


def _asked_by(order) -> str | None:
    """Which side asked to cancel (the other side answers), if anyone."""
    asked = order.cancellation_requested_by_id
    if not asked:
        return None
    return "buyer" if asked == order.buyer_id else "seller"


def _order(request: HttpRequest, order) -> dict:
    process = process_for(order.kind)
    return {
        **_summary(order),
        "checkout_id": order.checkout_id,
        "offer_id": order.offer_id,
        "origin": order.origin,
        "items": [
            {
                "id": item.pk,
                "offer_id": item.offer_id,
                "description": item.description,
                "package": item.package.tier if item.package_id else None,
                "variation_id": item.variation_id,
                "extras": item.extras,
                "unit_price": item.unit_price,
                "quantity": item.quantity,
                "amount": item.amount,
            }
            for item in order.items.all()
        ],
        "seats": order.seats,
        "session_id": order.session_id,
        "cancellation_policy": order.cancellation_policy,
        "cancellation_requested_by": _asked_by(order),
        "revisions_allowed": order.revisions_allowed,
        "revisions_used": order.revisions_used,
        "requirements": order.requirements,
        "hourly_rate": order.hourly_rate,
        "minutes_booked": order.minutes_booked,
        "minutes_worked": order.minutes_worked,
        "address": order.address,
        "ship_country": order.ship_country,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "deposit_claimed": order.deposit_claimed,
        "deposit_claim_reason": order.deposit_claim_reason,
        "note": order.note,
        "updated_at": order.updated_at,
        "events": [
            {
                "transition": event.transition,
                "description": (
                    CREATED
                    if event.transition == "create"
                    else getattr(process.transitions.get(event.transition), "past", "")
                ),
                "role": event.role,
                "from_state": event.from_state,
                "to_state": event.to_state,
                "message": event.message,
                "data": event.data,
                "created_at": event.created_at,
            }
            for event in order.events.all()
        ],
        "deliveries": [
            {
                "id": delivery.pk,
                "message": delivery.message,
                "created_at": delivery.created_at,
                "files": [
                    {
                        "id": f.pk,
                        "name": f.name,
                        "size": f.size,
                        "content_type": f.content_type,
                        "url": request.build_absolute_uri(
                            reverse("orders:delivery_file", args=[order.pk, f.pk])
                        ),
                    }
                    for f in delivery.files.all()
                ],
            }
            for delivery in order.deliveries.all()
        ],
        "transitions": [
            {
                "name": t.name,
                "label": t.label,
                "form": t.form,
                "message_required": t.needs in MESSAGE_REQUIRED,
                "target": t.target,
            }
            for t in selectors.transitions_available(order=order, user=request.auth)
        ],
    }


def _order_response(request: HttpRequest, order_id: int) -> dict:
    return _order(request, selectors.order_for_user(order_id=order_id, user=request.auth))


def _checkout(request: HttpRequest, checkout) -> dict:
    payment = checkout.payment
    return {
        "id": checkout.pk,
        "status": checkout.status,
        "currency": checkout.currency,
        "failure_message": checkout.failure_message,
        "created_at": checkout.created_at,
        "payment": (
            None
            if payment is None
            else {
                "id": payment.pk,
                "status": payment.status,
                "total": payment.total,
                "action_url": payment.action_url,
            }
        ),
        "orders": [_order(request, o) for o in selectors.checkout_orders(checkout=checkout)],
    }


def _return_url(request: HttpRequest, service_key: str) -> str:
    """The checkout's return page (it asks the provider and shows the result), for a buyer who
    finishes a payment step in the browser; the order list when the key cannot be a path."""
    if "/" in service_key:
        return request.build_absolute_uri(reverse("orders:list"))
    return request.build_absolute_uri(reverse("orders:checkout_return", args=[service_key]))


# --- orders -----------------------------------------------------------------------------------


@router.post(
    "/orders",
    response={201: CheckoutOut, 402: Problem, **PROBLEM_RESPONSES},
    summary="Order and pay (send an Idempotency-Key header)",
    description=(
        "Prices the items as the offers are now, creates one order per booking or gig (a "
        "seller's products make one order), reserves seats, dates or stock and charges one "
        "payment held in escrow per order.\n\n"
        "- **201** `status: paid` — the orders are placed.\n"
        "- **201** `status: pending` — the payment needs the buyer: send them to "
        "`payment.action_url`; when they are back, `POST /checkouts/{id}/sync`.\n"
        "- **402** `payment_declined` — the card was declined: nothing is placed or charged "
        "(the failed orders show as `payment_failed`). Retry with a new Idempotency-Key.\n"
        "- **409** `sold_out`, `dates_taken`, `out_of_stock`, `session_cancelled` — nothing "
        "was created or charged.\n"
        "- **422** bad input (`field` in `errors`), `idempotency_mismatch` (the key was used "
        "for another request), `self_dealing`, `mixed_currencies`, `no_shipping`.\n\n"
        "The same Idempotency-Key with the same body answers the first response again."
    ),
)
def order_create(request: HttpRequest, payload: CheckoutIn):
    buyer = request.auth
    cart_ids = None
    if payload.from_cart:
        cart = list(selectors.cart_for_buyer(buyer=buyer))
        items = [c.as_item() for c in cart]
        cart_ids = [c.pk for c in cart]
    else:
        items = [item.as_item() for item in payload.items]

    def run(key: str):
        checkout = services.checkout_place(
            buyer=buyer,
            items=items,
            payment_method=payload.payment_method,
            idempotency_key=key,
            return_url=payload.return_url or _return_url(request, key),
            credit=payload.credit,
            address=payload.address,
            country=payload.country,
            note=payload.note,
            cart_item_ids=cart_ids,
        )
        if checkout.status == "failed":
            raise PaymentDeclined(
                checkout.failure_message or "The payment failed.", field="payment_method"
            )
        # JSON-safe: the idempotency record stores it for replays.
        return 201, CheckoutOut.model_validate(_checkout(request, checkout)).model_dump(mode="json")

    status, body = idempotent(request, params=payload.model_dump(mode="json"), run=run)
    return Status(status, body)


@router.post(
    "/custom-offers/{custom_offer_id}/accept",
    response={201: CheckoutOut, 402: Problem, **PROBLEM_RESPONSES},
    summary="Accept a custom offer and pay (the buyer; send an Idempotency-Key header)",
    description=(
        "Places a service-gig order on the custom offer's terms (see "
        "`GET /custom-offers/{id}`) and charges one payment held in escrow, as `POST /orders` "
        "does.\n\n"
        "- **201** `status: paid` — the order is placed; the offer is `accepted`.\n"
        "- **201** `status: pending` — the payment needs the buyer: send them to "
        "`payment.action_url`; when they are back, `POST /checkouts/{id}/sync`. The offer is "
        "`reserved` meanwhile.\n"
        "- **402** `payment_declined` — nothing is placed; the offer is open again. Retry "
        "with a new Idempotency-Key.\n"
        "- **403** `wrong_party` — only the buyer accepts.\n"
        "- **404** not your offer.\n"
        "- **409** `offer_closed` (expired, withdrawn, declined, accepted or being paid), "
        "`blocked`.\n\n"
        "The same Idempotency-Key with the same body answers the first response again."
    ),
)
def custom_offer_accept(request: HttpRequest, custom_offer_id: int, payload: PaymentIn):
    def run(key: str):
        checkout = messaging_services.custom_offer_accept(
            custom_offer_id=custom_offer_id,
            buyer=request.auth,
            payment_method=payload.payment_method,
            idempotency_key=key,
            return_url=payload.return_url or _return_url(request, key),
            credit=payload.credit,
        )
        if checkout.status == "failed":
            raise PaymentDeclined(
                checkout.failure_message or "The payment failed.", field="payment_method"
            )
        # JSON-safe: the idempotency record stores it for replays.
        return 201, CheckoutOut.model_validate(_checkout(request, checkout)).model_dump(mode="json")

    status, body = idempotent(request, params=payload.model_dump(mode="json"), run=run)
    return Status(status, body)


@router.get(
    "/orders",
    response=list[OrderSummary],
    summary="Your orders, newest first (as buyer, or as seller with role=seller)",
    description="Sellers see an order once it is paid. Filter with `state` and `kind`.",
)
@paginate(LimitOffsetPage)
def orders_list(request: HttpRequest, filters: Query[OrdersQuery]):
    if filters.state and filters.state not in ALL_STATES:
        raise ValidationFailed("No order is ever in that state.", field="state")
    orders = selectors.orders_for_user(
        user=request.auth, role=filters.role, state=filters.state, kind=filters.kind
    )
    return _Summaries(orders)


@router.get(
    "/orders/{order_id}",
    response={200: OrderOut, **PROBLEM_RESPONSES},
    summary="One of your orders, with its timeline and what you can do now",
)
def order_get(request: HttpRequest, order_id: int):
    return _order_response(request, order_id)


@router.post(
    "/orders/{order_id}/transitions/{name}",
    response={200: OrderOut, **PROBLEM_RESPONSES},
    summary="Take a step of the order's process (names in the order's transitions)",
    description=(
        "The body carries the step's input (see its `form`); a step without input takes an "
        "empty body. Files cannot be sent here: a delivery with files is "
        "`POST /orders/{id}/deliveries` (multipart).\n\n"
        "- **200** the order after the step (and any automatic step it triggered at once).\n"
        "- **404** not your order.\n"
        "- **403** `wrong_party` — the other side takes this step.\n"
        "- **409** `illegal_transition` (not from the order's state) or `not_allowed_now` "
        "(e.g. no revisions left, not late yet).\n"
        "- **422** bad input (`errors` name the field) or `unknown_transition` (no step of "
        "that name for this kind of order).\n\n"
        "Nothing changes when the answer is not 200."
    ),
)
def order_transition(
    request: HttpRequest, order_id: int, name: str, payload: TransitionIn | None = None
):
    selectors.order_for_user(order_id=order_id, user=request.auth)  # 404 before anything else
    services.order_transition(
        order_id=order_id,
        name=name,
        actor=request.auth,
        data=payload.as_data() if payload else {},
    )
    return _order_response(request, order_id)


@router.post(
    "/orders/{order_id}/deliveries",
    response={201: OrderOut, **PROBLEM_RESPONSES},
    summary="Deliver a service gig with files (multipart: message, files)",
    description=(
        "The seller's `deliver` step with attachments (at most 10 files, 50 MB each). Errors "
        "as for transitions."
    ),
)
def order_deliver(
    request: HttpRequest,
    order_id: int,
    message: Form[str] = "",
    files: File[list[UploadedFile]] = None,
):
    order = selectors.order_for_user(order_id=order_id, user=request.auth)
    services.order_transition(
        order_id=order_id,
        name="submit" if order.kind == "milestone" else "deliver",  # a project task's step
        actor=request.auth,
        data={"message": message, "files": list(files or [])},
    )
    return Status(201, _order_response(request, order_id))


# --- checkouts --------------------------------------------------------------------------------


@router.get(
    "/checkouts/{checkout_id}",
    response={200: CheckoutOut, **PROBLEM_RESPONSES},
    summary="One of your checkouts and its orders",
)
def checkout_get(request: HttpRequest, checkout_id: int):
    checkout = selectors.checkout_for_buyer(checkout_id=checkout_id, buyer=request.auth)
    return _checkout(request, checkout)


@router.post(
    "/checkouts/{checkout_id}/sync",
    response={200: CheckoutOut, **PROBLEM_RESPONSES},
    summary="After the buyer's extra payment step: ask the provider and place the orders",
    description=(
        "Answers the checkout: `paid` (orders placed), `failed` (nothing placed) or still "
        "`pending` while the buyer has not finished at `payment.action_url`."
    ),
)
def checkout_sync(request: HttpRequest, checkout_id: int):
    checkout = services.checkout_return(checkout_id=checkout_id, buyer=request.auth)
    return _checkout(request, checkout)


# --- cart -------------------------------------------------------------------------------------


def _cart_item(item) -> dict:
    return {
        "id": item.pk,
        "offer_id": item.offer_id,
        "title": item.offer.title,
        "kind": item.offer.kind,
        "currency": item.offer.currency,
        "spec": item.spec,
        "created_at": item.created_at,
    }


@router.get(
    "/cart",
    response=list[CartItemOut],
    summary="Your cart (at most 50 items; order it with POST /orders and from_cart)",
)
def cart_list(request: HttpRequest):
    return [_cart_item(item) for item in selectors.cart_for_buyer(buyer=request.auth)]


@router.post(
    "/cart",
    response={201: CartItemOut, **PROBLEM_RESPONSES},
    summary="Put an item in your cart (checked again at checkout)",
)
def cart_add(request: HttpRequest, payload: ItemIn):
    item = services.cart_add(buyer=request.auth, item=payload.as_item())
    return Status(201, _cart_item(item))


@router.delete(
    "/cart/{item_id}",
    response={204: None, **PROBLEM_RESPONSES},
    summary="Take an item out of your cart",
)
def cart_remove(request: HttpRequest, item_id: int):
    services.cart_remove(buyer=request.auth, item_id=item_id)
    return Status(204, None)
