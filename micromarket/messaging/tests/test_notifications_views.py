"""The notification center, email settings and unsubscribe pages, and /api/v1/notifications."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import signing
from django.test import Client

from micromarket.accounts.tests.factories import UserFactory
from micromarket.messaging import notifications
from micromarket.messaging.models import Notification, NotificationPreference
from micromarket.messaging.notifications import notification_send
from micromarket.payments.tests.test_views import text

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
PROBLEM = "application/problem+json"


def notify(user, title: str, *, category: str = "orders", url: str = "/orders/1/", at=None):
    with time_machine.travel(at or T0, tick=False):
        return notification_send(user=user, category=category, title=title, url=url)


def nav_badge(page_text: str) -> str:
    match = re.search(r"Notifications( \d+ unread)? Orders", page_text)
    assert match, "the header has no Notifications link"
    return (match.group(1) or "").strip()


def modes(user) -> dict[str, str]:
    return {c.key: mode for c, mode in notifications.notification_preferences(user=user)}


# The categories later apps (trust) add for everyone, at their defaults: right away.
# The other apps' categories, sent unchanged with every form below.
# The other apps' categories at their defaults (every settings form posts them all).
TRUST = {
    "reviews": "instant",
    "disputes": "instant",
    "projects": "instant",
    "task_matches": "digest",
    "account": "instant",
    "books": "instant",
}


def unsubscribe_path(user, *categories: str) -> str:
    token = notifications.unsubscribe_token(user_id=user.pk, categories=list(categories))
    return f"/notifications/unsubscribe/{token}/"


# --- the notification center ---------------------------------------------------------------------


def test_the_center_lists_newest_first_marks_unread_and_the_header_counts_them(client):
    bob = UserFactory()
    notify(bob, "Order 1 was paid", at=T0)
    read = notify(bob, "Order 2 was delivered", at=T0 + timedelta(hours=1))
    notify(bob, "Order 3 was cancelled", at=T0 + timedelta(hours=2))
    notify(UserFactory(), "Someone else's order", at=T0 + timedelta(hours=3))
    notifications.notification_mark_read(user=bob, notification_id=read.pk)
    client.force_login(bob)

    response = client.get("/notifications/")
    page = text(response)

    titles = re.findall(r"<strong>([^<]+)</strong>", response.text)
    assert titles == ["Order 3 was cancelled", "Order 2 was delivered", "Order 1 was paid"]
    assert "Someone else's order" not in page
    assert "New Order 3 was cancelled" in page
    assert "New Order 2 was delivered" not in page
    assert "New Order 1 was paid" in page
    assert "2 unread" in page
    assert nav_badge(page) == "2 unread"


def test_the_header_has_no_badge_when_everything_is_read_and_none_when_signed_out(client):
    bob = UserFactory()
    client.force_login(bob)
    page = text(client.get("/notifications/"))
    assert nav_badge(page) == ""
    assert "No notifications yet" in page
    client.logout()
    assert "Notifications" not in text(client.get("/"))


def test_open_marks_read_and_follows_the_link(client):
    bob = UserFactory()
    notification = notify(bob, "Order 7 was paid", url="/orders/7/")
    client.force_login(bob)

    response = client.post(f"/notifications/{notification.pk}/read/", {"follow": "1"})

    assert response.status_code == 302
    assert response["Location"] == "/orders/7/"
    assert nav_badge(text(client.get("/notifications/"))) == ""


def test_mark_read_with_htmx_updates_the_item_and_the_badges(client):
    bob = UserFactory()
    first = notify(bob, "Order 1 was paid")
    notify(bob, "Order 2 was paid")
    client.force_login(bob)

    response = client.post(f"/notifications/{first.pk}/read/", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    html = response.text
    assert f'id="notification-{first.pk}"' in html
    assert "Order 1 was paid" in html
    assert "Mark read" not in html
    assert 'class="badge warn">New' not in html
    assert 'id="notifications-summary" hx-swap-oob="true">1 unread' in html
    assert re.search(
        r'id="nav-notifications-count" hx-swap-oob="true">\s*<span class="badge">1<', html
    )


def test_mark_all_read(client):
    bob = UserFactory()
    for n in range(3):
        notify(bob, f"Order {n} was paid")
    client.force_login(bob)

    response = client.post("/notifications/read-all/", follow=True)

    page = text(response)
    assert "Marked 3 notifications read." in page
    assert "Nothing unread" in page
    assert nav_badge(page) == ""


def test_another_users_notification_is_not_found_and_stays_unread(client):
    ann, bob = UserFactory(), UserFactory()
    theirs = notify(ann, "Ann's order was paid")
    client.force_login(bob)

    assert client.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    assert client.post(f"/api/v1/notifications/{theirs.pk}/read").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_pages_need_a_sign_in(client):
    for path in ("/notifications/", "/notifications/settings/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


# --- email settings ------------------------------------------------------------------------------


def test_the_settings_page_shows_each_category_and_saves_a_choice(client):
    bob = UserFactory()
    client.force_login(bob)

    page = client.get("/notifications/settings/")
    assert page.status_code == 200
    content = text(page)
    for label in ("Messages", "Custom offers", "Orders"):
        assert f"{label} " in content
    assert "Operations" not in content  # operators only
    assert re.search(r'name="orders" value="instant"[^>]*checked', page.text)

    response = client.post(
        "/notifications/settings/",
        {"messages": "instant", "offers": "off", "orders": "digest", **TRUST},
        follow=True,
    )

    assert "Your email settings are saved." in text(response)
    assert re.search(r'name="orders" value="digest"[^>]*checked', response.text)
    assert modes(bob) == {"messages": "instant", "offers": "off", "orders": "digest", **TRUST}


def test_the_settings_page_refuses_a_made_up_choice(client):
    bob = UserFactory()
    client.force_login(bob)
    response = client.post(
        "/notifications/settings/",
        {"messages": "hourly", "offers": "off", "orders": "off", **TRUST},
    )
    assert response.status_code == 400
    assert "Please fix the problems below." in text(response)
    assert not NotificationPreference.objects.filter(user=bob).exists()


def test_operators_can_choose_how_operations_are_emailed(client):
    from micromarket.payments.tests.test_views import operator_login

    operator = operator_login(client)
    page = text(client.get("/notifications/settings/"))
    assert "Operations For operators" in page
    client.post(
        "/notifications/settings/",
        {
            "messages": "instant",
            "offers": "instant",
            "orders": "instant",
            **TRUST,
            "operations": "digest",
            "trust_queue": "instant",
            "moderation": "off",
        },
    )
    assert modes(operator)["operations"] == "digest"
    assert modes(operator)["moderation"] == "off"


# --- unsubscribe ---------------------------------------------------------------------------------


def test_opening_the_unsubscribe_link_only_asks(client):
    bob = UserFactory(email="bob@example.test")

    response = client.get(unsubscribe_path(bob, "messages"))

    assert response.status_code == 200
    page = text(response)
    assert "Stop these emails?" in page
    assert "We will stop emailing bob@example.test about messages" in page
    assert not NotificationPreference.objects.filter(user=bob).exists()
    assert modes(bob)["messages"] == "instant"


def test_the_button_turns_off_that_category_only(client):
    bob = UserFactory(email="bob@example.test")
    path = unsubscribe_path(bob, "messages")
    client.get(path)  # the confirmation page sets the CSRF cookie

    response = client.post(path)

    assert response.status_code == 200
    assert "We will no longer email bob@example.test about messages." in text(response)
    assert modes(bob) == {"messages": "off", "offers": "instant", "orders": "instant", **TRUST}


def test_one_click_unsubscribe_from_the_mail_client_needs_no_csrf_token():
    bob = UserFactory()
    mail_client = Client(enforce_csrf_checks=True)

    response = mail_client.post(
        unsubscribe_path(bob, "orders"),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert modes(bob)["orders"] == "off"
    assert modes(bob)["messages"] == "instant"


def test_a_tampered_unsubscribe_link_is_not_found_and_says_why(client):
    bob, eve = UserFactory(), UserFactory()
    bobs = notifications.unsubscribe_token(user_id=bob.pk, categories=["messages"])
    eves = notifications.unsubscribe_token(user_id=eve.pk, categories=["messages"])
    # Eve puts Bob's id into her own link: the signature no longer matches the content.
    forged = bobs.split(":")[0] + ":" + eves.split(":", 1)[1]
    # A link signed with a key that is not the site's.
    foreign = signing.dumps({"u": bob.pk, "c": ["messages"]}, salt="messaging.unsubscribe", key="x")

    for token in (forged, foreign, "abc"):
        path = f"/notifications/unsubscribe/{token}/"
        get = client.get(path)
        post = client.post(path)
        assert get.status_code == post.status_code == 404
        assert "This unsubscribe link is not valid" in text(get)
    assert not NotificationPreference.objects.filter(user__in=[bob, eve]).exists()


# --- API -----------------------------------------------------------------------------------------


def test_api_lists_notifications_newest_first_and_only_unread_on_request(client):
    bob = UserFactory()
    old = notify(bob, "Order 1 was paid", at=T0)
    notify(bob, "Order 2 was paid", at=T0 + timedelta(minutes=5))
    notify(UserFactory(), "Not Bob's", at=T0 + timedelta(minutes=9))
    notifications.notification_mark_read(user=bob, notification_id=old.pk)
    client.force_login(bob)

    everything = client.get("/api/v1/notifications").json()
    unread = client.get("/api/v1/notifications?unread=true").json()

    assert everything["count"] == 2
    assert [n["title"] for n in everything["items"]] == ["Order 2 was paid", "Order 1 was paid"]
    assert [n["unread"] for n in everything["items"]] == [True, False]
    assert everything["items"][0]["url"] == "/orders/1/"
    assert [n["title"] for n in unread["items"]] == ["Order 2 was paid"]


def test_api_marks_one_and_all_read(client):
    bob = UserFactory()
    first = notify(bob, "Order 1 was paid")
    notify(bob, "Order 2 was paid")
    notify(bob, "Order 3 was paid")
    client.force_login(bob)

    one = client.post(f"/api/v1/notifications/{first.pk}/read")
    assert one.status_code == 200
    assert one.json()["unread"] is False
    assert one.json()["read_at"]

    rest = client.post("/api/v1/notifications/read-all")
    assert rest.json() == {"marked": 2}
    assert client.get("/api/v1/notifications?unread=true").json()["count"] == 0


def test_api_not_found_for_another_users_notification_is_a_problem(client):
    theirs = notify(UserFactory(), "Not yours")
    client.force_login(UserFactory())
    response = client.post(f"/api/v1/notifications/{theirs.pk}/read")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "notification_not_found"


def test_api_reads_and_updates_preferences(client):
    bob = UserFactory()
    client.force_login(bob)

    before = client.get("/api/v1/notifications/preferences").json()
    assert {p["category"]: p["email"] for p in before} == {
        "messages": "instant",
        "offers": "instant",
        "orders": "instant",
        **TRUST,
    }

    response = client.put(
        "/api/v1/notifications/preferences",
        json.dumps({"messages": "digest", "orders": "off"}),
        content_type="application/json",
    )

    assert response.status_code == 200
    assert {p["category"]: p["email"] for p in response.json()} == {
        "messages": "digest",
        "offers": "instant",
        "orders": "off",
        **TRUST,
    }
    assert modes(bob) == {"messages": "digest", "offers": "instant", "orders": "off", **TRUST}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"orders": "hourly"}, "orders"),
        ({"weather": "off"}, "weather"),
        ({"operations": "off"}, "operations"),
    ],
)
def test_api_refuses_unknown_categories_and_modes(client, body, field):
    bob = UserFactory()
    client.force_login(bob)
    response = client.put(
        "/api/v1/notifications/preferences", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert field in json.dumps(response.json()["errors"])
    assert not NotificationPreference.objects.filter(user=bob).exists()


def test_api_needs_authentication(client):
    response = client.get("/api/v1/notifications")
    assert response.status_code == 401
    assert not Notification.objects.exists()
