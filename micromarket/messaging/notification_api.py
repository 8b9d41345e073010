"""/api/v1/notifications: the caller's notifications (mark read) and email preferences.

Another user's notification id is 404, never 403, so ids do not leak.
"""

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Body, Query, Router, Schema
from ninja.pagination import paginate

from micromarket.core.api import PROBLEM_RESPONSES, LimitOffsetPage
from micromarket.messaging import notifications

router = Router(tags=["notifications"])

EmailMode = Literal["instant", "digest", "off"]


class NotificationOut(Schema):
    id: int
    category: str
    title: str
    body: str
    url: str
    count: int
    created_at: datetime
    updated_at: datetime
    read_at: datetime | None
    unread: bool


class NotificationsQuery(Schema):
    unread: bool = False


class MarkedOut(Schema):
    marked: int


class PreferenceOut(Schema):
    category: str
    label: str
    description: str
    email: EmailMode
    default: EmailMode


def _notification(n) -> dict:
    return {
        "id": n.pk,
        "category": n.category,
        "title": n.title,
        "body": n.body,
        "url": n.url,
        "count": n.count,
        "created_at": n.created_at,
        "updated_at": n.updated_at,
        "read_at": n.read_at,
        "unread": n.read_at is None,
    }


class _Page:
    """A queryset the paginator counts and slices, serialised per page."""

    def __init__(self, queryset):
        self.queryset = queryset

    def __len__(self) -> int:
        return self.queryset.count()

    def __getitem__(self, window: slice) -> list[dict]:
        return [_notification(n) for n in self.queryset[window]]


def _preferences(user) -> list[dict]:
    return [
        {
            "category": c.key,
            "label": c.label,
            "description": c.description,
            "email": mode,
            "default": c.default,
        }
        for c, mode in notifications.notification_preferences(user=user)
    ]


@router.get(
    "/notifications",
    response=list[NotificationOut],
    summary="Your notifications, the most recently updated first",
    description="`unread=true` lists only the unread ones.",
)
@paginate(LimitOffsetPage)
def notifications_list(request: HttpRequest, filters: Query[NotificationsQuery]):
    return _Page(notifications.notifications_for_user(user=request.auth, unread=filters.unread))


@router.post(
    "/notifications/read-all",
    response={200: MarkedOut, **PROBLEM_RESPONSES},
    summary="Mark all your notifications read",
)
def notifications_read_all(request: HttpRequest):
    return {"marked": notifications.notifications_mark_all_read(user=request.auth)}


@router.post(
    "/notifications/{notification_id}/read",
    response={200: NotificationOut, **PROBLEM_RESPONSES},
    summary="Mark one notification read (an email still waiting for it is not sent)",
)
def notification_read(request: HttpRequest, notification_id: int):
    return _notification(
        notifications.notification_mark_read(user=request.auth, notification_id=notification_id)
    )


@router.get(
    "/notifications/preferences",
    response=list[PreferenceOut],
    summary="How each category of notifications is emailed to you",
)
def preferences_get(request: HttpRequest):
    return _preferences(request.auth)


@router.put(
    "/notifications/preferences",
    response={200: list[PreferenceOut], **PROBLEM_RESPONSES},
    summary="Choose how categories are emailed: {category: instant | digest | off}",
    description=(
        "Categories left out keep their setting. `instant` emails right away (messages wait "
        "2 minutes to batch), `digest` once a day, `off` never; the notification center "
        "always shows everything. Emails already waiting follow the new choice."
    ),
)
def preferences_put(request: HttpRequest, payload: Body[dict[str, EmailMode]]):
    notifications.preferences_update(user=request.auth, modes=payload)
    return _preferences(request.auth)
