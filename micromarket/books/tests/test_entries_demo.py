"""The entries demo builds believable books through the services, and a second run adds
nothing."""

from __future__ import annotations

import io

import pytest

from micromarket.books import demo_entries
from micromarket.books.models import Entry, MileageTrip, RecurringExpense
from micromarket.books.tests.entries_helpers import released_order
from micromarket.catalog.tests.factories import seller as make_seller

pytestmark = pytest.mark.django_db


def test_the_demo_is_idempotent():
    priya = make_seller(email="priya@demo.micromarket.test")
    released_order(priya)
    lines = demo_entries.build(stdout=io.StringIO())
    assert lines
    assert "priya@" in lines[0]
    counts = (Entry.objects.count(), MileageTrip.objects.count(), RecurringExpense.objects.count())
    assert Entry.objects.filter(owner=priya, source="platform").count() == 2
    assert Entry.objects.filter(owner=priya).exclude(receipt="").count() == 1
    assert counts[1] == 2
    assert counts[2] == 2
    demo_entries.build(stdout=io.StringIO())
    assert (
        Entry.objects.count(),
        MileageTrip.objects.count(),
        RecurringExpense.objects.count(),
    ) == counts
