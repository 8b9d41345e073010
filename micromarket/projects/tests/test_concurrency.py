"""Projects racing each other on PostgreSQL (row locks are real there): sellers after the last
unit, awards after the last of the budget, one seller claiming twice at once, and two funding
requests for the same unit. Each thread has its own connection; a barrier releases them
together (``core.tests.concurrency.race``).

Whatever the interleaving: units are never oversold, the budget is never exceeded, the losers are
told why (Conflict with its code) and nothing of theirs is written, and a unit is paid once.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from micromarket.catalog.tests import factories as catalog_factories
from micromarket.core.errors import Conflict
from micromarket.core.tests.concurrency import race
from micromarket.ledger import selectors as ledger_selectors
from micromarket.orders import services as order_services
from micromarket.orders.models import Checkout, Order
from micromarket.payments.models import Payment
from micromarket.projects import selectors, services
from micromarket.projects.models import Assignment, Project, Proposal
from micromarket.projects.tests.factories import fund, make_project, propose, seller

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 6


@pytest.fixture(autouse=True)
def _categories():
    catalog_factories.seed_categories()


def split(outcomes: list) -> tuple[list, list]:
    won = [o for o in outcomes if not isinstance(o, Exception)]
    lost = [o for o in outcomes if isinstance(o, Exception)]
    return won, lost


def assert_lost_with(lost: list, code: str) -> None:
    assert lost, "somebody should have lost"
    assert all(isinstance(e, Conflict) and e.code == code for e in lost), lost


def test_sellers_racing_for_the_last_unit_one_gets_it():
    project = make_project(tasks=[{"claimable": True, "quantity": 1, "budget": 3000}])
    task = project.tasks.get()
    sellers = [seller() for _ in range(THREADS)]

    outcomes = race(THREADS, lambda i: services.task_claim(seller=sellers[i], task_id=task.pk))

    won, lost = split(outcomes)
    assert len(won) == 1, outcomes
    assert_lost_with(lost, "task_full")
    assert Assignment.objects.filter(task=task).count() == 1
    assert Assignment.objects.get().seller == won[0].seller
    assert selectors.units_taken(task.pk) == 1
    assert selectors.committed(project.pk) == 3000


def test_awards_racing_for_the_last_units_never_oversell():
    project = make_project(tasks=[{"quantity": 2, "per_seller_limit": 1}])
    task = project.tasks.get()
    proposals = [propose(seller(), task) for _ in range(THREADS)]

    outcomes = race(
        THREADS,
        lambda i: services.proposal_award(buyer=project.buyer, proposal_id=proposals[i].pk),
    )

    won, lost = split(outcomes)
    assert len(won) == 2, outcomes
    assert_lost_with(lost, "task_full")
    assert Assignment.objects.filter(task=task).count() == 2
    assert Proposal.objects.filter(task=task, status="awarded").count() == 2
    assert Proposal.objects.filter(task=task, status="pending").count() == THREADS - 2


def test_two_awards_that_together_exceed_the_budget_one_succeeds():
    project = make_project(
        tasks=[{"title": "Write", "budget": 5000}, {"title": "Translate", "budget": 5000}],
        budget=10_000,
    )
    write, translate = project.tasks.all()
    proposals = [propose(seller(), write, price=6000), propose(seller(), translate, price=6000)]

    outcomes = race(
        2, lambda i: services.proposal_award(buyer=project.buyer, proposal_id=proposals[i].pk)
    )

    won, lost = split(outcomes)
    assert len(won) == 1, outcomes
    assert_lost_with(lost, "over_budget")
    assert Assignment.objects.count() == 1
    assert selectors.committed(project.pk) == 6000
    loser = next(p for p in proposals if p.pk != won[0].proposal_id)
    assert Proposal.objects.get(pk=loser.pk).status == "pending"


def test_claims_and_awards_mixed_never_exceed_the_budget():
    project = make_project(
        tasks=[
            {"title": "Queue", "budget": 3000, "quantity": 3, "claimable": True},
            {"title": "Write", "budget": 4000},
        ],
        budget=13_000,
    )
    queue, write = project.tasks.all()
    claimers = [seller() for _ in range(THREADS - 1)]
    proposal = propose(seller(), write, price=7000)  # with 3 claims: 16 000 > 13 000

    def request(i):
        if i == 0:
            return services.proposal_award(buyer=project.buyer, proposal_id=proposal.pk)
        return services.task_claim(seller=claimers[i - 1], task_id=queue.pk)

    outcomes = race(THREADS, request)

    won, lost = split(outcomes)
    assert all(isinstance(e, Conflict) and e.code in ("task_full", "over_budget") for e in lost)
    assert selectors.committed(project.pk) <= 13_000
    assert selectors.units_taken(queue.pk) <= 3
    assert selectors.committed(project.pk) == sum(a.price for a in won)


def test_one_seller_claiming_twice_at_once_gets_one_unit():
    project = make_project(tasks=[{"claimable": True, "quantity": 5, "per_seller_limit": 1}])
    task = project.tasks.get()
    someone = seller()

    outcomes = race(4, lambda i: services.task_claim(seller=someone, task_id=task.pk))

    won, lost = split(outcomes)
    assert len(won) == 1, outcomes
    assert_lost_with(lost, "seller_limit")
    assert selectors.units_taken(task.pk, seller_id=someone.pk) == 1


def test_two_funding_requests_for_the_same_unit_pay_once():
    project = make_project()
    assignment = services.proposal_award(
        buyer=project.buyer, proposal_id=propose(seller(), project.tasks.get()).pk
    )

    outcomes = race(2, lambda i: fund(project.buyer, [assignment], key=f"tab-{i}"))

    won, lost = split(outcomes)
    assert len(won) == 1, outcomes
    assert_lost_with(lost, "already_funded")
    assert won[0].status == "paid"
    assert Checkout.objects.count() == 1
    assert Payment.objects.count() == 1
    assert Order.objects.count() == 1
    assignment.refresh_from_db()
    assert assignment.order.checkout_id == won[0].pk
    assert ledger_selectors.ledger_verify() == []


# --- funding holding the unit's lock while something else reaches for it ------------------------
#
# The funding transaction locks the assignments, creates the orders and links them. Whatever
# waits for that lock meanwhile (another funding, a withdrawal, closing the project, the lapse
# job) must see the unit as funded once it gets the lock. To make that interleaving certain,
# the funding pauses inside its transaction until the other request is waiting on a lock.


def someone_waits_on_a_lock(deadline_seconds: float = 10.0) -> bool:
    """True once another connection of this database waits for a row lock."""
    end = time.monotonic() + deadline_seconds
    with connection.cursor() as cursor:
        while time.monotonic() < end:
            # pg_stat_activity is a snapshot kept for the transaction unless it is cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return True
    return False


@pytest.fixture
def funding_then(monkeypatch):
    """``funding_then(buyer, assignment, other)`` races a funding of ``assignment`` with
    ``other()``, started while the funding holds the assignment's lock; → (checkout or error,
    other's result or error)."""
    locked = threading.Event()
    real = order_services.milestone_checkout_create

    def create_and_wait(**kwargs):
        checkout = real(**kwargs)
        if not locked.is_set():  # the first funding only
            locked.set()
            assert someone_waits_on_a_lock(), "the other request never waited for the lock"
        return checkout

    monkeypatch.setattr(order_services, "milestone_checkout_create", create_and_wait)

    def run(buyer, assignment, other):
        def request(i):
            if i == 0:
                return fund(buyer, [assignment], key="first-tab")
            assert locked.wait(timeout=30)
            return other()

        return race(2, request)

    return run


