"""``micromarket demo`` writes its conversations through the real messaging services."""

import io

import pytest
from django.core.management import call_command

from micromarket.messaging import selectors
from micromarket.messaging.models import CustomOffer, Message
from micromarket.orders.models import Order


@pytest.mark.django_db
def test_demo_has_an_accepted_and_an_open_custom_offer_and_a_flagged_message():
    out = io.StringIO()
    call_command("demo", "--allow-production", stdout=out)

    assert "messaging: skipped" not in out.getvalue()
    accepted = CustomOffer.objects.get(state="accepted")
    order = Order.objects.get(pk=accepted.order_id)
    assert (order.kind, order.state, order.subtotal) == ("service", "requirements", 16500)
    assert order.title == "Custom offer: Bakery logo + chalk menu board layout"
    assert CustomOffer.objects.filter(state="pending", buyer__email__startswith="alex@").exists()
    (flagged,) = selectors.flagged_messages()
    assert flagged.warnings == ["phone"]
    maria = accepted.seller
    assert selectors.conversations_unread_count(user=maria) >= 1
    notices = Message.objects.filter(kind="system")
    assert notices.filter(body__contains="accepted the custom offer").exists()
