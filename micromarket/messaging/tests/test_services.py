"""Conversations through the services: one thread per pair, who may write, attachments judged
by their content, contact-detail warnings before an order, unread counts and the archive,
blocks (messages and orders), the new-contacts limit, response metrics and the notifications
a message makes."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from micromarket.accounts.tests.factories import ShopFactory, UserFactory
from micromarket.catalog.tests import factories as catalog_factories
from micromarket.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from micromarket.messaging import selectors, services
from micromarket.messaging.models import (
    Attachment,
    Block,
    Conversation,
    Message,
    Notification,
    Participant,
)
from micromarket.messaging.tests.factories import (
    CARD_DECLINED,
    gig,
    order_gig,
    pdf,
    png,
    renamed_exe,
    send,
    start,
)
from micromarket.orders.models import Checkout
from micromarket.payments.models import Payment

pytestmark = pytest.mark.django_db

T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(T0, tick=False)
    return time_machine


@pytest.fixture
def seller(seller_with_gig):
    return seller_with_gig


def inbox(user, **kwargs) -> dict[int, object]:
    """The user's inbox rows by conversation id."""
    return {c.pk: c for c in selectors.conversations_for_user(user=user, **kwargs)}


def unread(user, conversation) -> int:
    return inbox(user)[conversation.pk].unread


def bodies(conversation) -> list[str]:
    return [m.body for m in selectors.messages_page(conversation=conversation).messages]


# ---------------------------------------------------------------------------------------------
# Starting a conversation


def test_the_pair_has_one_general_conversation_whoever_writes(buyer, seller, gig):
    first = start(buyer, seller, "Hi! Do you do bakery logos?", offer_id=gig.pk)
    again = start(buyer, seller, "Also, a matching menu?")
    answer = start(seller, buyer, "Yes to both.")

    assert first.conversation_id == again.conversation_id == answer.conversation_id
    conversation = Conversation.objects.get()
    assert conversation.started_by == buyer
    assert conversation.offer == gig  # what it was started about
    assert conversation.order is None
    assert bodies(conversation) == [
        "Hi! Do you do bakery logos?",
        "Also, a matching menu?",
        "Yes to both.",
    ]
    assert set(Participant.objects.values_list("user_id", flat=True)) == {buyer.pk, seller.pk}


def test_a_conversation_about_a_gig_of_someone_else_is_refused(buyer, seller):
    someone_elses = gig()
    with pytest.raises(ValidationFailed) as exc:
        start(buyer, seller, offer_id=someone_elses.pk)
    assert exc.value.field == "offer"
    with pytest.raises(NotFound):
        start(buyer, seller, offer_id=999_999)
    assert not Conversation.objects.exists()


def test_nobody_can_write_to_themselves(buyer):
    with pytest.raises(ValidationFailed) as exc:
        start(buyer, buyer)
    assert exc.value.code == "self"
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()


@pytest.mark.parametrize("who", ["deactivated", "deleted", "unknown", "garbage"])
def test_writing_to_an_inactive_or_unknown_person_is_not_found(buyer, who):
    if who == "deactivated":
        recipient_id = UserFactory(is_active=False).pk
    elif who == "deleted":
        recipient_id = UserFactory(deleted_at=T0).pk
    elif who == "unknown":
        recipient_id = 999_999
    else:
        recipient_id = "../7"
    with pytest.raises(NotFound) as exc:
        services.conversation_start(sender=buyer, recipient_id=recipient_id, body="Hello")
    assert exc.value.field == "recipient"
    assert not Conversation.objects.exists()


def test_new_contacts_are_limited_per_day_but_existing_conversations_are_not(
    settings, clock, buyer
):
    settings.MESSAGING_NEW_CONTACTS_PER_DAY = 3
    people = [catalog_factories.seller() for _ in range(4)]
    first = start(buyer, people[0])
    for person in people[1:3]:
        start(buyer, person)

    with pytest.raises(RateLimited) as exc:
        start(buyer, people[3])
    assert (exc.value.status, exc.value.code) == (429, "rate_limited")
    assert "3 new people" in exc.value.message
    assert not Conversation.objects.filter(user_high=people[3]).exists()
    assert not Conversation.objects.filter(user_low=people[3]).exists()

    # Answering and following up still work: they are not new people.
    start(buyer, people[0], "Following up on my question")
    send(first.conversation, buyer, "And one more thing")
    newcomer = UserFactory()
    ShopFactory(owner=buyer)  # the buyer opens a shop: now anyone may write to them first
    start(newcomer, buyer, "Hi, I saw your profile")  # someone else started it
    start(buyer, newcomer, "Hi back!")
    assert Conversation.objects.filter(started_by=buyer).count() == 3

    clock.shift(timedelta(hours=23, minutes=59))
    with pytest.raises(RateLimited):
        start(buyer, people[3])
    clock.shift(timedelta(minutes=2))  # the first three are now more than 24 hours old
    assert start(buyer, people[3], "Finally").conversation.started_by == buyer


