"""Phone verification: a code by SMS (the console provider's outbox), 10 minutes, 5 tries,
3 codes an hour; only a digest of the code is stored."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from micromarket.accounts.tests.factories import UserFactory
from micromarket.core.errors import Conflict, RateLimited, ValidationFailed
from micromarket.payments.tests.test_views import text
from micromarket.trust import sms
from micromarket.trust.models import PhoneVerification
from micromarket.trust.selectors import verification as selectors
from micromarket.trust.services import verification as services

pytestmark = pytest.mark.django_db

NUMBER = "+44 7911 123456"
E164 = "+447911123456"


@pytest.fixture(autouse=True)
def empty_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def sent_code() -> str:
    return re.search(r"\b(\d{6})\b", sms.outbox[-1].body).group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_code_is_texted_and_only_its_digest_is_kept():
    user = UserFactory()
    row = services.phone_start(user=user, phone=NUMBER)
    assert row.phone == E164
    assert len(sms.outbox) == 1
    assert sms.outbox[0].to == E164
    code = sent_code()
    assert code not in row.code_digest
    assert len(row.code_digest) == 64
    assert not selectors.badges(user=user).phone


def test_the_right_code_verifies_the_phone_and_gives_the_badge():
    user = UserFactory()
    services.phone_start(user=user, phone=NUMBER)
    services.phone_confirm(user=user, code=sent_code())
    badges = selectors.badges(user=user)
    assert badges.phone
    assert badges.phone_verified_at is not None
    assert selectors.phone_for(user=user).phone == E164


@pytest.mark.parametrize("number", ["12345", "not a number", "+44 12", "07911 123456", ""])
def test_invalid_numbers_are_refused_and_nothing_is_sent(number):
    user = UserFactory()
    with pytest.raises(ValidationFailed) as exc:
        services.phone_start(user=user, phone=number)
    assert exc.value.field == "phone"
    assert not PhoneVerification.objects.exists()
    assert not sms.outbox


def test_a_wrong_code_is_refused_and_counts_a_try():
    user = UserFactory()
    services.phone_start(user=user, phone=NUMBER)
    with pytest.raises(ValidationFailed) as exc:
        services.phone_confirm(user=user, code=wrong(sent_code()))
    assert exc.value.code == "code_wrong"
    assert "4 tries left" in exc.value.message
    assert PhoneVerification.objects.get().attempts == 1
    assert not selectors.badges(user=user).phone


def test_after_five_wrong_codes_even_the_right_one_is_refused():
    user = UserFactory()
    services.phone_start(user=user, phone=NUMBER)
    code = sent_code()
    for _ in range(5):
        with pytest.raises(ValidationFailed):
            services.phone_confirm(user=user, code=wrong(code))
    with pytest.raises(ValidationFailed) as exc:
        services.phone_confirm(user=user, code=code)
    assert exc.value.code == "too_many_attempts"
    assert not selectors.badges(user=user).phone


def test_a_code_expires_after_ten_minutes():
    user = UserFactory()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        services.phone_start(user=user, phone=NUMBER)
    code = sent_code()
    with (
        time_machine.travel(start + timedelta(minutes=10, seconds=1), tick=False),
        pytest.raises(ValidationFailed) as exc,
    ):
        services.phone_confirm(user=user, code=code)
    assert exc.value.code == "code_expired"
    with time_machine.travel(start + timedelta(minutes=9), tick=False):
        services.phone_confirm(user=user, code=code)
    assert selectors.badges(user=user).phone


def test_three_codes_an_hour_at_most():
    user = UserFactory()
    start = timezone.now()
    for minutes, number in enumerate(["+447911123451", "+447911123452", "+447911123456"]):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            services.phone_start(user=user, phone=number)
    with (
        time_machine.travel(start + timedelta(minutes=30), tick=False),
        pytest.raises(RateLimited) as exc,
    ):
        services.phone_start(user=user, phone=NUMBER)
    assert "31 minutes" in exc.value.message
    assert len(sms.outbox) == 3
    assert PhoneVerification.objects.count() == 3
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        services.phone_start(user=user, phone=NUMBER)
    assert len(sms.outbox) == 4
    # Someone else is not limited by it.
    services.phone_start(user=UserFactory(), phone=NUMBER)


def test_the_verified_number_is_not_texted_again():
    user = UserFactory()
    services.phone_start(user=user, phone=NUMBER)
    services.phone_confirm(user=user, code=sent_code())
    with pytest.raises(Conflict):
        services.phone_start(user=user, phone=E164)


def test_a_code_is_for_its_owner_only():
    alice, bob = UserFactory(), UserFactory()
    services.phone_start(user=alice, phone=NUMBER)
    code = sent_code()
    services.phone_start(user=bob, phone="+447911123999")
    with pytest.raises(ValidationFailed):
        services.phone_confirm(user=bob, code=code)
    assert not selectors.badges(user=bob).phone
    assert PhoneVerification.objects.get(user=alice).attempts == 0


def test_the_settings_page_verifies_a_phone(client):
    user = UserFactory()
    client.force_login(user)
    page = client.get("/settings/verification/")
    assert page.status_code == 200
    assert "Text me a code" in text(page)
    response = client.post("/settings/verification/phone/", {"phone": NUMBER})
    assert response.status_code == 302
    page = client.get("/settings/verification/")
    assert f"We sent a code to {E164}" in text(page)
    bad = client.post("/settings/verification/phone/confirm/", {"code": wrong(sent_code())})
    assert bad.status_code == 400
    assert "That code is not right" in text(bad)
    response = client.post("/settings/verification/phone/confirm/", {"code": sent_code()})
    assert response.status_code == 302
    assert "is verified" in text(client.get("/settings/verification/"))
    assert selectors.badges(user=user).phone


def test_an_invalid_number_on_the_page_is_explained(client):
    client.force_login(UserFactory())
    response = client.post("/settings/verification/phone/", {"phone": "123"})
    assert response.status_code == 400
    assert "valid mobile number" in text(response)


def test_the_api_verifies_a_phone(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        "/api/v1/verification/phone", {"phone": NUMBER}, content_type="application/json"
    )
    assert response.status_code == 202
    assert response.json()["phone"] == E164
    bad = client.post(
        "/api/v1/verification/phone", {"phone": "nonsense"}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "phone_invalid"
    response = client.post(
        "/api/v1/verification/phone/confirm",
        {"code": sent_code()},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["badges"]["phone"]
    assert body["phone"] == E164
    assert client.get(f"/api/v1/users/{user.pk}/badges").json()["phone"] is True


def test_the_api_rate_limit_is_429(client):
    client.force_login(UserFactory())
    for n in range(3):
        client.post(
            "/api/v1/verification/phone",
            {"phone": f"+44791112345{n}"},
            content_type="application/json",
        )
    response = client.post(
        "/api/v1/verification/phone", {"phone": NUMBER}, content_type="application/json"
    )
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
