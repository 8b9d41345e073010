"""The sweeper's work on projects, with time frozen and moved by hand: awards and claims not
funded within 48 hours lapse (``projects.assignments_lapse``), and a funding that stopped
half-way is recovered by the orders' checkout job (``orders.sync_checkouts``) or by replaying
it with the same key."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from micromarket.core import sweeper
from micromarket.core.errors import Conflict
from micromarket.orders import services as order_services
from micromarket.payments.models import Payment
from micromarket.payments.providers import sandbox
from micromarket.projects import jobs, selectors, services
from micromarket.projects.tests.conftest import T0, books_balance, notifications
from micromarket.projects.tests.factories import fund, make_project, propose, reload, seller

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "after_commit_inline")]

MINUTE = timedelta(minutes=1)
WINDOW = timedelta(hours=48)


def run_lapse() -> int:
    """The sweeper's run of the job now."""
    return jobs.assignments_lapse(now=timezone.now())


def claimed(**task):
    """A claim of a one-unit claimable task made at T0 → (project, assignment)."""
    project = make_project(tasks=[{"claimable": True, "quantity": 1, **task}])
    claim = services.task_claim(
        seller=seller(display_name="Ana Ruiz"), task_id=project.tasks.get().pk
    )
    return project, claim


def test_the_jobs_are_registered_with_the_sweeper():
    sweeper.autodiscover()
    names = {job.name: job.every for job in sweeper.registered_jobs()}
    assert names["projects.assignments_lapse"] == timedelta(minutes=30)
    assert "orders.sync_checkouts" in names


def test_an_unfunded_claim_lapses_after_48_hours_not_before(clock):
    project, claim = claimed(title="Translate the menu")

    clock.move_to(T0 + WINDOW)
    assert run_lapse() == 0
    assert reload(claim).status == "active"
    assert selectors.units_taken(claim.task_id) == 1

    clock.move_to(T0 + WINDOW + MINUTE)
    assert run_lapse() == 1

    claim = reload(claim)
    assert (claim.status, claim.ended_at) == ("lapsed", T0 + WINDOW + MINUTE)
    assert selectors.units_taken(claim.task_id) == 0
    assert selectors.committed(project.pk) == 0
    told = "“Translate the menu” for Ana Ruiz lapsed"
    assert notifications(claim.seller, "projects") == [told]
    assert notifications(project.buyer, "projects")[0] == told
    # The unit is open again; running the job again changes nothing and tells nobody twice.
    assert services.task_claim(seller=seller(), task_id=claim.task_id).status == "active"
    assert run_lapse() == 0
    assert notifications(claim.seller) == [told]


def test_an_unfunded_award_lapses_too(clock):
    project = make_project()
    task = project.tasks.get()
    award = services.proposal_award(buyer=project.buyer, proposal_id=propose(seller(), task).pk)

    clock.move_to(T0 + WINDOW + MINUTE)
    assert run_lapse() == 1

    assert reload(award).status == "lapsed"
    assert selectors.stage_of(reload(award)) == "funding"
    assert selectors.project_board(buyer=project.buyer, project_id=project.pk).to_fund == []
    again = services.proposal_award(buyer=project.buyer, proposal_id=propose(seller(), task).pk)
    assert again.status == "active"


def test_funded_work_never_lapses_but_a_failed_payment_does(clock):
    project = make_project(tasks=[{"claimable": True, "quantity": 2}])
    task = project.tasks.get()
    paid = services.task_claim(seller=seller(), task_id=task.pk)
    failed = services.task_claim(seller=seller(), task_id=task.pk)
    fund(project.buyer, [paid])
    fund(project.buyer, [failed], card=sandbox.CARD_DECLINED)
    assert reload(failed).order.state == "payment_failed"

    clock.move_to(T0 + WINDOW + MINUTE)
    assert run_lapse() == 1

    assert (reload(paid).status, reload(paid).order.state) == ("active", "in_progress")
    assert reload(failed).status == "lapsed"
    assert selectors.units_taken(task.pk) == 1
    assert books_balance()


def test_a_payment_waiting_for_the_buyers_confirmation_does_not_lapse_while_it_waits(clock):
    project, claim = claimed()
    checkout = fund(project.buyer, [claim], card=sandbox.CARD_REQUIRES_ACTION)
    assert checkout.status == "pending"
    assert checkout.payment.action_url
    assert selectors.stage_of(reload(claim)) == "paying"

    # The buyer never confirms: the orders' job withdraws the payment after its window …
    clock.move_to(T0 + timedelta(minutes=31))
    order_services.checkouts_sync()
    assert reload(claim).order.state == "payment_failed"
    assert reload(claim).status == "active"

    # … and the claim, still unfunded, lapses 48 hours after it was made.
    clock.move_to(T0 + WINDOW + MINUTE)
    assert run_lapse() == 1
    assert reload(claim).status == "lapsed"
    assert books_balance()


# --- a funding that stopped half-way ------------------------------------------------------------


@pytest.fixture
def crash_before_charging(monkeypatch):
    """``assignments_fund`` stops after its orders were created and linked, before charging
    (the process died): the next call of ``orders.services.checkout_pay`` raises."""
    real = order_services.checkout_pay
    calls = []

    def crash(**kwargs):
        if not calls:
            calls.append(kwargs)
            raise RuntimeError("the worker died")
        return real(**kwargs)

    monkeypatch.setattr(order_services, "checkout_pay", crash)


def test_an_interrupted_funding_is_already_linked_and_a_replay_with_its_key_charges_it(
    crash_before_charging,
):
    project, claim = claimed()

    with pytest.raises(RuntimeError):
        fund(project.buyer, [claim], key="fund-claim")

    claim = reload(claim)
    assert claim.order.state == "pending_payment"  # linked in the same transaction
    assert selectors.stage_of(claim) == "paying"
    assert not Payment.objects.exists()
    with pytest.raises(Conflict) as info:  # a second payment for the same unit is refused
        fund(project.buyer, [claim], key="another-attempt")
    assert info.value.code == "already_funded"

    checkout = fund(project.buyer, [claim], key="fund-claim")

    assert checkout.status == "paid"
    assert reload(claim).order.state == "in_progress"
    assert Payment.objects.count() == 1
    assert books_balance()


def test_an_interrupted_funding_nobody_replays_is_released_by_the_checkout_job(
    clock, crash_before_charging
):
    project, claim = claimed()
    with pytest.raises(RuntimeError):
        fund(project.buyer, [claim], key="fund-claim")

    clock.move_to(T0 + timedelta(minutes=29))
    order_services.checkouts_sync()
    assert reload(claim).order.state == "pending_payment"

    clock.move_to(T0 + timedelta(minutes=31))
    order_services.checkouts_sync()

    claim = reload(claim)
    assert (claim.status, claim.order.state) == ("active", "payment_failed")
    assert not Payment.objects.exists()
    checkout = fund(project.buyer, [claim], key="fund-again")
    assert checkout.status == "paid"
    assert reload(claim).order.checkout_id == checkout.pk
    assert books_balance()