@pytest.mark.parametrize(
    ("body", "files", "code"),
    [
        ("  ", [], "validation_failed"),
        ("x" * 5001, [], "validation_failed"),
        ("My CV", "exe", "file_type_not_allowed"),
    ],
)
def test_a_refused_first_message_leaves_no_conversation_behind(
    settings, buyer, seller, body, files, code
):
    settings.MESSAGING_NEW_CONTACTS_PER_DAY = 1
    with pytest.raises(ValidationFailed) as exc:
        start(buyer, seller, body, files=[renamed_exe()] if files == "exe" else files)
    assert exc.value.code == code
    assert not Conversation.objects.exists()
    assert not Notification.objects.exists()
    # ...and it did not use up a new contact.
    assert start(buyer, seller, "Hello!").conversation.started_by == buyer


# ---------------------------------------------------------------------------------------------
# Sending messages


def test_someone_outside_the_conversation_cannot_write_in_it(conversation, stranger):
    with pytest.raises(NotFound):
        send(conversation, stranger, "Let me in")
    with pytest.raises(NotFound):
        selectors.conversation_for_user(conversation_id=conversation.pk, user=stranger)
    assert conversation.messages.count() == 1
    assert not Message.objects.filter(sender=stranger).exists()


def test_an_empty_message_without_files_is_refused(conversation, buyer):
    with pytest.raises(ValidationFailed) as exc:
        send(conversation, buyer, "   \n  ")
    assert exc.value.field == "body"
    assert conversation.messages.count() == 1


def test_a_message_is_at_most_5000_characters(conversation, buyer):
    with pytest.raises(ValidationFailed) as exc:
        send(conversation, buyer, "x" * 5001)
    assert exc.value.field == "body"
    assert "5,000" in exc.value.message
    assert send(conversation, buyer, "y" * 5000).body == "y" * 5000


def test_a_picture_is_stored_as_webp_with_its_size_and_no_metadata(conversation, buyer):
    upload = png("sketch.png", size=(64, 48), exif={0x010F: "Spy Camera Co", 0x0110: "X1"})
    with Image.open(io.BytesIO(upload.read())) as original:
        assert original.getexif()  # the upload does carry EXIF
    upload.seek(0)

    message = send(conversation, buyer, "", files=[upload])

    (attachment,) = message.attachments.all()
    assert attachment.content_type == "image/webp"
    assert attachment.name == "sketch.webp"
    assert (attachment.width, attachment.height) == (64, 48)
    assert attachment.is_image
    with attachment.file.open("rb") as stored:
        data = stored.read()
    assert attachment.size == len(data)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "WEBP"
        assert image.size == (64, 48)
        assert not image.getexif()
        assert "exif" not in image.info


def test_a_pdf_is_kept_as_it_is(conversation, buyer):
    upload = pdf("brief.pdf")
    content = upload.read()
    upload.seek(0)
    message = send(conversation, buyer, "Here is the brief", files=[upload])

    (attachment,) = message.attachments.all()
    assert (attachment.name, attachment.content_type) == ("brief.pdf", "application/pdf")
    assert (attachment.size, attachment.width, attachment.is_image) == (len(content), None, False)
    with attachment.file.open("rb") as stored:
        assert stored.read() == content


def test_a_file_keeps_only_its_own_name_not_the_senders_folders(conversation, buyer):
    upload = services.Upload(file=io.BytesIO(b"%PDF-1.4\nplan\n"), name="C:\\Users\\me\\plan.pdf")
    (attachment,) = send(conversation, buyer, "", files=[upload]).attachments.all()
    assert attachment.name == "plan.pdf"
    assert attachment.content_type == "application/pdf"


