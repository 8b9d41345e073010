"""/api/v1/orders, /checkouts and /cart as an API client sees them: checkout with an
Idempotency-Key, lists and details per party, transitions and who may take them."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from micromarket.accounts import services as accounts_services
from micromarket.accounts.tests.factories import UserFactory
from micromarket.orders.models import CartItem, Checkout, Order, OrderEvent
from micromarket.orders.tests.conftest import books_balance, held, place
from micromarket.payments.models import Payment
from micromarket.payments.providers import sandbox

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, path: str, body: dict | None = None, key: str | None = None, **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    data = json.dumps(body, default=str) if body is not None else ""
    return client.post(path, data, content_type="application/json", **headers, **extra)


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert (body["status"], body["code"]) == (status, code), body
    return body


def gig_body(offer, card=sandbox.CARD_SUCCEEDS, **extra) -> dict:
    return {
        "items": [{"offer": offer.pk, "package": "standard", "extras": [offer.extras.first().pk]}],
        "payment_method": card,
        **extra,
    }


@pytest.fixture
def gig(offer_of):
    return offer_of("service")


@pytest.fixture
def placed_gig(buyer, gig):
    """A paid service gig waiting for the buyer's requirements."""
    order = place(buyer, {"offer": gig.pk, "package": "standard"}).orders.get()
    assert order.state == "requirements"
    return order


def transition(client: Client, order, name: str, body: dict | None = None):
    return post(client, f"/api/v1/orders/{order.pk}/transitions/{name}", body)


def names(order_body: dict) -> set[str]:
    return {t["name"] for t in order_body["transitions"]}


# --- checkout ---------------------------------------------------------------------------------


def test_buyer_orders_a_gig_and_the_money_is_held_in_escrow(buyer, gig):
    response = post(as_user(buyer), "/api/v1/orders", gig_body(gig), key="order-1")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["failure_message"]) == ("paid", "")
    assert (body["payment"]["status"], body["payment"]["action_url"]) == ("succeeded", "")
    [order] = body["orders"]
    assert order["kind"] == "service"
    assert order["state"] == "requirements"
    assert order["subtotal"] == 11_000  # standard package 90.00 + extra 20.00
    assert order["buyer"] == {"id": buyer.pk, "display_name": buyer.display_name}
    assert order["seller"]["id"] == gig.seller.pk
    assert order["items"][0]["package"] == "standard"
    assert [e["transition"] for e in order["events"]] == ["create", "pay"]
    assert "submit_requirements" in names(order)
    assert body["payment"]["total"] > 11_000  # the buyer's service fee on top
    assert held(f"order:{order['id']}") == body["payment"]["total"]  # all in escrow
    assert books_balance()


def test_the_same_idempotency_key_replays_the_first_checkout(buyer, gig):
    client = as_user(buyer)
    first = post(client, "/api/v1/orders", gig_body(gig), key="same")
    again = post(client, "/api/v1/orders", gig_body(gig), key="same")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Checkout.objects.count() == 1
    assert Order.objects.count() == 1
    assert Payment.objects.count() == 1


def test_the_same_key_with_other_parameters_is_refused(buyer, gig):
    client = as_user(buyer)
    post(client, "/api/v1/orders", gig_body(gig), key="k")
    other = post(client, "/api/v1/orders", gig_body(gig, note="something else"), key="k")
    assert_problem(other, 422, "idempotency_mismatch")
    assert Checkout.objects.count() == 1


def test_a_bearer_token_client_checks_out_once_per_key(buyer, gig):
    _token, raw = accounts_services.token_create(user=buyer, name="script")
    client = Client()  # no session: the token authenticates, no CSRF needed
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    first = post(client, "/api/v1/orders", gig_body(gig), key="tok", **auth)
    again = post(client, "/api/v1/orders", gig_body(gig), key="tok", **auth)
    assert first.status_code == again.status_code == 201, first.content
    assert first.json()["id"] == again.json()["id"]
    assert Order.objects.get().buyer == buyer


