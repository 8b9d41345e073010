"""/api/v1/disputes: the resolution center for scripts and apps. Strangers get 404 on every
dispute endpoint and nothing changes; only operators decide."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from micromarket.accounts.tests.factories import UserFactory
from micromarket.ledger import selectors as ledger_selectors
from micromarket.payments.tests.test_views import operator_login
from micromarket.trust.models import Dispute, DisputeEvent, DisputeProposal
from micromarket.trust.services import disputes as services
from micromarket.trust.tests.factories import delivered_order

pytestmark = pytest.mark.django_db

API = "/api/v1/disputes"
PDF = b"%PDF-1.4\n%%EOF\n"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def opened():
    order = delivered_order()
    dispute = services.dispute_open(
        order_id=order.pk, actor=order.buyer, reason="quality", description="Blurry."
    )
    return order, dispute


def test_the_buyer_opens_with_a_file_and_both_sides_read_it():
    order = delivered_order()
    buyer = client_for(order.buyer)
    response = buyer.post(
        API,
        {
            "order_id": order.pk,
            "reason": "not_as_described",
            "description": "Wrong size.",
            "files": [SimpleUploadedFile("photo.pdf", PDF)],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["role"], body["reason"]) == (
        "awaiting_response",
        "buyer",
        "not_as_described",
    )
    assert body["held"] == ledger_selectors.escrow_for_reference(order.reference).subtotal
    evidence = body["events"][0]["evidence"][0]
    assert evidence["name"] == "photo.pdf"
    download = client_for(order.seller).get(evidence["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert client_for(UserFactory()).get(evidence["url"]).status_code == 404

    listed = client_for(order.seller).get(API).json()
    assert [(d["id"], d["role"]) for d in listed["items"]] == [(body["id"], "seller")]


def test_opening_refuses_bad_input_and_a_second_dispute():
    order = delivered_order()
    buyer = client_for(order.buyer)
    bad = post(buyer, API, {"order_id": order.pk, "reason": "nope", "description": "x"})
    assert bad.status_code == 422
    assert bad["Content-Type"] == "application/problem+json"
    assert not Dispute.objects.exists()
    ok = post(buyer, API, {"order_id": order.pk, "reason": "late", "description": "Late."})
    assert ok.status_code == 201
    again = post(buyer, API, {"order_id": order.pk, "reason": "late", "description": "Late."})
    assert again.status_code == 409
    stranger = post(
        client_for(UserFactory()), API, {"order_id": order.pk, "reason": "late", "description": "x"}
    )
    assert stranger.status_code == 404


def test_the_seller_answers_proposes_and_the_buyer_accepts():
    order, dispute = opened()
    seller, buyer = client_for(order.seller), client_for(order.buyer)
    url = f"{API}/{dispute.pk}"
    answered = post(seller, f"{url}/respond", {"message": "It was sharp when sent."})
    assert answered.status_code == 200
    assert answered.json()["status"] == "in_discussion"
    proposal = post(seller, f"{url}/proposals", {"buyer_amount": 1000, "message": "Half?"})
    assert proposal.status_code == 201, proposal.content
    pid = proposal.json()["id"]
    too_much = post(buyer, f"{url}/proposals", {"buyer_amount": 10**9})
    assert too_much.status_code == 422

    accepted = post(buyer, f"{url}/proposals/{pid}/accept")
    assert accepted.status_code == 200, accepted.content
    body = accepted.json()
    assert (body["status"], body["outcome"], body["buyer_amount"], body["held"]) == (
        "resolved",
        "agreed",
        1000,
        0,
    )
    assert ledger_selectors.ledger_verify() == []


def test_escalate_and_operator_decides_parties_cannot(client):
    order, dispute = opened()
    url = f"{API}/{dispute.pk}"
    seller, buyer = client_for(order.seller), client_for(order.buyer)
    post(seller, f"{url}/comments", {"message": "Here is my side."})
    assert post(buyer, f"{url}/escalate", {"message": "Please decide."}).json()["status"] == (
        "escalated"
    )
    for party in (buyer, seller):
        refused = post(party, f"{url}/decide", {"outcome": "refund", "note": "mine"})
        assert refused.status_code == 403
    operator_login(client)
    split = post(client, f"{url}/decide", {"outcome": "split", "note": "x"})
    assert split.status_code == 422  # a split needs its amount
    decided = post(
        client, f"{url}/decide", {"outcome": "split", "buyer_amount": 700, "note": "Partly blurry."}
    )
    assert decided.status_code == 200, decided.content
    body = decided.json()
    assert (body["status"], body["outcome"], body["buyer_amount"]) == ("resolved", "split", 700)
    assert body["decision_note"] == "Partly blurry."
    assert ledger_selectors.ledger_verify() == []


def test_strangers_get_404_on_every_dispute_endpoint_and_nothing_changes():
    order, dispute = opened()
    proposal = services.proposal_create(dispute_id=dispute.pk, actor=order.seller, buyer_amount=300)
    stranger = client_for(UserFactory())
    url = f"{API}/{dispute.pk}"
    purl = f"{url}/proposals/{proposal.pk}"
    assert stranger.get(url).status_code == 404
    for path, data in [
        (f"{url}/respond", {"message": "x"}),
        (f"{url}/comments", {"message": "x"}),
        (f"{url}/proposals", {"buyer_amount": 1}),
        (f"{purl}/accept", {}),
        (f"{purl}/decline", {}),
        (f"{purl}/withdraw", {}),
        (f"{url}/escalate", {}),
        (f"{url}/decide", {"outcome": "refund", "note": "x"}),
    ]:
        response = post(stranger, path, data)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/problem+json"
    assert stranger.get(API).json()["count"] == 0
    dispute.refresh_from_db()
    assert dispute.status == "in_discussion"  # the seller's proposal counted as its answer
    assert DisputeEvent.objects.filter(dispute=dispute).count() == 2  # opened, proposed
    assert DisputeProposal.objects.get().status == "pending"
    assert Client().get(url).status_code in (401, 404)
