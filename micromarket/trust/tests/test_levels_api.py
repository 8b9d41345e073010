"""Seller levels over the API: a user's level (public; the seller also gets figures and what is
missing), the published thresholds, and appeals (sellers only, one open, private)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from micromarket.accounts.tests.factories import UserFactory
from micromarket.catalog.tests.factories import seller as make_seller
from micromarket.trust.models import LevelAppeal, SellerStanding
from micromarket.trust.services import levels as services

pytestmark = pytest.mark.django_db

API = "/api/v1"
MESSAGE = "Two of my orders were counted as late but were delivered on time."


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, path: str, body: dict):
    return client.post(API + path, json.dumps(body), content_type="application/json")


def test_anyone_reads_a_sellers_level_without_the_figures():
    seller = make_seller()
    SellerStanding.objects.create(seller=seller, level="level2", figures={"completed_orders": 30})
    body = Client().get(f"{API}/users/{seller.pk}/level").json()
    assert body == {"user_id": seller.pk, "level": "level2", "label": "Level 2", "progress": None}
    other = as_user(make_seller()).get(f"{API}/users/{seller.pk}/level").json()
    assert other["progress"] is None


def test_the_seller_also_gets_figures_and_what_is_missing():
    seller = make_seller()
    body = as_user(seller).get(f"{API}/users/{seller.pk}/level").json()
    assert body["level"] == "new"
    progress = body["progress"]
    assert progress["next_level"] == "level1"
    assert "10 more completed orders" in progress["missing"]
    assert progress["figures"]["completed_orders"] == 0
    assert [lv["level"] for lv in progress["levels"]] == ["level1", "level2", "top"]


def test_a_user_who_is_not_a_seller_has_no_level():
    buyer = UserFactory()
    response = Client().get(f"{API}/users/{buyer.pk}/level")
    assert response.status_code == 404
    assert Client().get(f"{API}/users/999999/level").status_code == 404


def test_the_published_thresholds():
    levels = Client().get(f"{API}/levels").json()
    assert [lv["level"] for lv in levels] == ["level1", "level2", "top"]
    top = levels[2]
    assert (top["label"], top["min_completed_orders"], top["min_rating"]) == (
        "Top Rated",
        100,
        "4.80",
    )
    assert top["clearing_days"] == 7


def test_a_seller_appeals_once_and_reads_their_appeals():
    seller = make_seller()
    client = as_user(seller)
    created = post(client, "/levels/appeals", {"message": MESSAGE})
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "open"
    again = post(client, "/levels/appeals", {"message": MESSAGE})
    assert again.status_code == 409
    assert again.json()["code"] == "appeal_open"
    listed = client.get(f"{API}/levels/appeals").json()
    assert [a["id"] for a in listed["items"]] == [created.json()["id"]]


def test_a_buyer_cannot_appeal():
    response = post(as_user(UserFactory()), "/levels/appeals", {"message": MESSAGE})
    assert response.status_code == 403
    assert not LevelAppeal.objects.exists()


def test_a_stranger_can_neither_read_nor_list_another_sellers_appeal():
    appeal = services.level_appeal_create(seller=make_seller(), message=MESSAGE)
    stranger = as_user(make_seller())
    assert stranger.get(f"{API}/levels/appeals/{appeal.pk}").status_code == 404
    assert stranger.get(f"{API}/levels/appeals").json()["items"] == []
    assert Client().get(f"{API}/levels/appeals").status_code == 401
    owner = as_user(appeal.seller).get(f"{API}/levels/appeals/{appeal.pk}")
    assert owner.json()["message"] == MESSAGE
