"""``micromarket worker``: background tasks and the deadline sweeper, in one process.

The task loop (django-tasks' database backend) runs in the main thread and owns the signals:
Ctrl-C or SIGTERM finishes the running task and exits. The sweeper runs periodic jobs from a
daemon thread every SWEEPER_TICK_SECONDS. Run as many workers as you like: tasks are claimed
with row locks and periodic jobs with conditional updates.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from micromarket.core import sweeper

logger = logging.getLogger("micromarket.worker")


def _sweep_forever(stop: threading.Event, tick: float) -> None:
    while not stop.is_set():
        try:
            sweeper.run_due_jobs()
        except Exception:
            logger.exception("sweeper tick failed; retrying next tick")
        finally:
            close_old_connections()
        stop.wait(tick)


class Command(BaseCommand):
    help = "Run background tasks and the periodic-job sweeper."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Run due periodic jobs and all queued tasks once, then exit (for cron or tests).",
        )
        parser.add_argument("--queues", default="*", help="Task queues to serve (default: all).")

    def handle(self, *args, once: bool, queues: str, verbosity: int, **options):
        jobs = ", ".join(job.name for job in sweeper.registered_jobs()) or "none"
        self.stdout.write(f"worker: periodic jobs: {jobs}")
        if once:
            results = sweeper.run_due_jobs()
            self.stdout.write(f"worker: periodic jobs run: {results or 'none due'}")
            call_command(
                "db_worker",
                batch=True,
                reload=False,
                queue_name=queues,
                startup_delay=False,
                verbosity=verbosity,
            )
            return
        stop = threading.Event()
        thread = threading.Thread(
            target=_sweep_forever,
            args=(stop, settings.SWEEPER_TICK_SECONDS),
            name="sweeper",
            daemon=True,
        )
        thread.start()
        try:
            call_command("db_worker", reload=False, queue_name=queues, verbosity=verbosity)
        finally:
            stop.set()
