"""The budget pages: envelopes with balances and safe to spend, editing the rules (errors next
to the fields, total must be 100%), moves, spending, history; another seller's envelope is 404
and nothing changes."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from micromarket.accounts.tests.factories import UserFactory
from micromarket.books.models import Entry, Envelope, EnvelopeMovement
from micromarket.books.selectors import budget as selectors
from micromarket.books.services import budget as services

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def income(owner, amount, currency="USD", payee="Acme"):
    entry = Entry.objects.create(
        owner=owner,
        kind=Entry.Kind.INCOME,
        date=date(2025, 3, 3),
        amount=amount,
        currency=currency,
        payee=payee,
        category="direct_clients",
        fingerprint="x",
    )
    services.income_allocate(entry=entry)
    return entry


def envs(owner) -> dict[str, Envelope]:
    return {e.name: e for e in selectors.envelopes(owner)}


def test_the_budget_page_shows_envelopes_balances_and_safe_to_spend():
    seller = UserFactory()
    income(seller, 100000)
    page = as_user(seller).get(reverse("books:budget"))
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("Taxes", "Business expenses", "Emergency fund", "Owner pay"):
        assert name in html
    assert "$250.00" in html  # taxes 25%, owner pay 50%
    assert "$500.00" in html
    assert 'data-testid="safe-to-spend">$500.00' in html
    assert "<svg" in html  # the envelopes chart
    assert "Share of income" in html  # the history
    assert "Acme" in html


def test_the_page_needs_a_login():
    response = Client().get(reverse("books:budget"))
    assert response.status_code == 302


def test_saving_rules_that_do_not_total_100_shows_the_error_and_changes_nothing():
    seller = UserFactory()
    client = as_user(seller)
    client.get(reverse("books:budget"))
    e = envs(seller)
    data = {f"name_{x.pk}": x.name for x in e.values()}
    data.update({f"percent_{x.pk}": str(x.percent_bps // 100) for x in e.values()})
    data[f"percent_{e['Taxes'].pk}"] = "30"
    response = client.post(reverse("books:budget_rules"), data)
    assert response.status_code == 400
    assert "add up to 105%" in response.content.decode()
    assert envs(seller)["Taxes"].percent_bps == 2500

    data[f"percent_{e['Owner pay'].pk}"] = "37.5"
    data["name_new"] = "Savings"
    data["percent_new"] = "7.5"
    response = client.post(reverse("books:budget_rules"), data)
    assert response.status_code == 302
    after = {n: x.percent_bps for n, x in envs(seller).items()}
    assert after == {
        "Taxes": 3000,
        "Business expenses": 1500,
        "Emergency fund": 1000,
        "Owner pay": 3750,
        "Savings": 750,
    }
    page = client.get(reverse("books:budget")).content.decode()
    assert "Allocation rules saved" in page
    assert "37.5%" in page


def test_a_move_and_a_spend_from_the_page():
    seller = UserFactory()
    income(seller, 100000)
    client = as_user(seller)
    e = envs(seller)
    response = client.post(
        reverse("books:budget_move"),
        {
            "from_envelope": e["Owner pay"].pk,
            "to_envelope": e["Emergency fund"].pk,
            "amount": "100.00",
            "currency": "USD",
            "note": "buffer",
        },
    )
    assert response.status_code == 302
    assert selectors.emergency_balance(seller, "USD") == 20000
    response = client.post(
        reverse("books:budget_spend"),
        {"envelope": e["Taxes"].pk, "amount": "250.01", "currency": "USD", "note": "Q1"},
    )
    assert response.status_code == 400
    assert "Taxes holds only $250.00" in response.content.decode()
    response = client.post(
        reverse("books:budget_spend"),
        {"envelope": e["Taxes"].pk, "amount": "250", "currency": "USD", "note": "Q1 tax"},
        follow=True,
    )
    assert "Recorded $250.00 spent from Taxes" in response.content.decode()
    assert selectors.taxes_balance(seller, "USD") == 0


def test_reset_to_defaults_from_the_page():
    seller = UserFactory()
    e = services.envelopes_ensure_default(owner=seller)
    services.allocation_rules_set(
        owner=seller,
        rules=[services.Rule(e[0].pk, "Taxes", 3000), services.Rule(e[3].pk, "Owner pay", 4500)],
    )
    assert as_user(seller).post(reverse("books:budget_reset")).status_code == 302
    assert [x.percent_bps for x in selectors.envelopes(seller)] == [2500, 1500, 1000, 5000]


def test_the_envelope_page_shows_its_history():
    seller = UserFactory()
    income(seller, 100000, payee="Globex")
    page = as_user(seller).get(reverse("books:envelope", args=[envs(seller)["Taxes"].pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Globex" in html
    assert "$250.00" in html


def test_another_seller_gets_404_and_nothing_changes():
    owner, stranger = UserFactory(), UserFactory()
    income(owner, 100000)
    theirs = envs(owner)
    client = as_user(stranger)
    client.get(reverse("books:budget"))
    mine = envs(stranger)
    before = EnvelopeMovement.objects.filter(envelope__owner=owner).count()

    assert client.get(reverse("books:envelope", args=[theirs["Taxes"].pk])).status_code == 404
    response = client.post(
        reverse("books:budget_spend"),
        {"envelope": theirs["Taxes"].pk, "amount": "1", "currency": "USD"},
    )
    assert response.status_code == 400  # not a choice on their form
    response = client.post(
        reverse("books:budget_move"),
        {
            "from_envelope": theirs["Owner pay"].pk,
            "to_envelope": mine["Taxes"].pk,
            "amount": "1",
            "currency": "USD",
        },
    )
    assert response.status_code == 400
    data = {f"name_{theirs['Taxes'].pk}": "Mine", f"percent_{theirs['Taxes'].pk}": "25"}
    client.post(reverse("books:budget_rules"), data)
    assert EnvelopeMovement.objects.filter(envelope__owner=owner).count() == before
    assert envs(owner)["Taxes"].name == "Taxes"
