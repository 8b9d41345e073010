"""The resolution center's pages: opening from the order page, the dispute's file, the
operators' queue and decision form, evidence downloads."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from micromarket.accounts.tests.factories import UserFactory
from micromarket.ledger import selectors as ledger_selectors
from micromarket.messaging import services as messaging_services
from micromarket.payments.tests.test_views import operator_login, text
from micromarket.trust.models import AuditEntry, Dispute
from micromarket.trust.services import disputes as services
from micromarket.trust.tests.factories import delivered_order

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def opened(order=None):
    order = order or delivered_order()
    dispute = services.dispute_open(
        order_id=order.pk,
        actor=order.buyer,
        reason="quality",
        description="Blurry print.",
        files=[SimpleUploadedFile("proof.pdf", PDF)],
    )
    return order, dispute


def test_the_order_page_leads_to_the_dispute_form_which_opens_it():
    order = delivered_order()
    thread = messaging_services.conversation_for_order(order_id=order.pk, user=order.buyer)
    said = messaging_services.message_send(
        conversation_id=thread.pk, sender=order.seller, body="Prints will be crisp."
    )
    buyer = client_for(order.buyer)
    page = buyer.get(f"/orders/{order.pk}/").content.decode()
    assert f'href="/disputes/open/{order.pk}/"' in page

    form = buyer.get(f"/disputes/open/{order.pk}/")
    assert "Prints will be crisp." in text(form)  # a message to cite
    missing = buyer.post(f"/disputes/open/{order.pk}/", {"reason": "quality"})
    assert missing.status_code == 400
    assert not Dispute.objects.exists()

    response = buyer.post(
        f"/disputes/open/{order.pk}/",
        {
            "reason": "quality",
            "description": "The prints are blurry.",
            "message_ids": [said.pk],
            "files": [SimpleUploadedFile("photo.pdf", PDF)],
        },
    )
    dispute = Dispute.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/disputes/{dispute.pk}/"
    page = text(buyer.get(response["Location"]))
    assert "The prints are blurry." in page
    assert "Prints will be crisp." in page  # the excerpt
    assert "photo.pdf" in page
    assert "Waiting for the seller's answer" in page
    order_page = text(buyer.get(f"/orders/{order.pk}/"))
    assert "This order is in dispute" in order_page


def test_a_refused_file_shows_on_the_form_and_nothing_is_written():
    order = delivered_order()
    response = client_for(order.buyer).post(
        f"/disputes/open/{order.pk}/",
        {
            "reason": "quality",
            "description": "Blurry.",
            "files": [SimpleUploadedFile("photo.pdf", b"MZ\x90\x00program")],
        },
    )
    assert response.status_code == 400
    assert "not allowed" in text(response)
    assert not Dispute.objects.exists()


def test_strangers_get_404_everywhere_and_nothing_changes():
    order, dispute = opened()
    stranger = client_for(UserFactory())
    evidence = dispute.evidence.get()
    for url in (
        f"/disputes/{dispute.pk}/",
        f"/disputes/{dispute.pk}/evidence/{evidence.pk}/",
        f"/disputes/open/{order.pk}/",
    ):
        assert stranger.get(url).status_code == 404, url
    for step, data in [
        ("respond", {"respond-message": "x"}),
        ("comment", {"comment-message": "x"}),
        ("propose", {"propose-buyer_amount": "1.00"}),
        ("escalate", {}),
        ("decide", {"decide-outcome": "refund", "decide-note": "x"}),
    ]:
        assert stranger.post(f"/disputes/{dispute.pk}/{step}/", data).status_code == 404, step
    dispute.refresh_from_db()
    assert (dispute.status, dispute.events.count()) == ("awaiting_response", 1)
    assert "Blurry" not in text(stranger.get("/disputes/"))


def test_the_parties_download_evidence():
    order, dispute = opened()
    evidence = dispute.evidence.get()
    response = client_for(order.seller).get(f"/disputes/{dispute.pk}/evidence/{evidence.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert 'attachment; filename="proof.pdf"' in response["Content-Disposition"]


def test_answer_propose_decline_escalate_then_the_operator_splits(client):
    order, dispute = opened()
    seller, buyer = client_for(order.seller), client_for(order.buyer)
    base = f"/disputes/{dispute.pk}"
    assert seller.post(f"{base}/respond/", {"respond-message": "They were crisp."}).status_code == (
        302
    )
    held = ledger_selectors.escrow_for_reference(order.reference).subtotal
    over = seller.post(f"{base}/propose/", {"propose-buyer_amount": str(held / 100)})
    assert over.status_code == 400  # all of it is not a partial refund
    seller.post(f"{base}/propose/", {"propose-buyer_amount": "2.50"})
    proposal = dispute.proposals.get()
    assert proposal.buyer_amount == 250
    page = text(buyer.get(f"{base}/"))
    assert "Accept $2.50 refund" in page
    assert seller.post(f"{base}/proposals/{proposal.pk}/accept/").status_code == 403
    buyer.post(f"{base}/proposals/{proposal.pk}/decline/")
    buyer.post(f"{base}/escalate/", {"escalate-message": "Please decide."})
    dispute.refresh_from_db()
    assert dispute.status == "escalated"

    refused = buyer.post(
        f"{base}/decide/", {"decide-outcome": "refund", "decide-note": "Mine, please."}
    )
    assert refused.status_code == 403

    operator_login(client)
    queue = text(client.get("/ops/trust/disputes/"))
    assert f"#{dispute.pk}" in queue
    page = text(client.get(f"{base}/"))
    assert "Decide (operator)" in page
    assert "They were crisp." in page
    response = client.post(
        f"{base}/decide/",
        {"decide-outcome": "split", "decide-buyer_amount": "3.00", "decide-note": "Half blurry."},
    )
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert (dispute.outcome, dispute.buyer_amount) == ("split", 300)
    assert AuditEntry.objects.filter(action="dispute_decide").count() == 1
    assert "Resolved: split by an operator." in text(buyer.get(f"{base}/"))
    assert ledger_selectors.ledger_verify() == []


def test_the_operator_sees_the_whole_order_conversation(client):
    order = delivered_order()
    thread = messaging_services.conversation_for_order(order_id=order.pk, user=order.buyer)
    for i in range(105):
        messaging_services.message_send(
            conversation_id=thread.pk, sender=order.buyer, body=f"Note number {i}."
        )
    _, dispute = opened(order)
    operator_login(client)
    page = text(client.get(f"/disputes/{dispute.pk}/"))
    assert "Note number 0." in page
    assert "Note number 104." in page
    assert "(105 messages)" in page


def test_the_operators_queue_is_for_operators_only():
    opened()
    response = client_for(UserFactory()).get("/ops/trust/disputes/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_operator_splits_from_the_order_page_and_the_dispute_follows(client):
    order, dispute = opened()
    operator_login(client)
    page = text(client.get(f"/orders/{order.pk}/"))
    assert "Split the payment" in page
    response = client.post(
        f"/orders/{order.pk}/transitions/resolve_split/",
        {"resolve_split-buyer_amount": "1.50", "resolve_split-message": "Partly right."},
    )
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert (dispute.status, dispute.outcome, dispute.buyer_amount) == ("resolved", "split", 150)
    assert AuditEntry.objects.filter(action="dispute_decide", target_id=dispute.pk).exists()
    assert "Dispute resolved: split by an operator." in text(
        client_for(order.buyer).get(f"/orders/{order.pk}/")
    )
    assert ledger_selectors.ledger_verify() == []
