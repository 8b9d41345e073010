"""``micromarket demo`` builds a small marketplace once and prints the logins every time."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from micromarket.accounts import selectors


@pytest.mark.django_db
def test_demo_builds_sellers_buyers_and_an_operator_idempotently():
    out = io.StringIO()
    call_command("demo", "--allow-production", stdout=out)
    User = get_user_model()
    first_count = User.objects.count()
    assert first_count == 10
    assert selectors.marketplace_figures()["sellers"] == 6
    operator = User.objects.get(email="ops@demo.micromarket.test")
    assert operator.is_staff
    assert selectors.user_has_two_factor(user=operator)
    assert "operator: ops@demo.micromarket.test" in out.getvalue()

    again = io.StringIO()
    call_command("demo", "--allow-production", "--if-empty", stdout=again)
    call_command("demo", "--allow-production", stdout=io.StringIO())
    assert User.objects.count() == first_count
    assert "Demo logins" in again.getvalue()
    assert "already present" in again.getvalue()


@pytest.mark.django_db
def test_demo_refuses_to_run_with_debug_off_unless_asked(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="published passwords"):
        call_command("demo", stdout=io.StringIO())
