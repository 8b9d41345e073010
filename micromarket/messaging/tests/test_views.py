"""Conversation pages through Django's test client: the inbox and its tabs, writing to someone,
a thread (warnings, files, custom offer cards, the poll and "load earlier"), blocking, who may
see what (a third person gets 404 everywhere), the order page's thread, the operators' queue,
and "Contact seller" on the offer page."""

from __future__ import annotations

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from micromarket.catalog.tests.factories import seller as make_seller
from micromarket.messaging import selectors
from micromarket.messaging.models import Attachment, CustomOffer, Message
from micromarket.messaging.tests import factories
from micromarket.payments.tests.test_views import operator_login

pytestmark = pytest.mark.django_db

BACKEND = "micromarket.accounts.backends.EmailBackend"
MB = 1024 * 1024
HTMX = {"HTTP_HX_REQUEST": "true"}
WARNING = "Payments made outside micromarket are not protected"


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


def text(response) -> str:
    """What a person reads on the page: tags removed, entities decoded, spaces collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def message_html(response, message) -> str:
    """The list item of one message on a page."""
    page = response.content.decode()
    match = re.search(rf'<li class="chat-[^"]*" id="m-{message.pk}">.*?</li>', page, flags=re.S)
    assert match, f"message {message.pk} is not on the page"
    return match.group(0)


def message_text(response, message) -> str:
    item = message_html(response, message)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", item))).strip()


@pytest.fixture
def seller(seller_with_gig):
    return seller_with_gig


def thread_url(conversation) -> str:
    return f"/inbox/{conversation.pk}/"


# ---------------------------------------------------------------------------------------------
# Who may see what


def test_a_third_person_gets_404_for_everything_of_a_conversation(
    client, conversation, buyer, seller, gig, stranger
):
    with_file = factories.send(conversation, buyer, "The brief", files=[factories.pdf()])
    attachment = with_file.attachments.get()
    custom = factories.custom_offer(conversation, seller, gig)
    messages_before = Message.objects.count()
    login(client, stranger)

    base = thread_url(conversation)
    for url in (
        base,
        f"{base}messages/?after=0",
        f"{base}messages/?before={with_file.pk}",
        f"{base}offer/",
        f"/inbox/attachments/{attachment.pk}/",
    ):
        assert client.get(url).status_code == 404, url
    for url, data in (
        (f"{base}send/", {"body": "Let me in"}),
        (f"{base}archive/", {"archived": "1"}),
        (f"{base}block/", {}),
        (f"{base}offer/", {"title": "Mine now"}),
        (f"/inbox/offers/{custom.pk}/decline/", {"reason": "no"}),
        (f"/inbox/offers/{custom.pk}/withdraw/", {}),
    ):
        assert client.post(url, data).status_code == 404, url
        assert client.post(url, data, **HTMX).status_code == 404, url

    assert Message.objects.count() == messages_before
    custom.refresh_from_db()
    assert custom.state == CustomOffer.State.PENDING
    assert not selectors.users_blocked(stranger.pk, buyer.pk)
    assert not selectors.users_blocked(stranger.pk, seller.pk)


def test_the_pages_need_a_sign_in(client, conversation):
    for url in ("/inbox/", "/inbox/new/?to=1", thread_url(conversation), "/inbox/blocked/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


# ---------------------------------------------------------------------------------------------
# Writing to someone


def test_contact_seller_on_the_offer_page_leads_to_a_message_about_the_offer(
    client, buyer, seller, gig
):
    login(client, buyer)
    offer_page = client.get(f"/offers/{gig.pk}/")
    link = f"/inbox/new/?to={seller.pk}&amp;offer={gig.pk}"
    assert link in offer_page.content.decode()
    assert "Contact seller" in text(offer_page)

    compose = client.get(html.unescape(link))
    assert compose.status_code == 200
    assert f"Write to {seller.display_name}" in text(compose)
    assert gig.title in text(compose)

    response = client.post(
        "/inbox/new/", {"to": seller.pk, "offer": gig.pk, "body": "Do you make bakery logos?"}
    )
    conversation = selectors.conversation_between(user=buyer, other_id=seller.pk)
    assert response.status_code == 302
    assert response["Location"].startswith(thread_url(conversation))
    assert conversation.offer_id == gig.pk
    page = client.get(thread_url(conversation))
    assert "Do you make bakery logos?" in text(page)
    assert gig.title in text(page)


def test_the_seller_does_not_see_contact_seller_on_their_own_offer(client, seller, gig):
    login(client, seller)
    assert "Contact seller" not in text(client.get(f"/offers/{gig.pk}/"))


def test_an_empty_message_is_refused_on_the_form(client, buyer, seller):
    login(client, buyer)
    response = client.post("/inbox/new/", {"to": seller.pk, "body": "   "})
    assert response.status_code == 400
    assert "Write a message or attach a file." in text(response)
    assert not Message.objects.exists()


def test_writing_to_too_many_new_people_is_refused_with_a_clear_message(
    client, settings, conversation, buyer
):
    settings.MESSAGING_NEW_CONTACTS_PER_DAY = 1  # the fixture's conversation was the first
    other_seller = make_seller(display_name="Other Seller")
    login(client, buyer)
    response = client.post("/inbox/new/", {"to": other_seller.pk, "body": "Hello there"})
    assert response.status_code == 429
    assert "You have written to 1 new people in the last 24 hours" in text(response)
    assert selectors.conversation_between(user=buyer, other_id=other_seller.pk) is None
    # Existing conversations still work.
    assert (
        client.post(f"{thread_url(conversation)}send/", {"body": "Still here"}).status_code == 302
    )


def test_writing_to_someone_unknown_is_404(client, buyer):
    login(client, buyer)
    assert client.get("/inbox/new/?to=999999").status_code == 404
    assert client.get("/inbox/new/").status_code == 404


# ---------------------------------------------------------------------------------------------
# A thread


def test_messages_are_oldest_first_with_own_messages_marked_and_text_escaped(
    client, conversation, buyer, seller
):
    reply = factories.send(
        conversation, seller, "<script>alert(1)</script> Portfolio: https://example.com/work"
    )
    login(client, buyer)
    response = client.get(thread_url(conversation))
    page = response.content.decode()
    first = conversation.messages.order_by("id").first()
    assert page.index(f'id="m-{first.pk}"') < page.index(f'id="m-{reply.pk}"')
    assert f'class="chat-msg mine" id="m-{first.pk}"' in page
    assert f'class="chat-msg theirs" id="m-{reply.pk}"' in page

    item = message_html(response, reply)
    assert "<script>" not in item
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in item
    assert 'href="https://example.com/work" rel="nofollow ugc noopener noreferrer"' in item
    assert "(link to another site)" in message_text(response, reply)


def test_the_new_line_marks_the_first_unseen_message_and_opening_reads_it(
    client, conversation, buyer, seller
):
    first_reply = factories.send(conversation, seller, "Yes, I can.")
    factories.send(conversation, seller, "When do you need it?")
    login(client, buyer)
    page = client.get(thread_url(conversation)).content.decode()
    assert page.index('id="new"') < page.index(f'id="m-{first_reply.pk}"')
    assert page.index('id="new"') > page.index(f'id="m-{first_reply.pk - 1}"')
    # Seen now: no line the next time.
    assert 'id="new"' not in client.get(thread_url(conversation)).content.decode()


def test_sending_without_script_redirects_to_the_message(client, conversation, seller):
    login(client, seller)
    response = client.post(f"{thread_url(conversation)}send/", {"body": "Happy to help!"})
    message = conversation.messages.order_by("-id").first()
    assert response.status_code == 302
    assert response["Location"] == f"{thread_url(conversation)}#m-{message.pk}"
    assert message.body == "Happy to help!"


def test_sending_with_htmx_returns_the_new_messages_a_fresh_form_and_the_next_poll(
    client, conversation, buyer, seller
):
    known = conversation.messages.order_by("-id").first()
    meanwhile = factories.send(conversation, buyer, "Are you there?")  # not on the page yet
    login(client, seller)
    response = client.post(
        f"{thread_url(conversation)}send/",
        {"body": "Yes, here!", "after": known.pk},
        **HTMX,
    )
    assert response.status_code == 200
    page = response.content.decode()
    mine = conversation.messages.order_by("-id").first()
    assert '<form id="send-form"' in page
    assert "Yes, here!" not in page.split('<form id="send-form"')[1].split("</form>")[0]
    assert 'hx-swap-oob="beforeend:#message-list"' in page
    assert f'id="m-{meanwhile.pk}"' in page
    assert f'id="m-{mine.pk}"' in page
    assert f'id="m-{known.pk}"' not in page
    assert f"messages/?after={mine.pk}" in page


def test_a_refused_message_with_htmx_shows_the_form_with_its_error(client, conversation, buyer):
    login(client, buyer)
    count = Message.objects.count()
    response = client.post(f"{thread_url(conversation)}send/", {"body": ""}, **HTMX)
    assert response.status_code == 200  # htmx swaps only successful answers
    assert '<form id="send-form"' in response.content.decode()
    assert "Write a message or attach a file." in text(response)
    assert Message.objects.count() == count


def test_the_poll_returns_only_newer_messages_and_nothing_when_there_are_none(
    client, conversation, buyer, seller
):
    seen = conversation.messages.order_by("-id").first()
    login(client, buyer)
    client.get(thread_url(conversation))
    assert client.get(f"{thread_url(conversation)}messages/?after={seen.pk}").status_code == 204

    reply = factories.send(conversation, seller, "Here is a first idea.")
    response = client.get(f"{thread_url(conversation)}messages/?after={seen.pk}", **HTMX)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Here is a first idea." in text(response)
    assert f'id="m-{seen.pk}"' not in page
    assert f'hx-get="/inbox/{conversation.pk}/messages/?after={reply.pk}"' in page
    assert 'hx-trigger="every 3s' in page
    # Shown while the buyer had the thread open: it counts as read.
    assert selectors.conversations_unread_count(user=buyer) == 0


def test_load_earlier_messages_pages_back_with_a_cursor(client, conversation, buyer, seller):
    for n in range(1, 35):
        factories.send(conversation, seller if n % 2 else buyer, f"Message number {n}")
    ordered = list(conversation.messages.order_by("id"))  # 35 messages
    login(client, buyer)
    page = client.get(thread_url(conversation))
    shown_first = ordered[5]  # the newest 30
    assert f'id="m-{ordered[4].pk}"' not in page.content.decode()
    assert "Load earlier messages" in text(page)
    assert f"messages/?before={shown_first.pk}" in page.content.decode()

    earlier = client.get(f"{thread_url(conversation)}messages/?before={shown_first.pk}", **HTMX)
    assert earlier.status_code == 200
    body = earlier.content.decode()
    assert [int(i) for i in re.findall(r'id="m-(\d+)"', body)] == [m.pk for m in ordered[:5]]
    assert "Load earlier messages" not in text(earlier)  # that was the beginning

    # Without script, the same link shows the older page in full.
    full = client.get(f"{thread_url(conversation)}?before={shown_first.pk}")
    assert "Hello! Can you help me with a logo?" in text(full)
    assert "Show the newest messages" in text(full)


# ---------------------------------------------------------------------------------------------
# Files


def test_a_renamed_executable_is_refused_and_nothing_is_written(client, conversation, buyer):
    login(client, buyer)
    count = Message.objects.count()
    exe = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00" + b"\x00" * 500, content_type="image/jpeg")
    response = client.post(f"{thread_url(conversation)}send/", {"body": "My photo", "files": [exe]})
    assert response.status_code == 400
    assert "That type of file is not allowed" in text(response)
    assert Message.objects.count() == count
    assert not Attachment.objects.exists()


def test_a_file_over_10_mb_is_refused(client, conversation, buyer):
    login(client, buyer)
    count = Message.objects.count()
    big = factories.pdf("huge.pdf", size=10 * MB + 1)
    response = client.post(f"{thread_url(conversation)}send/", {"body": "", "files": [big]})
    assert response.status_code == 400
    assert "the limit is 10 MB" in text(response)
    assert Message.objects.count() == count
    assert not Attachment.objects.exists()


def test_a_picture_is_previewed_and_a_document_downloads(client, conversation, buyer, seller):
    login(client, buyer)
    response = client.post(
        f"{thread_url(conversation)}send/",
        {"body": "Sketch and brief", "files": [factories.png("sketch.png"), factories.pdf()]},
    )
    assert response.status_code == 302
    image = Attachment.objects.get(content_type="image/webp")
    document = Attachment.objects.get(content_type="application/pdf")

    login(client, seller)
    page = client.get(thread_url(conversation)).content.decode()
    assert (
        f'<img src="/inbox/attachments/{image.pk}/" alt="sketch.webp" width="64" height="48"'
        in page
    )
    assert f'<a href="/inbox/attachments/{document.pk}/" download>brief.pdf</a>' in page

    shown = client.get(f"/inbox/attachments/{image.pk}/")
    assert shown.status_code == 200
    assert shown["Content-Type"] == "image/webp"
    assert shown["Content-Disposition"].startswith("inline")
    assert shown["X-Content-Type-Options"] == "nosniff"
    downloaded = client.get(f"/inbox/attachments/{document.pk}/")
    assert downloaded["Content-Disposition"].startswith("attachment")
    assert 'filename="brief.pdf"' in downloaded["Content-Disposition"]
    assert b"".join(downloaded.streaming_content).startswith(b"%PDF-")


# ---------------------------------------------------------------------------------------------
# Contact details


def test_contact_details_before_an_order_are_warned_to_both_sides(
    client, conversation, buyer, seller
):
    message = factories.send(conversation, buyer, "Write me at rosie.baker@example.com instead")
    for person in (buyer, seller):
        login(client, person)
        shown = message_text(client.get(thread_url(conversation)), message)
        assert "This message contains an email address." in shown
        assert WARNING in shown


def test_no_warning_once_the_two_have_an_order(client, conversation, buyer, seller, gig):
    before = factories.send(conversation, buyer, "Call me on +44 20 7946 0958")
    factories.order_gig(buyer, gig)
    after = factories.send(conversation, buyer, "As promised, call me on +44 20 7946 0958")
    login(client, seller)
    response = client.get(thread_url(conversation))
    assert "This message contains a phone number." in message_text(response, before)
    assert WARNING not in message_text(response, after)


def test_operators_review_flagged_messages(client, conversation, buyer, seller):
    flagged = factories.send(conversation, buyer, "Pay me on paypal.me/rosie and mail a@b.co")
    login(client, buyer)
    assert client.get("/ops/messages/").status_code == 302  # not for everyone

    client.logout()
    operator_login(client)
    queue = client.get("/ops/messages/")
    assert queue.status_code == 200
    shown = text(queue)
    assert "paypal.me/rosie" in shown
    assert buyer.display_name in shown
    assert seller.display_name in shown
    assert "payment handle or link" in shown
    assert "email address" in shown

    response = client.post(f"/ops/messages/{flagged.pk}/reviewed/")
    assert response.status_code == 302
    assert "paypal.me/rosie" not in text(client.get("/ops/messages/"))
    flagged.refresh_from_db()
    assert flagged.reviewed_at is not None


# ---------------------------------------------------------------------------------------------
# Inbox, unread, archive


def test_the_inbox_lists_the_other_person_the_subject_an_excerpt_and_unread(
    client, conversation, buyer, seller, gig
):
    factories.send(conversation, buyer, "And one more thing about colours.")
    login(client, seller)
    inbox = text(client.get("/inbox/"))
    assert buyer.display_name in inbox
    assert gig.title in inbox
    assert "And one more thing about colours." in inbox
    assert "2 unread" in inbox  # two messages in this conversation
    assert "Inbox 1 unread" in inbox  # the header: one conversation with something new
    assert buyer.display_name in text(client.get("/inbox/?tab=unread"))

    client.get(thread_url(conversation))  # opening reads it
    inbox = text(client.get("/inbox/"))
    assert "unread" not in inbox  # neither on the row nor in the header
    assert selectors.conversations_unread_count(user=seller) == 0
    assert buyer.display_name not in text(client.get("/inbox/?tab=unread"))


def test_the_inbox_is_paginated_by_30(client, buyer, settings):
    settings.MESSAGING_NEW_CONTACTS_PER_DAY = 100
    for n in range(31):
        factories.start(buyer, make_seller(display_name=f"Person {n:02d}"), "Hi")
    login(client, buyer)
    first = text(client.get("/inbox/"))
    assert "Page 1 of 2" in first
    assert "Person 00" not in first
    assert "Person 30" in first
    assert "Person 00" in text(client.get("/inbox/?page=2"))


def test_archive_moves_it_to_archived_and_a_new_message_brings_it_back(
    client, conversation, buyer, seller
):
    login(client, seller)
    response = client.post(f"{thread_url(conversation)}archive/", {"archived": "1"})
    assert response.status_code == 302
    assert buyer.display_name not in text(client.get("/inbox/"))
    assert buyer.display_name in text(client.get("/inbox/?tab=archived"))

    factories.send(conversation, buyer, "Any news?")
    assert buyer.display_name in text(client.get("/inbox/"))
    assert buyer.display_name not in text(client.get("/inbox/?tab=archived"))


def test_unarchive_from_the_thread(client, conversation, seller, buyer):
    login(client, seller)
    client.post(f"{thread_url(conversation)}archive/", {"archived": "1"})
    assert "Move to inbox" in text(client.get(thread_url(conversation)))
    client.post(f"{thread_url(conversation)}archive/", {"archived": "0"})
    assert buyer.display_name in text(client.get("/inbox/"))


# ---------------------------------------------------------------------------------------------
# Blocking


def test_a_blocked_person_cannot_write_and_is_told_so(client, conversation, buyer, seller):
    login(client, seller)
    response = client.post(f"{thread_url(conversation)}block/")
    assert response.status_code == 302
    page = text(client.get(thread_url(conversation)))
    assert f"You blocked {buyer.display_name}" in page
    assert "Unblock" in page
    assert "Your message" not in page  # no send form

    login(client, buyer)
    count = Message.objects.count()
    response = client.post(f"{thread_url(conversation)}send/", {"body": "Why not?"})
    assert response.status_code == 403
    assert "not accepting messages from you" in text(response)
    compose = client.get(f"/inbox/new/?to={seller.pk}")
    assert "is not accepting messages from you" in text(compose)
    assert 'name="body"' not in compose.content.decode()
    response = client.post("/inbox/new/", {"to": seller.pk, "body": "Hello?"})
    assert response.status_code == 403
    assert "not accepting messages from you" in text(response)
    assert Message.objects.count() == count


def test_the_blocked_list_unblocks(client, conversation, buyer, seller):
    login(client, seller)
    client.post(f"{thread_url(conversation)}block/")
    listed = text(client.get("/inbox/blocked/"))
    assert buyer.display_name in listed
    response = client.post(f"/inbox/blocked/{buyer.pk}/unblock/")
    assert response.status_code == 302
    assert "You have not blocked anyone." in text(client.get("/inbox/blocked/"))
    assert not selectors.users_blocked(buyer.pk, seller.pk)
    assert client.post(f"/inbox/blocked/{buyer.pk}/unblock/").status_code == 404


# ---------------------------------------------------------------------------------------------
# Custom offers


def offer_form(gig, **changes) -> dict:
    data = {
        "offer": gig.pk,
        "title": "Logo for Rosie's Bakery",
        "description": "Three concepts and a brand guide.",
        "price": "120.00",
        "delivery_days": "4",
        "revisions": "2",
        "valid_days": "7",
    }
    data.update(changes)
    return data


def test_the_seller_sends_a_custom_offer_and_the_buyer_sees_a_card(
    client, conversation, buyer, seller, gig
):
    login(client, seller)
    thread = text(client.get(thread_url(conversation)))
    assert "Send a custom offer" in thread
    response = client.post(f"{thread_url(conversation)}offer/", offer_form(gig))
    custom = CustomOffer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{thread_url(conversation)}#offer-{custom.pk}"
    assert custom.price == 12000
    assert custom.currency == "USD"
    seller_view = client.get(thread_url(conversation))
    assert "Withdraw" in text(seller_view)
    assert "Accept & pay" not in text(seller_view)

    login(client, buyer)
    assert "Send a custom offer" not in text(client.get(thread_url(conversation)))
    card = message_text(client.get(thread_url(conversation)), custom.message)
    for expected in (
        "Logo for Rosie's Bakery",
        "Three concepts and a brand guide.",
        "$120.00",
        "4 days",
        "Revisions 2",
        "Valid until",
        "Waiting for the buyer",
        "Accept & pay",
        "Decline",
    ):
        assert expected in card, expected
    assert f'href="/custom-offers/{custom.pk}/checkout/"' in message_html(
        client.get(thread_url(conversation)), custom.message
    )


def test_a_custom_offer_with_a_bad_price_is_shown_on_the_form(client, conversation, seller, gig):
    login(client, seller)
    response = client.post(f"{thread_url(conversation)}offer/", offer_form(gig, price="12.345"))
    assert response.status_code == 400
    assert "USD amounts have at most 2 decimals." in text(response)
    assert not CustomOffer.objects.exists()


def test_someone_without_gigs_cannot_send_a_custom_offer(client, conversation, buyer, gig):
    login(client, buyer)
    page = text(client.get(f"{thread_url(conversation)}offer/"))
    assert "you have none yet" in page
    response = client.post(f"{thread_url(conversation)}offer/", offer_form(gig))
    assert response.status_code == 400
    assert not CustomOffer.objects.exists()


def test_the_buyer_declines_with_a_reason(client, conversation, buyer, seller, gig):
    custom = factories.custom_offer(conversation, seller, gig)
    login(client, buyer)
    response = client.post(
        f"/inbox/offers/{custom.pk}/decline/", {"reason": "A bit over my budget"}, **HTMX
    )
    assert response.status_code == 200
    assert "Declined" in text(response)
    assert "A bit over my budget" in text(response)
    assert "Accept & pay" not in text(response)

    login(client, seller)
    card = message_text(client.get(thread_url(conversation)), custom.message)
    assert "Declined" in card
    assert "A bit over my budget" in card
    assert "Withdraw" not in card


def test_the_seller_withdraws_and_the_buyer_can_no_longer_accept(
    client, conversation, buyer, seller, gig
):
    custom = factories.custom_offer(conversation, seller, gig)
    login(client, buyer)
    response = client.post(f"/inbox/offers/{custom.pk}/withdraw/")
    assert response.status_code == 302  # only the seller can: told on the thread
    custom.refresh_from_db()
    assert custom.state == CustomOffer.State.PENDING
    assert "Only the seller can do that." in text(client.get(response["Location"]))

    login(client, seller)
    response = client.post(f"/inbox/offers/{custom.pk}/withdraw/")
    assert response.status_code == 302
    custom.refresh_from_db()
    assert custom.state == CustomOffer.State.WITHDRAWN

    login(client, buyer)
    card = message_text(client.get(thread_url(conversation)), custom.message)
    assert "Withdrawn" in card
    assert "Accept & pay" not in card


def test_an_accepted_offer_links_to_its_order(client, conversation, buyer, seller, gig):
    custom = factories.custom_offer(conversation, seller, gig)
    factories.accept(custom, buyer)
    custom.refresh_from_db()
    assert custom.state == CustomOffer.State.ACCEPTED
    login(client, buyer)
    response = client.get(thread_url(conversation))
    card = message_html(response, custom.message)
    assert f'href="/orders/{custom.order_id}/"' in card
    assert "Accepted" in text(response)
    assert f"order {custom.order_id}" in text(response)  # the platform's notice


# ---------------------------------------------------------------------------------------------
# The order page


def test_the_order_page_shows_its_thread_and_operators_only_read_it(client, buyer, seller, gig):
    order = factories.order_gig(buyer, gig).orders.get()
    login(client, buyer)
    page = client.get(f"/orders/{order.pk}/")
    assert "Messages" in text(page)
    assert f'action="/inbox/orders/{order.pk}/send/"' in page.content.decode()

    response = client.post(f"/inbox/orders/{order.pk}/send/", {"body": "Files attached soon"})
    assert response.status_code == 302
    assert response["Location"].startswith(f"/orders/{order.pk}/#m-")
    thread = selectors.order_thread(order_id=order.pk)
    assert thread is not None
    assert thread.order_id == order.pk

    login(client, seller)
    page = client.get(f"/orders/{order.pk}/")
    assert "Files attached soon" in text(page)
    assert f"/inbox/{thread.pk}/messages/?after=" in page.content.decode()

    client.logout()
    operator_login(client)
    page = client.get(f"/orders/{order.pk}/")
    assert "Files attached soon" in text(page)
    assert "only they can write in it" in text(page)
    assert f"/inbox/orders/{order.pk}/send/" not in page.content.decode()
    assert client.post(f"/inbox/orders/{order.pk}/send/", {"body": "Hi"}).status_code == 404


def test_someone_else_cannot_write_in_an_order_thread(client, buyer, gig, stranger):
    order = factories.order_gig(buyer, gig).orders.get()
    login(client, stranger)
    assert client.post(f"/inbox/orders/{order.pk}/send/", {"body": "Hi"}).status_code == 404
    assert selectors.order_thread(order_id=order.pk) is None


# ---------------------------------------------------------------------------------------------
# Response figures


def test_the_offer_page_shows_how_fast_the_seller_answers(client, buyer, seller, gig, time_machine):
    login(client, buyer)
    assert "response rate" not in text(client.get(f"/offers/{gig.pk}/"))  # no inquiries yet

    time_machine.move_to("2031-03-03 09:00Z", tick=False)
    conversation = factories.start(buyer, seller, "Are you free next week?").conversation
    time_machine.move_to("2031-03-03 11:30Z", tick=False)
    factories.send(conversation, seller, "Yes!")
    offer_page = text(client.get(f"/offers/{gig.pk}/"))
    assert "Usually responds within 3 hours · 100 % response rate" in offer_page
    shop_page = text(client.get(f"/shops/{gig.shop.slug}/"))
    assert "100 % response rate" in shop_page


def test_the_compose_page_does_not_reveal_people_who_cannot_be_written_to(client, buyer):
    from micromarket.accounts.tests.factories import UserFactory

    private = UserFactory(display_name="Private Person")
    login(client, buyer)
    response = client.get(f"/inbox/new/?to={private.pk}")
    assert response.status_code == 404
    assert "Private Person" not in response.content.decode()
    open_shop = make_seller(display_name="Open Shop")
    assert "Open Shop" in client.get(f"/inbox/new/?to={open_shop.pk}").content.decode()
