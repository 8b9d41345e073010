"""Background tasks of messaging (django-tasks; run by ``micromarket worker``)."""

from django_tasks import task

from micromarket.messaging import notifications


@task(queue_name="default")
def notification_emails_deliver(*, user_id: int) -> int:
    """Send the user's notification emails that are due (one email; 0 when nothing is due).

    Enqueued after commit by ``notification_send``. A sending failure is recorded on the rows
    (retried later with a backoff by the periodic job) and re-raised, so the result is FAILED.
    """
    return notifications.notification_emails_deliver(user_id=user_id)
