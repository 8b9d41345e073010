"""Projects' pages through Django's test client: the buyer's projects, the project form, the
board and the public project page, tasks and their proposals, funding with the sandbox card,
the seller's search, proposals and work, attachments, and who may see what (404 for anyone
else, with nothing changed)."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from urllib.parse import urlparse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from micromarket.messaging.models import Notification
from micromarket.orders.models import Order
from micromarket.payments.providers import sandbox
from micromarket.projects import selectors, services
from micromarket.projects.models import (
    Assignment,
    Project,
    ProjectAttachment,
    ProjectInvite,
    Proposal,
    Task,
)
from micromarket.projects.tests.factories import (
    CARD,
    UserFactory,
    category_id,
    fund,
    make_project,
    propose,
    reload,
    seller,
)

pytestmark = pytest.mark.django_db

BACKEND = "micromarket.accounts.backends.EmailBackend"


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


def text(response) -> str:
    """What a person reads on the page: tags removed, entities decoded, spaces collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def main(response) -> str:
    """The page's own content (without the site's navigation)."""
    body = response.content.decode()
    start = body.index('<main id="main"')
    end = body.index("</main>")
    return text(type("R", (), {"content": body[start:end].encode()})())


def hidden_key(response) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', response.text).group(1)


def field_errors(response, field: str) -> str:
    """The error list shown next to ``field``."""
    match = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', response.text)
    return text(type("R", (), {"content": match.group(1).encode()})()) if match else ""


def in_days(n: int) -> str:
    return str(date.today() + timedelta(days=n))


def pdf(name="brief.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.7\n% the brief\n", content_type="application/pdf")


@pytest.fixture
def buyer():
    return UserFactory(display_name="Bea Buyer")


@pytest.fixture
def maker():
    return seller(display_name="Sol Seller")


def task_of(project, title=None) -> Task:
    tasks = project.tasks.all()
    return tasks.get(title=title) if title else tasks.get()


def awarded(buyer, maker, **project_kw):
    project = make_project(buyer, **project_kw)
    task = project.tasks.first()
    proposal = propose(maker, task, price=3500, days=4)
    assignment = services.proposal_award(buyer=buyer, proposal_id=proposal.pk)
    return project, task, proposal, assignment


# --- the buyer's projects and the project form ------------------------------------------------


def test_the_projects_list_shows_the_buyers_projects(client, buyer):
    make_project(buyer, tasks=[{}, {"title": "Proofread the pages"}], title="Spanish shop")
    make_project(buyer, publish=False, title="Autumn catalogue", budget=50_000)
    make_project(UserFactory(), title="Someone else's project")
    login(client, buyer)
    page = client.get("/projects/")
    assert page.status_code == 200
    body = main(page)
    assert "Post a project" in body
    assert "Spanish shop Open 2 $1,000.00" in body
    assert "Autumn catalogue Draft 1 $500.00" in body
    assert "Someone else's project" not in body
    assert "My proposals" not in body  # a buyer without a shop
    assert "Projects" in text(page)  # the site's navigation


def test_sellers_see_their_proposals_and_tasks_from_the_projects_list(client, maker):
    page = client.get("/projects/", follow=False)
    assert page.status_code == 302  # sign in first
    login(client, maker)
    page = client.get("/projects/")
    assert "My proposals" in main(page)
    assert "My tasks" in main(page)
    assert 'href="/projects/tasks/"' in page.text  # "Find tasks" in the navigation


def test_posting_a_project_converts_the_budget_and_asks_for_tasks(client, buyer):
    buyer.preferred_currency = "EUR"
    buyer.save()
    login(client, buyer)
    form = client.get("/projects/new/")
    assert form.status_code == 200
    assert '<option value="EUR" selected>' in form.text
    assert "Writing &amp; translation" in form.text
    response = client.post(
        "/projects/new/",
        {
            "title": "Launch our Spanish shop",
            "description": "We open our shop to Spanish-speaking customers.",
            "category": category_id(),
            "currency": "EUR",
            "budget": "1200.50",
            "deadline": in_days(30),
            "visibility": "public",
        },
        follow=True,
    )
    project = Project.objects.get(buyer=buyer)
    assert response.redirect_chain[-1][0] == f"/projects/{project.pk}/"
    assert (project.budget, project.currency, project.status) == (120050, "EUR", "draft")
    body = text(response)
    assert "Now add its tasks" in body
    assert "Budget €1,200.50" in body
    assert "Add the first task" in body


def test_the_project_form_shows_its_errors(client, buyer):
    login(client, buyer)
    response = client.post(
        "/projects/new/",
        {
            "title": "Launch",
            "description": "Brief",
            "category": category_id(),
            "currency": "JPY",
            "budget": "1000.50",
            "deadline": in_days(-1),
            "visibility": "public",
        },
    )
    assert response.status_code == 400
    assert "JPY amounts have no decimals." in field_errors(response, "budget")
    assert not Project.objects.exists()

    response = client.post(
        "/projects/new/",
        {
            "title": "Launch",
            "description": "Brief",
            "category": category_id(),
            "currency": "USD",
            "budget": "1000",
            "deadline": in_days(-1),
            "visibility": "public",
        },
    )
    assert response.status_code == 400
    assert "The deadline cannot be in the past." in field_errors(response, "deadline")
    assert not Project.objects.exists()


