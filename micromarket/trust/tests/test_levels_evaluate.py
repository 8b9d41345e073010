"""Seller levels: the evaluation of figures against thresholds, every criterion at its boundary
(exactly at the threshold → the level; one unit short → not), the no-data rule, and the
published defaults (migration 0002 writes exactly the selector's constant)."""

from __future__ import annotations

import importlib
from dataclasses import replace
from decimal import Decimal

import pytest

from micromarket.trust.models import LevelThreshold
from micromarket.trust.selectors import levels as sel

DEFAULTS = [sel.Thresholds(**d) for d in sel.DEFAULT_THRESHOLDS]
RANK = {"new": 0, "level1": 1, "level2": 2, "top": 3}


def top_figures(**overrides) -> sel.Figures:
    """Comfortably above every default threshold."""
    values = {
        "completed_orders": 2000,
        "earnings": 10**9,
        "unique_buyers": 500,
        "rating": 5.0,
        "rating_count": 50,
        "inquiries": 100,
        "answered_in_time": 100,
        "with_due_date": 100,
        "on_time": 100,
        "cancelled": 0,
        "placed": 100,
        "disputes": 0,
        "account_age_days": 1000,
    }
    return sel.Figures(**{**values, **overrides})


def _at(criterion: str, t: sel.Thresholds, short: int) -> sel.Figures:
    """Figures exactly at ``t``'s threshold for ``criterion`` (``short=1``: one unit short)."""
    if criterion == "completed_orders":
        return top_figures(completed_orders=t.min_completed_orders - short)
    if criterion == "earnings":
        return top_figures(earnings=t.min_earnings - short)
    if criterion == "unique_buyers":
        return top_figures(unique_buyers=t.min_unique_buyers - short)
    if criterion == "rating":
        return top_figures(rating=float(t.min_rating - Decimal("0.01") * short))
    if criterion == "response_rate":
        return top_figures(inquiries=100, answered_in_time=t.min_response_rate - short)
    if criterion == "on_time_rate":
        return top_figures(with_due_date=100, on_time=t.min_on_time_rate - short)
    if criterion == "completion_rate":
        # 20 × the rate completed of 2000 closed: exactly the rate; one fewer is just below.
        done = t.min_completion_rate * 20 - short
        return top_figures(completed_orders=done, cancelled=2000 - done)
    if criterion == "dispute_rate":
        return top_figures(placed=100, disputes=t.max_dispute_rate + short)
    if criterion == "account_age":
        return top_figures(account_age_days=t.min_account_age_days - short)
    raise AssertionError(criterion)


CRITERIA = [
    "completed_orders",
    "earnings",
    "unique_buyers",
    "rating",
    "response_rate",
    "on_time_rate",
    "completion_rate",
    "dispute_rate",
    "account_age",
]


def test_comfortable_figures_are_top_rated_and_nothing_is_missing():
    evaluation = sel.level_evaluate(top_figures(), DEFAULTS)
    assert evaluation.level == "top"
    assert evaluation.label == "Top Rated"
    assert evaluation.next_level is None
    assert all(lc.met for lc in evaluation.levels)


@pytest.mark.parametrize("criterion", CRITERIA)
@pytest.mark.parametrize("level", ["level1", "level2", "top"])
def test_each_criterion_at_its_boundary(criterion, level):
    t = next(t for t in DEFAULTS if t.level == level)
    exactly = sel.level_evaluate(_at(criterion, t, 0), DEFAULTS)
    assert next(lc for lc in exactly.levels if lc.level == level).met
    assert RANK[exactly.level] >= RANK[level]

    short = sel.level_evaluate(_at(criterion, t, 1), DEFAULTS)
    check = next(lc for lc in short.levels if lc.level == level)
    assert not check.met
    failing = [c.key for c in check.checks if not c.met]
    assert failing == [criterion]
    assert RANK[short.level] < RANK[level]


