"""Housekeeping jobs of the shared kernel."""

from datetime import datetime, timedelta

from django_tasks_db.models import DBTaskResult

from micromarket.core.sweeper import periodic

TASK_RESULT_RETENTION = timedelta(days=14)


@periodic("core.prune_task_results", every=timedelta(hours=6))
def prune_task_results(*, now: datetime) -> int:
    """Delete finished background-task results older than the retention period."""
    deleted, _ = DBTaskResult.objects.filter(finished_at__lt=now - TASK_RESULT_RETENTION).delete()
    return deleted
