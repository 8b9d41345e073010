"""The budget API: envelopes with balances, rules, moves, spending, history, safe to spend;
another user's envelope is 404 on every object endpoint and nothing changes."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.test import Client

from micromarket.accounts.tests.factories import UserFactory
from micromarket.books.models import Entry, EnvelopeMovement
from micromarket.books.selectors import budget as selectors
from micromarket.books.services import budget as services

pytestmark = pytest.mark.django_db

API = "/api/v1/books"


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def send(client: Client, method: str, path: str, body: dict | None = None):
    return getattr(client, method)(
        API + path, json.dumps(body or {}), content_type="application/json"
    )


def income(owner, amount, currency="USD"):
    entry = Entry.objects.create(
        owner=owner,
        kind=Entry.Kind.INCOME,
        date=date(2025, 3, 3),
        amount=amount,
        currency=currency,
        payee="Acme",
        category="direct_clients",
        fingerprint="x",
    )
    services.income_allocate(entry=entry)
    return entry


def by_name(items) -> dict[str, dict]:
    return {i["name"]: i for i in items}


def test_list_envelopes_with_balances():
    seller = UserFactory()
    income(seller, 10001)
    body = as_user(seller).get(f"{API}/envelopes").json()
    assert body["count"] == 4
    envs = by_name(body["items"])
    assert envs["Owner pay"]["balances"] == {"USD": 5001}
    assert envs["Taxes"]["percent_bps"] == 2500
    assert sum(e["balances"]["USD"] for e in body["items"]) == 10001


def test_rules_move_spend_and_history():
    seller = UserFactory()
    income(seller, 10000)
    client = as_user(seller)
    envs = by_name(client.get(f"{API}/envelopes").json()["items"])
    bad = send(
        client,
        "put",
        "/budget/rules",
        {"rules": [{"envelope_id": envs["Taxes"]["id"], "name": "Taxes", "percent_bps": 2000}]},
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "total_not_100"
    ok = send(
        client,
        "put",
        "/budget/rules",
        {
            "rules": [
                {"envelope_id": envs["Taxes"]["id"], "name": "Taxes", "percent_bps": 2000},
                {"envelope_id": None, "name": "Holiday", "percent_bps": 500},
            ]
        },
    )
    assert ok.status_code == 200
    assert by_name(ok.json())["Holiday"]["percent_bps"] == 500

    move = send(
        client,
        "post",
        "/budget/moves",
        {
            "from_envelope_id": envs["Owner pay"]["id"],
            "to_envelope_id": envs["Emergency fund"]["id"],
            "amount": 1000,
            "currency": "USD",
        },
    )
    assert move.status_code == 201
    assert move.json()["moved_in"]["amount"] == 1000
    over = send(
        client,
        "post",
        f"/envelopes/{envs['Taxes']['id']}/spend",
        {"amount": 2501, "currency": "USD"},
    )
    assert over.status_code == 422
    assert over.json()["code"] == "insufficient_balance"
    spend = send(
        client,
        "post",
        f"/envelopes/{envs['Taxes']['id']}/spend",
        {"amount": 2500, "currency": "USD", "note": "Q1"},
    )
    assert spend.status_code == 201
    assert spend.json()["kind"] == "spend"
    history = client.get(f"{API}/envelopes/{envs['Taxes']['id']}/movements").json()
    assert [m["kind"] for m in history["items"]] == ["spend", "allocation"]
    assert client.get(f"{API}/budget/movements?limit=2").json()["count"] == 7
    one = client.get(f"{API}/envelopes/{envs['Emergency fund']['id']}").json()
    assert one["balances"] == {"USD": 2000}


def test_safe_to_spend():
    seller = UserFactory()
    income(seller, 10000)
    body = as_user(seller).get(f"{API}/budget/safe-to-spend?currency=USD").json()
    assert body["owner_pay"] == 5000
    assert body["amount"] <= 5000
    assert body["steps"]


def test_another_user_gets_404_on_every_envelope_endpoint_and_nothing_changes():
    owner, stranger = UserFactory(), UserFactory()
    income(owner, 10000)
    theirs = {e.name: e.pk for e in selectors.envelopes(owner)}
    mine = {e.name: e.pk for e in services.envelopes_ensure_default(owner=stranger)}
    client = as_user(stranger)
    before = list(
        EnvelopeMovement.objects.filter(envelope__owner=owner).values_list("pk", "amount")
    )
    tid = theirs["Taxes"]
    assert client.get(f"{API}/envelopes/{tid}").status_code == 404
    assert client.get(f"{API}/envelopes/{tid}/movements").status_code == 404
    spend = send(client, "post", f"/envelopes/{tid}/spend", {"amount": 1, "currency": "USD"})
    assert spend.status_code == 404
    move = send(
        client,
        "post",
        "/budget/moves",
        {"from_envelope_id": tid, "to_envelope_id": mine["Taxes"], "amount": 1, "currency": "USD"},
    )
    assert move.status_code == 404
    rules = send(
        client,
        "put",
        "/budget/rules",
        {"rules": [{"envelope_id": tid, "name": "x", "percent_bps": 2500}]},
    )
    assert rules.status_code == 404
    assert client.get(f"{API}/budget/movements").json()["count"] == 0
    after = list(EnvelopeMovement.objects.filter(envelope__owner=owner).values_list("pk", "amount"))
    assert after == before
    assert next(e.name for e in selectors.envelopes(owner)) == "Taxes"


def test_anonymous_is_refused():
    assert Client().get(f"{API}/envelopes").status_code == 401