def funded_award():
    project = make_project()
    assignment = services.proposal_award(
        buyer=project.buyer, proposal_id=propose(seller(), project.tasks.get()).pk
    )
    return project, assignment


def assert_paid_once(assignment: Assignment, checkout) -> None:
    assert not isinstance(checkout, Exception), checkout
    assert checkout.status == "paid"
    assignment = Assignment.objects.select_related("order").get(pk=assignment.pk)
    assert assignment.status == "active"
    assert (assignment.order.checkout_id, assignment.order.state) == (checkout.pk, "in_progress")
    assert Payment.objects.count() == 1
    assert Order.objects.filter(origin=assignment.origin).count() == 1
    assert selectors.units_taken(assignment.task_id) == 1
    assert ledger_selectors.ledger_verify() == []


def test_a_second_funding_waiting_for_the_lock_sees_the_unit_funded(funding_then):
    """BUG (fails today): the waiting request's ``select_for_update(...).select_related("order")``
    re-reads the assignment after the lock but not the new order (PostgreSQL re-checks only the
    locked row), so ``a.order`` is None and the unit is paid twice."""
    project, assignment = funded_award()

    checkout, other = funding_then(
        project.buyer,
        assignment,
        lambda: fund(project.buyer, [assignment], key="second-tab"),
    )

    assert isinstance(other, Conflict), other
    assert other.code == "already_funded"
    assert_paid_once(assignment, checkout)


def test_withdrawing_while_the_buyer_funds_never_withdraws_paid_work(funding_then):
    """BUG (fails today): same stale join in ``assignment_withdraw``: the paid unit is withdrawn,
    its unit and budget freed while its order holds the buyer's money."""
    project, assignment = funded_award()

    checkout, other = funding_then(
        project.buyer,
        assignment,
        lambda: services.assignment_withdraw(actor=assignment.seller, assignment_id=assignment.pk),
    )

    assert isinstance(other, Conflict), other
    assert other.code == "already_funded"
    assert_paid_once(assignment, checkout)


def test_closing_the_project_while_the_buyer_funds_keeps_the_paid_work(funding_then):
    """BUG (fails today): ``project_close`` withdraws with an UPDATE whose join on the order is a
    subquery read before the lock wait, so the just-funded unit is withdrawn."""
    project, assignment = funded_award()

    checkout, other = funding_then(
        project.buyer,
        assignment,
        lambda: services.project_close(buyer=project.buyer, project_id=project.pk),
    )

    assert not isinstance(other, Exception), other
    assert Project.objects.get(pk=project.pk).status == "closed"
    assert_paid_once(assignment, checkout)


def test_the_lapse_job_running_while_the_buyer_funds_keeps_the_paid_work(funding_then):
    """BUG (fails today): ``assignments_lapse``'s conditional UPDATE has the same stale subquery:
    a unit funded at the last moment lapses with its money in escrow."""
    project, assignment = funded_award()
    later = timezone.now() + timedelta(hours=49)

    checkout, other = funding_then(
        project.buyer, assignment, lambda: services.assignments_lapse(now=later)
    )

    assert other == 0, other
    assert_paid_once(assignment, checkout)