def test_no_rating_yet_fails_a_minimum_rating_and_passes_rating_any():
    figures = top_figures(rating=None, rating_count=0)
    evaluation = sel.level_evaluate(figures, DEFAULTS)
    assert evaluation.level == "new"
    assert evaluation.levels[0].missing == ["a first rating of 4.40 or more"]
    relaxed = [replace(t, min_rating=Decimal("0")) for t in DEFAULTS]
    assert sel.level_evaluate(figures, relaxed).level == "top"


def test_the_rating_is_compared_as_shown_at_two_decimals():
    t = DEFAULTS[0]
    assert sel.level_evaluate(top_figures(rating=4.395), [t]).level == "level1"  # shows 4.40
    assert sel.level_evaluate(top_figures(rating=4.394), [t]).level == "new"  # shows 4.39


@pytest.mark.parametrize(
    "empty",
    [
        {"inquiries": 0, "answered_in_time": 0},
        {"with_due_date": 0, "on_time": 0},
        {"placed": 0, "disputes": 0},
    ],
)
def test_a_rate_without_data_is_not_met_by_a_level_that_needs_orders(empty):
    evaluation = sel.level_evaluate(top_figures(**empty), DEFAULTS)
    assert evaluation.level == "new"
    assert any("no data yet" in m for m in evaluation.levels[0].missing)


def test_a_rate_without_data_is_met_by_a_level_that_needs_no_orders():
    no_orders = replace(DEFAULTS[0], min_completed_orders=0)
    figures = top_figures(inquiries=0, answered_in_time=0, with_due_date=0, on_time=0)
    figures = replace(figures, completed_orders=0, cancelled=0, placed=0, disputes=0)
    figures = replace(figures, unique_buyers=10)
    assert sel.level_evaluate(figures, [no_orders]).level == "level1"


def test_a_rate_threshold_of_zero_is_met_without_data():
    zero = replace(DEFAULTS[0], min_response_rate=0)
    assert sel.level_evaluate(top_figures(inquiries=0, answered_in_time=0), [zero]).level == (
        "level1"
    )


def test_what_is_missing_is_said_in_words():
    t = DEFAULTS[0]
    figures = top_figures(
        completed_orders=7, earnings=28_000, rating=4.3, inquiries=10, answered_in_time=7
    )
    missing = sel.level_evaluate(figures, [t]).levels[0].missing
    assert "3 more completed orders" in missing
    assert "$120.00 more earnings" in missing
    assert "rating 4.30 → 4.40" in missing
    assert "response rate 70% → 80%" in missing


def test_the_shown_rate_never_claims_a_threshold_that_is_not_met():
    # 84.95 % would round to 85 %: shown as 84 %, and not met.
    figures = top_figures(completed_orders=1699, cancelled=301)
    check = next(
        c
        for c in sel.level_evaluate(figures, DEFAULTS).levels[0].checks
        if c.key == "completion_rate"
    )
    assert not check.met
    assert check.figure.startswith("84%")


def test_the_migration_writes_the_published_defaults():
    migration = importlib.import_module(
        "micromarket.trust.migrations.0002_default_level_thresholds"
    )
    fields = (
        "level",
        "rank",
        "min_completed_orders",
        "min_earnings",
        "min_unique_buyers",
        "min_rating",
        "min_response_rate",
        "min_on_time_rate",
        "min_completion_rate",
        "max_dispute_rate",
        "min_account_age_days",
        "clearing_days",
    )
    expected = [tuple(d[f] for f in fields) for d in sel.DEFAULT_THRESHOLDS]
    written = [(*row[:5], Decimal(row[5]), *row[6:]) for row in migration.DEFAULTS]
    assert written == expected
    assert all(
        d["window_days"] == 365 and d["earnings_currency"] == "USD" for d in sel.DEFAULT_THRESHOLDS
    )


@pytest.mark.django_db
def test_thresholds_are_the_rows_or_the_defaults_when_rows_are_missing():
    assert sel.thresholds() == DEFAULTS  # the migration's rows equal the constant
    LevelThreshold.objects.filter(level="level2").update(min_completed_orders=30)
    LevelThreshold.objects.filter(level="top").delete()
    levels = {t.level: t for t in sel.thresholds()}
    assert levels["level2"].min_completed_orders == 30
    assert levels["top"] == DEFAULTS[2]
