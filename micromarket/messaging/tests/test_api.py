"""/api/v1/conversations, /attachments, /custom-offers and /blocks as an API client sees them:
only the two people of a conversation see anything of it, cursor pages, files checked by their
content, the daily limit on new contacts, blocks, and custom offers paid through checkout."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from micromarket.accounts import services as accounts_services
from micromarket.accounts.tests.factories import UserFactory
from micromarket.catalog.tests.factories import make_offer, seller
from micromarket.messaging.models import (
    Attachment,
    Conversation,
    CustomOffer,
    Message,
    Participant,
)
from micromarket.orders.models import Checkout, Order
from micromarket.payments.providers import sandbox

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
API = "/api/v1"


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, path: str, body: dict | None = None, key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    data = json.dumps(body) if body is not None else ""
    return client.post(API + path, data, content_type="application/json", **headers)


def get(client: Client, path: str, **params):
    return client.get(API + path, params)


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert (body["status"], body["code"]) == (status, code), body
    return body


def png_bytes(size=(64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def gig():
    return make_offer(kind="service", publish=True)


@pytest.fixture
def buyer():
    return UserFactory()


@pytest.fixture
def outsider():
    return UserFactory()


@pytest.fixture
def thread(buyer, gig):
    """The buyer asked the gig's seller a question; returns the conversation's id."""
    response = post(
        as_user(buyer),
        "/conversations",
        {"recipient_id": gig.seller.pk, "body": "Can you do a logo by Friday?", "offer_id": gig.pk},
    )
    assert response.status_code == 201, response.content
    return response.json()["conversation"]["id"]


def offer_terms(gig, **changes) -> dict:
    return {
        "offer_id": gig.pk,
        "title": "Logo with 5 concepts",
        "description": "Five concepts, vector files and a brand sheet.",
        "price": 12_345,
        "delivery_days": 4,
        "revisions": 2,
        "valid_days": 3,
        **changes,
    }


@pytest.fixture
def custom(thread, gig):
    """A custom offer the seller sent in the thread (the response body)."""
    response = post(as_user(gig.seller), f"/conversations/{thread}/custom-offers", offer_terms(gig))
    assert response.status_code == 201, response.content
    return response.json()


def accept(client: Client, custom_id: int, card=sandbox.CARD_SUCCEEDS, key="accept-1"):
    return post(client, f"/custom-offers/{custom_id}/accept", {"payment_method": card}, key=key)


# --- conversations ----------------------------------------------------------------------------


def test_starting_a_conversation_shows_it_to_both_sides(buyer, gig, thread):
    seller_client = as_user(gig.seller)
    inbox = get(seller_client, "/conversations").json()
    assert inbox["count"] == 1
    [row] = inbox["items"]
    assert row["id"] == thread
    assert row["other"] == {"id": buyer.pk, "display_name": buyer.display_name}
    assert row["offer"] == {"id": gig.pk, "title": gig.title}
    assert row["order_id"] is None
    assert row["unread"] == 1
    assert row["last_message"] == "Can you do a logo by Friday?"
    assert row["last_message_mine"] is False
    # The buyer wrote it, so for them nothing is unread.
    assert get(as_user(buyer), "/conversations").json()["items"][0]["unread"] == 0
    assert get(seller_client, "/conversations", unread="true").json()["count"] == 1

    read = post(seller_client, f"/conversations/{thread}/read")
    assert read.status_code == 200
    assert read.json()["unread"] == 0
    assert get(seller_client, "/conversations", unread="true").json()["count"] == 0


def test_writing_again_to_the_same_person_continues_the_conversation(buyer, gig, thread):
    again = post(as_user(buyer), "/conversations", {"recipient_id": gig.seller.pk, "body": "Hi?"})
    assert again.status_code == 201
    assert again.json()["conversation"]["id"] == thread
    assert again.json()["message"]["body"] == "Hi?"
    assert Conversation.objects.count() == 1


def test_writing_to_yourself_or_nobody_is_refused(buyer):
    client = as_user(buyer)
    assert_problem(
        post(client, "/conversations", {"recipient_id": buyer.pk, "body": "me"}), 422, "self"
    )
    assert_problem(
        post(client, "/conversations", {"recipient_id": 999_999, "body": "hi"}), 404, "not_found"
    )
    empty = post(client, "/conversations", {"recipient_id": UserFactory().pk, "body": ""})
    assert_problem(empty, 422, "validation_failed")
    someone, gig = UserFactory(), make_offer(kind="service", publish=True)
    not_theirs = {"recipient_id": someone.pk, "body": "About this", "offer_id": gig.pk}
    body = assert_problem(post(client, "/conversations", not_theirs), 422, "validation_failed")
    assert body["errors"][0]["loc"][-1] == "offer"
    assert not Conversation.objects.exists()


def test_archive_moves_a_conversation_out_of_the_inbox_until_unarchived(buyer, gig, thread):
    client = as_user(buyer)
    archived = post(client, f"/conversations/{thread}/archive")
    assert archived.status_code == 200
    assert archived.json()["archived"] is True
    assert get(client, "/conversations").json()["count"] == 0
    assert [c["id"] for c in get(client, "/conversations", archived="true").json()["items"]] == [
        thread
    ]
    assert get(client, f"/conversations/{thread}").json()["archived"] is True
    # Only the buyer's side moved.
    assert get(as_user(gig.seller), "/conversations").json()["count"] == 1

    back = post(client, f"/conversations/{thread}/unarchive")
    assert back.json()["archived"] is False
    assert get(client, "/conversations").json()["count"] == 1


def test_a_new_message_brings_an_archived_conversation_back(buyer, gig, thread):
    client = as_user(buyer)
    post(client, f"/conversations/{thread}/archive")
    post(as_user(gig.seller), f"/conversations/{thread}/messages", {"body": "Yes, Friday works."})
    [row] = get(client, "/conversations").json()["items"]
    assert (row["id"], row["unread"], row["archived"]) == (thread, 1, False)


# --- messages ---------------------------------------------------------------------------------


def test_messages_are_plain_text_with_contact_warnings(buyer, gig, thread):
    seller_client = as_user(gig.seller)
    sent = post(
        seller_client,
        f"/conversations/{thread}/messages",
        {"body": "<script>alert(1)</script> mail me: me@example.com"},
    )
    assert sent.status_code == 201, sent.content
    message = sent.json()
    assert message["body"] == "<script>alert(1)</script> mail me: me@example.com"
    assert message["sender_id"] == gig.seller.pk
    assert message["mine"] is True
    assert message["kind"] == "text"
    [warning] = message["warnings"]
    assert warning["kind"] == "email"
    assert warning["label"]  # a human label for the kind
    # The buyer sees the same message and warning.
    page = get(as_user(buyer), f"/conversations/{thread}/messages").json()
    assert [m["body"] for m in page["items"]][-1] == message["body"]
    assert page["items"][-1]["warnings"] == message["warnings"]
    assert page["items"][-1]["mine"] is False


def test_a_long_thread_pages_back_to_its_start_without_duplicates(buyer, gig, thread):
    conversation = Conversation.objects.get(pk=thread)
    now = timezone.now()
    Message.objects.bulk_create(
        Message(conversation=conversation, sender=buyer, body=f"message {i}", created_at=now)
        for i in range(74)
    )
    expected = list(conversation.messages.order_by("id").values_list("pk", flat=True))
    assert len(expected) == 75
    client = as_user(gig.seller)

    seen, before, pages = [], None, 0
    while True:
        params = {"limit": 30} | ({"before": before} if before else {})
        response = get(client, f"/conversations/{thread}/messages", **params)
        assert response.status_code == 200, response.content
        page = response.json()
        assert page["newest_id"] == expected[-1]
        ids = [m["id"] for m in page["items"]]
        assert ids == sorted(ids)  # oldest first within a page
        seen = ids + seen
        pages += 1
        before = page["next_cursor"]
        if before is None:
            break
    assert pages == 3
    assert seen == expected  # every message once, in order
    assert len(set(seen)) == 75


def test_after_returns_only_newer_messages(buyer, gig, thread):
    client = as_user(buyer)
    newest = get(client, f"/conversations/{thread}/messages").json()["newest_id"]
    assert get(client, f"/conversations/{thread}/messages", after=newest).json()["items"] == []
    post(as_user(gig.seller), f"/conversations/{thread}/messages", {"body": "one"})
    post(as_user(gig.seller), f"/conversations/{thread}/messages", {"body": "two"})
    polled = get(client, f"/conversations/{thread}/messages", after=newest).json()
    assert [m["body"] for m in polled["items"]] == ["one", "two"]
    assert polled["newest_id"] == polled["items"][-1]["id"]
    assert polled["next_cursor"] is None


def test_a_bad_cursor_or_limit_is_a_422(buyer, thread):
    client = as_user(buyer)
    assert_problem(
        get(client, f"/conversations/{thread}/messages", limit=500), 422, "validation_failed"
    )
    assert_problem(
        get(client, f"/conversations/{thread}/messages", before="x"), 422, "validation_failed"
    )


def test_files_go_up_by_multipart_and_come_down_only_to_the_two(buyer, gig, thread, outsider):
    client = as_user(buyer)
    response = client.post(
        f"{API}/conversations/{thread}/messages",
        {
            "body": "The brief and a sketch",
            "files": [
                SimpleUploadedFile("brief.pdf", b"%PDF-1.7\n% brief\n", "application/pdf"),
                SimpleUploadedFile("sketch.png", png_bytes(), "image/png"),
            ],
        },
    )
    assert response.status_code == 201, response.content
    pdf, image = response.json()["attachments"]
    assert (pdf["name"], pdf["content_type"], pdf["width"]) == (
        "brief.pdf",
        "application/pdf",
        None,
    )
    assert (image["content_type"], image["width"], image["height"]) == ("image/webp", 64, 48)

    download = as_user(gig.seller).get(pdf["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.7\n% brief\n"
    assert download["Content-Type"] == "application/pdf"
    assert "attachment" in download["Content-Disposition"]

    assert_problem(as_user(outsider).get(pdf["url"]), 404, "not_found")
    assert Client().get(pdf["url"]).status_code == 401


def test_a_renamed_executable_is_refused_and_nothing_is_written(buyer, thread):
    before = Message.objects.count()
    response = as_user(buyer).post(
        f"{API}/conversations/{thread}/messages",
        {
            "body": "my holiday photo",
            "files": [SimpleUploadedFile("photo.jpg", b"MZ\x90\x00" + b"\x00" * 200, "image/jpeg")],
        },
    )
    body = assert_problem(response, 422, "file_type_not_allowed")
    assert body["errors"][0]["loc"][-1] == "files"
    assert Message.objects.count() == before
    assert not Attachment.objects.exists()


def test_an_oversized_file_is_refused(buyer, thread, monkeypatch):
    from micromarket.messaging import services

    monkeypatch.setattr(services, "MAX_ATTACHMENT_BYTES", 1024 * 1024)  # 1 MB for the test
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.7\n" + b"0" * (1024 * 1024), "application/pdf")
    response = as_user(buyer).post(
        f"{API}/conversations/{thread}/messages", {"body": "", "files": [big]}
    )
    body = assert_problem(response, 422, "file_too_large")
    assert "1 MB" in body["detail"]
    assert not Attachment.objects.exists()


def test_too_many_files_are_refused(buyer, thread):
    files = [SimpleUploadedFile(f"{i}.pdf", b"%PDF-1.7 x", "application/pdf") for i in range(6)]
    response = as_user(buyer).post(f"{API}/conversations/{thread}/messages", {"files": files})
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["loc"][-1] == "files"
    assert not Attachment.objects.exists()


def test_an_empty_message_is_a_422_with_the_field(buyer, thread):
    body = assert_problem(
        post(as_user(buyer), f"/conversations/{thread}/messages", {"body": "   "}),
        422,
        "validation_failed",
    )
    assert body["errors"][0]["loc"][-1] == "body"
    too_long = post(as_user(buyer), f"/conversations/{thread}/messages", {"body": "x" * 5001})
    assert_problem(too_long, 422, "validation_failed")


# --- who may see what -------------------------------------------------------------------------


def test_a_third_user_gets_404_everywhere_and_changes_nothing(buyer, gig, thread, outsider):
    upload = as_user(buyer).post(
        f"{API}/conversations/{thread}/messages",
        {"body": "file", "files": [SimpleUploadedFile("a.pdf", b"%PDF-1.4 x", "application/pdf")]},
    )
    attachment_url = upload.json()["attachments"][0]["url"]
    custom = post(as_user(gig.seller), f"/conversations/{thread}/custom-offers", offer_terms(gig))
    custom_id = custom.json()["id"]
    messages = Message.objects.count()
    sides = list(Participant.objects.values_list("user_id", "last_read_id", "archived_at"))

    client = as_user(outsider)
    for response in [
        get(client, f"/conversations/{thread}"),
        get(client, f"/conversations/{thread}/messages"),
        post(client, f"/conversations/{thread}/messages", {"body": "let me in"}),
        post(client, f"/conversations/{thread}/read"),
        post(client, f"/conversations/{thread}/archive"),
        post(client, f"/conversations/{thread}/unarchive"),
        post(client, f"/conversations/{thread}/custom-offers", offer_terms(gig)),
        client.get(attachment_url),
        get(client, f"/custom-offers/{custom_id}"),
        accept(client, custom_id),
        post(client, f"/custom-offers/{custom_id}/decline", {"reason": "no"}),
        post(client, f"/custom-offers/{custom_id}/withdraw"),
    ]:
        assert_problem(response, 404, "not_found")

    assert get(client, "/conversations").json()["count"] == 0
    assert Message.objects.count() == messages
    assert list(Participant.objects.values_list("user_id", "last_read_id", "archived_at")) == sides
    assert CustomOffer.objects.get().state == "pending"
    assert not Checkout.objects.exists()


def test_without_signing_in_every_endpoint_is_401(thread):
    client = Client()
    for response in [
        get(client, "/conversations"),
        post(client, "/conversations", {"recipient_id": 1, "body": "hi"}),
        get(client, f"/conversations/{thread}"),
        get(client, f"/conversations/{thread}/messages"),
        post(client, f"/conversations/{thread}/messages", {"body": "hi"}),
        get(client, "/custom-offers/1"),
        get(client, "/blocks"),
        post(client, "/blocks", {"user_id": 1}),
    ]:
        assert_problem(response, 401, "not_authenticated")


def test_a_bearer_token_reads_and_writes(buyer, thread):
    _token, raw = accounts_services.token_create(user=buyer, name="script")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    sent = post(client, f"/conversations/{thread}/messages", {"body": "from a script"})
    assert sent.status_code == 201, sent.content
    page = get(client, f"/conversations/{thread}/messages").json()
    assert page["items"][-1]["body"] == "from a script"


# --- limits and blocks ------------------------------------------------------------------------


def test_new_contacts_are_limited_per_day_but_existing_ones_are_not(buyer, settings):
    settings.MESSAGING_NEW_CONTACTS_PER_DAY = 2
    client = as_user(buyer)
    first, second, third = seller(), seller(), seller()
    for person in (first, second):
        response = post(client, "/conversations", {"recipient_id": person.pk, "body": "hello"})
        assert response.status_code == 201
    refused = post(client, "/conversations", {"recipient_id": third.pk, "body": "hello"})
    assert_problem(refused, 429, "rate_limited")
    assert Conversation.objects.count() == 2
    # Answering or writing again to people already in touch still works.
    again = post(client, "/conversations", {"recipient_id": first.pk, "body": "and again"})
    assert again.status_code == 201
    # A day later, there is room again.
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        later = post(client, "/conversations", {"recipient_id": third.pk, "body": "hello"})
    assert later.status_code == 201


def test_a_blocked_person_can_neither_write_nor_order(buyer, gig, thread):
    seller_client, buyer_client = as_user(gig.seller), as_user(buyer)
    blocked = post(seller_client, "/blocks", {"user_id": buyer.pk})
    assert blocked.status_code == 201
    assert blocked.json()["user"] == {"id": buyer.pk, "display_name": buyer.display_name}
    assert [b["user"]["id"] for b in get(seller_client, "/blocks").json()["items"]] == [buyer.pk]

    assert_problem(
        post(buyer_client, f"/conversations/{thread}/messages", {"body": "hello?"}), 403, "blocked"
    )
    assert_problem(
        post(buyer_client, "/conversations", {"recipient_id": gig.seller.pk, "body": "hi"}),
        403,
        "blocked",
    )
    assert_problem(
        post(seller_client, f"/conversations/{thread}/messages", {"body": "bye"}), 403, "blocked"
    )
    order = post(
        buyer_client,
        "/orders",
        {"items": [{"offer": gig.pk}], "payment_method": sandbox.CARD_SUCCEEDS},
        key="blocked-order",
    )
    assert_problem(order, 409, "blocked")
    assert not Order.objects.exists()
    assert Message.objects.count() == 1

    assert seller_client.delete(f"{API}/blocks/{buyer.pk}").status_code == 204
    assert get(seller_client, "/blocks").json()["count"] == 0
    assert_problem(seller_client.delete(f"{API}/blocks/{buyer.pk}"), 404, "not_found")
    again = post(buyer_client, f"/conversations/{thread}/messages", {"body": "hello?"})
    assert again.status_code == 201


def test_blocking_yourself_is_refused(buyer):
    assert_problem(post(as_user(buyer), "/blocks", {"user_id": buyer.pk}), 422, "self")


# --- custom offers ----------------------------------------------------------------------------


def test_the_seller_sends_a_custom_offer_that_shows_as_a_card(buyer, gig, thread, custom):
    assert custom["state"] == "pending"
    assert (custom["price"], custom["currency"], custom["delivery_days"]) == (12_345, "USD", 4)
    assert custom["listing"] == {"id": gig.pk, "title": gig.title}
    assert custom["seller"]["id"] == gig.seller.pk
    assert custom["buyer"]["id"] == buyer.pk
    assert custom["actions"] == ["withdraw"]

    page = get(as_user(buyer), f"/conversations/{thread}/messages").json()
    card = page["items"][-1]
    assert card["kind"] == "offer"
    assert card["custom_offer"]["id"] == custom["id"]
    assert card["custom_offer"]["actions"] == ["accept", "decline"]
    assert get(as_user(buyer), f"/custom-offers/{custom['id']}").json()["title"] == custom["title"]


def test_custom_offer_terms_are_checked(buyer, gig, thread):
    client = as_user(gig.seller)
    path = f"/conversations/{thread}/custom-offers"
    body = assert_problem(post(client, path, offer_terms(gig, price=0)), 422, "validation_failed")
    assert body["errors"][0]["loc"][-1] == "price"
    other = make_offer(kind="service", publish=True)  # someone else's gig
    assert_problem(
        post(client, path, offer_terms(gig, offer_id=other.pk)), 422, "validation_failed"
    )
    assert not CustomOffer.objects.exists()


def test_accepting_with_a_card_places_a_service_order_at_the_custom_price(buyer, gig, custom):
    client = as_user(buyer)
    response = accept(client, custom["id"])
    assert response.status_code == 201, response.content
    result = response.json()
    assert result["status"] == "paid"
    assert result["payment"]["status"] == "succeeded"
    [order] = result["orders"]
    assert order["title"] == "Custom offer: Logo with 5 concepts"
    offer = get(client, f"/custom-offers/{custom['id']}").json()
    assert (offer["state"], offer["order_id"]) == ("accepted", order["id"])

    detail = get(client, f"/orders/{order['id']}").json()
    assert detail["kind"] == "service"
    assert detail["subtotal"] == 12_345
    assert detail["seller"]["id"] == gig.seller.pk
    assert detail["revisions_allowed"] == 2
    assert detail["items"][0]["description"] == "Custom offer: Logo with 5 concepts"
    assert get(client, f"/custom-offers/{custom['id']}").json()["state"] == "accepted"
    # The conversation tells both what happened.
    page = get(as_user(gig.seller), f"/conversations/{custom['conversation_id']}/messages").json()
    assert page["items"][-1]["kind"] == "system"
    assert str(order["id"]) in page["items"][-1]["body"]


def test_accepting_twice_with_the_same_key_answers_the_same(buyer, custom):
    client = as_user(buyer)
    first = accept(client, custom["id"], key="same")
    again = accept(client, custom["id"], key="same")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Order.objects.count() == 1
    # A new key for an offer already accepted is refused.
    assert_problem(accept(client, custom["id"], key="other"), 409, "offer_closed")
    assert Order.objects.count() == 1


def test_only_the_buyer_accepts(gig, custom):
    response = accept(as_user(gig.seller), custom["id"])
    assert_problem(response, 403, "wrong_party")
    assert CustomOffer.objects.get().state == "pending"


def test_an_expired_offer_cannot_be_accepted(buyer, custom):
    with time_machine.travel(timezone.now() + timedelta(days=3, minutes=1)):
        client = as_user(buyer)
        assert get(client, f"/custom-offers/{custom['id']}").json()["state"] == "expired"
        assert_problem(accept(client, custom["id"]), 409, "offer_closed")
        assert_problem(post(client, f"/custom-offers/{custom['id']}/decline"), 409, "offer_closed")
    assert not Order.objects.exists()


def test_a_declined_card_is_a_402_and_the_buyer_can_retry(buyer, custom):
    client = as_user(buyer)
    declined = accept(client, custom["id"], card=sandbox.CARD_DECLINED, key="try-1")
    body = assert_problem(declined, 402, "payment_declined")
    assert body["detail"] == "Your card was declined."
    offer = get(client, f"/custom-offers/{custom['id']}").json()
    assert (offer["state"], offer["order_id"]) == ("pending", None)
    assert not Order.objects.filter(placed_at__isnull=False).exists()

    retry = accept(client, custom["id"], key="try-2")
    assert retry.status_code == 201, retry.content
    assert retry.json()["status"] == "paid"
    assert get(client, f"/custom-offers/{custom['id']}").json()["state"] == "accepted"


def test_a_card_that_needs_the_buyer_reserves_the_offer(buyer, custom):
    response = accept(as_user(buyer), custom["id"], card=sandbox.CARD_REQUIRES_ACTION)
    assert response.status_code == 201, response.content
    result = response.json()
    assert result["status"] == "pending"
    assert result["payment"]["action_url"]
    offer = get(as_user(buyer), f"/custom-offers/{custom['id']}").json()
    assert (offer["state"], offer["actions"]) == ("reserved", [])


def test_the_buyer_declines_and_the_seller_withdraws(buyer, gig, thread, custom):
    declined = post(
        as_user(buyer), f"/custom-offers/{custom['id']}/decline", {"reason": "Too much"}
    )
    assert declined.status_code == 200
    assert (declined.json()["state"], declined.json()["decline_reason"]) == (
        "declined",
        "Too much",
    )
    assert_problem(
        post(as_user(gig.seller), f"/custom-offers/{custom['id']}/withdraw"), 409, "offer_closed"
    )

    second = post(
        as_user(gig.seller), f"/conversations/{thread}/custom-offers", offer_terms(gig)
    ).json()
    assert_problem(
        post(as_user(buyer), f"/custom-offers/{second['id']}/withdraw"), 403, "wrong_party"
    )
    withdrawn = post(as_user(gig.seller), f"/custom-offers/{second['id']}/withdraw")
    assert withdrawn.json()["state"] == "withdrawn"
    assert_problem(accept(as_user(buyer), second["id"]), 409, "offer_closed")


def test_a_page_of_offer_cards_takes_a_fixed_number_of_queries(buyer, gig, thread):
    seller_client, client = as_user(gig.seller), as_user(buyer)
    path = f"/conversations/{thread}/custom-offers"

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert get(client, f"/conversations/{thread}/messages").status_code == 200
        return len(captured)

    post(seller_client, path, offer_terms(gig))
    one = queries()
    for _ in range(4):
        post(seller_client, path, offer_terms(gig))
    assert queries() == one


def test_the_openapi_schema_documents_the_endpoints():
    paths = Client().get(f"{API}/openapi.json").json()["paths"]
    send = paths["/api/v1/conversations/{conversation_id}/messages"]["post"]
    content = send["requestBody"]["content"]
    assert set(content) == {"application/json", "multipart/form-data"}
    assert "body" in content["application/json"]["schema"]["properties"]
    assert "429" in paths["/api/v1/conversations"]["post"]["responses"]
    assert "402" in paths["/api/v1/custom-offers/{custom_offer_id}/accept"]["post"]["responses"]
    assert "/api/v1/blocks/{user_id}" in paths
