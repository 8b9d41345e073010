"""Notifications as the people they are for see them: what lands in the notification center and
what lands in their mailbox — when, how often, and with a working unsubscribe link."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.mail.backends.locmem import EmailBackend
from django.db import transaction
from django.utils import timezone

from micromarket.accounts.tests.factories import UserFactory
from micromarket.messaging import jobs, notifications, tasks
from micromarket.messaging.models import Notification
from micromarket.messaging.notifications import notification_send

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def order_paid(user, *, number: int = 12, **kwargs) -> Notification | None:
    return notification_send(
        **{
            "user": user,
            "category": "orders",
            "title": f"Order {number} was paid",
            "body": "Ann paid 25.00 USD for “Logo design”.",
            "url": f"/orders/{number}/",
            **kwargs,
        }
    )


def new_message(user, text: str, *, conversation: int = 5) -> Notification | None:
    return notification_send(
        user=user,
        category="messages",
        title="New message from Ann",
        body=text,
        url=f"/inbox/{conversation}/",
        group_key=f"conversation:{conversation}",
    )


def run_jobs() -> None:
    """What the worker's sweeper does every minute."""
    jobs.deliver_notification_emails(now=timezone.now())
    jobs.send_notification_digests(now=timezone.now())


@pytest.fixture
def smtp_down(monkeypatch):
    """The mail server refuses the next ``failures`` sends (all of them by default)."""
    state = {"failures": 10**6}
    real_send = EmailBackend.send_messages

    def send_messages(self, messages):
        if state["failures"] > 0:
            state["failures"] -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_messages)
    return state


# --- instant emails ------------------------------------------------------------------------------