def test_editing_a_project(client, buyer):
    project = make_project(buyer, publish=False)
    login(client, buyer)
    form = client.get(f"/projects/{project.pk}/edit/")
    assert 'value="1000.00"' in form.text
    data = {
        "title": "Launch our Mexican shop",
        "description": project.description,
        "category": project.category_id,
        "currency": "USD",
        "budget": "2000",
        "deadline": str(project.deadline),
        "visibility": "invited",
    }
    response = client.post(f"/projects/{project.pk}/edit/", data)
    assert response.status_code == 302
    project = reload(project)
    assert (project.title, project.budget, project.visibility) == (
        "Launch our Mexican shop",
        200_000,
        "invited",
    )

    data["budget"] = "10"  # below the task's 40.00
    response = client.post(f"/projects/{project.pk}/edit/", data)
    assert response.status_code == 400
    assert "The tasks' budgets add up to $40.00" in field_errors(response, "budget")
    assert reload(project).budget == 200_000


# --- tasks: the buyer's forms -----------------------------------------------------------------


def test_adding_a_task_converts_its_budget_and_lists_it_on_the_board(client, buyer):
    project = make_project(buyer, tasks=[], publish=False, currency="EUR")
    login(client, buyer)
    assert client.get(f"/projects/{project.pk}/tasks/new/").status_code == 200
    response = client.post(
        f"/projects/{project.pk}/tasks/new/",
        {
            "title": "Translate the pages",
            "brief": "Ten pages.",
            "budget": "45.50",
            "quantity": "4",
            "per_seller_limit": "2",
            "deadline": in_days(20),
            "skills": "Spanish, translation",
            "delivery_days": "3",
            "revisions": "1",
            "claimable": "on",
        },
        follow=True,
    )
    task = project.tasks.get()
    assert (task.budget, task.quantity, task.per_seller_limit) == (4550, 4, 2)
    assert task.skills == ["spanish", "translation"]
    assert task.claimable is True
    body = text(response)
    assert "Task “Translate the pages” is added." in body
    assert "Translate the pages Direct claim" in body
    assert "€45.50" in body
    assert "0 taken · 0 done · of 4" in body


def test_a_task_over_the_budget_shows_the_reason_on_the_budget_field(client, buyer):
    project = make_project(buyer, tasks=[{"budget": 40_000, "quantity": 2}], publish=False)
    login(client, buyer)
    response = client.post(
        f"/projects/{project.pk}/tasks/new/",
        {
            "title": "Proofread",
            "brief": "Read it all again.",
            "budget": "300",
            "quantity": "1",
            "per_seller_limit": "1",
            "deadline": in_days(10),
            "delivery_days": "3",
            "revisions": "1",
        },
    )
    assert response.status_code == 400
    assert (
        "With this task the tasks' budgets come to $1,100.00, more than the project's budget "
        "of $1,000.00." in field_errors(response, "budget")
    )
    assert project.tasks.count() == 1


def test_editing_a_task_and_making_it_wait_for_another(client, buyer):
    project = make_project(
        buyer, tasks=[{"title": "Translate"}, {"title": "Proofread"}], publish=False
    )
    translate, proofread = task_of(project, "Translate"), task_of(project, "Proofread")
    login(client, buyer)
    form = client.get(f"/projects/tasks/{proofread.pk}/edit/")
    assert form.status_code == 200
    assert f'<option value="{translate.pk}">Translate</option>' in form.text
    assert f'<option value="{proofread.pk}">' not in form.text  # not itself
    response = client.post(
        f"/projects/tasks/{proofread.pk}/edit/",
        {
            "title": "Proofread the translation",
            "brief": "After the translation.",
            "budget": "20",
            "quantity": "1",
            "per_seller_limit": "1",
            "deadline": in_days(15),
            "delivery_days": "2",
            "revisions": "0",
            "depends_on": str(translate.pk),
        },
        follow=True,
    )
    proofread = reload(proofread)
    assert (proofread.title, proofread.budget, proofread.depends_on_id) == (
        "Proofread the translation",
        2000,
        translate.pk,
    )
    assert "Waits for “Translate”" in text(response)


