"""SMS providers for phone verification (the verification area; see docs/trust.md).

The provider is chosen by the ``SMS_PROVIDER`` setting (a dotted path to a class with
``send(*, to, body)``). ``ConsoleSMS``, the default, sends nothing: it logs the message and
keeps it in ``outbox`` (like Django's locmem email backend), which is what development and the
tests need. A real gateway is one small class implementing ``SMSProvider``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SMSProvider(Protocol):
    def send(self, *, to: str, body: str) -> None:
        """Send ``body`` to the E.164 number ``to``; raise on failure."""


@dataclass(frozen=True)
class SentSMS:
    to: str
    body: str


# Messages "sent" by ConsoleSMS in this process, oldest first (tests clear it).
outbox: list[SentSMS] = []


class ConsoleSMS:
    """Logs each message and keeps it in ``outbox``; for development and tests."""

    def send(self, *, to: str, body: str) -> None:
        outbox.append(SentSMS(to=to, body=body))
        logger.info("SMS to %s: %s", to, body)


@cache
def _provider_class(path: str) -> type:
    return import_string(path)


def sms_provider() -> SMSProvider:
    """The configured provider (a new instance each call: providers keep no state)."""
    return _provider_class(settings.SMS_PROVIDER)()
