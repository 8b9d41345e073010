"""Header badges: unread conversations and notifications of the signed-in user.

Each count is a query, run only when a template shows it, and at most once per page.
"""

from micromarket.messaging import notifications, selectors


class _Count:
    """A callable the template calls for the value (so pages without the header pay nothing)."""

    def __init__(self, compute):
        self._compute = compute
        self._value = None

    def __call__(self) -> int:
        if self._value is None:
            self._value = self._compute()
        return self._value


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_unread_conversations": _Count(lambda: selectors.conversations_unread_count(user=user)),
        "nav_unread_notifications": _Count(
            lambda: notifications.notifications_unread_count(user=user)
        ),
    }