def test_closing_reopening_and_deleting_tasks(client, buyer, maker):
    project = make_project(buyer, tasks=[{"title": "Translate"}, {"title": "Proofread"}])
    translate, proofread = task_of(project, "Translate"), task_of(project, "Proofread")
    propose(maker, translate)
    login(client, buyer)

    response = client.post(f"/projects/tasks/{translate.pk}/close/", follow=True)
    assert "“Translate” is closed" in text(response)
    assert reload(translate).status == "closed"
    assert Proposal.objects.get().status == "declined"

    client.post(f"/projects/tasks/{translate.pk}/reopen/")
    assert reload(translate).status == "open"

    response = client.post(f"/projects/tasks/{translate.pk}/delete/", follow=True)
    assert "Sellers have proposed on or taken this task: close it instead." in text(response)
    assert Task.objects.filter(pk=translate.pk).exists()

    response = client.post(f"/projects/tasks/{proofread.pk}/delete/", follow=True)
    assert "“Proofread” is deleted." in text(response)
    assert not Task.objects.filter(pk=proofread.pk).exists()
    assert client.get(f"/projects/tasks/{translate.pk}/close/").status_code == 405


# --- publishing, the board and the public page ------------------------------------------------


def test_publishing_and_closing_a_project(client, buyer):
    empty = make_project(buyer, tasks=[], publish=False)
    project = make_project(buyer, publish=False)
    login(client, buyer)
    response = client.post(f"/projects/{empty.pk}/publish/", follow=True)
    assert "Add at least one task first." in text(response)
    assert reload(empty).status == "draft"

    response = client.post(f"/projects/{project.pk}/publish/", follow=True)
    assert "is open: sellers can find its tasks now" in text(response)
    assert "Close the project" in text(response)
    assert reload(project).status == "open"

    response = client.post(f"/projects/{project.pk}/close/", follow=True)
    assert "is closed" in text(response)
    assert "Reopen the project" in text(response)
    assert reload(project).status == "closed"


def test_the_board_shows_tasks_spend_who_works_on_what_and_what_to_fund(client, buyer, maker):
    project, task, _, assignment = awarded(
        buyer,
        maker,
        tasks=[{"title": "Translate", "quantity": 3, "per_seller_limit": 1}, {"title": "Check"}],
    )
    other = seller(display_name="Olga Other")
    propose(other, task_of(project, "Check"))
    login(client, buyer)
    page = client.get(f"/projects/{project.pk}/")
    assert page.status_code == 200
    body = main(page)
    assert "Translate" in body
    assert "1 taken · 0 done · of 3" in body
    assert "Waiting for funding 1 Sol Seller Translate $35.00 · 4 days" in body
    assert "1 unit waits for funding" in body
    assert "Fund 1 unit" in body
    assert "Budget $1,000.00" in body
    assert "Waiting for funding $35.00" in body
    assert "Left $965.00" in body
    assert "Spend of the $1,000.00 budget" in body  # the share bar's caption
    assert "Progress: units done per task" in body
    assert "class='chart-svg'" in page.text
    assert f'href="/projects/{project.pk}/fund/"' in page.text
    assert f'href="/projects/tasks/{task.pk}/edit/"' in page.text
    check_row = re.search(r"Check.*?Deadline.*?of 1 (\d+)", body)
    assert check_row.group(1) == "1"  # one proposal waiting on "Check"

    fund(buyer, [assignment])
    body = main(client.get(f"/projects/{project.pk}/"))
    assert "In progress 1 Sol Seller Translate" in body
    order = reload(assignment).order
    assert f'href="/orders/{order.pk}/"' in client.get(f"/projects/{project.pk}/").text
    assert "In escrow $35.00" in body
    assert "Fund 1 unit" not in body


def test_the_public_project_page_for_sellers_and_visitors(client, buyer, maker):
    project = make_project(
        buyer,
        tasks=[{"title": "Translate", "quantity": 3}, {"title": "Check", "claimable": True}],
    )
    services.attachment_add(buyer=buyer, project_id=project.pk, upload=pdf())
    services.task_close(buyer=buyer, task_id=task_of(project, "Check").pk)

    page = client.get(f"/projects/{project.pk}/")
    assert page.status_code == 200
    body = main(page)
    assert "A project by Bea Buyer" in body
    assert "We are opening our shop to Spanish-speaking customers." in body
    assert "Translate $40.00 per unit · 3 of 3 units left" in body
    assert "Check" not in body  # closed
    assert "brief.pdf" in body
    assert "Log in to download the attachments" in body
    assert "Log in to propose" in body
    assert "Spend and budget" not in body

    login(client, maker)
    page = client.get(f"/projects/{project.pk}/")
    attachment = ProjectAttachment.objects.get()
    assert f'href="/projects/attachments/{attachment.pk}/"' in page.text
    assert "Log in to propose" not in main(page)
    assert "Spend and budget" not in main(page)


