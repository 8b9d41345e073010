"""Editing or deleting an income after spending from its envelopes: the envelopes keep holding
the incomes allocated minus what was spent (money spent is never put back), never below zero;
and a UK trip that crosses the 10,000-mile threshold is split between 45p and 25p."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from micromarket.books.models import EnvelopeMovement, TaxProfile
from micromarket.books.selectors import budget as budget_selectors
from micromarket.books.services import budget as budget_services
from micromarket.books.services import entries as services
from micromarket.catalog.tests.factories import seller as make_seller

D = date(2025, 3, 14)


def balances(owner, currency="USD") -> dict[str, int]:
    return {e.name: b.get(currency, 0) for e, b in budget_selectors.envelope_balances(owner)}


def income(owner, amount, currency="USD"):
    return services.entry_create(
        owner=owner,
        kind="income",
        date=D,
        amount=amount,
        currency=currency,
        category="direct_clients",
        payee="Acme",
    )


def spend(owner, name, amount, currency="USD"):
    envelope = next(e for e in budget_selectors.envelopes(owner) if e.name == name)
    budget_services.envelope_spend(
        owner=owner, envelope_id=envelope.pk, amount=amount, currency=currency
    )


@pytest.mark.django_db
def test_raising_an_income_after_spending_shares_only_the_difference():
    seller = make_seller()
    entry = income(seller, 10_000)
    assert balances(seller) == {
        "Taxes": 2_500,
        "Business expenses": 1_500,
        "Emergency fund": 1_000,
        "Owner pay": 5_000,
    }
    spend(seller, "Owner pay", 5_000)
    services.entry_update(owner=seller, entry_id=entry.pk, amount=10_001)
    # $100 − $50 spent + the one new cent: the $50 paid out is not back in owner pay.
    assert sum(balances(seller).values()) == 5_001
    assert balances(seller) == {
        "Taxes": 2_500,
        "Business expenses": 1_500,
        "Emergency fund": 1_000,
        "Owner pay": 1,
    }
    history = budget_selectors.movements(seller).first()
    assert "changed from $100.00 to $100.01" in history.note


@pytest.mark.django_db
def test_lowering_an_income_takes_back_only_the_difference():
    seller = make_seller()
    entry = income(seller, 10_000)
    spend(seller, "Owner pay", 5_000)
    services.entry_update(owner=seller, entry_id=entry.pk, amount=8_000)
    # 20.00 taken back: its shares 5.00/3.00/2.00 and owner pay's 10.00 (already spent)
    # from the other envelopes, owner pay first and taxes last.
    assert sum(balances(seller).values()) == 3_000
    assert all(v >= 0 for v in balances(seller).values())
    assert balances(seller)["Taxes"] == 2_000


@pytest.mark.django_db
def test_deleting_a_spent_income_takes_back_what_is_left_and_says_what_was_spent():
    seller = make_seller()
    entry = income(seller, 10_000)
    spend(seller, "Owner pay", 5_000)
    spend(seller, "Taxes", 2_500)
    shortfall = services.entry_delete(owner=seller, entry_id=entry.pk)
    assert shortfall == 7_500
    assert sum(balances(seller).values()) == 0
    notes = " ".join(EnvelopeMovement.objects.values_list("note", flat=True))
    assert "$75.00 of it was already spent and could not be taken back" in notes


@pytest.mark.django_db
def test_changing_the_currency_takes_the_old_back_and_shares_the_new():
    seller = make_seller()
    entry = income(seller, 10_000)
    spend(seller, "Owner pay", 1_000)
    services.entry_update(owner=seller, entry_id=entry.pk, currency="EUR", amount=5_000)
    assert sum(balances(seller, "USD").values()) == 0  # 90.00 held, 100.00 taken back
    assert sum(balances(seller, "EUR").values()) == 5_000


@pytest.mark.django_db
def test_an_income_turned_into_an_expense_leaves_the_envelopes():
    seller = make_seller()
    entry = income(seller, 10_000)
    services.entry_update(owner=seller, entry_id=entry.pk, kind="expense", category="software")
    assert sum(balances(seller).values()) == 0
    services.entry_update(owner=seller, entry_id=entry.pk, kind="income", category="cash")
    assert sum(balances(seller).values()) == 10_000


# --- the invariant, over any sequence -----------------------------------------------------

ENVELOPES = ["Taxes", "Business expenses", "Emergency fund", "Owner pay"]
steps = st.lists(
    st.one_of(
        st.tuples(st.just("record"), st.integers(1, 50_000)),
        st.tuples(st.just("spend"), st.sampled_from(ENVELOPES), st.floats(0.01, 1.0)),
        st.tuples(st.just("edit"), st.integers(0, 20), st.integers(1, 50_000)),
        st.tuples(st.just("delete"), st.integers(0, 20)),
    ),
    min_size=1,
    max_size=14,
)


@pytest.mark.django_db(transaction=False)
@given(actions=steps)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_envelopes_always_hold_the_incomes_less_what_was_spent(actions):
    from django.db import transaction

    with transaction.atomic():
        seller = make_seller()
        live: list[int] = []
        # The model: what the envelopes hold. Money spent is gone; taking back never makes a
        # balance negative, so a cut or a delete takes back at most what is held.
        expected = 0
        for action in actions:
            if action[0] == "record":
                live.append(income(seller, action[1]).pk)
                expected += action[1]
            elif action[0] == "spend":
                held = balances(seller).get(action[1], 0)
                amount = int(held * action[2])
                if amount > 0:
                    spend(seller, action[1], amount)
                    expected -= amount
            elif live and action[0] == "edit":
                pk = live[action[1] % len(live)]
                old = services.Entry.objects.get(pk=pk).amount
                services.entry_update(owner=seller, entry_id=pk, amount=action[2])
                difference = action[2] - old
                expected += difference if difference > 0 else -min(-difference, expected)
            elif live and action[0] == "delete":
                pk = live.pop(action[1] % len(live))
                old = services.Entry.objects.get(pk=pk).amount
                shortfall = services.entry_delete(owner=seller, entry_id=pk)
                assert shortfall == max(0, old - expected)
                expected -= min(old, expected)
            now = balances(seller)
            assert all(v >= 0 for v in now.values()), now
            assert sum(now.values()) == expected
        transaction.set_rollback(True)


# --- mileage across the threshold ---------------------------------------------------------


@pytest.mark.django_db
def test_a_uk_trip_crossing_10000_miles_is_split_between_45p_and_25p():
    seller = make_seller()
    TaxProfile.objects.create(owner=seller, country="UK")
    services.mileage_trip_create(
        owner=seller, date=date(2025, 5, 1), distance=9_900, purpose="Deliveries"
    )
    trip = services.mileage_trip_create(
        owner=seller, date=date(2025, 6, 1), distance=300, purpose="Deliveries"
    )
    # 100 miles at 45p + 200 miles at 25p = £45 + £50
    assert trip.entry.amount == 9_500
    assert "100.0 mi at 45p" in trip.entry.note
    assert "200.0 mi at 25p" in trip.entry.note


@pytest.mark.django_db
def test_the_entries_page_says_when_a_deleted_income_was_already_spent(client):
    seller = make_seller()
    entry = income(seller, 10_000)
    spend(seller, "Owner pay", 5_000)
    client.force_login(seller)

    response = client.post(f"/books/entries/{entry.pk}/delete/", follow=True)

    text = response.content.decode()
    assert "Entry deleted." in text
    assert "$50.00 of this income&#x27;s share was already spent" in text
    assert sum(balances(seller).values()) == 0
