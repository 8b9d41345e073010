"""The reviews demo writes real reviews on the demo's orders: both sides on one, one on another."""

import importlib
import io

import pytest
from django.apps import apps

from micromarket.trust import demo_reviews
from micromarket.trust.models import Review


@pytest.mark.django_db
def test_demo_reviews_both_sides_one_side_and_a_reply():
    out = io.StringIO()
    # The demos reviews build on (payments' payouts and the other trust areas are not needed).
    needed = ("accounts", "catalog", "orders", "messaging")
    for config in apps.get_app_configs():
        if config.name.split(".")[-1] in needed:
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError:
                continue
            module.build(stdout=out, create=True)
    lines = demo_reviews.build(stdout=out, create=True)
    assert "skipped" not in out.getvalue()
    assert lines
    both = Review.objects.filter(order__buyer__email__startswith="alex@")
    assert both.count() == 2
    assert all(r.revealed_at for r in both)
    assert both.get(role="buyer").reply
    lone = Review.objects.get(author__email__startswith="ravi@")
    assert lone.revealed_at is None
    assert lone.order.kind == "digital"
    demo_reviews.build(stdout=out, create=True)  # idempotent
    assert Review.objects.count() == 3