def test_invites_on_the_board(client, buyer, maker):
    project = make_project(buyer, visibility="invited")
    login(client, buyer)
    response = client.post(f"/projects/{project.pk}/invites/", {"email": "nobody@example.com"})
    assert response.status_code == 400
    assert "There is no seller with that email on micromarket." in field_errors(response, "email")

    response = client.post(f"/projects/{project.pk}/invites/", {"email": maker.email}, follow=True)
    assert "Sol Seller is invited." in text(response)
    assert ProjectInvite.objects.filter(project=project, seller=maker).exists()
    assert "Invited sellers Only the sellers you invite can see this project." in text(response)

    response = client.post(f"/projects/{project.pk}/invites/", {"email": maker.email})
    assert response.status_code == 409
    assert "That seller is already invited." in field_errors(response, "email")

    client.post(f"/projects/{project.pk}/invites/{maker.pk}/remove/")
    assert not ProjectInvite.objects.exists()


def test_an_invite_only_project_is_hidden_from_uninvited_sellers(client, buyer, maker):
    project = make_project(buyer, visibility="invited")
    task = project.tasks.get()
    login(client, maker)
    assert client.get(f"/projects/{project.pk}/").status_code == 404
    assert client.get(f"/projects/tasks/{task.pk}/").status_code == 404
    response = client.post(
        f"/projects/tasks/{task.pk}/propose/", {"price": "40", "days": "3", "message": "Hi"}
    )
    assert response.status_code == 404
    assert client.post(f"/projects/tasks/{task.pk}/claim/").status_code == 404
    assert not Proposal.objects.exists()
    assert not Assignment.objects.exists()
    assert task.title not in main(client.get("/projects/tasks/"))

    services.project_invite(buyer=buyer, project_id=project.pk, email=maker.email)
    assert client.get(f"/projects/{project.pk}/").status_code == 200
    assert task.title in main(client.get(f"/projects/tasks/{task.pk}/"))
    assert task.title in main(client.get("/projects/tasks/"))


# --- attachments ------------------------------------------------------------------------------


def test_attachments_are_uploaded_downloaded_and_removed(client, buyer, maker):
    project = make_project(buyer, publish=False)
    login(client, buyer)
    response = client.post(
        f"/projects/{project.pk}/attachments/", {"file": pdf("style guide.pdf")}, follow=True
    )
    assert "“style guide.pdf” is attached." in text(response)
    item = ProjectAttachment.objects.get()

    download = client.get(f"/projects/attachments/{item.pk}/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "style guide.pdf" in download["Content-Disposition"]
    assert b"".join(download.streaming_content).startswith(b"%PDF-1.7")

    program = SimpleUploadedFile("notes.pdf", b"MZ\x90\x00" + b"\x00" * 64)
    response = client.post(f"/projects/{project.pk}/attachments/", {"file": program})
    assert response.status_code == 400
    assert field_errors(response, "file")
    assert ProjectAttachment.objects.count() == 1

    # a draft is the buyer's alone
    login(client, maker)
    assert client.get(f"/projects/attachments/{item.pk}/").status_code == 404
    assert client.post(f"/projects/attachments/{item.pk}/remove/").status_code == 404
    assert client.post(f"/projects/{project.pk}/attachments/", {"file": pdf()}).status_code == 404
    services.project_publish(buyer=buyer, project_id=project.pk)
    assert client.get(f"/projects/attachments/{item.pk}/").status_code == 200
    assert client.post(f"/projects/attachments/{item.pk}/remove/").status_code == 404
    assert ProjectAttachment.objects.count() == 1

    login(client, buyer)
    response = client.post(f"/projects/attachments/{item.pk}/remove/", follow=True)
    assert "“style guide.pdf” is removed." in text(response)
    assert not ProjectAttachment.objects.exists()


# --- the task page: proposals, claims, awards -------------------------------------------------


def test_the_buyer_compares_proposals_on_the_task_page(client, buyer, maker):
    project = make_project(buyer)
    task = project.tasks.get()
    propose(maker, task, price=3500, days=4)
    propose(seller(display_name="Olga Other"), task, price=3900, days=2)
    login(client, buyer)
    page = client.get(f"/projects/tasks/{task.pk}/")
    assert page.status_code == 200
    body = main(page)
    assert "Sol Seller Waiting for the buyer $35.00 · 4 days" in body
    assert "Olga Other Waiting for the buyer $39.00 · 2 days" in body
    assert "No reviews yet" in body
    assert "0 completed orders" in body
    assert "I am a native speaker" in body
    assert f'href="/people/{maker.pk}/"' in page.text
    assert "Award to Sol Seller — $35.00" in body
    assert "Decline Sol Seller's proposal" in body
    assert "Send a proposal" not in body


def test_proposals_show_the_sellers_reputation(client, buyer, maker):
    from micromarket.trust.services import levels, reviews
    from micromarket.trust.tests.factories import completed_order, gig

    order = completed_order(offer=gig(owner=maker))
    reviews.review_create(
        order_id=order.pk,
        author=order.buyer,
        rating=5,
        text="Superb work.",
        communication=5,
        accuracy=5,
        value=5,
    )
    reviews.review_create(order_id=order.pk, author=maker, rating=5, text="Clear brief.")
    levels.level_compute(seller_id=maker.pk)
    project = make_project(buyer)
    propose(maker, project.tasks.get(), price=3500)
    login(client, buyer)
    body = main(client.get(f"/projects/tasks/{project.tasks.get().pk}/"))
    assert re.search(r"★ \d\.\d \(1 review\) · New seller · 1 completed order\b", body), body


def test_declining_a_proposal(client, buyer, maker):
    project = make_project(buyer)
    proposal = propose(maker, project.tasks.get())
    login(client, buyer)
    with_notifications = client.post(f"/projects/proposals/{proposal.pk}/decline/", follow=True)
    assert "Sol Seller's proposal is declined." in text(with_notifications)
    assert reload(proposal).status == "declined"
    response = client.post(f"/projects/proposals/{proposal.pk}/decline/", follow=True)
    assert "Only a proposal still waiting can be declined." in text(response)


def test_a_seller_sends_a_proposal_and_withdraws_it(
    client, buyer, maker, django_capture_on_commit_callbacks
):
    project = make_project(buyer)
    task = project.tasks.get()
    login(client, maker)
    page = client.get(f"/projects/tasks/{task.pk}/")
    body = main(page)
    assert "Budget per unit $40.00" in body
    assert "Units left 1 of 1" in body
    assert "spanish translation" in body  # skills
    assert "Send a proposal" in body
    assert 'name="price" value="40.00"' in page.text
    assert "Take one unit" not in body  # proposals only

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/projects/tasks/{task.pk}/propose/",
            {"price": "37.50", "days": "5", "message": "Native speaker, 200 shops done."},
            follow=True,
        )
    assert "Your proposal is sent." in text(response)
    proposal = Proposal.objects.get()
    assert (proposal.price, proposal.days, proposal.seller) == (3750, 5, maker)
    assert Notification.objects.filter(user=buyer, title="New proposal on “" + task.title + "”")
    body = main(response)
    assert "Your proposals $37.50 · 5 days" in body
    assert "Waiting for the buyer" in body
    assert "Send a proposal" not in body

    response = client.post(
        f"/projects/tasks/{task.pk}/propose/",
        {"price": "30", "days": "5", "message": "Cheaper now."},
    )
    assert response.status_code == 409
    assert "You already have a proposal waiting on this task" in main(response)
    assert Proposal.objects.count() == 1

    response = client.post(f"/projects/proposals/{proposal.pk}/withdraw/", follow=True)
    assert "Your proposal is withdrawn." in text(response)
    assert reload(proposal).status == "withdrawn"
    assert "Send a proposal" in main(response)


