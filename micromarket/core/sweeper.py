"""The deadline sweeper: periodic jobs that apps register, run by ``micromarket worker``.

An app registers a job in its ``jobs.py``::

    from micromarket.core.sweeper import periodic

    @periodic("orders.auto_complete", every=timedelta(minutes=1))
    def auto_complete_orders(*, now: datetime) -> int:
        ...  # find due rows, apply each with a lock or conditional UPDATE; return how many

Guarantees: a job runs at most once per period across all workers (claimed with a conditional
UPDATE of ``PeriodicJob.next_run_at``); a failing job is logged and retried next period without
stopping the others. A job handles its own items idempotently (lock or conditional UPDATE per
item), because a crash between claiming and finishing means the next period picks them up again.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from micromarket.core.discovery import app_modules

logger = logging.getLogger(__name__)

JobFunc = Callable[..., int]


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    func: JobFunc


_registry: dict[str, Job] = {}


def periodic(name: str, *, every: timedelta) -> Callable[[JobFunc], JobFunc]:
    """Register ``func(*, now) -> int`` to run every ``every``."""
    if every <= timedelta(0):
        raise ValueError("every must be positive")

    def decorator(func: JobFunc) -> JobFunc:
        existing = _registry.get(name)
        if existing is not None and existing.func is not func:
            raise ValueError(f"A periodic job named {name!r} is already registered")
        _registry[name] = Job(name=name, every=every, func=func)
        return func

    return decorator


def registered_jobs() -> list[Job]:
    return sorted(_registry.values(), key=lambda job: job.name)


def autodiscover() -> None:
    """Import ``<app>.jobs`` for every micromarket app, which registers its jobs."""
    app_modules("jobs")


def _claim(job: Job, now: datetime) -> bool:
    from micromarket.core.models import PeriodicJob

    try:
        with transaction.atomic():
            PeriodicJob.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
    except IntegrityError:
        pass  # another worker created it in the meantime
    claimed = PeriodicJob.objects.filter(name=job.name, next_run_at__lte=now).update(
        next_run_at=now + job.every, last_started_at=now
    )
    return claimed == 1


def run_due_jobs(*, now: datetime | None = None) -> dict[str, int]:
    """Run every registered job that is due; return {job name: items handled} for those run."""
    from micromarket.core.models import PeriodicJob

    now = now or timezone.now()
    results: dict[str, int] = {}
    for job in registered_jobs():
        if not _claim(job, now):
            continue
        error = ""
        handled = 0
        try:
            handled = int(job.func(now=now) or 0)
        except Exception:
            error = traceback.format_exc()
            logger.exception("periodic job %s failed; it will run again next period", job.name)
        else:
            results[job.name] = handled
            if handled:
                logger.info("periodic job %s handled %d item(s)", job.name, handled)
        PeriodicJob.objects.filter(name=job.name).update(
            last_finished_at=timezone.now(), last_handled=handled, last_error=error
        )
    return results
