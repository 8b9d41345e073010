"""The deadline sweeper: due jobs run once per period, across workers, and failures are kept."""

from datetime import UTC, datetime, timedelta

import pytest

from micromarket.core import sweeper
from micromarket.core.models import PeriodicJob

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def registry(monkeypatch):
    """An empty job registry for the test, restored afterwards."""
    monkeypatch.setattr(sweeper, "_registry", {})
    return sweeper._registry


@pytest.mark.django_db
def test_a_due_job_runs_once_per_period(registry):
    calls = []

    @sweeper.periodic("test.count", every=timedelta(minutes=10))
    def count(*, now):
        calls.append(now)
        return 3

    assert sweeper.run_due_jobs(now=T0) == {"test.count": 3}
    # A second worker (or the next tick) in the same period finds nothing due.
    assert sweeper.run_due_jobs(now=T0 + timedelta(minutes=9)) == {}
    assert sweeper.run_due_jobs(now=T0 + timedelta(minutes=10)) == {"test.count": 3}
    assert calls == [T0, T0 + timedelta(minutes=10)]
    job = PeriodicJob.objects.get(name="test.count")
    assert job.next_run_at == T0 + timedelta(minutes=20)
    assert job.last_handled == 3
    assert job.last_error == ""


@pytest.mark.django_db
def test_a_failing_job_is_recorded_and_does_not_stop_the_others(registry):
    @sweeper.periodic("test.a_broken", every=timedelta(minutes=1))
    def broken(*, now):
        raise RuntimeError("provider timed out")

    @sweeper.periodic("test.b_fine", every=timedelta(minutes=1))
    def fine(*, now):
        return 1

    assert sweeper.run_due_jobs(now=T0) == {"test.b_fine": 1}
    failed = PeriodicJob.objects.get(name="test.a_broken")
    assert "provider timed out" in failed.last_error
    # It is retried next period.
    assert failed.next_run_at == T0 + timedelta(minutes=1)


def test_registering_two_jobs_under_one_name_is_refused(registry):
    sweeper.periodic("test.same", every=timedelta(minutes=1))(lambda *, now: 0)
    with pytest.raises(ValueError, match="already registered"):
        sweeper.periodic("test.same", every=timedelta(minutes=1))(lambda *, now: 0)


def test_apps_register_their_housekeeping_jobs():
    names = {job.name for job in sweeper.registered_jobs()}
    assert {"core.prune_task_results", "accounts.clear_expired_sessions"} <= names


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_at_once_run_a_job_once(registry):
    """Real concurrency: several threads with their own connections race for one period."""
    import threading

    from django.db import connection

    runs = []
    lock = threading.Lock()

    @sweeper.periodic("test.race", every=timedelta(minutes=5))
    def race(*, now):
        with lock:
            runs.append(now)
        return 1

    PeriodicJob.objects.create(name="test.race", next_run_at=T0)
    barrier = threading.Barrier(8)

    def worker():
        try:
            barrier.wait()
            sweeper.run_due_jobs(now=T0)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert runs == [T0]
