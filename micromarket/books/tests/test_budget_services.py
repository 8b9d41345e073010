"""Envelopes: the default rules, allocation of every income (cents always sum exactly), taking
an income back out without any balance going negative, moves and spending, editing rules."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micromarket.accounts.tests.factories import UserFactory
from micromarket.books.models import Entry, Envelope, EnvelopeMovement
from micromarket.books.selectors import budget as selectors
from micromarket.books.services import budget as services
from micromarket.core.errors import NotFound, ValidationFailed


def income(owner, amount, *, currency="USD", day=date(2025, 3, 3), payee="Client", ref=""):
    return Entry.objects.create(
        owner=owner,
        kind=Entry.Kind.INCOME,
        date=day,
        amount=amount,
        currency=currency,
        payee=payee,
        category="direct_clients",
        source_ref=ref,
        fingerprint=f"{day}-{amount}-{payee}-{ref}",
    )


def balances(owner, currency="USD") -> dict[str, int]:
    return {e.name: b.get(currency, 0) for e, b in selectors.envelope_balances(owner)}


# --- the arithmetic -------------------------------------------------------------------------


@st.composite
def weights(draw):
    n = draw(st.integers(min_value=1, max_value=8))
    cuts = sorted(draw(st.lists(st.integers(0, 10000), min_size=n - 1, max_size=n - 1)))
    bounds = [0, *cuts, 10000]
    return [b - a for a, b in itertools.pairwise(bounds)]


@given(amount=st.integers(min_value=0, max_value=10**15), ws=weights())
@settings(max_examples=400)
def test_the_split_always_sums_exactly_and_each_part_is_within_a_cent(amount, ws):
    parts = services.allocation_split(amount, ws)
    assert sum(parts) == amount
    assert all(p >= 0 for p in parts)
    for part, w in zip(parts, ws, strict=True):
        exact = amount * w / 10000
        assert abs(part - exact) < 1 + 1e-6 * max(1, exact)
        assert part in (amount * w // 10000, amount * w // 10000 + 1)


def test_the_split_of_a_cent_goes_to_the_largest_share():
    assert services.allocation_split(1, [2500, 1500, 1000, 5000]) == [0, 0, 0, 1]
    assert services.allocation_split(3, [2500, 1500, 1000, 5000]) == [1, 0, 0, 2]
    assert services.allocation_split(10001, [2500, 1500, 1000, 5000]) == [2500, 1500, 1000, 5001]
    with pytest.raises(ValueError, match="total 10000"):
        services.allocation_split(100, [5000, 4000])


# --- allocation -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_seller_gets_the_default_envelopes_once():
    owner = UserFactory()
    first = services.envelopes_ensure_default(owner=owner)
    again = services.envelopes_ensure_default(owner=owner)
    assert [(e.name, e.percent_bps) for e in first] == [
        ("Taxes", 2500),
        ("Business expenses", 1500),
        ("Emergency fund", 1000),
        ("Owner pay", 5000),
    ]
    assert [e.pk for e in again] == [e.pk for e in first]
    assert Envelope.objects.filter(owner=owner).count() == 4


@pytest.mark.django_db
def test_an_income_is_shared_by_the_rules_once():
    owner = UserFactory()
    entry = income(owner, 123_457)
    moves = services.income_allocate(entry=entry, amount=entry.amount)
    assert sum(m.amount for m in moves) == 123_457
    assert balances(owner) == {
        "Taxes": 30864,
        "Business expenses": 18519,
        "Emergency fund": 12346,  # 12345.7: the largest remainder gets a cent
        "Owner pay": 61728,  # 61728.5
    }
    again = services.income_allocate(entry=entry, amount=entry.amount)
    assert {m.pk for m in again} == {m.pk for m in moves}
    assert EnvelopeMovement.objects.filter(entry=entry).count() == 4


@pytest.mark.django_db
def test_platform_income_allocates_the_net_given():
    owner = UserFactory()
    entry = income(owner, 10000)
    services.income_allocate(entry=entry, amount=8000)
    assert sum(balances(owner).values()) == 8000


@pytest.mark.django_db
def test_an_expense_is_not_allocated():
    owner = UserFactory()
    entry = income(owner, 500)
    entry.kind = Entry.Kind.EXPENSE
    with pytest.raises(ValidationFailed):
        services.income_allocate(entry=entry, amount=500)


@pytest.mark.django_db
def test_currencies_are_kept_apart():
    owner = UserFactory()
    services.income_allocate(entry=income(owner, 1000, currency="USD"))
    services.income_allocate(entry=income(owner, 2000, currency="EUR", payee="B"))
    assert sum(balances(owner, "USD").values()) == 1000
    assert sum(balances(owner, "EUR").values()) == 2000


# --- taking income back -------------------------------------------------------------------


@pytest.mark.django_db
def test_removing_an_income_takes_its_shares_back():
    owner = UserFactory()
    keep = income(owner, 4000, payee="Keep")
    gone = income(owner, 10000, payee="Gone")
    services.income_allocate(entry=keep)
    services.income_allocate(entry=gone)
    services.income_unallocate(entry=gone)
    assert balances(owner) == {
        "Taxes": 1000,
        "Business expenses": 600,
        "Emergency fund": 400,
        "Owner pay": 2000,
    }
    # The entry can be allocated again after an edit.
    gone.amount = 2000
    gone.save()
    services.income_allocate(entry=gone)
    assert sum(balances(owner).values()) == 6000


@pytest.mark.django_db
def test_removing_an_income_already_spent_never_goes_negative():
    owner = UserFactory()
    other = income(owner, 10000, payee="Other")
    gone = income(owner, 10000, payee="Gone")
    services.income_allocate(entry=other)
    services.income_allocate(entry=gone)
    envelopes = {e.name: e for e in selectors.envelopes(owner)}
    # The seller paid themselves all of owner pay and spent the expenses envelope.
    services.envelope_spend(
        owner=owner, envelope_id=envelopes["Owner pay"].pk, amount=10000, currency="USD"
    )
    services.envelope_spend(
        owner=owner, envelope_id=envelopes["Business expenses"].pk, amount=3000, currency="USD"
    )
    services.income_unallocate(entry=gone)
    after = balances(owner)
    assert all(v >= 0 for v in after.values())
    # 10000 to take back, 6500 was spent: taxes and emergency give back their shares first,
    # then the rest of what was spent is taken from what remains (taxes last).
    assert sum(after.values()) == max(0, 20000 - 13000 - 10000)


@pytest.mark.django_db
def test_removing_takes_from_other_envelopes_with_taxes_last():
    owner = UserFactory()
    a = income(owner, 10000, payee="A")
    b = income(owner, 10000, payee="B")
    services.income_allocate(entry=a)
    services.income_allocate(entry=b)
    env = {e.name: e for e in selectors.envelopes(owner)}
    # Owner pay (10000) is spent entirely.
    services.envelope_spend(
        owner=owner, envelope_id=env["Owner pay"].pk, amount=10000, currency="USD"
    )
    services.income_unallocate(entry=b)
    after = balances(owner)
    # b's shares: taxes 2500, expenses 1500, emergency 1000 given back; owner pay's 5000
    # taken from expenses (1500 left), emergency (1000 left), then taxes (2500 → 0)
    assert after == {"Taxes": 0, "Business expenses": 0, "Emergency fund": 0, "Owner pay": 0}
    assert (
        sum(m.amount for m in EnvelopeMovement.objects.filter(kind="reversal", entry=b)) == -10000
    )


# --- moves and spending -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_move_between_envelopes():
    owner = UserFactory()
    services.income_allocate(entry=income(owner, 10000))
    env = {e.name: e for e in selectors.envelopes(owner)}
    out, in_ = services.envelope_move(
        owner=owner,
        from_envelope_id=env["Owner pay"].pk,
        to_envelope_id=env["Emergency fund"].pk,
        amount=2000,
        currency="USD",
        note="Top up",
    )
    assert out.amount == -2000
    assert in_.amount == 2000
    assert out.counterpart == env["Emergency fund"]
    assert balances(owner)["Owner pay"] == 3000
    assert selectors.emergency_balance(owner, "USD") == 3000


@pytest.mark.django_db
def test_a_move_or_spend_cannot_overdraw():
    owner = UserFactory()
    services.income_allocate(entry=income(owner, 10000))
    env = {e.name: e for e in selectors.envelopes(owner)}
    with pytest.raises(ValidationFailed) as exc:
        services.envelope_move(
            owner=owner,
            from_envelope_id=env["Emergency fund"].pk,
            to_envelope_id=env["Taxes"].pk,
            amount=1001,
            currency="USD",
        )
    assert exc.value.code == "insufficient_balance"
    with pytest.raises(ValidationFailed):
        services.envelope_spend(owner=owner, envelope_id=env["Taxes"].pk, amount=1, currency="EUR")
    with pytest.raises(ValidationFailed):
        services.envelope_spend(owner=owner, envelope_id=env["Taxes"].pk, amount=0, currency="USD")
    assert EnvelopeMovement.objects.filter(envelope__owner=owner).count() == 4


@pytest.mark.django_db
def test_another_sellers_envelope_is_not_found():
    owner, stranger = UserFactory(), UserFactory()
    services.income_allocate(entry=income(owner, 10000))
    services.envelopes_ensure_default(owner=stranger)
    theirs = selectors.envelopes(owner)[0]
    mine = selectors.envelopes(stranger)[0]
    with pytest.raises(NotFound):
        services.envelope_spend(owner=stranger, envelope_id=theirs.pk, amount=1, currency="USD")
    with pytest.raises(NotFound):
        services.envelope_move(
            owner=stranger,
            from_envelope_id=theirs.pk,
            to_envelope_id=mine.pk,
            amount=1,
            currency="USD",
        )
    with pytest.raises(NotFound):
        services.allocation_rules_set(
            owner=stranger, rules=[services.Rule(theirs.pk, "Mine now", 2500)]
        )
    assert sum(balances(owner).values()) == 10000


# --- rules ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rules_must_total_exactly_100():
    owner = UserFactory()
    env = services.envelopes_ensure_default(owner=owner)
    with pytest.raises(ValidationFailed) as exc:
        services.allocation_rules_set(owner=owner, rules=[services.Rule(env[0].pk, "Taxes", 3000)])
    assert exc.value.code == "total_not_100"
    assert "105%" in exc.value.message
    services.allocation_rules_set(
        owner=owner,
        rules=[
            services.Rule(env[0].pk, "Tax", 3000),
            services.Rule(env[3].pk, "Pay me", 3500),
            services.Rule(None, "Savings", 1000),
        ],
    )
    after = {e.name: e.percent_bps for e in selectors.envelopes(owner)}
    assert after == {
        "Tax": 3000,
        "Business expenses": 1500,
        "Emergency fund": 1000,
        "Pay me": 3500,
        "Savings": 1000,
    }
    entry = income(owner, 999)
    moves = services.income_allocate(entry=entry)
    assert sum(m.amount for m in moves) == 999
    assert len(moves) == 5


@pytest.mark.django_db
def test_an_envelope_holding_money_cannot_be_removed():
    owner = UserFactory()
    services.allocation_rules_set(
        owner=owner,
        rules=[
            services.Rule(services.envelopes_ensure_default(owner=owner)[3].pk, "Owner pay", 4000),
            services.Rule(None, "Savings", 1000),
        ],
    )
    services.income_allocate(entry=income(owner, 10000))
    env = {e.name: e for e in selectors.envelopes(owner)}
    rules = [
        services.Rule(env["Owner pay"].pk, "Owner pay", 5000),
        services.Rule(env["Savings"].pk, "Savings", 0, archive=True),
    ]
    with pytest.raises(ValidationFailed) as exc:
        services.allocation_rules_set(owner=owner, rules=rules)
    assert exc.value.code == "archive_not_empty"
    services.envelope_move(
        owner=owner,
        from_envelope_id=env["Savings"].pk,
        to_envelope_id=env["Owner pay"].pk,
        amount=1000,
        currency="USD",
    )
    services.allocation_rules_set(owner=owner, rules=rules)
    assert [e.name for e in selectors.envelopes(owner)] == [
        "Taxes",
        "Business expenses",
        "Emergency fund",
        "Owner pay",
    ]


@pytest.mark.django_db
def test_reset_to_defaults():
    owner = UserFactory()
    env = services.envelopes_ensure_default(owner=owner)
    services.allocation_rules_set(
        owner=owner,
        rules=[
            services.Rule(env[0].pk, "Taxes", 3000),
            services.Rule(env[3].pk, "Owner pay", 4500),
        ],
    )
    services.allocation_rules_reset(owner=owner)
    assert [e.percent_bps for e in selectors.envelopes(owner)] == [2500, 1500, 1000, 5000]


# --- safe to spend ------------------------------------------------------------------------


@pytest.mark.django_db
def test_safe_to_spend_keeps_back_what_the_next_tax_payment_lacks():
    from dataclasses import dataclass

    @dataclass
    class Payment:
        due_date: date
        amount: int
        currency: str
        label: str = "Q2"

    owner = UserFactory()
    services.income_allocate(entry=income(owner, 10000))
    plain = selectors.safe_to_spend(owner, "USD", use_tax=False)
    assert plain.amount == 5000
    short = selectors.safe_to_spend(
        owner, "USD", next_payment=Payment(date(2025, 6, 16), 4000, "USD")
    )
    assert short.amount == 3500
    assert short.tax_shortfall == 1500
    assert "June 2025" in " ".join(short.steps)
    covered = selectors.safe_to_spend(
        owner, "USD", next_payment=Payment(date(2025, 6, 16), 2000, "USD")
    )
    assert covered.amount == 5000