def test_a_declined_card_is_a_402_and_nothing_is_placed(buyer, gig):
    client = as_user(buyer)
    response = post(client, "/api/v1/orders", gig_body(gig, card=sandbox.CARD_DECLINED), key="d")
    body = assert_problem(response, 402, "payment_declined")
    assert body["detail"] == "Your card was declined."
    assert body["errors"][0]["loc"] == ["body", "payment_method"]
    order = Order.objects.get()
    assert order.state == "payment_failed"
    assert order.placed_at is None
    assert held(order.reference) == 0
    assert books_balance()
    # The key was used: the replay is the same 402, and nothing is charged again.
    again = post(client, "/api/v1/orders", gig_body(gig, card=sandbox.CARD_DECLINED), key="d")
    assert_problem(again, 402, "payment_declined")
    assert Checkout.objects.count() == 1
    # A new key with a good card goes through.
    retry = post(client, "/api/v1/orders", gig_body(gig), key="d2")
    assert retry.status_code == 201
    assert retry.json()["status"] == "paid"


def test_too_few_seats_left_is_a_409_and_nothing_is_created_or_charged(buyer, offer_of):
    experience = offer_of("experience")  # one session of 8 seats
    session = experience.sessions.first()
    place(buyer, {"offer": experience.pk, "session": session.pk, "seats": 4})
    late = UserFactory()
    body = {
        "items": [{"offer": experience.pk, "session": session.pk, "seats": 5}],
        "payment_method": sandbox.CARD_SUCCEEDS,
    }
    response = post(as_user(late), "/api/v1/orders", body, key="late")
    assert_problem(response, 409, "sold_out")
    assert not Checkout.objects.filter(buyer=late).exists()
    assert not Payment.objects.filter(buyer=late).exists()
    assert books_balance()


def test_a_payment_needing_the_buyer_stays_pending_until_confirmed(buyer, gig):
    client = as_user(buyer)
    body = gig_body(gig, card=sandbox.CARD_REQUIRES_ACTION)
    response = post(client, "/api/v1/orders", body, key="3ds")
    assert response.status_code == 201, response.content
    checkout = response.json()
    assert checkout["status"] == "pending"
    assert checkout["payment"]["status"] == "requires_action"
    assert checkout["orders"][0]["state"] == "pending_payment"
    action = urlsplit(checkout["payment"]["action_url"]).path
    # Not confirmed yet: syncing changes nothing.
    still = post(client, f"/api/v1/checkouts/{checkout['id']}/sync")
    assert still.status_code == 200
    assert still.json()["status"] == "pending"
    # The buyer confirms on the provider's page and is sent back to the checkout return page
    # (the default return_url); an app syncs through the API.
    confirmed = client.post(action, {"answer": "confirm"})
    assert confirmed.status_code == 302
    assert confirmed["Location"].endswith(f"/checkout/return/api:{buyer.pk}:3ds/")
    synced = post(client, f"/api/v1/checkouts/{checkout['id']}/sync").json()
    assert synced["status"] == "paid"
    assert synced["orders"][0]["state"] == "requirements"
    assert client.get(f"/api/v1/checkouts/{checkout['id']}").json()["status"] == "paid"
    # Someone else's checkout does not exist for them.
    stranger = as_user(UserFactory())
    assert_problem(stranger.get(f"/api/v1/checkouts/{checkout['id']}"), 404, "not_found")
    assert_problem(post(stranger, f"/api/v1/checkouts/{checkout['id']}/sync"), 404, "not_found")


def test_invalid_checkouts_are_422_with_the_field(buyer, gig):
    client = as_user(buyer)
    empty = post(client, "/api/v1/orders", {"items": [], "payment_method": "4242424242424242"})
    assert assert_problem(empty, 422, "validation_failed")["errors"][0]["loc"] == [
        "body",
        "items",
    ]
    bad_package = post(
        client,
        "/api/v1/orders",
        {"items": [{"offer": gig.pk, "package": "huge"}], "payment_method": "4242"},
    )
    assert_problem(bad_package, 422, "validation_failed")
    own = post(as_user(gig.seller), "/api/v1/orders", gig_body(gig))
    assert_problem(own, 422, "self_dealing")
    assert not Checkout.objects.exists()


