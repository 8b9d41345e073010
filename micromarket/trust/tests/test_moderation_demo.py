"""The moderation demo: open reports for the queue (a message, an offer reported twice) and a
dismissed one with its audit entry, sent through the real services on the earlier demos."""

import importlib
import io

import pytest

from micromarket.trust import demo_moderation
from micromarket.trust.models import AuditEntry, Report

NEEDED = ("accounts", "catalog", "messaging")


@pytest.mark.django_db
def test_demo_fills_the_queue_and_the_audit_log():
    out = io.StringIO()
    for app in NEEDED:  # the people, offers and conversations the reports are about
        importlib.import_module(f"micromarket.{app}.demo").build(stdout=out, create=True)
    lines = demo_moderation.build(stdout=out, create=True)

    assert "moderation: skipped" not in out.getvalue()
    assert lines
    open_reports = Report.objects.filter(status="open")
    assert sorted(open_reports.values_list("target_kind", flat=True)) == [
        "message",
        "offer",
        "offer",
    ]
    assert len({r.target_id for r in open_reports.filter(target_kind="offer")}) == 1
    handled = Report.objects.get(status="dismissed")
    entry = AuditEntry.objects.get()
    assert entry.action == "report_dismiss"
    assert entry.data["reports"] == [handled.pk]
    assert entry.actor.is_staff
    # run again: nothing is added
    demo_moderation.build(stdout=out, create=True)
    assert Report.objects.count() == 4
