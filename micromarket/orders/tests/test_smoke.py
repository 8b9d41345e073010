from datetime import timedelta
import pytest, time_machine
from django.utils import timezone
from micromarket.orders import services, selectors
from micromarket.orders.models import Order
from micromarket.orders.tests.conftest import place, held, books_balance

pytestmark = pytest.mark.django_db

def test_gig(buyer, offer_of, mailoutbox):
    offer = offer_of("service")
    extra = offer.extras.first()
    co = place(buyer, {"offer": offer.pk, "package": "standard", "extras": [extra.pk]})
    assert co.status == "paid", co.failure_message
    order = co.orders.get()
    assert order.state == "requirements"
    assert order.subtotal == 11000
    seller = order.seller
    order = services.order_transition(order_id=order.pk, name="submit_requirements", actor=buyer, data={"answers": ["Bakery"]})
    assert order.state == "in_progress"
    order = services.order_transition(order_id=order.pk, name="deliver", actor=seller, data={"message": "here"})
    order = services.order_transition(order_id=order.pk, name="request_revision", actor=buyer, data={"message": "bigger"})
    order = services.order_transition(order_id=order.pk, name="deliver", actor=seller, data={"message": "here2"})
    with time_machine.travel(timezone.now() + timedelta(days=3, minutes=1)):
        assert services.deadlines_apply() == 1
    order.refresh_from_db()
    assert order.state == "completed"
    assert held(order.reference) == 0
    assert books_balance()
    print([m.subject for m in mailoutbox])

def test_rental(buyer, offer_of):
    offer = offer_of("rental")
    start = timezone.localdate() + timedelta(days=10)
    co = place(buyer, {"offer": offer.pk, "start": str(start), "end": str(start + timedelta(days=3))})
    assert co.status == "paid", co.failure_message
    order = co.orders.get()
    assert order.state == "requested", order.state
    assert order.deposit == 10000
    co2 = None
    from micromarket.core.errors import Conflict
    from micromarket.accounts.tests.factories import UserFactory
    with pytest.raises(Conflict):
        place(UserFactory(), {"offer": offer.pk, "start": str(start + timedelta(days=1)), "end": str(start + timedelta(days=4))})
    s = order.seller
    services.order_transition(order_id=order.pk, name="accept", actor=s)
    with time_machine.travel(order.starts_at):
        services.order_transition(order_id=order.pk, name="check_in", actor=s)
        services.order_transition(order_id=order.pk, name="check_out", actor=s)
        order = services.order_transition(order_id=order.pk, name="complete", actor=s, data={"claim": 2500, "message": "broken lamp"})
    assert order.state == "completed"
    assert held(order.reference) == 0 and held(order.deposit_reference) == 0
    assert books_balance()

def test_task(buyer, offer_of):
    offer = offer_of("task")
    co = place(buyer, {"offer": offer.pk, "starts_at": (timezone.now() + timedelta(days=2)).isoformat(), "hours": "3", "address": "2 High St"})
    order = co.orders.get()
    assert order.state == "booked" and order.subtotal == 9000
    services.order_transition(order_id=order.pk, name="complete_work", actor=order.seller, data={"hours_worked": "2.5"})
    order = services.order_transition(order_id=order.pk, name="approve", actor=buyer)
    assert held(order.reference) == 0
    assert books_balance()

def test_digital_physical_cart(buyer, offer_of):
    d = offer_of("digital"); p = offer_of("physical")
    co = place(buyer, {"offer": d.pk}, {"offer": p.pk, "quantity": 2})
    assert co.status == "paid", co.failure_message
    states = {o.kind: o.state for o in co.orders.all()}
    assert states == {"digital": "delivered", "physical": "paid"}, states
    po = co.orders.get(kind="physical")
    assert po.subtotal == 6500
    po = services.order_transition(order_id=po.pk, name="seller_cancel", actor=po.seller, data={"message": "sorry"})
    p.physical.refresh_from_db(); assert p.physical.stock == 5
    assert held(po.reference) == 0
    assert books_balance()

def test_experience(buyer, offer_of):
    e = offer_of("experience")
    s = e.sessions.first()
    co = place(buyer, {"offer": e.pk, "session": s.pk, "seats": 2})
    order = co.orders.get()
    assert order.state == "booked"
    assert services.session_cancel(session_id=s.pk, actor=order.seller) == 1
    order.refresh_from_db(); assert order.state == "cancelled"
    assert held(order.reference) == 0 and books_balance()