def test_the_api_needs_a_signed_in_caller(gig):
    assert_problem(post(Client(), "/api/v1/orders", gig_body(gig)), 401, "not_authenticated")
    assert_problem(Client().get("/api/v1/orders"), 401, "not_authenticated")


def test_a_session_write_needs_the_csrf_token(buyer, gig):
    client = Client(enforce_csrf_checks=True)
    client.force_login(buyer)
    response = post(client, "/api/v1/orders", gig_body(gig))
    assert response.status_code == 403
    assert not Checkout.objects.exists()


# --- lists and details ------------------------------------------------------------------------


def test_buyers_list_their_orders_and_sellers_only_paid_ones(buyer, gig):
    paid = place(buyer, {"offer": gig.pk}).orders.get()
    failed = place(buyer, {"offer": gig.pk}, card=sandbox.CARD_DECLINED).orders.get()
    assert failed.state == "payment_failed"

    mine = as_user(buyer).get("/api/v1/orders").json()
    assert set(mine) >= {"items", "count", "limit", "offset", "next", "previous"}
    assert [o["id"] for o in mine["items"]] == [failed.pk, paid.pk]
    assert mine["items"][1]["state_label"] == "Waiting for the buyer's requirements"
    only_failed = as_user(buyer).get("/api/v1/orders", {"state": "payment_failed"}).json()
    assert [o["id"] for o in only_failed["items"]] == [failed.pk]
    page = as_user(buyer).get("/api/v1/orders", {"limit": 1}).json()
    assert (page["count"], len(page["items"])) == (2, 1)
    assert "offset=1" in page["next"]

    seller = as_user(gig.seller)
    sold = seller.get("/api/v1/orders", {"role": "seller"}).json()
    assert [o["id"] for o in sold["items"]] == [paid.pk]
    assert seller.get("/api/v1/orders").json()["count"] == 0  # bought nothing
    assert_problem(seller.get(f"/api/v1/orders/{failed.pk}"), 404, "not_found")
    assert_problem(transition(seller, failed, "request_cancellation"), 404, "not_found")
    assert as_user(UserFactory()).get("/api/v1/orders").json()["count"] == 0

    unknown = as_user(buyer).get("/api/v1/orders", {"state": "nonsense"})
    assert_problem(unknown, 422, "validation_failed")


def test_the_list_costs_the_same_queries_for_one_order_or_many(buyer, gig):
    client = as_user(buyer)
    place(buyer, {"offer": gig.pk})
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/orders")
    for _ in range(3):
        place(buyer, {"offer": gig.pk})
    with CaptureQueriesContext(connection) as four:
        assert client.get("/api/v1/orders").json()["count"] == 4
    assert len(four) == len(one)


def test_detail_shows_each_party_what_they_can_do_now(buyer, placed_gig):
    order = placed_gig
    as_buyer, as_seller = as_user(buyer), as_user(order.seller)
    body = as_buyer.get(f"/api/v1/orders/{order.pk}").json()
    assert names(body) == {"submit_requirements", "request_cancellation"}
    submit = next(t for t in body["transitions"] if t["name"] == "submit_requirements")
    assert submit == {
        "name": "submit_requirements",
        "label": "Send requirements",
        "form": "requirements",
        "message_required": False,
        "target": "in_progress",
    }
    assert body["requirements"][0]["question"]
    assert names(as_seller.get(f"/api/v1/orders/{order.pk}").json()) == {
        "request_cancellation",
        "seller_cancel",
    }

    transition(as_buyer, order, "submit_requirements", {"answers": ["A bakery"]})
    seller_view = as_seller.get(f"/api/v1/orders/{order.pk}").json()
    buyer_view = as_buyer.get(f"/api/v1/orders/{order.pk}").json()
    assert "deliver" in names(seller_view)
    assert "deliver" not in names(buyer_view)
    assert "cancel_late" not in names(buyer_view)  # its guard: not late yet
    assert seller_view["requirements"][0]["answer"] == "A bakery"
    assert seller_view["due_at"] is not None

    asked = transition(as_buyer, order, "request_cancellation", {"message": "Plans changed"})
    assert asked.json()["cancellation_requested_by"] == "buyer"
    assert "accept_cancellation" not in names(asked.json())  # the other side answers
    seller_view = as_seller.get(f"/api/v1/orders/{order.pk}").json()
    assert {"accept_cancellation", "decline_cancellation"} <= names(seller_view)


