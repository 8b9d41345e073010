"""Projects' periodic jobs, run by the worker's sweeper."""

from datetime import datetime, timedelta

from micromarket.core.sweeper import periodic


@periodic("projects.assignments_link", every=timedelta(minutes=5))
def assignments_link(*, now: datetime) -> int:
    """Unfunded assignments whose funding order exists (a request that stopped between
    paying and linking) are linked to it."""
    from micromarket.projects import services

    return services.assignments_link()


@periodic("projects.assignments_lapse", every=timedelta(minutes=30))
def assignments_lapse(*, now: datetime) -> int:
    """Awards and claims not funded within 48 hours lapse, freeing their unit and budget."""
    from micromarket.projects import services

    return services.assignments_lapse(now=now)
