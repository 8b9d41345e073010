"""``micromarket worker --once``: due periodic jobs and queued background tasks are processed."""

import io

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from micromarket.core.models import PeriodicJob
from micromarket.core.tasks import send_email


@pytest.mark.django_db(transaction=True)
def test_worker_once_sends_queued_email_and_runs_due_jobs(settings, mailoutbox):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    send_email.enqueue(to=["ann@example.test"], subject="Hello", body="Hi Ann")
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    assert mailoutbox == []

    out = io.StringIO()
    call_command("worker", "--once", stdout=out, verbosity=0)

    assert [m.subject for m in mailoutbox] == ["Hello"]
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert PeriodicJob.objects.filter(name="accounts.clear_expired_sessions").exists()
    assert "periodic jobs run" in out.getvalue()
