"""Projects' periodic jobs, run by the worker's sweeper."""

from datetime import datetime, timedelta

from micromarket.core.sweeper import periodic


@periodic("projects.assignments_lapse", every=timedelta(minutes=30))
def assignments_lapse(*, now: datetime) -> int:
    """Awards and claims not funded within 48 hours lapse, freeing their unit and budget."""
    from micromarket.projects import services

    return services.assignments_lapse(now=now)
