"""Demo seller levels: the daily computation run once for every demo seller (through the real
service, so each has a standing and the search index has their level), and one appeal waiting
for an operator (kwame, who thinks his first completed gig should count for more)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from micromarket.core.errors import DomainError
from micromarket.trust.models import LevelAppeal, SellerStanding
from micromarket.trust.services import levels as level_services

DOMAIN = "demo.micromarket.test"
APPEAL = (
    "I delivered my first bug fix a day early and the buyer was happy. Could you check that my "
    "on-time delivery and completion figures are counted right?"
)


def build(*, stdout, create: bool = True) -> list[str]:
    if create:
        count = level_services.levels_compute_all()
        stdout.write(f"  levels: computed {count} seller{'s' if count != 1 else ''}\n")
        kwame = get_user_model().objects.filter(email=f"kwame@{DOMAIN}").first()
        if kwame is not None and not LevelAppeal.objects.filter(seller=kwame).exists():
            try:
                level_services.level_appeal_create(seller=kwame, message=APPEAL)
            except DomainError as exc:
                stdout.write(f"  levels: skipped the appeal: {exc.message}\n")
    standings = SellerStanding.objects.count()
    if not standings:
        return []
    return [
        f"Seller levels: {standings} sellers computed (see /seller/level/ as a seller, "
        "/ops/trust/levels/ for the thresholds); an appeal from kwame@ waits on "
        "/ops/trust/appeals/"
    ]