def test_the_proposal_form_shows_its_errors(client, buyer, maker):
    project = make_project(buyer)
    task = project.tasks.get()
    login(client, maker)
    response = client.post(
        f"/projects/tasks/{task.pk}/propose/", {"price": "37.555", "days": "0", "message": ""}
    )
    assert response.status_code == 400
    assert "USD amounts have at most 2 decimals." in field_errors(response, "price")
    assert field_errors(response, "days")
    assert field_errors(response, "message")
    assert not Proposal.objects.exists()


def test_only_sellers_propose_and_visitors_are_asked_to_log_in(client, buyer):
    project = make_project(buyer)
    task = project.tasks.get()
    page = client.get(f"/projects/tasks/{task.pk}/")
    assert page.status_code == 200
    assert "Log in to propose" in main(page)

    login(client, UserFactory())
    page = client.get(f"/projects/tasks/{task.pk}/")
    assert "Open your shop" in main(page)
    assert "Send a proposal" not in main(page)
    response = client.post(
        f"/projects/tasks/{task.pk}/propose/", {"price": "40", "days": "3", "message": "Hi"}
    )
    assert response.status_code == 403
    assert "Only sellers can propose or take tasks" in main(response)
    assert not Proposal.objects.exists()


def test_a_seller_claims_a_unit_directly(client, buyer, maker, django_capture_on_commit_callbacks):
    project = make_project(
        buyer, tasks=[{"title": "Tag photos", "claimable": True, "quantity": 2, "budget": 1500}]
    )
    task = project.tasks.get()
    login(client, maker)
    page = client.get(f"/projects/tasks/{task.pk}/")
    assert "Take one unit at $15.00" in main(page)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/projects/tasks/{task.pk}/claim/", follow=True)
    assert "You took one unit at $15.00." in text(response)
    assignment = Assignment.objects.get()
    assert (assignment.seller, assignment.via, assignment.price) == (maker, "claim", 1500)
    assert Notification.objects.filter(user=buyer, title__contains="took a unit of “Tag photos”")
    body = main(response)
    assert "Your work on this task $15.00 · 3 days Waiting for funding" in body
    assert "Take one unit" not in body  # one per seller

    response = client.post(f"/projects/tasks/{task.pk}/claim/", follow=True)
    assert "already holds as many units of this task as one seller may" in text(response)
    assert Assignment.objects.count() == 1

    response = client.post(f"/projects/assignments/{assignment.pk}/withdraw/", follow=True)
    assert "You gave the unit up" in text(response)
    assert reload(assignment).status == "withdrawn"


