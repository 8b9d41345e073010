"""Fixtures for projects tests: a frozen clock, after-commit work run inline, and small readers
of what users notice (notifications, balances, escrows). Builders are in ``factories``.

Nothing here is autouse: a module opts in, e.g.
``pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "after_commit_inline")]``.
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime

import pytest

T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)  # a Monday morning; tests using ``clock`` start here


@pytest.fixture
def clock(time_machine):
    """Time stands still at T0 until a test moves it (``clock.move_to(...)``, ``clock.shift``)."""
    time_machine.move_to(T0, tick=False)
    return time_machine


@pytest.fixture
def after_commit_inline(django_capture_on_commit_callbacks, monkeypatch):
    """After-commit work (notifications, announcements, provider refunds) runs when each
    service returns, as the worker would run it moments later. Services calling each other run
    the callbacks once, when the outermost returns."""
    from micromarket.orders import services as order_services
    from micromarket.projects import services as project_services
    from micromarket.trust.services import disputes as dispute_services

    depth = [0]

    def wrap(func):
        def run(*args, **kwargs):
            if depth[0]:
                return func(*args, **kwargs)
            depth[0] += 1
            try:
                with django_capture_on_commit_callbacks(execute=True):
                    return func(*args, **kwargs)
            finally:
                depth[0] -= 1

        return run

    for module in (project_services, order_services, dispute_services):
        for name, func in list(vars(module).items()):
            if (
                not name.startswith("_")
                and inspect.isfunction(func)
                and func.__module__ == module.__name__
            ):
                monkeypatch.setattr(module, name, wrap(func))


def notifications(user, category: str | None = None) -> list[str]:
    """The titles in ``user``'s notification center (newest first), of ``category`` if given."""
    from micromarket.messaging.models import Notification

    qs = Notification.objects.filter(user=user)
    if category:
        qs = qs.filter(category=category)
    return list(qs.order_by("-id").values_list("title", flat=True))


def pending_balance(user, currency: str = "USD") -> int:
    """The seller's earnings waiting for clearing, read from the ledger."""
    from micromarket.ledger import selectors as ledger_selectors

    return ledger_selectors.user_balances(user).get(currency, {}).get("pending", 0)


def books_balance() -> bool:
    from micromarket.ledger import selectors as ledger_selectors

    return ledger_selectors.ledger_verify() == []