def test_a_renamed_executable_is_refused_and_nothing_is_written(conversation, buyer):
    for files in ([renamed_exe("cv.pdf")], [png(), renamed_exe("cv.pdf")]):
        with pytest.raises(ValidationFailed) as exc:
            send(conversation, buyer, "My CV", files=files)
        assert (exc.value.code, exc.value.field) == ("file_type_not_allowed", "files")
    assert conversation.messages.count() == 1
    assert not Attachment.objects.exists()


def test_a_broken_picture_is_refused(conversation, buyer):
    broken = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + b"not really" * 20)
    with pytest.raises(ValidationFailed) as exc:
        send(conversation, buyer, "Photo", files=[broken])
    assert exc.value.field == "files"
    assert conversation.messages.count() == 1


def test_a_file_with_a_very_long_name_is_stored(conversation, buyer):
    name = "quarterly-brief-" + "x" * 180 + ".pdf"
    (attachment,) = send(conversation, buyer, "", files=[pdf(name)]).attachments.all()
    assert attachment.name.endswith(".pdf")
    assert len(attachment.name) <= 200
    with attachment.file.open("rb") as stored:
        assert stored.read().startswith(b"%PDF-")


def test_only_the_two_people_can_fetch_an_attachment(conversation, buyer, seller, stranger):
    (attachment,) = send(conversation, buyer, "", files=[pdf()]).attachments.all()
    for user in (buyer, seller):
        assert selectors.attachment_for_user(attachment_id=attachment.pk, user=user) == attachment
    for user in (stranger, UserFactory(operator=True)):
        with pytest.raises(NotFound):
            selectors.attachment_for_user(attachment_id=attachment.pk, user=user)
    with pytest.raises(NotFound):
        selectors.attachment_for_user(attachment_id="1 OR 1=1", user=buyer)


def test_a_long_thread_is_read_page_by_page_and_polled_for_new_messages(
    conversation, buyer, seller
):
    for i in range(2, 76):  # the conversation's first message is number 1
        send(conversation, buyer if i % 2 else seller, f"message {i}")

    newest = selectors.messages_page(conversation=conversation)
    assert [m.body for m in newest.messages] == [f"message {i}" for i in range(46, 76)]
    older = selectors.messages_page(conversation=conversation, before=newest.older_cursor)
    assert [m.body for m in older.messages] == [f"message {i}" for i in range(16, 46)]
    oldest = selectors.messages_page(conversation=conversation, before=older.older_cursor)
    assert len(oldest.messages) == 15
    assert oldest.messages[0].body == conversation.messages.first().body
    assert oldest.older_cursor is None  # the start of the conversation

    assert selectors.messages_page(conversation=conversation, after=newest.newest_id).messages == []
    fresh = send(conversation, seller, "Anything new?")
    polled = selectors.messages_page(conversation=conversation, after=newest.newest_id)
    assert polled.messages == [fresh]
    assert polled.newest_id == fresh.pk
    with pytest.raises(NotFound):
        selectors.messages_page(conversation=conversation, before="abc")


def test_a_file_over_10_mb_is_refused(conversation, buyer):
    with pytest.raises(ValidationFailed) as exc:
        send(conversation, buyer, "Big", files=[pdf(size=10 * MB + 1)])
    assert exc.value.code == "file_too_large"
    assert conversation.messages.count() == 1
    fits = send(conversation, buyer, "Just fits", files=[pdf(size=10 * MB)])
    (attachment,) = fits.attachments.all()
    assert attachment.size == 10 * MB


def test_at_most_five_files_go_with_one_message(conversation, buyer):
    with pytest.raises(ValidationFailed) as exc:
        send(conversation, buyer, "Lots", files=[pdf(f"p{i}.pdf") for i in range(6)])
    assert exc.value.field == "files"
    assert not Attachment.objects.exists()
    message = send(conversation, buyer, "Five", files=[pdf(f"p{i}.pdf") for i in range(5)])
    assert message.attachments.count() == 5


# ---------------------------------------------------------------------------------------------
# Contact details before an order


CONTACTS = [
    ("email", "Write to me at jane.doe@example.com instead"),
    ("email", "ana at gmail dot com"),
    ("phone", "Call me on +44 7700 900123 tonight"),
    ("payment", "Just send it to paypal.me/janedoe"),
    ("iban", "My account: GB82 WEST 1234 5698 7654 32"),
]