def test_awarding_goes_straight_to_funding(
    client, buyer, maker, django_capture_on_commit_callbacks
):
    project = make_project(buyer)
    proposal = propose(maker, project.tasks.get(), price=3500)
    login(client, buyer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/projects/proposals/{proposal.pk}/award/")
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{project.pk}/fund/"
    assert reload(proposal).status == "awarded"
    assert Notification.objects.filter(user=maker, title__startswith="You were awarded")
    page = client.get(response["Location"])
    body = main(page)
    assert "Awarded to Sol Seller — fund it to start the work." in text(page)
    assert "by Sol Seller — $35.00 + $1.75 service fee · 3 days" in body
    assert "You pay $36.75" in body
    assert "4242 4242 4242 4242 succeeds" in body
    assert re.search(r'name="assignments" value="\d+" id="fund-\d+" checked', page.text)

    response = client.post(f"/projects/proposals/{proposal.pk}/award/", follow=True)
    assert "This proposal is awarded." in text(response)
    assert Assignment.objects.count() == 1


# --- funding ----------------------------------------------------------------------------------


def test_funding_with_the_sandbox_card_starts_the_work(client, buyer, maker):
    project, _task, _, assignment = awarded(buyer, maker)
    login(client, buyer)
    url = f"/projects/{project.pk}/fund/"
    key = hidden_key(client.get(url))
    data = {"assignments": [assignment.pk], "card_number": CARD, "idempotency_key": key}
    response = client.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{project.pk}/"
    order = reload(assignment).order
    assert order.state == "in_progress"
    page = client.get(response["Location"])
    assert "Paid — 1 unit is funded; the money waits in escrow until you approve" in text(page)

    again = client.post(url, data)  # the same page sent twice: the first result, no 2nd charge
    assert again.status_code == 302
    assert Order.objects.filter(kind="milestone").count() == 1


def test_a_declined_card_shows_the_reason_on_the_form(client, buyer, maker):
    project, _, _, assignment = awarded(buyer, maker)
    login(client, buyer)
    url = f"/projects/{project.pk}/fund/"
    response = client.post(
        url,
        {
            "assignments": [assignment.pk],
            "card_number": sandbox.CARD_DECLINED,
            "idempotency_key": hidden_key(client.get(url)),
        },
    )
    assert response.status_code == 400
    assert "Your card was declined. Nothing was charged." in field_errors(response, "card_number")
    assert selectors.stage_of(reload(assignment)) == "funding"
    # the buyer tries again with another card
    response = client.post(
        url,
        {
            "assignments": [assignment.pk],
            "card_number": CARD,
            "idempotency_key": hidden_key(response),
        },
    )
    assert response.status_code == 302
    assert reload(assignment).order.state == "in_progress"


def test_a_card_asking_for_an_extra_step_goes_to_the_provider(client, buyer, maker):
    project, _, _, assignment = awarded(buyer, maker)
    login(client, buyer)
    url = f"/projects/{project.pk}/fund/"
    key = hidden_key(client.get(url))
    response = client.post(
        url,
        {
            "assignments": [assignment.pk],
            "card_number": sandbox.CARD_REQUIRES_ACTION,
            "idempotency_key": key,
        },
    )
    assert response.status_code == 302
    order = reload(assignment).order
    assert order.state == "pending_payment"
    assert response["Location"] == order.checkout.payment.action_url
    # meanwhile the board and the fund page point to the order to complete the payment
    body = main(client.get(f"/projects/{project.pk}/"))
    assert "Your payment is under way" in body
    assert "Fund 1 unit" not in body
    page = main(client.get(url))
    assert "Payment under way" in page
    assert "Nothing waits for funding." in page

    confirm = urlparse(response["Location"]).path
    back = client.post(confirm, {"answer": "confirm"})
    placed = client.get(urlparse(back["Location"]).path)
    assert placed["Location"] == f"/orders/{order.pk}/"
    assert reload(order).state == "in_progress"
    assert "In progress 1 Sol Seller" in main(client.get(f"/projects/{project.pk}/"))


def test_the_fund_form_needs_a_card_and_some_work(client, buyer, maker):
    project, _, _, assignment = awarded(buyer, maker)
    login(client, buyer)
    url = f"/projects/{project.pk}/fund/"
    response = client.post(url, {"card_number": "", "idempotency_key": "k1"})
    assert response.status_code == 400
    assert "Choose the work to fund." in main(response)
    assert "Enter your card number." in field_errors(response, "card_number")
    assert reload(assignment).order is None


def test_nothing_to_fund(client, buyer):
    project = make_project(buyer)
    login(client, buyer)
    assert "Nothing waits for funding." in main(client.get(f"/projects/{project.pk}/fund/"))


# --- who may see what -------------------------------------------------------------------------


def test_another_user_gets_404_on_the_buyers_pages_and_changes_nothing(client, buyer, maker):
    draft = make_project(buyer, publish=False)
    project, task, _proposal, assignment = awarded(
        buyer, maker, tasks=[{"title": "Translate", "quantity": 2, "per_seller_limit": 1}]
    )
    second = propose(seller(), task, price=3000)
    item = services.attachment_add(buyer=buyer, project_id=draft.pk, upload=pdf())
    stranger = seller(display_name="Sam Stranger")
    login(client, stranger)

    assert client.get(f"/projects/{draft.pk}/").status_code == 404
    board = client.get(f"/projects/{project.pk}/")  # public: its public page, not the board
    assert board.status_code == 200
    assert "Spend and budget" not in main(board)
    assert "Sol Seller" not in main(board)
    assert client.get(f"/projects/{project.pk}/edit/").status_code == 404
    response = client.post(
        f"/projects/{draft.pk}/edit/",
        {
            "title": "Mine now",
            "description": "x",
            "category": category_id(),
            "currency": "USD",
            "budget": "5",
            "deadline": in_days(5),
            "visibility": "public",
        },
    )
    assert response.status_code == 404
    assert reload(draft).title == "Launch our Spanish shop"
    assert client.get(f"/projects/tasks/{task.pk}/edit/").status_code == 404
    assert client.post(f"/projects/{draft.pk}/tasks/new/", {"title": "x"}).status_code == 404
    for action in ("close", "reopen", "delete"):
        assert client.post(f"/projects/tasks/{task.pk}/{action}/").status_code == 404
    assert client.post(f"/projects/{draft.pk}/publish/").status_code == 404
    assert client.post(f"/projects/{project.pk}/close/").status_code == 404
    assert (
        client.post(f"/projects/{project.pk}/invites/", {"email": stranger.email}).status_code
        == 404
    )
    assert client.post(f"/projects/proposals/{second.pk}/award/").status_code == 404
    assert client.post(f"/projects/proposals/{second.pk}/decline/").status_code == 404
    assert client.post(f"/projects/proposals/{second.pk}/withdraw/").status_code == 404
    assert client.get(f"/projects/attachments/{item.pk}/").status_code == 404
    assert client.get(f"/projects/{project.pk}/fund/").status_code == 404
    response = client.post(
        f"/projects/{project.pk}/fund/",
        {"assignments": [assignment.pk], "card_number": CARD, "idempotency_key": "x1"},
    )
    assert response.status_code == 404
    assert client.post(f"/projects/assignments/{assignment.pk}/withdraw/").status_code == 404

    assert (reload(draft).status, reload(project).status) == ("draft", "open")
    assert reload(task).status == "open"
    assert reload(second).status == "pending"
    assert reload(assignment).status == "active"
    assert reload(assignment).order is None
    assert Assignment.objects.count() == 1
    assert not ProjectInvite.objects.exists()
    assert ProjectAttachment.objects.count() == 1
    assert not Order.objects.exists()

    # the seller of a proposal may withdraw it, but never award or decline it
    login(client, second.seller)
    assert client.post(f"/projects/proposals/{second.pk}/award/").status_code == 404
    assert client.post(f"/projects/proposals/{second.pk}/decline/").status_code == 404
    assert reload(second).status == "pending"


def test_anonymous_visitors_are_sent_to_log_in(client, buyer):
    project = make_project(buyer)
    for url in ("/projects/", "/projects/new/", f"/projects/{project.pk}/fund/"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    assert client.get("/projects/tasks/").status_code == 200


# --- the seller's search and lists ------------------------------------------------------------


def test_sellers_find_tasks(client, buyer, maker, monkeypatch):
    make_project(
        buyer,
        tasks=[
            {"title": "Translate product pages", "skills": ["spanish"], "budget": 4000},
            {"title": "Tag photos", "skills": ["photos"], "claimable": True, "budget": 900},
        ],
    )
    make_project(UserFactory(), tasks=[{"title": "Draft", "skills": ["spanish"]}], publish=False)
    login(client, maker)
    page = client.get("/projects/tasks/")
    assert page.status_code == 200
    body = main(page)
    assert "2 tasks" in body
    assert "Translate product pages Launch our Spanish shop $40.00 per unit · 1 unit left" in body
    assert "Tag photos" in body
    assert "Direct claim" in body
    assert "Draft" not in body
    assert 'href="?skill=spanish"' in page.text  # the skills facet
    assert "Showing matches among the newest" not in body

    body = main(client.get("/projects/tasks/?skill=spanish"))
    assert "1 task needing “spanish”" in body
    assert "Tag photos" not in body

    body = main(client.get("/projects/tasks/?q=photos"))
    assert "Tag photos" in body
    assert "Translate product pages" not in body

    body = main(client.get("/projects/tasks/?claimable=on"))
    assert "Tag photos" in body
    assert "Translate product pages" not in body

    body = main(client.get("/projects/tasks/?q=photos&sort=bogus"))  # a bad sort is ignored
    assert "Tag photos" in body
    assert "Translate product pages" not in body

    page = client.get("/projects/tasks/?sort=budget_desc")
    assert page.text.index("Translate product pages") < page.text.index("Tag photos")
    page = client.get("/projects/tasks/?sort=newest")
    assert page.text.index("Tag photos") < page.text.index("Translate product pages")

    monkeypatch.setattr(selectors, "SEARCH_SCAN", 1)
    assert "Showing matches among the newest 1 open tasks" in main(client.get("/projects/tasks/"))


def test_search_results_are_paged(client, buyer, maker):
    make_project(buyer, tasks=[{"title": f"Task {i}", "budget": 100} for i in range(23)])
    login(client, maker)
    body = main(client.get("/projects/tasks/?sort=newest"))
    assert "23 tasks" in body
    assert "Page 1 of 2" in body
    page = client.get("/projects/tasks/?sort=newest&page=2")
    assert "Page 2 of 2" in main(page)
    assert "Task 0" in main(page)
    assert "Task 22" not in main(page)


def test_my_proposals_and_my_work(client, buyer, maker):
    project = make_project(
        buyer,
        tasks=[
            {"title": "Translate"},
            {"title": "Proofread"},
            {"title": "Tag photos", "claimable": True, "budget": 900},
        ],
    )
    waiting = propose(maker, task_of(project, "Proofread"), price=2500)
    won = propose(maker, task_of(project, "Translate"), price=3500)
    assignment = services.proposal_award(buyer=buyer, proposal_id=won.pk)
    fund(buyer, [assignment])
    services.task_claim(seller=maker, task_id=task_of(project, "Tag photos").pk)
    login(client, maker)

    page = client.get("/projects/proposals/")
    body = main(page)
    assert "Proofread Launch our Spanish shop" in body
    assert "$25.00 Waiting for the buyer Withdraw" in body
    assert "$35.00 Awarded Open the order" in body
    order = reload(assignment).order
    assert f'href="/orders/{order.pk}/"' in page.text
    assert f'action="/projects/proposals/{waiting.pk}/withdraw/"' in page.text

    page = client.get("/projects/work/")
    body = main(page)
    assert "Translate Launch our Spanish shop · for Bea Buyer In progress $35.00" in body
    assert "Open the order : Ask to cancel" in body
    assert "Submit the work" in body
    assert "Tag photos Launch our Spanish shop · for Bea Buyer Waiting for funding $9.00" in body
    assert "Give the unit up" in body
    assert order.due_at.strftime("%Y") in body


# --- the whole flow, through pages only -------------------------------------------------------


def test_the_whole_flow_through_the_pages(client, buyer, maker, django_capture_on_commit_callbacks):
    login(client, buyer)
    response = client.post(
        "/projects/new/",
        {
            "title": "Launch our Spanish shop",
            "description": "We open our shop to Spanish-speaking customers.",
            "category": category_id(),
            "currency": "USD",
            "budget": "500",
            "deadline": in_days(30),
            "visibility": "public",
        },
    )
    project = Project.objects.get()
    assert response["Location"] == f"/projects/{project.pk}/"
    for title, budget in (("Translate the pages", "120"), ("Proofread the pages", "60")):
        response = client.post(
            f"/projects/{project.pk}/tasks/new/",
            {
                "title": title,
                "brief": "Ten pages of our shop.",
                "budget": budget,
                "quantity": "2",
                "per_seller_limit": "1",
                "deadline": in_days(20),
                "skills": "spanish",
                "delivery_days": "3",
                "revisions": "1",
            },
        )
        assert response.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/projects/{project.pk}/publish/")
    assert reload(project).status == "open"
    translate = task_of(project, "Translate the pages")

    login(client, maker)
    assert "Translate the pages" in main(client.get("/projects/tasks/?q=translate"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/projects/tasks/{translate.pk}/propose/",
            {"price": "110", "days": "4", "message": "Native speaker."},
        )
    assert response.status_code == 302
    proposal = Proposal.objects.get()

    login(client, buyer)
    assert "Sol Seller" in main(client.get(f"/projects/tasks/{translate.pk}/"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/projects/proposals/{proposal.pk}/award/")
    fund_url = f"/projects/{project.pk}/fund/"
    assert response["Location"] == fund_url
    page = client.get(fund_url)
    assignment = Assignment.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            fund_url,
            {
                "assignments": [assignment.pk],
                "card_number": "4242 4242 4242 4242",
                "idempotency_key": hidden_key(page),
            },
            follow=True,
        )
    order = reload(assignment).order
    assert order.state == "in_progress"
    assert (order.seller, order.subtotal) == (maker, 11000)
    body = main(response)
    assert "In progress 1 Sol Seller Translate the pages $110.00" in body
    assert "In escrow $110.00" in body
    assert Notification.objects.filter(user=maker).exists()

    login(client, maker)
    body = main(client.get("/projects/work/"))
    assert "Translate the pages" in body
    assert "In progress" in body
