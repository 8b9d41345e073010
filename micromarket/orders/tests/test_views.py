"""Order pages through Django's test client: the order box, checkout (breakdown, success,
decline, double submit, the provider's extra step), the cart, the order page (timeline, the
viewer's actions, transitions, deliveries with files), who may see what, the seller's board and
calendar."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import urlparse

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from micromarket.accounts.tests.factories import UserFactory
from micromarket.orders import services
from micromarket.orders.models import CartItem, Checkout, DeliveryFile, Order
from micromarket.orders.tests.conftest import held, place
from micromarket.payments.providers import sandbox

pytestmark = pytest.mark.django_db

BACKEND = "micromarket.accounts.backends.EmailBackend"


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


def text(response) -> str:
    """What a person reads on the page: tags removed, entities decoded, spaces collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def hidden_key(response) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', response.text).group(1)


def checkout_url(client, offer, **choices) -> str:
    """Through the offer page's order box: the checkout page's address for these choices."""
    response = client.post(f"/offers/{offer.pk}/order/", {"action": "checkout", **choices})
    assert response.status_code == 302, response
    assert response["Location"].startswith("/checkout/?item="), response["Location"]
    return response["Location"]


def pay(client, url, card=sandbox.CARD_SUCCEEDS, key=None, **fields):
    if key is None:
        key = hidden_key(client.get(url))
    return client.post(url, {"card_number": card, "idempotency_key": key, **fields})


def gig_delivered(buyer, offer_of):
    order = place(buyer, {"offer": offer_of("service").pk, "package": "basic"}).orders.get()
    services.order_transition(
        order_id=order.pk, name="submit_requirements", actor=buyer, data={"answers": ["Bakery"]}
    )
    return services.order_transition(
        order_id=order.pk, name="deliver", actor=order.seller, data={"message": "Here it is"}
    )


def pdf(name="logo.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.7\n% the logo\n", content_type="application/pdf")


# --- the order box and checkout ----------------------------------------------------------------


def test_the_offer_page_shows_the_order_box_to_buyers_only(client, buyer, offer_of):
    offer = offer_of("service")
    page = client.get(f"/offers/{offer.pk}/")
    assert "Sign in to order" in text(page)
    assert f'action="/offers/{offer.pk}/order/"' not in page.text

    login(client, offer.seller)
    assert f'action="/offers/{offer.pk}/order/"' not in client.get(f"/offers/{offer.pk}/").text

    login(client, buyer)
    page = text(client.get(f"/offers/{offer.pk}/"))
    assert "Standard · $90.00" in page
    assert "24-hour delivery · +$20.00" in page
    assert "Continue" in page


def test_the_checkout_page_shows_the_breakdown(client, buyer, offer_of):
    offer = offer_of("service")
    login(client, buyer)
    url = checkout_url(client, offer, package="standard", extras=[offer.extras.get().pk])
    page = text(client.get(url))
    assert "I will design a logo for your bakery — Standard + 24-hour delivery" in page
    assert "Items $110.00" in page
    assert "Service fee $5.50" in page  # 5% by default
    assert "You pay $115.50" in page
    assert "4242 4242 4242 4242 succeeds" in page
    assert "4000 0000 0000 0002 is declined" in page


def test_the_checkout_page_shows_a_rental_deposit_and_the_cancellation_policy(
    client, buyer, offer_of
):
    offer = offer_of("rental")
    start = timezone.localdate() + timedelta(days=10)
    login(client, buyer)
    url = checkout_url(client, offer, start=str(start), end=str(start + timedelta(days=3)))
    page = text(client.get(url))
    assert "Security deposit (held, returned after the rental) $100.00" in page
    assert "Service fee $9.00" in page  # on the 180.00 price only: the deposit is fee-free
    assert "You pay $289.00" in page
    assert "Full refund up to 5 days before the start, then 50%." in page


def test_a_bad_choice_in_the_order_box_goes_back_to_the_offer_with_the_reason(
    client, buyer, offer_of
):
    offer = offer_of("rental")
    start = timezone.localdate() + timedelta(days=10)
    login(client, buyer)
    response = client.post(
        f"/offers/{offer.pk}/order/",
        {"action": "checkout", "start": str(start), "end": str(start + timedelta(days=1))},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/offers/{offer.pk}/#order"
    assert "Book between 2 and 10 nights." in text(response)


def test_placing_an_order_through_the_page_redirects_to_the_placed_order(client, buyer, offer_of):
    offer = offer_of("service")
    login(client, buyer)
    response = pay(client, checkout_url(client, offer, package="basic"))
    order = Order.objects.get(buyer=buyer)
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order.pk}/"
    assert order.state == "requirements"
    assert order.subtotal == 5000
    page = text(client.get(response["Location"]))
    assert "Payment received — your order is placed." in page
    assert "Send requirements" in page


