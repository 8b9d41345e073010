"""Background tasks of the shared kernel (django-tasks; run by ``micromarket worker``)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django_tasks import task


@task(queue_name="default")
def send_email(
    *,
    to: list[str],
    subject: str,
    body: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
) -> int:
    """Send one already-rendered message. Raises on SMTP failure so the result shows FAILED.

    ``headers``: extra header lines, e.g. ``List-Unsubscribe`` for notification emails.
    """
    message = EmailMultiAlternatives(
        subject, body, settings.DEFAULT_FROM_EMAIL, to, headers=headers or None
    )
    if html:
        message.attach_alternative(html, "text/html")
    return message.send()