@pytest.mark.parametrize(("kind", "text"), CONTACTS)
def test_contact_details_before_an_order_are_warned_and_flagged(
    conversation, buyer, seller, kind, text
):
    message = send(conversation, seller, text)

    assert message.warnings == [kind]
    assert message.flagged_at == T0
    assert message.body == text  # found, never changed
    assert message in selectors.flagged_messages()


def test_several_kinds_in_one_message_are_all_listed(conversation, buyer):
    message = send(
        conversation, buyer, "jane@example.com, +1 (415) 555-2671, GB82 WEST 1234 5698 7654 32"
    )
    assert set(message.warnings) == {"email", "phone", "iban"}


def test_an_ordinary_message_has_no_warning(conversation, buyer):
    message = send(conversation, buyer, "Could you deliver by Friday? Budget is $150.")
    assert (message.warnings, message.flagged_at) == ([], None)
    assert not selectors.flagged_messages().exists()


@pytest.mark.parametrize("writer", ["buyer", "seller"])
@pytest.mark.parametrize("who_ordered", ["buyer from seller", "seller from buyer"])
def test_after_a_placed_order_between_them_contact_details_are_fine(
    conversation, buyer, seller, gig, writer, who_ordered
):
    if who_ordered == "buyer from seller":
        checkout = order_gig(buyer, gig)
    else:
        ShopFactory(owner=buyer)
        checkout = order_gig(seller, catalog_factories.make_offer(buyer, "service", publish=True))
    assert checkout.status == "paid", checkout.failure_message

    message = send(conversation, buyer if writer == "buyer" else seller, "mail me: me@example.com")

    assert (message.warnings, message.flagged_at) == ([], None)
    assert not selectors.flagged_messages().exists()


def test_an_order_whose_payment_failed_does_not_count(conversation, buyer, seller, gig):
    assert order_gig(buyer, gig, card=CARD_DECLINED).status == "failed"
    message = send(conversation, seller, "mail me: me@example.com")
    assert message.warnings == ["email"]


def test_an_order_thread_carries_no_warnings_and_only_its_parties_see_it(
    buyer, seller, gig, stranger
):
    order = order_gig(buyer, gig).orders.get()
    thread = services.conversation_for_order(order_id=order.pk, user=buyer)
    assert services.conversation_for_order(order_id=order.pk, user=seller) == thread
    assert thread.order == order

    message = send(thread, seller, "Questions? me@example.com or +44 7700 900123")

    assert (message.warnings, message.flagged_at) == ([], None)
    with pytest.raises(NotFound):
        services.conversation_for_order(order_id=order.pk, user=stranger)
    with pytest.raises(NotFound):
        send(thread, stranger, "Hi")
    # The order thread is apart from the pair's general conversation.
    assert start(buyer, seller, "About something else").conversation != thread


def test_operators_are_told_about_flagged_messages_without_a_flood(conversation, buyer, seller):
    """The "moderation" category promises operators news of messages flagged for review."""
    operator = UserFactory(operator=True)
    send(conversation, buyer, "Write to me at jane.doe@example.com")
    send(conversation, seller, "Or call +44 7700 900123")

    (told,) = Notification.objects.filter(user=operator, category="moderation")
    assert told.url == reverse("messaging:ops")
    assert told.count == 2
    assert not Notification.objects.filter(category="moderation").exclude(user=operator).exists()


def test_an_operator_review_takes_the_message_out_of_the_queue(conversation, buyer, stranger):
    operator = UserFactory(operator=True)
    message = send(conversation, buyer, "Let's talk on jane.doe@example.com")

    with pytest.raises(NotFound):
        services.message_review(message_id=message.pk, operator=stranger)
    with pytest.raises(NotFound):
        services.message_review(message_id=message.pk, operator=buyer)
    assert list(selectors.flagged_messages()) == [message]

    reviewed = services.message_review(message_id=message.pk, operator=operator)

    assert reviewed.reviewed_by == operator
    assert reviewed.reviewed_at is not None
    assert reviewed.warnings == ["email"]  # both sides still see the warning
    assert not selectors.flagged_messages().exists()
    plain = send(conversation, buyer, "Thanks")
    with pytest.raises(NotFound):  # only flagged messages can be reviewed
        services.message_review(message_id=plain.pk, operator=operator)


# ---------------------------------------------------------------------------------------------
# Unread, read, archive


