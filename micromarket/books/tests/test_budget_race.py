"""Envelopes under concurrency on PostgreSQL: spending races never overdraw, crossing moves do
not deadlock, a new seller's first incomes at once make one set of envelopes."""

from __future__ import annotations

from datetime import date

import pytest

from micromarket.accounts.tests.factories import UserFactory
from micromarket.books.models import Entry, Envelope
from micromarket.books.selectors import budget as selectors
from micromarket.books.services import budget as services
from micromarket.core.errors import ValidationFailed
from micromarket.core.tests.concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def income(owner, amount, n=0):
    return Entry.objects.create(
        owner=owner,
        kind="income",
        date=date(2025, 3, 3),
        amount=amount,
        currency="USD",
        category="direct_clients",
        fingerprint=f"race{n}",
    )


def test_concurrent_spending_never_overdraws():
    owner = UserFactory()
    services.income_allocate(entry=income(owner, 10000))
    pay = next(e for e in selectors.envelopes(owner) if e.role == "owner_pay")
    outcomes = race(
        4,
        lambda i: services.envelope_spend(
            owner=owner, envelope_id=pay.pk, amount=2000, currency="USD"
        ),
    )
    refused = [o for o in outcomes if isinstance(o, ValidationFailed)]
    assert len(refused) == 2, outcomes
    assert selectors.envelope_balance(pay, "USD") == 1000


def test_crossing_moves_and_an_income_removed_at_once_stay_consistent():
    owner = UserFactory()
    keep = income(owner, 10000, 1)
    gone = income(owner, 10000, 2)
    services.income_allocate(entry=keep)
    services.income_allocate(entry=gone)
    env = {e.role: e for e in selectors.envelopes(owner)}

    def act(i):
        if i == 0:
            return services.envelope_move(
                owner=owner,
                from_envelope_id=env["owner_pay"].pk,
                to_envelope_id=env["taxes"].pk,
                amount=3000,
                currency="USD",
            )
        if i == 1:
            return services.envelope_move(
                owner=owner,
                from_envelope_id=env["taxes"].pk,
                to_envelope_id=env["owner_pay"].pk,
                amount=3000,
                currency="USD",
            )
        return services.income_unallocate(entry=gone)

    outcomes = race(3, act)
    assert not [
        o for o in outcomes if isinstance(o, Exception) and not isinstance(o, ValidationFailed)
    ], outcomes
    balances = [b.get("USD", 0) for _, b in selectors.envelope_balances(owner)]
    assert all(b >= 0 for b in balances)
    assert sum(balances) == 10000


def test_first_incomes_at_once_make_one_set_of_envelopes():
    owner = UserFactory()
    entries = [income(owner, 1000 + i, i) for i in range(4)]
    outcomes = race(4, lambda i: services.income_allocate(entry=entries[i]))
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert Envelope.objects.filter(owner=owner).count() == 4
    total = sum(b.get("USD", 0) for _, b in selectors.envelope_balances(owner))
    assert total == sum(e.amount for e in entries)