def test_a_declined_card_shows_the_message_and_places_nothing(client, buyer, offer_of):
    offer = offer_of("service")
    login(client, buyer)
    url = checkout_url(client, offer, package="basic")
    key = hidden_key(client.get(url))
    response = pay(client, url, card=sandbox.CARD_DECLINED, key=key)
    assert response.status_code == 400
    assert "Your card was declined. Nothing was charged." in text(response)
    assert not Order.objects.exclude(state="payment_failed").exists()
    assert held(Order.objects.get().reference) == 0
    assert hidden_key(response) != key  # the next try is a new checkout
    assert sandbox.CARD_DECLINED not in response.text  # the card number is not echoed


def test_the_same_page_sent_twice_places_one_checkout(client, buyer, offer_of):
    offer = offer_of("digital")
    login(client, buyer)
    url = checkout_url(client, offer)
    key = hidden_key(client.get(url))
    first = pay(client, url, key=key)
    second = pay(client, url, key=key)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Checkout.objects.count() == 1
    assert Order.objects.count() == 1


def test_a_card_that_asks_for_confirmation_goes_to_the_sandbox_and_back(client, buyer, offer_of):
    offer = offer_of("service")
    login(client, buyer)
    response = pay(
        client, checkout_url(client, offer, package="basic"), card=sandbox.CARD_REQUIRES_ACTION
    )
    assert response.status_code == 302
    confirm = urlparse(response["Location"]).path
    assert confirm.startswith("/payments/sandbox/authenticate/")
    order = Order.objects.get()
    assert order.state == "pending_payment"
    assert "Complete the payment" in text(client.get(f"/orders/{order.pk}/"))

    back = client.post(confirm, {"answer": "confirm"})
    assert back.status_code == 302
    assert "/checkout/return/" in back["Location"]
    placed = client.get(urlparse(back["Location"]).path)
    assert placed["Location"] == f"/orders/{order.pk}/"
    order.refresh_from_db()
    assert order.state == "requirements"


def test_sold_out_is_shown_on_the_checkout_form(client, buyer, offer_of):
    offer = offer_of("experience")
    session = offer.sessions.get()
    place(UserFactory(), {"offer": offer.pk, "session": session.pk, "seats": 7})
    login(client, buyer)
    url = checkout_url(client, offer, session=session.pk, seats=1)
    place(UserFactory(), {"offer": offer.pk, "session": session.pk, "seats": 1})  # the last one
    response = pay(client, url)
    assert response.status_code == 409
    assert "That session is full." in text(response)
    assert not Order.objects.filter(buyer=buyer).exists()


