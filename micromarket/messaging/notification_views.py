"""Notification pages: the center (list, mark read, mark all read), email settings, and the
unsubscribe link of every notification email.

Views parse input, call one service or selector and render. Another user's notification is 404.
The unsubscribe page needs no sign-in: its signed token says whose email and which categories.
GET only asks (mail scanners fetch links); POST — the button, or a mail client's one-click
``List-Unsubscribe=One-Click`` POST (RFC 8058), which carries no CSRF token — turns them off.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from micromarket.core.errors import DomainError, NotFound
from micromarket.core.forms import form_add_domain_error
from micromarket.messaging import notifications
from micromarket.messaging.forms_notifications import NotificationPreferencesForm

PER_PAGE = 20
TEMPLATE = "messaging/notifications/center.html"


def _labelled(items):
    for notification in items:
        category = notifications.CATEGORIES.get(notification.category)
        notification.category_label = category.label if category else notification.category
    return items


def _center_context(request) -> dict:
    page = Paginator(notifications.notifications_for_user(user=request.user), PER_PAGE).get_page(
        request.GET.get("page")
    )
    _labelled(page.object_list)
    return {
        "page": page,
        "unread_count": notifications.notifications_unread_count(user=request.user),
    }


@login_required
def center(request):
    return render(request, TEMPLATE, _center_context(request))


@login_required
@require_POST
def mark_read(request, pk: int):
    """Mark one read; with ``follow`` go where it leads (the "Open" button)."""
    try:
        notification = notifications.notification_mark_read(user=request.user, notification_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from None
    if request.POST.get("follow") and url_has_allowed_host_and_scheme(
        notification.url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(notification.url)
    if request.htmx:
        return render(
            request,
            f"{TEMPLATE}#marked",
            {
                "notification": _labelled([notification])[0],
                "unread_count": notifications.notifications_unread_count(user=request.user),
            },
        )
    return redirect("notifications:center")


@login_required
@require_POST
def mark_all_read(request):
    marked = notifications.notifications_mark_all_read(user=request.user)
    if request.htmx:
        return render(request, f"{TEMPLATE}#list", {**_center_context(request), "oob": True})
    messages.success(
        request,
        f"Marked {marked} notification{'s' if marked != 1 else ''} read."
        if marked
        else "Everything was read already.",
    )
    return redirect("notifications:center")


@login_required
def preferences(request):
    current = notifications.notification_preferences(user=request.user)
    status = 200
    if request.method == "POST":
        form = NotificationPreferencesForm(request.POST, preferences=current)
        if form.is_valid():
            try:
                notifications.preferences_update(user=request.user, modes=form.cleaned_data)
            except DomainError as exc:
                form_add_domain_error(form, exc)
            else:
                messages.success(request, "Your email settings are saved.")
                return redirect("notifications:settings")
        status = 400
    else:
        form = NotificationPreferencesForm(preferences=current)
    return render(request, "messaging/notifications/settings.html", {"form": form}, status=status)


@csrf_exempt  # the one-click POST of mail clients carries no CSRF token (RFC 8058)
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    try:
        if request.method == "POST":
            found = notifications.unsubscribe(token=token)
        else:
            found = notifications.unsubscribe_read(token=token)
    except NotFound as exc:
        return render(
            request,
            "messaging/notifications/unsubscribe_invalid.html",
            {"message": exc.message},
            status=404,
        )
    return render(
        request,
        "messaging/notifications/unsubscribe.html",
        {
            "done": request.method == "POST",
            "categories": found.categories,
            "email": found.user.email,
            "token": token,
        },
    )
