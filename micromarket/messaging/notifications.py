"""Notifications: one service every app uses to tell a user about an event.

``notification_send`` always records an in-app notification (the center, with an unread badge in
the header) and, per the user's preference for the category, queues an email:

- **instant**: ``email_due_at = now + the category's window`` (messages wait 2 minutes so a
  conversation in full swing makes one email, and nothing at all if it is read in the app first);
- **digest**: collected into one email a day (``notification_digests_send``);
- **off**: no email.

The email is rendered when the event happens (the calling app's template, or
``messaging/email/notification``) and sent after commit by the task
``messaging.tasks.notification_emails_deliver`` — deferred to ``email_due_at`` when the task
backend can defer, else at once (it only sends what is due) — and by the periodic job in
``messaging/jobs.py``, which also retries failures and catches anything a lost task left behind.

Delivery claims a user's due rows with a conditional UPDATE (pending → sending, with a lease in
``email_due_at``), skips rows read in the app meanwhile, and sends ONE email: the notification's
own when there is one, else a combined "N updates" email. A failed send puts the rows back to
pending with a backoff (1, 5, 30 minutes, 2 and 12 hours) and gives up after those five retries.

Every email carries ``List-Unsubscribe`` (RFC 2369) with a signed one-click link
(``List-Unsubscribe-Post``, RFC 8058) that turns the email off for its categories.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone

from micromarket.core.emails import email_render
from micromarket.core.errors import NotFound, ValidationFailed
from micromarket.core.tasks import send_email
from micromarket.messaging.models import DigestState, Notification, NotificationPreference

logger = logging.getLogger(__name__)

INSTANT = NotificationPreference.Email.INSTANT
DIGEST = NotificationPreference.Email.DIGEST
OFF = NotificationPreference.Email.OFF
MODES = tuple(NotificationPreference.Email.values)


@dataclass(frozen=True)
class Category:
    """A kind of notification a user can choose how to receive by email."""

    key: str
    label: str
    description: str
    default: str  # INSTANT, DIGEST or OFF
    window: timedelta = timedelta(0)  # instant emails wait this long to batch repeated events
    operators_only: bool = False


def _categories(*categories: Category) -> dict[str, Category]:
    return {category.key: category for category in categories}


# Later issues add their categories here.
CATEGORIES: dict[str, Category] = _categories(
    Category(
        "messages",
        "Messages",
        "New messages in your conversations.",
        INSTANT,
        window=timedelta(minutes=2),
    ),
    Category(
        "offers",
        "Custom offers",
        "Custom offers sellers send you, and answers to the offers you sent.",
        INSTANT,
    ),
    Category(
        "orders",
        "Orders",
        "Changes to your orders and sales: payments, deliveries, cancellations.",
        INSTANT,
    ),
    Category(
        "reviews",
        "Reviews",
        "Reminders to review a completed order, reviews of you once they are published, replies.",
        INSTANT,
    ),
    Category(
        "disputes",
        "Disputes",
        "Disputes on your orders: openings, answers, proposals and decisions.",
        INSTANT,
    ),
    Category(
        "projects",
        "Projects",
        "Proposals and claims on your projects' tasks; awards and answers to your proposals.",
        INSTANT,
        window=timedelta(minutes=5),  # a queue's claims come in bursts: one email for them
    ),
    Category(
        "task_matches",
        "Matching tasks",
        "New project tasks that need the skills on your profile.",
        DIGEST,
    ),
    Category(
        "account",
        "Account and trust",
        "Your seller level, verification results, and notices from the marketplace's moderators.",
        INSTANT,
    ),
    Category(
        "books",
        "Business and taxes",
        "Reminders before your estimated tax due dates, and invoices paid, viewed or overdue.",
        INSTANT,
    ),
    Category(
        "operations",
        "Operations",
        "For operators: reconciliation differences between our records and the provider's.",
        INSTANT,
        operators_only=True,
    ),
    Category(
        "trust_queue",
        "Trust queues",
        "For operators: disputes waiting for a decision, verification requests and level appeals.",
        INSTANT,
        window=timedelta(minutes=10),
        operators_only=True,
    ),
    Category(
        "moderation",
        "Moderation",
        "For operators: reports from users and messages flagged for review.",
        INSTANT,
        window=timedelta(minutes=10),  # flagged messages come in bursts: one email for them
        operators_only=True,
    ),
)

# After a failed send, the next attempt waits this long; after the last one the email fails.
EMAIL_BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
# A claimed row ("sending") that is still claimed this long after is taken to be lost (the
# process died mid-send) and goes back to pending.
SENDING_LEASE = timedelta(minutes=15)
DIGEST_HOUR = 8  # daily digests go out at 08:00 in each person's own time zone
DIGEST_MIN_GAP = timedelta(hours=12)  # never two digests closer than this (clock changes, retries)
MAX_EMAIL_ITEMS = 50  # one email lists at most this many; the rest follow in the next one
UNSUBSCRIBE_SALT = "messaging.unsubscribe"

_TITLE_MAX = Notification._meta.get_field("title").max_length
_BODY_MAX = Notification._meta.get_field("body").max_length
_URL_MAX = Notification._meta.get_field("url").max_length
_GROUP_MAX = Notification._meta.get_field("group_key").max_length


# --- categories and preferences --------------------------------------------------------------


def category_get(key: str) -> Category:
    """The registered category; an unknown key is a programming error (ValueError)."""
    try:
        return CATEGORIES[key]
    except KeyError:
        raise ValueError(f"Unknown notification category {key!r}; add it to CATEGORIES") from None


def categories_for_user(*, user) -> list[Category]:
    """The categories this user can receive (operators' ones only for operators)."""
    return [c for c in CATEGORIES.values() if not c.operators_only or user.is_staff]


def notification_preferences(*, user) -> list[tuple[Category, str]]:
    """Each category the user can receive, with their email mode (the default if never set)."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("category", "email"))
    return [(c, chosen.get(c.key, c.default)) for c in categories_for_user(user=user)]


def _mode(user, category: Category) -> str:
    chosen = (
        NotificationPreference.objects.filter(user=user, category=category.key)
        .values_list("email", flat=True)
        .first()
    )
    return chosen or category.default


def preferences_update(*, user, modes: dict[str, str], now: datetime | None = None) -> dict:
    """Set the email mode of some categories ({category: "instant" | "digest" | "off"}).

    Emails already waiting follow the new choice: off cancels them, digest moves them to the
    next digest, instant sends what was waiting for the digest now.
    """
    now = now or timezone.now()
    visible = {c.key for c in categories_for_user(user=user)}
    for key, mode in modes.items():
        if key not in visible:
            raise ValidationFailed(
                f"There is no notification category {key!r}.", field=key, code="unknown_category"
            )
        if mode not in MODES:
            raise ValidationFailed(
                "Choose instant, digest or off.", field=key, code="invalid_email_mode"
            )
    to_deliver = False
    with transaction.atomic():
        for key, mode in modes.items():
            NotificationPreference.objects.update_or_create(
                user=user, category=key, defaults={"email": mode, "updated_at": now}
            )
            pending = Notification.objects.filter(
                user=user, category=key, email_state=Notification.Email.PENDING
            )
            if mode == OFF:
                pending.update(email_state=Notification.Email.NONE, email_due_at=None)
            elif mode == DIGEST:
                pending.filter(email_digest=False).update(
                    email_digest=True, email_due_at=digest_due_at(user, now)
                )
            elif pending.filter(email_digest=True).update(email_digest=False, email_due_at=now):
                to_deliver = True
    if to_deliver:
        transaction.on_commit(lambda: _enqueue_delivery(user_id=user.pk, due=now))
    return {c.key: mode for c, mode in notification_preferences(user=user)}


# --- unsubscribe links -------------------------------------------------------------------------


def unsubscribe_token(*, user_id: int, categories: list[str]) -> str:
    """A signed, non-expiring token that turns email off for these categories of this user."""
    return signing.dumps({"u": user_id, "c": sorted(categories)}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(*, user_id: int, categories: list[str]) -> str:
    token = unsubscribe_token(user_id=user_id, categories=categories)
    return settings.SITE_URL + reverse("notifications:unsubscribe", args=[token])


def preferences_url() -> str:
    return settings.SITE_URL + reverse("notifications:settings")


@dataclass(frozen=True)
class Unsubscribe:
    """What an unsubscribe link is about: whose email, which categories."""

    user: object
    categories: list[Category]


_INVALID_LINK = (
    "This unsubscribe link is not valid — it may have been cut short when it was copied. "
    "You can choose what we email you in your notification settings."
)


def unsubscribe_read(*, token: str) -> Unsubscribe:
    """Check an unsubscribe token without changing anything (the confirmation page)."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        user_id, keys = int(data["u"]), list(data["c"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise NotFound(_INVALID_LINK, code="unsubscribe_invalid") from None
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not keys or any(k not in CATEGORIES for k in keys):
        raise NotFound(_INVALID_LINK, code="unsubscribe_invalid")
    return Unsubscribe(user=user, categories=[CATEGORIES[k] for k in keys])


def unsubscribe(*, token: str, now: datetime | None = None) -> Unsubscribe:
    """Turn email off for the token's categories (the confirm button and one-click POST)."""
    found = unsubscribe_read(token=token)
    # An operators' category of someone who is no longer an operator is off already.
    visible = {c.key for c in categories_for_user(user=found.user)}
    modes = {c.key: OFF for c in found.categories if c.key in visible}
    if modes:
        preferences_update(user=found.user, modes=modes, now=now)
    return found


# --- sending -----------------------------------------------------------------------------------


def notification_send(
    *,
    user,
    category: str,
    title: str,
    body: str = "",
    url: str = "",
    email_template: str | None = None,
    context: dict | None = None,
    group_key: str = "",
    now: datetime | None = None,
) -> Notification | None:
    """Tell ``user`` about an event: in the notification center, and by email per their choice.

    ``url`` is where the notification leads (a path on this site). ``email_template`` names
    ``<template>.subject.txt``, ``.txt`` and optionally ``.html``, rendered now with
    ``context`` plus ``notification``, ``recipient``, ``category``, ``notification_url``,
    ``unsubscribe_url`` and ``preferences_url`` (default: ``messaging/email/notification``).
    Events with the same ``group_key`` fold into the user's unread notification whose email
    has not gone out yet (its ``count`` goes up) instead of making a new one.

    Returns None, and records nothing, for a closed or deactivated account, and for an
    operators' category sent to someone who is not an operator.
    """
    cat = category_get(category)
    if not user.is_active or getattr(user, "deleted_at", None) is not None:
        return None
    if cat.operators_only and not user.is_staff:
        return None
    now = now or timezone.now()
    fields = {
        "title": title[:_TITLE_MAX],
        "body": body[:_BODY_MAX],
        "url": url[:_URL_MAX],
        "updated_at": now,
    }
    group_key = group_key[:_GROUP_MAX]
    with transaction.atomic():
        existing = None
        if group_key:
            existing = (
                Notification.objects.select_for_update()
                .filter(
                    user=user,
                    category=cat.key,
                    group_key=group_key,
                    read_at__isnull=True,
                    email_state__in=[Notification.Email.NONE, Notification.Email.PENDING],
                )
                .order_by("-id")
                .first()
            )
        notification = existing or Notification(
            user=user, category=cat.key, group_key=group_key, created_at=now
        )
        for name, value in fields.items():
            setattr(notification, name, value)
        if existing is not None:
            notification.count = existing.count + 1  # for the email; the row uses F() below
        mode = _mode(user, cat)
        newly_pending = False
        if mode != OFF and user.email:
            if notification.email_state != Notification.Email.PENDING:
                newly_pending = True
                fields.update(
                    email_state=Notification.Email.PENDING,
                    email_digest=mode == DIGEST,
                    email_due_at=digest_due_at(user, now) if mode == DIGEST else now + cat.window,
                    email_attempts=0,
                )
                for name in ("email_state", "email_digest", "email_due_at", "email_attempts"):
                    setattr(notification, name, fields[name])
            subject, text, html = email_render(
                email_template or "messaging/email/notification",
                {
                    **(context or {}),
                    "notification": notification,
                    "recipient": user,
                    "category": cat,
                    "notification_url": absolute_url(notification.url),
                    "unsubscribe_url": unsubscribe_url(user_id=user.pk, categories=[cat.key]),
                    "preferences_url": preferences_url(),
                },
            )
            fields.update(email_subject=subject, email_text=text, email_html=html or "")
            notification.email_subject = subject
            notification.email_text = text
            notification.email_html = html or ""
        if existing is not None:
            Notification.objects.filter(pk=existing.pk).update(count=F("count") + 1, **fields)
        else:
            notification.save()
    if newly_pending and not notification.email_digest:
        due = notification.email_due_at
        transaction.on_commit(lambda: _enqueue_delivery(user_id=user.pk, due=due))
    return notification


def notify_operators(
    *,
    category: str,
    title: str,
    body: str = "",
    url: str = "",
    email_template: str | None = None,
    context: dict | None = None,
    group_key: str = "",
) -> list[Notification]:
    """``notification_send`` to every active operator (e.g. reconciliation differences)."""
    category_get(category)
    operators = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("pk")
    sent = []
    for operator in operators:
        notification = notification_send(
            user=operator,
            category=category,
            title=title,
            body=body,
            url=url,
            email_template=email_template,
            context=context,
            group_key=group_key,
        )
        if notification is not None:
            sent.append(notification)
    return sent


def absolute_url(url: str) -> str:
    """A link for an email: paths on this site get the site's address in front."""
    return settings.SITE_URL + url if url.startswith("/") else url


def _enqueue_delivery(*, user_id: int, due: datetime | None) -> None:
    from micromarket.messaging import tasks

    task = tasks.notification_emails_deliver
    if due is not None and due > timezone.now() and task.get_backend().supports_defer:
        task = task.using(run_after=due)
    task.enqueue(user_id=user_id)


# --- the notification center -------------------------------------------------------------------


def notifications_for_user(*, user, unread: bool = False) -> QuerySet[Notification]:
    """The user's notifications, the most recently updated first."""
    queryset = Notification.objects.filter(user=user)
    if unread:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset.order_by("-updated_at", "-id")


def notifications_unread_count(*, user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_get(*, user, notification_id) -> Notification:
    """One of the user's notifications; anyone else's is NotFound."""
    notification = Notification.objects.filter(pk=notification_id, user=user).first()
    if notification is None:
        raise NotFound("There is no such notification.", code="notification_not_found")
    return notification


def _mark_read(queryset: QuerySet[Notification], now: datetime) -> int:
    """Read now; an email still waiting is not sent any more (the user has seen it)."""
    unread = queryset.filter(read_at__isnull=True)
    with transaction.atomic():
        ids = list(unread.values_list("pk", flat=True))
        marked = Notification.objects.filter(pk__in=ids, read_at__isnull=True).update(read_at=now)
        Notification.objects.filter(pk__in=ids, email_state=Notification.Email.PENDING).update(
            email_state=Notification.Email.SKIPPED, email_due_at=None
        )
    return marked


def notification_mark_read(*, user, notification_id, now: datetime | None = None) -> Notification:
    notification = notification_get(user=user, notification_id=notification_id)
    _mark_read(Notification.objects.filter(pk=notification.pk), now or timezone.now())
    notification.refresh_from_db()
    return notification


def notifications_mark_all_read(*, user, now: datetime | None = None) -> int:
    """Mark every unread notification of the user read; returns how many."""
    return _mark_read(Notification.objects.filter(user=user), now or timezone.now())


def notifications_mark_group_read(*, user, group_key: str, now: datetime | None = None) -> int:
    """The user saw what these notifications are about (e.g. opened the conversation)."""
    if not group_key:
        return 0
    return _mark_read(
        Notification.objects.filter(user=user, group_key=group_key), now or timezone.now()
    )


# --- email delivery ---------------------------------------------------------------------------


def _skip_read(user_id: int) -> None:
    Notification.objects.filter(
        user_id=user_id, email_state=Notification.Email.PENDING, read_at__isnull=False
    ).update(email_state=Notification.Email.SKIPPED, email_due_at=None)


def _claim(queryset: QuerySet[Notification], now: datetime) -> list[Notification]:
    """Take due pending rows for this sender, one conditional UPDATE each (pending → sending).

    Another worker that looked at the same rows gets none of the ones claimed here. The lease
    (``email_due_at``) lets the periodic job put back rows whose sender died mid-send.
    """
    ids = list(queryset.order_by("email_due_at", "pk").values_list("pk", flat=True))
    claimed = [
        pk
        for pk in ids[:MAX_EMAIL_ITEMS]
        if Notification.objects.filter(
            pk=pk, email_state=Notification.Email.PENDING, read_at__isnull=True
        ).update(email_state=Notification.Email.SENDING, email_due_at=now + SENDING_LEASE)
    ]
    return list(Notification.objects.filter(pk__in=claimed).order_by("created_at", "pk"))


def notification_emails_deliver(*, user_id: int, now: datetime | None = None) -> int:
    """Send the user's due instant emails as one email; returns 1 if one went out, else 0.

    Raises the sending error after putting the rows back for a later attempt.
    """
    now = now or timezone.now()
    _skip_read(user_id)
    rows = _claim(
        Notification.objects.filter(
            user_id=user_id,
            email_state=Notification.Email.PENDING,
            email_digest=False,
            email_due_at__lte=now,
        ),
        now,
    )
    return _deliver(user_id, rows, now=now, daily=False)


def digest_due_at(user, now: datetime) -> datetime:
    """The next ``DIGEST_HOUR`` o'clock in the user's time zone after ``now``."""
    try:
        zone = ZoneInfo(getattr(user, "timezone", "") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    due = local.replace(hour=DIGEST_HOUR, minute=0, second=0, microsecond=0)
    if due <= local:
        due = (local + timedelta(days=1)).replace(
            hour=DIGEST_HOUR, minute=0, second=0, microsecond=0
        )
    return due.astimezone(UTC)


def notification_digest_send(*, user_id: int, now: datetime | None = None) -> int:
    """Send the user's daily digest if one is due and something waits for it (1 if sent)."""
    now = now or timezone.now()
    if DigestState.objects.filter(user_id=user_id, last_sent_at__gt=now - DIGEST_MIN_GAP).exists():
        return 0
    _skip_read(user_id)
    rows = _claim(
        Notification.objects.filter(
            user_id=user_id,
            email_state=Notification.Email.PENDING,
            email_digest=True,
            email_due_at__lte=now,
        ),
        now,
    )
    return _deliver(user_id, rows, now=now, daily=True)


def _deliver(user_id: int, rows: list[Notification], *, now: datetime, daily: bool) -> int:
    if not rows:
        return 0
    ids = [row.pk for row in rows]
    claimed = Notification.objects.filter(pk__in=ids, email_state=Notification.Email.SENDING)
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not user.is_active or not user.email:
        claimed.update(email_state=Notification.Email.NONE, email_due_at=None)
        return 0
    keys = sorted({row.category for row in rows})
    unsubscribe = unsubscribe_url(user_id=user_id, categories=keys)
    if len(rows) == 1 and not daily and rows[0].email_subject:
        row = rows[0]
        subject, text, html = row.email_subject, row.email_text, row.email_html or None
    else:
        subject, text, html = email_render(
            "messaging/email/digest",
            {
                "recipient": user,
                "daily": daily,
                "notifications": [
                    {"notification": row, "url": absolute_url(row.url)} for row in rows
                ],
                "categories": [
                    {
                        "category": CATEGORIES[key],
                        "unsubscribe_url": unsubscribe_url(user_id=user_id, categories=[key]),
                    }
                    for key in keys
                    if key in CATEGORIES
                ],
                "unsubscribe_url": unsubscribe,
                "preferences_url": preferences_url(),
            },
        )
    headers = {
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    try:
        send_email.call(to=[user.email], subject=subject, body=text, html=html, headers=headers)
    except Exception:
        for row in rows:
            failures = row.email_attempts + 1
            if failures > len(EMAIL_BACKOFF):
                change = {"email_state": Notification.Email.FAILED, "email_due_at": None}
            else:
                change = {
                    "email_state": Notification.Email.PENDING,
                    "email_due_at": now + EMAIL_BACKOFF[failures - 1],
                }
            claimed.filter(pk=row.pk).update(email_attempts=F("email_attempts") + 1, **change)
        raise
    with transaction.atomic():
        claimed.update(
            email_state=Notification.Email.SENT,
            emailed_at=now,
            email_due_at=None,
            email_attempts=F("email_attempts") + 1,
        )
        if daily:
            DigestState.objects.update_or_create(user_id=user_id, defaults={"last_sent_at": now})
    return 1


def _release_lost_claims(now: datetime) -> int:
    """Rows a sender claimed and never finished (its process died) are pending again."""
    return Notification.objects.filter(
        email_state=Notification.Email.SENDING, email_due_at__lte=now
    ).update(email_state=Notification.Email.PENDING)


def notification_emails_deliver_due(*, now: datetime | None = None) -> int:
    """For the periodic job: every user's due instant emails (retries, windows, lost tasks)."""
    now = now or timezone.now()
    _release_lost_claims(now)
    user_ids = (
        Notification.objects.filter(
            email_state=Notification.Email.PENDING, email_digest=False, email_due_at__lte=now
        )
        .order_by()
        .values_list("user_id", flat=True)
        .distinct()
    )
    return _for_each_user(list(user_ids), notification_emails_deliver, now=now)


def notification_digests_send(*, now: datetime | None = None) -> int:
    """For the periodic job: daily digests of users whose last one is 24 hours old (or never)."""
    now = now or timezone.now()
    recent = DigestState.objects.filter(
        user_id=OuterRef("user_id"), last_sent_at__gt=now - DIGEST_MIN_GAP
    )
    user_ids = (
        Notification.objects.filter(
            email_state=Notification.Email.PENDING, email_digest=True, email_due_at__lte=now
        )
        .exclude(Exists(recent))
        .order_by()
        .values_list("user_id", flat=True)
        .distinct()
    )
    return _for_each_user(list(user_ids), notification_digest_send, now=now)


def _for_each_user(user_ids: list[int], deliver, *, now: datetime) -> int:
    sent = 0
    for user_id in user_ids:
        try:
            sent += deliver(user_id=user_id, now=now)
        except Exception:
            # Recorded on the rows (attempts, next try); the other users still get theirs.
            logger.warning("notification email to user %s failed", user_id, exc_info=True)
    return sent