def test_unread_counts_only_what_the_other_side_wrote(conversation, buyer, seller):
    assert (unread(seller, conversation), unread(buyer, conversation)) == (1, 0)
    send(conversation, buyer, "Second")
    assert (unread(seller, conversation), unread(buyer, conversation)) == (2, 0)
    assert inbox(seller)[conversation.pk].last_body == "Second"
    assert inbox(seller)[conversation.pk].last_sender_id == buyer.pk
    assert selectors.conversations_unread_count(user=seller) == 1
    assert selectors.conversations_unread_count(user=buyer) == 0

    newest = services.conversation_mark_read(conversation_id=conversation.pk, user=seller)

    assert newest == conversation.messages.order_by("-id").first().pk
    assert unread(seller, conversation) == 0
    assert selectors.conversations_unread_count(user=seller) == 0

    send(conversation, seller, "Reply")  # writing is reading for the writer
    assert (unread(seller, conversation), unread(buyer, conversation)) == (0, 1)
    assert selectors.conversations_unread_count(user=buyer) == 1


def test_the_unread_badge_counts_conversations(conversation, seller):
    other = UserFactory()
    start(other, seller, "Me too")
    start(other, seller, "Hello?")
    assert selectors.conversations_unread_count(user=seller) == 2
    unread_rows = selectors.conversations_for_user(user=seller, unread_only=True)
    assert {c.pk: c.unread for c in unread_rows} == {
        conversation.pk: 1,
        Conversation.objects.exclude(pk=conversation.pk).get().pk: 2,
    }
    services.conversation_mark_read(conversation_id=conversation.pk, user=seller)
    assert selectors.conversations_unread_count(user=seller) == 1


def test_marking_read_someone_elses_conversation_is_not_found(conversation, stranger):
    with pytest.raises(NotFound):
        services.conversation_mark_read(conversation_id=conversation.pk, user=stranger)
    with pytest.raises(NotFound):
        services.conversation_archive(conversation_id=conversation.pk, user=stranger)


def test_archive_hides_a_conversation_from_ones_own_inbox_until_a_new_message(
    conversation, buyer, seller
):
    services.conversation_archive(conversation_id=conversation.pk, user=seller)

    assert conversation.pk not in inbox(seller)
    assert conversation.pk in inbox(seller, archived=True)
    assert conversation.pk in inbox(buyer)  # the other side is not affected
    assert conversation.pk not in inbox(buyer, archived=True)

    send(conversation, buyer, "Are you there?")
    assert conversation.pk in inbox(seller)
    assert conversation.pk not in inbox(seller, archived=True)
    assert unread(seller, conversation) == 2


def test_a_new_message_brings_an_archived_conversation_back_for_both(conversation, buyer, seller):
    services.conversation_archive(conversation_id=conversation.pk, user=seller)
    services.conversation_archive(conversation_id=conversation.pk, user=buyer)
    assert conversation.pk not in inbox(buyer)
    assert conversation.pk not in inbox(seller)

    send(conversation, seller, "Back from holiday!")

    assert conversation.pk in inbox(buyer)
    assert conversation.pk in inbox(seller)


def test_unarchiving_puts_it_back(conversation, seller):
    services.conversation_archive(conversation_id=conversation.pk, user=seller)
    services.conversation_archive(conversation_id=conversation.pk, user=seller, archived=False)
    assert conversation.pk in inbox(seller)
    assert not inbox(seller, archived=True)


# ---------------------------------------------------------------------------------------------
# Blocks


@pytest.mark.parametrize("blocker", ["buyer", "seller"])
def test_a_block_either_way_stops_messages_both_ways(conversation, buyer, seller, blocker):
    me, them = (buyer, seller) if blocker == "buyer" else (seller, buyer)
    services.user_block(blocker=me, blocked_id=them.pk)

    for sender, recipient in ((buyer, seller), (seller, buyer)):
        with pytest.raises(PermissionDenied) as exc:
            send(conversation, sender, "Hello?")
        assert exc.value.code == "blocked"
        with pytest.raises(PermissionDenied) as exc:
            start(sender, recipient, "Hello again?")
        assert exc.value.code == "blocked"
    assert conversation.messages.count() == 1
    assert selectors.users_blocked(buyer.pk, seller.pk)
    assert selectors.users_blocked(seller.pk, buyer.pk)


