"""Helpers for concurrency tests (PostgreSQL: row locks are real there)."""

from __future__ import annotations

import threading

from django.db import connections


def race(n: int, request) -> list:
    """Call ``request(i)`` in ``n`` threads started at the same moment; return what each call
    returned or raised, in thread order. Each thread uses (and closes) its own connection."""
    barrier = threading.Barrier(n)
    outcomes: list = [None] * n

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[i] = request(i)
        except Exception as exc:  # the test inspects every outcome
            outcomes[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    return outcomes
