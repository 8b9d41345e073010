"""Periodic trust jobs run by the worker's sweeper."""

from datetime import datetime, timedelta

from micromarket.core.sweeper import periodic
from micromarket.trust.services import disputes, levels, reviews


@periodic("trust.reveal_reviews", every=timedelta(minutes=5))
def reveal_reviews(*, now: datetime) -> int:
    """Reviews whose window ended are published even if the other side never wrote one."""
    return reviews.reviews_reveal_due(now=now)


@periodic("trust.dispute_deadlines", every=timedelta(minutes=5))
def dispute_deadlines(*, now: datetime) -> int:
    """Disputes the other side did not answer in time are won by the opener."""
    return disputes.disputes_apply_defaults(now=now)


@periodic("trust.seller_levels", every=timedelta(days=1))
def seller_levels(*, now: datetime) -> int:
    """Every seller's level, recomputed from the published criteria."""
    return levels.levels_compute_all(now=now)