def test_strangers_get_404_and_change_nothing(buyer, placed_gig):
    order = placed_gig
    stranger = as_user(UserFactory())
    assert_problem(stranger.get(f"/api/v1/orders/{order.pk}"), 404, "not_found")
    for name in ("submit_requirements", "no_such_step"):
        response = transition(stranger, order, name, {"answers": ["mine now"]})
        assert_problem(response, 404, "not_found")  # even for a name no order has
    assert_problem(as_user(buyer).get("/api/v1/orders/999999"), 404, "not_found")
    order.refresh_from_db()
    assert order.state == "requirements"
    assert order.events.count() == 2


# --- transitions ------------------------------------------------------------------------------


def test_seller_delivers_and_buyer_accepts_through_the_api(buyer, placed_gig):
    order = placed_gig
    as_buyer, as_seller = as_user(buyer), as_user(order.seller)
    response = transition(as_buyer, order, "submit_requirements", {"answers": ["A bakery"]})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "in_progress"

    delivered = transition(as_seller, order, "deliver", {"message": "Here is your logo."})
    assert delivered.status_code == 200, delivered.content
    body = delivered.json()
    assert body["state"] == "delivered"
    assert body["deadline_transition"] == "auto_complete"
    assert body["deliveries"][0]["message"] == "Here is your logo."
    assert not names(body) & {"deliver", "accept"}  # the seller waits for the buyer

    accepted = transition(as_buyer, order, "accept")  # no body for a plain button
    assert accepted.status_code == 200, accepted.content
    body = accepted.json()
    assert body["state"] == "completed"
    assert body["closed_at"] is not None
    assert body["transitions"] == []
    assert [e["transition"] for e in body["events"]] == [
        "create",
        "pay",
        "submit_requirements",
        "deliver",
        "accept",
    ]
    assert body["events"][-1]["role"] == "buyer"
    assert body["events"][-1]["description"] == "accepted the delivery — the seller is paid"
    assert held(order.reference) == 0
    assert books_balance()


def test_a_buyer_cannot_deliver(buyer, placed_gig):
    order = placed_gig
    as_buyer = as_user(buyer)
    transition(as_buyer, order, "submit_requirements", {"answers": ["A bakery"]})
    response = transition(as_buyer, order, "deliver", {"message": "I did it myself"})
    assert_problem(response, 403, "wrong_party")
    order.refresh_from_db()
    assert order.state == "in_progress"
    assert not order.deliveries.exists()
    assert not OrderEvent.objects.filter(order=order, transition="deliver").exists()


def test_illegal_and_refused_transitions_are_409(buyer, placed_gig):
    order = placed_gig
    before = held(order.reference)
    as_buyer = as_user(buyer)
    # Accepting a delivery that has not happened: not from this state.
    assert_problem(transition(as_buyer, order, "accept"), 409, "illegal_transition")
    transition(as_buyer, order, "submit_requirements", {"answers": ["A bakery"]})
    # Cancelling for lateness before the due date: the guard refuses.
    refused = assert_problem(transition(as_buyer, order, "cancel_late"), 409, "not_allowed_now")
    assert "late" in refused["detail"]
    order.refresh_from_db()
    assert order.state == "in_progress"
    assert held(order.reference) == before


def test_unknown_step_names_and_bad_input_are_422(buyer, placed_gig):
    order = placed_gig
    as_buyer, as_seller = as_user(buyer), as_user(order.seller)
    assert_problem(transition(as_buyer, order, "ship"), 422, "unknown_transition")
    transition(as_buyer, order, "submit_requirements", {"answers": ["A bakery"]})
    no_message = assert_problem(
        transition(as_seller, order, "deliver", {}), 422, "validation_failed"
    )
    assert no_message["errors"][0]["loc"] == ["body", "message"]
    not_a_number = transition(as_seller, order, "deliver", {"message": "x", "claim": "lots"})
    assert_problem(not_a_number, 422, "validation_failed")
    order.refresh_from_db()
    assert order.state == "in_progress"


