"""Housekeeping jobs of the shared kernel."""

from datetime import datetime, timedelta

from django.conf import settings
from django_tasks_db.models import DBTaskResult

from micromarket.core.sweeper import periodic

TASK_RESULT_RETENTION = timedelta(days=14)


@periodic("core.prune_task_results", every=timedelta(hours=6))
def prune_task_results(*, now: datetime) -> int:
    """Delete finished background-task results older than the retention period."""
    deleted, _ = DBTaskResult.objects.filter(finished_at__lt=now - TASK_RESULT_RETENTION).delete()
    return deleted


@periodic("core.purge_idempotency_keys", every=timedelta(hours=1))
def purge_idempotency_keys(*, now: datetime) -> int:
    """Forget API idempotency keys after IDEMPOTENCY_KEY_HOURS (never sooner than 24 hours)."""
    from micromarket.core.models import IdempotencyRecord

    hours = max(24, settings.IDEMPOTENCY_KEY_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(
        created_at__lt=now - timedelta(hours=hours)
    ).delete()
    return deleted
