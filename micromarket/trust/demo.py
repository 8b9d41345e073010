"""Demo trust data, built through the real services on top of the orders and conversations of
the earlier apps' demos: reviews and a reply, sellers' levels, verified phones and traders (and
one submission waiting for an operator), disputes (one escalated, one with a proposal) and
reports in the moderation queue. Each area's part is in ``demo_<area>.py``."""

from __future__ import annotations

from micromarket.trust import (
    demo_disputes,
    demo_levels,
    demo_moderation,
    demo_reviews,
    demo_verification,
)

# Reviews first: levels read the ratings; disputes and reports use orders and messages.
PARTS = (demo_reviews, demo_verification, demo_disputes, demo_levels, demo_moderation)


def build(*, stdout, create: bool = True) -> list[str]:
    lines: list[str] = []
    for part in PARTS:
        lines += part.build(stdout=stdout, create=create)
    return lines
