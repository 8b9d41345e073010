"""Trust's API: one router per area, mounted together at /api/v1/."""

from ninja import Router

from micromarket.trust.api import disputes, levels, moderation, portable, reviews, verification

router = Router(tags=["trust"])
for area in (reviews, levels, verification, disputes, moderation, portable):
    router.add_router("", area.router)