def test_the_blocker_and_the_blocked_are_told_different_things(conversation, buyer, seller):
    services.user_block(blocker=seller, blocked_id=buyer.pk)
    with pytest.raises(PermissionDenied) as told_blocker:
        send(conversation, seller, "Hi")
    with pytest.raises(PermissionDenied) as told_blocked:
        send(conversation, buyer, "Hi")
    assert "You blocked this person" in told_blocker.value.message
    assert "You blocked" not in told_blocked.value.message  # who blocked whom stays private


def test_a_block_stops_a_first_message(buyer, seller):
    services.user_block(blocker=seller, blocked_id=buyer.pk)
    with pytest.raises(PermissionDenied) as exc:
        start(buyer, seller, "Hi, new here")
    assert exc.value.code == "blocked"
    assert not Conversation.objects.exists()


@pytest.mark.parametrize("blocker", ["buyer", "seller"])
def test_a_block_either_way_stops_ordering(buyer, seller, gig, blocker):
    me, them = (buyer, seller) if blocker == "buyer" else (seller, buyer)
    services.user_block(blocker=me, blocked_id=them.pk)

    with pytest.raises(Conflict) as exc:
        order_gig(buyer, gig)

    assert exc.value.code == "blocked"
    assert not Checkout.objects.filter(buyer=buyer).exists()
    assert not Payment.objects.filter(buyer=buyer).exists()


def test_unblocking_restores_messages_and_orders(conversation, buyer, seller, gig):
    services.user_block(blocker=seller, blocked_id=buyer.pk)
    assert selectors.user_has_blocked(blocker=seller, blocked_id=buyer.pk)
    assert [b.blocked for b in selectors.blocks_for_user(user=seller)] == [buyer]

    services.user_unblock(blocker=seller, blocked_id=buyer.pk)

    assert not selectors.users_blocked(buyer.pk, seller.pk)
    assert send(conversation, buyer, "Thanks for unblocking").pk
    assert order_gig(buyer, gig).status == "paid"
    with pytest.raises(NotFound):  # nothing left to unblock
        services.user_unblock(blocker=seller, blocked_id=buyer.pk)


def test_only_the_blocker_can_lift_a_block(buyer, seller):
    services.user_block(blocker=seller, blocked_id=buyer.pk)
    with pytest.raises(NotFound):
        services.user_unblock(blocker=buyer, blocked_id=seller.pk)
    assert selectors.users_blocked(buyer.pk, seller.pk)


def test_blocking_twice_is_one_block_and_blocking_oneself_is_refused(buyer, seller):
    services.user_block(blocker=seller, blocked_id=buyer.pk)
    services.user_block(blocker=seller, blocked_id=buyer.pk)
    assert Block.objects.count() == 1
    with pytest.raises(ValidationFailed) as exc:
        services.user_block(blocker=buyer, blocked_id=buyer.pk)
    assert exc.value.code == "self"
    with pytest.raises(NotFound):
        services.user_block(blocker=buyer, blocked_id=999_999)
    assert Block.objects.count() == 1


# ---------------------------------------------------------------------------------------------
# Response metrics


def test_seller_response_stats(buyer, seller):
    """Inquiries others started, answered within 24 hours or not, median first answer."""
    now = T0 + timedelta(days=3)

    def inquiry(answer_after: timedelta | None, at=T0):
        person = UserFactory()
        conversation = start(person, seller, "Is this available?", now=at).conversation
        if answer_after is not None:
            send(conversation, person, "Hello?", now=at + answer_after / 2)  # not an answer
            send(conversation, seller, "Yes!", now=at + answer_after)
            send(conversation, seller, "Still yes.", now=at + answer_after * 2)
        return conversation

    inquiry(timedelta(hours=1))  # in time
    inquiry(timedelta(hours=30))  # answered, but late
    inquiry(None)  # never answered, days old
    inquiry(None, at=now - timedelta(hours=2))  # the seller still has time: not counted yet
    # A conversation the seller started is not an inquiry, however it went.
    fan = catalog_factories.seller()
    mine = start(seller, fan, "Loved your review!", now=T0).conversation
    send(mine, fan, "Thanks", now=T0 + timedelta(hours=1))

    stats = selectors.seller_response_stats(seller_id=seller.pk, now=now)

    assert (stats.inquiries, stats.answered_in_time) == (3, 1)
    assert stats.rate_percent == 33
    assert stats.median_response == timedelta(hours=15, minutes=30)  # between 1 h and 30 h