def test_the_cart_checks_out_with_shipping_and_empties(client, buyer, offer_of):
    offer = offer_of("physical")
    login(client, buyer)
    added = client.post(f"/offers/{offer.pk}/order/", {"action": "cart", "quantity": "2"})
    assert added["Location"] == "/cart/"
    cart = text(client.get("/cart/"))
    assert "I will design a logo for your bakery × 2" in cart
    assert "$60.00" in cart

    url = "/checkout/?from=cart&currency=USD"
    page = text(client.get(f"{url}&country=US"))
    assert "Shipping $5.00" in page
    assert "You pay $68.25" in page
    fragment = client.get(f"{url}&country=DE", HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.text
    assert "$15.00" in text(fragment)

    missing = pay(client, url, country="US")
    assert missing.status_code == 400
    assert "Enter the name and address to ship to." in text(missing)
    response = pay(client, url, country="US", address="Ann Buyer\n1 Main St\nSpringfield")
    order = Order.objects.get(buyer=buyer)
    assert response["Location"] == f"/orders/{order.pk}/"
    assert (order.state, order.subtotal, order.ship_country) == ("paid", 6500, "US")
    assert not CartItem.objects.filter(buyer=buyer).exists()


# --- my orders and the order page ---------------------------------------------------------------


def test_my_orders_lists_the_buyers_orders_with_the_next_step(client, buyer, offer_of):
    gig = place(buyer, {"offer": offer_of("service").pk, "package": "basic"}).orders.get()
    place(buyer, {"offer": offer_of("digital").pk}, card=sandbox.CARD_DECLINED)
    login(client, buyer)
    page = text(client.get("/orders/"))
    assert f"#{gig.pk}" in page
    assert "Waiting for the buyer's requirements" in page
    assert "Send your requirements so the work can start" in page
    assert Order.objects.filter(state="payment_failed").count() == 1
    assert page.count("I will design a logo") == 1  # the failed payment placed nothing


def test_the_order_page_shows_the_timeline_and_only_the_viewers_actions(client, buyer, offer_of):
    order = gig_delivered(buyer, offer_of)
    login(client, buyer)
    page = text(client.get(f"/orders/{order.pk}/"))
    assert "You ordered" in page
    assert "You sent the requirements — the work starts" in page
    assert f"{order.seller.display_name} (the seller) delivered the order" in page
    assert "Here it is" in page
    assert "Accept delivery" in page
    assert "Request a revision" in page
    assert "What is the business called? Bakery" in page

    login(client, order.seller)
    page = text(client.get(f"/orders/{order.pk}/"))
    assert "You delivered the order" in page
    assert "Accept delivery" not in page
    assert "Request a revision" not in page


def test_posting_a_transition_moves_the_order_and_the_wrong_party_changes_nothing(
    client, buyer, offer_of
):
    order = gig_delivered(buyer, offer_of)
    login(client, order.seller)
    refused = client.post(f"/orders/{order.pk}/transitions/accept/")
    assert refused.status_code == 403
    order.refresh_from_db()
    assert order.state == "delivered"

    login(client, buyer)
    no_message = client.post(f"/orders/{order.pk}/transitions/request_revision/")
    assert no_message.status_code == 400
    assert "This field is required." in text(no_message)
    response = client.post(f"/orders/{order.pk}/transitions/accept/")
    assert response["Location"] == f"/orders/{order.pk}/"
    order.refresh_from_db()
    assert order.state == "completed"
    assert "You accepted the delivery — the seller is paid." in text(
        client.get(f"/orders/{order.pk}/")
    )


def test_an_illegal_step_is_shown_as_a_conflict(client, buyer, offer_of):
    order = gig_delivered(buyer, offer_of)
    login(client, order.seller)
    response = client.post(f"/orders/{order.pk}/transitions/deliver/", {"deliver-message": "Again"})
    assert response.status_code == 409
    assert "“Deliver” is not possible while the order is delivered." in text(response)


def test_strangers_get_404_and_change_nothing(client, buyer, offer_of):
    order = place(buyer, {"offer": offer_of("service").pk, "package": "basic"}).orders.get()
    services.order_transition(
        order_id=order.pk, name="submit_requirements", actor=buyer, data={"answers": ["Bakery"]}
    )
    order = services.order_transition(
        order_id=order.pk,
        name="deliver",
        actor=order.seller,
        data={"message": "Here", "files": [pdf()]},
    )
    item = DeliveryFile.objects.get()
    cart_item = services.cart_add(buyer=buyer, item={"offer": offer_of("digital").pk})

    login(client, UserFactory())
    assert client.get(f"/orders/{order.pk}/").status_code == 404
    assert client.post(f"/orders/{order.pk}/transitions/accept/").status_code == 404
    assert client.get(f"/orders/{order.pk}/files/{item.pk}/").status_code == 404
    assert client.post(f"/cart/{cart_item.pk}/remove/").status_code == 404
    order.refresh_from_db()
    assert order.state == "delivered"
    assert CartItem.objects.filter(pk=cart_item.pk).exists()


def test_the_seller_delivers_a_file_and_a_renamed_program_is_refused(client, buyer, offer_of):
    order = place(buyer, {"offer": offer_of("service").pk, "package": "basic"}).orders.get()
    services.order_transition(
        order_id=order.pk, name="submit_requirements", actor=buyer, data={"answers": ["Bakery"]}
    )
    login(client, order.seller)
    url = f"/orders/{order.pk}/transitions/deliver/"
    program = SimpleUploadedFile("x.pdf", b"MZ\x90\x00" + b"\x00" * 64, "application/pdf")
    refused = client.post(url, {"deliver-message": "Here", "deliver-files": [program]})
    assert refused.status_code == 400
    assert re.search(r'id="id_deliver-files_error"', refused.text)
    assert not DeliveryFile.objects.exists()
    order.refresh_from_db()
    assert order.state == "in_progress"

    response = client.post(url, {"deliver-message": "Here", "deliver-files": [pdf()]})
    assert response.status_code == 302
    item = DeliveryFile.objects.get()
    assert (item.name, item.content_type) == ("logo.pdf", "application/pdf")

    login(client, buyer)
    page = client.get(f"/orders/{order.pk}/")
    assert f"/orders/{order.pk}/files/{item.pk}/" in page.text
    download = client.get(f"/orders/{order.pk}/files/{item.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    assert "attachment" in download["Content-Disposition"]


def test_a_digital_order_page_has_the_download_link(client, buyer, offer_of):
    order = place(buyer, {"offer": offer_of("digital").pk}).orders.get()
    assert order.state == "delivered"
    login(client, buyer)
    page = client.get(f"/orders/{order.pk}/")
    link = re.search(r'href="(/offers/files/[^"]+/)"', page.text).group(1)
    assert "guide.pdf" in text(page)
    assert client.get(link).status_code == 200


# --- the seller's board and calendar -------------------------------------------------------------


def test_the_seller_board_lists_paid_orders_and_hides_unpaid_ones(client, buyer, offer_of):
    offer = offer_of("physical")
    paid = place(buyer, {"offer": offer.pk, "quantity": 1}).orders.get()
    unpaid = place(
        UserFactory(), {"offer": offer.pk, "quantity": 2}, card=sandbox.CARD_REQUIRES_ACTION
    ).orders.get()
    assert unpaid.state == "pending_payment"
    login(client, offer.seller)
    page = client.get("/sales/")
    assert f"/orders/{paid.pk}/" in page.text
    assert f"/orders/{unpaid.pk}/" not in page.text
    assert "To ship" in text(page)
    assert "Ship by" in text(page)
    assert client.get(f"/orders/{unpaid.pk}/").status_code == 404


def test_the_calendar_lists_a_booked_session_and_cancelling_it_refunds_the_attendee(
    client, buyer, offer_of
):
    offer = offer_of("experience")
    session = offer.sessions.get()
    order = place(buyer, {"offer": offer.pk, "session": session.pk, "seats": 2}).orders.get()
    login(client, offer.seller)
    page = text(client.get("/sales/calendar/"))
    assert offer.title in page
    assert "2 of 8 places booked" in page

    url = f"/sales/sessions/{session.pk}/cancel/"
    confirm = text(client.get(url))
    assert "1 booking (2 places) will be cancelled and refunded in full" in confirm
    assert client.post(url, {"message": "Storm warning"})["Location"] == "/sales/calendar/"
    order.refresh_from_db()
    assert order.state == "cancelled"
    assert held(order.reference) == 0

    login(client, UserFactory())
    assert client.get(url).status_code == 404


def test_the_owner_keeps_part_of_the_deposit_through_the_page(client, buyer, offer_of):
    offer = offer_of("rental")
    start = timezone.localdate() + timedelta(days=10)
    order = place(
        buyer, {"offer": offer.pk, "start": str(start), "end": str(start + timedelta(days=3))}
    ).orders.get()
    seller = order.seller
    services.order_transition(order_id=order.pk, name="accept", actor=seller)
    with time_machine.travel(order.starts_at):
        services.order_transition(order_id=order.pk, name="check_in", actor=seller)
        services.order_transition(order_id=order.pk, name="check_out", actor=seller)
        login(client, seller)
        url = f"/orders/{order.pk}/transitions/complete/"
        no_reason = client.post(url, {"complete-claim": "25.00"})
        assert no_reason.status_code == 400
        assert "Say why you keep part of the deposit" in text(no_reason)
        too_much = client.post(url, {"complete-claim": "100.01", "complete-message": "All"})
        assert too_much.status_code == 400
        done = client.post(url, {"complete-claim": "25.00", "complete-message": "Broken lamp"})
        assert done.status_code == 302
    order.refresh_from_db()
    assert (order.state, order.deposit_claimed) == ("completed", 2500)
    assert held(order.deposit_reference) == 0
    login(client, buyer)
    page = text(client.get(f"/orders/{order.pk}/"))
    assert "$75.00 returned, $25.00 kept" in page
    assert "Broken lamp" in page


def test_the_seller_ships_with_tracking_and_the_buyer_confirms(client, buyer, offer_of):
    order = place(buyer, {"offer": offer_of("physical").pk, "quantity": 1}).orders.get()
    login(client, order.seller)
    url = f"/orders/{order.pk}/transitions/ship/"
    assert client.post(url, {"ship-carrier": "DHL"}).status_code == 400
    client.post(url, {"ship-carrier": "DHL", "ship-tracking_number": "JD0123"})
    login(client, buyer)
    page = text(client.get(f"/orders/{order.pk}/"))
    assert "DHL · JD0123" in page
    assert "I received it" in page
    client.post(f"/orders/{order.pk}/transitions/confirm_received/")
    order.refresh_from_db()
    assert order.state == "completed"  # received, then completed at once


def test_a_request_to_cancel_shows_who_asked_and_the_answers_to_the_other_side(
    client, buyer, offer_of
):
    order = gig_delivered(buyer, offer_of)
    login(client, buyer)
    client.post(
        f"/orders/{order.pk}/transitions/request_cancellation/",
        {"request_cancellation-message": "I no longer need it"},
    )
    page = text(client.get(f"/orders/{order.pk}/"))
    assert "You asked to cancel this order." in page
    assert "Agree to cancel" not in page

    login(client, order.seller)
    page = text(client.get(f"/orders/{order.pk}/"))
    assert "The buyer asked to cancel this order. “I no longer need it”" in page
    assert "Agree to cancel" in page
    assert "Keep the order" in page
    client.post(f"/orders/{order.pk}/transitions/accept_cancellation/")
    order.refresh_from_db()
    assert order.state == "cancelled"
    assert held(order.reference) == 0
