"""The published default thresholds of the seller levels (docs/trust.md#seller-levels).
Operators change them on /ops/trust/levels/; these are only the starting values."""

from django.db import migrations

DEFAULTS = [
    # level, rank, orders, earnings (USD cents), buyers, rating, response %, on-time %,
    # completion %, max dispute %, account age days, clearing days
    ("level1", 1, 10, 40_000, 5, "4.40", 80, 85, 85, 5, 60, None),
    ("level2", 2, 25, 200_000, 10, "4.60", 90, 90, 90, 3, 120, 10),
    ("top", 3, 100, 2_000_000, 40, "4.80", 90, 95, 95, 2, 180, 7),
]


def forwards(apps, schema_editor):
    LevelThreshold = apps.get_model("trust", "LevelThreshold")
    for level, rank, orders, earnings, buyers, rating, resp, on_time, comp, disp, age, clear in (
        DEFAULTS
    ):
        LevelThreshold.objects.update_or_create(
            level=level,
            defaults={
                "rank": rank,
                "window_days": 365,
                "min_completed_orders": orders,
                "min_earnings": earnings,
                "earnings_currency": "USD",
                "min_unique_buyers": buyers,
                "min_rating": rating,
                "min_response_rate": resp,
                "min_on_time_rate": on_time,
                "min_completion_rate": comp,
                "max_dispute_rate": disp,
                "min_account_age_days": age,
                "clearing_days": clear,
            },
        )


def backwards(apps, schema_editor):
    apps.get_model("trust", "LevelThreshold").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("trust", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