def test_a_seller_without_inquiries_has_no_rate(seller):
    stats = selectors.seller_response_stats(seller_id=seller.pk)
    assert (stats.inquiries, stats.rate, stats.rate_percent, stats.median_response) == (
        0,
        None,
        None,
        None,
    )


def test_old_inquiries_fall_out_of_the_window(seller):
    start(UserFactory(), seller, "Hello", now=T0 - timedelta(days=100))
    assert selectors.seller_response_stats(seller_id=seller.pk, now=T0).inquiries == 0
    assert (
        selectors.seller_response_stats(
            seller_id=seller.pk, since=T0 - timedelta(days=365), now=T0
        ).inquiries
        == 1
    )


# ---------------------------------------------------------------------------------------------
# Notifications a message makes


def test_a_burst_of_messages_is_one_notification_for_the_recipient(conversation, buyer, seller):
    send(conversation, buyer, "Second thought")
    send(conversation, buyer, "Third and last")

    (notification,) = Notification.objects.filter(user=seller)
    assert notification.category == "messages"
    assert notification.count == 3
    assert notification.read_at is None
    assert notification.body == "Third and last"
    assert buyer.display_name in notification.title
    assert str(conversation.pk) in notification.url
    assert not Notification.objects.filter(user=buyer).exists()  # nothing about one's own

    services.conversation_mark_read(conversation_id=conversation.pk, user=seller)
    notification.refresh_from_db()
    assert notification.read_at is not None

    send(conversation, buyer, "A new burst")
    assert Notification.objects.filter(user=seller).count() == 2
    assert Notification.objects.get(user=seller, read_at__isnull=True).count == 1


def test_a_file_only_message_is_announced_as_files(conversation, buyer, seller):
    services.conversation_mark_read(conversation_id=conversation.pk, user=seller)
    send(conversation, buyer, "", files=[pdf("a.pdf"), pdf("b.pdf")])
    latest = Notification.objects.get(user=seller, read_at__isnull=True)
    assert latest.body == "2 files"


def test_order_emails_still_arrive_through_notifications(
    buyer, seller, gig, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = order_gig(buyer, gig).orders.get()

    assert sorted(m.to[0] for m in mailoutbox) == sorted([buyer.email, seller.email])
    for mail in mailoutbox:
        assert f"Order {order.pk}" in mail.subject
        assert f"/orders/{order.pk}" in mail.body
        assert "List-Unsubscribe" in mail.extra_headers
    for user in (buyer, seller):
        (notification,) = Notification.objects.filter(user=user, category="orders")
        assert notification.url == f"/orders/{order.pk}/"
        assert notification.email_state == "sent"


def test_only_sellers_or_past_trading_partners_can_be_written_to_first(buyer, gig):
    """An id alone is no invitation: a plain buyer hears first only from someone they traded
    with; anyone may write to a seller."""
    stranger = UserFactory()
    with pytest.raises(NotFound):
        start(stranger, buyer, "Hello?")
    assert not Conversation.objects.filter(started_by=stranger).exists()
    assert start(buyer, gig.seller, "Hi").conversation.started_by == buyer

    order_gig(buyer, gig)
    other_buyer = UserFactory()
    with pytest.raises(NotFound):
        start(gig.seller, other_buyer, "Want a logo?")


def test_an_unpaid_order_has_no_thread_so_it_cannot_bypass_the_warnings(buyer, gig):
    failed = order_gig(buyer, gig, card=CARD_DECLINED).orders.get()
    with pytest.raises(NotFound):
        services.conversation_for_order(order_id=failed.pk, user=buyer)
    assert not Conversation.objects.filter(order=failed).exists()


def test_a_script_is_stored_as_text_and_an_office_file_hiding_a_program_is_refused(
    conversation, buyer
):
    script = SimpleUploadedFile("invoice.pdf.bat", b"@echo off\r\nformat c:\r\n")
    message = send(conversation, buyer, "", files=[script])
    assert message.attachments.get().name == "invoice.pdf.bat.txt"

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("setup.exe", b"MZ\x90\x00" + b"\x00" * 60)
    smuggled = SimpleUploadedFile("report.docx", archive.getvalue())
    with pytest.raises(ValidationFailed) as exc:
        send(conversation, buyer, "report", files=[smuggled])
    assert exc.value.code == "file_type_not_allowed"
