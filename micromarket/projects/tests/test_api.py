"""/api/v1/projects as an API client sees it: a buyer's projects and tasks, sellers' search,
proposals and claims, funding with an Idempotency-Key, the work's steps through to payment,
problem+json errors, and that nobody reads or changes what is not theirs."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.test import Client

from micromarket.accounts import services as accounts_services
from micromarket.catalog.tests.factories import png
from micromarket.ledger import selectors as ledger_selectors
from micromarket.orders.models import Checkout, Order
from micromarket.payments.providers import sandbox
from micromarket.projects import services
from micromarket.projects.models import Assignment, Project, ProjectInvite, Proposal, Task
from micromarket.projects.tests.conftest import notifications
from micromarket.projects.tests.factories import (
    CARD,
    UserFactory,
    category_id,
    fund,
    make_project,
    propose,
    reload,
    seller,
    task_fields,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("after_commit_inline")]

API = "/api/v1/projects"
PROBLEM = "application/problem+json"


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def send(client: Client, method: str, path: str, body: dict | None = None, key: str = ""):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    data = json.dumps(body, default=str) if body is not None else ""
    call = getattr(client, method.lower())
    return call(path, data, content_type="application/json", **headers)


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.content
    return response.json() if response.content else {}


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert (body["status"], body["code"]) == (status, code), body
    assert body["detail"]
    assert body["title"]
    return body


def project_body(**overrides) -> dict:
    body = {
        "title": "Launch our Spanish shop",
        "description": "We are opening our shop to Spanish-speaking customers.",
        "category_id": category_id(),
        "currency": "USD",
        "budget": 50_000,
        "deadline": (date.today() + timedelta(days=30)).isoformat(),
        "visibility": "public",
    }
    body.update(overrides)
    return body


def task_body(**overrides) -> dict:
    body = {**task_fields(), "deadline": (date.today() + timedelta(days=20)).isoformat()}
    body.update(overrides)
    return body


def world() -> dict:
    """Every row a caller could change, to show that a refused request changed nothing."""
    return {
        "projects": list(Project.objects.values().order_by("pk")),
        "tasks": list(Task.objects.values().order_by("pk")),
        "invites": list(ProjectInvite.objects.values().order_by("pk")),
        "proposals": list(Proposal.objects.values().order_by("pk")),
        "assignments": list(Assignment.objects.values().order_by("pk")),
        "orders": list(Order.objects.values("pk", "state").order_by("pk")),
        "checkouts": Checkout.objects.count(),
    }


@pytest.fixture
def buyer():
    return UserFactory()


# --- projects ---------------------------------------------------------------------------------


def test_buyer_creates_edits_publishes_and_closes_a_project(buyer):
    client = as_user(buyer)
    created = ok(send(client, "POST", API, project_body()), 201)
    assert created["status"] == "draft"
    assert created["buyer"] == {"id": buyer.pk, "display_name": buyer.display_name}
    assert created["category"]["slug"] == "writing-translation"
    assert created["spend"] == {
        "budget": 50_000,
        "committed": 0,
        "funding": 0,
        "in_escrow": 0,
        "paid": 0,
        "refunded": 0,
        "left": 50_000,
    }
    assert (created["invites"], created["tasks"], created["to_fund"]) == ([], [], [])
    pid = created["id"]

    edited = ok(send(client, "PUT", f"{API}/{pid}", project_body(title="Spanish shop v2")))
    assert edited["title"] == "Spanish shop v2"
    patched = ok(send(client, "PATCH", f"{API}/{pid}", {"budget": 60_000}))
    assert (patched["title"], patched["budget"]) == ("Spanish shop v2", 60_000)

    # Publishing needs a task.
    assert_problem(send(client, "POST", f"{API}/{pid}/publish"), 422, "no_tasks")
    ok(send(client, "POST", f"{API}/{pid}/tasks", task_body()), 201)
    published = ok(send(client, "POST", f"{API}/{pid}/publish"))
    assert published["status"] == "open"
    assert published["published_at"]
    assert published["task_count"] == 1

    listed = ok(send(client, "GET", API))
    assert listed["count"] == 1
    assert listed["items"][0]["id"] == pid
    assert listed["items"][0]["task_count"] == 1

    closed = ok(send(client, "POST", f"{API}/{pid}/close"))
    assert closed["status"] == "closed"
    assert closed["closed_at"]
    assert Project.objects.get(pk=pid).status == "closed"


def test_a_project_lists_only_the_callers_own(buyer):
    make_project(buyer)
    make_project()  # someone else's
    body = ok(send(as_user(buyer), "GET", API))
    assert body["count"] == 1
    assert {"items", "count", "limit", "offset", "next", "previous"} <= body.keys()


def test_a_seller_sees_the_public_view_without_the_money(buyer):
    project = make_project(buyer)
    body = ok(send(as_user(seller()), "GET", f"{API}/{project.pk}"))
    assert body["title"] == project.title
    assert [t["title"] for t in body["tasks"]] == [project.tasks.get().title]
    assert body["tasks"][0]["units"] == {"quantity": 1, "taken": 0, "done": 0, "left": 1}
    assert body["tasks"][0]["pending_proposals"] is None
    assert (body["spend"], body["invites"], body["to_fund"]) == (None, None, None)


def test_the_buyer_sees_spend_from_the_board(buyer):
    project = make_project(buyer, tasks=[{"budget": 4000, "quantity": 2, "per_seller_limit": 1}])
    task = project.tasks.get()
    a = services.proposal_award(buyer=buyer, proposal_id=propose(seller(), task).pk)
    b = services.proposal_award(buyer=buyer, proposal_id=propose(seller(), task).pk)
    fund(buyer, [a])
    body = ok(send(as_user(buyer), "GET", f"{API}/{project.pk}"))
    assert body["spend"]["committed"] == 8000
    assert body["spend"]["funding"] == 4000  # b is awarded, not paid for
    assert body["spend"]["in_escrow"] == 4000
    assert body["spend"]["left"] == 100_000 - 8000
    assert body["to_fund"] == [b.pk]
    assert body["tasks"][0]["units"]["taken"] == 2


def test_a_project_with_bad_input_is_a_422_naming_the_field(buyer):
    past = (date.today() - timedelta(days=1)).isoformat()
    response = send(as_user(buyer), "POST", API, project_body(deadline=past))
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["loc"] == ["body", "deadline"]
    # And the schema's own checks answer problem+json as well.
    response = send(as_user(buyer), "POST", API, project_body(budget="lots"))
    body = assert_problem(response, 422, "validation_failed")
    assert "budget" in body["errors"][0]["loc"]
    assert not Project.objects.exists()


def test_invites_make_an_invite_only_project_visible_to_that_seller_only(buyer):
    project = make_project(buyer, visibility="invited")
    task = project.tasks.get()
    invited, other = seller(), seller()
    client = as_user(buyer)

    # Before the invitation: invisible in search and by id.
    assert ok(send(as_user(invited), "GET", f"{API}/tasks"))["count"] == 0
    assert_problem(send(as_user(invited), "GET", f"{API}/{project.pk}"), 404, "not_found")

    invite = ok(send(client, "POST", f"{API}/{project.pk}/invites", {"email": invited.email}), 201)
    assert invite["seller"] == {"id": invited.pk, "display_name": invited.display_name}
    again = send(client, "POST", f"{API}/{project.pk}/invites", {"email": invited.email})
    assert_problem(again, 409, "conflict")
    nobody = send(client, "POST", f"{API}/{project.pk}/invites", {"email": "no@example.com"})
    assert_problem(nobody, 422, "no_seller")
    detail = ok(send(client, "GET", f"{API}/{project.pk}"))
    assert [i["seller"]["id"] for i in detail["invites"]] == [invited.pk]

    found = ok(send(as_user(invited), "GET", f"{API}/tasks"))
    assert [t["id"] for t in found["items"]] == [task.pk]
    ok(send(as_user(invited), "GET", f"{API}/{project.pk}"))
    ok(send(as_user(invited), "GET", f"{API}/tasks/{task.pk}"))

    # Another seller still finds nothing and gets 404 for the project and the task.
    assert ok(send(as_user(other), "GET", f"{API}/tasks"))["count"] == 0
    assert_problem(send(as_user(other), "GET", f"{API}/{project.pk}"), 404, "not_found")
    assert_problem(send(as_user(other), "GET", f"{API}/tasks/{task.pk}"), 404, "not_found")
    assert_problem(send(as_user(other), "GET", f"{API}/{project.pk}/tasks"), 404, "not_found")

    ok(send(client, "DELETE", f"{API}/{project.pk}/invites/{invited.pk}"), 204)
    assert not ProjectInvite.objects.exists()
    assert_problem(send(as_user(invited), "GET", f"{API}/{project.pk}"), 404, "not_found")
    assert_problem(
        send(client, "DELETE", f"{API}/{project.pk}/invites/{invited.pk}"), 404, "not_found"
    )


# --- tasks ------------------------------------------------------------------------------------


def test_buyer_adds_edits_closes_reopens_and_deletes_tasks(buyer):
    project = make_project(buyer, tasks=[], publish=False)  # a draft
    client = as_user(buyer)
    first = ok(send(client, "POST", f"{API}/{project.pk}/tasks", task_body(title="Pages")), 201)
    assert first["currency"] == "USD"
    assert first["skills"] == ["spanish", "translation"]
    second = ok(
        send(
            client,
            "POST",
            f"{API}/{project.pk}/tasks",
            task_body(title="Proofread", quantity=3, depends_on_id=first["id"]),
        ),
        201,
    )
    assert second["depends_on_id"] == first["id"]
    assert second["waiting_for"] == {"id": first["id"], "title": "Pages"}
    assert second["units"] == {"quantity": 3, "taken": 0, "done": 0, "left": 3}

    listed = ok(send(client, "GET", f"{API}/{project.pk}/tasks"))
    assert [t["title"] for t in listed["items"]] == ["Pages", "Proofread"]
    assert listed["items"][0]["pending_proposals"] == 0

    tid = first["id"]
    edited = ok(send(client, "PUT", f"{API}/tasks/{tid}", task_body(title="Pages", budget=5000)))
    assert edited["budget"] == 5000
    assert ok(send(client, "GET", f"{API}/tasks/{tid}"))["budget"] == 5000
    assert ok(send(client, "POST", f"{API}/tasks/{tid}/close"))["status"] == "closed"
    assert ok(send(client, "POST", f"{API}/tasks/{tid}/reopen"))["status"] == "open"

    ok(send(client, "DELETE", f"{API}/tasks/{second['id']}"), 204)
    assert list(project.tasks.values_list("title", flat=True)) == ["Pages"]


def test_tasks_cannot_outgrow_the_project_budget(buyer):
    project = make_project(buyer, budget=10_000, tasks=[{"budget": 6000}])
    response = send(
        as_user(buyer), "POST", f"{API}/{project.pk}/tasks", task_body(budget=2500, quantity=2)
    )
    body = assert_problem(response, 422, "over_budget")
    assert body["errors"][0]["loc"] == ["body", "budget"]
    assert project.tasks.count() == 1


def test_a_task_in_use_cannot_be_deleted_409(buyer):
    project = make_project(buyer)
    task = project.tasks.get()
    propose(seller(), task)
    before = world()
    assert_problem(send(as_user(buyer), "DELETE", f"{API}/tasks/{task.pk}"), 409, "task_in_use")
    assert world() == before


def test_an_unknown_id_is_a_404_problem(buyer):
    client = as_user(buyer)
    for path in (f"{API}/999999", f"{API}/tasks/999999", f"{API}/assignments/999999"):
        assert_problem(send(client, "GET", path), 404, "not_found")


def test_search_finds_open_tasks_with_filters_and_pages(buyer):
    make_project(
        buyer,
        tasks=[
            {"title": f"Translate page {n}", "skills": ["spanish"], "claimable": n % 2 == 0}
            for n in range(5)
        ]
        + [{"title": "Design a banner", "skills": ["design"], "brief": "A banner for the shop."}],
    )
    make_project(buyer, publish=False, tasks=[{"title": "Translate the secret draft"}])
    client = as_user(seller())

    every = ok(send(client, "GET", f"{API}/tasks?sort=newest"))
    assert every["count"] == 6
    assert every["scanned_all"] is True
    assert "Translate the secret draft" not in [t["title"] for t in every["items"]]
    assert {"skill": "spanish", "tasks": 5} in every["skills"]

    words = ok(send(client, "GET", f"{API}/tasks?q=banner"))
    assert [t["title"] for t in words["items"]] == ["Design a banner"]
    assert words["items"][0]["score"] > 0
    assert ok(send(client, "GET", f"{API}/tasks?skill=design"))["count"] == 1
    assert ok(send(client, "GET", f"{API}/tasks?claimable=true"))["count"] == 3

    ordered = [t["id"] for t in every["items"]]
    page = ok(send(client, "GET", f"{API}/tasks?sort=newest&limit=2&offset=2"))
    assert [t["id"] for t in page["items"]] == ordered[2:4]
    assert page["next"]
    assert page["previous"]
    between = ok(send(client, "GET", f"{API}/tasks?sort=newest&limit=2&offset=3"))
    assert [t["id"] for t in between["items"]] == ordered[3:5]
    by_page = ok(send(client, "GET", f"{API}/tasks?sort=newest&limit=4&page=2"))
    assert [t["id"] for t in by_page["items"]] == ordered[4:]
    past_end = ok(send(client, "GET", f"{API}/tasks?sort=newest&limit=4&offset=40"))
    assert (past_end["items"], past_end["count"]) == ([], 6)

    assert_problem(send(client, "GET", f"{API}/tasks?sort=cheapest"), 422, "validation_failed")


def test_search_leaves_out_the_callers_own_tasks(buyer):
    make_project(buyer)
    assert ok(send(as_user(buyer), "GET", f"{API}/tasks"))["count"] == 0


# --- proposals and claims ---------------------------------------------------------------------


def test_sellers_propose_and_the_buyer_compares_declines_and_awards(buyer):
    project = make_project(buyer, tasks=[{"quantity": 2}])
    task = project.tasks.get()
    ana, ben = seller(), seller()
    sent = ok(
        send(
            as_user(ana),
            "POST",
            f"{API}/tasks/{task.pk}/proposals",
            {"price": 3500, "days": 2, "message": "Native speaker."},
        ),
        201,
    )
    assert (sent["status"], sent["price"], sent["currency"]) == ("pending", 3500, "USD")
    assert sent["seller"]["id"] == ana.pk
    twice = send(
        as_user(ana),
        "POST",
        f"{API}/tasks/{task.pk}/proposals",
        {"price": 1, "days": 1, "message": "x"},
    )
    assert_problem(twice, 409, "proposal_pending")
    other = propose(ben, task, price=3900)

    cards = ok(send(as_user(buyer), "GET", f"{API}/tasks/{task.pk}/proposals"))
    assert [c["seller"]["id"] for c in cards["items"]] == [ana.pk, ben.pk]
    assert {"rating", "reviews", "level", "completed_orders"} <= cards["items"][0].keys()
    assert cards["items"][0]["reviews"] == 0

    mine = ok(send(as_user(ana), "GET", f"{API}/proposals"))
    assert [p["id"] for p in mine["items"]] == [sent["id"]]
    assert ok(send(as_user(ana), "GET", f"{API}/proposals/{sent['id']}"))["task_id"] == task.pk

    declined = ok(send(as_user(buyer), "POST", f"{API}/proposals/{other.pk}/decline"))
    assert declined["status"] == "declined"
    awarded = ok(send(as_user(buyer), "POST", f"{API}/proposals/{sent['id']}/award"), 201)
    assert (awarded["via"], awarded["price"], awarded["stage"]) == ("proposal", 3500, "funding")
    assert awarded["order"] is None
    assert (
        ok(send(as_user(ana), "GET", f"{API}/proposals/{sent['id']}"))["assignment_id"]
        == (awarded["id"])
    )
    again = send(as_user(buyer), "POST", f"{API}/proposals/{sent['id']}/award")
    assert_problem(again, 409, "not_pending")


def test_a_seller_withdraws_a_waiting_proposal(buyer):
    project = make_project(buyer)
    ana = seller()
    proposal = propose(ana, project.tasks.get())
    body = ok(send(as_user(ana), "POST", f"{API}/proposals/{proposal.pk}/withdraw"))
    assert body["status"] == "withdrawn"
    again = send(as_user(ana), "POST", f"{API}/proposals/{proposal.pk}/withdraw")
    assert_problem(again, 409, "not_pending")


def test_a_buyer_without_a_shop_cannot_propose(buyer):
    project = make_project(buyer)
    response = send(
        as_user(UserFactory()),
        "POST",
        f"{API}/tasks/{project.tasks.get().pk}/proposals",
        {"price": 4000, "days": 3, "message": "Let me."},
    )
    assert_problem(response, 403, "not_a_seller")
    assert not Proposal.objects.exists()


def test_an_award_over_the_budget_is_a_409_and_nothing_changes(buyer):
    project = make_project(buyer, budget=5000, tasks=[{"budget": 4000}])
    proposal = propose(seller(), project.tasks.get(), price=6000)
    before = world()
    response = send(as_user(buyer), "POST", f"{API}/proposals/{proposal.pk}/award")
    body = assert_problem(response, 409, "over_budget")
    assert "budget" in body["detail"]
    assert world() == before
    assert reload(proposal).status == "pending"


def test_a_claim_over_the_budget_is_a_409(buyer):
    project = make_project(
        buyer, budget=8000, tasks=[{"budget": 4000, "quantity": 2, "claimable": True}]
    )
    task = project.tasks.get()
    services.proposal_award(buyer=buyer, proposal_id=propose(seller(), task, price=5000).pk)
    before = world()
    assert_problem(
        send(as_user(seller()), "POST", f"{API}/tasks/{task.pk}/claim"), 409, "over_budget"
    )
    assert world() == before


def test_a_seller_claims_a_unit_and_gives_it_back(buyer):
    project = make_project(buyer, tasks=[{"claimable": True, "quantity": 2, "budget": 3000}])
    task = project.tasks.get()
    ana = seller()
    claimed = ok(send(as_user(ana), "POST", f"{API}/tasks/{task.pk}/claim"), 201)
    assert (claimed["via"], claimed["price"], claimed["days"]) == ("claim", 3000, 3)
    assert (claimed["task_id"], claimed["project_id"]) == (task.pk, project.pk)
    assert claimed["seller"] == {"id": ana.pk, "display_name": ana.display_name}
    assert (claimed["stage"], claimed["transitions"]) == ("funding", [])
    assert_problem(send(as_user(ana), "POST", f"{API}/tasks/{task.pk}/claim"), 409, "seller_limit")

    mine = ok(send(as_user(ana), "GET", f"{API}/assignments"))
    assert [a["id"] for a in mine["items"]] == [claimed["id"]]
    theirs = ok(send(as_user(buyer), "GET", f"{API}/assignments?project={project.pk}"))
    assert [a["id"] for a in theirs["items"]] == [claimed["id"]]
    assert ok(send(as_user(buyer), "GET", f"{API}/assignments"))["count"] == 0  # not a seller

    back = ok(send(as_user(ana), "POST", f"{API}/assignments/{claimed['id']}/withdraw"))
    assert back["status"] == "withdrawn"
    assert back["ended_at"]
    task_now = ok(send(as_user(ana), "GET", f"{API}/tasks/{task.pk}"))
    assert task_now["units"]["left"] == 2


def test_a_proposal_task_cannot_be_claimed(buyer):
    project = make_project(buyer)
    response = send(as_user(seller()), "POST", f"{API}/tasks/{project.tasks.get().pk}/claim")
    assert_problem(response, 409, "not_claimable")
    assert not Assignment.objects.exists()


# --- funding ----------------------------------------------------------------------------------


def awarded(buyer, *, n: int = 1, price: int = 4000):
    project = make_project(buyer, tasks=[{"budget": price, "quantity": n, "per_seller_limit": 1}])
    task = project.tasks.get()
    return [
        services.proposal_award(buyer=buyer, proposal_id=propose(seller(), task).pk)
        for _ in range(n)
    ]


def test_funding_replays_for_the_same_key_and_refuses_another_body(buyer):
    a, b = awarded(buyer, n=2)
    client = as_user(buyer)
    body = {"assignment_ids": [a.pk, b.pk], "payment_method": CARD}
    first = ok(send(client, "POST", f"{API}/assignments/fund", body, key="fund-1"), 201)
    again = ok(send(client, "POST", f"{API}/assignments/fund", body, key="fund-1"), 201)
    assert first == again
    assert Checkout.objects.count() == 1
    assert Order.objects.count() == 2
    other = send(client, "POST", f"{API}/assignments/fund", {**body, "credit": 1}, key="fund-1")
    assert_problem(other, 422, "idempotency_mismatch")
    assert Checkout.objects.count() == 1


def test_funding_with_a_declined_card_is_a_402_and_can_be_retried(buyer):
    [a] = awarded(buyer)
    client = as_user(buyer)
    body = {"assignment_ids": [a.pk], "payment_method": sandbox.CARD_DECLINED}
    declined = send(client, "POST", f"{API}/assignments/fund", body, key="d")
    assert_problem(declined, 402, "payment_declined")
    assert ok(send(client, "GET", f"{API}/assignments/{a.pk}"))["stage"] == "funding"
    retry = {"assignment_ids": [a.pk], "payment_method": CARD}
    paid = ok(send(client, "POST", f"{API}/assignments/fund", retry, key="d2"), 201)
    assert paid["status"] == "paid"
    assert reload(a).order.state == "in_progress"


def test_funding_twice_is_a_409(buyer):
    [a] = awarded(buyer)
    fund(buyer, [a])
    body = {"assignment_ids": [a.pk], "payment_method": CARD}
    response = send(as_user(buyer), "POST", f"{API}/assignments/fund", body, key="again")
    assert_problem(response, 409, "already_funded")
    assert Order.objects.count() == 1


def test_a_payment_that_needs_the_buyer_gives_an_action_url(buyer):
    [a] = awarded(buyer)
    body = {"assignment_ids": [a.pk], "payment_method": sandbox.CARD_REQUIRES_ACTION}
    checkout = ok(send(as_user(buyer), "POST", f"{API}/assignments/fund", body, key="3ds"), 201)
    assert checkout["status"] == "pending"
    assert checkout["payment"]["action_url"]
    [order] = checkout["orders"]
    assert (order["state"], order["assignment_id"]) == ("pending_payment", a.pk)
    # The seller does not see an unpaid order; the buyer does.
    seller_view = ok(send(as_user(a.seller), "GET", f"{API}/assignments/{a.pk}"))
    assert (seller_view["stage"], seller_view["order"]) == ("paying", None)
    buyer_view = ok(send(as_user(buyer), "GET", f"{API}/assignments/{a.pk}"))
    assert buyer_view["order"]["id"] == order["id"]


# --- the whole flow ---------------------------------------------------------------------------


def test_a_project_from_creation_to_two_paid_sellers(buyer):
    client = as_user(buyer)
    project = ok(send(client, "POST", API, project_body(budget=20_000)), 201)
    pid = project["id"]
    t1 = ok(
        send(client, "POST", f"{API}/{pid}/tasks", task_body(title="Translate", budget=6000)), 201
    )
    t2 = ok(
        send(client, "POST", f"{API}/{pid}/tasks", task_body(title="Proofread", budget=3000)), 201
    )
    assert ok(send(client, "POST", f"{API}/{pid}/publish"))["status"] == "open"

    ana, ben = seller(), seller()
    p1 = ok(
        send(
            as_user(ana),
            "POST",
            f"{API}/tasks/{t1['id']}/proposals",
            {"price": 5500, "days": 4, "message": "I translate shops for a living."},
        ),
        201,
    )
    p2 = ok(
        send(
            as_user(ben),
            "POST",
            f"{API}/tasks/{t2['id']}/proposals",
            {"price": 3000, "days": 2, "message": "Proofreader, 10 years."},
        ),
        201,
    )
    a1 = ok(send(client, "POST", f"{API}/proposals/{p1['id']}/award"), 201)
    a2 = ok(send(client, "POST", f"{API}/proposals/{p2['id']}/award"), 201)
    assert ok(send(client, "GET", f"{API}/{pid}"))["to_fund"] == [a1["id"], a2["id"]]

    body = {"assignment_ids": [a1["id"], a2["id"]], "payment_method": CARD}
    checkout = ok(send(client, "POST", f"{API}/assignments/fund", body, key="flow"), 201)
    assert checkout["status"] == "paid"
    assert checkout["payment"]["status"] == "succeeded"
    assert checkout["payment"]["total"] >= 8500  # the buyer's service fee on top
    orders = {o["assignment_id"]: o for o in checkout["orders"]}
    assert set(orders) == {a1["id"], a2["id"]}
    assert {o["state"] for o in orders.values()} == {"in_progress"}
    assert orders[a1["id"]]["seller"]["id"] == ana.pk
    assert orders[a1["id"]]["subtotal"] == 5500
    replay = ok(send(client, "POST", f"{API}/assignments/fund", body, key="flow"), 201)
    assert replay == checkout
    assert Checkout.objects.count() == 1
    # Each seller hears that their unit is paid for (the order's "paid" step).
    for who, a in ((ana, a1), (ben, a2)):
        told = f"Order {orders[a['id']]['id']}: paid"
        assert any(title.startswith(told) for title in notifications(who)), notifications(who)

    # One escrow per order, each holding its own order's money.
    escrows = [
        ledger_selectors.escrow_for_reference(Order.objects.get(pk=o["id"]).reference)
        for o in checkout["orders"]
    ]
    assert len({e.pk for e in escrows}) == 2
    assert sorted(e.subtotal for e in escrows) == [3000, 5500]

    spend = ok(send(client, "GET", f"{API}/{pid}"))["spend"]
    assert (spend["committed"], spend["funding"], spend["in_escrow"]) == (8500, 0, 8500)

    for who, a in ((ana, a1), (ben, a2)):
        mine = ok(send(as_user(who), "GET", f"{API}/assignments/{a['id']}"))
        assert mine["stage"] == "in_progress"
        assert "submit" in {t["name"] for t in mine["transitions"]}
        done = ok(
            send(
                as_user(who),
                "POST",
                f"{API}/assignments/{a['id']}/transitions/submit",
                {"message": "Here it is."},
            )
        )
        assert (done["stage"], done["order"]["state"]) == ("submitted", "submitted")

    for a in (a1, a2):
        approved = ok(send(client, "POST", f"{API}/assignments/{a['id']}/transitions/approve"))
        assert approved["order"]["state"] == "completed"
        assert approved["stage"] == "completed"

    for o in checkout["orders"]:
        order = Order.objects.get(pk=o["id"])
        assert order.state == "completed"
        assert ledger_selectors.escrow_for_reference(order.reference).status == "released"
    spend = ok(send(client, "GET", f"{API}/{pid}"))["spend"]
    assert (spend["in_escrow"], spend["paid"]) == (0, 8500)
    assert ledger_selectors.ledger_verify() == []


def test_submit_without_a_message_is_a_422_and_the_buyer_cannot_submit(buyer):
    [a] = awarded(buyer)
    fund(buyer, [a])
    path = f"{API}/assignments/{a.pk}/transitions/submit"
    assert_problem(send(as_user(a.seller), "POST", path, {}), 422, "validation_failed")
    assert_problem(send(as_user(buyer), "POST", path, {"message": "x"}), 403, "wrong_party")
    unknown = send(as_user(buyer), "POST", f"{API}/assignments/{a.pk}/transitions/fly")
    assert_problem(unknown, 422, "unknown_transition")
    assert reload(a).order.state == "in_progress"


def test_a_step_on_unfunded_work_is_a_409(buyer):
    [a] = awarded(buyer)
    response = send(
        as_user(a.seller), "POST", f"{API}/assignments/{a.pk}/transitions/submit", {"message": "x"}
    )
    assert_problem(response, 409, "not_funded")


def test_the_seller_submits_files_and_the_buyer_asks_for_a_revision(buyer):
    [a] = awarded(buyer)
    fund(buyer, [a])
    response = as_user(a.seller).post(
        f"{API}/assignments/{a.pk}/submissions",
        {"message": "First draft attached.", "files": [png(name="draft.png")]},
    )
    body = ok(response, 201)
    assert body["order"]["state"] == "submitted"
    order = reload(a).order
    delivery = order.deliveries.get()
    assert (delivery.message, delivery.files.get().name) == ("First draft attached.", "draft.png")

    revision = ok(
        send(
            as_user(buyer),
            "POST",
            f"{API}/assignments/{a.pk}/transitions/request_revision",
            {"message": "Please keep the brand name in English."},
        )
    )
    assert revision["stage"] == "revision_requested"


def test_a_bearer_token_client_reads_its_projects(buyer):
    make_project(buyer)
    _token, raw = accounts_services.token_create(user=buyer, name="script")
    response = Client().get(API, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert ok(response)["count"] == 1
    assert_problem(Client().get(API), 401, "not_authenticated")


# --- nobody reads or changes what is not theirs -----------------------------------------------


@pytest.fixture
def scene(buyer):
    """An invite-only project with a funded assignment, an awarded-but-unfunded one and a
    pending proposal: everything an outsider could try to reach."""
    project = make_project(
        buyer,
        visibility="invited",
        tasks=[
            {"title": "Translate", "quantity": 3, "per_seller_limit": 1},
            {"title": "Banner", "claimable": True, "skills": ["design"]},
        ],
    )
    translate, banner = project.tasks.order_by("position")
    invited = [seller(), seller(), seller()]
    for s in invited:
        services.project_invite(buyer=buyer, project_id=project.pk, email=s.email)
    funded = services.proposal_award(buyer=buyer, proposal_id=propose(invited[0], translate).pk)
    unfunded = services.proposal_award(buyer=buyer, proposal_id=propose(invited[1], translate).pk)
    pending = propose(invited[2], translate)
    fund(buyer, [funded])
    return {
        "project": project,
        "task": translate,
        "claimable": banner,
        "funded": funded,
        "unfunded": unfunded,
        "pending": pending,
        "invited": invited,
    }


OUTSIDER_CALLS = [
    ("GET", "/{project}", None),
    ("PUT", "/{project}", "project"),
    ("PATCH", "/{project}", {"title": "Mine now"}),
    ("POST", "/{project}/publish", None),
    ("POST", "/{project}/close", None),
    ("POST", "/{project}/invites", {"email": "someone@example.com"}),
    ("DELETE", "/{project}/invites/{invited}", None),
    ("GET", "/{project}/tasks", None),
    ("POST", "/{project}/tasks", "task"),
    ("GET", "/tasks/{task}", None),
    ("PUT", "/tasks/{task}", "task"),
    ("POST", "/tasks/{task}/close", None),
    ("POST", "/tasks/{task}/reopen", None),
    ("DELETE", "/tasks/{task}", None),
    ("GET", "/tasks/{task}/proposals", None),
    ("POST", "/tasks/{task}/proposals", {"price": 100, "days": 1, "message": "Me!"}),
    ("POST", "/tasks/{claimable}/claim", None),
    ("GET", "/proposals/{pending}", None),
    ("POST", "/proposals/{pending}/withdraw", None),
    ("POST", "/proposals/{pending}/decline", None),
    ("POST", "/proposals/{pending}/award", None),
    ("GET", "/assignments/{funded}", None),
    ("GET", "/assignments?project={project}", None),
    ("POST", "/assignments/{unfunded}/withdraw", None),
    ("POST", "/assignments/{funded}/transitions/submit", {"message": "Done."}),
    ("POST", "/assignments/{funded}/transitions/approve", None),
    ("POST", "/assignments/fund", "fund"),
]


def _call(client, scene, method, template, body, key="outsider"):
    ids = {
        "project": scene["project"].pk,
        "task": scene["task"].pk,
        "claimable": scene["claimable"].pk,
        "pending": scene["pending"].pk,
        "funded": scene["funded"].pk,
        "unfunded": scene["unfunded"].pk,
        "invited": scene["invited"][0].pk,
    }
    body = (
        {
            "project": project_body(),
            "task": task_body(),
            "fund": {"assignment_ids": [scene["unfunded"].pk], "payment_method": CARD},
        }.get(body, body)
        if isinstance(body, str)
        else body
    )
    return send(client, method, API + template.format(**ids), body, key=key)


@pytest.mark.parametrize(("method", "template", "body"), OUTSIDER_CALLS)
def test_an_outsider_seller_gets_404_and_changes_nothing(scene, method, template, body):
    outsider = seller()
    before = world()
    response = _call(as_user(outsider), scene, method, template, body)
    assert_problem(response, 404, "not_found")
    assert world() == before


BUYER_ONLY = [
    ("PUT", "/{project}", "project"),
    ("PATCH", "/{project}", {"title": "Mine now"}),
    ("POST", "/{project}/close", None),
    ("POST", "/{project}/invites", {"email": "someone@example.com"}),
    ("DELETE", "/{project}/invites/{invited}", None),
    ("POST", "/{project}/tasks", "task"),
    ("PUT", "/tasks/{task}", "task"),
    ("POST", "/tasks/{task}/close", None),
    ("DELETE", "/tasks/{task}", None),
    ("GET", "/tasks/{task}/proposals", None),
    ("POST", "/proposals/{pending}/decline", None),
    ("POST", "/proposals/{pending}/award", None),
    ("GET", "/assignments?project={project}", None),
    ("GET", "/assignments/{unfunded}", None),
    ("POST", "/assignments/{unfunded}/withdraw", None),
    ("POST", "/assignments/fund", "fund"),
]


@pytest.mark.parametrize(("method", "template", "body"), BUYER_ONLY)
def test_an_invited_seller_cannot_act_as_the_buyer(scene, method, template, body):
    """The seller who holds the funded unit sees the project, but not the buyer's side of it,
    nor another seller's work."""
    before = world()
    response = _call(as_user(scene["invited"][0]), scene, method, template, body)
    assert_problem(response, 404, "not_found")
    assert world() == before


def test_a_seller_cannot_withdraw_anothers_proposal_or_approve_their_own_work(scene):
    ana, _ben, _ = scene["invited"]
    before = world()
    path = f"{API}/proposals/{scene['pending'].pk}/withdraw"
    assert_problem(send(as_user(ana), "POST", path), 404, "not_found")
    approve = f"{API}/assignments/{scene['funded'].pk}/transitions/approve"
    assert_problem(send(as_user(ana), "POST", approve), 403, "wrong_party")
    assert world() == before