def test_an_instant_email_goes_out_after_commit_with_its_content_and_unsubscribe_headers(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    bob = UserFactory(display_name="Bob Baker")
    with django_capture_on_commit_callbacks(execute=True):
        notification = order_paid(bob)
        assert mailoutbox == []  # not before the transaction commits

    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == [bob.email]
    assert email.subject == f"[{settings.SITE_NAME}] Order 12 was paid"
    assert "Hello Bob Baker," in email.body
    assert "Ann paid 25.00 USD for “Logo design”." in email.body
    assert f"{settings.SITE_URL}/orders/12/" in email.body
    assert "Stop emails about orders:" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert f'<a href="{settings.SITE_URL}/orders/12/">' in html
    assert "Stop emails about orders" in html
    header = email.extra_headers["List-Unsubscribe"]
    assert header.startswith(f"<{settings.SITE_URL}/notifications/unsubscribe/")
    assert header.endswith("/>")
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    notification.refresh_from_db()
    assert notification.email_state == Notification.Email.SENT

    # The header's link opens the confirmation page for that category.
    page = client.get(header[1:-1].removeprefix(settings.SITE_URL))
    assert page.status_code == 200
    assert "Stop these emails?" in page.text
    assert "about <strong>orders</strong>" in page.text


def test_nothing_is_recorded_or_sent_when_the_event_is_rolled_back(
    mailoutbox, django_capture_on_commit_callbacks
):
    bob = UserFactory()

    def place_the_order():
        with transaction.atomic():
            order_paid(bob)
            raise RuntimeError("the order could not be placed")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        place_the_order()

    assert mailoutbox == []
    assert not Notification.objects.filter(user=bob).exists()


def test_a_closed_account_gets_nothing_and_an_unknown_category_is_a_programming_error(
    mailoutbox, django_capture_on_commit_callbacks
):
    closed = UserFactory(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert order_paid(closed) is None
    assert mailoutbox == []
    assert not Notification.objects.filter(user=closed).exists()
    with pytest.raises(ValueError, match="category"):
        notification_send(user=UserFactory(), category="weather", title="Sunny")


# --- messages: a window to batch, folded notifications ------------------------------------------


def test_a_message_email_waits_two_minutes_and_the_job_sends_it(
    mailoutbox, django_capture_on_commit_callbacks
):
    bob = UserFactory()
    with time_machine.travel(T0, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            new_message(bob, "Hi Bob, is the logo ready?")
        assert mailoutbox == []

        traveller.shift(timedelta(minutes=1, seconds=59))
        run_jobs()
        assert mailoutbox == []

        traveller.shift(timedelta(seconds=1))
        run_jobs()
        assert len(mailoutbox) == 1
        assert "Hi Bob, is the logo ready?" in mailoutbox[0].body

        traveller.shift(timedelta(minutes=5))
        run_jobs()
        assert len(mailoutbox) == 1  # sent once


def test_messages_in_one_conversation_fold_into_one_notification_and_one_email(
    mailoutbox, django_capture_on_commit_callbacks
):
    bob = UserFactory()
    with time_machine.travel(T0, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            new_message(bob, "Hi Bob")
            new_message(bob, "Another conversation", conversation=9)
            traveller.shift(timedelta(seconds=30))
            new_message(bob, "Are you there?")
            traveller.shift(timedelta(seconds=30))
            new_message(bob, "I need the logo by Friday.")

        folded = Notification.objects.get(user=bob, group_key="conversation:5")
        assert folded.count == 3
        assert folded.body == "I need the logo by Friday."
        assert folded.updated_at == T0 + timedelta(minutes=1)
        assert Notification.objects.filter(user=bob).count() == 2

        traveller.shift(timedelta(seconds=59))
        run_jobs()
        assert mailoutbox == []

        traveller.shift(timedelta(seconds=1))  # two minutes after the first messages
        run_jobs()
        # Both conversations' notifications were due: one email lists them.
        assert len(mailoutbox) == 1
        email = mailoutbox[0]
        assert email.subject == f"[{settings.SITE_NAME}] 2 updates"
        assert "New message from Ann (3)" in email.body
        assert "I need the logo by Friday." in email.body
        assert "Another conversation" in email.body
        assert "Hi Bob\n" not in email.body  # only the latest message of the thread

        # A message after the email starts a new notification (and a new window).
        with django_capture_on_commit_callbacks(execute=True):
            new_message(bob, "Thanks!")
        assert Notification.objects.filter(user=bob, group_key="conversation:5").count() == 2
        traveller.shift(timedelta(minutes=2))
        run_jobs()
        assert len(mailoutbox) == 2
        assert mailoutbox[1].subject == f"[{settings.SITE_NAME}] New message from Ann"
        assert "Thanks!" in mailoutbox[1].body


def test_a_notification_read_in_the_app_before_the_window_ends_is_not_emailed(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    bob = UserFactory()
    client.force_login(bob)
    with time_machine.travel(T0, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            notification = new_message(bob, "Hi Bob")
        traveller.shift(timedelta(minutes=1))
        client.post(f"/notifications/{notification.pk}/read/")

        traveller.shift(timedelta(minutes=5))
        run_jobs()

    assert mailoutbox == []
    notification.refresh_from_db()
    assert notification.email_state == Notification.Email.SKIPPED


def test_opening_the_conversation_counts_as_reading_its_notifications(
    mailoutbox, django_capture_on_commit_callbacks
):
    bob = UserFactory()
    with time_machine.travel(T0, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            new_message(bob, "Hi Bob")
            new_message(bob, "Other thread", conversation=9)
        notifications.notifications_mark_group_read(user=bob, group_key="conversation:5")
        traveller.shift(timedelta(minutes=3))
        run_jobs()

    assert len(mailoutbox) == 1
    assert "Other thread" in mailoutbox[0].body
    assert "Hi Bob" not in mailoutbox[0].body
    assert notifications.notifications_unread_count(user=bob) == 1


# --- failures and retries ------------------------------------------------------------------------


def test_a_failed_send_is_retried_later_with_a_backoff_then_sent(
    smtp_down, mailoutbox, django_capture_on_commit_callbacks
):
    smtp_down["failures"] = 1
    bob = UserFactory()
    with time_machine.travel(T0, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            notification = order_paid(bob)
        assert mailoutbox == []
        notification.refresh_from_db()
        assert notification.email_state == Notification.Email.PENDING
        assert notification.email_due_at == T0 + timedelta(minutes=1)

        traveller.shift(timedelta(seconds=30))
        run_jobs()
        assert mailoutbox == []  # not before the backoff

        traveller.shift(timedelta(seconds=30))
        run_jobs()

    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == f"[{settings.SITE_NAME}] Order 12 was paid"
    notification.refresh_from_db()
    assert notification.email_state == Notification.Email.SENT
    assert notification.email_attempts == 2


def test_the_task_result_shows_the_failure(smtp_down):
    bob = UserFactory()
    with transaction.atomic():  # no on_commit: the task is enqueued by hand below
        order_paid(bob)
    result = tasks.notification_emails_deliver.enqueue(user_id=bob.pk)
    assert result.status == "FAILED"
    assert "SMTPServerDisconnected" in result.errors[0].exception_class_path


def test_after_five_retries_it_gives_up(smtp_down, mailoutbox, django_capture_on_commit_callbacks):
    bob = UserFactory()
    with time_machine.travel(T0, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            notification = order_paid(bob)
        for wait in notifications.EMAIL_BACKOFF:
            traveller.shift(wait)
            run_jobs()
        notification.refresh_from_db()
        assert notification.email_state == Notification.Email.FAILED
        assert notification.email_attempts == 6

        smtp_down["failures"] = 0
        traveller.shift(timedelta(days=2))
        run_jobs()

    assert mailoutbox == []
    # The notification center still has it.
    assert notifications.notifications_unread_count(user=bob) == 1


def test_a_sender_that_died_mid_send_is_picked_up_again(mailoutbox):
    bob = UserFactory()
    with time_machine.travel(T0, tick=False) as traveller:
        notification = order_paid(bob)  # no commit callbacks: as if the task was lost
        # A worker claimed it and died before sending.
        Notification.objects.filter(pk=notification.pk).update(
            email_state=Notification.Email.SENDING,
            email_due_at=T0 + notifications.SENDING_LEASE,
        )
        run_jobs()
        assert mailoutbox == []  # it may still be sending
        traveller.shift(notifications.SENDING_LEASE)
        run_jobs()

    assert len(mailoutbox) == 1


# --- preferences: digest and off -----------------------------------------------------------------


def test_the_daily_digest_collects_everything_once_a_day(
    mailoutbox, django_capture_on_commit_callbacks
):
    bob = UserFactory()
    notifications.preferences_update(user=bob, modes={"orders": "digest", "offers": "digest"})
    with time_machine.travel(T0, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            order_paid(bob, number=12)
            order_paid(bob, number=13)
            notification_send(
                user=bob, category="offers", title="Ann declined your custom offer", url="/x/"
            )
        assert mailoutbox == []  # nothing right away

        traveller.shift(timedelta(hours=22, minutes=59))  # 07:59 the next day (Bob's zone: UTC)
        run_jobs()
        assert mailoutbox == []
        traveller.shift(timedelta(minutes=1))  # 08:00: the digest hour
        run_jobs()
        assert len(mailoutbox) == 1
        digest = mailoutbox[0]
        assert digest.subject == f"[{settings.SITE_NAME}] Your daily digest: 3 updates"
        for title in ("Order 12 was paid", "Order 13 was paid", "Ann declined your custom offer"):
            assert title in digest.body
            assert title in digest.alternatives[0][0]
        # A link per category in the footer, and the settings.
        assert "- orders: " in digest.body
        assert "- custom offers: " in digest.body
        assert "/notifications/settings/" in digest.body
        assert digest.extra_headers["List-Unsubscribe"].startswith("<")

        traveller.shift(timedelta(hours=2))
        with django_capture_on_commit_callbacks(execute=True):
            order_paid(bob, number=14)
        traveller.shift(timedelta(hours=21, minutes=59))
        run_jobs()
        assert len(mailoutbox) == 1  # not again before the next day's digest hour

        traveller.shift(timedelta(minutes=1))
        run_jobs()
        assert len(mailoutbox) == 2
        assert mailoutbox[1].subject == f"[{settings.SITE_NAME}] Your daily digest: 1 update"
        assert "Order 14 was paid" in mailoutbox[1].body
        assert "Order 12 was paid" not in mailoutbox[1].body


def test_off_means_no_email_but_the_notification_center_still_has_it(
    mailoutbox, django_capture_on_commit_callbacks
):
    bob = UserFactory()
    notifications.preferences_update(user=bob, modes={"orders": "off"})
    with time_machine.travel(T0, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            order_paid(bob)
        traveller.shift(timedelta(days=1, minutes=1))
        run_jobs()

    assert mailoutbox == []
    assert [n.title for n in notifications.notifications_for_user(user=bob)] == [
        "Order 12 was paid"
    ]


def test_turning_a_category_off_cancels_the_email_that_was_waiting(
    mailoutbox, django_capture_on_commit_callbacks
):
    bob = UserFactory()
    with time_machine.travel(T0, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            new_message(bob, "Hi Bob")
            notifications.preferences_update(user=bob, modes={"messages": "off"})
        traveller.shift(timedelta(minutes=3))
        run_jobs()
    assert mailoutbox == []


def test_switching_from_digest_to_instant_sends_what_was_waiting(
    mailoutbox, django_capture_on_commit_callbacks
):
    bob = UserFactory()
    notifications.preferences_update(user=bob, modes={"orders": "digest"})
    with django_capture_on_commit_callbacks(execute=True):
        order_paid(bob)
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        notifications.preferences_update(user=bob, modes={"orders": "instant"})
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == f"[{settings.SITE_NAME}] Order 12 was paid"


# --- operators -----------------------------------------------------------------------------------


def test_operators_are_notified_and_nobody_else(mailoutbox, django_capture_on_commit_callbacks):
    first, second = UserFactory(operator=True), UserFactory(operator=True)
    UserFactory(operator=True, is_active=False)
    bob = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        sent = notifications.notify_operators(
            category="operations",
            title="Reconciliation of 2025-03-02: 2 differences",
            body="2 payments differ from the provider's records.",
            url="/ops/finance/reconciliation/1/",
        )
        # An operators' category sent to someone else is dropped.
        assert notification_send(user=bob, category="operations", title="Secret") is None

    assert sorted(n.user_id for n in sent) == sorted([first.pk, second.pk])
    assert sorted(m.to[0] for m in mailoutbox) == sorted([first.email, second.email])
    assert "2 payments differ" in mailoutbox[0].body
    assert notifications.notifications_unread_count(user=bob) == 0


@pytest.mark.django_db
def test_the_digest_hour_is_eight_in_the_persons_own_time_zone():
    tokyo = UserFactory()
    tokyo.timezone = "Asia/Tokyo"
    evening = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)  # 21:00 in Tokyo
    assert notifications.digest_due_at(tokyo, evening) == datetime(2025, 3, 3, 23, 0, tzinfo=UTC)
    early = datetime(2025, 3, 3, 22, 30, tzinfo=UTC)  # 07:30 the next morning in Tokyo
    assert notifications.digest_due_at(tokyo, early) == datetime(2025, 3, 3, 23, 0, tzinfo=UTC)
