"""PostgreSQL: the same seller sending details many times at once gets one pending submission;
many phone codes asked at once respect the hourly limit."""

from __future__ import annotations

import pytest

from micromarket.accounts.tests.factories import UserFactory
from micromarket.catalog.tests.factories import seller
from micromarket.core.errors import Conflict, RateLimited
from micromarket.core.tests.concurrency import race
from micromarket.trust import sms
from micromarket.trust.models import PhoneVerification, TraderVerification
from micromarket.trust.tests.factories_verification import payout_method_of, submit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_one_pending_submission_when_sent_ten_times_at_once():
    user = seller()
    method = payout_method_of(user)
    outcomes = race(10, lambda i: submit(user, method))
    assert TraderVerification.objects.filter(user=user, status="pending").count() == 1
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 9
    assert all(isinstance(o, Conflict) for o in refused)


def test_three_codes_an_hour_even_when_asked_at_once():
    from micromarket.trust.services import verification as services

    user = UserFactory()
    sms.outbox.clear()
    outcomes = race(8, lambda i: services.phone_start(user=user, phone=f"+44791112345{i}"))
    assert PhoneVerification.objects.filter(user=user).count() == 3
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 5
    assert all(isinstance(o, RateLimited) for o in refused)