def test_seller_delivers_files_with_multipart(buyer, placed_gig):
    order = placed_gig
    transition(as_user(buyer), order, "submit_requirements", {"answers": ["A bakery"]})
    as_seller = as_user(order.seller)
    pdf = SimpleUploadedFile("logo.pdf", b"%PDF-1.7\n% the logo\n", "application/pdf")
    response = as_seller.post(
        f"/api/v1/orders/{order.pk}/deliveries", {"message": "Attached.", "files": [pdf]}
    )
    assert response.status_code == 201, response.content
    [delivery] = response.json()["deliveries"]
    assert delivery["message"] == "Attached."
    [file] = delivery["files"]
    assert (file["name"], file["content_type"]) == ("logo.pdf", "application/pdf")
    download = as_user(buyer).get(urlsplit(file["url"]).path)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.7\n% the logo\n"
    # A file that is not what it claims to be is refused, and nothing is delivered.
    transition(as_user(buyer), order, "request_revision", {"message": "Bigger, please"})
    script = SimpleUploadedFile("logo.pdf", b"#!/bin/sh\nrm -rf /\n", "application/pdf")
    refused = as_seller.post(
        f"/api/v1/orders/{order.pk}/deliveries", {"message": "Again", "files": [script]}
    )
    assert refused.status_code == 422
    order.refresh_from_db()
    assert order.state == "revision_requested"
    assert order.deliveries.count() == 1
    # The buyer cannot deliver files either.
    by_buyer = as_user(buyer).post(f"/api/v1/orders/{order.pk}/deliveries", {"message": "x"})
    assert_problem(by_buyer, 403, "wrong_party")


# --- cart -------------------------------------------------------------------------------------


def test_cart_add_list_remove_and_check_out(buyer, offer_of):
    digital, physical = offer_of("digital"), offer_of("physical")
    client = as_user(buyer)
    added = post(client, "/api/v1/cart", {"offer": digital.pk})
    assert added.status_code == 201, added.content
    post(client, "/api/v1/cart", {"offer": physical.pk, "quantity": 2})
    extra = post(client, "/api/v1/cart", {"offer": physical.pk}).json()
    cart = client.get("/api/v1/cart").json()
    assert [(i["offer_id"], i["spec"]) for i in cart] == [
        (digital.pk, {}),
        (physical.pk, {"quantity": 2}),
        (physical.pk, {}),
    ]
    assert client.delete(f"/api/v1/cart/{extra['id']}").status_code == 204
    assert_problem(
        as_user(UserFactory()).delete(f"/api/v1/cart/{added.json()['id']}"), 404, "not_found"
    )

    body = {
        "from_cart": True,
        "payment_method": sandbox.CARD_SUCCEEDS,
        "address": "1 Main St",
        "country": "US",
    }
    response = post(client, "/api/v1/orders", body, key="cart")
    assert response.status_code == 201, response.content
    checkout = response.json()
    assert checkout["status"] == "paid"
    assert {o["kind"]: o["state"] for o in checkout["orders"]} == {
        "digital": "delivered",
        "physical": "paid",
    }
    assert not CartItem.objects.filter(buyer=buyer).exists()
    assert client.get("/api/v1/cart").json() == []
    assert books_balance()


def test_cart_refuses_what_cannot_be_ordered(buyer, offer_of):
    physical = offer_of("physical")
    client = as_user(buyer)
    too_many = post(client, "/api/v1/cart", {"offer": physical.pk, "quantity": 500})
    assert_problem(too_many, 422, "validation_failed")
    own = post(as_user(physical.seller), "/api/v1/cart", {"offer": physical.pk})
    assert_problem(own, 422, "self_dealing")
    assert not CartItem.objects.exists()


# --- schema -----------------------------------------------------------------------------------


def test_openapi_lists_the_order_endpoints(client):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/orders"])
    assert "get" in paths["/api/v1/orders/{order_id}"]
    assert "post" in paths["/api/v1/orders/{order_id}/transitions/{name}"]
    assert "402" in paths["/api/v1/orders"]["post"]["responses"]
    assert paths["/api/v1/orders"]["get"]["tags"] == ["orders"]
    assert "OrderOut" in schema["components"]["schemas"]
